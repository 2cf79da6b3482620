//! Explicitly bounds-checked memory accesses at the single-pass tier: every access of
//! bounds-checked code (`Options::bounds_checks`) and every access of a 64-bit memory, as
//! `translate::memory::effective_address` checks them: `address + offset + size <= length`
//! (size: the access's natural alignment), a 64-bit sum that wraps trapping too, before the
//! access. The base and length are read from the memory's definition at each access (the
//! translator keeps them in variables it reloads after calls, and reads a shared memory's
//! length again before trapping: the same accesses succeed and fail).

use wasmparser::MemArg;

use super::asm::{Alu, Cond, Mem, Reg, Size};
use super::asm::{R11, R15, RAX, RCX};
use super::{Compiler, Fallback};
use crate::trap::TrapKind;
use crate::vmoffsets::{memory_definition, memory_import};

impl Compiler<'_> {
    /// `[rax + r11 + disp]` for a checked access of memory `index` at `addr` (32 bits, or 64 for
    /// a 64-bit memory), after the bounds check. Clobbers rcx.
    pub(super) fn checked_address(&mut self, memarg: MemArg, addr: Reg, index: u32, memory64: bool) -> Result<Mem, Fallback> {
        let size = 1u64 << memarg.max_align;
        let definition = self.offsets.memory(index) + memory_import::DEFINITION;
        if memory64 {
            self.a.mov_rr(Size::S64, R11, addr);
        } else {
            self.a.mov_rr(Size::S32, R11, addr);
        }
        let Some(end) = memarg.offset.checked_add(size) else {
            // An offset this close to 2^64 is out of bounds of every memory.
            self.a.ud2(TrapKind::MemoryOutOfBounds);
            self.a.load(Size::S64, RAX, Mem::at(R15, definition as i32));
            return Ok(Mem { base: RAX, index: Some(R11), disp: 0 });
        };
        self.a.mov_ri(Size::S64, RCX, end as i64);
        self.a.alu_rr(Alu::Add, Size::S64, RCX, R11);
        if memory64 {
            // The sum wrapped: out of bounds.
            self.a.trap_if(Cond::B, TrapKind::MemoryOutOfBounds);
        }
        self.a.load(Size::S64, RAX, Mem::at(R15, definition as i32));
        self.a.cmp_rm64(RCX, Mem::at(RAX, memory_definition::LENGTH as i32));
        self.a.trap_if(Cond::A, TrapKind::MemoryOutOfBounds);
        self.a.load(Size::S64, RAX, Mem::at(RAX, memory_definition::BASE as i32));
        Ok(self.offset_operand(memarg.offset))
    }

    /// `[rax + r11 + offset]`, the offset added to r11 when it does not fit a displacement
    /// (the bounds are known to hold then, so nothing wraps). Clobbers rcx.
    pub(super) fn offset_operand(&mut self, offset: u64) -> Mem {
        match i32::try_from(offset) {
            Ok(disp) => Mem { base: RAX, index: Some(R11), disp },
            Err(_) => {
                self.a.mov_ri(Size::S64, RCX, offset as i64);
                self.a.alu_rr(Alu::Add, Size::S64, R11, RCX);
                Mem { base: RAX, index: Some(R11), disp: 0 }
            }
        }
    }
}

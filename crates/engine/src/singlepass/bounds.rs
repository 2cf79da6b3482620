//! Explicitly bounds-checked memory accesses at the single-pass tier: every access of
//! bounds-checked code (`Options::bounds_checks`) and every access of a 64-bit memory, as
//! `translate::memory::effective_address` checks them: `address + offset + size <= length`
//! (size: the access's natural alignment), a 64-bit sum that wraps trapping too, before the
//! access. The base and length are read from the memory's definition at each access (the
//! translator keeps them in variables it reloads after calls, and reads a shared memory's
//! length again before trapping: the same accesses succeed and fail).

use wasmparser::{MemArg, Operator};

use super::asm::{Alu, Cond, Mem, Reg, Shift, Size};
use super::asm::{R11, R15, R8, R9, RAX, RCX, RDI, RDX, RSI};
use super::{Compiler, Fallback, Val};
use crate::libcall::LibCall;
use crate::trap::TrapKind;
use crate::vmoffsets::{memory_definition, memory_import, vmctx};

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

impl Compiler<'_> {
    fn is_memory64(&self, index: u32) -> bool {
        self.module.memory_type(index).is_some_and(|m| m.memory64)
    }

    fn index_size(&self, index: u32) -> Size {
        if self.is_memory64(index) { Size::S64 } else { Size::S32 }
    }

    /// Spills the stack and moves its top values to `registers` (the deepest first), each read
    /// at its size (32-bit ones zero-extended, as the libcalls take them).
    pub(super) fn sized_libcall_arguments(&mut self, registers: &[(Reg, Size)]) {
        self.spill_all();
        let first = self.stack.len() - registers.len();
        for (k, &(reg, size)) in registers.iter().enumerate() {
            let home = self.home(first + k);
            self.a.load(size, reg, home);
        }
        self.truncate(first);
    }

    /// `memory.size`, `memory.grow` and the bulk operations when a 64-bit memory is involved
    /// (addresses, lengths and page counts are then i64, as `translate::memory` widens them);
    /// `Ok(false)` for other operators.
    pub(super) fn memory64_operator(&mut self, op: &Operator<'_>) -> Result<bool, Fallback> {
        use Operator as O;
        use Size::{S32, S64};
        match *op {
            O::MemorySize { mem } if self.is_memory64(mem) => {
                let r = self.alloc();
                let at = self.offsets.memory(mem) + memory_import::DEFINITION;
                self.a.load(S64, RAX, Mem::at(R15, at as i32));
                self.a.load(S64, r, Mem::at(RAX, memory_definition::LENGTH as i32));
                self.a.shift_i(Shift::Shr, S64, r, 16);
                self.push(Val::Reg(r), S64);
            }
            O::MemoryGrow { mem } if self.is_memory64(mem) => {
                // MemoryGrow(vmctx, memory, delta: i64) -> old pages: i64 (-1 on failure)
                self.sized_libcall_arguments(&[(RDX, S64)]);
                self.a.mov_ri(S32, RSI, i64::from(mem));
                self.a.mov_rr(S64, RDI, R15);
                self.a.load(S64, RAX, Mem::at(R15, vmctx::BUILTINS as i32));
                self.a.call_m(Mem::at(RAX, (LibCall::MemoryGrow.slot() * 8) as i32));
                let r = self.alloc();
                self.a.mov_rr(S64, r, RAX);
                self.push(Val::Reg(r), S64);
            }
            O::MemoryFill { mem } if self.is_memory64(mem) => {
                // MemoryFill(vmctx, memory, dst: i64, value: i32, len: i64) -> status
                self.sized_libcall_arguments(&[(RDX, S64), (RCX, S32), (R8, S64)]);
                self.a.mov_ri(S32, RSI, i64::from(mem));
                self.bulk_libcall(LibCall::MemoryFill);
            }
            O::MemoryCopy { dst_mem, src_mem } if self.is_memory64(dst_mem) || self.is_memory64(src_mem) => {
                // The length is 64-bit only when both memories are.
                let len = if self.is_memory64(dst_mem) && self.is_memory64(src_mem) { S64 } else { S32 };
                let (dst, src) = (self.index_size(dst_mem), self.index_size(src_mem));
                self.memory_exists(dst_mem)?;
                self.memory_exists(src_mem)?;
                // MemoryCopy(vmctx, dst memory, src memory, dst: i64, src: i64, len: i64)
                self.sized_libcall_arguments(&[(RCX, dst), (R8, src), (R9, len)]);
                self.a.mov_ri(S32, RSI, i64::from(dst_mem));
                self.a.mov_ri(S32, RDX, i64::from(src_mem));
                self.bulk_libcall(LibCall::MemoryCopy);
            }
            O::MemoryInit { data_index, mem } if self.is_memory64(mem) => {
                // MemoryInit(vmctx, memory, segment, dst: i64, src: i32, len: i32)
                self.sized_libcall_arguments(&[(RCX, S64), (R8, S32), (R9, S32)]);
                self.a.mov_ri(S32, RSI, i64::from(mem));
                self.a.mov_ri(S32, RDX, i64::from(data_index));
                self.bulk_libcall(LibCall::MemoryInit);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn memory_exists(&self, index: u32) -> Result<(), Fallback> {
        match self.module.memory_type(index) {
            Some(_) => Ok(()),
            None => super::fallback("no such memory"),
        }
    }
}

//! Tail calls at the single-pass tier (`return_call`, `return_call_indirect`,
//! `return_call_ref`), under Cranelift's `tail` convention as the other tiers make them: the
//! arguments go to the callee's registers and its stack arguments into the top of this
//! function's own incoming area (the area the caller reserved, which the callee then pops: the
//! return address moves down to just below the callee's smaller area, and `rsp` with it); the
//! frame is torn down (callee-saved registers restored) and the callee is jumped to. A callee
//! whose stack-argument area is larger than this function's has its area grow down into this
//! frame: its stack arguments wait below the frame until the frame's registers are restored,
//! then move up. The fuel delta goes to the cell just before the jump, after the indirect
//! call's checks, as the translator does it.

use cranelift_assembler_x64::{inst, GprMem};

use super::asm::{Alu, Hw, Mem, Reg, Size};
use super::asm::{R10, R11, R12, R13, R15, RAX, RBP, RBX, RDI, RSP};
use super::{arg_locs, fallback, signature_ok, Compiler, Fallback, SAVED};
use crate::vmoffsets::{func_ref, runtime_limits, vmctx};

impl Compiler<'_> {
    /// Spills the stack and moves the top values, the arguments of a tail callee of type `ty`,
    /// to where the `tail` convention passes them. The callee's stack-argument area ends where
    /// this function's own incoming area ends (the caller pops up to there), so it starts
    /// `shift` bytes above the incoming area's start: stack arguments go straight there when the
    /// callee's area is not larger (`shift >= 0`; the return address moves to just below
    /// them); a larger one (`shift < 0`) overlaps this frame, so they wait in an outgoing area
    /// below the frame, and `tail_jump` moves them once the frame's registers are restored.
    /// Returns `shift`. Leaves r11 alone (it may hold a table index or a reference).
    fn tail_arguments(&mut self, ty: &wasmparser::FuncType) -> Result<i32, Fallback> {
        signature_ok(ty)?;
        let (locs, stack_bytes) = arg_locs(ty);
        let shift = i32::try_from(i64::from(self.incoming_stack) - i64::from(stack_bytes))
            .map_err(|_| Fallback("stack-argument area".into()))?;
        self.spill_all();
        let first = self.stack.len() - ty.params().len();
        let stack_area = if shift >= 0 {
            // Above the saved rbp and the return address (the homes are below rbp).
            Mem::at(RBP, 16 + shift)
        } else {
            self.max_outgoing = self.max_outgoing.max(stack_bytes);
            self.a.alu_ri(Alu::Sub, Size::S64, RSP, stack_bytes as i32);
            Mem::at(RSP, 0)
        };
        for (k, loc) in locs.into_iter().enumerate() {
            let home = self.home(first + k);
            self.move_argument(ty.params()[k], loc, home, stack_area);
        }
        if shift > 0 {
            self.a.load(Size::S64, RAX, Mem::at(RBP, 8));
            self.a.store(Size::S64, Mem::at(RBP, 8 + shift), RAX);
        }
        self.stack.truncate(first);
        Ok(shift)
    }

    /// With the arguments in place, rdi the callee's vmctx and `target` (rax or r11) its code:
    /// hands the fuel delta to the cell, tears the frame down (`rsp` then `shift` bytes higher
    /// than at a return, at the return address) and jumps.
    fn tail_jump(&mut self, target: Reg, shift: i32) {
        if let Some(slot) = self.fuel_slot {
            // rbx, r12 and r13 are restored next: free here.
            let delta = self.local_slot(slot);
            self.a.load(Size::S64, RBX, Mem::at(R15, vmctx::RUNTIME_LIMITS as i32));
            let cell = Mem::at(RBX, runtime_limits::FUEL_CONSUMED as i32);
            self.a.load(Size::S64, R12, cell);
            self.a.load(Size::S64, R13, delta);
            self.a.alu_rr(Alu::Add, Size::S64, R12, R13);
            self.a.store(Size::S64, cell, R12);
        }
        for (i, &r) in SAVED.iter().enumerate() {
            self.a.load(Size::S64, r, Mem::at(RBP, -8 * (i as i32 + 1)));
        }
        if shift < 0 {
            // The larger area overlaps the frame from its top down: the return address and
            // the saved rbp go to xmm14 and xmm13 (no argument takes them), then the staged
            // arguments (at rsp) to the area, highest word first (the area lies above the
            // staging area and may overlap it), through r10 (no argument takes it either).
            self.a.load_xmm(Size::S64, 14, Mem::at(RBP, 8));
            self.a.load_xmm(Size::S64, 13, Mem::at(RBP, 0));
            let bytes = self.incoming_stack as i32 - shift;
            for word in (0..bytes / 8).rev() {
                self.a.load(Size::S64, R10, Mem::at(RSP, 8 * word));
                self.a.store(Size::S64, Mem::at(RBP, 16 + shift + 8 * word), R10);
            }
            self.a.mov_rsp_rbp();
            self.a.alu_ri(Alu::Add, Size::S64, RSP, 8 + shift);
            self.a.from_xmm(Size::S64, R10, 14);
            self.a.store(Size::S64, Mem::at(RSP, 0), R10);
            self.a.from_xmm(Size::S64, RBP, 13);
        } else {
            self.a.mov_rsp_rbp();
            self.a.pop(RBP);
            if shift > 0 {
                self.a.alu_ri(Alu::Add, Size::S64, RSP, shift);
            }
        }
        inst::jmpq_m::<Hw>::new(GprMem::Gpr(target)).encode(&mut self.a.buf);
        self.reachable = false;
    }

    pub(super) fn return_call(&mut self, function_index: u32) -> Result<(), Fallback> {
        if function_index >= self.offsets.num_functions {
            return fallback("no such function");
        }
        let ty = self.module.func_type(function_index).clone();
        let shift = self.tail_arguments(&ty)?;
        self.direct_callee(function_index)?;
        self.tail_jump(RAX, shift);
        Ok(())
    }

    pub(super) fn return_call_indirect(&mut self, type_index: u32, table_index: u32) -> Result<(), Fallback> {
        let ty = self.signature(type_index)?;
        let size = self.table_index_size(table_index)?;
        self.checked_indirect_callee(type_index, table_index, size)?;
        let shift = self.tail_arguments(&ty)?;
        self.a.load(Size::S64, RDI, Mem::at(R11, func_ref::VMCTX as i32));
        self.a.load(Size::S64, R11, Mem::at(R11, func_ref::CODE as i32));
        self.tail_jump(R11, shift);
        Ok(())
    }

    pub(super) fn return_call_ref(&mut self, type_index: u32) -> Result<(), Fallback> {
        let ty = self.signature(type_index)?;
        self.pop_callee_to_r11(Size::S64);
        let shift = self.tail_arguments(&ty)?;
        self.ref_callee();
        self.a.load(Size::S64, R11, Mem::at(R11, func_ref::CODE as i32));
        self.tail_jump(R11, shift);
        Ok(())
    }
}

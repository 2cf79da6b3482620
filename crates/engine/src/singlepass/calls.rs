//! Calls at the single-pass tier (`call`, `call_indirect` through 32- and 64-bit tables,
//! `call_ref`), and the callee sequences the tail calls (`tailcalls`) share with them: how a
//! direct callee's code and vmctx are found, the checks of an indirect callee's table entry
//! (the translator's traps: TableOutOfBounds past the table's length, IndirectCallMismatch on
//! null or another type, the registry deciding for non-final types), and a reference's null
//! check (NullDereference).
//!
//! A callee is called with Cranelift's `tail` convention (`arguments` places its arguments;
//! `call_result` takes its results); rdi carries the callee's vmctx. The table index or the
//! reference waits in r11, which the argument moves leave alone.

use super::asm::{Cond, Mem, Shift, Size};
use super::asm::{R11, R15, RAX, RBX, RDI, RDX, RSI};
use wasmparser::ValType;

use super::{fallback, signature_ok, ArgLoc, Compiler, Fallback, ARGS};
use crate::libcall::LibCall;
use crate::trap::TrapKind;
use crate::vmoffsets::{func_ref, function_import, table_definition, vmctx};

impl Compiler<'_> {
    pub(super) fn call(&mut self, function_index: u32) -> Result<(), Fallback> {
        if function_index >= self.offsets.num_functions {
            return fallback("no such function");
        }
        let ty = self.module.func_type(function_index).clone();
        self.arguments(&ty)?;
        self.direct_callee(function_index)?;
        self.a.call_r(RAX);
        self.note_call_site();
        self.call_result(&ty)
    }

    /// `call_indirect` through a 32- or a 64-bit table: the entry's checks, then a call of its
    /// code with its vmctx.
    pub(super) fn call_indirect(&mut self, type_index: u32, table_index: u32) -> Result<(), Fallback> {
        let ty = self.signature(type_index)?;
        signature_ok(&ty)?;
        let size = self.table_index_size(table_index)?;
        self.checked_indirect_callee(type_index, table_index, size)?;
        self.arguments(&ty)?;
        self.a.load(Size::S64, RDI, Mem::at(R11, func_ref::VMCTX as i32));
        self.a.call_m(Mem::at(R11, func_ref::CODE as i32));
        // Inside a `try`/`try_table`, the call's exceptions go to its handlers.
        self.note_call_site();
        self.call_result(&ty)
    }

    /// `call_ref`: traps with NullDereference on null, else calls the reference's code with its
    /// vmctx.
    pub(super) fn call_ref(&mut self, type_index: u32) -> Result<(), Fallback> {
        let ty = self.signature(type_index)?;
        signature_ok(&ty)?;
        self.pop_callee_to_r11(Size::S64);
        self.arguments(&ty)?;
        self.ref_callee();
        self.a.call_m(Mem::at(R11, func_ref::CODE as i32));
        self.note_call_site();
        self.call_result(&ty)
    }

    /// Moves an argument of type `ty` from its home slot to `loc`, a stack argument to its
    /// offset from `stack_area`. Uses rax, and xmm15 (which no argument takes) for a v128.
    pub(super) fn move_argument(&mut self, ty: ValType, loc: ArgLoc, home: Mem, stack_area: Mem) {
        let on_stack = |off: i32| Mem { disp: stack_area.disp + off, ..stack_area };
        if ty == ValType::V128 {
            match loc {
                ArgLoc::Float(x) => self.a.load_v128(x, home),
                ArgLoc::Stack(off) => {
                    self.a.load_v128(15, home);
                    self.a.store_v128(on_stack(off), 15);
                }
                ArgLoc::Int(_) => unreachable!("v128s go in xmm registers or on the stack"),
            }
            return;
        }
        match loc {
            ArgLoc::Int(i) => self.a.load(Size::S64, ARGS[i], home),
            ArgLoc::Float(x) => self.a.load_xmm(Size::S64, x, home),
            ArgLoc::Stack(off) => {
                self.a.load(Size::S64, RAX, home);
                self.a.store(Size::S64, on_stack(off), RAX);
            }
        }
    }

    /// The function type `type_index`.
    pub(super) fn signature(&self, type_index: u32) -> Result<wasmparser::FuncType, Fallback> {
        Ok(self.module.types.get(type_index as usize).ok_or_else(|| Fallback("no such type".into()))?.clone())
    }

    /// Pops the table index (of `size`; zero-extended when 32-bit) or the reference into r11,
    /// where the argument moves leave it.
    pub(super) fn pop_callee_to_r11(&mut self, size: Size) {
        let (r, _) = self.pop_reg();
        self.a.mov_rr(size, R11, r);
        self.release(r);
    }

    /// A direct callee's code in rax and its vmctx in rdi: an import's from its slots, a
    /// defined function's from the code table, read anew at every call (its entries change
    /// with lazy compilation and tier-up).
    pub(super) fn direct_callee(&mut self, function_index: u32) -> Result<(), Fallback> {
        let imported = self.offsets.num_imported_functions;
        if function_index < imported {
            let import = self.offsets.imported_function(function_index);
            self.a.load(Size::S64, RAX, Mem::at(R15, (import + function_import::CODE) as i32));
            self.a.load(Size::S64, RDI, Mem::at(R15, (import + function_import::VMCTX) as i32));
        } else {
            self.a.load(Size::S64, RAX, Mem::at(R15, vmctx::CODE_TABLE as i32));
            let slot = i64::from(function_index - imported) * 8;
            let slot = i32::try_from(slot).map_err(|_| Fallback("code table slot".into()))?;
            self.a.load(Size::S64, RAX, Mem::at(RAX, slot));
            self.a.mov_rr(Size::S64, RDI, R15);
        }
        Ok(())
    }

    /// Pops the table index of a `call_indirect`/`return_call_indirect` (of `size`) and checks
    /// the entry: TableOutOfBounds past the table's length, IndirectCallMismatch on null or a
    /// function of another type (for a non-final type, one the registry does not know as a
    /// subtype: `IsSubtype`, a libcall on the cold path where the ids differ, as the
    /// translator's code calls it). Leaves the entry's `VMFuncRef` in r11, which the argument
    /// moves leave alone; the values below stay on the stack (spilled, for a non-final type).
    pub(super) fn checked_indirect_callee(&mut self, type_index: u32, table_index: u32, size: Size) -> Result<(), Fallback> {
        let is_final = self.module.type_info(type_index).is_final;
        if !is_final {
            // The libcall clobbers the caller-saved registers: nothing may live in them.
            self.spill_all();
        }
        self.pop_callee_to_r11(size);
        self.table_bounds(table_index, R11, size);
        self.a.load(Size::S64, RAX, Mem::at(RAX, table_definition::ELEMENTS as i32));
        self.a.shift_i(Shift::Shl, Size::S64, R11, 3);
        self.a.load(Size::S64, RAX, Mem { base: RAX, index: Some(R11), disp: 0 });
        self.a.test_rr(Size::S64, RAX, RAX);
        self.a.trap_if(Cond::E, TrapKind::IndirectCallMismatch);
        self.a.load(Size::S64, R11, Mem::at(R15, vmctx::TYPE_IDS as i32));
        let at = i32::try_from(4 * u64::from(type_index)).map_err(|_| Fallback("type index".into()))?;
        self.a.load(Size::S32, R11, Mem::at(R11, at));
        self.a.cmp_rm32(R11, Mem::at(RAX, func_ref::TYPE_ID as i32));
        if is_final {
            // No other type can be a subtype of a final one.
            self.a.trap_if(Cond::Ne, TrapKind::IndirectCallMismatch);
        } else {
            let same = self.a.label();
            self.a.jcc(Cond::E, same);
            // IsSubtype(vmctx, actual, expected), the entry kept in rbx (callee-saved, and
            // free: everything is spilled).
            self.a.mov_rr(Size::S64, RBX, RAX);
            self.a.load(Size::S32, RSI, Mem::at(RAX, func_ref::TYPE_ID as i32));
            self.a.mov_rr(Size::S32, RDX, R11);
            self.plain_libcall(LibCall::IsSubtype);
            self.a.test_rr(Size::S32, RAX, RAX);
            self.a.trap_if(Cond::E, TrapKind::IndirectCallMismatch);
            self.a.mov_rr(Size::S64, RAX, RBX);
            self.a.bind(same);
        }
        self.a.mov_rr(Size::S64, R11, RAX);
        Ok(())
    }

    /// The reference in r11: traps with NullDereference on null, else loads its vmctx into
    /// rdi (its code stays at `func_ref::CODE` from r11).
    pub(super) fn ref_callee(&mut self) {
        self.a.test_rr(Size::S64, R11, R11);
        self.a.trap_if(Cond::E, TrapKind::NullDereference);
        self.a.load(Size::S64, RDI, Mem::at(R11, func_ref::VMCTX as i32));
    }
}

//! References, tables and segments at the single-pass tier, as `translate::tables`,
//! `translate::variables` and `translate::memory` translate them (`call_ref`: `calls`).
//!
//! A reference of any type is a 64-bit value (0 is null; a funcref is the address of its
//! `VMFuncRef`), carried like an i64 on the value stack, in locals, globals, parameters and
//! results. Reads are inline (`table.get`: a bounds check and an 8-byte element; `table.size`;
//! `global.get`); every store of a reference into a table or a global is the runtime's libcall
//! (`TableSetRef`, `GlobalSetRef`: it records what the stored reference keeps alive), as are
//! growing, the bulk operations and the segment drops, with the translator's trap kinds.
//! Indices and lengths of 64-bit tables (table64) are i64, as the translator widens them.

use wasmparser::Operator;

use super::asm::{Alu, Cond, Mem, Reg, Shift, Size};
use super::asm::{R11, R15, R8, R9, RAX, RCX, RDI, RDX, RSI};
use super::{fallback, Compiler, Fallback, Val};
use crate::libcall::LibCall;
use crate::trap::TrapKind;
use crate::vmoffsets::{table_definition, vmctx};

impl Compiler<'_> {
    /// Compiles `op` if it is a reference, table or segment operator covered here; `Ok(false)`
    /// when it is not.
    pub(super) fn ref_operator(&mut self, op: &Operator<'_>) -> Result<bool, Fallback> {
        use Operator as O;
        match *op {
            O::RefNull { .. } => self.push(Val::Const(0), Size::S64),
            O::RefIsNull => self.eqz(Size::S64),
            O::RefAsNonNull => {
                let (r, size) = self.pop_reg();
                self.a.test_rr(Size::S64, r, r);
                self.a.trap_if(Cond::E, TrapKind::NullDereference);
                self.push(Val::Reg(r), size);
            }
            O::RefFunc { function_index } => {
                if function_index >= self.offsets.num_functions {
                    return fallback("no such function");
                }
                let at = i32::try_from(self.offsets.func_ref(function_index))
                    .map_err(|_| Fallback("func_ref offset".into()))?;
                let r = self.alloc();
                self.a.mov_rr(Size::S64, r, R15);
                self.a.alu_ri(Alu::Add, Size::S64, r, at);
                self.push(Val::Reg(r), Size::S64);
            }
            O::BrOnNull { relative_depth } => {
                // Null: branch without the reference; else go on with it.
                let (r, size) = self.pop_reg();
                self.spill_all();
                let skip = self.a.label();
                self.a.test_rr(Size::S64, r, r);
                self.a.jcc(Cond::Ne, skip);
                self.branch(relative_depth);
                self.a.bind(skip);
                self.push(Val::Reg(r), size);
            }
            O::BrOnNonNull { relative_depth } => {
                // Not null: branch with the reference (the target's last value); else drop it.
                self.spill_all();
                let home = self.home(self.stack.len() - 1);
                self.a.load(Size::S64, R11, home);
                let skip = self.a.label();
                self.a.test_rr(Size::S64, R11, R11);
                self.a.jcc(Cond::E, skip);
                self.branch(relative_depth);
                self.a.bind(skip);
                self.truncate(self.stack.len() - 1);
            }
            O::TableGet { table } => {
                let size = self.table_index_size(table)?;
                let (index, _) = self.pop_reg();
                self.table_bounds(table, index, size);
                self.a.load(Size::S64, RAX, Mem::at(RAX, table_definition::ELEMENTS as i32));
                self.a.mov_rr(size, R11, index);
                self.a.shift_i(Shift::Shl, Size::S64, R11, 3);
                self.a.load(Size::S64, index, Mem { base: RAX, index: Some(R11), disp: 0 });
                self.push(Val::Reg(index), Size::S64);
            }
            O::TableSet { table } => {
                let size = self.table_index_size(table)?;
                // TableSetRef(vmctx, table: i32, index: i64, value: i64), bounds checked here.
                self.spill_all();
                let n = self.stack.len();
                let (index, value) = (self.home(n - 2), self.home(n - 1));
                self.a.load(size, RDX, index);
                self.a.load(Size::S64, RCX, value);
                self.truncate(n - 2);
                self.table_bounds(table, RDX, size);
                self.a.mov_ri(Size::S32, RSI, i64::from(table));
                self.plain_libcall(LibCall::TableSetRef);
            }
            O::TableSize { table } => {
                let size = self.table_index_size(table)?;
                let r = self.alloc();
                self.a.load(Size::S64, RAX, Mem::at(R15, self.offsets.table(table) as i32));
                // The length never exceeds the largest table: its low half is all of it.
                self.a.load(size, r, Mem::at(RAX, table_definition::LENGTH as i32));
                self.push(Val::Reg(r), size);
            }
            O::TableGrow { table } => {
                let size = self.table_index_size(table)?;
                // TableGrow(vmctx, table: i32, delta: i64, init: i64) -> old: i64 (-1 on failure)
                self.spill_all();
                let n = self.stack.len();
                let (init, delta) = (self.home(n - 2), self.home(n - 1));
                self.a.load(Size::S64, RCX, init);
                self.a.load(size, RDX, delta);
                self.truncate(n - 2);
                self.a.mov_ri(Size::S32, RSI, i64::from(table));
                self.plain_libcall(LibCall::TableGrow);
                let r = self.alloc();
                self.a.mov_rr(size, r, RAX);
                self.push(Val::Reg(r), size);
            }
            O::TableFill { table } => {
                let size = self.table_index_size(table)?;
                // TableFill(vmctx, table: i32, dst: i64, value: i64, len: i64) -> status
                self.spill_all();
                let n = self.stack.len();
                let (dst, value, len) = (self.home(n - 3), self.home(n - 2), self.home(n - 1));
                self.a.load(size, RDX, dst);
                self.a.load(Size::S64, RCX, value);
                self.a.load(size, R8, len);
                self.truncate(n - 3);
                self.a.mov_ri(Size::S32, RSI, i64::from(table));
                self.checked_libcall(LibCall::TableFill, TrapKind::TableOutOfBounds, &[TrapKind::Interrupted]);
            }
            O::TableCopy { dst_table, src_table } => {
                let dst = self.table_index_size(dst_table)?;
                let src = self.table_index_size(src_table)?;
                // The length is 64-bit only when both tables are.
                let len = if dst == Size::S64 && src == Size::S64 { Size::S64 } else { Size::S32 };
                // TableCopy(vmctx, dst table: i32, src table: i32, dst: i64, src: i64, len: i64)
                self.sized_libcall_arguments(&[(RCX, dst), (R8, src), (R9, len)]);
                self.a.mov_ri(Size::S32, RSI, i64::from(dst_table));
                self.a.mov_ri(Size::S32, RDX, i64::from(src_table));
                self.checked_libcall(LibCall::TableCopy, TrapKind::TableOutOfBounds, &[TrapKind::Interrupted]);
            }
            O::TableInit { elem_index, table } => {
                let dst = self.table_index_size(table)?;
                // TableInit(vmctx, table: i32, segment: i32, dst: i64, src: i32, len: i32)
                self.sized_libcall_arguments(&[(RCX, dst), (R8, Size::S32), (R9, Size::S32)]);
                self.a.mov_ri(Size::S32, RSI, i64::from(table));
                self.a.mov_ri(Size::S32, RDX, i64::from(elem_index));
                // The table's bounds first, then the segment's (as V8 and the translator).
                self.checked_libcall(
                    LibCall::TableInit,
                    TrapKind::TableOutOfBounds,
                    &[TrapKind::ElementSegmentOutOfBounds, TrapKind::Interrupted],
                );
            }
            O::ElemDrop { elem_index } => {
                self.spill_all();
                self.a.mov_ri(Size::S32, RSI, i64::from(elem_index));
                self.plain_libcall(LibCall::ElemDrop);
            }
            O::MemoryInit { data_index, mem } => {
                self.memory32(mem)?;
                // MemoryInit(vmctx, memory: i32, segment: i32, dst: i64, src: i32, len: i32)
                self.libcall_arguments(&[RCX, R8, R9]);
                self.a.mov_ri(Size::S32, RSI, i64::from(mem));
                self.a.mov_ri(Size::S32, RDX, i64::from(data_index));
                self.bulk_libcall(LibCall::MemoryInit);
            }
            O::DataDrop { data_index } => {
                self.spill_all();
                self.a.mov_ri(Size::S32, RSI, i64::from(data_index));
                self.plain_libcall(LibCall::DataDrop);
            }
            O::CallRef { type_index } => self.call_ref(type_index)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `global.set` of a reference-typed global: GlobalSetRef(vmctx, global: i32, value: i64).
    pub(super) fn global_set_ref(&mut self, global_index: u32) {
        self.spill_all();
        let home = self.home(self.stack.len() - 1);
        self.a.load(Size::S64, RDX, home);
        self.truncate(self.stack.len() - 1);
        self.a.mov_ri(Size::S32, RSI, i64::from(global_index));
        self.plain_libcall(LibCall::GlobalSetRef);
    }

    /// Whether global `index` holds a reference (its stores go through the runtime).
    pub(super) fn ref_global(&self, index: u32) -> bool {
        index < self.offsets.num_globals
            && matches!(self.module.global_type(index).content_type, wasmparser::ValType::Ref(_))
    }

    /// The size of table `index`'s indices (S64 for a 64-bit table), or a fallback when there
    /// is no such table.
    pub(super) fn table_index_size(&self, index: u32) -> Result<Size, Fallback> {
        if index >= self.offsets.num_tables {
            return fallback("no such table");
        }
        Ok(if self.module.table_type(index).table64 { Size::S64 } else { Size::S32 })
    }

    /// Traps with TableOutOfBounds unless element `index` (a register of `size`) is below the
    /// length of table `table`; leaves the table's definition in rax.
    pub(super) fn table_bounds(&mut self, table: u32, index: Reg, size: Size) {
        self.a.load(Size::S64, RAX, Mem::at(R15, self.offsets.table(table) as i32));
        // The length is a u64 that never exceeds the largest table: for a 32-bit table, its
        // low half is all of it.
        match size {
            Size::S32 => self.a.cmp_rm32(index, Mem::at(RAX, table_definition::LENGTH as i32)),
            Size::S64 => self.a.cmp_rm64(index, Mem::at(RAX, table_definition::LENGTH as i32)),
        }
        self.a.trap_if(Cond::Ae, TrapKind::TableOutOfBounds);
    }

    /// Calls libcall `call` (System V; its arguments after the vmctx in place, the stack
    /// spilled).
    pub(super) fn plain_libcall(&mut self, call: LibCall) {
        self.a.mov_rr(Size::S64, RDI, R15);
        self.a.load(Size::S64, RAX, Mem::at(R15, vmctx::BUILTINS as i32));
        self.a.call_m(Mem::at(RAX, (call.slot() * 8) as i32));
    }

    /// Calls a status-returning libcall and traps as the translator's
    /// `call_libcall_checked_kinds` does: with the status's kind when it is one of `others`,
    /// else with `kind` on any non-zero status.
    fn checked_libcall(&mut self, call: LibCall, kind: TrapKind, others: &[TrapKind]) {
        self.plain_libcall(call);
        let done = self.a.label();
        self.a.test_rr(Size::S32, RAX, RAX);
        self.a.jcc(Cond::E, done);
        for other in others {
            let code = 1 + TrapKind::ALL.iter().position(|k| k == other).unwrap_or(0) as i32;
            self.a.alu_ri(Alu::Cmp, Size::S32, RAX, code);
            self.a.trap_if(Cond::E, *other);
        }
        self.a.ud2(kind);
        self.a.bind(done);
    }
}

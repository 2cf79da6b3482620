//! Table and reference instructions. Reads and sizes are inline (a bounds check and an 8-byte
//! element); stores, growing, the bulk operations and segment drops are
//! libcalls, because the runtime tracks what stored references keep alive and owns table
//! storage. Indices and sizes are i32, or i64 for 64-bit tables (table64); libcalls take every
//! index and length as an i64 (32-bit ones zero-extended).

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder};
use wasmparser::Operator;

use cranelift_codegen::ir::Value;

use super::FuncTranslator;
use crate::libcall::LibCall;
use crate::trap::TrapKind;

use types::{I32, I64};

pub(super) fn translate(t: &mut FuncTranslator<'_, '_>, op: &Operator<'_>) -> Result<bool, String> {
    match *op {
        Operator::RefNull { .. } => {
            let null = t.builder.ins().iconst(I64, 0);
            t.push(null);
        }
        Operator::RefIsNull => t.unary(|b, x| {
            let is_null = b.ins().icmp_imm_u(IntCC::Equal, x, 0);
            b.ins().uextend(I32, is_null)
        })?,
        Operator::RefAsNonNull => {
            let value = t.pop()?;
            t.builder
                .ins()
                .trapz(value, TrapKind::NullDereference.code());
            t.push(value);
        }
        Operator::RefFunc { function_index } => {
            let func_ref = t.env.func_ref(&mut t.builder, function_index)?;
            t.push(func_ref);
        }
        Operator::TableGet { table } => {
            let index = t.pop()?;
            let address = t.env.table_element_address(&mut t.builder, table, index)?;
            let flags = t.env.table_element_flags();
            let value = t.builder.ins().load(I64, flags, address, 0);
            t.push(value);
        }
        Operator::TableSet { table } => {
            let (index, value) = t.pop2()?;
            let address = t.env.table_element_address(&mut t.builder, table, index)?;
            // Bounds checked above; the runtime records what the stored reference keeps alive.
            let _ = address;
            let table_index = t.builder.ins().iconst(I32, i64::from(table));
            let index = widen(t, table, index)?;
            t.env
                .call_libcall(&mut t.builder, LibCall::TableSetRef, &[table_index, index, value]);
        }
        Operator::TableSize { table } => {
            let size = t.env.table_size(&mut t.builder, table)?;
            t.push(size);
        }
        Operator::TableGrow { table } => {
            let (init, delta) = t.pop2()?;
            let delta = widen(t, table, delta)?;
            let table_index = t.builder.ins().iconst(I32, i64::from(table));
            let old = t
                .env
                .call_libcall(
                    &mut t.builder,
                    LibCall::TableGrow,
                    &[table_index, delta, init],
                )
                .ok_or("table.grow without result")?;
            let old = narrow(t, table, old)?;
            t.push(old);
        }
        // V8 reports every failing bulk table operation as "table index is out of bounds".
        Operator::TableFill { table } => {
            let (dst, value, len) = t.pop3()?;
            let dst = widen(t, table, dst)?;
            let len = widen(t, table, len)?;
            let table_index = t.builder.ins().iconst(I32, i64::from(table));
            t.env.call_libcall_checked(
                &mut t.builder,
                LibCall::TableFill,
                &[table_index, dst, value, len],
                TrapKind::TableOutOfBounds,
            )?;
        }
        Operator::TableCopy {
            dst_table,
            src_table,
        } => {
            // The length is 64-bit only when both tables are.
            let (dst, src, len) = t.pop3()?;
            let len_64 = t.env.table_index_type(dst_table)? == I64
                && t.env.table_index_type(src_table)? == I64;
            let dst = widen(t, dst_table, dst)?;
            let src = widen(t, src_table, src)?;
            let len = if len_64 { len } else { t.builder.ins().uextend(I64, len) };
            let dst_index = t.builder.ins().iconst(I32, i64::from(dst_table));
            let src_index = t.builder.ins().iconst(I32, i64::from(src_table));
            t.env.call_libcall_checked(
                &mut t.builder,
                LibCall::TableCopy,
                &[dst_index, src_index, dst, src, len],
                TrapKind::TableOutOfBounds,
            )?;
        }
        Operator::TableInit { elem_index, table } => {
            let (dst, src, len) = t.pop3()?;
            let dst = widen(t, table, dst)?;
            let table_index = t.builder.ins().iconst(I32, i64::from(table));
            let segment = t.builder.ins().iconst(I32, i64::from(elem_index));
            // V8 checks the table's bounds first, then the segment's (the latter being "element
            // segment out of bounds").
            t.env.call_libcall_checked_kinds(
                &mut t.builder,
                LibCall::TableInit,
                &[table_index, segment, dst, src, len],
                TrapKind::TableOutOfBounds,
                &[TrapKind::ElementSegmentOutOfBounds, TrapKind::Interrupted],
            )?;
        }
        Operator::ElemDrop { elem_index } => {
            let segment = t.builder.ins().iconst(I32, i64::from(elem_index));
            t.env
                .call_libcall(&mut t.builder, LibCall::ElemDrop, &[segment]);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// An index or length of table `table` as the i64 libcalls take.
fn widen(t: &mut FuncTranslator<'_, '_>, table: u32, value: Value) -> Result<Value, String> {
    Ok(if t.env.table_index_type(table)? == I64 {
        value
    } else {
        t.builder.ins().uextend(I64, value)
    })
}

/// An i64 libcall result as table `table`'s index type (-1 stays -1).
fn narrow(t: &mut FuncTranslator<'_, '_>, table: u32, value: Value) -> Result<Value, String> {
    Ok(if t.env.table_index_type(table)? == I64 {
        value
    } else {
        t.builder.ins().ireduce(I32, value)
    })
}

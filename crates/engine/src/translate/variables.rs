//! Variable and parametric instructions: locals (frontend variables, so SSA form is built for
//! us, or stack slots in functions where that is too slow: see `FuncTranslator::get_local`),
//! globals (through their cell pointer in the vmctx), `drop` and `select`.

use cranelift_codegen::ir::{types, InstBuilder};
use wasmparser::Operator;

use super::{value_type, FuncTranslator};
use crate::libcall::LibCall;

pub(super) fn translate(t: &mut FuncTranslator<'_, '_>, op: &Operator<'_>) -> Result<bool, String> {
    match *op {
        Operator::LocalGet { local_index } => {
            let value = t.get_local(local_index)?;
            t.push(value);
        }
        Operator::LocalSet { local_index } => {
            let value = t.pop()?;
            t.set_local(local_index, value)?;
        }
        Operator::LocalTee { local_index } => {
            let value = *t.stack.last().ok_or("operand stack underflow")?;
            t.set_local(local_index, value)?;
        }
        Operator::GlobalGet { global_index } => {
            let ty = value_type(t.env.global_type(global_index)?.content_type);
            let (cell, flags) = t.env.global_address(&mut t.builder, global_index)?;
            let value = t.builder.ins().load(ty, flags, cell, 0);
            t.push(value);
        }
        Operator::GlobalSet { global_index } => {
            let value = t.pop()?;
            if let wasmparser::ValType::Ref(_) = t.env.global_type(global_index)?.content_type {
                // The runtime records what the stored reference keeps alive.
                let index = t.builder.ins().iconst(types::I32, i64::from(global_index));
                t.env
                    .call_libcall(&mut t.builder, LibCall::GlobalSetRef, &[index, value]);
            } else {
                let (cell, flags) = t.env.global_address(&mut t.builder, global_index)?;
                t.builder.ins().store(flags, value, cell, 0);
            }
        }
        Operator::Drop => {
            t.pop()?;
        }
        Operator::Select | Operator::TypedSelect { .. } => {
            let (a, b, condition) = t.pop3()?;
            let value = t.builder.ins().select(condition, a, b);
            t.push(value);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

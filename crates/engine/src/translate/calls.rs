//! `call`, `call_indirect` and `call_ref`, and their tail-call forms `return_call`,
//! `return_call_indirect` and `return_call_ref` (Cranelift's `return_call_indirect`: wasm
//! functions use the `tail` convention, so the callee replaces the caller's frame). Every call
//! is an indirect machine call with an explicit callee `vmctx`: defined functions through the
//! module's code table (so a lazily compiled function or a new tier takes effect for every
//! caller at once), imports through their `VMFunctionImport`, table entries through their
//! `VMFuncRef` after a signature check, typed references through their `VMFuncRef` (validation
//! proved the type; only null is checked).

use cranelift_codegen::ir::{InstBuilder, Value};
use wasmparser::Operator;

use super::FuncTranslator;

pub(super) fn translate(t: &mut FuncTranslator<'_, '_>, op: &Operator<'_>) -> Result<bool, String> {
    match *op {
        Operator::Call { function_index } | Operator::ReturnCall { function_index } => {
            let type_index = *t
                .env
                .module
                .functions
                .get(function_index as usize)
                .ok_or_else(|| format!("function #{function_index} is not in the module"))?;
            let (code, callee_vmctx) = t.env.function_callee(&mut t.builder, function_index)?;
            let tail = matches!(op, Operator::ReturnCall { .. });
            emit_call(t, type_index, code, callee_vmctx, tail)?;
        }
        Operator::CallIndirect {
            type_index,
            table_index,
        }
        | Operator::ReturnCallIndirect {
            type_index,
            table_index,
        } => {
            let element = t.pop()?;
            let address = t
                .env
                .table_element_address(&mut t.builder, table_index, element)?;
            let flags = t.env.table_element_flags();
            let func_ref =
                t.builder
                    .ins()
                    .load(cranelift_codegen::ir::types::I64, flags, address, 0);
            let (code, callee_vmctx) =
                t.env
                    .checked_func_ref_callee(&mut t.builder, func_ref, type_index)?;
            let tail = matches!(op, Operator::ReturnCallIndirect { .. });
            emit_call(t, type_index, code, callee_vmctx, tail)?;
        }
        Operator::CallRef { type_index } | Operator::ReturnCallRef { type_index } => {
            let func_ref = t.pop()?;
            let (code, callee_vmctx) = t.env.func_ref_callee(&mut t.builder, func_ref);
            let tail = matches!(op, Operator::ReturnCallRef { .. });
            emit_call(t, type_index, code, callee_vmctx, tail)?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Pops the arguments of a function of type `type_index`, calls `code` with them and pushes
/// the results; or, for a tail call, jumps to it in place of this function (whose results are
/// the callee's: validation checked the types), after what a return does first.
fn emit_call(
    t: &mut FuncTranslator<'_, '_>,
    type_index: u32,
    code: Value,
    callee_vmctx: Value,
    tail: bool,
) -> Result<(), String> {
    let sig = t.env.signature(&mut t.builder, type_index)?;
    let num_params = t.env.module.types[type_index as usize].params().len();
    let mut args = Vec::with_capacity(num_params + 1);
    args.push(callee_vmctx);
    args.extend(t.popn(num_params)?);
    if tail {
        t.env.fuel_function_exit(&mut t.builder);
        t.builder.ins().return_call_indirect(sig, code, &args);
        t.reachable = false;
        return Ok(());
    }
    let results = super::exceptions::call_indirect(t, sig, code, &args);
    t.env.reload_memory_bounds(&mut t.builder);
    t.stack.extend(results);
    Ok(())
}

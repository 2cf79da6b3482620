//! Exception handling: `try_table` and its catch clauses, `throw`, `throw_ref`.
//!
//! Handlers are Cranelift exception tables. While a `try_table` is open, every call that may
//! throw (wasm calls, `throw`, `throw_ref`) is a `try_call` whose table lists the handlers of
//! every open `try_table`, innermost first, after the function's vmctx as the context that
//! tags are resolved in (`runtime::exceptions` walks the frames and matches them). Each catch
//! clause has a landing block taking the `exnref` (the first exception payload register); it
//! loads the payload from the exception object and branches to the clause's label. Outside any
//! `try_table`, calls are plain calls: their frames have no handler to find.

use cranelift_codegen::ir::{
    types, Block, BlockArg, ExceptionTableData, ExceptionTableItem, ExceptionTag, InstBuilder,
    MemFlagsData, SigRef, StackSlotData, StackSlotKind, Value,
};
use wasmparser::{Catch, Operator};

use super::{control, value_type, FuncTranslator};
use crate::libcall::LibCall;
use crate::trap::TrapKind;
use crate::vmoffsets::{exception, VALUE_SLOT};

/// The handlers of one open `try_table`, or of a legacy `try` in its `do` part.
pub(crate) struct HandlerScope {
    /// The control-stack index of the frame the scope belongs to.
    owner: usize,
    clauses: Vec<Clause>,
    /// For a legacy `try`: its dispatch block, which catches everything (it tests the tags of
    /// the `catch` clauses in order and rethrows when none matches); `clauses` is then empty.
    legacy: Option<LegacyDispatch>,
}

pub(crate) struct LegacyDispatch {
    pub block: Block,
    pub used: bool,
}

struct Clause {
    /// The tag caught, or `None` for `catch_all`/`catch_all_ref`.
    tag: Option<u32>,
    /// Whether the clause passes the `exnref` on (`catch_ref`, `catch_all_ref`).
    with_ref: bool,
    /// The control-stack index of the clause's label.
    target: usize,
    /// The landing block: one i64 parameter, the `exnref`.
    block: Block,
    /// Whether a call site lists the clause (else its block is never emitted).
    used: bool,
}

pub(super) fn translate(t: &mut FuncTranslator<'_, '_>, op: &Operator<'_>) -> Result<bool, String> {
    match *op {
        Operator::Throw { tag_index } => {
            let count = t
                .env
                .module
                .tag_type(tag_index)
                .ok_or_else(|| format!("tag #{tag_index} is not in the module"))?
                .params()
                .len();
            let args = t.popn(count)?;
            let slot = t.builder.create_sized_stack_slot(StackSlotData::new(
                StackSlotKind::ExplicitSlot,
                (count.max(1) as u32) * VALUE_SLOT,
                4,
            ));
            let values = t.builder.ins().stack_addr(types::I64, slot, 0);
            for (i, value) in args.into_iter().enumerate() {
                t.builder
                    .ins()
                    .store(MemFlagsData::trusted(), value, values, (i as u32 * VALUE_SLOT) as i32);
            }
            let tag = t.builder.ins().iconst(types::I32, i64::from(tag_index));
            throw_call(t, LibCall::Throw, &[tag, values]);
        }
        Operator::ThrowRef => {
            let exnref = t.pop()?;
            t.builder.ins().trapz(exnref, TrapKind::NullException.code());
            throw_call(t, LibCall::ThrowRef, &[exnref]);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Calls a throwing libcall (it never returns); the code after it is unreachable.
fn throw_call(t: &mut FuncTranslator<'_, '_>, call: LibCall, args: &[Value]) {
    throw_call_to(t, call, args, usize::MAX)
}

/// [`throw_call`] to the handlers of frames at index `max_owner` or below.
fn throw_call_to(t: &mut FuncTranslator<'_, '_>, call: LibCall, args: &[Value], max_owner: usize) {
    t.env.fuel_function_exit(&mut t.builder);
    let sig = t.env.libcall_signature(&mut t.builder, call);
    let address = t.env.libcall_callee(&mut t.builder, call);
    let mut call_args = Vec::with_capacity(args.len() + 1);
    call_args.push(t.env.vmctx());
    call_args.extend_from_slice(args);
    call_indirect_to(t, sig, address, &call_args, max_owner);
    t.builder.ins().trap(TrapKind::Unreachable.code());
    t.reachable = false;
}

/// Calls `callee` (of signature `sig`) with `args` and returns its results: a `try_call` to the
/// open handlers inside a `try_table`, a plain call elsewhere.
pub(super) fn call_indirect(
    t: &mut FuncTranslator<'_, '_>,
    sig: SigRef,
    callee: Value,
    args: &[Value],
) -> Vec<Value> {
    call_indirect_to(t, sig, callee, args, usize::MAX)
}

/// [`call_indirect`] with only the handlers of frames at control-stack index `max_owner` or
/// below (a legacy `delegate` skips the ones in between).
fn call_indirect_to(
    t: &mut FuncTranslator<'_, '_>,
    sig: SigRef,
    callee: Value,
    args: &[Value],
    max_owner: usize,
) -> Vec<Value> {
    if !t.handlers.iter().any(|scope| scope.owner <= max_owner) {
        let call = t.builder.ins().call_indirect(sig, callee, args);
        return t.builder.inst_results(call).to_vec();
    }
    let returns: Vec<_> = t.builder.func.dfg.signatures[sig]
        .returns
        .iter()
        .map(|r| r.value_type)
        .collect();
    let normal = t.builder.create_block();
    let mut ret_args = Vec::with_capacity(returns.len());
    for (i, ty) in returns.iter().enumerate() {
        t.builder.append_block_param(normal, *ty);
        ret_args.push(BlockArg::TryCallRet(i as u32));
    }
    let normal_call = t.builder.func.dfg.block_call(normal, &ret_args);
    let mut items = vec![ExceptionTableItem::Context(t.env.vmctx())];
    let exn = [BlockArg::TryCallExn(0)];
    'scopes: for scope in t.handlers.iter_mut().rev() {
        if scope.owner > max_owner {
            continue;
        }
        if let Some(dispatch) = &mut scope.legacy {
            dispatch.used = true;
            let target = t.builder.func.dfg.block_call(dispatch.block, &exn);
            items.push(ExceptionTableItem::Default(target));
            break 'scopes;
        }
        for clause in &mut scope.clauses {
            clause.used = true;
            let target = t.builder.func.dfg.block_call(clause.block, &exn);
            match clause.tag {
                Some(tag) => {
                    // Tags are below u32::MAX (the module limits them far lower).
                    if let Some(tag) = ExceptionTag::with_number(tag) {
                        items.push(ExceptionTableItem::Tag(tag, target));
                    }
                }
                None => {
                    items.push(ExceptionTableItem::Default(target));
                    // Nothing passes a catch-all.
                    break 'scopes;
                }
            }
        }
    }
    let table = t
        .builder
        .func
        .dfg
        .exception_tables
        .push(ExceptionTableData::new(sig, normal_call, items));
    t.builder.ins().try_call_indirect(callee, args, table);
    t.builder.seal_block(normal);
    t.builder.switch_to_block(normal);
    t.builder.block_params(normal).to_vec()
}

/// Opens the handler scope of a `try_table` (before its frame is pushed: the clauses' labels
/// are relative to the frames around it).
pub(super) fn begin_try_table(t: &mut FuncTranslator<'_, '_>, catches: &[Catch]) -> Result<(), String> {
    let mut clauses = Vec::with_capacity(catches.len());
    for catch in catches {
        let (tag, with_ref, label) = match *catch {
            Catch::One { tag, label } => (Some(tag), false, label),
            Catch::OneRef { tag, label } => (Some(tag), true, label),
            Catch::All { label } => (None, false, label),
            Catch::AllRef { label } => (None, true, label),
        };
        let target = t
            .control
            .len()
            .checked_sub(1 + label as usize)
            .ok_or_else(|| format!("catch label {label} outside the function"))?;
        let block = t.builder.create_block();
        t.builder.append_block_param(block, types::I64);
        t.builder.set_cold_block(block);
        clauses.push(Clause { tag, with_ref, target, block, used: false });
    }
    let owner = t.control.len();
    t.handlers.push(HandlerScope { owner, clauses, legacy: None });
    Ok(())
}

/// Closes the innermost handler scope at its `try_table`'s `end`: emits the landing blocks
/// that a call site lists. Leaves the builder in the last of them (or where it was).
pub(super) fn end_try_table(t: &mut FuncTranslator<'_, '_>) -> Result<(), String> {
    let scope = t.handlers.pop().ok_or("try_table end without its handlers")?;
    for clause in scope.clauses {
        if !clause.used {
            continue;
        }
        t.builder.switch_to_block(clause.block);
        t.builder.seal_block(clause.block);
        let exnref = t.builder.block_params(clause.block)[0];
        // The callee that threw may have grown the memory.
        t.env.reload_memory_bounds(&mut t.builder);
        let mut args = match clause.tag {
            Some(tag) => load_payload(t, tag, exnref)?,
            None => Vec::new(),
        };
        if clause.with_ref {
            args.push(exnref);
        } else {
            // Wasm never sees this `exnref`: the exception is dead here unless held elsewhere.
            release(t, exnref);
        }
        control::jump_to_frame(t, clause.target, &args)?;
    }
    Ok(())
}

// ---- the legacy form: try, catch, catch_all, rethrow, delegate ----

/// Opens the scope of a legacy `try` (before its frame is pushed); returns its dispatch block.
pub(super) fn begin_legacy_try(t: &mut FuncTranslator<'_, '_>) -> Block {
    let block = t.builder.create_block();
    t.builder.append_block_param(block, types::I64);
    t.builder.set_cold_block(block);
    let owner = t.control.len();
    t.handlers.push(HandlerScope {
        owner,
        clauses: Vec::new(),
        legacy: Some(LegacyDispatch { block, used: false }),
    });
    block
}

/// Closes the scope of the legacy `try` at the end of its `do` part: the dispatch block's
/// `exnref` if a call site can reach it (the builder is then in the dispatch block), else `None`.
pub(super) fn end_legacy_do(t: &mut FuncTranslator<'_, '_>) -> Result<Option<Value>, String> {
    let scope = t.handlers.pop().ok_or("try without its handlers")?;
    let dispatch = scope.legacy.ok_or("a legacy try's scope without its dispatch block")?;
    if !dispatch.used {
        return Ok(None);
    }
    t.builder.switch_to_block(dispatch.block);
    t.builder.seal_block(dispatch.block);
    t.env.reload_memory_bounds(&mut t.builder);
    Ok(Some(t.builder.block_params(dispatch.block)[0]))
}

/// In the current block: whether `exnref`'s tag is tag `tag` of the instance (an i32).
pub(super) fn exception_matches(t: &mut FuncTranslator<'_, '_>, exnref: Value, tag: u32) -> Result<Value, String> {
    let tag = t.builder.ins().iconst(types::I32, i64::from(tag));
    t.env
        .call_libcall(&mut t.builder, LibCall::ExceptionMatches, &[exnref, tag])
        .ok_or_else(|| "ExceptionMatches returns no result".to_string())
}

/// The payload of `exnref`, of tag `tag` (a legacy `catch` pushes it).
pub(super) fn payload(t: &mut FuncTranslator<'_, '_>, tag: u32, exnref: Value) -> Result<Vec<Value>, String> {
    load_payload(t, tag, exnref)
}

/// A landing's `exnref` is dead from here on (see `LibCall::ExceptionRelease`).
pub(super) fn release(t: &mut FuncTranslator<'_, '_>, exnref: Value) {
    t.env.call_libcall(&mut t.builder, LibCall::ExceptionRelease, &[exnref]);
}

/// Throws `exnref` again (non-null) to the handlers of frames at index `max_owner` or below.
pub(super) fn rethrow(t: &mut FuncTranslator<'_, '_>, exnref: Value, max_owner: usize) {
    throw_call_to(t, LibCall::ThrowRef, &[exnref], max_owner);
}

/// The payload values of an exception of tag `tag`.
fn load_payload(t: &mut FuncTranslator<'_, '_>, tag: u32, exnref: Value) -> Result<Vec<Value>, String> {
    let params: Vec<_> = t
        .env
        .module
        .tag_type(tag)
        .ok_or_else(|| format!("tag #{tag} is not in the module"))?
        .params()
        .iter()
        .map(|p| value_type(*p))
        .collect();
    if params.is_empty() {
        return Ok(Vec::new());
    }
    let flags = MemFlagsData::trusted().with_readonly();
    let payload = t
        .builder
        .ins()
        .load(types::I64, flags, exnref, exception::PAYLOAD as i32);
    Ok(params
        .into_iter()
        .enumerate()
        .map(|(i, ty)| {
            t.builder
                .ins()
                .load(ty, flags, payload, (i as u32 * VALUE_SLOT) as i32)
        })
        .collect())
}

//! The trampolines between the host and wasm code, generated here, once per signature, and
//! cached for the process (the seed's JSToWasmWrapperCache). What they do and how the runtime
//! holds them: `runtime::trampolines`. The runtime never generates code: the binding (and
//! whatever else calls into wasm) asks [`for_signature`], and a module's code hands them to the
//! runtime where it needs them itself (`ModuleRuntimeInfo::trampolines`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use cranelift_codegen::ir::{
    types, AbiParam, Function, InstBuilder, MemFlagsData, Signature, StackSlotData, StackSlotKind,
    UserFuncName, Value,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use wasmparser::FuncType;

use super::codegen::{compile_function, isa, Tier};
use crate::libcall::LibCall;
use crate::runtime::code_memory::{Placement, Symbol};
use crate::runtime::libcalls;
pub use crate::runtime::trampolines::Trampolines;
use crate::translate::wasm_signature;
use crate::trap::TrapKind;
use crate::vmoffsets::{host_func_context, VALUE_SLOT};

/// The trampolines for `ty`, compiled on first request.
pub fn for_signature(ty: &FuncType) -> Result<Arc<Trampolines>, String> {
    static CACHE: OnceLock<Mutex<HashMap<FuncType, Arc<Trampolines>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(t) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(ty) {
        return Ok(t.clone());
    }
    // Compile outside the lock; if two threads race, one result is kept.
    let entry = compile_function(entry_trampoline(ty), Tier::Optimized)?;
    let exit = compile_function(exit_trampoline(ty), Tier::Optimized)?;
    let trampolines = Arc::new(Trampolines::publish(
        ty.clone(),
        Placement {
            code: &entry.code,
            traps: &entry.traps,
            sources: Default::default(),
            exception_sites: &[],
            symbol: Symbol::Engine("entry trampoline"),
        },
        Placement {
            code: &exit.code,
            traps: &exit.traps,
            sources: Default::default(),
            exception_sites: &[],
            symbol: Symbol::Engine("exit trampoline"),
        },
    )?);
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    Ok(cache.entry(ty.clone()).or_insert(trampolines).clone())
}

fn slot_offset(index: usize) -> i32 {
    (index as u32 * VALUE_SLOT) as i32
}

/// A function of signature `sig` with one block, whose body `body` emits given the block's
/// parameters (the function's). The one place trampolines (and tests) set up a builder.
pub(crate) fn build_function(
    sig: Signature,
    body: impl FnOnce(&mut FunctionBuilder, &[Value]),
) -> Function {
    let mut func = Function::with_name_signature(UserFuncName::default(), sig);
    let mut context = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut func, &mut context);
    let block = b.create_block();
    b.append_block_params_for_function_params(block);
    b.switch_to_block(block);
    b.seal_block(block);
    let params = b.block_params(block).to_vec();
    body(&mut b, &params);
    b.finalize(isa(Tier::Optimized).frontend_config());
    func
}

fn entry_trampoline(ty: &FuncType) -> Function {
    let mut sig = Signature::new(CallConv::SystemV);
    sig.params.extend([AbiParam::new(types::I64); 3]);
    build_function(sig, |b, params| {
        let (vmctx, code, values) = (params[0], params[1], params[2]);
        let wasm_sig = wasm_signature(ty);
        let flags = MemFlagsData::trusted();
        let mut args = vec![vmctx];
        for (i, param) in wasm_sig.params.iter().skip(1).enumerate() {
            args.push(
                b.ins()
                    .load(param.value_type, flags, values, slot_offset(i)),
            );
        }
        let sig_ref = b.import_signature(wasm_sig.clone());
        let call = b.ins().call_indirect(sig_ref, code, &args);
        let results = b.inst_results(call).to_vec();
        for (i, value) in results.into_iter().enumerate() {
            b.ins().store(flags, value, values, slot_offset(i));
        }
        b.ins().return_(&[]);
    })
}

fn exit_trampoline(ty: &FuncType) -> Function {
    let wasm_sig = wasm_signature(ty);
    build_function(wasm_sig.clone(), |b, params| {
        let host_vmctx = params[0];
        let slots = ty.params().len().max(ty.results().len()).max(1);
        let slot = b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            slots as u32 * VALUE_SLOT,
            4,
        ));
        let values = b.ins().stack_addr(types::I64, slot, 0);
        let flags = MemFlagsData::trusted();
        for (i, value) in params[1..].iter().enumerate() {
            b.ins().store(flags, *value, values, slot_offset(i));
        }
        let callback = b.ins().load(
            types::I64,
            flags.with_readonly(),
            host_vmctx,
            host_func_context::CALLBACK as i32,
        );
        let mut callback_sig = Signature::new(CallConv::SystemV);
        callback_sig.params.extend([AbiParam::new(types::I64); 2]);
        callback_sig.returns.push(AbiParam::new(types::I32));
        let callback_sig = b.import_signature(callback_sig);
        let call = b
            .ins()
            .call_indirect(callback_sig, callback, &[host_vmctx, values]);
        let status = b.inst_results(call)[0];
        // The import threw: the exception goes on into wasm (`runtime::exceptions`), where a
        // handler may catch it, or back to the host's entry.
        let failed = b.create_block();
        let done = b.create_block();
        b.set_cold_block(failed);
        b.ins().brif(status, failed, &[], done, &[]);
        b.seal_block(failed);
        b.switch_to_block(failed);
        let throw_sig = b.import_signature(LibCall::ThrowHost.signature());
        let throw = b
            .ins()
            .iconst(types::I64, libcalls::address(LibCall::ThrowHost) as i64);
        b.ins().call_indirect(throw_sig, throw, &[host_vmctx]);
        b.ins().trap(TrapKind::HostException.code());
        b.seal_block(done);
        b.switch_to_block(done);
        let results: Vec<_> = wasm_sig
            .returns
            .iter()
            .enumerate()
            .map(|(i, r)| b.ins().load(r.value_type, flags, values, slot_offset(i)))
            .collect();
        b.ins().return_(&results);
    })
}

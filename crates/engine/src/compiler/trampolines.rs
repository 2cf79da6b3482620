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

/// One signature's trampolines: compiled once, by the first thread to ask; a thread asking
/// while they compile waits for them rather than compiling them again.
type Entry = Arc<OnceLock<Result<Arc<Trampolines>, String>>>;

/// The trampolines for `ty`, compiled on first request.
pub fn for_signature(ty: &FuncType) -> Result<Arc<Trampolines>, String> {
    static CACHE: OnceLock<Mutex<HashMap<FuncType, Entry>>> = OnceLock::new();
    let entry: Entry = {
        let mut cache = CACHE.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
        cache.entry(ty.clone()).or_default().clone()
    };
    // Compiled outside the map's lock: other signatures go on meanwhile.
    entry.get_or_init(|| compile_trampolines(ty)).clone()
}

/// Compiles on the thread pool, ahead of instantiation, the trampolines instantiating `module`
/// asks for: those of its imported functions' signatures (JS functions imported) and of its
/// exported functions' (their JS wrappers). A compile job starts it when the module is
/// decoded, so that the first instantiation finds them cached instead of compiling them on the
/// JS thread.
pub fn warm_in_background(module: Arc<crate::module::Module>) {
    super::options::foreground_pool().spawn(move || warm(&module));
}

fn warm(module: &crate::module::Module) {
    use crate::module::ExternKind;
    let imported = 0..module.num_imported_functions;
    let exported = module.exports.iter().filter(|e| e.kind == ExternKind::Function).map(|e| e.index);
    let mut seen = std::collections::HashSet::new();
    for index in imported.chain(exported) {
        if index < module.functions.len() as u32 && seen.insert(module.functions[index as usize]) {
            // A failure is the instantiation's to report, when it asks again.
            let _ = for_signature(module.func_type(index));
        }
    }
}

fn compile_trampolines(ty: &FuncType) -> Result<Arc<Trampolines>, String> {
    let entry = compile_function(entry_trampoline(ty), Tier::Optimized)?;
    let exit = compile_function(exit_trampoline(ty), Tier::Optimized)?;
    Ok(Arc::new(Trampolines::publish(
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
    )?))
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

//! The napi binding: converts JS values to engine calls and back, and nothing else. The public
//! `WebAssembly` namespace (argument checks, error classes, WebIDL shape) is `index.js`; this
//! layer is what it calls. Compilation returns either a [`NativeModule`] or the message of the
//! `WebAssembly.CompileError` that index.js throws.

mod builtins;
mod clone;
mod disk_cache;
mod exceptions;
mod fast_calls;
mod functions;
mod interrupts;
mod js;
mod js_atomics;
mod lifetimes;
mod module_cache;
mod objects;
mod sandbox;
mod serialize;
#[cfg(not(cranewasm_no_shared_buffer))]
mod shared_buffer;
mod stack_limit;
mod streaming;
mod values;
mod wasi;

use std::sync::Arc;

use cranewasm_engine as engine;
use engine::compiler::codegen::Tier;
use engine::compiler::{CompileOptions, CompiledModule, TierUp};
use engine::module::ImportType;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use objects::Raw;

/// A compiled module, or the CompileError message for the module's bytes.
type CompileOutcome = Either<NativeModule, String>;

fn compile(bytes: &[u8]) -> std::result::Result<Arc<module_cache::SharedModule>, engine::CompileError> {
    module_cache::compile(bytes)
}

fn outcome(env: &Env, result: std::result::Result<Arc<module_cache::SharedModule>, engine::CompileError>) -> CompileOutcome {
    match result {
        Ok(shared) => Either::A(NativeModule::new(env, shared)),
        Err(err) => Either::B(err.to_string()),
    }
}

/// The realm of one copy of index.js: its error classes and conversion helpers.
#[napi]
pub struct NativeRealm {
    pub(crate) realm: std::rc::Rc<js::Realm>,
}

/// Hands the binding the realm of index.js; instances it creates use it for the errors and
/// arrays their calls produce.
#[napi]
pub fn init(env: Env, helpers: Raw) -> Result<NativeRealm> {
    // SAFETY: the env of the call Node is running on this thread.
    let js = unsafe { js::Js::from_env(env.raw()) };
    let failed = |_| Error::new(Status::PendingException, "init failed");
    let realm = js::new_realm(&js, helpers.0).map_err(failed)?;
    let poll = js.get_named(helpers.0, c"poll").map_err(failed)?;
    interrupts::install(&js, poll).map_err(failed)?;
    lifetimes::install();
    engine::runtime::exceptions::set_host_caught_hook(exceptions::host_exception_caught);
    install_exit_hook(&env)?;
    Ok(NativeRealm { realm })
}

/// Stops background compilation when the process exits: the main thread's environment is
/// torn down only then (a worker's teardown leaves other threads' compilation alone).
fn install_exit_hook(env: &Env) -> Result<()> {
    thread_local! {
        static INSTALLED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if INSTALLED.with(|i| i.replace(true)) {
        return Ok(());
    }
    if engine::runtime::traps::on_main_thread() {
        env.add_env_cleanup_hook((), |_| shutdown())?;
    }
    Ok(())
}

/// True the first time it is called on the process's main thread, then false: binding.js then
/// registers [`shutdown`] for `process.on('exit')`, once per process however many realms load
/// it.
#[napi]
pub fn claim_exit_hook() -> bool {
    static CLAIMED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    engine::runtime::traps::on_main_thread() && !CLAIMED.swap(true, std::sync::atomic::Ordering::AcqRel)
}

/// Stops background compilation for good: the process is exiting (`process.exit()` joins the
/// libuv threads, where compile jobs and `tierUp()` waits run, before environment cleanup).
#[napi]
pub fn shutdown() {
    engine::compiler::tiering::shutdown();
    // Node joins its worker threads next: their wasm must stop.
    engine::runtime::interrupts::shutdown();
}

/// The options that modules compiled from now on get (`cranewasm/engine`'s
/// `getCompileOptions`).
#[napi(object)]
pub struct CompileOptionsObject {
    pub lazy: bool,
    pub first_tier: String,
    pub tier_up: String,
    pub threads: u32,
    pub interrupt_checks: bool,
    pub bounds_checks: bool,
}

fn options_object(o: &CompileOptions) -> CompileOptionsObject {
    CompileOptionsObject {
        lazy: o.lazy,
        first_tier: o.first_tier.as_str().to_string(),
        tier_up: o.tier_up.as_str().to_string(),
        threads: o.threads as u32,
        interrupt_checks: o.interrupt_checks,
        bounds_checks: o.bounds_checks,
    }
}

/// The names of the execution tiers, in order (what `firstTier` accepts, and the keys of a
/// compile status).
#[napi]
pub fn tiers() -> Vec<&'static str> {
    Tier::ALL.iter().map(|t| t.as_str()).collect()
}

#[napi]
pub fn get_compile_options() -> CompileOptionsObject {
    options_object(&engine::compiler::options())
}

/// Sets the options for modules compiled from now on; index.js has checked every value.
#[napi]
pub fn set_compile_options(options: CompileOptionsObject) -> Result<CompileOptionsObject> {
    let invalid = |what: &str| Error::new(Status::InvalidArg, format!("invalid {what}"));
    let parsed = CompileOptions {
        lazy: options.lazy,
        first_tier: Tier::parse(&options.first_tier).ok_or_else(|| invalid("firstTier"))?,
        tier_up: TierUp::parse(&options.tier_up).ok_or_else(|| invalid("tierUp"))?,
        threads: options.threads as usize,
        interrupt_checks: options.interrupt_checks,
        fuel: false,
        bounds_checks: options.bounds_checks,
    };
    if !(1..=engine::compiler::options::MAX_THREADS).contains(&parsed.threads) {
        return Err(invalid("threads"));
    }
    engine::compiler::set_options(parsed);
    Ok(options_object(&parsed))
}

/// What the in-process module cache did (`cranewasm/engine`'s `moduleCacheStats`).
#[napi(object)]
pub struct ModuleCacheStats {
    /// Compiles that reused the code of a live module compiled from the same bytes.
    pub hits: f64,
    /// Compiles that compiled.
    pub misses: f64,
    /// Distinct compiled modules alive in the cache now.
    pub live: u32,
}

#[napi]
pub fn module_cache_stats() -> ModuleCacheStats {
    let (stats, live) = module_cache::stats();
    ModuleCacheStats { hits: stats.hits as f64, misses: stats.misses as f64, live: live as u32 }
}

/// Resolves when every function of `compiled` has optimized code, or rejects saying why that
/// cannot happen (a function failed to optimize, or the process is exiting).
pub struct TierUpTask {
    compiled: Arc<CompiledModule>,
}

impl Task for TierUpTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        self.compiled.wait_tiered_up().map_err(|why| {
            Error::from_reason(format!("tierUp(): optimized code could not be made for every function ({why})"))
        })
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> Result<()> {
        Ok(())
    }
}

/// Whether `value` is an exported wasm function (a function object of this binding).
#[napi]
pub fn is_exported_function(env: Env, value: Raw) -> bool {
    // SAFETY: the env of the call Node is running on this thread.
    let js = unsafe { js::Js::from_env(env.raw()) };
    functions::exported_function(&js, value.0).is_some()
}

/// `WebAssembly.validate` on bytes index.js has already taken from a BufferSource.
#[napi]
pub fn validate(bytes: &[u8]) -> bool {
    engine::validate(bytes)
}

/// The features beyond the MVP a valid module uses (`cranewasm inspect`), or null for an invalid one.
#[napi]
pub fn used_features(bytes: &[u8]) -> Option<Vec<String>> {
    engine::compiler::used_features(bytes).map(|names| names.into_iter().map(String::from).collect())
}

/// Synchronous compile (`new WebAssembly.Module`).
#[napi]
pub fn compile_sync(env: Env, bytes: &[u8]) -> CompileOutcome {
    outcome(&env, compile(bytes))
}

/// `compile()` of bytes without compile options (index.js's `compileSourceAsync`): the module
/// compiled from `bytes` if one is alive, without compiling (see module_cache); else, when the
/// persistent code cache has an entry holding `bytes`, the compile from that entry on a libuv
/// worker thread (a promise of the outcome), which needs no copy of the bytes; else the compile
/// of a copy made here, on the JS thread, as [`compile_async`]'s, which takes the lookup's hash
/// of the bytes instead of computing it again on the worker thread.
#[napi]
pub fn compile_async_cached(
    env: Env,
    bytes: &[u8],
) -> Either3<NativeModule, AsyncTask<EntryCompileTask>, AsyncTask<CompileTask>> {
    match module_cache::find(bytes) {
        module_cache::Found::Live(shared) => Either3::A(NativeModule::new(&env, shared)),
        module_cache::Found::Entry(job) => Either3::B(AsyncTask::new(EntryCompileTask { job: Some(job) })),
        module_cache::Found::Missing(key) => {
            Either3::C(AsyncTask::new(CompileTask { bytes: engine::runtime::copy_bytes(bytes), key: Some(key) }))
        }
    }
}

pub struct EntryCompileTask {
    job: Option<module_cache::EntryJob>,
}

impl Task for EntryCompileTask {
    type Output = std::result::Result<Arc<module_cache::SharedModule>, engine::CompileError>;
    type JsValue = CompileOutcome;

    fn compute(&mut self) -> Result<Self::Output> {
        let job = self.job.take().ok_or_else(|| Error::from_reason("cranewasm: a compile task ran twice"))?;
        Ok(module_cache::compile_entry(job))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(outcome(&env, output))
    }
}

/// Compile on a libuv worker thread; the promise settles on the JS thread. `bytes` are copied
/// here, on the JS thread (the module keeps this copy: it is the only one made).
#[napi]
pub fn compile_async(bytes: &[u8]) -> AsyncTask<CompileTask> {
    AsyncTask::new(CompileTask { bytes: engine::runtime::copy_bytes(bytes), key: None })
}

pub struct CompileTask {
    bytes: Arc<[u8]>,
    /// The bytes' module cache key, when the JS thread has just computed it.
    key: Option<module_cache::Key>,
}

impl Task for CompileTask {
    type Output = std::result::Result<Arc<module_cache::SharedModule>, engine::CompileError>;
    type JsValue = CompileOutcome;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(module_cache::compile_shared(self.bytes.clone(), self.key))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(outcome(&env, output))
    }
}

/// A compiled module, held by a `WebAssembly.Module` object. Module objects compiled from the
/// same bytes with the same options share one [`module_cache::SharedModule`] (its code and
/// tier-up state); each object stays distinct.
///
/// V8 sees a Module object as a few bytes of JS heap; what it holds natively (the bytes,
/// metadata, machine code) is told to V8 as external memory while the object lives, so that
/// V8's collection heuristics weigh a program that compiles many modules and drops them by
/// what they really hold. (The native part is freed by a Node-API finalizer, which Node runs on
/// the event loop: a synchronous loop compiling thousands of modules keeps them all until it
/// yields; one that awaits between compiles stays bounded: 1,000 dropped 240 KB modules, 272 MB
/// of RSS at the end.)
#[napi(custom_finalize)]
pub struct NativeModule {
    pub(crate) shared: Arc<module_cache::SharedModule>,
    /// The bytes reported to V8 for this object by [`NativeModule::new`], given back when it is
    /// finalized.
    external: i64,
}

impl NativeModule {
    /// A Module object's native part over `shared`, its size reported to V8 (see above): the
    /// wasm bytes and the code already made twice over (metadata: trap tables, source ranges,
    /// bodies), and for lazily compiled code the code still to come, which is typically a few
    /// times the bytes. An estimate: it only needs to be of the right order for V8's heuristics.
    /// Objects sharing one compiled module each report it (a few more collections, never fewer).
    pub(crate) fn new(env: &Env, shared: Arc<module_cache::SharedModule>) -> NativeModule {
        let wasm = shared.module.bytes.len();
        let (code, lazy) = match &shared.code {
            Ok(compiled) => (compiled.code_bytes(), compiled.options.lazy),
            Err(_) => (0, false),
        };
        let estimate = 2 * wasm + 2 * code + if lazy { 4 * wasm } else { 0 };
        let external = i64::try_from(estimate).unwrap_or(i64::MAX);
        // Best effort: a failure leaves V8's count unchanged, and finalize then gives back 0.
        let external = if env.adjust_external_memory(external).is_ok() { external } else { 0 };
        NativeModule { shared, external }
    }
}

impl ObjectFinalize for NativeModule {
    fn finalize(self, env: Env) -> Result<()> {
        if self.external != 0 {
            env.adjust_external_memory(-self.external)?;
        }
        Ok(())
    }
}

impl std::ops::Deref for NativeModule {
    type Target = module_cache::SharedModule;

    fn deref(&self) -> &module_cache::SharedModule {
        &self.shared
    }
}

/// What distinguishes the variants of a module's code: each is compiled with the module's
/// options (laziness, tiers) and these, and tiers up on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CodeVariant {
    /// Counts fuel (`CompileOptions::fuel`).
    pub fuel: bool,
    /// Checks memory bounds (`CompileOptions::bounds_checks`).
    pub bounds_checks: bool,
}

impl CodeVariant {
    pub(crate) const COUNT: usize = 4;

    fn of(options: &CompileOptions) -> CodeVariant {
        CodeVariant { fuel: options.fuel, bounds_checks: options.bounds_checks }
    }

    fn index(self) -> usize {
        usize::from(self.fuel) * 2 + usize::from(self.bounds_checks)
    }
}
#[napi(object)]
pub struct ImportDescriptor {
    pub module: String,
    pub name: String,
    pub kind: String,
    /// For a global: its value type ("i32", …, "anyfunc", "externref") and mutability.
    pub value_type: Option<String>,
    pub mutable: Option<bool>,
}

#[napi(object)]
pub struct CompileStatusObject {
    pub functions: u32,
    pub uncompiled: u32,
    /// Functions running code of each tier, in the order of [`tiers`].
    pub by_tier: Vec<u32>,
    /// Functions whose optimized code was compiled with cheaper settings (see the engine's
    /// `CompileStatus::cheaper_settings`).
    pub cheaper_settings: u32,
    /// Functions the single-pass tier did not cover, compiled by the baseline tier instead
    /// (the engine's `CompileStatus::fallbacks`).
    pub fallbacks: u32,
    pub lazy: bool,
    pub first_tier: String,
    pub tier_up: String,
}

#[napi(object)]
pub struct ExportDescriptor {
    pub name: String,
    pub kind: String,
}

#[napi]
impl NativeModule {
    /// `WebAssembly.Module.imports()` descriptors, in module order.
    #[napi]
    pub fn imports(&self) -> Vec<ImportDescriptor> {
        let imports = self.module.imports.iter();
        imports
            .map(|i| {
                let global = match &i.ty {
                    ImportType::Global(g) => Some(*g),
                    _ => None,
                };
                ImportDescriptor {
                    module: i.module.clone(),
                    name: i.name.clone(),
                    kind: i.ty.kind().as_str().to_string(),
                    value_type: global.map(|g| values::type_name(g.content_type).to_string()),
                    mutable: global.map(|g| g.mutable),
                }
            })
            .collect()
    }

    /// `WebAssembly.Module.exports()` descriptors, in module order.
    #[napi]
    pub fn exports(&self) -> Vec<ExportDescriptor> {
        let exports = self.module.exports.iter();
        exports.map(|e| ExportDescriptor { name: e.name.clone(), kind: e.kind.as_str().to_string() }).collect()
    }

    /// How many defined functions run code of each tier now, and the options the module was
    /// compiled with (`cranewasm/engine`'s `compileStatus`).
    #[napi]
    pub fn compile_status(&self) -> Result<CompileStatusObject> {
        let compiled = self.code.as_ref().map_err(|e| Error::from_reason(e.clone()))?;
        let status = compiled.status();
        let options = options_object(&compiled.options);
        Ok(CompileStatusObject {
            functions: status.functions as u32,
            uncompiled: status.uncompiled as u32,
            by_tier: status.by_tier.iter().map(|&n| n as u32).collect(),
            cheaper_settings: status.cheaper_settings as u32,
            fallbacks: status.fallbacks as u32,
            lazy: options.lazy,
            first_tier: options.first_tier,
            tier_up: options.tier_up,
        })
    }

    /// `cranewasm/engine`'s `tierUp`: optimized code for every function, waited for off the
    /// JS thread.
    #[napi]
    pub fn tier_up(&self) -> Result<AsyncTask<TierUpTask>> {
        let compiled = self.code.as_ref().map_err(|e| Error::from_reason(e.clone()))?;
        Ok(AsyncTask::new(TierUpTask { compiled: compiled.clone() }))
    }

    /// Fresh copies of the payloads of the custom sections called `name`.
    #[napi]
    pub fn custom_sections<'env>(&self, env: &'env Env, name: String) -> Result<Vec<ArrayBuffer<'env>>> {
        let sections = self.module.custom_sections_named(&name);
        sections.map(|data| ArrayBuffer::from_data(env, data.to_vec())).collect()
    }
}

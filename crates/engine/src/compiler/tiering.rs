//! How a module's code gets there (V8's `CompilationState`): lazy compilation on first call,
//! compile-ahead of callees, and tier-up in the background. The code itself and the tier of
//! each function's code are the [`ModuleCode`]'s, which knows nothing of this.
//!
//! Tier-up runs on the compile pool, a few functions at a time, holding only a weak reference
//! to the module: when nothing can observe the module any more (it was collected), or the
//! process is shutting down ([`shutdown`]), the work stops at the next function.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use wasmparser::FuncType;

use super::codegen::CompiledFunction;
use super::module_code::ModuleCode;
use super::options::{pool, CompileOptions, TierUp};
use super::tier::Tier;
use super::{compile_unit, CompileError};
use crate::module::Module;
use crate::runtime::code_memory::{self, Placement, Symbol};
use crate::runtime::dispatch::{Dispatch, LazyHook};
use crate::runtime::module_info::ModuleRuntimeInfo;
use crate::runtime::trampolines::Trampolines;

/// A function's code from an earlier compile (`compiler::serialize`), borrowed from the bytes
/// it was read from: placed in code memory by [`CompiledModule::build_with_code`], which copies
/// it or maps the file it is in, so the bytes need not outlive the build.
pub struct CachedCode<'a> {
    pub tier: Tier,
    pub code: &'a [u8],
    /// Offsets relative to `code`, as [`CompiledFunction`]'s.
    pub traps: Vec<crate::code_info::TrapSite>,
    pub sources: Vec<crate::code_info::SourceRange>,
    pub exception_sites: Vec<crate::code_info::ExceptionSite>,
}

/// What a dynamic tier-up budget starts at, per function. Baseline code subtracts the
/// function's body size (in bytes, at least 1) on every call and every loop iteration, as V8's
/// Liftoff code does with its budget of the same size; when it drops below zero, the function
/// is queued for the optimizing tier.
pub const TIERING_BUDGET: i32 = 1_800_000;

/// The cost one call or loop iteration of a function with `body_size` bytes charges its budget.
pub fn tiering_cost(body_size: usize) -> i32 {
    body_size.clamp(1, 100_000) as i32
}

static SHUTDOWN: AtomicBool = AtomicBool::new(false);

/// Stops all background compilation for good (the process is exiting). Jobs finish the
/// function they are compiling and then stop.
pub fn shutdown() {
    SHUTDOWN.store(true, Ordering::Release);
}

pub(crate) fn shutting_down() -> bool {
    SHUTDOWN.load(Ordering::Acquire)
}

#[derive(Default)]
struct TierUpQueue {
    /// Functions to optimize: hot ones (dynamic tier-up) at the front, the rest behind.
    queue: VecDeque<u32>,
    /// Workers running on the pool for this module.
    workers: usize,
    /// Why the last function that could not get optimized code failed (compiling or
    /// publishing it), for [`CompiledModule::wait_tiered_up`]'s error.
    failed: Option<String>,
}

/// The compilation state of a module's functions, by defined index. Several threads race on it:
/// the compile pool, and every thread running the module's code (a Module sent to Workers
/// shares its `CompiledModule`). Each function's first-tier code is compiled once (`first`: the
/// others wait on the `OnceLock`), installs are monotone under `ModuleCode`'s install lock (a
/// late first-tier install never replaces better code), table entries are atomic words that
/// running code reads at each call, and replaced code stays published while the module lives
/// (a thread may still be running it). The flags and budgets are atomics. Code is written to a
/// new block before its table entry is stored (release): on x86-64, the only target, another
/// core that reads the entry then fetches the new bytes without an explicit instruction-cache
/// sync; a port to another architecture needs one (Wasmtime uses membarrier on aarch64).
struct CompilationState {
    /// Each defined function's published first-tier code and its tier (the baseline's where the
    /// single-pass tier fell back), once compiled (`None` if compiling failed): the first to
    /// need it compiles, racing threads wait for it. Installed in the table by the function's
    /// first call.
    first: Box<[OnceLock<Option<(usize, Tier)>>]>,
    /// Whether each function's callees were handed to compile-ahead already.
    ahead: Box<[AtomicBool]>,
    /// Functions already queued for the top tier.
    queued: Box<[AtomicBool]>,
    /// Dynamic tier-up budgets, read and written by first-tier code.
    budgets: Box<[AtomicI32]>,
    tier_up: Mutex<TierUpQueue>,
}

/// A module with its code, ready to instantiate: its [`ModuleCode`] and the compilation
/// state that moves its code up. Shared by every instance (and the JS `Module`); instances
/// reach it as `Arc<CompiledModule>`.
pub struct CompiledModule {
    native: ModuleCode,
    state: CompilationState,
    this: Weak<CompiledModule>,
}

impl CompiledModule {
    /// The module's code as `options` say: every function compiled for the first tier now
    /// (`precompiled[i]` where given) unless lazy, then tier-up started as the policy says.
    pub fn build(
        module: Arc<Module>,
        precompiled: Vec<Option<Arc<CompiledFunction>>>,
        options: CompileOptions,
    ) -> Result<Arc<CompiledModule>, CompileError> {
        CompiledModule::build_with_code(module, precompiled, Vec::new(), None, options)
    }

    /// [`CompiledModule::build`], starting from code of an earlier compile of the same module
    /// with the same options (`compiler::serialize`): `cached[i]`, where given, is defined
    /// function `i`'s code and the tier it had. Those functions start at that tier (nothing is
    /// compiled for them; baseline ones tier up as usual, top-tier ones are never queued); the
    /// others are compiled as `options` say. `cached` may be shorter than the function count.
    pub fn build_with_code(
        module: Arc<Module>,
        precompiled: Vec<Option<Arc<CompiledFunction>>>,
        mut cached: Vec<Option<CachedCode<'_>>>,
        image: Option<code_memory::FileImage<'_>>,
        options: CompileOptions,
    ) -> Result<Arc<CompiledModule>, CompileError> {
        use rayon::prelude::*;
        let count = module.bodies.len();
        // The cached functions' source ranges move into code memory's records (no copy).
        let mut cached_sources: Vec<Vec<crate::code_info::SourceRange>> =
            cached.iter_mut().map(|c| c.as_mut().map(|c| std::mem::take(&mut c.sources)).unwrap_or_default()).collect();
        let cached_at = |i: usize| cached.get(i).and_then(|c| c.as_ref());
        let cached_tier = |i: usize| cached_at(i).map(|c| c.tier);
        // Eager: compile whatever is missing, in parallel, before anything is built (`None`:
        // the cached code is used).
        let eager: Option<Vec<Option<Arc<CompiledFunction>>>> = if options.lazy {
            None
        } else {
            Some(super::options::on_pool(|| {
                (0..count)
                    .into_par_iter()
                    .map(|defined| {
                        if cached_at(defined).is_some() {
                            return Ok(None);
                        }
                        if let Some(Some(f)) = precompiled.get(defined) {
                            return Ok(Some(f.clone()));
                        }
                        if shutting_down() {
                            return Err(CompileError::internal("the process is exiting", 0));
                        }
                        compile_defined(&module, defined as u32, options.first_tier, &options).map(Some)
                    })
                    .collect::<Result<_, _>>()
            })?)
        };
        // What is published now: every function when eager, else the cached ones. `placed[i]`
        // is function `i`'s index among them.
        let symbol = |defined: usize, tier: Tier| Symbol::Wasm {
            module: module.clone(),
            index: module.num_imported_functions + defined as u32,
            tier,
        };
        let mut placed: Vec<Option<usize>> = vec![None; count];
        // Whether only cached code is placed: then it is laid out as `image` holds it.
        let mut only_cached = true;
        let mut placements: Vec<Placement<'_>> = Vec::new();
        for (defined, at) in placed.iter_mut().enumerate() {
            let placement = if let Some(c) = cached_at(defined) {
                Placement {
                    code: c.code,
                    traps: &c.traps,
                    sources: std::mem::take(&mut cached_sources[defined]).into(),
                    exception_sites: &c.exception_sites,
                    symbol: symbol(defined, c.tier),
                }
            } else if let Some(Some(f)) = eager.as_ref().map(|e| &e[defined]) {
                only_cached = false;
                Placement {
                    code: &f.code,
                    traps: &f.traps,
                    sources: (&f.sources[..]).into(),
                    exception_sites: &f.exception_sites,
                    symbol: symbol(defined, f.tier),
                }
            } else {
                continue;
            };
            *at = Some(placements.len());
            placements.push(placement);
        }
        let code_error = |message: String| CompileError::internal(message, 0);
        let published = if placements.is_empty() {
            None
        } else {
            let published = match image.filter(|_| only_cached) {
                // Mapped where it can be, else copied.
                Some(image) => match code_memory::publish_mapped(placements, image).map_err(code_error)? {
                    Ok(published) => published,
                    Err(placements) => code_memory::publish(placements).map_err(code_error)?,
                },
                None => code_memory::publish(placements).map_err(code_error)?,
            };
            Some(published)
        };
        let address = |i: usize| match (&published, placed[i]) {
            (Some((block, offsets)), Some(at)) => Some(block.start() as usize + offsets[at]),
            _ => None,
        };
        // The hook reaches the module through a cell filled once the module exists.
        let cell: Arc<OnceLock<Weak<CompiledModule>>> = Arc::new(OnceLock::new());
        let hook: Option<LazyHook> = options.lazy.then(|| {
            let cell = cell.clone();
            Box::new(move |defined: u32| cell.get()?.upgrade()?.compile_lazily(defined)) as LazyHook
        });
        let dispatch = Dispatch::new(count, hook, |i| address(i).unwrap_or(0)).map_err(code_error)?;
        // Lazily compiled modules start at their stubs, but for the cached functions.
        if options.lazy {
            for i in 0..count {
                if let Some(code) = address(i) {
                    dispatch.set_code(i, code);
                }
            }
        }
        // Eager code's own tier: the first tier's, or the baseline's where the single-pass tier
        // fell back.
        let eager_tier = |i: usize| {
            eager.as_ref().and_then(|e| e.get(i)).and_then(|f| f.as_ref()).map(|f| code_tier(options.first_tier, f))
        };
        let tier_of = |i: usize| cached_tier(i).or_else(|| eager_tier(i));
        let state = CompilationState {
            first: (0..count)
                .map(|i| {
                    let cell = OnceLock::new();
                    if let Some(tier) = tier_of(i).filter(|&t| t < Tier::TOP || t == options.first_tier) {
                        if let Some(code) = address(i) {
                            let _ = cell.set(Some((code, tier)));
                        }
                    }
                    cell
                })
                .collect(),
            ahead: (0..count).map(|_| AtomicBool::new(!options.lazy)).collect(),
            // Functions at the top tier already are never queued for it.
            queued: (0..count).map(|i| AtomicBool::new(tier_of(i) == Some(Tier::TOP))).collect(),
            budgets: (0..count).map(|_| AtomicI32::new(TIERING_BUDGET)).collect(),
            tier_up: Mutex::new(TierUpQueue::default()),
        };
        let blocks = published.iter().map(|(b, _)| b.clone()).collect();
        let native = ModuleCode::new(module, options, dispatch, blocks, tier_of);
        for (defined, function) in eager.iter().flatten().enumerate() {
            if let Some(function) = function {
                native.note_settings(defined as u32, function);
            }
        }
        let compiled = Arc::new_cyclic(|this: &Weak<CompiledModule>| {
            let _ = cell.set(this.clone());
            CompiledModule {
                native,
                state,
                this: this.clone(),
            }
        });
        if compiled.options.tiers_up() && compiled.options.tier_up == TierUp::Eager {
            compiled.request_all();
        }
        Ok(compiled)
    }

    /// The dynamic tier-up budgets (`vmctx.tiering_budgets`), by defined index.
    pub fn budgets(&self) -> *const AtomicI32 {
        self.state.budgets.as_ptr()
    }

    /// The lazy stub's hook: defined function `defined` was called and its table entry is
    /// still its stub. Compiles it for the first tier unless that was done already (by a racing
    /// thread, or ahead of time by [`CompiledModule::compile_callees_ahead`]), installs it, and
    /// returns its current code.
    fn compile_lazily(&self, defined: u32) -> Option<usize> {
        if self.native.tier(defined).is_some() {
            return Some(self.native.code(defined));
        }
        let (code, tier) = self.first_tier_code(defined, true)?;
        self.native.set_code(defined, tier, code);
        self.compile_callees_ahead(defined);
        Some(self.native.code(defined))
    }

    /// The published first-tier code of `defined`, compiled now if no one has (others asking
    /// meanwhile wait for it). `None` if it cannot be compiled.
    fn first_tier_code(&self, defined: u32, on_caller_stack: bool) -> Option<(usize, Tier)> {
        *self.state.first[defined as usize].get_or_init(|| {
            let tier = self.options.first_tier;
            let compiled = if on_caller_stack {
                with_enough_stack(|| self.compile(defined, tier))
            } else {
                self.compile(defined, tier)
            };
            compiled
                .map_err(|e| e.to_string())
                .and_then(|f| Ok((self.native.publish(defined, &f)?, code_tier(tier, &f))))
                .ok()
        })
    }

    /// Compile-ahead, while the caller runs: the functions `defined` calls directly are compiled
    /// for the first tier on the compile pool, so that most first calls find their code ready
    /// (the calling thread compiles only what the pool has not reached yet). Their table entries
    /// keep their stubs until they are called, so that their first call, in turn, compiles
    /// their callees ahead: one call ahead of the program, along the calls it makes.
    fn compile_callees_ahead(&self, defined: u32) {
        if self.state.ahead[defined as usize].swap(true, Ordering::AcqRel) || shutting_down() {
            return;
        }
        let weak = self.this.clone();
        pool().spawn(move || {
            let Some(compiled) = weak.upgrade() else { return };
            let module = &compiled.module;
            let imported = module.num_imported_functions;
            let Some(body) = module.body(defined) else { return };
            let Ok(mut reader) = body.get_operators_reader() else { return };
            let mut callees = Vec::new();
            while !reader.eof() {
                match reader.read() {
                    Ok(wasmparser::Operator::Call { function_index }) if function_index >= imported => {
                        callees.push(function_index - imported)
                    }
                    Ok(_) => {}
                    Err(_) => return,
                }
            }
            callees.sort_unstable();
            callees.dedup();
            for callee in callees {
                if shutting_down() || weak.strong_count() <= 1 {
                    return; // nothing but this job holds the module: no one will call them
                }
                if compiled.native.tier(callee).is_none() {
                    compiled.first_tier_code(callee, false);
                }
            }
        });
    }

    fn compile(&self, defined: u32, tier: Tier) -> Result<Arc<CompiledFunction>, CompileError> {
        compile_defined(&self.module, defined, tier, &self.options)
    }

    /// Queues defined function `defined` for the top tier (a hot function, from its budget
    /// running out): ahead of everything queued before.
    pub fn request_hot(&self, defined: u32) {
        let i = defined as usize;
        if let Some(budget) = self.state.budgets.get(i) {
            // Not again: the function is on its way up.
            budget.store(i32::MAX, Ordering::Relaxed);
        }
        if i >= self.state.queued.len() || self.state.queued[i].swap(true, Ordering::AcqRel) {
            return;
        }
        self.enqueue(|q| q.queue.push_front(defined));
    }

    /// Queues every function that has no top-tier code yet (eager tier-up, `tierUp()`).
    pub fn request_all(&self) {
        let queued = &self.state.queued;
        let fresh: Vec<u32> = (0..queued.len() as u32)
            .filter(|&i| !queued[i as usize].swap(true, Ordering::AcqRel))
            .collect();
        if !fresh.is_empty() {
            self.enqueue(|q| q.queue.extend(fresh));
        }
    }

    fn enqueue(&self, add: impl FnOnce(&mut TierUpQueue)) {
        let spawn = {
            let mut state = self.state.tier_up.lock().unwrap_or_else(|e| e.into_inner());
            add(&mut state);
            let want = state.queue.len().min(self.options.threads.max(1));
            let spawn = want.saturating_sub(state.workers);
            state.workers += spawn;
            spawn
        };
        let pool = pool();
        for _ in 0..spawn {
            let weak = self.this.clone();
            pool.spawn(move || tier_up_worker(weak));
        }
    }

    /// Requests top-tier code for every function and blocks until all of it is installed.
    /// Fails, saying why, if that cannot happen (optimizing failed, or the process is exiting).
    pub fn wait_tiered_up(&self) -> Result<(), String> {
        self.request_all();
        let done = self.native.wait_all_at(Tier::TOP, || {
            let q = self.state.tier_up.lock().unwrap_or_else(|e| e.into_inner());
            // Nothing left to wait for, yet not everything is at the top tier.
            (q.workers == 0 && q.queue.is_empty()) || shutting_down()
        });
        if done {
            return Ok(());
        }
        if shutting_down() {
            return Err("the process is exiting".into());
        }
        let failed = self.state.tier_up.lock().unwrap_or_else(|e| e.into_inner()).failed.clone();
        Err(failed.unwrap_or_else(|| "no tier-up worker is left and some functions have no optimized code".into()))
    }

    /// Takes the next function off the tier-up queue, or retires the calling worker.
    fn next_to_optimize(&self) -> Option<u32> {
        let mut state = self.state.tier_up.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(defined) = state.queue.pop_front() {
            if self.native.tier(defined) != Some(Tier::TOP) {
                return Some(defined);
            }
        }
        state.workers -= 1;
        drop(state);
        self.native.wake();
        None
    }
}

/// A compiled module is used as its code: instances, imports and funcrefs reach the
/// [`ModuleCode`] through it; only the tier-up entry points are its own.
impl std::ops::Deref for CompiledModule {
    type Target = ModuleCode;

    fn deref(&self) -> &ModuleCode {
        &self.native
    }
}

/// How instances (the runtime) reach the code: through the runtime's interface, so that the
/// runtime does not name this type. No call path goes through it (see `runtime::module_info`).
impl ModuleRuntimeInfo for CompiledModule {
    fn module(&self) -> &Arc<Module> {
        &self.native.module
    }

    fn metered(&self) -> bool {
        self.native.options.fuel
    }

    fn bounds_checked(&self) -> bool {
        self.native.options.bounds_checks
    }

    fn type_ids(&self) -> &[u32] {
        self.native.type_ids()
    }

    fn code_table(&self) -> *const *const u8 {
        self.native.code_table()
    }

    fn entry(&self, defined: u32) -> *const u8 {
        self.native.entry(defined)
    }

    fn tiering_budgets(&self) -> *const AtomicI32 {
        self.budgets()
    }

    fn request_tier_up(&self, defined: u32) {
        self.request_hot(defined)
    }

    fn trampolines(&self, ty: &FuncType) -> Result<Arc<Trampolines>, String> {
        super::trampolines::for_signature(ty)
    }
}

impl Drop for CompiledModule {
    fn drop(&mut self) {
        // Workers hold weak references only; they notice at their next function.
        self.native.wake();
    }
}

/// Compiles defined function `defined` of `module` (validated, its bodies recorded) for `tier`.
fn compile_defined(
    module: &Module,
    defined: u32,
    tier: Tier,
    options: &CompileOptions,
) -> Result<Arc<CompiledFunction>, CompileError> {
    let body = module.body(defined).expect("a validated module records every body");
    let index = module.num_imported_functions + defined;
    compile_unit(module, index, &body, tier, options)
}

/// A tier-up worker on the compile pool: optimizes queued functions of one module until the
/// queue is empty, the module is gone, or the process is exiting.
///
/// The worker holds the module only for the moment it takes a function off the queue and
/// installs the previous one, never while compiling: several workers compiling in turn must not
/// keep alive, between them, a module that nothing else holds any more.
fn tier_up_worker(weak: Weak<CompiledModule>) {
    let mut finished: Option<(u32, Result<Arc<CompiledFunction>, CompileError>)> = None;
    loop {
        if shutting_down() {
            return;
        }
        let (module, options, defined) = {
            let Some(compiled) = weak.upgrade() else { return };
            if let Some((defined, result)) = finished.take() {
                let installed = result
                    .map_err(|e| e.to_string())
                    .and_then(|f| compiled.native.install(defined, Tier::TOP, &f));
                if let Err(error) = installed {
                    // The function keeps its first-tier code; a later request may try again.
                    compiled.state.queued[defined as usize].store(false, Ordering::Release);
                    let mut q = compiled.state.tier_up.lock().unwrap_or_else(|e| e.into_inner());
                    q.failed = Some(format!("function {}: {error}", compiled.module.num_imported_functions + defined));
                }
            }
            let Some(defined) = compiled.next_to_optimize() else { return };
            (compiled.module.clone(), compiled.options, defined)
        };
        let result = compile_defined(&module, defined, Tier::TOP, &options);
        finished = Some((defined, result));
    }
}

/// Runs `f` (a compilation) where there is stack enough for it: on this thread when plenty
/// is left, else on a fresh thread while this one waits (a lazy compile can start deep in a
/// recursion, with only the host reserve below the wasm stack limit).
fn with_enough_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    const NEEDED: usize = 1 << 20;
    if crate::runtime::traps::remaining_stack() >= NEEDED {
        return f();
    }
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(2 * NEEDED)
            .spawn_scoped(scope, f)
            .expect("cannot start a compile thread")
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The tier that code compiled for `requested` counts as: the single-pass tier's own, or the
/// baseline's where it fell back; any other tier's code is that tier's, also when it was
/// compiled with cheaper settings (their profile's `CompiledFunction::tier` is lower, but
/// compiling it again for the same tier would give the same code: it must not be queued for
/// tier-up again, and `compileStatus()` counts it at its tier, marked `cheaperSettings`).
fn code_tier(requested: Tier, function: &CompiledFunction) -> Tier {
    if requested == Tier::Singlepass { function.tier } else { requested }
}

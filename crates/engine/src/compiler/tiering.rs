//! A compiled module's code over its life, after the seed's `CompilationState`: which tier each
//! function's current code is, lazy compilation on first call, and tier-up in the background.
//!
//! Every defined function's code is reached through the module's [`Dispatch`] entry, so one
//! atomic store moves every instance and every caller to new code. Code only ever moves up:
//! none → first tier → optimized; an install that would move down (a late first-tier compile
//! racing an early tier-up) is dropped. Code that was replaced stays in memory until the module
//! is dropped, so calls in flight finish on it.
//!
//! Tier-up runs on the compile pool, a few functions at a time, holding only a weak reference
//! to the module: when nothing can observe the module any more (it was collected), or the
//! process is shutting down ([`shutdown`]), the work stops at the next function.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};

use super::codegen::{CompiledFunction, Tier};
use super::options::{pool, CompileOptions, TierUp};
use super::{compile_unit, CompileError};
use crate::module::Module;
use crate::runtime::code_memory::{self, CodeBlock, Placement, Symbol};
use crate::runtime::dispatch::{Dispatch, LazyHook};

/// The tier of a function's current code, as kept in [`CompiledModule`]'s state.
const NONE: u8 = 0;
const BASELINE: u8 = 1;
const OPTIMIZED: u8 = 2;

fn tier_code(tier: Tier) -> u8 {
    match tier {
        Tier::Baseline => BASELINE,
        Tier::Optimized => OPTIMIZED,
    }
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

/// Per-function counts of a module's code, by the tier of what runs now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CompileStatus {
    pub functions: usize,
    pub uncompiled: usize,
    pub baseline: usize,
    pub optimized: usize,
}

#[derive(Default)]
struct TierUpQueue {
    /// Functions to optimize: hot ones (dynamic tier-up) at the front, the rest behind.
    queue: VecDeque<u32>,
    /// Workers running on the pool for this module.
    workers: usize,
}

/// A module with its code, ready to instantiate. Shared by every instance (and the JS
/// `Module`); instances reach it as `Arc<CompiledModule>`.
pub struct CompiledModule {
    pub module: Arc<Module>,
    pub options: CompileOptions,
    dispatch: Dispatch,
    /// Canonical signature id of each type index.
    type_ids: Box<[u32]>,
    /// Every block of code published for this module, freed with it.
    blocks: Mutex<Vec<Arc<CodeBlock>>>,
    /// Tier of each defined function's current code (`NONE`, `BASELINE`, `OPTIMIZED`).
    tiers: Box<[AtomicU8]>,
    /// Each defined function's published first-tier code, once compiled (`None` if compiling
    /// failed): the first to need it compiles, racing threads wait for it. Installed in the
    /// table by the function's first call.
    first: Box<[OnceLock<Option<usize>>]>,
    /// Whether each function's callees were handed to compile-ahead already.
    ahead: Box<[AtomicBool]>,
    /// Functions already queued for the optimizing tier.
    queued: Box<[AtomicBool]>,
    /// Dynamic tier-up budgets, by defined index, read and written by baseline code.
    budgets: Box<[AtomicI32]>,
    /// Serializes installs (the check-then-store of a tier).
    install: Mutex<()>,
    tier_up: Mutex<TierUpQueue>,
    /// Signalled whenever a function gets optimized code.
    tiered: Condvar,
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
        use rayon::prelude::*;
        let count = module.bodies.len();
        // Eager: compile whatever is missing, in parallel, before anything is built.
        let eager: Option<Vec<Arc<CompiledFunction>>> = if options.lazy {
            None
        } else {
            Some(super::options::on_pool(|| {
                (0..count)
                    .into_par_iter()
                    .map(|defined| {
                        if let Some(Some(f)) = precompiled.get(defined) {
                            return Ok(f.clone());
                        }
                        if shutting_down() {
                            return Err(CompileError {
                                message: "the process is exiting".to_string(),
                                offset: 0,
                                function: None,
                            });
                        }
                        compile_defined(&module, defined as u32, options.first_tier, &options)
                    })
                    .collect::<Result<_, _>>()
            })?)
        };
        let code_error = |message: String| CompileError {
            message,
            offset: 0,
            function: None,
        };
        let published = match &eager {
            Some(functions) => {
                let placements: Vec<Placement<'_>> = functions
                    .iter()
                    .enumerate()
                    .map(|(defined, f)| Placement {
                        code: &f.code,
                        traps: &f.traps,
                        sources: &f.sources,
                        exception_sites: &f.exception_sites,
                        symbol: Symbol::Wasm {
                            module: module.clone(),
                            index: module.num_imported_functions + defined as u32,
                            tier: f.tier,
                        },
                    })
                    .collect();
                Some(code_memory::publish(&placements).map_err(code_error)?)
            }
            None => None,
        };
        // The hook reaches the module through a cell filled once the module exists.
        let cell: Arc<OnceLock<Weak<CompiledModule>>> = Arc::new(OnceLock::new());
        let hook: Option<LazyHook> = options.lazy.then(|| {
            let cell = cell.clone();
            Box::new(move |defined: u32| cell.get()?.upgrade()?.compile_lazily(defined)) as LazyHook
        });
        let initial = |i: usize| match &published {
            Some((block, offsets)) => block.start() as usize + offsets[i],
            None => 0,
        };
        let dispatch = Dispatch::new(count, hook, initial).map_err(code_error)?;
        let first_tier = if options.lazy { NONE } else { tier_code(options.first_tier) };
        let compiled = Arc::new_cyclic(|this: &Weak<CompiledModule>| {
            let _ = cell.set(this.clone());
            CompiledModule {
                type_ids: module.type_ids().into(),
                dispatch,
                blocks: Mutex::new(published.iter().map(|(b, _)| b.clone()).collect()),
                tiers: (0..count).map(|_| AtomicU8::new(first_tier)).collect(),
                first: (0..count)
                    .map(|i| {
                        let cell = OnceLock::new();
                        if let Some((block, offsets)) = &published {
                            let _ = cell.set(Some(block.start() as usize + offsets[i]));
                        }
                        cell
                    })
                    .collect(),
                ahead: (0..count).map(|_| AtomicBool::new(!options.lazy)).collect(),
                queued: (0..count).map(|_| AtomicBool::new(false)).collect(),
                budgets: (0..count).map(|_| AtomicI32::new(TIERING_BUDGET)).collect(),
                install: Mutex::new(()),
                tier_up: Mutex::new(TierUpQueue::default()),
                tiered: Condvar::new(),
                this: this.clone(),
                module,
                options,
            }
        });
        if compiled.options.tiers_up() && compiled.options.tier_up == TierUp::Eager {
            compiled.request_all();
        }
        Ok(compiled)
    }

    /// Entry point of defined function `defined`: what funcrefs and imports call.
    pub fn entry(&self, defined: u32) -> *const u8 {
        self.dispatch.entry(defined as usize) as *const u8
    }

    /// The code table generated code reads (`vmctx.code_table`).
    pub fn code_table(&self) -> *const *const u8 {
        self.dispatch.code_table() as *const *const u8
    }

    /// Canonical signature ids by type index (`vmctx.type_ids`).
    pub fn type_ids(&self) -> &[u32] {
        &self.type_ids
    }

    /// The dynamic tier-up budgets (`vmctx.tiering_budgets`), by defined index.
    pub fn budgets(&self) -> *const AtomicI32 {
        self.budgets.as_ptr()
    }

    pub fn status(&self) -> CompileStatus {
        let mut status = CompileStatus {
            functions: self.tiers.len(),
            ..CompileStatus::default()
        };
        for tier in self.tiers.iter() {
            match tier.load(Ordering::Acquire) {
                NONE => status.uncompiled += 1,
                BASELINE => status.baseline += 1,
                _ => status.optimized += 1,
            }
        }
        status
    }

    /// The lazy stub's hook: defined function `defined` was called and its table entry is
    /// still its stub. Compiles it for the first tier unless that was done already (by a racing
    /// thread, or ahead of time by [`CompiledModule::compile_callees_ahead`]), installs it, and
    /// returns its current code.
    fn compile_lazily(&self, defined: u32) -> Option<usize> {
        let i = defined as usize;
        if self.tiers[i].load(Ordering::Acquire) != NONE {
            return Some(self.dispatch.code(i));
        }
        let code = self.first_tier_code(defined, true)?;
        self.set_code(defined, self.options.first_tier, code);
        self.compile_callees_ahead(defined);
        Some(self.dispatch.code(i))
    }

    /// The published first-tier code of `defined`, compiled now if no one has (others asking
    /// meanwhile wait for it). `None` if it cannot be compiled.
    fn first_tier_code(&self, defined: u32, on_caller_stack: bool) -> Option<usize> {
        *self.first[defined as usize].get_or_init(|| {
            let tier = self.options.first_tier;
            let compiled = if on_caller_stack {
                with_enough_stack(|| self.compile(defined, tier))
            } else {
                self.compile(defined, tier)
            };
            compiled
                .map_err(|e| e.to_string())
                .and_then(|f| self.publish(defined, &f))
                .ok()
        })
    }

    /// Compile-ahead, while the caller runs: the functions `defined` calls directly are compiled
    /// for the first tier on the compile pool, so that most first calls find their code ready
    /// (the calling thread compiles only what the pool has not reached yet). Their table entries
    /// keep their stubs until they are called, so that their first call, in turn, compiles
    /// their callees ahead: one call ahead of the program, along the calls it makes.
    fn compile_callees_ahead(&self, defined: u32) {
        if self.ahead[defined as usize].swap(true, Ordering::AcqRel) || shutting_down() {
            return;
        }
        let weak = self.this.clone();
        pool().spawn(move || {
            let Some(compiled) = weak.upgrade() else { return };
            let imported = compiled.module.num_imported_functions;
            let Some(body) = compiled.module.body(defined) else { return };
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
                if compiled.tiers[callee as usize].load(Ordering::Acquire) == NONE {
                    compiled.first_tier_code(callee, false);
                }
            }
        });
    }

    fn compile(&self, defined: u32, tier: Tier) -> Result<Arc<CompiledFunction>, CompileError> {
        compile_defined(&self.module, defined, tier, &self.options)
    }

    /// Places `function` in code memory for good (its block lives as long as the module).
    fn publish(&self, defined: u32, function: &CompiledFunction) -> Result<usize, String> {
        let (block, offsets) = code_memory::publish(&[Placement {
            code: &function.code,
            traps: &function.traps,
            sources: &function.sources,
            exception_sites: &function.exception_sites,
            symbol: Symbol::Wasm {
                module: self.module.clone(),
                index: self.module.num_imported_functions + defined,
                tier: function.tier,
            },
        }])?;
        let code = block.start() as usize + offsets[0];
        self.blocks.lock().unwrap_or_else(|e| e.into_inner()).push(block);
        Ok(code)
    }

    /// Makes published `code` of `tier` defined function `defined`'s code, unless its code is
    /// already of `tier` or better.
    fn set_code(&self, defined: u32, tier: Tier, code: usize) {
        let i = defined as usize;
        let _guard = self.install.lock().unwrap_or_else(|e| e.into_inner());
        if self.tiers[i].load(Ordering::Acquire) >= tier_code(tier) {
            return;
        }
        self.dispatch.set_code(i, code);
        self.tiers[i].store(tier_code(tier), Ordering::Release);
        if tier == Tier::Optimized {
            self.tiered.notify_all();
        }
    }

    /// Publishes `function` and makes it `defined`'s code (see [`CompiledModule::set_code`]).
    fn install(&self, defined: u32, tier: Tier, function: &CompiledFunction) -> Result<(), String> {
        let code = self.publish(defined, function)?;
        self.set_code(defined, tier, code);
        Ok(())
    }

    /// Queues defined function `defined` for the optimizing tier (a hot function, from its
    /// budget running out): ahead of everything queued before.
    pub fn request_hot(&self, defined: u32) {
        let i = defined as usize;
        if let Some(budget) = self.budgets.get(i) {
            // Not again: the function is on its way up.
            budget.store(i32::MAX, Ordering::Relaxed);
        }
        if i >= self.queued.len() || self.queued[i].swap(true, Ordering::AcqRel) {
            return;
        }
        self.enqueue(|q| q.queue.push_front(defined));
    }

    /// Queues every function that has no optimized code yet (eager tier-up, `tierUp()`).
    pub fn request_all(&self) {
        let fresh: Vec<u32> = (0..self.queued.len() as u32)
            .filter(|&i| !self.queued[i as usize].swap(true, Ordering::AcqRel))
            .collect();
        if !fresh.is_empty() {
            self.enqueue(|q| q.queue.extend(fresh));
        }
    }

    fn enqueue(&self, add: impl FnOnce(&mut TierUpQueue)) {
        let spawn = {
            let mut state = self.tier_up.lock().unwrap_or_else(|e| e.into_inner());
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

    /// Requests optimized code for every function and blocks until all of it is installed.
    /// Returns false if that cannot happen (optimizing failed, or the process is exiting).
    pub fn wait_tiered_up(&self) -> bool {
        self.request_all();
        let mut guard = self.install.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if self.tiers.iter().all(|t| t.load(Ordering::Acquire) == OPTIMIZED) {
                return true;
            }
            let idle = {
                let q = self.tier_up.lock().unwrap_or_else(|e| e.into_inner());
                q.workers == 0 && q.queue.is_empty()
            };
            if idle || shutting_down() {
                // Nothing left to wait for, yet not everything is optimized.
                return false;
            }
            guard = self
                .tiered
                .wait_timeout(guard, std::time::Duration::from_millis(50))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Takes the next function off the tier-up queue, or retires the calling worker.
    fn next_to_optimize(&self) -> Option<u32> {
        let mut state = self.tier_up.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(defined) = state.queue.pop_front() {
            if self.tiers[defined as usize].load(Ordering::Acquire) != OPTIMIZED {
                return Some(defined);
            }
        }
        state.workers -= 1;
        drop(state);
        self.tiered.notify_all();
        None
    }
}

impl Drop for CompiledModule {
    fn drop(&mut self) {
        // Workers hold weak references only; they notice at their next function.
        self.tiered.notify_all();
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
                    .and_then(|f| compiled.install(defined, Tier::Optimized, &f));
                if installed.is_err() {
                    // The function keeps its first-tier code; a later request may try again.
                    compiled.queued[defined as usize].store(false, Ordering::Release);
                }
            }
            let Some(defined) = compiled.next_to_optimize() else { return };
            (compiled.module.clone(), compiled.options, defined)
        };
        let result = compile_defined(&module, defined, Tier::Optimized, &options);
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

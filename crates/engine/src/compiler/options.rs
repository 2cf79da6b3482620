//! How modules are compiled: lazily or eagerly, which tier first, when to tier up, and on how
//! many threads. One process-wide setting, read from the environment at first use and changed
//! from JS (`require('cranewasm/engine').setCompileOptions`); each module keeps the options it
//! was compiled with.

use std::sync::{Arc, OnceLock, RwLock};

use super::codegen::Tier;

/// When functions move from their first tier to the optimizing tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TierUp {
    /// Never: functions keep the code of their first tier.
    Off,
    /// Every function, in the background, as soon as the module is compiled.
    Eager,
    /// Hot functions only, judged by a budget that calls and loop iterations spend.
    Dynamic,
}

impl TierUp {
    pub fn as_str(self) -> &'static str {
        match self {
            TierUp::Off => "off",
            TierUp::Eager => "eager",
            TierUp::Dynamic => "dynamic",
        }
    }

    pub fn parse(s: &str) -> Option<TierUp> {
        match s {
            "off" => Some(TierUp::Off),
            "eager" => Some(TierUp::Eager),
            "dynamic" => Some(TierUp::Dynamic),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompileOptions {
    /// Compile each function when it is first called, rather than before compile() resolves.
    pub lazy: bool,
    /// The tier functions are first compiled with.
    pub first_tier: Tier,
    pub tier_up: TierUp,
    /// Threads of the compile pool.
    pub threads: usize,
    /// Whether loop headers check for interrupts (see `runtime::interrupts`). Always on but for
    /// measuring what the checks cost: code without them cannot be stopped by termination or a
    /// deadline while it loops.
    pub interrupt_checks: bool,
    /// Whether the code counts fuel (see `runtime::sandbox`): set for the code of metered
    /// sandboxes, never from the process-wide options.
    pub fuel: bool,
    /// Whether memory accesses check their bounds explicitly (see `runtime::memory`): such
    /// code runs on memories without a guard reservation. Set process-wide (`boundsChecks`,
    /// `CRANEWASM_BOUNDS_CHECKS`), for a sandbox, or for an instance whose memory could not
    /// get a guard reservation.
    pub bounds_checks: bool,
}

impl CompileOptions {
    /// The defaults, as V8's: lazy compilation of the single-pass tier (V8's Liftoff; functions
    /// it does not cover get the baseline tier's code), dynamic tier-up, one compile thread per
    /// core.
    pub fn defaults() -> CompileOptions {
        CompileOptions {
            lazy: true,
            first_tier: Tier::Singlepass,
            tier_up: TierUp::Dynamic,
            threads: default_threads(),
            interrupt_checks: true,
            fuel: false,
            bounds_checks: false,
        }
    }

    /// The defaults overridden by `CRANEWASM_LAZY` (0/1), `CRANEWASM_FIRST_TIER`
    /// (singlepass/baseline/optimized), `CRANEWASM_TIER_UP` (off/eager/dynamic),
    /// `CRANEWASM_COMPILE_THREADS` (a positive number) and `CRANEWASM_BOUNDS_CHECKS` (0/1).
    /// Values that do not parse are ignored here: index.js has refused them when it was loaded
    /// (environment.js, the table of every CRANEWASM_* variable, whose spellings these follow).
    pub fn from_env() -> CompileOptions {
        let mut options = CompileOptions::defaults();
        let var = |name: &str| std::env::var(name).ok().map(|v| v.trim().to_ascii_lowercase());
        if let Some(v) = var("CRANEWASM_LAZY") {
            match v.as_str() {
                "1" | "true" | "yes" | "on" => options.lazy = true,
                "0" | "false" | "no" | "off" => options.lazy = false,
                _ => {}
            }
        }
        match var("CRANEWASM_BOUNDS_CHECKS").as_deref() {
            Some("1" | "true" | "yes" | "on") => options.bounds_checks = true,
            Some("0" | "false" | "no" | "off") => options.bounds_checks = false,
            _ => {}
        }
        if let Some(tier) = var("CRANEWASM_FIRST_TIER").as_deref().and_then(Tier::parse) {
            options.first_tier = tier;
        }
        if let Some(policy) = var("CRANEWASM_TIER_UP").as_deref().and_then(TierUp::parse) {
            options.tier_up = policy;
        }
        if let Some(n) = var("CRANEWASM_COMPILE_THREADS").and_then(|v| v.parse::<usize>().ok()) {
            if (1..=MAX_THREADS).contains(&n) {
                options.threads = n;
            }
        }
        options
    }

    /// Whether functions ever get optimized code after their first tier.
    pub fn tiers_up(&self) -> bool {
        self.first_tier < Tier::TOP && self.tier_up != TierUp::Off
    }
}

/// The most compile threads one may ask for.
pub const MAX_THREADS: usize = 256;

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn current() -> &'static RwLock<CompileOptions> {
    static OPTIONS: OnceLock<RwLock<CompileOptions>> = OnceLock::new();
    OPTIONS.get_or_init(|| RwLock::new(CompileOptions::from_env()))
}

/// The options modules compiled from now on get.
pub fn options() -> CompileOptions {
    *current().read().unwrap_or_else(|e| e.into_inner())
}

/// Sets the options for modules compiled from now on (modules already compiled keep theirs).
pub fn set_options(options: CompileOptions) {
    *current().write().unwrap_or_else(|e| e.into_inner()) = options;
}

/// The background compile pool, with [`CompileOptions::threads`] threads at a lower priority
/// (nice 10): tier-up and compile-ahead, which no caller waits on while the JS thread runs, and
/// which must not slow that thread down even with every core busy.
pub fn pool() -> Arc<rayon::ThreadPool> {
    static POOL: RwLock<Option<(usize, Arc<rayon::ThreadPool>)>> = RwLock::new(None);
    cached_pool(&POOL, "cranewasm-compile", true)
}

/// The foreground compile pool, with as many threads at the normal priority: the work a caller
/// is blocked on ([`on_pool`]: compile()'s validation, an eager compile, a deserialize; a
/// streaming compile's jobs). At a lower priority it would wait for every normal-priority
/// process on a busy machine (a 4 MB module's validation took 250 ms instead of 42 ms beside a
/// build), where V8's compile jobs, on Node's platform threads, do not.
pub fn foreground_pool() -> Arc<rayon::ThreadPool> {
    static POOL: RwLock<Option<(usize, Arc<rayon::ThreadPool>)>> = RwLock::new(None);
    cached_pool(&POOL, "cranewasm-compile-fg", false)
}

/// The pool in `slot`, rebuilt when [`CompileOptions::threads`] changes (jobs already running
/// finish on the old pool).
fn cached_pool(
    slot: &RwLock<Option<(usize, Arc<rayon::ThreadPool>)>>,
    name: &'static str,
    background: bool,
) -> Arc<rayon::ThreadPool> {
    let threads = options().threads;
    if let Some((n, pool)) = &*slot.read().unwrap_or_else(|e| e.into_inner()) {
        if *n == threads {
            return pool.clone();
        }
    }
    let mut slot = slot.write().unwrap_or_else(|e| e.into_inner());
    if let Some((n, pool)) = &*slot {
        if *n == threads {
            return pool.clone();
        }
    }
    let mut builder = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(move |i| format!("{name}-{i}"));
    if background {
        builder = builder.start_handler(|_| crate::runtime::lower_thread_priority());
    }
    let pool = Arc::new(builder.build().expect("cannot start the compile threads"));
    *slot = Some((threads, pool.clone()));
    pool
}

/// Runs `f`, whose parallel iterators then run on the foreground compile pool. On a thread of some rayon
/// pool already (a compile task, or a caller's own pool), `f` runs right there, in that pool:
/// blocking such a thread on another pool would make it run more of its own pool's jobs while
/// it waits, nesting them on its stack.
pub fn on_pool<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if rayon::current_thread_index().is_some() {
        f()
    } else {
        foreground_pool().install(f)
    }
}

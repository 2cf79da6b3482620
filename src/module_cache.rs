//! Reuse of compiled code within a process, as V8's native module cache does: compiling bytes
//! identical to those of a module that is still alive gives a new `WebAssembly.Module` object
//! over the same [`SharedModule`] (decoded module, machine code, tier-up state and code
//! variants), without decoding, validating or compiling again.
//!
//! - The key is the bytes, the compile options (laziness, tiers, threads, interrupt checks,
//!   fuel, bounds checks) and the wasm features. A 64-bit foldhash of the bytes (fixed seed:
//!   `disk_cache::content_hash`, which names the persistent cache's entry too) picks the
//!   bucket; a hit is confirmed by comparing the bytes in full, so a hash collision can only
//!   cost a comparison, never give the wrong code. (foldhash is already in the lock file, through
//!   hashbrown: no new dependency. A cryptographic hash would be needed only if the hash alone
//!   decided.) The `builtins`/`importedStringConstants` options do not change what is compiled
//!   here (index.js checks them per Module object), so they are not part of the key.
//! - The cache holds weak references only: a module whose JS objects are all collected is freed
//!   as before (instances keep their own code alive). Dead entries are swept as the map grows.
//! - Two compiles of the same bytes at the same time compile once: the second waits for the
//!   first and then takes its result (a compile error is not cached: the waiter compiles
//!   itself and gets the same error).
//! - Streaming compiles cannot look up before the whole body is known; when they finish, the
//!   result is published (or an equal live module found then is used instead), so later
//!   compiles of the same bytes reuse it.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};

use cranewasm_engine as engine;
use engine::compiler::{Compilation, CompileOptions};
use engine::compiler::CompiledModule;

use crate::CodeVariant;

/// What the `WebAssembly.Module` objects compiled from the same bytes (with the same options)
/// share.
pub struct SharedModule {
    pub module: Arc<engine::Module>,
    /// The machine code, or why there is none (an instruction not supported yet).
    pub code: std::result::Result<Arc<CompiledModule>, String>,
    /// Other variants of the code, compiled the first time an instance needs them (see
    /// `code_for`), by `CodeVariant::index`: code that counts fuel (metered sandboxes), code
    /// with bounds checks (memories without a guard reservation), or both.
    pub variants: [OnceLock<std::result::Result<Arc<CompiledModule>, String>>; CodeVariant::COUNT],
}

impl SharedModule {
    pub(crate) fn of(compilation: Compilation) -> SharedModule {
        let Compilation { module, code } = compilation;
        SharedModule {
            module,
            code: code.map_err(|e| format!("cranewasm: cannot generate code for a valid module: {e}")),
            variants: Default::default(),
        }
    }
}

/// What a compiled module is cached under (see the module docs).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key {
    hash: u64,
    options: CompileOptions,
    features: u64,
}

impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // `hash` already mixes the bytes; options and features are compared on lookup.
        state.write_u64(self.hash);
    }
}

/// Marks a compile under way for a key: others compiling the same key wait on it.
#[derive(Default)]
struct Pending {
    done: Mutex<bool>,
    finished: Condvar,
}

impl Pending {
    fn wait(&self) {
        let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        while !*done {
            done = self.finished.wait(done).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn finish(&self) {
        *self.done.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.finished.notify_all();
    }
}

#[derive(Default)]
struct Cache {
    entries: HashMap<Key, Vec<Weak<SharedModule>>>,
    pending: HashMap<Key, Arc<Pending>>,
    /// Entries (weak references) after the last sweep: the next sweep comes at twice as many.
    swept_at: usize,
    stats: Stats,
}

/// What the cache did since the process started (`cranewasm/engine`'s `moduleCacheStats`).
#[derive(Clone, Copy, Default)]
pub(crate) struct Stats {
    /// Compiles that reused a live module's code.
    pub hits: u64,
    /// Compiles that compiled (the bytes were not cached, or a streaming compile).
    pub misses: u64,
}

impl Cache {
    fn find(&self, key: &Key, bytes: &[u8]) -> Option<Arc<SharedModule>> {
        self.entries
            .get(key)?
            .iter()
            .filter_map(Weak::upgrade)
            .find(|m| &*m.module.bytes == bytes)
    }

    fn insert(&mut self, key: Key, module: &Arc<SharedModule>) {
        let bucket = self.entries.entry(key).or_default();
        bucket.retain(|w| w.strong_count() > 0);
        bucket.push(Arc::downgrade(module));
        let count = self.entries.len();
        if count > 64 && count > 2 * self.swept_at {
            self.entries.retain(|_, bucket| {
                bucket.retain(|w| w.strong_count() > 0);
                !bucket.is_empty()
            });
            self.swept_at = self.entries.len();
        }
    }

    fn live(&self) -> usize {
        self.entries.values().flatten().filter(|w| w.strong_count() > 0).count()
    }
}

fn cache() -> std::sync::MutexGuard<'static, Cache> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    CACHE.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner())
}

fn key(bytes: &[u8], options: CompileOptions) -> Key {
    // The persistent cache's hash of the bytes (fixed seed): the disk lookup reuses it.
    let hash = crate::disk_cache::content_hash(bytes);
    Key { hash, options, features: engine::compiler::features().bits() as u64 }
}

/// Removes the pending mark of a compile and wakes its waiters, also if the compile panics.
struct PendingGuard {
    key: Key,
    pending: Arc<Pending>,
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        cache().pending.remove(&self.key);
        self.pending.finish();
    }
}

/// Compiles `bytes` with the options of the moment, or reuses the code of a live module
/// compiled from the same bytes with the same options.
pub(crate) fn compile(bytes: &[u8]) -> std::result::Result<Arc<SharedModule>, engine::CompileError> {
    let options = engine::compiler::options();
    let key = key(bytes, options);
    compile_keyed(bytes, key, || compile_or_load(bytes, None, key.hash, options))
}

/// [`compile`] of a copy of the bytes made for the module to keep (`compile()`'s, on the JS
/// thread): compiled, the module keeps it instead of a second copy. `key`: the bytes' key, when
/// [`find`] has just computed it for them (hashing a large module's bytes again is ~0.5 ms of
/// compile()'s critical path before validation starts); else it is computed here with the
/// options of the moment.
pub(crate) fn compile_shared(bytes: Arc<[u8]>, key: Option<Key>) -> std::result::Result<Arc<SharedModule>, engine::CompileError> {
    let key = key.unwrap_or_else(|| self::key(&bytes, engine::compiler::options()));
    compile_keyed(&bytes, key, || compile_or_load(&bytes, Some(bytes.clone()), key.hash, key.options))
}

/// What `compile()` finds for its bytes on the JS thread, before copying them.
pub(crate) enum Found {
    /// A live module compiled from them.
    Live(Arc<SharedModule>),
    /// The persistent cache's entry, holding the same bytes: the worker thread compiles from
    /// it ([`compile_entry`]), so they need no copy.
    Entry(EntryJob),
    /// Neither: the bytes' key (with the options of the moment), for [`compile_shared`] of
    /// their copy.
    Missing(Key),
}

/// A compile from a persistent cache entry ([`Found::Entry`]).
pub(crate) struct EntryJob {
    probe: crate::disk_cache::Probe,
    key: Key,
}

/// The live module compiled from `bytes` with the options of the moment, or else the
/// persistent cache's entry for them, or else their key: `compile()` asks on the JS thread
/// before copying the bytes for its worker thread (a copy of a large module costs several ms
/// there).
pub(crate) fn find(bytes: &[u8]) -> Found {
    let options = engine::compiler::options();
    let key = key(bytes, options);
    {
        let mut cache = cache();
        if let Some(module) = cache.find(&key, bytes) {
            cache.stats.hits += 1;
            return Found::Live(module);
        }
    }
    match crate::disk_cache::probe(bytes, key.hash, options) {
        Some(probe) => Found::Entry(EntryJob { probe, key }),
        None => Found::Missing(key),
    }
}

/// [`compile`] of the bytes a persistent cache entry holds, from that entry (on a worker
/// thread; [`find`] made the job): the same as compiling the bytes the entry was found for.
pub(crate) fn compile_entry(job: EntryJob) -> std::result::Result<Arc<SharedModule>, engine::CompileError> {
    let EntryJob { probe, key } = job;
    let bytes = probe.wasm();
    compile_keyed(bytes, key, || {
        let (entry, cached) = crate::disk_cache::load_probe(&probe, key.options);
        let loaded = cached.is_some();
        let compilation = match cached {
            Some(compilation) => compilation,
            None => engine::compiler::compile_with_options(bytes, key.options)?,
        };
        let shared = Arc::new(SharedModule::of(compilation));
        if let Ok(code) = &shared.code {
            crate::disk_cache::track(code, entry, loaded);
        }
        Ok(shared)
    })
}

/// Compiles `bytes` (whose key is `key`) with `compile`, unless a live module has them or
/// another thread is compiling them (then this one waits and takes its result).
fn compile_keyed(
    bytes: &[u8],
    key: Key,
    compile: impl FnOnce() -> std::result::Result<Arc<SharedModule>, engine::CompileError>,
) -> std::result::Result<Arc<SharedModule>, engine::CompileError> {
    let guard = loop {
        let mut cache = cache();
        if let Some(module) = cache.find(&key, bytes) {
            cache.stats.hits += 1;
            return Ok(module);
        }
        if let Some(pending) = cache.pending.get(&key).cloned() {
            drop(cache);
            pending.wait();
            continue;
        }
        let pending = Arc::new(Pending::default());
        cache.pending.insert(key, pending.clone());
        break PendingGuard { key, pending };
    };
    let compiled = compile();
    {
        let mut cache = cache();
        cache.stats.misses += 1;
        if let Ok(module) = &compiled {
            cache.insert(key, module);
        }
    }
    drop(guard);
    compiled
}

/// `bytes` compiled with `options`, starting from the persistent cache's entry if it has one
/// (`disk_cache`); the module is then tracked so that its entry stays current.
fn compile_or_load(
    bytes: &[u8],
    owned: Option<Arc<[u8]>>,
    content: u64,
    options: CompileOptions,
) -> std::result::Result<Arc<SharedModule>, engine::CompileError> {
    let compile = || match owned {
        Some(owned) => engine::compiler::compile_shared_with_options(owned, options),
        None => engine::compiler::compile_with_options(bytes, options),
    };
    let Some((entry, cached)) = crate::disk_cache::load(bytes, content, options) else {
        return compile().map(|c| Arc::new(SharedModule::of(c)));
    };
    let loaded = cached.is_some();
    let compilation = match cached {
        Some(compilation) => compilation,
        None => compile()?,
    };
    let shared = Arc::new(SharedModule::of(compilation));
    if let Ok(code) = &shared.code {
        crate::disk_cache::track(code, entry, loaded);
    }
    Ok(shared)
}

/// The module a streaming compile produced, published for later compiles of the same bytes; if
/// an equal module is alive by now, that one (so both share one tier-up state).
pub(crate) fn publish(
    compilation: std::result::Result<Compilation, engine::CompileError>,
    options: CompileOptions,
) -> std::result::Result<Arc<SharedModule>, engine::CompileError> {
    let compilation = compilation?;
    let key = key(&compilation.module.bytes, options);
    let mut cache = cache();
    cache.stats.misses += 1;
    if let Some(module) = cache.find(&key, &compilation.module.bytes) {
        return Ok(module);
    }
    drop(cache);
    // The persistent cache's code, if it has the module: better than what streaming compiled.
    let (compilation, entry) = match crate::disk_cache::load(&compilation.module.bytes, key.hash, options) {
        Some((entry, Some(cached))) => (cached, Some((entry, true))),
        Some((entry, None)) => (compilation, Some((entry, false))),
        None => (compilation, None),
    };
    let module = Arc::new(SharedModule::of(compilation));
    if let (Some((entry, loaded)), Ok(code)) = (entry, &module.code) {
        crate::disk_cache::track(code, entry, loaded);
    }
    let mut cache = self::cache();
    if let Some(found) = cache.find(&key, &module.module.bytes) {
        return Ok(found);
    }
    cache.insert(key, &module);
    Ok(module)
}

/// The counts so far and the number of live cached modules.
pub(crate) fn stats() -> (Stats, usize) {
    let cache = cache();
    (cache.stats, cache.live())
}

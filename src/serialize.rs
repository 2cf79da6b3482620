//! `cranewasm/engine`'s `serialize(module)` and `deserialize(bytes)`: the engine's
//! `compiler::serialize`, reached from JS. The format and what it checks: that module.

use std::sync::Arc;

use cranewasm_engine as engine;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::module_cache::SharedModule;
use crate::NativeModule;

/// Why `deserialize` refused its bytes: `kind` is one of format, corrupt, build, cpu, options
/// (engine.js makes it a `DeserializeError`).
#[napi(object)]
pub struct DeserializeFailure {
    pub kind: String,
    pub message: String,
}

/// The module's wasm bytes and the code its functions run now (`serialize(module)`).
#[napi]
pub fn serialize_module(module: &NativeModule) -> Result<Buffer> {
    let compiled = module.code.as_ref().map_err(|e| Error::from_reason(e.clone()))?;
    Ok(engine::compiler::serialize::serialize(compiled).into())
}

/// A module from serialized bytes, with the code they hold installed, or why not.
#[napi]
pub fn deserialize_module(env: Env, bytes: &[u8]) -> Either<NativeModule, DeserializeFailure> {
    match deserialize(bytes) {
        Ok(shared) => Either::A(NativeModule::new(&env, shared)),
        Err(e) => Either::B(DeserializeFailure { kind: e.kind.as_str().to_string(), message: e.message }),
    }
}

/// A shared module from serialized bytes, for a process compiling with the options of the
/// moment.
pub(crate) fn deserialize(
    bytes: &[u8],
) -> std::result::Result<Arc<SharedModule>, engine::compiler::serialize::DeserializeError> {
    let options = engine::compiler::options();
    let compilation = engine::compiler::serialize::deserialize(bytes, options)?;
    Ok(Arc::new(SharedModule::of(compilation)))
}

/// The persistent code cache's settings (`cranewasm/engine`'s `setCacheDirectory`,
/// `getCacheDirectory`).
#[napi(object)]
pub struct CacheSettings {
    /// The directory, or null when the cache is off.
    pub directory: Option<String>,
    pub max_size: f64,
}

fn cache_settings() -> CacheSettings {
    match crate::disk_cache::directory() {
        Some((directory, max_size)) => CacheSettings { directory: Some(directory), max_size: max_size as f64 },
        None => CacheSettings { directory: None, max_size: crate::disk_cache::DEFAULT_MAX_SIZE as f64 },
    }
}

/// Turns the persistent cache on in `directory` (created when first written) with a size bound
/// of `max_size` bytes, or off (`directory` null). engine.js has checked both.
#[napi]
pub fn set_cache_directory(directory: Option<String>, max_size: f64) -> CacheSettings {
    let max_size = if max_size.is_finite() && max_size >= 1.0 { max_size as u64 } else { crate::disk_cache::DEFAULT_MAX_SIZE };
    crate::disk_cache::set_directory(directory, max_size);
    cache_settings()
}

#[napi]
pub fn get_cache_directory() -> CacheSettings {
    cache_settings()
}

/// What the persistent cache did since the process started (`cacheStats()`).
#[napi(object)]
pub struct CacheStats {
    /// Compiles that started from an entry's code.
    pub hits: f64,
    /// Compiles that found no entry.
    pub misses: f64,
    /// Entries found damaged or unusable (ignored, then rewritten).
    pub damaged: f64,
    /// Entries written.
    pub writes: f64,
    /// Entries removed to keep the directory within its size.
    pub evictions: f64,
    /// Writes that failed (the first one stops writing, with a warning).
    pub failures: f64,
}

#[napi]
pub fn cache_stats() -> CacheStats {
    use std::sync::atomic::Ordering::Relaxed;
    let s = crate::disk_cache::stats();
    CacheStats {
        hits: s.hits.load(Relaxed) as f64,
        misses: s.misses.load(Relaxed) as f64,
        damaged: s.damaged.load(Relaxed) as f64,
        writes: s.writes.load(Relaxed) as f64,
        evictions: s.evictions.load(Relaxed) as f64,
        failures: s.failures.load(Relaxed) as f64,
    }
}

/// The cache's warning, once per process (index.js emits it as a process warning).
#[napi]
pub fn take_cache_warning() -> Option<String> {
    crate::disk_cache::take_warning()
}

/// Writes the cache entries not yet current (the process is exiting: binding.js calls it from
/// `process.on('exit')`, after `shutdown`); returns the cache's warning if one is still to be
/// shown.
#[napi]
pub fn flush_code_cache() -> Option<String> {
    crate::disk_cache::flush();
    crate::disk_cache::take_warning()
}

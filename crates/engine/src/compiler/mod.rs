//! From bytes to a validated [`Module`] and its code: the pipeline of the seed's
//! AsyncCompileJob. (1) decode the module and validate its sections in order, collecting
//! function bodies (`decode`, incrementally for `streaming`); (2) validate the function bodies
//! in parallel; (3) [`finish`]: code as the module's options say, lazily or eagerly, with tier-up
//! (`tiering`). The entry and exit trampolines between the host and wasm code are generated
//! here too (`trampolines`), once per signature.

pub mod codegen;
mod decode;
mod error;
mod fast_validation;
pub use fast_validation::verdicts as fast_validation_verdicts;
mod function_validation;
pub mod options;
pub mod streaming;
pub mod module_code;
pub mod serialize;
pub mod tier;
pub mod tiering;
pub mod trampolines;

use std::sync::Arc;

pub use error::{CompileError, ErrorKind};
pub use options::{foreground_pool, options, pool, set_options, CompileOptions, TierUp};

use crate::module::Module;
pub use module_code::{CompileStatus, ModuleCode};
pub use tiering::CompiledModule;

/// What the engine accepts: the WebAssembly 2.0 feature set (MVP, mutable globals, sign
/// extension, non-trapping float-to-int, multi-value, bulk memory, reference types, fixed-width
/// SIMD) and, of 3.0, extended constant expressions, tail calls, typed function references,
/// relaxed SIMD, multi-memory and memory64 (64-bit memories and tables), less what
/// `CRANEWASM_DISABLE_FEATURES` turns off for this process ([`DISABLABLE_FEATURES`]).
pub fn features() -> wasmparser::WasmFeatures {
    static FEATURES: std::sync::OnceLock<wasmparser::WasmFeatures> = std::sync::OnceLock::new();
    *FEATURES.get_or_init(|| {
        let mut features = all_features();
        // environment.js has checked the value when cranewasm was loaded: unknown names are
        // refused there, so here they can only be ignored.
        if let Ok(names) = std::env::var("CRANEWASM_DISABLE_FEATURES") {
            for name in names.split(',').map(|n| n.trim().to_ascii_lowercase()) {
                if let Some((_, feature)) = DISABLABLE_FEATURES.iter().find(|(n, _)| *n == name) {
                    features.remove(*feature);
                }
            }
        }
        features
    })
}

/// The features `CRANEWASM_DISABLE_FEATURES` may turn off, by name: those whose absence makes
/// modules invalid that the full set accepts, for running code (or test scripts) written for an
/// engine without them. The threads proposal's scripts, for one, predate multi-memory and expect
/// modules with two memories to be invalid.
pub const DISABLABLE_FEATURES: [(&str, wasmparser::WasmFeatures); 1] =
    [("multi-memory", wasmparser::WasmFeatures::MULTI_MEMORY)];

fn all_features() -> wasmparser::WasmFeatures {
    wasmparser::WasmFeatures::WASM2
        | wasmparser::WasmFeatures::EXTENDED_CONST
        | wasmparser::WasmFeatures::TAIL_CALL
        | wasmparser::WasmFeatures::FUNCTION_REFERENCES
        | wasmparser::WasmFeatures::RELAXED_SIMD
        // GC: for what 3.0 has without a GC runtime (recursion groups, `sub`/`sub final`
        // function types, `global.get` of earlier immutable globals in constant expressions).
        // What needs a GC runtime is refused in `decode` (types) and in bodies (validated
        // without GC): see `decode::record_types`.
        | wasmparser::WasmFeatures::GC
        | wasmparser::WasmFeatures::MULTI_MEMORY
        | wasmparser::WasmFeatures::MEMORY64
        | wasmparser::WasmFeatures::EXCEPTIONS
        | wasmparser::WasmFeatures::LEGACY_EXCEPTIONS
        | wasmparser::WasmFeatures::THREADS
}

/// The same set (kept for the translator's tests, which name SIMD explicitly).
pub fn features_with_simd() -> wasmparser::WasmFeatures {
    wasmparser::WasmFeatures::WASM2
}

/// Decodes and fully validates `bytes`. Never panics on any input.
pub fn compile(bytes: &[u8]) -> Result<Arc<Module>, CompileError> {
    compile_with_features(bytes, features())
}

/// [`compile`] under another feature set (the translator's tests use SIMD).
pub fn compile_with_features(
    bytes: &[u8],
    features: wasmparser::WasmFeatures,
) -> Result<Arc<Module>, CompileError> {
    decode_and_validate(bytes, features)
}

fn decode_and_validate(
    bytes: &[u8],
    features: wasmparser::WasmFeatures,
) -> Result<Arc<Module>, CompileError> {
    options::on_pool(|| function_validation::decode_and_validate(bytes, None, features)).map(Arc::new)
}

/// Decodes `bytes` (every section read, none validated again) without validating the function
/// bodies: only for
/// bytes known to be a valid module, as the persistent cache's entries are
/// (`serialize::deserialize_cached`).
fn decode_trusted(
    bytes: &[u8],
    features: wasmparser::WasmFeatures,
) -> Result<Arc<Module>, CompileError> {
    // The module's copy of the bytes (14 MB for esbuild.wasm: a page fault per 4 KB) is made
    // beside the decoding, by a pool thread that is free (the caller is on the pool).
    let (decoded, copy) = rayon::join(|| decode::decode_module_trusted(bytes, features), || crate::runtime::copy_bytes(bytes));
    let mut module = decoded?;
    if module.bodies.len() != module.functions.len().saturating_sub(module.num_imported_functions as usize) {
        return Err(CompileError::invalid("function and code section counts differ".to_string(), 0));
    }
    module.bytes = copy;
    Ok(Arc::new(module))
}

/// A validated module and its machine code, or why code generation failed for a valid module
/// (an instruction the code generator does not support yet).
pub struct Compilation {
    pub module: Arc<Module>,
    pub code: Result<Arc<CompiledModule>, CompileError>,
}

/// Validates `bytes` (an invalid module is the outer error) and compiles every function for
/// `tier` in parallel on the rayon pool, placing the code in executable memory.
pub fn compile_for_execution(
    bytes: &[u8],
    tier: codegen::Tier,
) -> Result<Compilation, CompileError> {
    let options = CompileOptions {
        lazy: false,
        first_tier: tier,
        tier_up: TierUp::Off,
        ..options::options()
    };
    compile_with_options(bytes, options)
}

/// Validates `bytes` and builds its code as `options` say (lazily: validation only).
pub fn compile_with_options(
    bytes: &[u8],
    options: CompileOptions,
) -> Result<Compilation, CompileError> {
    let module = options::on_pool(|| decode_and_validate(bytes, features()))?;
    compile_validated(module, options)
}

/// [`compile_with_options`] of bytes the caller has already copied for the module to keep (a
/// large module's copy is several ms; `compile()`'s caller makes one anyway).
pub fn compile_shared_with_options(
    bytes: Arc<[u8]>,
    options: CompileOptions,
) -> Result<Compilation, CompileError> {
    let module = options::on_pool(|| function_validation::decode_and_validate(&bytes, Some(bytes.clone()), features()))?;
    compile_validated(Arc::new(module), options)
}

fn compile_validated(module: Arc<Module>, options: CompileOptions) -> Result<Compilation, CompileError> {
    // Cranelift lowers vector rounding (and scalar `ceil`/`floor`/`trunc`/`nearest`) with
    // SSE4.1 instructions; without them it would need library calls generated code cannot make.
    if !std::arch::is_x86_feature_detected!("sse4.1") {
        let code = Err(CompileError::unsupported("cranewasm needs an x86-64 CPU with SSE4.1", 0));
        return Ok(Compilation { module, code });
    }
    trampolines::warm_in_background(module.clone());
    let code = finish(module.clone(), Vec::new(), options);
    Ok(Compilation { module, code })
}

/// [`compile_for_execution`], with a code generation failure as the error.
pub fn compile_module(
    bytes: &[u8],
    tier: codegen::Tier,
) -> Result<Arc<CompiledModule>, CompileError> {
    compile_for_execution(bytes, tier)?.code
}

/// One compile unit: defined function `index` (function index space) of `module`, translated
/// and compiled for `tier`. A failure (an engine bug or an unsupported instruction: the body is
/// valid) names the function.
pub fn compile_unit(
    module: &Module,
    index: u32,
    body: &wasmparser::FunctionBody<'_>,
    tier: codegen::Tier,
    options: &CompileOptions,
) -> Result<Arc<codegen::CompiledFunction>, CompileError> {
    let function = || Some((index, module.function_name(index).map(str::to_string)));
    // A Cranelift error for valid code is an engine bug.
    let failed = |message: String| CompileError {
        message,
        offset: body.range().start,
        function: function(),
        kind: ErrorKind::Internal,
    };
    // The translator says whether the operator is unsupported or the engine has a bug, and
    // where; an error without an operator is placed at the body's start.
    let untranslated = |error: crate::translate::TranslateError| CompileError {
        message: error.to_string(),
        offset: error.offset().unwrap_or(body.range().start),
        function: function(),
        kind: match error {
            crate::translate::TranslateError::Unsupported { .. } => ErrorKind::Unsupported,
            crate::translate::TranslateError::EngineBug { .. } => ErrorKind::Internal,
        },
    };
    // Baseline code that will be replaced compiles for speed of compilation: locals in stack
    // slots; with dynamic tier-up it also counts its calls and loop iterations.
    let replaced = tier < tier::Tier::TOP && options.tiers_up();
    let dynamic = replaced && options.tier_up == TierUp::Dynamic;
    let size = body.range().end.saturating_sub(body.range().start) as usize;
    let translate = crate::translate::TranslateOptions {
        tiering_cost: dynamic.then(|| tiering::tiering_cost(size)),
        locals_in_slots: replaced,
        interrupt_checks: options.interrupt_checks,
        fuel: options.fuel,
        bounds_checks: options.bounds_checks,
    };
    match tier.backend() {
        tier::Backend::Cranelift => {
            let func = crate::translate::translate_function_with(module, index, body, translate)
                .map_err(untranslated)?;
            codegen::compile_function(func, tier).map_err(failed)
        }
        tier::Backend::Singlepass => {
            let singlepass = crate::singlepass::Options {
                tiering_cost: translate.tiering_cost,
                interrupt_checks: translate.interrupt_checks,
                fuel: translate.fuel,
                bounds_checks: translate.bounds_checks,
            };
            // A panic in the single-pass compiler (a bug) must not cross into the host: the
            // function falls back to the baseline tier instead.
            let compiled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                crate::singlepass::compile(module, index, body, singlepass)
            }))
            .unwrap_or_else(|_| Err(crate::singlepass::Fallback("internal error".into())));
            match compiled {
                Ok(out) => Ok(Arc::new(codegen::CompiledFunction {
                    code: out.code,
                    traps: out.traps,
                    sources: out.sources,
                    exception_sites: out.exceptions,
                    tier,
                    cheaper_settings: false,
                })),
                // What the single-pass compiler does not cover, Cranelift's baseline compiles
                // (Liftoff's bailout to TurboFan): the code counts as baseline code.
                Err(crate::singlepass::Fallback(why)) => {
                    // A developer's aid: which operators keep functions off the single-pass
                    // tier (`CRANEWASM_SINGLEPASS_FALLBACKS=1`, one line per function).
                    if report_fallbacks() {
                        eprintln!("cranewasm single-pass fallback: function {index}: {why}");
                    }
                    let func = crate::translate::translate_function_with(module, index, body, translate)
                        .map_err(untranslated)?;
                    codegen::compile_function(func, tier::Tier::Baseline).map_err(failed)
                }
            }
        }
    }
}

/// Whether `CRANEWASM_SINGLEPASS_FALLBACKS` is on (environment.js's flag spellings), read once.
fn report_fallbacks() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| {
        let value = std::env::var("CRANEWASM_SINGLEPASS_FALLBACKS").map(|v| v.trim().to_ascii_lowercase());
        matches!(value.as_deref(), Ok("1" | "true" | "yes" | "on"))
    })
}

/// The last step of every compile job: a validated `module` (all its bytes and bodies
/// recorded) becomes a [`CompiledModule`] as `options` say. `precompiled[i]`, where present,
/// is defined function `i` already compiled for `options.first_tier` (the streaming job
/// compiles bodies as they arrive); `precompiled` may be shorter than the function count.
pub fn finish(
    module: Arc<Module>,
    precompiled: Vec<Option<Arc<codegen::CompiledFunction>>>,
    options: CompileOptions,
) -> Result<Arc<CompiledModule>, CompileError> {
    CompiledModule::build(module, precompiled, options)
}

/// `WebAssembly.validate`: whether `bytes` are a valid module under [`features`].
pub fn validate(bytes: &[u8]) -> bool {
    compile(bytes).is_ok()
}

/// The features beyond the MVP (with mutable globals, its first revision) that `bytes` uses:
/// each one without which the module does not validate, by its name in the spec's proposals.
/// `None` when `bytes` are not a valid module. For `cranewasm inspect`: it validates the module
/// once per feature the engine accepts. (The list names every feature of WebAssembly 3.0; those
/// the engine does not accept are never reported.)
pub fn used_features(bytes: &[u8]) -> Option<Vec<&'static str>> {
    use wasmparser::{Validator, WasmFeatures as F};
    const NAMED: [(F, &str); 17] = [
        (F::MUTABLE_GLOBAL, "mutable-globals"),
        (F::SIGN_EXTENSION, "sign-extension-ops"),
        (F::SATURATING_FLOAT_TO_INT, "nontrapping-float-to-int-conversions"),
        (F::MULTI_VALUE, "multi-value"),
        (F::BULK_MEMORY, "bulk-memory"),
        (F::REFERENCE_TYPES, "reference-types"),
        (F::SIMD, "simd"),
        (F::EXTENDED_CONST, "extended-const"),
        (F::TAIL_CALL, "tail-call"),
        (F::MULTI_MEMORY, "multi-memory"),
        (F::MEMORY64, "memory64"),
        (F::EXCEPTIONS, "exception-handling"),
        (F::LEGACY_EXCEPTIONS, "legacy-exception-handling"),
        (F::THREADS, "threads"),
        (F::RELAXED_SIMD, "relaxed-simd"),
        (F::FUNCTION_REFERENCES, "function-references"),
        (F::GC, "gc"),
    ];
    if !validate(bytes) {
        return None;
    }
    let accepted = features();
    let valid_without = |feature: F| {
        Validator::new_with_features(accepted.difference(feature))
            .validate_all(bytes)
            .is_ok()
    };
    Some(
        NAMED
            .iter()
            .filter(|(feature, _)| accepted.contains(*feature) && !valid_without(*feature))
            .map(|(_, name)| *name)
            .collect(),
    )
}

#[cfg(test)]
mod tests;

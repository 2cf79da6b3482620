//! From bytes to a validated [`Module`]: the pipeline of the seed's AsyncCompileJob, run
//! synchronously for now. (1) decode the module and validate its sections in order, collecting
//! function bodies; (2) validate the function bodies in parallel; code generation and the
//! background tiers join here as the engine grows.

pub mod codegen;
mod decode;
mod error;
mod function_validation;

use std::sync::Arc;

pub use error::CompileError;

use crate::module::Module;

/// The WebAssembly 2.0 feature set: MVP, mutable globals, sign extension, non-trapping
/// float-to-int, multi-value, bulk memory, reference types and fixed-width SIMD.
pub fn features() -> wasmparser::WasmFeatures {
    wasmparser::WasmFeatures::WASM2
}

/// Decodes and fully validates `bytes`. Never panics on any input.
pub fn compile(bytes: &[u8]) -> Result<Arc<Module>, CompileError> {
    let decoded = decode::decode_module(bytes)?;
    let mut module = decoded.module;
    function_validation::validate_bodies(&module, decoded.bodies, decoded.section_error)?;
    module.bytes = Arc::from(bytes);
    Ok(Arc::new(module))
}

/// `WebAssembly.validate`: whether `bytes` are a valid module under [`features`].
pub fn validate(bytes: &[u8]) -> bool {
    compile(bytes).is_ok()
}

#[cfg(test)]
mod tests;

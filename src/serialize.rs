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
pub fn deserialize_module(bytes: &[u8]) -> Either<NativeModule, DeserializeFailure> {
    match deserialize(bytes) {
        Ok(shared) => Either::A(NativeModule { shared }),
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

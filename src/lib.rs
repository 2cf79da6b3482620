//! The napi binding: converts JS values to engine calls and back, and nothing else. The public
//! `WebAssembly` namespace (argument checks, error classes, WebIDL shape) is `index.js`; this
//! layer is what it calls. Compilation returns either a [`NativeModule`] or the message of the
//! `WebAssembly.CompileError` that index.js throws.

use std::sync::Arc;

use cranewasm_engine as engine;
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// A compiled module, or the CompileError message for the module's bytes.
type CompileOutcome = Either<NativeModule, String>;

fn outcome(result: std::result::Result<Arc<engine::Module>, engine::CompileError>) -> CompileOutcome {
    match result {
        Ok(module) => Either::A(NativeModule { module }),
        Err(err) => Either::B(err.to_string()),
    }
}

/// `WebAssembly.validate` on bytes index.js has already taken from a BufferSource.
#[napi]
pub fn validate(bytes: &[u8]) -> bool {
    engine::validate(bytes)
}

/// Synchronous compile (`new WebAssembly.Module`).
#[napi]
pub fn compile_sync(bytes: &[u8]) -> CompileOutcome {
    outcome(engine::compile(bytes))
}

/// Compile on a libuv worker thread; the promise settles on the JS thread. `bytes` must be a
/// copy that nothing else writes to (index.js makes one).
#[napi]
pub fn compile_async(bytes: Uint8Array) -> AsyncTask<CompileTask> {
    AsyncTask::new(CompileTask { bytes })
}

pub struct CompileTask {
    bytes: Uint8Array,
}

impl Task for CompileTask {
    type Output = std::result::Result<Arc<engine::Module>, engine::CompileError>;
    type JsValue = CompileOutcome;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(engine::compile(&self.bytes))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(outcome(output))
    }
}

/// A compiled module, held by a `WebAssembly.Module` object.
#[napi]
pub struct NativeModule {
    module: Arc<engine::Module>,
}
#[napi(object)]
pub struct ImportDescriptor {
    pub module: String,
    pub name: String,
    pub kind: String,
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
            .map(|i| ImportDescriptor {
                module: i.module.clone(),
                name: i.name.clone(),
                kind: i.ty.kind().as_str().to_string(),
            })
            .collect()
    }

    /// `WebAssembly.Module.exports()` descriptors, in module order.
    #[napi]
    pub fn exports(&self) -> Vec<ExportDescriptor> {
        let exports = self.module.exports.iter();
        exports.map(|e| ExportDescriptor { name: e.name.clone(), kind: e.kind.as_str().to_string() }).collect()
    }

    /// Fresh copies of the payloads of the custom sections called `name`.
    #[napi]
    pub fn custom_sections<'env>(&self, env: &'env Env, name: String) -> Result<Vec<ArrayBuffer<'env>>> {
        let sections = self.module.custom_sections_named(&name);
        sections.map(|data| ArrayBuffer::from_data(env, data.to_vec())).collect()
    }
}

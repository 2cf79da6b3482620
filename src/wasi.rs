//! WASI preview 1 for `cranewasm/wasi` (wasi.js): the program's state and functions live in the
//! engine (`runtime::wasi`); this exposes them as exported-function objects, which an instance
//! importing them links directly (wasm calls them through their exit trampolines, not JS).

use std::sync::Arc;

use cranewasm_engine::compiler::trampolines;
use cranewasm_engine::runtime::instance::Function;
use cranewasm_engine::runtime::wasi::Wasi;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::functions;
use crate::objects::{js_of_realm, raw_result, NativeMemory, Raw};
use crate::NativeRealm;

#[napi(object)]
pub struct WasiImportEntry {
    pub name: String,
    pub value: Raw,
}

#[napi]
pub struct NativeWasi {
    wasi: Arc<Wasi>,
}

#[napi]
impl NativeWasi {
    /// `env` as `KEY=VALUE` strings; `stdio` the host fds of the program's fds 0, 1 and 2.
    #[napi(constructor)]
    /// `preopens` as (guest path, host directory) pairs, flattened.
    pub fn new(args: Vec<String>, env: Vec<String>, preopens: Vec<String>, stdio: Vec<i32>, unstable: bool) -> Result<NativeWasi> {
        let stdio: [i32; 3] = stdio
            .try_into()
            .map_err(|_| Error::new(Status::InvalidArg, "cranewasm: stdio must be three fds"))?;
        let wasi = Wasi::new(args, env, stdio, unstable);
        for pair in preopens.chunks(2) {
            if let [guest, host] = pair {
                wasi.preopen(guest, host).map_err(|e| Error::new(Status::GenericFailure, e))?;
            }
        }
        Ok(NativeWasi { wasi })
    }

    /// The WASI functions, by name, as function objects of `realm`.
    #[napi]
    pub fn imports(&self, env: Env, realm: &NativeRealm) -> Result<Vec<WasiImportEntry>> {
        let js = js_of_realm(&env, &realm.realm);
        let hosts = cranewasm_engine::runtime::wasi::host_functions(&self.wasi, trampolines::for_signature)
            .map_err(|e| Error::new(Status::GenericFailure, format!("cranewasm: {e}")))?;
        let mut entries = Vec::with_capacity(hosts.len());
        for (name, host) in hosts {
            let value = raw_result(functions::js_function(&js, Function::host(host), Some(0)))?;
            entries.push(WasiImportEntry { name: name.into(), value: Raw(value) });
        }
        Ok(entries)
    }

    /// Binds the memory the functions read and write (None: unbind).
    #[napi]
    pub fn set_memory(&self, memory: Option<&NativeMemory>) {
        self.wasi.set_memory(memory.map(|m| m.memory.clone()));
    }
}

//! The process-wide registry of canonical signature ids: structurally equal function types get
//! the same id in every module, so `call_indirect` and imports check a signature with one
//! integer compare, across modules.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use wasmparser::FuncType;

/// The canonical id of `ty`. Ids start at 1 so that 0 never matches a real signature.
pub fn canonical_id(ty: &FuncType) -> u32 {
    static REGISTRY: OnceLock<Mutex<HashMap<FuncType, u32>>> = OnceLock::new();
    let mut registry = REGISTRY
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let next = registry.len() as u32 + 1;
    *registry.entry(ty.clone()).or_insert(next)
}

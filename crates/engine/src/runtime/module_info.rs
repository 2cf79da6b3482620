//! What the runtime needs of a module's code, as a trait the runtime defines and the compiler
//! implements (`compiler::CompiledModule`; Wasmtime's `ModuleRuntimeInfo`): instances hold an
//! `Arc<dyn ModuleRuntimeInfo>`, so the runtime never names the compiler.
//!
//! Nothing here is on a call's path. An instance reads the code table, the entry points, the
//! type ids and the tiering budgets once, into its vmctx, when it is built; generated code then
//! reaches code through the vmctx and the module's dispatch block (`runtime::dispatch`, whose
//! lazy stubs call the compiler through a hook it installed). What is left goes through the
//! trait's vtable on slow paths: a function's tier-up budget running out (once per function),
//! and the trampolines of a start function.

use std::sync::atomic::AtomicI32;
use std::sync::Arc;

use wasmparser::FuncType;

use super::trampolines::Trampolines;
use crate::module::Module;

/// A module's code, as instances see it: shared by every instance of the module.
pub trait ModuleRuntimeInfo: Send + Sync {
    /// The module the code is of.
    fn module(&self) -> &Arc<Module>;

    /// Whether the code counts fuel (it must run in a metered sandbox: `runtime::sandbox`).
    fn metered(&self) -> bool;

    /// Whether the code checks the bounds of every memory access, so that it runs on memories
    /// without a guard reservation (`runtime::memory`).
    fn bounds_checked(&self) -> bool;

    /// Canonical signature ids by type index (`vmctx.type_ids`).
    fn type_ids(&self) -> &[u32];

    /// The code table generated code calls through (`vmctx.code_table`).
    fn code_table(&self) -> *const *const u8;

    /// The stable entry point of defined function `defined`: what funcrefs and imports call.
    fn entry(&self, defined: u32) -> *const u8;

    /// The dynamic tier-up budgets by defined index (`vmctx.tiering_budgets`), which first-tier
    /// code counts down.
    fn tiering_budgets(&self) -> *const AtomicI32;

    /// Defined function `defined`'s tier-up budget ran out: it is hot, queue it for the top
    /// tier (the `TierUpHot` libcall).
    fn request_tier_up(&self, defined: u32);

    /// The trampolines of signature `ty`.
    fn trampolines(&self, ty: &FuncType) -> Result<Arc<Trampolines>, String>;
}

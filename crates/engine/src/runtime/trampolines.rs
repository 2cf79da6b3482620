//! The two trampolines of a signature as the runtime holds and calls them. Values cross in
//! arrays of 16-byte slots, one per parameter or result, so the host side needs no code per
//! signature.
//!
//! - Entry: `extern "C" fn(callee_vmctx, callee_code, values)` loads the arguments from
//!   `values`, calls the wasm function and stores its results back into `values`.
//! - Exit: a function with the wasm calling convention of the signature, called with a
//!   `VMHostFuncContext` as its vmctx: it spills its arguments into a stack array, calls the
//!   context's callback, traps with `HostException` when the callback reports failure, and
//!   returns the results the callback left in the array.
//!
//! The compiler generates them (`compiler::trampolines`, once per signature, cached there: the
//! seed's JSToWasmWrapperCache); the runtime only receives their code, placed by
//! [`Trampolines::publish`]. Where the runtime needs a signature's trampolines itself (a start
//! function), it asks the module's code for them (`ModuleRuntimeInfo::trampolines`).

use std::sync::Arc;

use wasmparser::FuncType;

use super::code_memory::{self, CodeBlock, Placement};
use super::traps::EntryTrampoline;

/// The two trampolines of one signature.
pub struct Trampolines {
    ty: FuncType,
    entry: EntryTrampoline,
    /// Code with the wasm calling convention, to be called with a `VMHostFuncContext` vmctx.
    exit: *const u8,
    _code: Arc<CodeBlock>,
}

// SAFETY: the raw pointers point into `_code`, immutable read-execute memory kept alive by the
// struct itself; sharing them between threads is sharing immutable data.
unsafe impl Send for Trampolines {}
// SAFETY: as above.
unsafe impl Sync for Trampolines {}

impl Trampolines {
    /// Places the trampolines of `ty` in code memory: `entry` and `exit` are their machine code
    /// as `compiler::trampolines` generates it for `ty` (trusted as all generated code is: the
    /// entry has the [`EntryTrampoline`] signature, the exit the wasm signature of `ty`).
    pub fn publish(ty: FuncType, entry: Placement<'_>, exit: Placement<'_>) -> Result<Trampolines, String> {
        let (code, offsets) = code_memory::publish(vec![entry, exit])?;
        let base = code.start();
        // SAFETY: the code at offsets[0] is an entry trampoline, which has exactly this
        // signature (see above), and lives as long as `code`, which the struct keeps.
        let entry = unsafe { std::mem::transmute::<*const u8, EntryTrampoline>(base.add(offsets[0])) };
        // SAFETY: offsets[1] is within the published block.
        let exit = unsafe { base.add(offsets[1]) };
        Ok(Trampolines {
            ty,
            entry,
            exit,
            _code: code,
        })
    }

    /// The signature these are the trampolines of.
    pub fn ty(&self) -> &FuncType {
        &self.ty
    }

    /// The entry trampoline: how the host calls wasm code of this signature.
    pub fn entry(&self) -> EntryTrampoline {
        self.entry
    }

    /// The exit trampoline: the code of a host function of this signature.
    pub fn exit(&self) -> *const u8 {
        self.exit
    }
}

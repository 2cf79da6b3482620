//! Functions as generated code and the host see them: `VMFuncRef` (what funcrefs, tables and
//! imports point to), host functions with their `VMHostFuncContext`, the `Function` handle of
//! either, and the registry that tells which instance or host function a `VMFuncRef` address
//! belongs to. Instances (`instance.rs`) own the funcrefs of their functions.

use std::collections::BTreeMap;
use std::ffi::c_void;
use std::sync::{Arc, Mutex, Weak};

use wasmparser::FuncType;

use super::instance::Instance;
use super::sandbox::Sandbox;
use super::trampolines::Trampolines;
use super::traps::{self, Trap};
use crate::vmoffsets::{func_ref, host_func_context};

/// A function reference as generated code sees it. Layout is `vmoffsets::func_ref`.
#[repr(C)]
pub struct VMFuncRef {
    pub code: *const u8,
    pub vmctx: *mut u8,
    pub type_id: u32,
    pub(crate) _padding: u32,
}

const _: () = assert!(std::mem::size_of::<VMFuncRef>() == func_ref::SIZE as usize);

/// Called by an exit trampoline with the host context and the value slots; returns 0 when the
/// results are in the slots, non-zero when the call failed (a JS exception is pending).
pub type HostCallback = unsafe extern "C" fn(*mut VMHostFuncContext, *mut u128) -> u32;

/// The vmctx of a host function. Layout is `vmoffsets::host_func_context`.
#[repr(C)]
pub struct VMHostFuncContext {
    pub callback: HostCallback,
    pub data: *mut c_void,
}

const _: () = assert!(std::mem::size_of::<VMHostFuncContext>() == host_func_context::SIZE as usize);


/// Releases the host's data of a host function when the function is dropped. SAFETY: `unsafe`
/// because it takes ownership of a raw pointer; it is called once, with the data given to `new`.
pub type HostDataDrop = unsafe fn(*mut c_void);

/// A host function callable from wasm: its context, its funcref and its trampolines.
pub struct HostFunction {
    pub ty: FuncType,
    context: Box<VMHostFuncContext>,
    func_ref: Box<VMFuncRef>,
    drop_data: Option<HostDataDrop>,
    _trampolines: Arc<Trampolines>,
}

// ---- Which function a `VMFuncRef` address belongs to ------------------------------------------

/// The owner of a registered range of `VMFuncRef`s.
pub(crate) enum WeakOwner {
    Instance(Weak<Instance>),
    Host(Weak<HostFunction>),
}

/// Ranges of `VMFuncRef` addresses (start → (end, owner)): every instance's function references
/// and every host function's. Lets the host turn a funcref value that wasm hands out (from a
/// table, a global or a result) back into a [`Function`] that keeps its code alive.
static FUNC_REFS: Mutex<BTreeMap<usize, (usize, WeakOwner)>> = Mutex::new(BTreeMap::new());

fn func_refs() -> std::sync::MutexGuard<'static, BTreeMap<usize, (usize, WeakOwner)>> {
    FUNC_REFS.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn register_func_refs(start: usize, end: usize, owner: WeakOwner) {
    if end > start {
        func_refs().insert(start, (end, owner));
    }
}

pub(crate) fn unregister_func_refs(start: usize) {
    func_refs().remove(&start);
}

impl Drop for HostFunction {
    fn drop(&mut self) {
        unregister_func_refs(&*self.func_ref as *const VMFuncRef as usize);
        if let Some(drop_data) = self.drop_data {
            // SAFETY: the data was handed to `new` with this destructor; no wasm code can call
            // the function any more (nothing holds it).
            unsafe { drop_data(self.context.data) };
        }
    }
}


// SAFETY: the context's data pointer is the host's, used only on the host's thread; the rest
// points into boxes owned by the struct.
unsafe impl Send for HostFunction {}
// SAFETY: as above.
unsafe impl Sync for HostFunction {}

impl HostFunction {
    /// A host function of type `ty` that calls `callback` with `data`; `drop_data`, if given,
    /// runs with `data` when the function is dropped. `trampolines` are those of `ty` (the
    /// compiler's, `compiler::trampolines::for_signature`): wasm calls the exit trampoline.
    pub fn new(
        ty: FuncType,
        type_id: u32,
        callback: HostCallback,
        data: *mut c_void,
        drop_data: Option<HostDataDrop>,
        trampolines: Arc<Trampolines>,
    ) -> Result<Arc<HostFunction>, String> {
        if trampolines.ty() != &ty {
            return Err("the trampolines given to a host function are of another signature".into());
        }
        let mut context = Box::new(VMHostFuncContext { callback, data });
        let func_ref = Box::new(VMFuncRef {
            code: trampolines.exit(),
            vmctx: &mut *context as *mut VMHostFuncContext as *mut u8,
            type_id,
            _padding: 0,
        });
        let host = Arc::new(HostFunction {
            ty,
            context,
            func_ref,
            drop_data,
            _trampolines: trampolines,
        });
        let start = &*host.func_ref as *const VMFuncRef as usize;
        let end = start + func_ref::SIZE as usize;
        register_func_refs(start, end, WeakOwner::Host(Arc::downgrade(&host)));
        Ok(host)
    }

    pub fn data(&self) -> *mut c_void {
        self.context.data
    }

    /// The callback the function was made with: tells whose data `data` is.
    pub fn callback(&self) -> HostCallback {
        self.context.callback
    }
}

/// The owner of the `VMFuncRef` at `address`, if it is alive, with the address range of the
/// owner's function references.
pub fn func_ref_owner(address: usize) -> Option<(usize, usize, FunctionOwner)> {
    let (start, end, owner) = {
        let map = func_refs();
        let (start, (end, owner)) = map.range(..=address).next_back()?;
        if address >= *end {
            return None;
        }
        let owner = match owner {
            WeakOwner::Instance(w) => WeakOwner::Instance(w.clone()),
            WeakOwner::Host(w) => WeakOwner::Host(w.clone()),
        };
        (*start, *end, owner)
    };
    let owner = match owner {
        WeakOwner::Instance(w) => FunctionOwner::Instance(w.upgrade()?),
        WeakOwner::Host(w) => FunctionOwner::Host(w.upgrade()?),
    };
    Some((start, end, owner))
}

/// What keeps a function's code and vmctx alive.
#[derive(Clone)]
pub enum FunctionOwner {
    Instance(Arc<Instance>),
    Host(Arc<HostFunction>),
}

/// A callable function: wasm code of an instance, or a host function.
#[derive(Clone)]
pub struct Function {
    pub(crate) func_ref: *const VMFuncRef,
    pub owner: FunctionOwner,
}

// SAFETY: `func_ref` points into memory kept alive by `owner`.
unsafe impl Send for Function {}
// SAFETY: as above.
unsafe impl Sync for Function {}

impl Function {
    pub fn host(host: Arc<HostFunction>) -> Function {
        Function {
            func_ref: &*host.func_ref,
            owner: FunctionOwner::Host(host),
        }
    }

    /// The function whose `VMFuncRef` is at `func_ref` (a funcref value generated code produced),
    /// if its owner is still alive. A reference to an imported function's slot in an instance
    /// resolves to the imported function itself, so identity survives re-exports and `ref.func`.
    pub fn from_func_ref(func_ref: *const VMFuncRef) -> Option<Function> {
        match func_ref_owner(func_ref as usize)?.2 {
            FunctionOwner::Instance(instance) => {
                let index = instance.func_ref_index(func_ref);
                Some(instance.function(index))
            }
            FunctionOwner::Host(host) => Some(Function::host(host)),
        }
    }

    /// The `VMFuncRef` of this function: what funcref values and table elements hold.
    pub fn func_ref(&self) -> *const VMFuncRef {
        self.func_ref
    }

    /// The canonical signature id of the function's type (`runtime::signatures`).
    pub fn type_id(&self) -> u32 {
        // SAFETY: `func_ref` points at a VMFuncRef that lives as long as the function's owner,
        // which `self` keeps alive.
        unsafe { (*self.func_ref).type_id }
    }

    /// The function's index in its instance's function index space (None for host functions).
    pub fn index(&self) -> Option<u32> {
        match &self.owner {
            FunctionOwner::Host(_) => None,
            FunctionOwner::Instance(i) => Some(i.func_ref_index(self.func_ref)),
        }
    }

    pub fn ty(&self) -> &FuncType {
        match &self.owner {
            FunctionOwner::Host(h) => &h.ty,
            FunctionOwner::Instance(i) => {
                let index = i.func_ref_index(self.func_ref);
                i.module().func_type(index)
            }
        }
    }

    /// Calls the function with arguments in `values` (one 16-byte slot each); on success the
    /// slots hold the results.
    ///
    /// # Safety
    /// `values` must have max(params, results) slots holding arguments of the function's types,
    /// and `trampolines` must be the trampolines of its signature.
    // Inlined into the host's entries: one frame fewer per wasm->JS->wasm round trip.
    #[inline(always)]
    pub unsafe fn call(&self, trampolines: &Trampolines, values: &mut [u128]) -> Result<(), Trap> {
        // Code of a sandboxed instance runs under its sandbox's deadline and fuel.
        if let FunctionOwner::Instance(instance) = &self.owner {
            if let Some(sandbox) = instance.sandbox() {
                // SAFETY: the caller's contract.
                return unsafe { self.call_sandboxed(sandbox, trampolines, values) };
            }
        }
        // SAFETY: `func_ref` is alive (owner), its code has the signature of `trampolines`, and
        // the caller provides enough slots.
        unsafe {
            let f = &*self.func_ref;
            traps::call_wasm(trampolines.entry(), f.vmctx, f.code, values.as_mut_ptr())
        }
    }

    /// [`Function::call`] under `sandbox`: out of line, so that the sandbox's scope does not
    /// widen the frame of every other call (one frame per level of wasm -> JS -> wasm).
    ///
    /// # Safety
    /// As for [`Function::call`].
    #[inline(never)]
    unsafe fn call_sandboxed(&self, sandbox: &Arc<Sandbox>, trampolines: &Trampolines, values: &mut [u128]) -> Result<(), Trap> {
        let _sandbox = sandbox.enter();
        // SAFETY: as in `call`.
        unsafe {
            let f = &*self.func_ref;
            traps::call_wasm(trampolines.entry(), f.vmctx, f.code, values.as_mut_ptr())
        }
    }
}


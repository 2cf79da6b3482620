//! Functions across the boundary, both ways.
//!
//! - JS -> wasm: every wasm function that reaches JS (an export, a table element, a global, a
//!   funcref result) becomes one JS function object, created once per function and cached by the
//!   function's `VMFuncRef` address while the object lives: `name` is the function index, `length`
//!   the parameter count. Its callback converts the arguments into value slots on the stack,
//!   calls the entry trampoline of the signature (compiled once per signature) and converts the
//!   results back; no allocation per call for signatures of up to eight values.
//! - wasm -> JS: a JS function imported by an instance becomes a `HostFunction` whose exit
//!   trampoline calls [`host_call`]. A JS exception thrown there is kept as-is, the exit
//!   trampoline traps with `HostException`, the wasm frames unwind to the innermost entry from JS,
//!   and that entry rethrows the same object.
//! - wasm -> wasm: an exported wasm function imported by another instance is linked directly (its
//!   code and vmctx go into the importer's vmctx), without passing through JS.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::ffi::{c_void, CString};
use std::ptr;
use std::rc::Rc;
use std::sync::Arc;

use cranewasm_engine::runtime::instance::{Function, HostFunction, VMFuncRef, VMHostFuncContext};
use cranewasm_engine::runtime::interrupts::{self, InterruptReason};
use cranewasm_engine::compiler::trampolines::{self, Trampolines};
use cranewasm_engine::runtime::frames::WasmFrame;
use cranewasm_engine::runtime::traps::{self, Trap};
use cranewasm_engine::trap::TrapKind;
use napi::sys;
use wasmparser::{FuncType, ValType};

use crate::fast_calls::{self, FastSignature};
use crate::js::{self, napi_call, realm_value, Js, JsResult, Pending, Realm, Value};
use crate::lifetimes;
use crate::values::{self, TYPE_INCOMPATIBILITY};

/// What an exported function object carries. `#[repr(C)]`: the V8 path's callback
/// (src/fast_calls.cc) reads `sig` at its start.
#[repr(C)]
pub struct ExportedFunction {
    pub sig: FastSignature,
    /// The env the function object was made in (the V8 path's calls have no other).
    pub env: sys::napi_env,
    pub function: Function,
    ty: FuncType,
    trampolines: Arc<Trampolines>,
    has_v128: bool,
    /// The realm of the index.js that made the function: its errors and arrays are used.
    pub realm: Option<Rc<Realm>>,
    /// The weak reference the cache holds to the function object.
    weak: Cell<sys::napi_ref>,
}

thread_local! {
    /// Function objects by `VMFuncRef` address (weak references).
    static FUNCTION_OBJECTS: RefCell<HashMap<usize, sys::napi_ref>> = RefCell::new(HashMap::new());
    /// The addresses of the `ExportedFunction`s alive on this thread, each wrapped into its
    /// function object: what tells our function objects from other wrapped objects (one hash
    /// lookup, where a napi type tag check cost another private-property lookup per call;
    /// `Table.prototype.set` and every funcref argument pay it).
    static LIVE_FUNCTIONS: RefCell<HashSet<usize, foldhash::fast::FixedState>> =
        const { RefCell::new(HashSet::with_hasher(foldhash::fast::FixedState::with_seed(0x6c69_7665))) };
    /// Whether the store's slot 0 holds the JS exception an import threw, on its way to the
    /// innermost entry from JS.
    static PENDING_EXCEPTION: Cell<bool> = const { Cell::new(false) };
}

/// The data of `value` if it is a function object of ours.
pub fn exported_function<'a>(js: &Js, value: Value) -> Option<&'a ExportedFunction> {
    if js.type_of(value) != sys::ValueType::napi_function {
        return None;
    }
    exported_function_of(js, value)
}

/// [`exported_function`] of a value whose `typeof` is known to be "function".
pub fn exported_function_of<'a>(js: &Js, function: Value) -> Option<&'a ExportedFunction> {
    let data = js.unwrapped(function)?;
    // Only a pointer that is a live ExportedFunction's is ours: any other wrapped object's data
    // is another live allocation, at another address.
    if !LIVE_FUNCTIONS.with(|live| live.borrow().contains(&(data as usize))) {
        return None;
    }
    // SAFETY: `data` is a live ExportedFunction (checked above), wrapped by `js_function` into
    // `function` and freed only when that object is collected (not while it is an argument).
    Some(unsafe { &*(data as *const ExportedFunction) })
}

/// The JS function object of `function` (the same object for as long as it lives). `index` is
/// its index in the exporting instance, for `name`; when unknown it is looked up.
pub fn js_function(js: &Js, function: Function, index: Option<u32>) -> JsResult<Value> {
    let key = function.func_ref() as usize;
    let cached = FUNCTION_OBJECTS.with(|m| m.borrow().get(&key).copied());
    if let Some(object) = cached.and_then(|r| js.reference_value(r)) {
        return Ok(object);
    }
    let ty = function.ty().clone();
    let trampolines = match trampolines::for_signature(&ty) {
        Ok(t) => t,
        Err(e) => return Err(js.throw_new(|r| r.runtime_error, &format!("cranewasm: {e}"))),
    };
    let index = index.or_else(|| function.index()).unwrap_or(0);
    let has_v128 = ty.params().iter().chain(ty.results()).any(|t| *t == ValType::V128);
    let params = ty.params().len();
    let owner = lifetimes::owner_anchor(js, &function.owner);
    let data = Box::into_raw(Box::new(ExportedFunction {
        sig: FastSignature::of(&ty),
        env: js.env,
        function,
        ty,
        trampolines,
        has_v128,
        realm: js.realm.clone(),
        weak: Cell::new(ptr::null_mut()),
    }));
    let name = CString::new(index.to_string()).unwrap_or_default();
    // V8's API when it can (no Node-API wrapper per call), Node-API otherwise.
    let mut target = fast_calls::exported_function_new(data, &name).unwrap_or(ptr::null_mut());
    let created = if target.is_null() {
        napi_call!(
            js,
            napi_create_function(name.as_ptr(), -1, Some(call_exported), data as *mut c_void, &mut target)
        )
    } else {
        Ok(())
    };
    // The target keeps what its function's code needs alive (see `lifetimes`).
    let owner = created.and_then(|()| match owner {
        Some(owner) => lifetimes::set_owner(js, target, owner),
        None => Ok(()),
    });
    if let Err(pending) = owner {
        // SAFETY: `data` came from Box::into_raw above and nothing else holds it.
        drop(unsafe { Box::from_raw(data) });
        return Err(pending);
    }
    // The object JS sees is the realm's wrapper of the native target (no constructor, no
    // `prototype`); the target is reachable only through it.
    let wrapper = (|| {
        let export = realm_value(js, |r| r.export_function)?;
        let name = js.string(&index.to_string())?;
        let length = js.int32(params as i32)?;
        js.call(export, js.undefined(), &[target, name, length])
    })();
    let object = match wrapper {
        Ok(object) => object,
        Err(pending) => {
            // SAFETY: as above; the target will never be called (it is unreachable).
            drop(unsafe { Box::from_raw(data) });
            return Err(pending);
        }
    };
    js.wrap(object, data as *mut c_void, finalize_exported)?;
    LIVE_FUNCTIONS.with(|live| live.borrow_mut().insert(data as usize));
    let weak = js.reference(object, 0)?;
    // SAFETY: `data` is alive: the object we just created owns it.
    unsafe { (*data).weak.set(weak) };
    FUNCTION_OBJECTS.with(|m| m.borrow_mut().insert(key, weak));
    Ok(object)
}

unsafe extern "C" fn finalize_exported(env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: `data` is the Box `js_function` wrapped into the object now being collected; this
    // finalizer runs once. `env` is the env Node runs the finalizer in.
    let (data, js) = unsafe { (Box::from_raw(data as *mut ExportedFunction), Js::from_env(env)) };
    LIVE_FUNCTIONS.with(|live| live.borrow_mut().remove(&(&*data as *const ExportedFunction as usize)));
    let key = data.function.func_ref() as usize;
    let weak = data.weak.get();
    FUNCTION_OBJECTS.with(|m| {
        let mut m = m.borrow_mut();
        if m.get(&key) == Some(&weak) {
            m.remove(&key);
        }
    });
    if !weak.is_null() {
        js.delete_reference(weak);
    }
}

/// A funcref value (a `VMFuncRef` address or 0) as a JS value.
pub fn funcref_to_js(js: &Js, func_ref: usize) -> JsResult<Value> {
    if func_ref == 0 {
        return Ok(js.null());
    }
    match Function::from_func_ref(func_ref as *const VMFuncRef) {
        Some(function) => js_function(js, function, None),
        None => Err(js.throw_type_error(TYPE_INCOMPATIBILITY)),
    }
}

/// Throws what a trap means in JS: the import's own exception, RangeError for stack overflow,
/// RuntimeError otherwise, with the wasm frames of the activation the trap ended in its
/// `stack`.
pub fn throw_trap(js: &Js, trap: Trap) -> Pending {
    let frames = traps::take_trap_frames();
    match trap.kind {
        // V8 is terminating: return to it without an exception of our own (it propagates its
        // termination from there).
        TrapKind::HostException | TrapKind::Interrupted if crate::interrupts::is_terminating() => {
            PENDING_EXCEPTION.with(|p| p.set(false));
            Pending
        }
        TrapKind::Interrupted => match interrupts::take_reason() {
            InterruptReason::Terminated => Pending,
            InterruptReason::TimedOut { timeout } => throw_with_frames(
                js,
                |r| r.runtime_error,
                &format!("cranewasm: call timed out (timeout: {} ms)", timeout.as_millis()),
                &[],
            ),
            InterruptReason::OutOfFuel => {
                throw_with_frames(js, |r| r.runtime_error, "cranewasm: all fuel consumed (fuel exhausted)", &[])
            }
        },
        TrapKind::HostException => {
            let value = if PENDING_EXCEPTION.with(|p| p.replace(false)) {
                let value = js::store_get(js, 0);
                let _ = js::store_set(js, 0, js.undefined());
                value
            } else {
                Ok(js.undefined())
            };
            match value {
                Ok(value) if is_foreign_stack_overflow(js, value) => {
                    throw_with_frames(js, |r| r.range_error, TrapKind::StackOverflow.message(), &frames)
                }
                Ok(value) => {
                    attach_wasm_frames(js, value, &frames, false);
                    js.throw(value)
                }
                Err(pending) => pending,
            }
        }
        TrapKind::Exception => crate::exceptions::throw_uncaught(js),
        TrapKind::StackOverflow => throw_with_frames(js, |r| r.range_error, trap.kind.message(), &frames),
        kind => throw_with_frames(js, |r| r.runtime_error, kind.message(), &frames),
    }
}

/// Throws a new error of the realm's class `which`, with `frames` in its stack, marked as a
/// trap's (`markTrap`: if it comes back into wasm through an import, no handler catches it, as
/// in V8).
fn throw_with_frames(
    js: &Js,
    which: fn(&Realm) -> sys::napi_ref,
    message: &str,
    frames: &[WasmFrame],
) -> Pending {
    let error = (|| {
        let constructor = realm_value(js, which)?;
        let message = js.string(message)?;
        if frames.is_empty() {
            let mut error = ptr::null_mut();
            napi_call!(js, napi_new_instance(constructor, 1, &message, &mut error))?;
            return Ok::<_, Pending>(error);
        }
        let make = realm_value(js, |r| r.make_trap_error)?;
        let text = js.string(&frames_text(frames))?;
        js.call(make, js.undefined(), &[constructor, message, text])
    })();
    let error = error.and_then(|error| {
        let mark = realm_value(js, |r| r.mark_trap)?;
        js.call(mark, js.undefined(), &[error])?;
        Ok(error)
    });
    match error {
        Ok(error) => js.throw(error),
        Err(pending) => pending,
    }
}

/// `frames` as V8 prints them, one `    at …` line each.
fn frames_text(frames: &[WasmFrame]) -> String {
    let mut text = String::new();
    for frame in frames {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str("    at ");
        text.push_str(&frame.v8_line());
    }
    text
}

/// Puts `frames` (innermost first) into the `stack` of `error` in V8's format, in place of
/// the frame of the JS function that entered the activation (index.js does the text; see
/// `attachWasmFrames` there). `fresh`: the error was made for this trap. Does nothing when
/// there are no frames; failures leave the error as it is.
fn attach_wasm_frames(js: &Js, error: Value, frames: &[WasmFrame], fresh: bool) {
    if frames.is_empty() {
        return;
    }
    let attached = (|| {
        let attach = realm_value(js, |r| r.attach_wasm_frames)?;
        let text = js.string(&frames_text(frames))?;
        let fresh = js.int32(i32::from(fresh))?;
        js.call(attach, js.undefined(), &[error, text, fresh])
    })();
    if attached.is_err() {
        js.take_exception();
    }
}

/// Whether `value` is V8's stack-overflow RangeError made in another realm than the current
/// one: V8 throws it in the realm of the function being entered, which for the native functions
/// of this binding is Node's main realm, not the caller's.
fn is_foreign_stack_overflow(js: &Js, value: Value) -> bool {
    if js.type_of(value) != sys::ValueType::napi_object {
        return false;
    }
    let check = || -> JsResult<bool> {
        let range_error = realm_value(js, |r| r.range_error)?;
        let mut ours = false;
        napi_call!(js, napi_instanceof(value, range_error, &mut ours))?;
        if ours {
            return Ok(false);
        }
        let mut is_error = false;
        napi_call!(js, napi_is_error(value, &mut is_error))?;
        if !is_error {
            return Ok(false);
        }
        let mut message = ptr::null_mut();
        napi_call!(js, napi_get_named_property(value, c"message".as_ptr(), &mut message))?;
        let mut buffer = [0u8; 64];
        let mut length = 0usize;
        if js.type_of(message) != sys::ValueType::napi_string {
            return Ok(false);
        }
        napi_call!(js, napi_get_value_string_utf8(message, buffer.as_mut_ptr() as *mut _, buffer.len(), &mut length))?;
        Ok(&buffer[..length] == TrapKind::StackOverflow.message().as_bytes())
    };
    // The checks run no user code; should one fail, the value is rethrown as it is.
    check().unwrap_or_else(|_| {
        js.take_exception();
        false
    })
}

const INLINE: usize = 8;

unsafe extern "C" fn call_exported(env: sys::napi_env, info: sys::napi_callback_info) -> Value {
    let mut inline_args = [ptr::null_mut(); INLINE];
    let mut argc = INLINE;
    let mut data = ptr::null_mut();
    // SAFETY: Node runs this callback on the JS thread with its env and callback info; the
    // arrays are live locals of the given capacity.
    let status = unsafe {
        sys::napi_get_cb_info(env, info, &mut argc, inline_args.as_mut_ptr(), ptr::null_mut(), &mut data)
    };
    if status != sys::Status::napi_ok || data.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: `data` is the `ExportedFunction` this callback was created with, alive while the
    // function object is (it is being called).
    let f = unsafe { &*(data as *const ExportedFunction) };
    // SAFETY: as above; the function's realm is the realm of its calls.
    let js = unsafe { Js::with_realm(env, f.realm.as_ref()) };
    let params = f.ty.params().len();
    // Missing arguments read as undefined (Node-API fills the array up to its capacity).
    let result = if params <= INLINE {
        call_exported_args(&js, f, &inline_args)
    } else {
        let mut all = vec![ptr::null_mut(); params];
        let mut argc = params;
        napi_call!(js, napi_get_cb_info(info, &mut argc, all.as_mut_ptr(), ptr::null_mut(), ptr::null_mut()))
            .and_then(|()| call_exported_args(&js, f, &all))
    };
    result.unwrap_or(ptr::null_mut())
}

/// Calls `f` with `args` (at least one per parameter) converted by ToWebAssemblyValue, and
/// returns its results converted to JS: both paths' general case.
pub fn call_exported_args(js: &Js, f: &ExportedFunction, args: &[Value]) -> JsResult<Value> {
    if f.has_v128 {
        return Err(js.throw_type_error(TYPE_INCOMPATIBILITY));
    }
    // The value slots are on the frame that stays on the stack while wasm runs (once per level
    // of recursion through imports): as many as the signature needs.
    match f.ty.params().len().max(f.ty.results().len()) {
        0 | 1 => call_in_slots::<1>(js, f, args),
        2 => call_in_slots::<2>(js, f, args),
        3 | 4 => call_in_slots::<4>(js, f, args),
        5..=INLINE => call_in_slots::<INLINE>(js, f, args),
        slots => call_in_heap_slots(js, f, args, slots),
    }
}

/// [`call_exported_args`] with `slots` value slots on the heap (more than [`INLINE`]).
#[inline(never)]
fn call_in_heap_slots(js: &Js, f: &ExportedFunction, args: &[Value], slots: usize) -> JsResult<Value> {
    call_with_values(js, f, args, &mut vec![0u128; slots])
}

/// [`call_exported_args`] with `N` value slots on this frame.
#[inline(never)]
fn call_in_slots<const N: usize>(js: &Js, f: &ExportedFunction, args: &[Value]) -> JsResult<Value> {
    call_with_values(js, f, args, &mut [0u128; N])
}

/// [`call_exported_args`] with `values`, at least max(params, results) slots.
#[inline(always)]
fn call_with_values(js: &Js, f: &ExportedFunction, args: &[Value], values: &mut [u128]) -> JsResult<Value> {
    args_to_wasm(js, f, args, values)?;
    let called = {
        let _call = lifetimes::WasmCall::enter();
        // SAFETY: `values` has max(params, results) slots holding arguments of the function's
        // parameter types, and `trampolines` are those of its signature.
        unsafe { f.function.call(&f.trampolines, values) }
    };
    let result = convert_results(js, called, f.ty.results(), values);
    lifetimes::after_call(js);
    result
}

/// The V8 path's call of `f` (a fast signature: numbers only) with the arguments in the value
/// slots `values` (the C++ caller's, max(parameters, 1), each number in its low 8 bytes); on
/// return, the result is in `values[0]`.
///
/// Its frame is on the stack once per level of recursion through imports (wasm -> JS -> wasm):
/// what happens after the call needs a `Js` (a clone of the realm), made only then, out of line.
#[inline]
pub fn call_exported_raw(f: &ExportedFunction, values: &mut [u128]) -> JsResult<()> {
    let called = {
        let _call = lifetimes::WasmCall::enter();
        // SAFETY: `values` has max(params, 1) slots (a fast signature has at most one result)
        // holding arguments of the function's parameter types (numbers, as the signature's
        // kinds say), and `trampolines` are those of its signature.
        unsafe { f.function.call(&f.trampolines, values) }
    };
    after_raw_call(f, called)
}

/// Back in JS after [`call_exported_raw`]'s call.
#[inline(never)]
fn after_raw_call(f: &ExportedFunction, called: Result<(), Trap>) -> JsResult<()> {
    // SAFETY: inside a V8 API callback on the env's JS thread (see `fast_calls`).
    let js = unsafe { Js::with_realm(f.env, f.realm.as_ref()) };
    // ArrayBuffers of memories that wasm grew are detached now.
    let result = crate::objects::refresh_buffers(&js).and_then(|()| called.map_err(|trap| throw_trap(&js, trap)));
    lifetimes::after_call(&js);
    result
}

/// ToWebAssemblyValue of `args` into `values`, one per parameter of `f` (out of line: its
/// conversions need nothing on the frame of the call).
#[inline(never)]
fn args_to_wasm(js: &Js, f: &ExportedFunction, args: &[Value], values: &mut [u128]) -> JsResult<()> {
    for (i, ty) in f.ty.params().iter().enumerate() {
        values[i] = values::to_wasm(js, args[i], *ty, || values::param_type(f.function.type_id(), i))?;
    }
    Ok(())
}

#[inline(never)]
fn convert_results(js: &Js, called: Result<(), Trap>, results: &[ValType], values: &[u128]) -> JsResult<Value> {
    // Back in JS: ArrayBuffers of memories that wasm grew are detached now.
    crate::objects::refresh_buffers(js)?;
    if let Err(trap) = called {
        return Err(throw_trap(js, trap));
    }
    match results.len() {
        0 => Ok(js.undefined()),
        1 => values::to_js(js, values[0], results[0]),
        n => {
            let mut converted = Vec::with_capacity(n);
            for (i, ty) in results.iter().enumerate() {
                converted.push(values::to_js(js, values[i], *ty)?);
            }
            js.array(&converted)
        }
    }
}

// ---- Imports of JS functions ---------------------------------------------------------------

struct HostData {
    env: sys::napi_env,
    callable: sys::napi_ref,
    ty: FuncType,
    /// The canonical id of `ty` (its concrete references are resolved through it).
    type_id: u32,
    has_v128: bool,
    realm: Option<Rc<Realm>>,
    /// For a JS String builtin with a native fast path: which one (`builtins::fast_call`).
    fast: Option<crate::builtins::FastOp>,
    /// The kinds of `ty`'s values, for the V8 path.
    sig: FastSignature,
    /// The V8 path's record of the callable (src/fast_calls.cc), or null: Node-API's path.
    import: *mut c_void,
}

/// A host function calling the JS callable `value` with the signature `ty` (whose canonical
/// signature id, in the importing module, is `type_id`).
pub fn host_function(js: &Js, value: Value, ty: FuncType, type_id: u32) -> JsResult<Function> {
    // Weak: the importing instance's anchor keeps the function alive (see `lifetimes`).
    let callable = js.reference(value, 0)?;
    let has_v128 = ty.params().iter().chain(ty.results()).any(|t| *t == ValType::V128);
    let fast = crate::builtins::fast_op_of(js, value);
    let sig = FastSignature::of(&ty);
    // Numbers only go through V8's API (builtins keep their own fast path).
    let import = if sig.fast != 0 && fast.is_none() { fast_calls::import_new(value) } else { ptr::null_mut() };
    let data = Box::into_raw(Box::new(HostData {
        env: js.env,
        callable,
        ty: ty.clone(),
        type_id,
        has_v128,
        realm: js.realm.clone(),
        fast,
        sig,
        import,
    }));
    let host = trampolines::for_signature(&ty).and_then(|trampolines| {
        HostFunction::new(ty, type_id, host_call, data as *mut c_void, Some(drop_host_data), trampolines)
    });
    match host {
        Ok(host) => Ok(Function::host(host)),
        Err(e) => {
            // SAFETY: `data` came from Box::into_raw above and was not handed out.
            drop(unsafe { Box::from_raw(data) });
            js.delete_reference(callable);
            Err(js.throw_new(|r| r.runtime_error, &format!("cranewasm: {e}")))
        }
    }
}

/// The JS function of a host function made by `host_function`, while it lives.
pub fn host_callable(js: &Js, host: &HostFunction) -> Option<Value> {
    // Other host functions (WASI's) carry other data and no JS function.
    if host.callback() as *const () as usize != host_call as *const () as usize {
        return None;
    }
    // SAFETY: host functions whose callback is `host_call` were made by `host_function`, with a
    // HostData as their data, alive as long as the host function.
    let data = unsafe { &*(host.data() as *const HostData) };
    js.reference_value(data.callable)
}

/// # Safety
/// `data` must be a `HostData` box made by `host_function`, dropped once (the engine calls this
/// when the host function is dropped).
unsafe fn drop_host_data(data: *mut c_void) {
    // SAFETY: `data` is the HostData box `host_function` created, dropped once by the engine.
    let data = unsafe { Box::from_raw(data as *mut HostData) };
    // SAFETY: host functions are dropped on the JS thread of their env (instances are released
    // by finalizers and calls of that thread).
    let js = unsafe { Js::from_env(data.env) };
    js.delete_reference(data.callable);
    // SAFETY: the record was made by `import_new` for this host function, is freed only here,
    // on the JS thread (as above), while the isolate lives (instances are released before it
    // is disposed: by finalizers, which Node runs at the env's teardown).
    unsafe { fast_calls::import_free(data.import) };
}

/// The exit trampoline's callback: calls the JS function with the arguments in `values` and
/// leaves its results there. Returns 0 on success; 1 when a JS exception was thrown, which is
/// kept for the innermost entry to rethrow.
unsafe extern "C" fn host_call(context: *mut VMHostFuncContext, values: *mut u128) -> u32 {
    // SAFETY: `context` is the context of a host function created by `host_function`, whose data
    // is a live HostData; wasm runs only inside a call from JS on this thread, so its env is
    // valid here.
    let data = unsafe { &*((*context).data as *const HostData) };
    if !data.import.is_null() {
        // SAFETY: `import` was made for this host function's callable, whose signature `sig`
        // is (a fast one: it has a record); `values` are the trampoline's slots; wasm runs
        // inside a call from JS on this thread.
        return unsafe { fast_calls::import_call(data.import, data as *const HostData as *mut c_void, &data.sig, values) };
    }
    // SAFETY: as above, the env is valid here.
    let js = unsafe { Js::with_realm(data.env, data.realm.as_ref()) };
    let slots = data.ty.params().len().max(data.ty.results().len()).max(1);
    // SAFETY: the exit trampoline passes an array of max(params, results) slots (at least one).
    let values = unsafe { std::slice::from_raw_parts_mut(values, slots) };
    if let Some(op) = data.fast {
        // A JS String builtin on the string it last read: no JS value is made, so no scope.
        if crate::builtins::cached_call(&js, op, values) {
            return 0;
        }
    }
    let mut scope = ptr::null_mut();
    if napi_call!(js, napi_open_handle_scope(&mut scope)).is_err() {
        keep_pending_exception(&js);
        return 1;
    }
    let status = match call_host(&js, data, values) {
        Ok(()) => 0,
        Err(Pending) => {
            keep_pending_exception(&js);
            1
        }
    };
    // SAFETY: closes the scope opened above, in this env.
    unsafe { sys::napi_close_handle_scope(js.env, scope) };
    status
}

/// A wasm handler caught the exception an import threw: the entry has nothing to rethrow.
pub fn forget_pending_exception() {
    PENDING_EXCEPTION.with(|p| p.set(false));
}

fn keep_pending_exception(js: &Js) {
    let exception = js.take_exception();
    keep_exception(js, exception);
}

/// Keeps `exception`, which an import call threw, for the innermost entry to rethrow (or for a
/// wasm handler to catch).
fn keep_exception(js: &Js, exception: Value) {
    if crate::interrupts::call_out_terminated(js) {
        // V8 is terminating: nothing is rethrown (see `interrupts`), nor caught.
        PENDING_EXCEPTION.with(|p| p.set(false));
        cranewasm_engine::runtime::exceptions::set_pending_host(None);
        return;
    }
    if js::store_set(js, 0, exception).is_ok() {
        PENDING_EXCEPTION.with(|p| p.set(true));
        // It may be caught by a wasm handler on its way out.
        crate::exceptions::set_pending_host(js, exception);
    } else {
        // Could not keep it: what is pending now (the failure to keep it) is dropped too, and
        // the entry throws undefined. Only happens when the env is shutting down.
        js.take_exception();
        PENDING_EXCEPTION.with(|p| p.set(false));
    }
}

fn call_host(js: &Js, data: &HostData, values: &mut [u128]) -> JsResult<()> {
    if let Some(op) = data.fast {
        if crate::builtins::fast_call(js, op, values)? {
            return Ok(());
        }
    }
    if data.has_v128 {
        return Err(js.throw_type_error(TYPE_INCOMPATIBILITY));
    }
    // The arguments are on a frame that stays on the stack while JS runs (once per level of
    // recursion through imports): as many as the signature has.
    match data.ty.params().len() {
        0 | 1 => call_host_in::<1>(js, data, values),
        2 => call_host_in::<2>(js, data, values),
        3 | 4 => call_host_in::<4>(js, data, values),
        5..=INLINE => call_host_in::<INLINE>(js, data, values),
        params => call_host_on_heap(js, data, values, params),
    }
}

/// [`call_host`] with room for `params` arguments on the heap (more than [`INLINE`]).
#[inline(never)]
fn call_host_on_heap(js: &Js, data: &HostData, values: &mut [u128], params: usize) -> JsResult<()> {
    call_host_with(js, data, values, &mut vec![ptr::null_mut(); params])
}

/// [`call_host`] with room for `N` arguments on this frame.
#[inline(never)]
fn call_host_in<const N: usize>(js: &Js, data: &HostData, values: &mut [u128]) -> JsResult<()> {
    call_host_with(js, data, values, &mut [ptr::null_mut(); N])
}

/// [`call_host`] with `args`, room for at least the parameters.
#[inline(always)]
fn call_host_with(js: &Js, data: &HostData, values: &mut [u128], args: &mut [Value]) -> JsResult<()> {
    let params = data.ty.params();
    let args = &mut args[..params.len()];
    for (i, ty) in params.iter().enumerate() {
        args[i] = values::to_js(js, values[i], *ty)?;
    }
    crate::objects::refresh_buffers(js)?;
    // JS may collect garbage from here on: what wasm stored must be in the object graph first.
    lifetimes::flush(js);
    let callable = match js.reference_value(data.callable) {
        Some(c) => c,
        None => return Err(js.throw_type_error("cranewasm: imported function was collected")),
    };
    // Recursion through imports: V8's limit, not the thread's stack, would end it first.
    crate::stack_limit::before_call_out(js);
    let result = js.call(callable, js.undefined(), args)?;
    host_results(js, data, result, values)
}

/// The results of an import call: ToWebAssemblyValue of what the JS function returned (an
/// iterable for several results) into `values`.
fn host_results(js: &Js, data: &HostData, result: Value, values: &mut [u128]) -> JsResult<()> {
    let results = data.ty.results();
    match results.len() {
        0 => {}
        1 => values[0] = values::to_wasm(js, result, results[0], || values::result_type(data.type_id, 0))?,
        n => {
            let to_list = realm_value(js, |r| r.iterable_to_list)?;
            let list = js.call(to_list, js.undefined(), &[result])?;
            if js.array_length(list)? as usize != n {
                return Err(js.throw_type_error("multi-return length mismatch"));
            }
            for (i, ty) in results.iter().enumerate() {
                let item = js.get_element(list, i as u32)?;
                values[i] = values::to_wasm(js, item, *ty, || values::result_type(data.type_id, i))?;
            }
        }
    }
    Ok(())
}

/// The V8 path's steps before an import call (those of `call_host`): buffers of grown memories
/// detached, stored references linked, V8's stack limit lowered when deep. 0 to go on, 1 when
/// an exception was kept for the entry.
///
/// # Safety
/// `host` is the `HostData` of a host function made by `host_function`, being called from wasm
/// on its env's JS thread.
pub unsafe fn import_before(host: *const c_void) -> u32 {
    // SAFETY: as the caller promises.
    let data = unsafe { &*(host as *const HostData) };
    // SAFETY: on the env's JS thread, inside a call from JS, with a handle scope open.
    let js = unsafe { Js::with_realm(data.env, data.realm.as_ref()) };
    let ready = crate::objects::refresh_buffers(&js).map(|()| {
        // JS may collect garbage from here on: what wasm stored must be in the object graph.
        lifetimes::flush(&js);
        // Recursion through imports: V8's limit, not the thread's stack, would end it first.
        crate::stack_limit::before_call_out(&js);
    });
    match ready {
        Ok(()) => 0,
        Err(Pending) => {
            keep_pending_exception(&js);
            1
        }
    }
}

/// The V8 path's end of an import call that it could not finish: `how` 0, the function returned
/// `value`, to convert into `values`; 1, it threw `value` (null: V8 is terminating); 2, the
/// function was collected. Returns the import call's status (0, or 1 with the exception kept).
///
/// # Safety
/// `host` as for [`import_before`]; `value` a value of the caller's handle scope, or null;
/// `values` the exit trampoline's max(params, results, 1) slots.
pub unsafe fn import_settle(host: *const c_void, value: Value, how: u32, values: *mut u128) -> u32 {
    // SAFETY: as the caller promises.
    let data = unsafe { &*(host as *const HostData) };
    // SAFETY: as in `import_before`.
    let js = unsafe { Js::with_realm(data.env, data.realm.as_ref()) };
    let slots = data.ty.params().len().max(data.ty.results().len()).max(1);
    // SAFETY: the caller passes the trampoline's slots.
    let values = unsafe { std::slice::from_raw_parts_mut(values, slots) };
    let settled = match how {
        1 => {
            keep_exception(&js, if value.is_null() { js.undefined() } else { value });
            return 1;
        }
        2 => Err(js.throw_type_error("cranewasm: imported function was collected")),
        _ => host_results(&js, data, value, values),
    };
    match settled {
        Ok(()) => 0,
        Err(Pending) => {
            keep_pending_exception(&js);
            1
        }
    }
}

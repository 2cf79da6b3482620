//! Raw Node-API access for the hot paths (calls across the JS<->wasm boundary), where napi-rs's
//! typed wrappers would allocate or check more than needed.
//!
//! [`Js`] is an `napi_env` known to be the env of the current JS thread, inside a callback (or a
//! napi-rs method) that Node is running: the one precondition every Node-API call has. It is
//! created by the `unsafe` [`Js::from_env`] at the entry points and makes the calls below safe.
//! Values ([`Value`]) are only used within the handle scope they were created in.
//!
//! The second half is the realm: the error classes and helpers of the JS realm that loaded
//! `index.js` (jest runs each test file in its own vm context), handed over once by `init`.

use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_void};
use std::ptr;
use std::rc::Rc;

use napi::sys;

pub type Value = sys::napi_value;

/// A JS exception is pending in the env: unwind to the entry point and return to JS.
#[derive(Debug)]
pub struct Pending;

pub type JsResult<T> = Result<T, Pending>;

/// Calls a Node-API function with a valid env (see the module docs), turning a failure status
/// into a pending exception.
macro_rules! napi_call {
    ($js:expr, $f:ident($($arg:expr),* $(,)?)) => {{
        let js: &Js = &$js;
        // SAFETY: `js.env` is the env of the JS thread we run on, inside a Node-API callback
        // (the invariant of `Js`); the other arguments are values of the current handle scope
        // and pointers to live locals, as each Node-API function requires.
        let status = unsafe { sys::$f(js.env, $($arg),*) };
        js.check(status, stringify!($f))
    }};
}
pub(crate) use napi_call;

#[derive(Clone)]
pub struct Js {
    pub env: sys::napi_env,
    /// The realm whose errors and arrays this entry point makes (see [`Realm`]).
    pub realm: Option<Rc<Realm>>,
}

impl Js {
    /// With the default realm (that of the most recently loaded index.js).
    ///
    /// # Safety
    /// `env` must be the env Node passed to the callback or method currently running on this
    /// thread.
    pub unsafe fn from_env(env: sys::napi_env) -> Js {
        Js { env, realm: DEFAULT_REALM.with(|r| r.0.borrow().clone()) }
    }

    /// With `realm`: the entry point belongs to an object made by that realm's index.js.
    ///
    /// # Safety
    /// As for [`Js::from_env`].
    pub unsafe fn with_realm(env: sys::napi_env, realm: Option<&Rc<Realm>>) -> Js {
        Js { env, realm: realm.cloned() }
    }

    /// Turns a failure status into a pending exception (throwing a plain Error when Node-API
    /// failed without one, which means a bug of ours rather than a JS-level error).
    pub fn check(&self, status: sys::napi_status, what: &str) -> JsResult<()> {
        if status == sys::Status::napi_ok {
            return Ok(());
        }
        if !self.is_exception_pending() {
            self.throw_error(&format!("cranewasm: internal error: {what} failed with status {status}"));
        }
        Err(Pending)
    }

    pub fn is_exception_pending(&self) -> bool {
        let mut pending = false;
        // SAFETY: valid env (invariant of `Js`), `pending` is a live local.
        unsafe { sys::napi_is_exception_pending(self.env, &mut pending) };
        pending
    }

    /// Throws a plain Error (for failures of the binding itself).
    pub fn throw_error(&self, message: &str) -> Pending {
        let message = std::ffi::CString::new(message.replace('\0', " ")).unwrap_or_default();
        // SAFETY: valid env; the message is a NUL-terminated string that outlives the call.
        unsafe { sys::napi_throw_error(self.env, ptr::null(), message.as_ptr()) };
        Pending
    }

    pub fn undefined(&self) -> Value {
        let mut v = ptr::null_mut();
        // SAFETY: valid env, `v` is a live local; napi_get_undefined cannot fail with a valid env.
        unsafe { sys::napi_get_undefined(self.env, &mut v) };
        v
    }

    pub fn null(&self) -> Value {
        let mut v = ptr::null_mut();
        // SAFETY: as in `undefined`.
        unsafe { sys::napi_get_null(self.env, &mut v) };
        v
    }

    pub fn type_of(&self, value: Value) -> sys::napi_valuetype {
        let mut t = 0;
        // SAFETY: valid env and a value of the current scope; `t` is a live local.
        unsafe { sys::napi_typeof(self.env, value, &mut t) };
        t
    }

    pub fn string(&self, s: &str) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        napi_call!(self, napi_create_string_utf8(s.as_ptr() as *const c_char, s.len() as isize, &mut v))?;
        Ok(v)
    }

    pub fn int32(&self, n: i32) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        napi_call!(self, napi_create_int32(n, &mut v))?;
        Ok(v)
    }

    pub fn double(&self, n: f64) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        napi_call!(self, napi_create_double(n, &mut v))?;
        Ok(v)
    }

    pub fn bigint(&self, n: i64) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        napi_call!(self, napi_create_bigint_int64(n, &mut v))?;
        Ok(v)
    }

    /// ToNumber through the realm's helper, so that its TypeErrors (BigInt, Symbol) are the
    /// realm's. Returns a Number value.
    fn coerce_to_number(&self, value: Value) -> JsResult<Value> {
        if self.type_of(value) == sys::ValueType::napi_number {
            return Ok(value);
        }
        let helper = realm_value(self, |r| r.to_number)?;
        self.call(helper, self.undefined(), &[value])
    }

    /// ToNumber (may run user code and throw).
    pub fn to_number(&self, value: Value) -> JsResult<f64> {
        let number = self.coerce_to_number(value)?;
        let mut d = 0.0;
        napi_call!(self, napi_get_value_double(number, &mut d))?;
        Ok(d)
    }

    /// ToInt32 (may run user code and throw).
    pub fn to_int32(&self, value: Value) -> JsResult<i32> {
        let number = self.coerce_to_number(value)?;
        let mut i = 0;
        // V8's Int32Value: the ECMAScript ToInt32 of the number (modulo 2^32).
        napi_call!(self, napi_get_value_int32(number, &mut i))?;
        Ok(i)
    }

    /// ToBigInt64 (may run user code and throw).
    pub fn to_bigint64(&self, value: Value) -> JsResult<i64> {
        let bigint = if self.type_of(value) == sys::ValueType::napi_bigint {
            value
        } else {
            // BigInt.asIntN(64, v) is exactly ToBigInt64: ToBigInt, then wrap.
            let helper = realm_value(self, |r| r.to_bigint64)?;
            self.call(helper, self.undefined(), &[value])?
        };
        let mut n = 0i64;
        let mut lossless = false;
        napi_call!(self, napi_get_value_bigint_int64(bigint, &mut n, &mut lossless))?;
        Ok(n)
    }

    pub fn call(&self, function: Value, this: Value, args: &[Value]) -> JsResult<Value> {
        let mut result = ptr::null_mut();
        napi_call!(self, napi_call_function(this, function, args.len(), args.as_ptr(), &mut result))?;
        Ok(result)
    }

    pub fn get_named(&self, object: Value, name: &std::ffi::CStr) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        napi_call!(self, napi_get_named_property(object, name.as_ptr(), &mut v))?;
        Ok(v)
    }

    pub fn get_element(&self, object: Value, index: u32) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        napi_call!(self, napi_get_element(object, index, &mut v))?;
        Ok(v)
    }

    pub fn array_length(&self, array: Value) -> JsResult<u32> {
        let mut n = 0;
        napi_call!(self, napi_get_array_length(array, &mut n))?;
        Ok(n)
    }

    /// A new Array of this realm holding `values`.
    pub fn array(&self, values: &[Value]) -> JsResult<Value> {
        let constructor = realm_value(self, |r| r.array)?;
        let mut array = ptr::null_mut();
        napi_call!(self, napi_new_instance(constructor, 0, ptr::null(), &mut array))?;
        for (i, v) in values.iter().enumerate() {
            napi_call!(self, napi_set_element(array, i as u32, *v))?;
        }
        Ok(array)
    }

    pub fn reference(&self, value: Value, count: u32) -> JsResult<sys::napi_ref> {
        let mut r = ptr::null_mut();
        napi_call!(self, napi_create_reference(value, count, &mut r))?;
        Ok(r)
    }

    /// The value of a reference, or None when it was weak and its value collected.
    pub fn reference_value(&self, reference: sys::napi_ref) -> Option<Value> {
        let mut v = ptr::null_mut();
        napi_call!(self, napi_get_reference_value(reference, &mut v)).ok()?;
        (!v.is_null()).then_some(v)
    }

    pub fn delete_reference(&self, reference: sys::napi_ref) {
        // SAFETY: valid env; `reference` was created in this env and is deleted once (callers
        // own their references).
        unsafe { sys::napi_delete_reference(self.env, reference) };
    }

    /// Throws `value` (a pending exception afterwards).
    pub fn throw(&self, value: Value) -> Pending {
        // SAFETY: valid env and a value of the current scope.
        unsafe { sys::napi_throw(self.env, value) };
        Pending
    }

    /// Takes the pending exception, leaving none pending.
    pub fn take_exception(&self) -> Value {
        let mut v = ptr::null_mut();
        // SAFETY: valid env, `v` a live local.
        unsafe { sys::napi_get_and_clear_last_exception(self.env, &mut v) };
        if v.is_null() {
            self.undefined()
        } else {
            v
        }
    }

    /// Throws a new error of the realm's class `which` with `message`.
    pub fn throw_new(&self, which: fn(&Realm) -> sys::napi_ref, message: &str) -> Pending {
        let error = (|| {
            let constructor = realm_value(self, which)?;
            let message = self.string(message)?;
            let mut error = ptr::null_mut();
            napi_call!(self, napi_new_instance(constructor, 1, &message, &mut error))?;
            Ok::<_, Pending>(error)
        })();
        match error {
            Ok(error) => self.throw(error),
            Err(pending) => pending,
        }
    }

    pub fn throw_type_error(&self, message: &str) -> Pending {
        self.throw_new(|r| r.type_error, message)
    }

    /// Attaches `data` to `object`, with `finalize` run when the object is collected.
    pub fn wrap(
        &self,
        object: Value,
        data: *mut c_void,
        finalize: unsafe extern "C" fn(sys::napi_env, *mut c_void, *mut c_void),
    ) -> JsResult<()> {
        napi_call!(self, napi_wrap(object, data, Some(finalize), ptr::null_mut(), ptr::null_mut()))
    }

    /// The data `wrap` attached to `object` (an object or function: the caller checked), if
    /// any wrap did; None otherwise, without throwing. Which addon object the data is, the
    /// caller must tell by the pointer alone (see `functions::exported_function`).
    pub fn unwrapped(&self, object: Value) -> Option<*mut c_void> {
        let mut data = ptr::null_mut();
        // SAFETY: valid env (invariant of `Js`), a value of the current scope and a live local.
        // On an object no wrap touched, Node-API returns napi_invalid_arg and throws nothing.
        let status = unsafe { sys::napi_unwrap(self.env, object, &mut data) };
        (status == sys::Status::napi_ok && !data.is_null()).then_some(data)
    }
}

// ---- The store: JS values held for wasm ----------------------------------------------------

thread_local! {
    /// A JS Array holding values the native side keeps: slot 0 is the exception an import threw
    /// on its way to the innermost entry; slots 1.. are externref values (the handle wasm sees is
    /// the slot index). An Array because Node-API (before version 10) cannot reference
    /// primitives directly. Slots are freed by `lifetimes::sweep`.
    ///
    /// One per JS thread (the main thread, each Worker), each in its own isolate. A handle means
    /// something only in the thread that made it, and with threads it never leaves it: an
    /// externref lives in locals, tables, globals and exceptions, none of which crosses threads
    /// (no table, global, instance or exception can be posted; a Module sent to a Worker gets new
    /// ones there), never in linear memory, the only storage threads share.
    static STORE: Cell<sys::napi_ref> = const { Cell::new(ptr::null_mut()) };
    static STORE_LENGTH: Cell<u32> = const { Cell::new(1) };
    /// Freed slots, reused before the array grows.
    static STORE_FREE: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
    /// Slots in use after the last sweep, and slots taken since.
    static STORE_LIVE: Cell<u32> = const { Cell::new(0) };
    static STORE_TAKEN: Cell<u32> = const { Cell::new(0) };
    /// Counts sweeps: a slot holds the same value for as long as this does not change (slots
    /// are only reused after a sweep freed them).
    static STORE_GENERATION: Cell<u64> = const { Cell::new(0) };
}

/// The store's generation (see `STORE_GENERATION`): (slot, generation) names one value.
pub fn store_generation() -> u64 {
    STORE_GENERATION.with(|g| g.get())
}

fn store(js: &Js) -> JsResult<Value> {
    let reference = STORE.with(|s| s.get());
    if !reference.is_null() {
        if let Some(array) = js.reference_value(reference) {
            return Ok(array);
        }
    }
    let mut array = ptr::null_mut();
    napi_call!(js, napi_create_array(&mut array))?;
    STORE.with(|s| s.set(js.reference(array, 1).unwrap_or(ptr::null_mut())));
    Ok(array)
}

/// Keeps `value` in a slot; returns the slot index (never 0).
pub fn store_push(js: &Js, value: Value) -> JsResult<u32> {
    let array = store(js)?;
    let index = match STORE_FREE.with(|f| f.borrow_mut().pop()) {
        Some(index) => index,
        None => STORE_LENGTH.with(|n| n.get()),
    };
    if let Err(pending) = napi_call!(js, napi_set_element(array, index, value)) {
        if index < STORE_LENGTH.with(|n| n.get()) {
            STORE_FREE.with(|f| f.borrow_mut().push(index));
        }
        return Err(pending);
    }
    if index == STORE_LENGTH.with(|n| n.get()) {
        STORE_LENGTH.with(|n| n.set(index + 1));
    }
    STORE_TAKEN.with(|t| t.set(t.get() + 1));
    crate::lifetimes::slot_taken();
    Ok(index)
}

/// Whether enough slots were taken since the last sweep that one should run now rather than
/// wait for the event loop.
pub fn store_wants_sweep() -> bool {
    STORE_TAKEN.with(|t| t.get()) > STORE_LIVE.with(|l| l.get()).max(4096)
}

pub fn store_get(js: &Js, index: u32) -> JsResult<Value> {
    let array = store(js)?;
    js.get_element(array, index)
}

pub fn store_set(js: &Js, index: u32, value: Value) -> JsResult<()> {
    let array = store(js)?;
    napi_call!(js, napi_set_element(array, index, value))
}

/// One past the highest slot index in use.
pub fn store_length() -> u32 {
    STORE_LENGTH.with(|n| n.get())
}

/// Frees every externref slot (1..) not `marked` (and not already free).
pub fn store_free_unmarked(js: &Js, marked: &[bool]) -> JsResult<()> {
    STORE_GENERATION.with(|g| g.set(g.get() + 1));
    let array = store(js)?;
    let length = store_length();
    let mut free: Vec<u32> = STORE_FREE.with(|f| std::mem::take(&mut *f.borrow_mut()));
    let mut is_free = vec![false; length as usize];
    for &i in &free {
        is_free[i as usize] = true;
    }
    let undefined = js.undefined();
    let mut live = 0;
    let mut result = Ok(());
    for index in 1..length {
        if is_free[index as usize] {
            continue;
        }
        if marked.get(index as usize).copied().unwrap_or(false) || result.is_err() {
            live += 1;
            continue;
        }
        result = napi_call!(js, napi_set_element(array, index, undefined));
        if result.is_ok() {
            free.push(index);
        } else {
            live += 1;
        }
    }
    // Lowest slots first, so that the array's tail stays unused.
    free.sort_unstable_by(|a, b| b.cmp(a));
    STORE_FREE.with(|f| *f.borrow_mut() = free);
    STORE_LIVE.with(|l| l.set(live));
    STORE_TAKEN.with(|t| t.set(0));
    result
}

// ---- The realm ------------------------------------------------------------------------------

/// References to the constructors and helpers of the realm that loaded one copy of index.js.
pub struct Realm {
    env: sys::napi_env,
    pub runtime_error: sys::napi_ref,
    pub type_error: sys::napi_ref,
    pub range_error: sys::napi_ref,
    pub array: sys::napi_ref,
    /// `(v) => BigInt.asIntN(64, v)`.
    pub to_bigint64: sys::napi_ref,
    /// `(v) => +v`.
    pub to_number: sys::napi_ref,
    /// IterableToList for multi-value results of imports.
    pub iterable_to_list: sys::napi_ref,
    /// `(target, name, length) => wrapper`: the exported function object of a native target.
    pub export_function: sys::napi_ref,
    /// `(callback) => void`: runs the callback on a later turn of the event loop (without keeping
    /// the process alive).
    pub schedule_sweep: sys::napi_ref,
    /// `(error, frames, fresh) => void`: puts the wasm frames of an activation into an error's
    /// `stack` (see `functions::throw_trap`).
    pub attach_wasm_frames: sys::napi_ref,
    /// `(ErrorClass, message, frames) => error`: a new error for a trap, with the frames in its
    /// stack.
    pub make_trap_error: sys::napi_ref,
    /// `(nativeTag, payload) => WebAssembly.Exception`: a wasm exception leaving wasm.
    pub make_exception: sys::napi_ref,
    /// `(value) => [nativeTag, payload] | undefined | null`: what a thrown WebAssembly.Exception
    /// holds; null for a trap's error (wasm handlers never catch it).
    pub exception_payload: sys::napi_ref,
    /// `(error) => undefined`: marks an error the engine made for a trap (or a deadline, or fuel
    /// running out), which stays uncatchable by wasm handlers even after crossing JS frames.
    pub mark_trap: sys::napi_ref,
    /// The memory growth epoch at which this realm's calls last refreshed ArrayBuffers.
    pub checked_epoch: Cell<u64>,
}

impl Drop for Realm {
    fn drop(&mut self) {
        // Realms are dropped on the JS thread of their env, by finalizers of objects of that
        // thread or when `init` replaces the default one (the default realm itself is leaked at
        // thread exit, see `DefaultRealm`).
        let js = Js { env: self.env, realm: None };
        let refs = [
            self.runtime_error,
            self.type_error,
            self.range_error,
            self.array,
            self.to_bigint64,
            self.to_number,
            self.iterable_to_list,
            self.export_function,
            self.schedule_sweep,
            self.attach_wasm_frames,
            self.make_trap_error,
            self.make_exception,
            self.exception_payload,
            self.mark_trap,
        ];
        for r in refs {
            js.delete_reference(r);
        }
    }
}

/// The default realm's slot. At thread exit it leaks the realm instead of dropping it: the env
/// may be gone by then, and with it the references a drop would delete.
struct DefaultRealm(RefCell<Option<Rc<Realm>>>);

impl Drop for DefaultRealm {
    fn drop(&mut self) {
        std::mem::forget(self.0.borrow_mut().take());
    }
}

thread_local! {
    /// The realm of the most recently loaded index.js: used when no entry point named one.
    static DEFAULT_REALM: DefaultRealm = const { DefaultRealm(RefCell::new(None)) };
}

/// The value of one of the entry point's realm's references.
pub fn realm_value(js: &Js, which: fn(&Realm) -> sys::napi_ref) -> JsResult<Value> {
    match js.realm.as_ref().and_then(|realm| js.reference_value(which(realm))) {
        Some(v) => Ok(v),
        None => {
            js.throw_error("cranewasm: the binding was used before index.js initialized it");
            Err(Pending)
        }
    }
}

/// The realm of `helpers` (an object of index.js), which also becomes the default one.
pub fn new_realm(js: &Js, helpers: Value) -> JsResult<Rc<Realm>> {
    let get = |name: &str| -> JsResult<sys::napi_ref> {
        let key = std::ffi::CString::new(name).unwrap_or_default();
        let mut v = ptr::null_mut();
        napi_call!(js, napi_get_named_property(helpers, key.as_ptr(), &mut v))?;
        js.reference(v, 1)
    };
    let realm = Rc::new(Realm {
        env: js.env,
        runtime_error: get("RuntimeError")?,
        type_error: get("TypeError")?,
        range_error: get("RangeError")?,
        array: get("Array")?,
        to_bigint64: get("toBigInt64")?,
        to_number: get("toNumber")?,
        iterable_to_list: get("iterableToList")?,
        export_function: get("exportFunction")?,
        schedule_sweep: get("scheduleSweep")?,
        attach_wasm_frames: get("attachWasmFrames")?,
        make_trap_error: get("makeTrapError")?,
        make_exception: get("makeException")?,
        exception_payload: get("exceptionPayload")?,
        mark_trap: get("markTrap")?,
        checked_epoch: Cell::new(0),
    });
    DEFAULT_REALM.with(|r| *r.0.borrow_mut() = Some(realm.clone()));
    Ok(realm)
}

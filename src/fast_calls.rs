//! The call boundary on V8's C++ API (`src/fast_calls.cc`): exported wasm functions whose native
//! function V8 calls directly, and import calls made with `v8::Function::Call`, for signatures of
//! plain numbers. Node-API's path (`functions.rs`) stays the fallback: for every other value
//! (the C++ side hands those to the Rust entries below as napi_values), for Node builds without
//! headers at build time (`cranewasm_no_shared_buffer`), and when `CRANEWASM_V8_CALLS=0` forces
//! it, so that both can be measured and tested.
//!
//! The entries below run inside a V8 API callback (or an import call made from wasm, itself
//! inside one), on the JS thread, with a V8 HandleScope open: what Node-API needs of its
//! caller. Node-API keeps an exception thrown by one of its functions in the env (its
//! `last_exception`) until the Node-API callback it ran in returns; there is none here, so the
//! entries take it out and hand it to C++, which throws it into V8.

use std::ffi::c_void;
use std::sync::OnceLock;

use wasmparser::{FuncType, ValType};

use crate::functions::{self, ExportedFunction};
use crate::js::{Js, JsResult, Pending, Value};

/// Most parameters of a fast signature (the C++ side's `kMaxFast`).
pub const MAX_FAST: usize = 8;
/// The kind of "no result".
pub const NONE: u8 = 0xfe;
/// The kind of anything not a number.
const OTHER: u8 = 0xff;

/// What the C++ side reads at the start of an `ExportedFunction` (`FastSignature` there).
#[repr(C)]
pub struct FastSignature {
    /// The function's parameter count.
    pub params: u32,
    /// 1 when every parameter and the result (if any) is a number, with at most [`MAX_FAST`]
    /// parameters and one result: the arguments are then read as raw bits.
    pub fast: u8,
    /// The result's kind, or [`NONE`].
    pub result: u8,
    pub kinds: [u8; MAX_FAST],
}

/// The kind of a value type: i32 0, i64 1, f32 2, f64 3, anything else 0xff.
pub fn kind(ty: ValType) -> u8 {
    match ty {
        ValType::I32 => 0,
        ValType::I64 => 1,
        ValType::F32 => 2,
        ValType::F64 => 3,
        _ => OTHER,
    }
}

impl FastSignature {
    pub fn of(ty: &FuncType) -> FastSignature {
        let params = ty.params();
        let results = ty.results();
        let mut kinds = [OTHER; MAX_FAST];
        for (k, p) in kinds.iter_mut().zip(params) {
            *k = kind(*p);
        }
        let result = match results {
            [] => NONE,
            [r] => kind(*r),
            _ => OTHER,
        };
        let fast = enabled()
            && params.len() <= MAX_FAST
            && kinds[..params.len()].iter().all(|k| *k != OTHER)
            && result != OTHER;
        FastSignature { params: params.len() as u32, fast: u8::from(fast), result, kinds }
    }
}

/// Whether the V8 paths are on: built with Node's headers, and not turned off by
/// `CRANEWASM_V8_CALLS=0` (read once per process; environment.js has checked the value).
pub fn enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| {
        if cfg!(cranewasm_no_shared_buffer) {
            return false;
        }
        let off = std::env::var("CRANEWASM_V8_CALLS")
            .map(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "0" | "false" | "no" | "off"))
            .unwrap_or(false);
        !off
    })
}

#[cfg(not(cranewasm_no_shared_buffer))]
extern "C" {
    fn cranewasm_exported_function_new(function: *mut c_void, name: *const std::ffi::c_char) -> Value;
    fn cranewasm_import_new(function: Value) -> *mut c_void;
    fn cranewasm_import_free(import: *mut c_void);
    fn cranewasm_import_call(import: *mut c_void, host: *mut c_void, sig: *const FastSignature, values: *mut c_void) -> u32;
}

/// A native function of V8's API calling `function` (an `ExportedFunction` box that outlives
/// it), or None when the V8 path is off or failed (then Node-API makes it).
pub fn exported_function_new(function: *mut ExportedFunction, name: &std::ffi::CStr) -> Option<Value> {
    #[cfg(not(cranewasm_no_shared_buffer))]
    if enabled() {
        // SAFETY: called on the JS thread inside a Node-API call (an isolate and a context are
        // current, a handle scope is open); `function` starts with its `FastSignature`
        // (#[repr(C)]) and outlives the function object (see `functions::js_function`).
        let value = unsafe { cranewasm_exported_function_new(function as *mut c_void, name.as_ptr()) };
        return (!value.is_null()).then_some(value);
    }
    let _ = (function, name);
    None
}

/// An import record for the JS function `value` (see `src/fast_calls.cc`), or null when the V8
/// path is off or `value` is not a function.
pub fn import_new(value: Value) -> *mut c_void {
    #[cfg(not(cranewasm_no_shared_buffer))]
    if enabled() {
        // SAFETY: on the JS thread inside a Node-API call; `value` is a value of the current
        // handle scope.
        return unsafe { cranewasm_import_new(value) };
    }
    let _ = value;
    std::ptr::null_mut()
}

/// # Safety
/// `import` must come from [`import_new`], be freed once, on its isolate's thread, while the
/// isolate lives.
pub unsafe fn import_free(import: *mut c_void) {
    #[cfg(not(cranewasm_no_shared_buffer))]
    if !import.is_null() {
        // SAFETY: as the caller promises.
        unsafe { cranewasm_import_free(import) };
    }
    let _ = import;
}

/// Calls an import through its record: see `cranewasm_import_call` in `src/fast_calls.cc`.
///
/// # Safety
/// `import` from [`import_new`] for the JS function of the host function whose data is `host`;
/// `sig` its signature, a fast one; `values` the exit trampoline's slots; on the JS thread, in
/// wasm called from JS.
pub unsafe fn import_call(import: *mut c_void, host: *mut c_void, sig: &FastSignature, values: *mut u128) -> u32 {
    #[cfg(not(cranewasm_no_shared_buffer))]
    {
        // SAFETY: as the caller promises.
        unsafe { cranewasm_import_call(import, host, sig, values as *mut c_void) }
    }
    #[cfg(cranewasm_no_shared_buffer)]
    {
        let _ = (import, host, sig, values);
        unreachable!("no import records without Node's headers")
    }
}

/// How a Rust entry ended, for C++: 0 returned, 1 threw `*value`, 2 no exception to throw.
fn finish(js: &Js, result: JsResult<Value>, value: &mut Value) -> u32 {
    match result {
        Ok(v) if !js.is_exception_pending() => {
            *value = v;
            0
        }
        Ok(_) | Err(Pending) => {
            if js.is_exception_pending() {
                *value = js.take_exception();
                1
            } else {
                2
            }
        }
    }
}

/// An exported function called with numbers: `raw` holds the arguments in the trampoline's
/// 16-byte slots, and on return the result in the first (0), or the exception (1: a napi_value
/// in the first slot's low 8 bytes; the slots are on a frame that every level of recursion
/// through imports keeps, so there is no separate out-parameter).
///
/// # Safety
/// Called by `CallFast` (src/fast_calls.cc): `function` is the live `ExportedFunction` of the
/// function being called, with a fast signature; `raw` is max(parameters, 1) slots, 16-byte
/// aligned.
#[no_mangle]
pub unsafe extern "C" fn cranewasm_exported_raw(function: *const ExportedFunction, raw: *mut u128) -> u32 {
    // SAFETY: as the caller promises (a fast signature has at most one result).
    let f = unsafe { &*function };
    let slots = (f.sig.params as usize).max(1);
    // SAFETY: as the caller promises.
    let raw = unsafe { std::slice::from_raw_parts_mut(raw, slots) };
    match functions::call_exported_raw(f, raw) {
        Ok(()) => 0,
        Err(pending) => raw_failed(f, pending, raw),
    }
}

/// A fast call that failed: its exception for C++, in the first slot.
#[cold]
#[inline(never)]
fn raw_failed(f: &ExportedFunction, pending: Pending, raw: &mut [u128]) -> u32 {
    // SAFETY: inside a V8 API callback on the env's JS thread (see the module docs).
    let js = unsafe { Js::with_realm(f.env, f.realm.as_ref()) };
    let mut value: Value = std::ptr::null_mut();
    let status = finish(&js, Err(pending), &mut value);
    raw[0] = value as usize as u128;
    status
}

/// An exported function called with anything else: `args` holds max(parameters, arguments)
/// napi_values (undefined past the arguments given).
///
/// # Safety
/// As for [`cranewasm_exported_raw`]; `args` holds at least the function's parameter count of
/// values of the callback's handle scope.
#[no_mangle]
pub unsafe extern "C" fn cranewasm_exported_values(function: *const ExportedFunction, args: *const Value, value: *mut Value) -> u32 {
    // SAFETY: as the caller promises.
    let (f, value) = unsafe { (&*function, &mut *value) };
    let params = f.sig.params as usize;
    // SAFETY: `args` holds at least `params` values (the caller's contract).
    let args = unsafe { std::slice::from_raw_parts(args, params) };
    // SAFETY: inside a V8 API callback on the env's JS thread.
    let js = unsafe { Js::with_realm(f.env, f.realm.as_ref()) };
    let result = functions::call_exported_args(&js, f, args);
    finish(&js, result, value)
}

/// Before an import call through V8: what the Node-API path does before calling (buffers,
/// lifetimes, the stack limit). 0 to go on, 1 when an exception was kept.
///
/// # Safety
/// `host` is the `HostData` of the host function being called, from `cranewasm_import_call`.
#[no_mangle]
pub unsafe extern "C" fn cranewasm_import_before(host: *const c_void) -> u32 {
    // SAFETY: as the caller promises.
    unsafe { functions::import_before(host) }
}

/// After an import call through V8 that the fast path could not finish (see
/// `cranewasm_import_settle` in src/fast_calls.cc).
///
/// # Safety
/// `host` as for [`cranewasm_import_before`]; `value` a value of the caller's handle scope or
/// null; `values` the exit trampoline's slots.
#[no_mangle]
pub unsafe extern "C" fn cranewasm_import_settle(host: *const c_void, value: Value, how: u32, values: *mut u128) -> u32 {
    // SAFETY: as the caller promises.
    unsafe { functions::import_settle(host, value, how, values) }
}

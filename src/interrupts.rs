//! The binding's side of interrupts (`cranewasm_engine::runtime::interrupts`): how wasm finds
//! out that V8 is terminating execution, and what a stopped call looks like in JS.
//!
//! Node stops JS with V8's TerminateExecution (`worker.terminate()`, `process.exit()` joining
//! workers, `vm` timeouts, `breakOnSigint`). V8 notices the request at its next stack check in
//! JS code; wasm of ours has none of V8's. So the engine's poll calls an empty JS function:
//! entering it runs V8's check, which turns the request into the termination exception, and the
//! call fails. A call that fails that way means "terminating": wasm unwinds to the innermost
//! entry from JS, which returns without throwing, and V8 goes on terminating from there (the
//! termination exception cannot be caught or replaced, only propagated).

use std::cell::Cell;
use std::ptr;

use cranewasm_engine::runtime::interrupts;
use napi::sys;

use crate::js::{napi_call, Js, JsResult, Value};

thread_local! {
    /// The env and the empty JS function this thread polls with.
    static POLL: Cell<(sys::napi_env, sys::napi_ref)> =
        const { Cell::new((ptr::null_mut(), ptr::null_mut())) };
    /// Set when a call out of wasm failed because V8 is terminating: the entries that the
    /// unwinding reaches return quietly. Cleared when the outermost entry returns.
    static TERMINATING: Cell<bool> = const { Cell::new(false) };
}

/// Sets up this thread's poll with `empty`, an empty JS function (once per thread: the first
/// realm's).
pub fn install(js: &Js, empty: Value) -> JsResult<()> {
    if !POLL.with(|p| p.get()).0.is_null() {
        return Ok(());
    }
    let reference = js.reference(empty, 1)?;
    POLL.with(|p| p.set((js.env, reference)));
    interrupts::set_host_poll(poll);
    Ok(())
}

/// The empty JS function of this thread's poll, if installed.
pub fn empty_function(js: &Js) -> Option<Value> {
    let (env, reference) = POLL.with(|p| p.get());
    if env.is_null() {
        return None;
    }
    js.reference_value(reference)
}

/// The engine's host poll: false when V8 is terminating execution on this thread.
fn poll() -> bool {
    let (env, reference) = POLL.with(|p| p.get());
    if env.is_null() {
        return true;
    }
    // SAFETY: the engine polls on the thread running wasm, which is the JS thread of `env`
    // (wasm runs only inside calls from JS), while that env is alive.
    let js = unsafe { Js::from_env(env) };
    !terminating(&js, reference)
}

/// Whether V8 is terminating execution: calling the empty function fails with the termination.
fn terminating(js: &Js, reference: sys::napi_ref) -> bool {
    let mut scope = ptr::null_mut();
    if napi_call!(js, napi_open_handle_scope(&mut scope)).is_err() {
        return true;
    }
    let failed = match js.reference_value(reference) {
        Some(empty) => js.call(empty, js.undefined(), &[]).is_err(),
        None => false,
    };
    // The call may also fail for an ordinary reason: the JS stack is exhausted (wasm recursing
    // through JS imports), and V8 threw its RangeError, an object. Termination is told apart by
    // what Node-API caught: nothing at all (Node refuses to call into a stopping environment),
    // or V8's termination exception, which Node-API hands out as `null`. The empty function
    // itself throws nothing.
    let terminated = failed && {
        let mut exception = ptr::null_mut();
        // SAFETY: a valid env on its JS thread; `exception` is a live local.
        unsafe { sys::napi_get_and_clear_last_exception(js.env, &mut exception) };
        // An ordinary exception of the empty call is dropped: the poll only asks a question.
        exception.is_null() || js.type_of(exception) != sys::ValueType::napi_object
    };
    if terminated {
        // The termination stays scheduled in V8; Node-API's copy of it was dropped above (it
        // would only make every later Node-API call fail).
        TERMINATING.with(|t| t.set(true));
        crate::lifetimes::note_outermost_work();
    }
    // SAFETY: closes the scope opened above, in this env.
    unsafe { sys::napi_close_handle_scope(js.env, scope) };
    terminated
}

/// After a call out of wasm threw: whether it threw because V8 is terminating (then the
/// exception, already taken, must not be rethrown).
pub fn call_out_terminated(js: &Js) -> bool {
    let (env, reference) = POLL.with(|p| p.get());
    !env.is_null() && terminating(js, reference)
}

/// Whether the wasm calls on this thread are being stopped by termination.
pub fn is_terminating() -> bool {
    TERMINATING.with(|t| t.get())
}

/// Marks the end of the outermost call from JS: later calls run normally again (a `vm`
/// timeout cancels the termination once it has stopped the script).
pub fn outermost_call_returned() {
    TERMINATING.with(|t| t.set(false));
}

//! Re-entry depth: wasm calling JS calling wasm, level after level, is bounded by V8's JS stack
//! limit, which Node sets about 1 MB below where the thread started (`--stack-size`, 984 KB) on
//! a main thread of 8 MB. A round trip costs about 2.2 KB of stack through V8's API (1.56 KB of
//! it V8's own: `Function::Call`'s entry into JS, the JS frame, the API callback's frames) and
//! 2.5 KB through Node-API, where V8's wasm stays in generated code, about 290 bytes: within
//! V8's limit, recursion through imports would stop after about 450 levels where V8's wasm
//! reaches 3,500.
//!
//! So, when a call out to JS finds the stack deep ([`TRIGGER`] below the first call out of this
//! thread), the binding moves V8's limit down to the engine's own wasm limit (256 KiB above the
//! thread's end, `traps::stack_limit`), for as long as wasm runs: when the outermost call from JS
//! into wasm returns, V8's limit is put back. Recursion through imports then ends where a wasm
//! frame or a JS frame would first cross that one line, and the 256 KiB below it stay for C++
//! code (V8's runtime, which throws the RangeError; the binding; the trap handler): more than the
//! 192 KiB Node itself leaves below V8's limit on every Worker thread (`kStackBufferSize`,
//! src/node_worker.h: "stack buffer size that is not available to the JS engine"). Node-API
//! cannot read V8's limit, so it is found once per thread, by calling an empty JS function from
//! deeper and deeper native frames until V8 refuses ([`learn_limit`]).
//! Without Node's headers at build time (`cranewasm_no_shared_buffer`) this is off.

use std::cell::Cell;
use std::hint::black_box;

use cranewasm_engine::runtime::traps;

use napi::sys;

use crate::js::{napi_call, Js};

/// How far below the thread's first call out of wasm the stack must be before V8's limit is
/// looked at: half of V8's default budget.
const TRIGGER: usize = 512 * 1024;


/// V8's limit as found: not yet looked for, unknown (never moved), or the address.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Learned {
    NotYet,
    Unknown,
    At(usize),
}

thread_local! {
    /// The stack pointer at the first call out of wasm on this thread (where "deep" starts).
    static SHALLOW: Cell<usize> = const { Cell::new(0) };
    static LEARNED: Cell<Learned> = const { Cell::new(Learned::NotYet) };
    /// Whether V8's limit is lowered now.
    static LOWERED: Cell<bool> = const { Cell::new(false) };
}

#[cfg(not(cranewasm_no_shared_buffer))]
extern "C" {
    /// src/stack_limit.cc: sets the current isolate's stack limit; 0 without an isolate.
    fn cranewasm_set_stack_limit(limit: usize) -> i32;
}

fn set_limit(limit: usize) -> bool {
    #[cfg(not(cranewasm_no_shared_buffer))]
    {
        // SAFETY: called on a JS thread inside a Node-API call (its isolate is current); the
        // limit is an address of this thread's stack with the engine's host reserve below it,
        // or V8's own.
        unsafe { cranewasm_set_stack_limit(limit) != 0 }
    }
    #[cfg(cranewasm_no_shared_buffer)]
    {
        let _ = limit;
        false
    }
}

fn stack_pointer() -> usize {
    let here = 0u8;
    black_box(&here) as *const u8 as usize
}

/// Called before each call out of wasm to JS: lowers V8's limit when the stack is deep.
pub fn before_call_out(js: &Js) {
    if cfg!(cranewasm_no_shared_buffer) || LOWERED.with(|l| l.get()) {
        return;
    }
    let sp = stack_pointer();
    let shallow = SHALLOW.with(|s| {
        if s.get() < sp {
            s.set(sp);
        }
        s.get()
    });
    if shallow - sp < TRIGGER {
        return;
    }
    let learned = match LEARNED.with(|l| l.get()) {
        Learned::NotYet => {
            let learned = learn_limit(js).map_or(Learned::Unknown, Learned::At);
            LEARNED.with(|l| l.set(learned));
            learned
        }
        learned => learned,
    };
    let Learned::At(limit) = learned else { return };
    // The engine's wasm limit (the thread's end plus its host reserve). Only ever lower than
    // V8's: on a Worker, V8's limit may already be lower (Node leaves 192 KiB below it).
    let lowered = traps::stack_limit();
    if lowered < limit && set_limit(lowered) {
        LOWERED.with(|l| l.set(true));
        crate::lifetimes::note_outermost_work();
    }
}

/// Called when the outermost call from JS into wasm returns: V8's limit is put back.
pub fn outermost_call_returned() {
    if !LOWERED.with(|l| l.replace(false)) {
        return;
    }
    if let Learned::At(limit) = LEARNED.with(|l| l.get()) {
        set_limit(limit);
    }
}

/// V8's current limit on this thread, to within a few hundred bytes: the stack pointer of the
/// first native frame, going down, from which calling an empty JS function fails with V8's
/// RangeError. None if that cannot be told (no empty function, another failure, or no failure
/// before the engine's wasm limit: V8's limit is then deeper than we would move it).
fn learn_limit(js: &Js) -> Option<usize> {
    let empty = crate::interrupts::empty_function(js)?;
    let floor = traps::stack_limit();
    descend(js, empty, floor)
}

/// One level of [`learn_limit`]'s descent: about 512 bytes of stack each.
#[inline(never)]
fn descend(js: &Js, empty: crate::js::Value, floor: usize) -> Option<usize> {
    let pad = black_box([0u8; 448]);
    let sp = stack_pointer();
    if sp < floor {
        return None;
    }
    if js.call(empty, js.undefined(), &[]).is_err() {
        let exception = js.take_exception();
        // V8's stack overflow is a RangeError; anything else (a termination) is not ours to read.
        return is_stack_overflow(js, exception).then_some(sp);
    }
    let found = descend(js, empty, floor);
    black_box(pad);
    found
}

/// Whether `exception` is V8's stack overflow error.
fn is_stack_overflow(js: &Js, exception: crate::js::Value) -> bool {
    const MESSAGE: &[u8] = b"Maximum call stack size exceeded";
    if exception.is_null() || js.type_of(exception) != sys::ValueType::napi_object {
        return false;
    }
    let Ok(message) = js.get_named(exception, c"message") else {
        js.take_exception();
        return false;
    };
    if js.type_of(message) != sys::ValueType::napi_string {
        return false;
    }
    let mut buffer = [0u8; 64];
    let mut length = 0usize;
    let read = napi_call!(
        js,
        napi_get_value_string_utf8(message, buffer.as_mut_ptr() as *mut _, buffer.len(), &mut length)
    );
    read.is_ok() && &buffer[..length] == MESSAGE
}

//! JS's `Atomics.wait`/`notify` and wasm's `memory.atomic.wait`/`notify` on one shared memory
//! wake each other (under cranewasm/register, which installs this in every thread). V8 keeps
//! JS's waiters in a list of its own that it does not expose, and the engine keeps wasm's in
//! `runtime::waiters`; so each side's notify also calls the other's:
//!
//! - JS's `Atomics.notify` (wrapped by clone.js) wakes JS waiters through V8, then up to the
//!   count left of wasm's through [`notify_wasm_waiters`].
//! - wasm's notify wakes the engine's waiters, then up to the count left of JS's through
//!   [`host_notify`]: V8's `Atomics.notify` on a buffer of the backing store that every thread's
//!   buffers of the memory share (objects.rs). V8 wakes only waiters of the notifier's backing
//!   store, and aborts the process when it meets a waiter at the same address on another live
//!   one; after a growth the JS buffers of the new length have a new store. So JS waits are
//!   recorded with the length of the buffer they wait on (the wrapped `Atomics.wait` and
//!   `waitAsync`), and a notify (wasm's, or JS's through [`js_notify_target`]) goes to V8 through
//!   the store all JS waiters of the address wait on. A JS wait that starts while others wait on
//!   the cell through another store (a buffer from before or after a growth) joins their store
//!   ([`js_wait`]), so the waiters of a cell always share one and every notify reaches them all.
//!
//! While no JS wait is under way in the process, a wasm notify costs one atomic load more.

use std::cell::Cell;
use std::ffi::c_void;
use std::ptr;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;

use cranewasm_engine::runtime::waiters;
use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

use crate::js::{napi_call, Js};
use crate::objects::Raw;

/// JS waits under way in the process (`Atomics.wait` blocking, `waitAsync` pending).
static JS_WAITERS: AtomicI32 = AtomicI32::new(0);
/// The same by native address, then by the byte length of the buffer waited on.
static JS_WAITS: Mutex<Option<HashMap<usize, HashMap<usize, u32>>>> = Mutex::new(None);

fn with_js_waits<R>(f: impl FnOnce(&mut HashMap<usize, HashMap<usize, u32>>) -> R) -> R {
    let mut waits = JS_WAITS.lock().unwrap_or_else(|e| e.into_inner());
    f(waits.get_or_insert_with(HashMap::new))
}

/// The lengths JS waits on at `address` are recorded with (those with a wait under way), after
/// forgetting those other than `keep` whose backing store is gone: no V8 waiter can be on a dead
/// store (a waiter's buffer keeps its store alive), so such a record is a wait that never ended
/// here (its Worker was terminated in it, which runs no `finally`). Lock order: JS_WAITS, then
/// the shared memories' registry.
fn waited_lengths(waits: &mut HashMap<usize, HashMap<usize, u32>>, address: usize, keep: Option<usize>) -> Vec<usize> {
    let Some(lengths) = waits.get_mut(&address) else {
        return Vec::new();
    };
    #[cfg(not(cranewasm_no_shared_buffer))]
    if lengths.len() > 1 || keep.is_some_and(|k| !lengths.contains_key(&k)) {
        lengths.retain(|&length, count| {
            let live = Some(length) == keep || crate::objects::shared_store_alive(address, length);
            if !live {
                JS_WAITERS.fetch_sub(*count as i32, Ordering::SeqCst);
            }
            live
        });
    }
    #[cfg(cranewasm_no_shared_buffer)]
    let _ = keep;
    let waited: Vec<usize> = lengths.iter().filter(|(_, n)| **n > 0).map(|(l, _)| *l).collect();
    if lengths.is_empty() {
        waits.remove(&address);
    }
    waited
}

thread_local! {
    /// This thread's env and `(buffer, index, count) => Atomics.notify(new Int32Array(buffer), index, count)`
    /// (V8's own notify, kept before clone.js wrapped it).
    static NOTIFIER: Cell<(sys::napi_env, sys::napi_ref)> = const { Cell::new((ptr::null_mut(), ptr::null_mut())) };
}

#[cfg(not(cranewasm_no_shared_buffer))]
use crate::shared_buffer::{cranewasm_shared_array_buffer_data};

/// An ArrayBuffer over `word` (read-only for JS, which index.js never writes): clone.js's notify
/// reads the counts without a call.
fn word_view(env: &Env, word: *const i32) -> Result<Raw> {
    let mut buffer = ptr::null_mut();
    // SAFETY: the word is a static, so its bytes outlive every buffer over them (no finalizer);
    // a concurrent update by another thread makes a read stale, never unsound.
    let status = unsafe { sys::napi_create_external_arraybuffer(env.raw(), word as *mut c_void, 4, None, ptr::null_mut(), &mut buffer) };
    if status != sys::Status::napi_ok {
        return Err(Error::from_reason("cranewasm: cannot make the waiter counts' view"));
    }
    Ok(Raw(buffer))
}

/// Views of the counts of wasm waits and of JS waits under way (i32 each).
#[napi]
pub fn waiter_count_views(env: Env) -> Result<Vec<Raw>> {
    Ok(vec![
        word_view(&env, waiters::waiting_word().as_ptr() as *const i32)?,
        word_view(&env, JS_WAITERS.as_ptr() as *const i32)?,
    ])
}

/// Sets up this thread's side (once per thread) with `notifier` (see NOTIFIER).
#[napi]
pub fn install_atomics_bridge(env: Env, notifier: Raw) -> Result<()> {
    if !NOTIFIER.with(|n| n.get()).0.is_null() {
        return Ok(());
    }
    // SAFETY: a Node-API call on this env's JS thread.
    let js = unsafe { Js::from_env(env.raw()) };
    let reference = js.reference(notifier.0, 1).map_err(|_| Error::from_reason("cranewasm: cannot keep the notifier"))?;
    NOTIFIER.with(|n| n.set((env.raw(), reference)));
    waiters::set_host_notify(host_notify);
    Ok(())
}

/// The native address and buffer length of the cell at `byte_offset` of `buffer`, if it is a
/// SharedArrayBuffer holding that offset.
fn cell_of(buffer: &Raw, byte_offset: f64) -> Option<(usize, usize)> {
    #[cfg(not(cranewasm_no_shared_buffer))]
    {
        let (mut data, mut length) = (ptr::null_mut(), 0usize);
        // SAFETY: `buffer` is a napi_value of the current call; the helper only reads it.
        if unsafe { cranewasm_shared_array_buffer_data(buffer.0, &mut data, &mut length) } == 0
            || !(byte_offset >= 0.0 && byte_offset < length as f64)
        {
            return None;
        }
        Some((data as usize + byte_offset as usize, length))
    }
    #[cfg(cranewasm_no_shared_buffer)]
    {
        let _ = (buffer, byte_offset);
        None
    }
}

/// The buffer JS's `Atomics.notify` on the cell at `byte_offset` of `buffer` must go through to
/// V8: `buffer` itself, or one over the backing store all of the cell's JS waiters wait on (V8
/// wakes only those of the notifier's store, and aborts on a waiter of another live store at
/// the address); null when they wait on buffers of different stores, which no notify of V8's
/// can reach safely ([`js_wait`] makes them join one store; this stays for a join that could not
/// be made).
#[napi]
pub fn js_notify_target(env: Env, buffer: Raw, byte_offset: f64) -> Option<Raw> {
    let _ = env;
    let Some((address, length)) = cell_of(&buffer, byte_offset) else {
        return Some(buffer);
    };
    let waited: Vec<usize> = with_js_waits(|waits| waited_lengths(waits, address, None));
    match waited.as_slice() {
        [] => Some(buffer),
        [only] if *only == length => Some(buffer),
        #[cfg(not(cranewasm_no_shared_buffer))]
        [only] => crate::objects::shared_buffer_at(address, *only).map(|(target, _)| Raw(target)),
        _ => None,
    }
}

/// A JS wait on the cell at `byte_offset` of `buffer` starts (`begin`) or ends. When it starts
/// while other JS waits on the cell wait on a buffer of another length (a growth came between),
/// the wait must go to V8 through a buffer over *their* backing store, which this returns: V8
/// keys waiters by address, wakes those of the notifier's store only, and frees the others it
/// meets (see the module's doc), so every JS waiter of a cell waits on one store, and any notify
/// (JS's through [`js_notify_target`], wasm's through [`host_notify`]) reaches them all. The
/// caller ends the wait with the buffer it waited on.
#[napi]
pub fn js_wait(buffer: Raw, byte_offset: f64, begin: bool) -> Option<Raw> {
    let (address, length) = cell_of(&buffer, byte_offset)?;
    with_js_waits(|waits| {
        let mut length = length;
        let mut target = None;
        if begin {
            // Another length than ours with waiters: theirs (there is only ever one, as every
            // wait that starts joins the waiters already there).
            let other = waited_lengths(waits, address, Some(length)).into_iter().find(|&l| l != length);
            if let Some(other) = other {
                // Their buffers keep that store alive while they wait, and the cell is inside it
                // (they wait on it); the lock order is JS_WAITS, then SHARED_MEMORIES.
                #[cfg(not(cranewasm_no_shared_buffer))]
                if let Some((joined, _)) = crate::objects::shared_buffer_at(address, other) {
                    target = Some(Raw(joined));
                    length = other;
                }
            }
        }
        let lengths = waits.entry(address).or_default();
        let count = lengths.entry(length).or_default();
        if begin {
            *count += 1;
            JS_WAITERS.fetch_add(1, Ordering::SeqCst);
        } else if *count > 0 {
            *count -= 1;
            JS_WAITERS.fetch_sub(1, Ordering::SeqCst);
        }
        if *count == 0 {
            lengths.remove(&length);
        }
        if lengths.is_empty() {
            waits.remove(&address);
        }
        target
    })
}

/// Wakes at most `count` wasm waiters of the cell at `byte_offset` in `buffer` (a
/// SharedArrayBuffer; another value wakes none); how many it woke.
#[napi]
pub fn notify_wasm_waiters(buffer: Raw, byte_offset: f64, count: f64) -> u32 {
    match cell_of(&buffer, byte_offset) {
        // Only an address: the queue is keyed by it and never dereferences it.
        Some((address, _)) if count >= 1.0 => waiters::notify(address, count.min(u32::MAX as f64) as u32),
        _ => 0,
    }
}

/// The engine's host notify (wasm's notify, after the engine's own waiters): V8's
/// `Atomics.notify` on the cell at native `address`, through this thread's notifier, when that
/// is safe (see the module's doc).
fn host_notify(address: usize, count: u32) -> u32 {
    if JS_WAITERS.load(Ordering::SeqCst) <= 0 {
        return 0;
    }
    // The one length every JS waiter of the address waits on, if there is one.
    let waited = with_js_waits(|waits| match waited_lengths(waits, address, None).as_slice() {
        [only] => Some(*only),
        _ => None,
    });
    let Some(waited) = waited else {
        return 0;
    };
    let (env, reference) = NOTIFIER.with(|n| n.get());
    if env.is_null() {
        return 0;
    }
    #[cfg(not(cranewasm_no_shared_buffer))]
    {
        // SAFETY: wasm runs only inside calls from JS, so this is the JS thread of `env`, alive.
        let js = unsafe { Js::from_env(env) };
        let mut scope = ptr::null_mut();
        if napi_call!(js, napi_open_handle_scope(&mut scope)).is_err() {
            return 0;
        }
        let woken = match crate::objects::shared_buffer_at(address, waited) {
            Some((buffer, offset)) => {
                match (js.reference_value(reference), js.double((offset / 4) as f64), js.double(count as f64)) {
                    (Some(notifier), Ok(index), Ok(count)) => match js.call(notifier, js.undefined(), &[buffer, index, count]) {
                        Ok(result) => js.to_number(result).unwrap_or(0.0),
                        Err(_) => {
                            // V8 is terminating (or the stack is exhausted): nobody is woken by us;
                            // a termination stays scheduled in V8 (see interrupts.rs).
                            let mut exception = ptr::null_mut();
                            // SAFETY: a valid env on its JS thread; `exception` is a live local.
                            unsafe { sys::napi_get_and_clear_last_exception(js.env, &mut exception) };
                            0.0
                        }
                    },
                    _ => 0.0,
                }
            }
            _ => 0.0,
        };
        // SAFETY: closes the scope opened above, in this env.
        unsafe { sys::napi_close_handle_scope(js.env, scope) };
        woken as u32
    }
    #[cfg(cranewasm_no_shared_buffer)]
    {
        let _ = (address, count, waited, reference);
        0
    }
}

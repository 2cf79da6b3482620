//! Lifetimes: how JS's garbage collector decides when engine objects die.
//!
//! Every instance, and every table and global that can hold references, has one *anchor*: the
//! native JS object (NativeInstance, NativeTable, NativeGlobal) whose finalizer releases the
//! engine object. What keeps an engine object alive is expressed as JS references between
//! anchors, so that V8 sees the whole graph, cycles through JS closures included, and collects
//! it like any other:
//!
//! - an instance's anchor references its import values (the JS functions it calls, the anchors
//!   of the memories, tables and globals it imports, the exported functions of other instances)
//!   and the anchors of its own funcref tables and globals;
//! - a table's or global's anchor references the anchor of every instance whose functions were
//!   stored in it (and the JS function of every imported JS function stored in it): the engine
//!   reports each new (holder, owner) pair through its `RefSink`, and [`flush`] turns the pairs
//!   into edges before control returns to JS;
//! - an exported function's native target references its instance's anchor (or its JS function).
//!
//! Native `Arc`s between engine objects only go one way (an instance holds what it imports and
//! defines), so they never form cycles. The one assumption: Node-API finalizers do not run while
//! wasm is on the stack (Node defers them to the event loop), so an object the JS graph no longer
//! reaches is freed only after every call into it has returned.
//!
//! Externref values live in the per-thread store (`js::store_*`) and are traced instead: when
//! any were stored or created since the last sweep, a sweep is scheduled for the next turn of the
//! event loop (or runs at once when many were created without one); it keeps the values some
//! live table or global holds and frees the other slots.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ptr;
use std::rc::Rc;
use std::sync::{Arc, Weak};

use cranewasm_engine::runtime::global::Global;
use cranewasm_engine::runtime::instance::{FunctionOwner, Instance};
use cranewasm_engine::runtime::refs::{self, Holder, RefSink};
use cranewasm_engine::runtime::table::Table;
use napi::sys;
use wasmparser::ValType;

use crate::functions;
use crate::js::{self, napi_call, Js, JsResult, Value};
use crate::values;

/// The property of an anchor holding the JS values it keeps alive.
const EDGES: &std::ffi::CStr = c"cranewasmEdges";

// Per thread, like the engine's `RefSink` and the store of js.rs: every object below belongs to
// the JS thread that made it (see the Send claim of the engine's `Instance`: no instance, table
// or global reaches another thread, even with threads), and so do its anchors and sweeps.
thread_local! {
    /// Anchors by the address of their engine object (`Arc::as_ptr`), as weak references.
    static ANCHORS: RefCell<HashMap<usize, sys::napi_ref>> = RefCell::new(HashMap::new());
    /// (holder, owner) pairs the engine reported, to become edges at the next flush. The owner
    /// is held until then.
    static PENDING: RefCell<Vec<(Holder, FunctionOwner)>> = const { RefCell::new(Vec::new()) };
    /// The flags every call into wasm reads (one thread-local: each lookup is a call to
    /// `__tls_get_addr` in a shared library).
    static CALLS: Calls = const {
        Calls {
            depth: Cell::new(0),
            outermost_work: Cell::new(false),
            pairs: Cell::new(false),
            dirty: Cell::new(false),
            sweep_scheduled: Cell::new(false),
        }
    };
    /// Tables and globals of externref type, traced by sweeps.
    static EXTERNREF_TABLES: RefCell<Vec<Weak<Table>>> = const { RefCell::new(Vec::new()) };
    static EXTERNREF_GLOBALS: RefCell<Vec<Weak<Global>>> = const { RefCell::new(Vec::new()) };
    /// The sweep callback handed to `scheduleSweep` (made once per thread).
    static SWEEP_FUNCTION: Cell<sys::napi_ref> = const { Cell::new(ptr::null_mut()) };
}

struct Calls {
    /// How many calls into wasm are on this thread's stack.
    depth: Cell<u32>,
    /// Whether the outermost call has something to undo (V8's stack limit lowered, a
    /// termination seen): see [`note_outermost_work`].
    outermost_work: Cell<bool>,
    /// Whether `PENDING` holds pairs.
    pairs: Cell<bool>,
    /// Whether externrefs were stored or store slots taken since the last sweep.
    dirty: Cell<bool>,
    sweep_scheduled: Cell<bool>,
}

struct BindingSink;

impl RefSink for BindingSink {
    fn funcref_stored(&self, holder: Holder, owner: &FunctionOwner) -> bool {
        PENDING.with(|p| p.borrow_mut().push((holder, owner.clone())));
        CALLS.with(|c| c.pairs.set(true));
        true
    }

    fn externref_stored(&self) {
        CALLS.with(|c| c.dirty.set(true));
    }
}

/// Installs the binding's reference sink on this thread (idempotent).
pub fn install() {
    thread_local! {
        static INSTALLED: Cell<bool> = const { Cell::new(false) };
    }
    if !INSTALLED.with(|i| i.replace(true)) {
        refs::set_sink(Some(Rc::new(BindingSink)));
    }
}

// ---- Anchors ---------------------------------------------------------------------------------

pub fn key<T>(object: &Arc<T>) -> usize {
    Arc::as_ptr(object) as *const u8 as usize
}

/// The live anchor of the engine object at `key`, if any.
pub fn anchor(js: &Js, key: usize) -> Option<Value> {
    let reference = ANCHORS.with(|a| a.borrow().get(&key).copied())?;
    js.reference_value(reference)
}

/// Makes `object` the anchor of the engine object at `key`.
pub fn register_anchor(js: &Js, key: usize, object: Value) -> JsResult<()> {
    let reference = js.reference(object, 0)?;
    if let Some(old) = ANCHORS.with(|a| a.borrow_mut().insert(key, reference)) {
        js.delete_reference(old);
    }
    Ok(())
}

/// Called when an anchor's engine object is released (its finalizer): forgets the anchor
/// unless a newer one took its place, and lets a sweep release what it traced.
pub fn anchor_released(env: sys::napi_env, key: usize) {
    // SAFETY: finalizers run on the JS thread of `env`.
    let js = unsafe { Js::from_env(env) };
    let reference = ANCHORS.with(|a| a.borrow().get(&key).copied());
    if let Some(reference) = reference {
        if js.reference_value(reference).is_none() {
            ANCHORS.with(|a| a.borrow_mut().remove(&key));
            js.delete_reference(reference);
        }
    }
    CALLS.with(|c| c.dirty.set(true));
    schedule_sweep(&js);
}

/// Adds `to` to the values `from` keeps alive.
pub fn add_edge(js: &Js, from: Value, to: Value) -> JsResult<()> {
    let mut has = false;
    napi_call!(js, napi_has_named_property(from, EDGES.as_ptr(), &mut has))?;
    let edges = if has {
        let mut edges = ptr::null_mut();
        napi_call!(js, napi_get_named_property(from, EDGES.as_ptr(), &mut edges))?;
        edges
    } else {
        let mut edges = ptr::null_mut();
        napi_call!(js, napi_create_array(&mut edges))?;
        napi_call!(js, napi_set_named_property(from, EDGES.as_ptr(), edges))?;
        edges
    };
    let length = js.array_length(edges)?;
    napi_call!(js, napi_set_element(edges, length, to))
}

/// The JS value that keeps `owner` alive: its instance's anchor, or the JS function of a host
/// function.
pub fn owner_anchor(js: &Js, owner: &FunctionOwner) -> Option<Value> {
    match owner {
        FunctionOwner::Instance(instance) => anchor(js, key(instance)),
        FunctionOwner::Host(host) => functions::host_callable(js, host),
    }
}

/// Turns the pairs the engine reported into edges. Runs before control returns to JS (and
/// before JS code runs from an import), with no exception pending; a pair whose ends have no JS
/// value is kept natively by the holder instead.
pub fn flush(js: &Js) {
    if CALLS.with(|c| !c.pairs.get() && !c.dirty.get()) {
        return;
    }
    loop {
        let pending = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
        CALLS.with(|c| c.pairs.set(false));
        if pending.is_empty() {
            break;
        }
        for (holder, owner) in pending {
            let from = match holder {
                Holder::Table(t) => anchor(js, t as usize),
                Holder::Global(g) => anchor(js, g as usize),
            };
            let to = owner_anchor(js, &owner);
            let linked = match (from, to) {
                (Some(from), Some(to)) => add_edge(js, from, to).is_ok(),
                _ => false,
            };
            if !linked {
                js.take_exception();
                // SAFETY: the holder is alive: pairs are flushed within the native call that
                // reported them, and engine objects are only released by finalizers, which do
                // not run during a native call.
                unsafe {
                    match holder {
                        Holder::Table(t) => (*t).retain(owner),
                        Holder::Global(g) => (*g).retain(owner),
                    }
                }
            }
        }
    }
    if CALLS.with(|c| c.dirty.get()) {
        schedule_sweep(js);
    }
}

// ---- Calls into wasm -------------------------------------------------------------------------

/// Marks a call into wasm for as long as it lives (sweeps wait until none is on the stack).
/// Holds this thread's `CALLS` (so it is neither Send nor Sync).
pub struct WasmCall(*const Calls);

impl WasmCall {
    pub fn enter() -> WasmCall {
        let calls = CALLS.with(|c| {
            if c.depth.get() == 0 && c.outermost_work.replace(false) {
                // A termination that stopped an earlier call is over (see `interrupts`).
                crate::interrupts::outermost_call_returned();
            }
            c.depth.set(c.depth.get() + 1);
            c as *const Calls
        });
        WasmCall(calls)
    }
}

impl Drop for WasmCall {
    fn drop(&mut self) {
        // SAFETY: `CALLS` of this thread (a WasmCall never leaves its thread), which lives as
        // long as the thread.
        let calls = unsafe { &*self.0 };
        calls.depth.set(calls.depth.get() - 1);
        if calls.depth.get() == 0 && calls.outermost_work.get() {
            crate::stack_limit::outermost_call_returned();
            // What is left for the next outermost call: a termination to forget.
            calls.outermost_work.set(crate::interrupts::is_terminating());
        }
    }
}

/// Something the outermost call must undo was done (V8's stack limit lowered, a termination
/// seen): `stack_limit::outermost_call_returned` runs when it returns, and
/// `interrupts::outermost_call_returned` when the next outermost call starts.
pub fn note_outermost_work() {
    CALLS.with(|c| c.outermost_work.set(true));
}

fn in_wasm() -> bool {
    CALLS.with(|c| c.depth.get()) > 0
}

// ---- Externref tracing -----------------------------------------------------------------------

pub fn register_externref_table(table: &Arc<Table>) {
    if values::is_externref(table.element_type()) {
        EXTERNREF_TABLES.with(|t| t.borrow_mut().push(Arc::downgrade(table)));
    }
}

pub fn register_externref_global(global: &Arc<Global>) {
    if matches!(global.ty.content_type, ValType::Ref(r) if values::is_externref(r)) {
        EXTERNREF_GLOBALS.with(|g| g.borrow_mut().push(Arc::downgrade(global)));
    }
}

/// A store slot was taken: the store needs sweeping.
pub fn slot_taken() {
    CALLS.with(|c| c.dirty.set(true));
}

/// What every native entry point that may have run wasm does before returning to JS, once
/// nothing it converted is still to be read: flush the reported pairs into edges, and sweep
/// the store at once when many slots were taken since the last sweep and no wasm is on the stack.
pub fn after_call(js: &Js) {
    // The common case, on every call: nothing was stored, nothing to sweep.
    let (pairs, dirty, scheduled, running) =
        CALLS.with(|c| (c.pairs.get(), c.dirty.get(), c.sweep_scheduled.get(), c.depth.get() > 0));
    if !pairs && (!dirty || (scheduled && (running || !js::store_wants_sweep()))) {
        return;
    }
    // An exception on its way to JS (a trap, a failed conversion) stays pending, untouched.
    let pending = js.is_exception_pending().then(|| js.take_exception());
    flush(js);
    if !in_wasm() && js::store_wants_sweep() {
        sweep(js);
    }
    if let Some(exception) = pending {
        js.take_exception();
        let _ = js.throw(exception);
    }
}

fn schedule_sweep(js: &Js) {
    if CALLS.with(|c| c.sweep_scheduled.get()) {
        return;
    }
    let scheduled = (|| -> JsResult<()> {
        let mut function = SWEEP_FUNCTION.with(|f| f.get());
        if function.is_null() {
            let mut created = ptr::null_mut();
            napi_call!(
                js,
                napi_create_function(c"sweep".as_ptr(), 5, Some(sweep_callback), ptr::null_mut(), &mut created)
            )?;
            function = js.reference(created, 1)?;
            SWEEP_FUNCTION.with(|f| f.set(function));
        }
        let callback = js.reference_value(function).ok_or(js::Pending)?;
        let schedule = js::realm_value(js, |r| r.schedule_sweep)?;
        js.call(schedule, js.undefined(), &[callback])?;
        Ok(())
    })();
    match scheduled {
        Ok(()) => CALLS.with(|c| c.sweep_scheduled.set(true)),
        // No realm yet, or the env is going away: the next flush tries again.
        Err(_) => {
            js.take_exception();
        }
    }
}

unsafe extern "C" fn sweep_callback(env: sys::napi_env, _info: sys::napi_callback_info) -> Value {
    CALLS.with(|c| c.sweep_scheduled.set(false));
    // SAFETY: Node runs this callback on the JS thread with its env.
    let js = unsafe { Js::from_env(env) };
    if !in_wasm() {
        sweep(&js);
    }
    ptr::null_mut()
}

/// Frees the store slots that no live externref table or global holds. Only when no wasm is on
/// the stack: then every externref wasm can still use is in a table or a global.
pub fn sweep(js: &Js) {
    debug_assert!(!in_wasm());
    CALLS.with(|c| c.dirty.set(false));
    let length = js::store_length();
    let mut marked = vec![false; length as usize];
    let mut mark = |handle: usize| {
        if let Some(m) = marked.get_mut(handle) {
            *m = true;
        }
    };
    EXTERNREF_TABLES.with(|tables| {
        tables.borrow_mut().retain(|weak| match weak.upgrade() {
            Some(table) => {
                table.elements_mut().iter().for_each(|&e| mark(e));
                true
            }
            None => false,
        })
    });
    EXTERNREF_GLOBALS.with(|globals| {
        globals.borrow_mut().retain(|weak| match weak.upgrade() {
            Some(global) => {
                mark(global.get() as usize);
                true
            }
            None => false,
        })
    });
    if js::store_free_unmarked(js, &marked).is_err() {
        js.take_exception();
    }
}

/// Makes `object` the instance's anchor, keeping its import values (`imports`, a JS array)
/// alive. Edges to its own tables and globals are added by whoever makes their anchors.
pub fn anchor_instance(js: &Js, instance: &Arc<Instance>, object: Value, imports: Value) -> JsResult<()> {
    register_anchor(js, key(instance), object)?;
    napi_call!(js, napi_set_named_property(object, EDGES.as_ptr(), imports))
}

/// Makes `owner` what the native target of an exported function keeps alive.
pub fn set_owner(js: &Js, target: Value, owner: Value) -> JsResult<()> {
    napi_call!(js, napi_set_named_property(target, EDGES.as_ptr(), owner))
}

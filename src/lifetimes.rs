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
    /// How many calls into wasm are on this thread's stack.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// Tables and globals of externref type, traced by sweeps.
    static EXTERNREF_TABLES: RefCell<Vec<Weak<Table>>> = const { RefCell::new(Vec::new()) };
    static EXTERNREF_GLOBALS: RefCell<Vec<Weak<Global>>> = const { RefCell::new(Vec::new()) };
    /// Whether externrefs were stored or store slots taken since the last sweep.
    static DIRTY: Cell<bool> = const { Cell::new(false) };
    static SWEEP_SCHEDULED: Cell<bool> = const { Cell::new(false) };
    /// The sweep callback handed to `scheduleSweep` (made once per thread).
    static SWEEP_FUNCTION: Cell<sys::napi_ref> = const { Cell::new(ptr::null_mut()) };
}

struct BindingSink;

impl RefSink for BindingSink {
    fn funcref_stored(&self, holder: Holder, owner: &FunctionOwner) -> bool {
        PENDING.with(|p| p.borrow_mut().push((holder, owner.clone())));
        true
    }

    fn externref_stored(&self) {
        DIRTY.with(|d| d.set(true));
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
    DIRTY.with(|d| d.set(true));
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
    if PENDING.with(|p| p.borrow().is_empty()) && !DIRTY.with(|d| d.get()) {
        return;
    }
    loop {
        let pending = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
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
    if DIRTY.with(|d| d.get()) {
        schedule_sweep(js);
    }
}

// ---- Calls into wasm -------------------------------------------------------------------------

/// Marks a call into wasm for as long as it lives (sweeps wait until none is on the stack).
pub struct WasmCall(());

impl WasmCall {
    pub fn enter() -> WasmCall {
        DEPTH.with(|d| {
            if d.get() == 0 {
                // A termination that stopped an earlier call is over (see `interrupts`).
                crate::interrupts::outermost_call_returned();
            }
            d.set(d.get() + 1)
        });
        WasmCall(())
    }
}

impl Drop for WasmCall {
    fn drop(&mut self) {
        let depth = DEPTH.with(|d| {
            d.set(d.get() - 1);
            d.get()
        });
        if depth == 0 {
            crate::stack_limit::outermost_call_returned();
        }
    }
}

fn in_wasm() -> bool {
    DEPTH.with(|d| d.get()) > 0
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
    DIRTY.with(|d| d.set(true));
}

/// What every native entry point that may have run wasm does before returning to JS, once
/// nothing it converted is still to be read: flush the reported pairs into edges, and sweep
/// the store at once when many slots were taken since the last sweep and no wasm is on the stack.
pub fn after_call(js: &Js) {
    // The common case, on every call: nothing was stored, nothing to sweep.
    let pairs = PENDING.with(|p| !p.borrow().is_empty());
    if !pairs {
        let dirty = DIRTY.with(|d| d.get());
        let scheduled = SWEEP_SCHEDULED.with(|s| s.get());
        if !dirty || (scheduled && (in_wasm() || !js::store_wants_sweep())) {
            return;
        }
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
    if SWEEP_SCHEDULED.with(|s| s.get()) {
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
        Ok(()) => SWEEP_SCHEDULED.with(|s| s.set(true)),
        // No realm yet, or the env is going away: the next flush tries again.
        Err(_) => {
            js.take_exception();
        }
    }
}

unsafe extern "C" fn sweep_callback(env: sys::napi_env, _info: sys::napi_callback_info) -> Value {
    SWEEP_SCHEDULED.with(|s| s.set(false));
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
    DIRTY.with(|d| d.set(false));
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

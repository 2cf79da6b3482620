//! What keeps the code behind a stored funcref alive.
//!
//! A funcref value is the address of a `VMFuncRef` inside its owner: an instance's vmctx or a
//! host function. Tables and globals hold such raw addresses, written by generated code
//! (`table.set`, `global.set`, the bulk table operations, element segments) or by the host, so
//! every store goes through [`RefHolder::note`], which finds the value's owner and, the first
//! time a holder sees that owner, asks the thread's [`RefSink`] to keep the owner alive for as
//! long as the holder can be reached.
//!
//! Keeping it alive with an `Arc` inside the holder is simple but leaks cycles: an instance
//! holds its own table, whose elements point into the instance. An embedder with a garbage
//! collector (the Node binding) installs a sink that turns each new (holder, owner) pair into an
//! edge of its own object graph, so that cycles are collected with everything else. Without a
//! sink, the holder retains the owner itself; [`ScopedStore`] is the middle ground for runners
//! that create many short-lived instances (the owners live until the scope ends, as in a
//! Wasmtime `Store`).
//!
//! Externref values are the host's handles; their liveness is the host's business. Every store
//! of one is reported to the sink ([`RefSink::externref_stored`]) so that the host knows when
//! its handles need tracing again.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::rc::Rc;

use super::global::Global;
use super::instance::{func_ref_owner, FunctionOwner};
use super::table::Table;

/// A table or a global that a reference was stored in, by address (that of the `Table` or
/// `Global` inside its `Arc`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Holder {
    Table(*const Table),
    Global(*const Global),
}

/// Keeps the owners of stored funcrefs alive, and hears about stored externrefs.
pub trait RefSink {
    /// `holder` now holds a reference into `owner` (reported once per pair while the holder
    /// lives). Returns whether the sink keeps `owner` alive for as long as `holder` is reachable;
    /// if not, the holder retains it.
    fn funcref_stored(&self, holder: Holder, owner: &FunctionOwner) -> bool;

    /// An externref handle (or null) was stored into a table or a global.
    fn externref_stored(&self) {}
}

thread_local! {
    /// Per thread: with threads, each thread's holders (tables, globals) and the owners stored in
    /// them are that thread's alone (no table, global or instance crosses threads, and funcrefs
    /// cannot be written to shared linear memory: see the Send claim of `Instance`), so a
    /// holder's stores are always reported to the sink of the thread that owns it. The Node
    /// binding installs one per JS thread (the main thread and each Worker).
    static SINK: RefCell<Option<Rc<dyn RefSink>>> = const { RefCell::new(None) };
}

/// Installs the thread's sink (or removes it with `None`); returns the previous one.
pub fn set_sink(sink: Option<Rc<dyn RefSink>>) -> Option<Rc<dyn RefSink>> {
    SINK.with(|s| s.replace(sink))
}

fn sink() -> Option<Rc<dyn RefSink>> {
    SINK.with(|s| s.borrow().clone())
}

/// Reports a store of externref handle `value` to the sink (null too: it may have replaced the
/// last reference to a value).
pub fn externref_stored(_value: usize) {
    if let Some(sink) = sink() {
        sink.externref_stored();
    }
}

/// The reference bookkeeping of one table or global.
#[derive(Default)]
pub struct RefHolder {
    /// Owners already reported, by the start address of their `VMFuncRef` range.
    seen: RefCell<HashSet<usize>>,
    /// The range of the last owner seen: stores of the same owner's functions in a row (element
    /// segments, `table.fill`) skip the lookup.
    last: Cell<(usize, usize)>,
    /// Owners the holder keeps alive itself (no sink, or the sink declined).
    retained: RefCell<Vec<FunctionOwner>>,
}

impl RefHolder {
    /// Records that `holder` now holds funcref `value` (a `VMFuncRef` address, or 0).
    pub fn note(&self, holder: Holder, value: usize) {
        if value == 0 {
            return;
        }
        let (start, end) = self.last.get();
        if (start..end).contains(&value) {
            return;
        }
        // A reference whose owner is gone cannot be stored: the storing code holds it.
        let Some((start, end, owner)) = func_ref_owner(value) else {
            return;
        };
        self.last.set((start, end));
        if !self.seen.borrow_mut().insert(start) {
            return;
        }
        let kept = sink().is_some_and(|s| s.funcref_stored(holder, &owner));
        if !kept {
            self.retained.borrow_mut().push(owner);
        }
    }

    /// Keeps `owner` alive with the holder (a sink that could not keep it itself).
    pub fn retain(&self, owner: FunctionOwner) {
        self.retained.borrow_mut().push(owner);
    }
}

/// A scope in which the owners of every funcref stored anywhere on this thread are kept alive
/// until the scope ends, instead of by the holders (so no cycles outlive it). For runners that
/// drop all their instances at the end of a unit of work; holders must not be used after the
/// scope ends.
pub struct ScopedStore {
    previous: Option<Rc<dyn RefSink>>,
    owners: Rc<ScopedOwners>,
}

#[derive(Default)]
struct ScopedOwners(RefCell<Vec<FunctionOwner>>);

impl RefSink for ScopedOwners {
    fn funcref_stored(&self, _holder: Holder, owner: &FunctionOwner) -> bool {
        self.0.borrow_mut().push(owner.clone());
        true
    }
}

impl ScopedStore {
    pub fn new() -> ScopedStore {
        let owners = Rc::new(ScopedOwners::default());
        let previous = set_sink(Some(owners.clone()));
        ScopedStore { previous, owners }
    }

    /// How many owners the scope keeps.
    pub fn len(&self) -> usize {
        self.owners.0.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for ScopedStore {
    fn default() -> Self {
        ScopedStore::new()
    }
}

impl Drop for ScopedStore {
    fn drop(&mut self) {
        set_sink(self.previous.take());
        // The owners go last, after the sink that collected them is uninstalled.
        let owners = std::mem::take(&mut *self.owners.0.borrow_mut());
        drop(owners);
    }
}

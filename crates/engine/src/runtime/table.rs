//! Tables: growable arrays of pointer-sized references. A funcref element is a
//! `*const VMFuncRef` (null for ref.null); an externref element is an opaque non-zero handle
//! owned by the host (zero for ref.null). Generated code reads the elements through the
//! `VMTableDefinition`, whose pointer is refreshed when the storage moves on growth.

use std::cell::UnsafeCell;
use std::sync::Arc;

use wasmparser::RefType;

use super::instance::{is_funcref, FunctionOwner};
use super::sandbox::Budget;
use super::signatures::{canon_ref, CanonType};
use super::refs::{self, Holder, RefHolder};
use crate::vmoffsets::table_definition;

/// The most elements a table may have; the JS API's limit (10,000,000) as V8 enforces it.
pub const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

#[repr(C)]
pub struct VMTableDefinition {
    pub elements: *mut usize,
    pub length: u64,
}

const _: () = assert!(std::mem::size_of::<VMTableDefinition>() == table_definition::SIZE as usize);

struct TableState {
    elements: Vec<usize>,
    definition: VMTableDefinition,
}

pub struct Table {
    element_type: RefType,
    /// `is_funcref(element_type)`, asked on every store from the host (`stored`).
    funcref: bool,
    maximum: u64,
    /// The maximum as declared (by the module or the JS descriptor), if any.
    declared_maximum: Option<u64>,
    /// Boxed for a stable definition address. Mutated through `&self`: tables are used by the
    /// thread that owns them, and generated code mutates elements the same way.
    state: Box<UnsafeCell<TableState>>,
    /// Who keeps the owners of the funcrefs stored here alive (see `refs`).
    refs: RefHolder,
    /// The sandbox budget the table's elements are taken from, if any.
    budget: Option<Arc<Budget>>,
    /// The element type, comparable across modules (import matching).
    canonical_element: CanonType,
    /// Whether indices are i64 (table64).
    table64: bool,
}

// SAFETY: see `state`: all access happens on the owning thread; the type is shared by `Arc`
// between instances of that thread. With threads this still holds: a table never reaches
// another thread (postMessage refuses WebAssembly.Table with DataCloneError, as V8 does; a
// Module sent to a Worker gets new tables there), and the funcrefs and externrefs in it are
// this thread's (see the Send claim of `Instance`). Its `RefHolder` reports to this thread's
// `RefSink` (a thread-local), which is why that sink may be an `Rc`.
unsafe impl Send for Table {}
// SAFETY: as above.
unsafe impl Sync for Table {}

impl Table {
    pub fn new(
        element_type: RefType,
        initial: u64,
        maximum: Option<u64>,
        init: usize,
    ) -> Result<Table, String> {
        Self::with_budget(element_type, initial, maximum, init, None)
    }

    /// [`Table::new`] taking its elements, initial and grown, from `budget` (a sandbox's table
    /// limit); a growth past the budget fails as one past the maximum.
    pub fn with_budget(
        element_type: RefType,
        initial: u64,
        maximum: Option<u64>,
        init: usize,
        budget: Option<Arc<Budget>>,
    ) -> Result<Table, String> {
        let declared_maximum = maximum;
        let maximum = maximum
            .unwrap_or(MAX_TABLE_ELEMENTS)
            .min(MAX_TABLE_ELEMENTS);
        if initial > maximum {
            return Err("table size exceeds the maximum".into());
        }
        if let Some(budget) = &budget {
            if !budget.take(initial) {
                return Err(format!(
                    "the sandbox's table limit ({} elements) does not allow a table of {initial}",
                    budget.limit()
                ));
            }
        }
        let mut elements = vec![init; initial as usize];
        let definition = VMTableDefinition {
            elements: elements.as_mut_ptr(),
            length: initial,
        };
        Ok(Table {
            element_type,
            funcref: is_funcref(element_type),
            maximum,
            declared_maximum,
            state: Box::new(UnsafeCell::new(TableState {
                elements,
                definition,
            })),
            refs: RefHolder::default(),
            budget,
            canonical_element: canon_ref(element_type, &[]),
            table64: false,
        })
    }

    #[allow(clippy::mut_from_ref)]
    fn state(&self) -> &mut TableState {
        // SAFETY: single-threaded use (see `state`); callers never hold two of these at once.
        unsafe { &mut *self.state.get() }
    }

    pub fn element_type(&self) -> RefType {
        self.element_type
    }

    /// The element type with concrete references resolved (see `signatures`).
    pub fn canonical_element(&self) -> CanonType {
        self.canonical_element
    }

    /// Resolves the element type's concrete references with the canonical ids of the defining
    /// module's types.
    pub fn with_type_ids(mut self, ids: &[u32]) -> Table {
        self.canonical_element = canon_ref(self.element_type, ids);
        self
    }

    /// Makes the table a 64-bit one (i64 indices; table64): what import matching compares.
    pub fn with_table64(mut self, table64: bool) -> Table {
        self.table64 = table64;
        self
    }

    /// Whether indices are i64 (table64).
    pub fn is_64(&self) -> bool {
        self.table64
    }

    pub fn maximum(&self) -> u64 {
        self.maximum
    }

    /// The maximum the table was declared with, if any.
    pub fn declared_maximum(&self) -> Option<u64> {
        self.declared_maximum
    }

    pub fn len(&self) -> u64 {
        self.state().elements.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn definition(&self) -> *mut VMTableDefinition {
        // SAFETY: the pointer stays valid as long as the table (boxed state).
        unsafe { &raw mut (*self.state.get()).definition }
    }

    pub fn get(&self, index: u64) -> Option<usize> {
        self.state().elements.get(index as usize).copied()
    }

    pub fn set(&self, index: u64, value: usize) -> Result<(), ()> {
        let slot = self.state().elements.get_mut(index as usize).ok_or(())?;
        *slot = value;
        Ok(())
    }

    /// Grows by `delta` elements set to `init`; returns the old length.
    pub fn grow(&self, delta: u64, init: usize) -> Option<u64> {
        let state = self.state();
        let old = state.elements.len() as u64;
        let new = old.checked_add(delta)?;
        if new > self.maximum {
            return None;
        }
        if let Some(budget) = &self.budget {
            if !budget.take(delta) {
                return None;
            }
        }
        if state.elements.try_reserve_exact(delta as usize).is_err() {
            if let Some(budget) = &self.budget {
                budget.give_back(delta);
            }
            return None;
        }
        state.elements.resize(new as usize, init);
        state.definition = VMTableDefinition {
            elements: state.elements.as_mut_ptr(),
            length: new,
        };
        Some(old)
    }

    /// Records that `value` was stored into the table (by any path: generated code, segments,
    /// the host), so that what it references stays alive while stored. Every store of a
    /// non-null reference must be reported.
    pub fn stored(&self, value: usize) {
        if self.funcref {
            self.refs.note(Holder::Table(self), value);
        } else {
            refs::externref_stored(value);
        }
    }

    /// Keeps `owner` alive for as long as the table.
    pub fn retain(&self, owner: FunctionOwner) {
        self.refs.retain(owner);
    }

    /// The elements, for bulk operations.
    pub fn elements_mut(&self) -> &mut [usize] {
        &mut self.state().elements
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        if let Some(budget) = &self.budget {
            budget.give_back(self.len());
        }
    }
}

//! Globals: one 16-byte cell each, reached by generated code through a pointer in the vmctx, so
//! an exported mutable global and every instance importing it share one cell.

use std::cell::UnsafeCell;

use wasmparser::{GlobalType, ValType};

use super::instance::{is_funcref, FunctionOwner};
use super::refs::{self, Holder, RefHolder};
use super::signatures::{canon, CanonType};

use crate::vmoffsets::global;

#[repr(C, align(16))]
pub struct VMGlobal(UnsafeCell<[u8; 16]>);

const _: () = assert!(std::mem::size_of::<VMGlobal>() == global::SIZE as usize);

pub struct Global {
    pub ty: GlobalType,
    /// The value type, comparable across modules (import matching).
    canonical: CanonType,
    cell: Box<VMGlobal>,
    /// Who keeps the owner of a funcref stored here alive (see `refs`).
    refs: RefHolder,
}

// SAFETY: the cell is plain data used by the owning thread's wasm and host code. With threads
// this still holds: a global never reaches another thread (postMessage refuses
// WebAssembly.Global with DataCloneError, as V8 does; a Module sent to a Worker gets new
// globals there; the threads proposal has no shared globals, which cranewasm rejects), so no
// two threads read or write the cell (see the Send claim of `Instance`).
unsafe impl Send for Global {}
// SAFETY: as above.
unsafe impl Sync for Global {}

impl Global {
    /// A global holding `bits` (the value's little-endian bytes, zero-extended to 128 bits).
    pub fn new(ty: GlobalType, bits: u128) -> Global {
        Global {
            ty,
            canonical: canon(ty.content_type, &[]),
            cell: Box::new(VMGlobal(UnsafeCell::new(bits.to_le_bytes()))),
            refs: RefHolder::default(),
        }
    }

    /// A global of a module whose types have the canonical ids `ids`.
    pub fn with_type_ids(ty: GlobalType, bits: u128, ids: &[u32]) -> Global {
        Global {
            canonical: canon(ty.content_type, ids),
            ..Global::new(ty, bits)
        }
    }

    /// The value type with concrete references resolved (see `signatures`).
    pub fn canonical_type(&self) -> CanonType {
        self.canonical
    }

    pub fn cell(&self) -> *mut VMGlobal {
        &*self.cell as *const VMGlobal as *mut VMGlobal
    }

    pub fn get(&self) -> u128 {
        // SAFETY: plain read of the cell on the owning thread.
        u128::from_le_bytes(unsafe { *self.cell.0.get() })
    }

    pub fn set(&self, bits: u128) {
        // SAFETY: plain write of the cell on the owning thread.
        unsafe { *self.cell.0.get() = bits.to_le_bytes() }
    }

    /// Records that `bits` was stored (see `Table::stored`); a no-op for numeric globals.
    pub fn stored(&self, bits: u128) {
        match self.ty.content_type {
            ValType::Ref(r) if is_funcref(r) => {
                self.refs.note(Holder::Global(self), bits as usize)
            }
            ValType::Ref(_) => refs::externref_stored(bits as usize),
            _ => {}
        }
    }

    /// Sets the value and records the store.
    pub fn store(&self, bits: u128) {
        self.set(bits);
        self.stored(bits);
    }

    /// Keeps `owner` alive for as long as the global.
    pub fn retain(&self, owner: FunctionOwner) {
        self.refs.retain(owner);
    }
}

//! Globals: one 16-byte cell each, reached by generated code through a pointer in the vmctx, so
//! an exported mutable global and every instance importing it share one cell.

use std::cell::UnsafeCell;

use wasmparser::GlobalType;

use crate::vmoffsets::global;

#[repr(C, align(16))]
pub struct VMGlobal(UnsafeCell<[u8; 16]>);

const _: () = assert!(std::mem::size_of::<VMGlobal>() == global::SIZE as usize);

pub struct Global {
    pub ty: GlobalType,
    cell: Box<VMGlobal>,
}

// SAFETY: the cell is plain data used by the owning thread's wasm and host code.
unsafe impl Send for Global {}
// SAFETY: as above.
unsafe impl Sync for Global {}

impl Global {
    /// A global holding `bits` (the value's little-endian bytes, zero-extended to 128 bits).
    pub fn new(ty: GlobalType, bits: u128) -> Global {
        Global {
            ty,
            cell: Box::new(VMGlobal(UnsafeCell::new(bits.to_le_bytes()))),
        }
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
}

//! Linear memory. Each 32-bit memory reserves 8 GiB of address space up front — 4 GiB for the
//! largest memory plus 4 GiB of guard for the largest static offset — and commits pages as it
//! grows. Generated code therefore needs no bounds checks (an access past the committed size
//! faults and becomes a trap), and the base never moves, so JS can view it without copying.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::sandbox::Budget;

use crate::vmoffsets::memory_definition;

pub const PAGE_SIZE: u64 = 65536;
/// The most pages a 32-bit memory can have (4 GiB).
pub const MAX_PAGES: u64 = 65536;
const RESERVATION: usize = 8 << 30;

/// What generated code reads: the base and the current length. Layout is
/// `vmoffsets::memory_definition`.
#[repr(C)]
pub struct VMMemoryDefinition {
    pub base: *mut u8,
    pub length: u64,
}

const _: () =
    assert!(std::mem::size_of::<VMMemoryDefinition>() == memory_definition::SIZE as usize);

/// Counts the growths of every memory of the process, so that the host can tell cheaply whether
/// any memory grew during a call (and refresh the views it handed out).
static GROW_EPOCH: AtomicU64 = AtomicU64::new(0);

/// The number of memory growths so far (of any memory).
pub fn grow_epoch() -> u64 {
    GROW_EPOCH.load(Ordering::Acquire)
}

pub struct LinearMemory {
    reservation: region::Allocation,
    /// Boxed so its address is stable for the vmctx of every instance using the memory.
    definition: Box<UnsafeCell<VMMemoryDefinition>>,
    maximum_pages: u64,
    /// The maximum as declared (by the module or the JS descriptor), if any.
    declared_maximum: Option<u64>,
    /// Serializes growth (length updates).
    grow_lock: Mutex<()>,
    /// The sandbox budget the memory's bytes are taken from, if any.
    budget: Option<Arc<Budget>>,
}

// SAFETY: the definition is only written under `grow_lock`, and the memory's bytes are plain
// data that wasm and host code access through raw pointers, as the JS API allows.
unsafe impl Send for LinearMemory {}
// SAFETY: as above.
unsafe impl Sync for LinearMemory {}

impl LinearMemory {
    /// A memory of `initial` pages that may grow to `maximum` (or the 4 GiB limit).
    pub fn new(initial: u64, maximum: Option<u64>) -> Result<LinearMemory, String> {
        Self::with_budget(initial, maximum, None)
    }

    /// [`LinearMemory::new`] taking its bytes, initial and grown, from `budget` (a sandbox's
    /// memory limit); a growth past the budget fails as one past the maximum.
    pub fn with_budget(
        initial: u64,
        maximum: Option<u64>,
        budget: Option<Arc<Budget>>,
    ) -> Result<LinearMemory, String> {
        let maximum_pages = maximum.unwrap_or(MAX_PAGES).min(MAX_PAGES);
        if initial > maximum_pages {
            return Err("initial memory size exceeds the maximum".into());
        }
        let reservation = region::alloc(RESERVATION, region::Protection::NONE)
            .map_err(|e| format!("cannot reserve address space for a memory: {e}"))?;
        let base = reservation.as_ptr::<u8>() as *mut u8;
        let memory = LinearMemory {
            reservation,
            definition: Box::new(UnsafeCell::new(VMMemoryDefinition { base, length: 0 })),
            maximum_pages,
            declared_maximum: maximum,
            grow_lock: Mutex::new(()),
            budget,
        };
        memory
            .grow(initial)
            .ok_or("out of memory: cannot commit the initial memory")?;
        Ok(memory)
    }

    pub fn base(&self) -> *mut u8 {
        self.reservation.as_ptr::<u8>() as *mut u8
    }

    /// Current length in bytes.
    pub fn byte_length(&self) -> u64 {
        // SAFETY: a plain read of a field written only under the grow lock on this thread.
        unsafe { (*self.definition.get()).length }
    }

    pub fn pages(&self) -> u64 {
        self.byte_length() / PAGE_SIZE
    }

    pub fn maximum_pages(&self) -> u64 {
        self.maximum_pages
    }

    /// The maximum the memory was declared with, if any.
    pub fn declared_maximum(&self) -> Option<u64> {
        self.declared_maximum
    }

    /// The definition generated code reads, for vmctx.
    pub fn definition(&self) -> *const VMMemoryDefinition {
        self.definition.get()
    }

    /// Grows by `delta` pages; returns the old size in pages, or None when the maximum would be
    /// exceeded or the pages cannot be committed.
    pub fn grow(&self, delta: u64) -> Option<u64> {
        let _guard = self.grow_lock.lock().unwrap_or_else(|e| e.into_inner());
        let old_pages = self.pages();
        let new_pages = old_pages.checked_add(delta)?;
        if new_pages > self.maximum_pages {
            return None;
        }
        if let Some(budget) = &self.budget {
            if !budget.take(delta * PAGE_SIZE) {
                return None;
            }
        }
        if delta > 0 {
            let start = old_pages * PAGE_SIZE;
            // SAFETY: [start, start + delta pages) lies inside our reservation (new_pages ≤ 4 GiB
            // of 8 GiB) and is not yet accessible, so nothing observes the change of protection.
            unsafe {
                region::protect(
                    self.base().add(start as usize),
                    (delta * PAGE_SIZE) as usize,
                    region::Protection::READ_WRITE,
                )
            }
            .inspect_err(|_| {
                if let Some(budget) = &self.budget {
                    budget.give_back(delta * PAGE_SIZE);
                }
            })
            .ok()?;
        }
        // SAFETY: written under the grow lock; readers are on this thread (wasm of instances of
        // this thread) or read a value that only ever increases.
        unsafe { (*self.definition.get()).length = new_pages * PAGE_SIZE };
        if delta > 0 {
            GROW_EPOCH.fetch_add(1, Ordering::Release);
        }
        Some(old_pages)
    }

    /// The budget the memory draws from, if any.
    pub fn budget(&self) -> Option<&Arc<Budget>> {
        self.budget.as_ref()
    }

    /// The committed bytes, for bulk operations and data segments.
    ///
    /// # Safety
    /// No other reference to the bytes may be used while the slice lives (wasm is not running
    /// concurrently on this memory; the host is single-threaded per memory).
    pub unsafe fn bytes_mut(&self) -> &mut [u8] {
        // SAFETY: the first byte_length bytes of the reservation are committed read-write; the
        // aliasing rule is the caller's contract.
        unsafe { std::slice::from_raw_parts_mut(self.base(), self.byte_length() as usize) }
    }
}

impl Drop for LinearMemory {
    fn drop(&mut self) {
        if let Some(budget) = &self.budget {
            budget.give_back(self.byte_length());
        }
    }
}

//! Linear memory, in one of two kinds:
//!
//! - **Guarded** (the default): the memory reserves 8 GiB of address space up front — 4 GiB for
//!   the largest memory plus 4 GiB of guard for the largest static offset — and commits pages as
//!   it grows. Code compiled without bounds checks relies on it: an access past the committed
//!   size faults and becomes a trap, and the base never moves.
//! - **Unguarded**: the memory maps exactly its current size (one inaccessible page while it is
//!   empty) and grows by remapping, in place when the kernel can, elsewhere otherwise, so its
//!   base may move. Only code compiled with bounds checks (`CompileOptions::bounds_checks`) may
//!   run on it; that code reads the base and length from the definition at entry and after
//!   every call (anything that grows a memory is a call), and checks each access against them.
//!   Memories are unguarded when bounds checks are asked for, or when the 8 GiB reservation
//!   cannot be had (`ulimit -v`, small containers, tens of thousands of memories), instead of
//!   failing.
//!
//! A **shared** memory (threads) is used by several threads at once, so it never moves: it
//! reserves its maximum up front (the 8 GiB guard reservation when it can have one, else exactly
//! its maximum size, without a guard) and commits pages as it grows. Its length is written and
//! read atomically, so a growth on one thread is seen by the others.
//!
//! A 64-bit memory (memory64) may grow to [`MAX_PAGES_64`]; no guard can cover a 64-bit address
//! plus offset, so code checks every access to it (see `translate::memory`), and its guarded
//! kind reserves its maximum size only, without a guard region.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::sandbox::Budget;

use crate::vmoffsets::memory_definition;

pub const PAGE_SIZE: u64 = 65536;
/// The most pages a 32-bit memory can have (4 GiB).
pub const MAX_PAGES: u64 = 65536;
/// The most pages a 64-bit memory can have (16 GiB): the JS API's limit, as V8 enforces it.
pub const MAX_PAGES_64: u64 = 262144;
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
/// any memory grew during a call (and refresh the views it handed out). Every successful
/// growth counts, a delta of 0 too: the JS API replaces a memory's buffer on any `memory.grow`
/// (V8 does, from JS and from wasm). The host's JS reads it too, through a typed array over
/// [`grow_epoch_word`]: `Memory.prototype.buffer` returns its cached ArrayBuffer while the epoch
/// is the one it was cached at.
static GROW_EPOCH: AtomicU64 = AtomicU64::new(0);

/// The number of memory growths so far (of any memory).
#[inline]
pub fn grow_epoch() -> u64 {
    GROW_EPOCH.load(Ordering::Acquire)
}

/// The epoch counter itself, for a host that maps it into its own readers (a JS typed array).
/// It lives as long as the process and only ever increases.
pub fn grow_epoch_word() -> &'static AtomicU64 {
    &GROW_EPOCH
}

pub struct LinearMemory {
    /// The reservation of a guarded or shared memory, committed as it grows; `None` for an
    /// unguarded unshared one, whose mapping is `definition.base` for `mapped` bytes.
    reservation: Option<region::Allocation>,
    /// Whether the reservation includes the guard that code without bounds checks relies on.
    guarded: bool,
    /// Whether the memory is shared (threads).
    shared: bool,
    /// Bytes mapped for an unguarded memory (the length, or one page while it is empty);
    /// written under `grow_lock`.
    mapped: UnsafeCell<usize>,
    /// Boxed so its address is stable for the vmctx of every instance using the memory.
    definition: Box<UnsafeCell<VMMemoryDefinition>>,
    maximum_pages: u64,
    /// The maximum as declared (by the module or the JS descriptor), if any.
    declared_maximum: Option<u64>,
    /// Whether addresses are i64 (memory64).
    memory64: bool,
    /// Serializes growth (length updates).
    grow_lock: Mutex<()>,
    /// The number of successful growths of this memory (a delta of 0 too): a host view made at
    /// one generation is stale at the next.
    generation: AtomicU64,
    /// The sandbox budget the memory's bytes are taken from, if any.
    budget: Option<Arc<Budget>>,
}

// SAFETY: the definition is only written under `grow_lock`, and the memory's bytes are plain
// data that wasm and host code access through raw pointers, as the JS API allows.
unsafe impl Send for LinearMemory {}
// SAFETY: as above.
unsafe impl Sync for LinearMemory {}

impl LinearMemory {
    /// A memory of `initial` pages that may grow to `maximum` (or the 4 GiB limit): guarded,
    /// or unguarded when the guard reservation cannot be had.
    pub fn new(initial: u64, maximum: Option<u64>) -> Result<LinearMemory, String> {
        LinearMemory::with_options(initial, maximum, true, None)
    }

    /// [`LinearMemory::new`], unguarded when `guard` is false (for bounds-checked code) or when
    /// the guard reservation cannot be had.
    pub fn with_guard(initial: u64, maximum: Option<u64>, guard: bool) -> Result<LinearMemory, String> {
        LinearMemory::with_options(initial, maximum, guard, None)
    }

    /// [`LinearMemory::with_guard`] taking its bytes, initial and grown, from `budget` (a
    /// sandbox's memory limit); a growth past the budget fails as one past the maximum.
    pub fn with_options(
        initial: u64,
        maximum: Option<u64>,
        guard: bool,
        budget: Option<Arc<Budget>>,
    ) -> Result<LinearMemory, String> {
        LinearMemory::create(initial, maximum, false, guard, budget)
    }

    /// [`LinearMemory::with_options`] for a 32-bit or 64-bit (`memory64`) memory. A guarded
    /// 64-bit memory reserves its maximum size (no guard: its accesses are checked).
    pub fn create(
        initial: u64,
        maximum: Option<u64>,
        memory64: bool,
        guard: bool,
        budget: Option<Arc<Budget>>,
    ) -> Result<LinearMemory, String> {
        LinearMemory::create_with(initial, maximum, memory64, false, guard, budget)
    }

    /// [`LinearMemory::create`], shared (threads) when `shared`: a shared memory reserves its
    /// maximum up front and never moves.
    pub fn create_with(
        initial: u64,
        maximum: Option<u64>,
        memory64: bool,
        shared: bool,
        guard: bool,
        budget: Option<Arc<Budget>>,
    ) -> Result<LinearMemory, String> {
        let limit = if memory64 { MAX_PAGES_64 } else { MAX_PAGES };
        let maximum_pages = maximum.unwrap_or(limit).min(limit);
        if initial > maximum_pages {
            return Err("initial memory size exceeds the maximum".into());
        }
        let reservation_size = if memory64 {
            (maximum_pages.max(1) * PAGE_SIZE) as usize
        } else {
            RESERVATION
        };
        let mut reservation = if guard {
            region::alloc(reservation_size, region::Protection::NONE).ok()
        } else {
            None
        };
        let guarded = reservation.is_some();
        if shared && reservation.is_none() {
            // No guard, but a fixed place: exactly the maximum (one page for an empty one).
            let size = (maximum_pages.max(1) * PAGE_SIZE) as usize;
            reservation = Some(
                region::alloc(size, region::Protection::NONE)
                    .map_err(|_| "cannot reserve address space for a shared memory")?,
            );
        }
        let (base, mapped) = match &reservation {
            Some(r) => (r.as_ptr::<u8>() as *mut u8, 0),
            None => {
                let mapped = PAGE_SIZE as usize;
                (
                    map(mapped, false).ok_or("cannot reserve address space for a memory")?,
                    mapped,
                )
            }
        };
        let memory = LinearMemory {
            reservation,
            guarded,
            shared,
            mapped: UnsafeCell::new(mapped),
            definition: Box::new(UnsafeCell::new(VMMemoryDefinition { base, length: 0 })),
            maximum_pages,
            declared_maximum: maximum,
            memory64,
            grow_lock: Mutex::new(()),
            generation: AtomicU64::new(0),
            budget,
        };
        memory
            .grow(initial)
            .ok_or("out of memory: cannot commit the initial memory")?;
        Ok(memory)
    }

    /// Whether addresses are i64 (memory64).
    pub fn is_64(&self) -> bool {
        self.memory64
    }

    /// Whether the memory has a guard reservation (so code without bounds checks may use it;
    /// its base never moves).
    pub fn is_guarded(&self) -> bool {
        self.guarded
    }

    /// Whether the memory is shared (threads): it then never moves.
    pub fn is_shared(&self) -> bool {
        self.shared
    }

    /// The current base address; an unguarded memory's moves when it grows.
    pub fn base(&self) -> *mut u8 {
        // SAFETY: a plain read of a field written only under the grow lock on this thread.
        unsafe { (*self.definition.get()).base }
    }

    /// Current length in bytes.
    pub fn byte_length(&self) -> u64 {
        // SAFETY: the field is a live, aligned u64, written only atomically (under the grow
        // lock); other threads may grow a shared memory concurrently.
        unsafe { AtomicU64::from_ptr(&raw mut (*self.definition.get()).length).load(Ordering::Acquire) }
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

    /// The number of successful growths so far (see the field).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
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
            let committed = match &self.reservation {
                Some(_) => {
                    let start = old_pages * PAGE_SIZE;
                    // SAFETY: [start, start + delta pages) lies inside our reservation (new_pages
                    // ≤ the maximum it was sized for) and is not yet accessible, so nothing observes the change
                    // of protection.
                    unsafe {
                        region::protect(
                            self.base().add(start as usize),
                            (delta * PAGE_SIZE) as usize,
                            region::Protection::READ_WRITE,
                        )
                    }
                    .is_ok()
                }
                None => self.remap(old_pages, new_pages).is_some(),
            };
            if !committed {
                if let Some(budget) = &self.budget {
                    budget.give_back(delta * PAGE_SIZE);
                }
                return None;
            }
        }
        // SAFETY: written under the grow lock, atomically: wasm of other threads (a shared
        // memory) may read it concurrently, and it only ever increases. The pages were committed
        // above, before the new length is published (release).
        unsafe {
            AtomicU64::from_ptr(&raw mut (*self.definition.get()).length)
                .store(new_pages * PAGE_SIZE, Ordering::Release)
        };
        // After the length: whoever sees the new generation sees the new length too.
        self.generation.fetch_add(1, Ordering::Release);
        GROW_EPOCH.fetch_add(1, Ordering::Release);
        Some(old_pages)
    }

    /// Grows an unguarded memory's mapping from `old_pages` to `new_pages` (more), moving it if
    /// the kernel must; updates the definition's base. Called under the grow lock.
    fn remap(&self, old_pages: u64, new_pages: u64) -> Option<()> {
        let new_len = (new_pages * PAGE_SIZE) as usize;
        // SAFETY: under the grow lock, the only writer of `mapped`.
        let mapped = unsafe { &mut *self.mapped.get() };
        let base = self.base();
        // Code interrupted in a loop keeps the base in a register across its interrupt check,
        // so what runs in the check's host poll grows a memory in place or not at all.
        let may_move = !super::interrupts::in_host_poll();
        // SAFETY: [base, base + mapped) is our mapping, one protection throughout (all
        // inaccessible while the memory is empty, all read-write otherwise); the old range is
        // unmapped by a move, and the only views of it (JS ArrayBuffers) are detached when the
        // growth is seen, before JS runs again.
        let moved = unsafe { remap(base, *mapped, new_len, (old_pages * PAGE_SIZE) as usize, may_move) }?;
        *mapped = new_len;
        if old_pages == 0 {
            // SAFETY: the new mapping of `new_len` bytes is ours and nothing uses it yet.
            if unsafe { region::protect(moved, new_len, region::Protection::READ_WRITE) }.is_err() {
                // Keep the invariant (one protection): an empty memory's pages are inaccessible.
                // SAFETY: as above.
                unsafe { (*self.definition.get()).base = moved };
                return None;
            }
        }
        // SAFETY: written under the grow lock; generated code of this thread rereads it after
        // anything that may grow the memory.
        unsafe { (*self.definition.get()).base = moved };
        Some(())
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
        if self.reservation.is_none() {
            // SAFETY: an unguarded memory's mapping is [base, base + mapped), ours alone; nothing
            // uses it once the memory is dropped (JS ArrayBuffers hold the memory alive).
            unsafe { libc::munmap(self.base() as *mut libc::c_void, *self.mapped.get()) };
        }
    }
}

/// A new private anonymous mapping of `len` bytes, read-write or inaccessible.
fn map(len: usize, writable: bool) -> Option<*mut u8> {
    let protection = if writable {
        libc::PROT_READ | libc::PROT_WRITE
    } else {
        libc::PROT_NONE
    };
    // SAFETY: a fresh anonymous mapping at an address the kernel picks; it overlaps nothing.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            protection,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    (p != libc::MAP_FAILED).then_some(p as *mut u8)
}

/// Resizes the mapping [base, base + old_len) to `new_len` bytes, keeping its contents and
/// protection; the new bytes read as zero. `contents` is how many leading bytes are in use
/// (readable), which is what a copy must keep. In place when it can, else (only if `may_move`)
/// at a new address (the old range is then unmapped). Returns the mapping's address.
///
/// # Safety
/// [base, base + old_len) must be one private anonymous mapping of the caller's, with one
/// protection, that nothing else uses during the call; after a move, nothing may use the old
/// range.
unsafe fn remap(base: *mut u8, old_len: usize, new_len: usize, contents: usize, may_move: bool) -> Option<*mut u8> {
    #[cfg(target_os = "linux")]
    {
        let _ = contents;
        let flags = if may_move { libc::MREMAP_MAYMOVE } else { 0 };
        // SAFETY: per the contract; MREMAP_MAYMOVE lets the kernel move the pages (it tries in
        // place first).
        let p = unsafe { libc::mremap(base as *mut libc::c_void, old_len, new_len, flags) };
        (p != libc::MAP_FAILED).then_some(p as *mut u8)
    }
    #[cfg(not(target_os = "linux"))]
    {
        // No mremap: a new read-write mapping, the old bytes copied over, the old one unmapped.
        if !may_move {
            return None;
        }
        let p = map(new_len, true)?;
        // SAFETY: both ranges are ours and disjoint (fresh mapping); the first `contents` bytes
        // of the old one are readable, and contents ≤ old_len ≤ new_len.
        unsafe {
            std::ptr::copy_nonoverlapping(base, p, contents);
            libc::munmap(base as *mut libc::c_void, old_len);
        }
        Some(p)
    }
}

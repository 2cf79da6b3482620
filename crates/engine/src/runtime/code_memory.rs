//! Executable memory for generated code. All code lives in one address range reserved at first
//! use, so the trap handler can tell "this PC is ours" with two compares and no lock (it runs in
//! a signal handler). Code is written while the pages are read-write and only then made
//! read-execute; pages are never writable and executable at once.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::compiler::codegen::TrapSite;
use crate::trap::TrapKind;

/// Address space reserved for code. Only what is used is ever committed.
const CODE_REGION_SIZE: usize = 1 << 30;

/// Start and end of the code region, read by the signal handler.
static REGION_START: AtomicUsize = AtomicUsize::new(0);
static REGION_END: AtomicUsize = AtomicUsize::new(0);

struct Region {
    start: usize,
    /// Free page ranges (start -> length), coalesced on free.
    free: BTreeMap<usize, usize>,
    /// Published code blocks by start address, with their trap tables.
    published: BTreeMap<usize, Arc<CodeInfo>>,
}

/// What the trap handler needs to know about one block of code after a fault in it.
#[derive(Debug)]
struct CodeInfo {
    len: usize,
    /// Trap sites with offsets relative to the block's start, sorted.
    traps: Vec<TrapSite>,
}

fn region() -> &'static Mutex<Region> {
    static REGION: OnceLock<Mutex<Region>> = OnceLock::new();
    REGION.get_or_init(|| {
        let reservation = region::alloc(CODE_REGION_SIZE, region::Protection::NONE)
            .expect("cannot reserve address space for generated code");
        let start = reservation.as_ptr::<u8>() as usize;
        // The region lives as long as the process: code may run until exit.
        std::mem::forget(reservation);
        REGION_START.store(start, Ordering::Release);
        REGION_END.store(start + CODE_REGION_SIZE, Ordering::Release);
        let mut free = BTreeMap::new();
        free.insert(start, CODE_REGION_SIZE);
        Mutex::new(Region {
            start,
            free,
            published: BTreeMap::new(),
        })
    })
}

/// Whether `pc` lies in the code region. Lock-free and allocation-free: safe in a signal
/// handler.
pub fn is_code_address(pc: usize) -> bool {
    let start = REGION_START.load(Ordering::Acquire);
    start != 0 && pc >= start && pc < REGION_END.load(Ordering::Acquire)
}

/// The trap raised at `pc`, if `pc` is a trap site of published code. Not for signal handlers
/// (it locks); called after unwinding.
pub fn trap_at(pc: usize) -> Option<TrapKind> {
    let region = region().lock().unwrap_or_else(|e| e.into_inner());
    let (start, info) = region.published.range(..=pc).next_back()?;
    let offset = pc - start;
    if offset >= info.len {
        return None;
    }
    let index = info
        .traps
        .binary_search_by_key(&(offset as u32), |t| t.offset)
        .ok()?;
    Some(info.traps[index].kind)
}

/// A block of published, read-execute code. Freed (and its pages returned) on drop, so it must
/// outlive every activation running it; owners keep it in an `Arc`.
#[derive(Debug)]
pub struct CodeBlock {
    start: usize,
    len: usize,
}

impl CodeBlock {
    pub fn start(&self) -> *const u8 {
        self.start as *const u8
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// One function's code to place, with its trap sites (offsets relative to `code`).
pub struct Placement<'a> {
    pub code: &'a [u8],
    pub traps: &'a [TrapSite],
}

/// Copies `functions` into fresh executable memory, one after another (16-byte aligned), and
/// returns the block with each function's offset in it.
pub fn publish(functions: &[Placement<'_>]) -> Result<(Arc<CodeBlock>, Vec<usize>), String> {
    let mut offsets = Vec::with_capacity(functions.len());
    let mut traps = Vec::new();
    let mut len = 0usize;
    for f in functions {
        len = (len + 15) & !15;
        offsets.push(len);
        traps.extend(f.traps.iter().map(|t| TrapSite {
            offset: t.offset + len as u32,
            kind: t.kind,
        }));
        len += f.code.len();
    }
    let page = region::page::size();
    let alloc_len = (len.max(1) + page - 1) & !(page - 1);
    let mut region_guard = region().lock().unwrap_or_else(|e| e.into_inner());
    let start = allocate(&mut region_guard, alloc_len).ok_or("out of code memory")?;
    // SAFETY: [start, start + alloc_len) is a page-aligned range of our reservation that no one
    // else uses (just taken off the free list under the lock); making it read-write cannot
    // affect other code.
    unsafe {
        region::protect(
            start as *const u8,
            alloc_len,
            region::Protection::READ_WRITE,
        )
    }
    .map_err(|e| format!("cannot make code memory writable: {e}"))?;
    for (f, offset) in functions.iter().zip(&offsets) {
        // SAFETY: the destination lies in the range made writable above (offset + code length ≤
        // len ≤ alloc_len), and the source is a distinct Rust slice.
        unsafe {
            std::ptr::copy_nonoverlapping(
                f.code.as_ptr(),
                (start + offset) as *mut u8,
                f.code.len(),
            )
        };
    }
    // SAFETY: same range; from now on it is read-execute only and holds complete functions.
    unsafe {
        region::protect(
            start as *const u8,
            alloc_len,
            region::Protection::READ_EXECUTE,
        )
    }
    .map_err(|e| format!("cannot make code memory executable: {e}"))?;
    region_guard.published.insert(
        start,
        Arc::new(CodeInfo {
            len: alloc_len,
            traps,
        }),
    );
    Ok((
        Arc::new(CodeBlock {
            start,
            len: alloc_len,
        }),
        offsets,
    ))
}

fn allocate(region: &mut Region, len: usize) -> Option<usize> {
    let (&start, &free_len) = region.free.iter().find(|(_, &l)| l >= len)?;
    region.free.remove(&start);
    if free_len > len {
        region.free.insert(start + len, free_len - len);
    }
    Some(start)
}

impl Drop for CodeBlock {
    fn drop(&mut self) {
        let mut region = region().lock().unwrap_or_else(|e| e.into_inner());
        region.published.remove(&self.start);
        // SAFETY: the block is no longer referenced by anything that can run (its owner held the
        // last Arc), so revoking access cannot break a running activation.
        let _ =
            unsafe { region::protect(self.start as *const u8, self.len, region::Protection::NONE) };
        // SAFETY: same range, now inaccessible; DONTNEED returns its pages to the system and the
        // reservation stays ours.
        unsafe {
            libc::madvise(
                self.start as *mut libc::c_void,
                self.len,
                libc::MADV_DONTNEED,
            )
        };
        let (mut start, mut len) = (self.start, self.len);
        if let Some((&prev, &prev_len)) = region.free.range(..start).next_back() {
            if prev + prev_len == start {
                region.free.remove(&prev);
                start = prev;
                len += prev_len;
            }
        }
        if let Some(&next_len) = region.free.get(&(start + len)) {
            region.free.remove(&(start + len));
            len += next_len;
        }
        region.free.insert(start, len);
        debug_assert!(start >= region.start);
    }
}

//! The implementations of [`crate::libcall::LibCall`]: what generated code calls for growth
//! and bulk operations. Each takes the caller's vmctx first, finds its instance, and reports
//! failure by status (0 = done, else `TrapKind` index + 1), never by unwinding.

use std::ffi::c_void;
use std::sync::Arc;

use super::instance::Instance;
use super::interrupts::in_chunks;
use crate::libcall::LibCall;
use crate::trap::TrapKind;

/// The absolute address generated code calls for `call`.
pub fn address(call: LibCall) -> usize {
    let f: *const c_void = match call {
        LibCall::MemoryGrow => memory_grow as *const c_void,
        LibCall::MemoryFill => memory_fill as *const c_void,
        LibCall::MemoryCopy => memory_copy as *const c_void,
        LibCall::MemoryInit => memory_init as *const c_void,
        LibCall::DataDrop => data_drop as *const c_void,
        LibCall::TableGrow => table_grow as *const c_void,
        LibCall::TableFill => table_fill as *const c_void,
        LibCall::TableCopy => table_copy as *const c_void,
        LibCall::TableInit => table_init as *const c_void,
        LibCall::ElemDrop => elem_drop as *const c_void,
        LibCall::TableSetRef => table_set_ref as *const c_void,
        LibCall::GlobalSetRef => global_set_ref as *const c_void,
        LibCall::TierUpHot => tier_up_hot as *const c_void,
        LibCall::Interrupt => interrupt as *const c_void,
        LibCall::IsSubtype => is_subtype as *const c_void,
        LibCall::Throw => return super::exceptions::throw_tag_address(),
        LibCall::ThrowRef => return super::exceptions::throw_ref_address(),
        LibCall::ThrowHost => return super::exceptions::throw_host_address(),
        LibCall::ExceptionMatches => super::exceptions::exception_matches as *const c_void,
        LibCall::ExceptionRelease => super::exceptions::exception_release as *const c_void,
        LibCall::AtomicWait => super::waiters::atomic_wait as *const c_void,
        LibCall::AtomicNotify => super::waiters::atomic_notify as *const c_void,
        LibCall::Simd => super::simd::simd as *const c_void,
    };
    f as usize
}

/// The builtins table every vmctx points to (`vmctx.builtins`): [`address`] of each libcall at
/// its slot, then the interrupt stub (`crate::libcall::INTERRUPT_STUB_SLOT`). Built once.
pub fn builtins() -> *const usize {
    static TABLE: std::sync::OnceLock<[usize; crate::libcall::BUILTINS]> = std::sync::OnceLock::new();
    TABLE
        .get_or_init(|| {
            let mut table = [0; crate::libcall::BUILTINS];
            for &call in LibCall::ALL {
                table[call.slot()] = address(call);
            }
            table[crate::libcall::INTERRUPT_STUB_SLOT] = super::interrupts::interrupt_stub_address();
            table
        })
        .as_ptr()
}

fn status(result: Result<(), TrapKind>) -> u32 {
    match result {
        Ok(()) => 0,
        Err(kind) => 1 + TrapKind::ALL.iter().position(|k| *k == kind).unwrap_or(0) as u32,
    }
}

/// # Safety
/// `vmctx` is the vmctx generated code passed: that of a live instance.
unsafe fn instance<'a>(vmctx: *mut u8) -> &'a Instance {
    // SAFETY: per the function's contract.
    unsafe { Instance::from_vmctx(vmctx) }
}

unsafe extern "C" fn memory_grow(vmctx: *mut u8, memory: u32, delta: u64) -> u64 {
    // SAFETY: called by generated code with its vmctx.
    let instance = unsafe { instance(vmctx) };
    let grown = instance.memory(memory).and_then(|m| m.grow(delta));
    grown.unwrap_or(u64::MAX)
}

/// `start..start + len` as a range of a slice of `size` elements, if it lies inside.
fn range(start: u64, len: u64, size: usize) -> Option<std::ops::Range<usize>> {
    let end = start.checked_add(len)?;
    (end <= size as u64).then_some(start as usize..end as usize)
}

unsafe extern "C" fn memory_fill(vmctx: *mut u8, memory: u32, dst: u64, value: u32, len: u64) -> u32 {
    // SAFETY: called by generated code with its vmctx.
    let instance = unsafe { instance(vmctx) };
    status((|| {
        let memory = instance.memory(memory).ok_or(TrapKind::MemoryOutOfBounds)?;
        // SAFETY: no other view of the bytes is live while this libcall runs.
        let bytes = unsafe { memory.bytes_mut() };
        let target = range(dst, len, bytes.len())
            .and_then(|r| bytes.get_mut(r))
            .ok_or(TrapKind::MemoryOutOfBounds)?;
        in_chunks(target.len(), false, |at, n| target[at..at + n].fill(value as u8))
    })())
}

unsafe extern "C" fn memory_copy(
    vmctx: *mut u8,
    dst_memory: u32,
    src_memory: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    // SAFETY: called by generated code with its vmctx.
    let instance = unsafe { instance(vmctx) };
    status((|| {
        let out = TrapKind::MemoryOutOfBounds;
        let dst_m = instance.memory(dst_memory).ok_or(out)?;
        let src_m = instance.memory(src_memory).ok_or(out)?;
        if Arc::ptr_eq(dst_m, src_m) {
            // SAFETY: as in memory_fill.
            let bytes = unsafe { dst_m.bytes_mut() };
            let from = range(src, len, bytes.len()).ok_or(out)?;
            let to = range(dst, len, bytes.len()).ok_or(out)?;
            let (src, dst) = (from.start, to.start);
            return in_chunks(len as usize, dst > src, |at, n| {
                bytes.copy_within(src + at..src + at + n, dst + at)
            });
        }
        // Two memories: their bytes never overlap.
        // SAFETY: as in memory_fill; the two slices are of distinct mappings.
        let (to_bytes, from_bytes) = unsafe { (dst_m.bytes_mut(), src_m.bytes_mut()) };
        let from = range(src, len, from_bytes.len()).ok_or(out)?;
        let to = range(dst, len, to_bytes.len()).ok_or(out)?;
        let (source, target) = (&from_bytes[from], &mut to_bytes[to]);
        in_chunks(len as usize, false, |at, n| {
            target[at..at + n].copy_from_slice(&source[at..at + n])
        })
    })())
}

unsafe extern "C" fn memory_init(
    vmctx: *mut u8,
    memory: u32,
    segment: u32,
    dst: u64,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: called by generated code with its vmctx.
    status(unsafe { instance(vmctx) }.memory_init(memory, segment, dst, src, len))
}

unsafe extern "C" fn data_drop(vmctx: *mut u8, segment: u32) {
    // SAFETY: called by generated code with its vmctx.
    unsafe { instance(vmctx) }.data_drop(segment)
}

unsafe extern "C" fn table_grow(vmctx: *mut u8, table: u32, delta: u64, init: u64) -> u64 {
    // SAFETY: called by generated code with its vmctx.
    let instance = unsafe { instance(vmctx) };
    super::exceptions::note_stored(init as usize);
    let table = instance.table(table);
    let grown = table.grow(delta, init as usize);
    if grown.is_some() {
        table.stored(init as usize);
    }
    grown.unwrap_or(u64::MAX)
}

unsafe extern "C" fn table_fill(vmctx: *mut u8, table: u32, dst: u64, value: u64, len: u64) -> u32 {
    // SAFETY: called by generated code with its vmctx.
    let instance = unsafe { instance(vmctx) };
    super::exceptions::note_stored(value as usize);
    status((|| {
        let table = instance.table(table);
        let elements = table.elements_mut();
        let target = range(dst, len, elements.len())
            .and_then(|r| elements.get_mut(r))
            .ok_or(TrapKind::TableOutOfBounds)?;
        in_chunks(target.len(), false, |at, n| target[at..at + n].fill(value as usize))?;
        table.stored(value as usize);
        Ok(())
    })())
}

unsafe extern "C" fn table_copy(
    vmctx: *mut u8,
    dst_table: u32,
    src_table: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    // SAFETY: called by generated code with its vmctx.
    let instance = unsafe { instance(vmctx) };
    status((|| {
        let (dst_t, src_t) = (instance.table(dst_table), instance.table(src_table));
        let out = TrapKind::TableOutOfBounds;
        let from = range(src, len, src_t.len() as usize).ok_or(out)?;
        let to = range(dst, len, dst_t.len() as usize).ok_or(out)?;
        let copied: Vec<usize> = src_t.elements_mut()[from].to_vec();
        dst_t.elements_mut()[to].copy_from_slice(&copied);
        if std::ptr::eq(dst_t.as_ref(), src_t.as_ref()) {
            // The table already held these; what was overwritten may have been a last reference.
            dst_t.stored(0);
        } else {
            for value in copied {
                dst_t.stored(value);
            }
        }
        Ok(())
    })())
}

unsafe extern "C" fn table_init(
    vmctx: *mut u8,
    table: u32,
    segment: u32,
    dst: u64,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: called by generated code with its vmctx.
    status(unsafe { instance(vmctx) }.table_init(table, segment, dst, src, len))
}

unsafe extern "C" fn elem_drop(vmctx: *mut u8, segment: u32) {
    // SAFETY: called by generated code with its vmctx.
    unsafe { instance(vmctx) }.elem_drop(segment)
}

unsafe extern "C" fn table_set_ref(vmctx: *mut u8, table: u32, index: u64, value: u64) {
    // SAFETY: called by generated code with its vmctx.
    let instance = unsafe { instance(vmctx) };
    super::exceptions::note_stored(value as usize);
    let table = instance.table(table);
    // The index was bounds-checked by the caller.
    if table.set(index, value as usize).is_ok() {
        table.stored(value as usize);
    }
}

unsafe extern "C" fn global_set_ref(vmctx: *mut u8, global: u32, value: u64) {
    // SAFETY: called by generated code with its vmctx.
    let instance = unsafe { instance(vmctx) };
    super::exceptions::note_stored(value as usize);
    instance.global(global).store(value as u128);
}

// SAFETY: called by generated code only, with its own vmctx (see `instance`).
unsafe extern "C" fn tier_up_hot(vmctx: *mut u8, defined: u32) {
    // SAFETY: called by generated code with its vmctx.
    let instance = unsafe { instance(vmctx) };
    instance.code().request_tier_up(defined);
}

unsafe extern "C" fn interrupt(_vmctx: *mut u8) -> u32 {
    // A panic must not unwind into generated code: it stops the activation.
    let carry_on = std::panic::catch_unwind(super::interrupts::handle_interrupt)
        .is_ok_and(|result| result.is_ok());
    u32::from(!carry_on)
}

extern "C" fn is_subtype(_vmctx: *mut u8, actual: u32, expected: u32) -> u32 {
    super::signatures::is_subtype(actual, expected) as u32
}

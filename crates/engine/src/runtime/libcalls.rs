//! The implementations of [`crate::libcall::LibCall`]: what generated code calls for growth
//! and bulk operations. Each takes the caller's vmctx first, finds its instance, and reports
//! failure by status (0 = done, else `TrapKind` index + 1), never by unwinding.

use std::ffi::c_void;

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
        LibCall::Throw => return super::exceptions::throw_tag_address(),
        LibCall::ThrowRef => return super::exceptions::throw_ref_address(),
        LibCall::ThrowHost => return super::exceptions::throw_host_address(),
        LibCall::ExceptionMatches => super::exceptions::exception_matches as *const c_void,
    };
    f as usize
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

unsafe extern "C" fn memory_grow(vmctx: *mut u8, delta: u32) -> u32 {
    // SAFETY: called by generated code with its vmctx.
    let instance = unsafe { instance(vmctx) };
    let grown = instance.memory().and_then(|m| m.grow(delta as u64));
    grown.map_or(u32::MAX, |old| old as u32)
}

unsafe extern "C" fn memory_fill(vmctx: *mut u8, dst: u32, value: u32, len: u32) -> u32 {
    // SAFETY: called by generated code with its vmctx.
    let instance = unsafe { instance(vmctx) };
    status((|| {
        let memory = instance.memory().ok_or(TrapKind::MemoryOutOfBounds)?;
        // SAFETY: no other view of the bytes is live while this libcall runs.
        let bytes = unsafe { memory.bytes_mut() };
        let end = dst as u64 + len as u64;
        let target = bytes
            .get_mut(dst as usize..end as usize)
            .ok_or(TrapKind::MemoryOutOfBounds)?;
        in_chunks(target.len(), false, |at, n| target[at..at + n].fill(value as u8))
    })())
}

unsafe extern "C" fn memory_copy(vmctx: *mut u8, dst: u32, src: u32, len: u32) -> u32 {
    // SAFETY: called by generated code with its vmctx.
    let instance = unsafe { instance(vmctx) };
    status((|| {
        let memory = instance.memory().ok_or(TrapKind::MemoryOutOfBounds)?;
        // SAFETY: as in memory_fill.
        let bytes = unsafe { memory.bytes_mut() };
        let size = bytes.len() as u64;
        if src as u64 + len as u64 > size || dst as u64 + len as u64 > size {
            return Err(TrapKind::MemoryOutOfBounds);
        }
        let (src, dst) = (src as usize, dst as usize);
        in_chunks(len as usize, dst > src, |at, n| {
            bytes.copy_within(src + at..src + at + n, dst + at)
        })
    })())
}

unsafe extern "C" fn memory_init(
    vmctx: *mut u8,
    segment: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: called by generated code with its vmctx.
    status(unsafe { instance(vmctx) }.memory_init(segment, dst, src, len))
}

unsafe extern "C" fn data_drop(vmctx: *mut u8, segment: u32) {
    // SAFETY: called by generated code with its vmctx.
    unsafe { instance(vmctx) }.data_drop(segment)
}

unsafe extern "C" fn table_grow(vmctx: *mut u8, table: u32, delta: u32, init: u64) -> u32 {
    // SAFETY: called by generated code with its vmctx.
    let instance = unsafe { instance(vmctx) };
    super::exceptions::note_stored(init as usize);
    let table = instance.table(table);
    let grown = table.grow(delta as u64, init as usize);
    if grown.is_some() {
        table.stored(init as usize);
    }
    grown.map_or(u32::MAX, |old| old as u32)
}

unsafe extern "C" fn table_fill(vmctx: *mut u8, table: u32, dst: u32, value: u64, len: u32) -> u32 {
    // SAFETY: called by generated code with its vmctx.
    let instance = unsafe { instance(vmctx) };
    super::exceptions::note_stored(value as usize);
    status((|| {
        let table = instance.table(table);
        let end = dst as u64 + len as u64;
        let target = table
            .elements_mut()
            .get_mut(dst as usize..end as usize)
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
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: called by generated code with its vmctx.
    let instance = unsafe { instance(vmctx) };
    status((|| {
        let (dst_t, src_t) = (instance.table(dst_table), instance.table(src_table));
        if src as u64 + len as u64 > src_t.len() || dst as u64 + len as u64 > dst_t.len() {
            return Err(TrapKind::TableOutOfBounds);
        }
        let copied: Vec<usize> = src_t.elements_mut()[src as usize..(src + len) as usize].to_vec();
        dst_t.elements_mut()[dst as usize..(dst + len) as usize].copy_from_slice(&copied);
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
    dst: u32,
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

unsafe extern "C" fn table_set_ref(vmctx: *mut u8, table: u32, index: u32, value: u64) {
    // SAFETY: called by generated code with its vmctx.
    let instance = unsafe { instance(vmctx) };
    super::exceptions::note_stored(value as usize);
    let table = instance.table(table);
    // The index was bounds-checked by the caller.
    if table.set(index as u64, value as usize).is_ok() {
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
    instance.compiled().request_hot(defined);
}

unsafe extern "C" fn interrupt(_vmctx: *mut u8) -> u32 {
    // A panic must not unwind into generated code: it stops the activation.
    let carry_on = std::panic::catch_unwind(super::interrupts::handle_interrupt)
        .is_ok_and(|result| result.is_ok());
    u32::from(!carry_on)
}

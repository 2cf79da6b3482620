//! The runtime: code memory, linear memories, tables, globals, the signature registry,
//! trampolines and the trap handler. All of the engine's `unsafe` lives here.
//!
//! It names neither the compiler nor the translator nor Cranelift (`tests/layers.rs`): it
//! places and calls the code it is handed (trampolines, a module's code through
//! [`module_info::ModuleRuntimeInfo`], which the compiler implements).

pub mod code_memory;
pub mod dispatch;
pub mod exceptions;
pub mod frames;
pub mod func;
pub mod global;
pub mod instance;
pub mod interrupts;
pub mod libcalls;
pub mod simd;
pub mod mapped_file;
pub mod memory;
pub mod module_info;
pub mod refs;
pub mod sandbox;
pub mod signatures;
pub mod table;
pub mod trampolines;
pub mod traps;
pub mod waiters;
pub mod wasi;

/// Lowers the calling thread's scheduling priority (nice 10), for background compile threads:
/// the JS thread must keep running smoothly while they work, even with every core busy.
pub fn lower_thread_priority() {
    // SAFETY: gettid has no preconditions; setpriority on our own thread id only changes this
    // thread's nice value, and its failure (e.g. not permitted) is harmless.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 10);
    }
}

/// A copy of module bytes, as a module keeps them. A copy into fresh memory costs one page
/// fault per 4 KB, which is most of its time (14 MB: ~11 ms on this machine), and `compile()`
/// makes it on the JS thread; so a copy of 1 MB or more is made by two threads (their faults
/// are taken in parallel), and the 2 MB-aligned part of the new allocation is advised for
/// transparent huge pages before anything touches it (`MADV_HUGEPAGE`, where the kernel has
/// them: 14 MB then took ~4 ms on one thread). On a thread of a rayon pool (the compile pool's
/// copy made beside decoding and validation) the pool's other work already has the cores: the
/// copy stays on that thread.
pub fn copy_bytes(bytes: &[u8]) -> std::sync::Arc<[u8]> {
    const HUGE_PAGE: usize = 2 << 20;
    const PARALLEL_FROM: usize = 1 << 20;
    if bytes.len() < PARALLEL_FROM {
        return std::sync::Arc::from(bytes);
    }
    let mut copy = std::sync::Arc::<[u8]>::new_uninit_slice(bytes.len());
    let destination = std::sync::Arc::get_mut(&mut copy).expect("a new Arc has no other owner");
    let start = destination.as_mut_ptr() as usize;
    let (first, end) = (start.next_multiple_of(HUGE_PAGE), (start + bytes.len()) / HUGE_PAGE * HUGE_PAGE);
    if end > first {
        // SAFETY: [first, end) lies inside `destination`, an allocation this thread owns; the
        // advice only changes which pages the kernel backs the range with (it neither maps,
        // unmaps nor changes contents), and its failure (no THP support) is harmless.
        unsafe { libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE) };
    }
    // Two threads: the page faults of a fresh allocation are most of a copy's time, and they
    // are taken in parallel (per-VMA locks). A scoped thread of its own, not the compile pool,
    // whose threads may be busy with another compile for a while.
    let half = (bytes.len() / 2).next_multiple_of(4096).min(bytes.len());
    let (low, high) = destination.split_at_mut(half);
    let copy_part = |to: &mut [std::mem::MaybeUninit<u8>], from: &[u8]| {
        debug_assert_eq!(to.len(), from.len());
        // SAFETY: `to` and `from` have the same length (the same split of equal lengths) and
        // `to` is part of a fresh allocation, so they do not overlap; `MaybeUninit<u8>` has the
        // layout of `u8`.
        unsafe { std::ptr::copy_nonoverlapping(from.as_ptr(), to.as_mut_ptr().cast::<u8>(), from.len()) };
    };
    if rayon::current_thread_index().is_some() {
        copy_part(low, &bytes[..half]);
        copy_part(high, &bytes[half..]);
        // SAFETY: every element was written by the two copies above.
        return unsafe { copy.assume_init() };
    }
    let helped = std::thread::scope(|scope| {
        let helper = std::thread::Builder::new().spawn_scoped(scope, || copy_part(&mut *high, &bytes[half..]));
        copy_part(low, &bytes[..half]);
        matches!(helper.map(|h| h.join()), Ok(Ok(())))
    });
    if !helped {
        // No thread could be started: the second half here too.
        copy_part(high, &bytes[half..]);
    }
    // SAFETY: every element was written by the copies above (both halves).
    unsafe { copy.assume_init() }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_instance;

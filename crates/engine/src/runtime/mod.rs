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

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_instance;

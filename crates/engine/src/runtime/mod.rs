//! The runtime: code memory, linear memories, tables, globals, the signature registry,
//! trampolines and the trap handler. All of the engine's `unsafe` lives here.

pub mod code_memory;
pub mod dispatch;
pub mod global;
pub mod instance;
pub mod libcalls;
pub mod memory;
pub mod refs;
pub mod signatures;
pub mod table;
pub mod trampolines;
pub mod traps;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_instance;

//! The cranewasm engine, free of napi so that `cargo test` and fuzzers can drive it directly.
//!
//! Layers (see docs/architecture.md), with dependencies one way, environ ← translate ←
//! compiler → runtime (`tests/layers.rs` checks it): environ is `module` (decoded, immutable
//! module metadata), `vmoffsets` (the layout of the structures generated code shares with the
//! runtime), `libcall`, `trap`, `code_info` (what the runtime reads of generated code) and
//! `tier`; `translate` lowers wasm operators to Cranelift IR; `compiler` turns bytes into a
//! validated module and machine code, trampolines included; `runtime` holds code memory,
//! instances, memories, tables, globals and trap handling, and defines the interfaces
//! (`runtime::module_info`) through which it reaches the compiler's code.

pub mod code_info;
pub mod compiler;
mod fuel;
pub mod libcall;
pub mod module;
pub mod runtime;
pub mod singlepass;
pub mod tier;
pub mod translate;
pub mod trap;
pub mod vmoffsets;

pub use compiler::{compile, validate, CompileError, ErrorKind};
pub use module::{CustomSection, Export, ExternKind, Import, Module};

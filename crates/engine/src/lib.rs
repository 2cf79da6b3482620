//! The cranewasm engine, free of napi so that `cargo test` and fuzzers can drive it directly.
//!
//! Layers (see docs/architecture.md): `module` holds decoded, immutable module metadata and
//! `vmoffsets` the layout of the structures generated code shares with the runtime;
//! `compiler` turns bytes into a validated module and machine code, with `translate` lowering
//! wasm operators to Cranelift IR; `runtime` holds code memory, instances, memories, tables,
//! globals, trampolines and trap handling.

pub mod compiler;
pub mod libcall;
pub mod module;
pub mod runtime;
pub mod translate;
pub mod trap;
pub mod vmoffsets;

pub use compiler::{compile, validate, CompileError, ErrorKind};
pub use module::{CustomSection, Export, ExternKind, Import, Module};

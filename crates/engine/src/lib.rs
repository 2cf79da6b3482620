//! The cranewasm engine, free of napi so that `cargo test` and fuzzers can drive it directly.
//!
//! Layers (see docs/architecture.md): `module` holds decoded, immutable module metadata;
//! `compiler` turns bytes into a validated [`Module`]. Code generation and the runtime join
//! these as the engine grows.

pub mod compiler;
pub mod module;

pub use compiler::{compile, validate, CompileError};
pub use module::{CustomSection, Export, ExternKind, Import, Module};

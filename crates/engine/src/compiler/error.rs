//! The compile error a user sees: what failed, in which function, at which byte offset, and
//! whose fault it is ([`ErrorKind`]).

use std::fmt;

/// Why a module failed to decode, validate or compile. Displays as V8 does:
/// `Compiling function #3:"name" failed: <reason> @+123`, or `<reason> @+123` outside
/// function bodies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileError {
    pub message: String,
    /// Byte offset of the failure from the start of the module.
    pub offset: u64,
    /// Index of the failing function in the function index space, with its name if known.
    pub function: Option<(u32, Option<String>)>,
    /// Whose fault the failure is. Every kind is a `WebAssembly.CompileError` to JS.
    pub kind: ErrorKind,
}

/// Whose fault a [`CompileError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The bytes are not a valid module (decoding or validation failed, or a JS API limit).
    Invalid,
    /// The module may be valid WebAssembly, but uses something cranewasm does not implement
    /// (GC, a proposal outside its feature set) or cannot run here (the CPU).
    Unsupported,
    /// An engine bug: an internal invariant broke while compiling a valid module (the
    /// translator's operand or control stack, a Cranelift error, a panic). Fuzzers report it.
    Internal,
}

impl CompileError {
    /// An [`ErrorKind::Invalid`] error outside any function.
    pub(crate) fn invalid(message: impl Into<String>, offset: u64) -> Self {
        CompileError { message: message.into(), offset, function: None, kind: ErrorKind::Invalid }
    }

    /// An [`ErrorKind::Unsupported`] error outside any function.
    pub(crate) fn unsupported(message: impl Into<String>, offset: u64) -> Self {
        CompileError {
            message: message.into(),
            offset,
            function: None,
            kind: ErrorKind::Unsupported,
        }
    }

    /// An [`ErrorKind::Internal`] error outside any function.
    pub(crate) fn internal(message: impl Into<String>, offset: u64) -> Self {
        CompileError { message: message.into(), offset, function: None, kind: ErrorKind::Internal }
    }

    /// A decoding or validation error. wasmparser refuses what belongs to a proposal outside
    /// `compiler::features` as "<proposal> support is not enabled" (or, for exceptions in
    /// some places, "exceptions proposal not enabled"): valid WebAssembly that cranewasm does
    /// not implement, so [`ErrorKind::Unsupported`], and its message says so.
    pub(crate) fn from_reader(err: &wasmparser::BinaryReaderError) -> Self {
        let message = err.message();
        if message.ends_with(" support is not enabled") || message.ends_with(" proposal not enabled") {
            return CompileError::unsupported(
                format!("{message}: cranewasm does not support it"),
                err.offset(),
            );
        }
        CompileError::invalid(message, err.offset())
    }
}

impl From<wasmparser::BinaryReaderError> for CompileError {
    fn from(err: wasmparser::BinaryReaderError) -> Self {
        CompileError::from_reader(&err)
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.function {
            Some((index, Some(name))) => {
                write!(f, "Compiling function #{index}:\"{name}\" failed: ")?
            }
            Some((index, None)) => write!(f, "Compiling function #{index} failed: ")?,
            None => {}
        }
        write!(f, "{} @+{}", self.message, self.offset)
    }
}

impl std::error::Error for CompileError {}

//! The compile error a user sees: what failed, in which function, at which byte offset.

use std::fmt;

/// Why a module failed to decode or validate. Displays as V8 does:
/// `Compiling function #3:"name" failed: <reason> @+123`, or `<reason> @+123` outside
/// function bodies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileError {
    pub message: String,
    /// Byte offset of the failure from the start of the module.
    pub offset: u64,
    /// Index of the failing function in the function index space, with its name if known.
    pub function: Option<(u32, Option<String>)>,
}

impl CompileError {
    pub(crate) fn from_reader(err: &wasmparser::BinaryReaderError) -> Self {
        CompileError {
            message: err.message().to_string(),
            offset: err.offset(),
            function: None,
        }
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

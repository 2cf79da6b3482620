//! Why a function body that validated could not be translated.

use std::fmt;

/// A translation failure. The body was validated first, so the failure is never the module's
/// fault: either it uses an operator of a proposal cranewasm does not implement, or the engine
/// has a bug.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TranslateError {
    /// An operator of `feature` (a proposal cranewasm does not implement), at byte `offset`
    /// of the module. Validation normally refuses these first (the feature set of
    /// `compiler::features` leaves them out); the translator refuses them too, so that turning
    /// a feature on without translating it fails cleanly.
    Unsupported {
        feature: &'static str,
        operator: String,
        offset: u64,
    },
    /// An internal invariant broke: the operand or control stack disagrees with validation, an
    /// index is out of the module, the dispatch routed an operator to a module that does not
    /// translate it. `offset` is the operator's, when there is one.
    EngineBug { what: String, offset: Option<u64> },
}

impl TranslateError {
    /// The byte offset of the failure in the module, if known.
    pub fn offset(&self) -> Option<u64> {
        match self {
            TranslateError::Unsupported { offset, .. } => Some(*offset),
            TranslateError::EngineBug { offset, .. } => *offset,
        }
    }

    /// Places an error without an offset at `offset` (the operator being translated).
    pub(crate) fn at(self, offset: u64) -> Self {
        match self {
            TranslateError::EngineBug { what, offset: None } => {
                TranslateError::EngineBug { what, offset: Some(offset) }
            }
            other => other,
        }
    }
}

/// The translator's internal checks report broken invariants as strings.
impl From<String> for TranslateError {
    fn from(what: String) -> Self {
        TranslateError::EngineBug { what, offset: None }
    }
}

impl From<&str> for TranslateError {
    fn from(what: &str) -> Self {
        TranslateError::EngineBug { what: what.to_string(), offset: None }
    }
}

impl fmt::Display for TranslateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TranslateError::Unsupported { feature, operator, .. } => {
                write!(f, "{feature} is not supported: {operator}")
            }
            TranslateError::EngineBug { what, .. } => write!(f, "internal error: {what}"),
        }
    }
}

impl std::error::Error for TranslateError {}

//! What the runtime needs to know about a piece of generated code, as plain data: where it
//! traps and with which trap, which wasm operator each range of it came from, and where its
//! exception handlers are. The compiler produces these (`compiler::codegen`) alongside the
//! machine code; the runtime keeps them with the code it places (`runtime::code_memory`) and
//! reads them when a signal, a stack trace or an exception needs them. Neither layer's types
//! appear here, so both can depend on this module without depending on each other.

use crate::trap::TrapKind;

/// A trap site: a code offset and the trap raised there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrapSite {
    pub offset: u32,
    pub kind: TrapKind,
}

/// Where the machine code of one wasm operator starts (`start`, in the function's code) and
/// the operator's byte offset in the module. The code up to the next entry's start is that
/// operator's (or code between operators that belongs to none, such as spills).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceRange {
    pub start: u32,
    pub wasm_offset: u32,
}

/// A call site with exception handlers (a `try_call`): where the call returns to, how far below
/// the frame pointer the stack pointer is there (what a handler resumes with), and the handlers
/// in the order they are tried. Offsets are relative to the function's code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExceptionSite {
    pub return_offset: u32,
    pub frame_offset: u32,
    pub handlers: Box<[ExceptionHandler]>,
}

/// One entry of an [`ExceptionSite`]'s handler list (Cranelift's exception table, lowered).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExceptionHandler {
    /// Tag `tag` of the module's tag index space, in the instance whose vmctx the last
    /// `Context` entry holds, is caught at `target`.
    Tag { tag: u32, target: u32 },
    /// Every exception is caught at `target`.
    Default { target: u32 },
    /// The vmctx of the instance that tags are interpreted in, spilled at `sp_offset` from the
    /// stack pointer at the call.
    Context { sp_offset: u32 },
}

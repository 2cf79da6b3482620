//! The runtime functions generated code calls for what is not done inline: growing and bulk
//! operations on memories and tables, segment drops, reference stores into tables and globals. Generated code calls
//! them through their absolute address (`runtime::libcalls::address`) with the System V calling
//! convention; the first argument is always the caller's `vmctx`.
//!
//! Status results: `0` means done; any other value is a [`crate::trap::TrapKind`] index + 1 and the
//! caller traps with that kind (`trapnz`), so no Rust frame is ever unwound by a trap.

use cranelift_codegen::ir::{types, AbiParam, Signature, Type};
use cranelift_codegen::isa::CallConv;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LibCall {
    /// `(vmctx, delta_pages: i32) -> old_pages: i32` (-1 on failure). Memory 0.
    MemoryGrow,
    /// `(vmctx, dst: i32, value: i32, len: i32) -> status: i32`.
    MemoryFill,
    /// `(vmctx, dst: i32, src: i32, len: i32) -> status: i32`.
    MemoryCopy,
    /// `(vmctx, segment: i32, dst: i32, src: i32, len: i32) -> status: i32`.
    MemoryInit,
    /// `(vmctx, segment: i32)`.
    DataDrop,
    /// `(vmctx, table: i32, delta: i32, init: i64) -> old_len: i32` (-1 on failure).
    TableGrow,
    /// `(vmctx, table: i32, dst: i32, value: i64, len: i32) -> status: i32`.
    TableFill,
    /// `(vmctx, dst_table: i32, src_table: i32, dst: i32, src: i32, len: i32) -> status: i32`.
    TableCopy,
    /// `(vmctx, table: i32, segment: i32, dst: i32, src: i32, len: i32) -> status: i32`.
    TableInit,
    /// `(vmctx, segment: i32)`.
    ElemDrop,
    /// `(vmctx, table: i32, index: i32, value: i64)`: `table.set`, index already bounds-checked
    /// by the caller (the runtime records what the stored reference keeps alive).
    TableSetRef,
    /// `(vmctx, global: i32, value: i64)`: `global.set` of a reference-typed global (recorded as
    /// `table.set` is).
    GlobalSetRef,
    /// `(vmctx, defined_function: i32)`: the function's dynamic tier-up budget ran out (baseline
    /// code with dynamic tier-up); queue it for the optimizing tier.
    TierUpHot,
    /// `(vmctx) -> status: i32`: a loop header's interrupt check failed (see
    /// `runtime::interrupts`); non-zero means stop (trap with `Interrupted`).
    Interrupt,
    /// `(vmctx, tag: i32, values: i64)`, never returns: `throw` of tag `tag` with the payload
    /// in `values` (one 16-byte slot per parameter). See `runtime::exceptions`.
    Throw,
    /// `(vmctx, exnref: i64)`, never returns: `throw_ref` of a non-null exception.
    ThrowRef,
    /// `(vmctx)`, never returns: the exit trampoline's import threw; throw that into wasm.
    ThrowHost,
    /// `(vmctx, exnref: i64, tag: i32) -> i32`: whether the exception's tag is the instance's
    /// tag `tag` (a legacy `catch`).
    ExceptionMatches,
}

impl LibCall {
    /// Parameter and result types, after the leading `vmctx: i64`.
    fn types(self) -> (&'static [Type], &'static [Type]) {
        use types::{I32, I64};
        match self {
            LibCall::MemoryGrow => (&[I32], &[I32]),
            LibCall::MemoryFill | LibCall::MemoryCopy => (&[I32, I32, I32], &[I32]),
            LibCall::MemoryInit => (&[I32, I32, I32, I32], &[I32]),
            LibCall::DataDrop | LibCall::ElemDrop => (&[I32], &[]),
            LibCall::TableGrow => (&[I32, I32, I64], &[I32]),
            LibCall::TableFill => (&[I32, I32, I64, I32], &[I32]),
            LibCall::TableCopy | LibCall::TableInit => (&[I32, I32, I32, I32, I32], &[I32]),
            LibCall::TableSetRef => (&[I32, I32, I64], &[]),
            LibCall::GlobalSetRef => (&[I32, I64], &[]),
            LibCall::TierUpHot => (&[I32], &[]),
            LibCall::Interrupt => (&[], &[I32]),
            LibCall::Throw => (&[I32, I64], &[]),
            LibCall::ThrowRef => (&[I64], &[]),
            LibCall::ThrowHost => (&[], &[]),
            LibCall::ExceptionMatches => (&[I64, I32], &[I32]),
        }
    }

    /// The Cranelift signature to call this libcall with.
    pub fn signature(self) -> Signature {
        let (params, results) = self.types();
        // The throwing libcalls are `try_call`ed: with the `tail` convention every register is
        // clobbered there, so the landing pad expects none preserved (the unwinder restores
        // none) and the vmctx the handlers need is spilled to the frame. (Their stubs take the
        // same argument registers as System V.)
        let convention = match self {
            LibCall::Throw | LibCall::ThrowRef | LibCall::ThrowHost => CallConv::Tail,
            _ => CallConv::SystemV,
        };
        let mut sig = Signature::new(convention);
        sig.params.push(AbiParam::new(types::I64));
        sig.params.extend(params.iter().map(|t| AbiParam::new(*t)));
        sig.returns
            .extend(results.iter().map(|t| AbiParam::new(*t)));
        sig
    }
}

//! The runtime functions generated code calls for what is not done inline: growing and bulk
//! operations on memories and tables, segment drops, reference stores into tables and globals. Generated code calls
//! them through the builtins table the vmctx points to ([`BUILTINS`], filled by
//! `runtime::libcalls::builtins`) with the System V calling convention; the first argument is
//! always the caller's `vmctx`.
//!
//! Status results: `0` means done; any other value is a [`crate::trap::TrapKind`] index + 1 and the
//! caller traps with that kind (`trapnz`), so no Rust frame is ever unwound by a trap.

use cranelift_codegen::ir::{types, AbiParam, Signature, Type};
use cranelift_codegen::isa::CallConv;

/// Declares the libcalls once: the enum, the list of all of them (the order of the builtins
/// table) and each one's parameter and result types (after the leading `vmctx: i64`).
macro_rules! libcalls {
    ($( $(#[$doc:meta])* $name:ident ( $($param:ident),* ) -> ( $($result:ident),* ); )*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum LibCall {
            $( $(#[$doc])* $name, )*
        }

        impl LibCall {
            /// Every libcall, in the order of their slots in the builtins table.
            pub const ALL: &'static [LibCall] = &[$(LibCall::$name),*];

            fn types(self) -> (&'static [Type], &'static [Type]) {
                match self {
                    $( LibCall::$name => (&[$(types::$param),*], &[$(types::$result),*]), )*
                }
            }
        }
    };
}

libcalls! {
    /// `(vmctx, memory: i32, delta_pages: i64) -> old_pages: i64` (-1 on failure).
    MemoryGrow(I32, I64) -> (I64);
    /// `(vmctx, memory: i32, dst: i64, value: i32, len: i64) -> status: i32`.
    MemoryFill(I32, I64, I32, I64) -> (I32);
    /// `(vmctx, dst_memory: i32, src_memory: i32, dst: i64, src: i64, len: i64) -> status: i32`.
    MemoryCopy(I32, I32, I64, I64, I64) -> (I32);
    /// `(vmctx, memory: i32, segment: i32, dst: i64, src: i32, len: i32) -> status: i32`.
    MemoryInit(I32, I32, I64, I32, I32) -> (I32);
    /// `(vmctx, segment: i32)`.
    DataDrop(I32) -> ();
    /// `(vmctx, table: i32, delta: i64, init: i64) -> old_len: i64` (-1 on failure).
    TableGrow(I32, I64, I64) -> (I64);
    /// `(vmctx, table: i32, dst: i64, value: i64, len: i64) -> status: i32`.
    TableFill(I32, I64, I64, I64) -> (I32);
    /// `(vmctx, dst_table: i32, src_table: i32, dst: i64, src: i64, len: i64) -> status: i32`.
    TableCopy(I32, I32, I64, I64, I64) -> (I32);
    /// `(vmctx, table: i32, segment: i32, dst: i64, src: i32, len: i32) -> status: i32`.
    TableInit(I32, I32, I64, I32, I32) -> (I32);
    /// `(vmctx, segment: i32)`.
    ElemDrop(I32) -> ();
    /// `(vmctx, table: i32, index: i64, value: i64)`: `table.set`, index already bounds-checked
    /// by the caller (the runtime records what the stored reference keeps alive).
    TableSetRef(I32, I64, I64) -> ();
    /// `(vmctx, global: i32, value: i64)`: `global.set` of a reference-typed global (recorded as
    /// `table.set` is).
    GlobalSetRef(I32, I64) -> ();
    /// `(vmctx, defined_function: i32)`: the function's dynamic tier-up budget ran out (baseline
    /// code with dynamic tier-up); queue it for the optimizing tier.
    TierUpHot(I32) -> ();
    /// `(vmctx) -> status: i32`: a loop header's interrupt check failed (see
    /// `runtime::interrupts`); non-zero means stop (trap with `Interrupted`).
    Interrupt() -> (I32);
    /// `(vmctx, actual: i32, expected: i32) -> i32`: 1 when canonical type `actual` is a
    /// declared subtype of `expected` (`call_indirect` of a non-final type whose ids differ).
    IsSubtype(I32, I32) -> (I32);
    /// `(vmctx, tag: i32, values: i64)`, never returns: `throw` of tag `tag` with the payload
    /// in `values` (one 16-byte slot per parameter). See `runtime::exceptions`.
    Throw(I32, I64) -> ();
    /// `(vmctx, exnref: i64)`, never returns: `throw_ref` of a non-null exception.
    ThrowRef(I64) -> ();
    /// `(vmctx)`, never returns: the exit trampoline's import threw; throw that into wasm.
    ThrowHost() -> ();
    /// `(vmctx, exnref: i64, tag: i32) -> i32`: whether the exception's tag is the instance's
    /// tag `tag` (a legacy `catch`).
    ExceptionMatches(I64, I32) -> (I32);
    /// `(vmctx, exnref: i64)`: a landing's `exnref` is dead (its clause took the payload, or
    /// its legacy catch body was left): the runtime drops the reference the landing held.
    ExceptionRelease(I64) -> ();
    /// `(vmctx, address: i64, expected: i64, timeout_ns: i64, width: i32) -> i32`:
    /// `memory.atomic.wait32/64` on a shared memory at native `address` (checked by the
    /// caller), `width` 4 or 8 bytes; 0 woken, 1 not equal, 2 timed out. See `runtime::waiters`.
    AtomicWait(I64, I64, I64, I32) -> (I32);
    /// `(vmctx, address: i64, count: i32) -> woken: i32`: `memory.atomic.notify` on a shared
    /// memory at native `address`.
    AtomicNotify(I64, I32) -> (I32);
    /// `(vmctx, subop: i32, lanes_lo: i64, lanes_hi: i64, slots: i64)`: the single-pass tier's
    /// SIMD operator of sub-opcode `subop` on the 16-byte frame slots at `slots` (downwards),
    /// its result in the first (`runtime::simd`).
    Simd(I32, I64, I64, I64) -> ();
}

/// What `AtomicWait` returns when the waiting thread is being stopped (an interrupt, a deadline
/// or worker termination): generated code traps with `Interrupted`.
pub const WAIT_INTERRUPTED: u32 = 3;

/// The builtins table (`vmctx.builtins`, one per process): the address of every libcall, at
/// [`LibCall::slot`], then [`INTERRUPT_STUB_SLOT`]. Generated code loads what it calls from
/// there, so it carries no host addresses and the translator needs nothing from the runtime.
pub const BUILTINS: usize = LibCall::ALL.len() + 1;

/// The slot of the interrupt stub that failed loop checks call: no arguments, every register
/// preserved (`CallConv::PreserveAll`).
pub const INTERRUPT_STUB_SLOT: usize = LibCall::ALL.len();

impl LibCall {
    /// Its slot in the builtins table.
    pub fn slot(self) -> usize {
        self as usize
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_follow_the_declaration_order() {
        for (i, call) in LibCall::ALL.iter().enumerate() {
            assert_eq!(call.slot(), i);
        }
        assert_eq!(INTERRUPT_STUB_SLOT, BUILTINS - 1);
    }
}

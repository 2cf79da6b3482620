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
use std::sync::OnceLock;
use wasmparser::Operator;

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

// ---- the operators of `LibCall::Simd` ----

/// The operator of SIMD sub-opcode `subop` (after the 0xFD prefix), for the operators without
/// immediates (and `i8x16.shuffle`, whose lanes the caller passes apart).
pub fn simd_operator(subop: u32) -> Option<&'static Operator<'static>> {
    static TABLE: OnceLock<Vec<Option<Operator<'static>>>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        (0u32..0x200)
            .map(|sub| {
                let mut bytes = vec![0xfd];
                let mut v = sub;
                loop {
                    let b = (v & 0x7f) as u8;
                    v >>= 7;
                    if v == 0 {
                        bytes.push(b);
                        break;
                    }
                    bytes.push(b | 0x80);
                }
                // Room for a shuffle's lanes; other immediates are not decoded here.
                bytes.extend_from_slice(&[0; 16]);
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                let reader = wasmparser::BinaryReader::new(bytes, 0);
                wasmparser::OperatorsReader::new(reader).read().ok()
            })
            .collect()
    });
    table.get(subop as usize)?.as_ref()
}

/// The sub-opcode of SIMD operator `op` (what [`LibCall::Simd`] takes), or `None` for other
/// operators.
pub fn simd_subop(op: &Operator<'_>) -> Option<u32> {
    static NAMES: OnceLock<std::collections::HashMap<String, u32>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        (0u32..0x200).filter_map(|sub| Some((name(simd_operator(sub)?), sub))).collect()
    });
    names.get(&name(op)).copied()
}

/// An operator's name (its variant).
fn name(op: &Operator<'_>) -> String {
    let mut text = format!("{op:?}");
    if let Some(end) = text.find([' ', '{', '(']) {
        text.truncate(end);
    }
    text
}

/// How many stack operands SIMD operator `op` takes in [`LibCall::Simd`] (its v128 operands,
/// and a shift's count).
pub fn simd_arity(op: &Operator<'_>) -> usize {
    use Operator::*;
    match op {
        V128Bitselect | F32x4RelaxedMadd | F32x4RelaxedNmadd | F64x2RelaxedMadd | F64x2RelaxedNmadd
        | I8x16RelaxedLaneselect | I16x8RelaxedLaneselect | I32x4RelaxedLaneselect | I64x2RelaxedLaneselect
        | I32x4RelaxedDotI8x16I7x16AddS => 3,
        V128Not | V128AnyTrue | I8x16AllTrue | I16x8AllTrue | I32x4AllTrue | I64x2AllTrue | I8x16Bitmask
        | I16x8Bitmask | I32x4Bitmask | I64x2Bitmask | I8x16Abs | I16x8Abs | I32x4Abs | I64x2Abs | I8x16Neg
        | I16x8Neg | I32x4Neg | I64x2Neg | I8x16Popcnt | F32x4Abs | F64x2Abs | F32x4Neg | F64x2Neg | F32x4Sqrt
        | F64x2Sqrt | F32x4Ceil | F64x2Ceil | F32x4Floor | F64x2Floor | F32x4Trunc | F64x2Trunc | F32x4Nearest
        | F64x2Nearest | F32x4ConvertI32x4S | F32x4ConvertI32x4U | I32x4TruncSatF32x4S | I32x4TruncSatF32x4U
        | F64x2ConvertLowI32x4S | F64x2ConvertLowI32x4U | I32x4TruncSatF64x2SZero | I32x4TruncSatF64x2UZero
        | F32x4DemoteF64x2Zero | F64x2PromoteLowF32x4 | I16x8ExtendLowI8x16S | I16x8ExtendHighI8x16S
        | I16x8ExtendLowI8x16U | I16x8ExtendHighI8x16U | I32x4ExtendLowI16x8S | I32x4ExtendHighI16x8S
        | I32x4ExtendLowI16x8U | I32x4ExtendHighI16x8U | I64x2ExtendLowI32x4S | I64x2ExtendHighI32x4S
        | I64x2ExtendLowI32x4U | I64x2ExtendHighI32x4U | I16x8ExtAddPairwiseI8x16S | I16x8ExtAddPairwiseI8x16U
        | I32x4ExtAddPairwiseI16x8S | I32x4ExtAddPairwiseI16x8U | I32x4RelaxedTruncF32x4S
        | I32x4RelaxedTruncF32x4U | I32x4RelaxedTruncF64x2SZero | I32x4RelaxedTruncF64x2UZero => 1,
        _ => 2,
    }
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

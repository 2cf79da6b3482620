//! The translator's one dispatch: every operator wasmparser knows, by the concern that
//! translates it, in one `match` with no wildcard arm. wasmparser's `Operator` is
//! `#[non_exhaustive]` (a `match` on it needs a wildcard), so the match is on [`Kind`], the same
//! list of operators without their immediates, generated from wasmparser's own list
//! (`for_each_operator!`): an operator a wasmparser update adds does not compile until it is
//! placed here. Operators of proposals cranewasm does not implement are explicit groups, each a
//! typed [`TranslateError::Unsupported`].
//!
//! Each concern's `translate` returns whether it handled the operator; after this dispatch a
//! `false` is an engine bug (the operator was routed to the wrong concern).

use wasmparser::Operator as O;

use super::{atomics, calls, control, exceptions, memory, numeric, simd, tables, variables};
use super::{FuncTranslator, TranslateError};

macro_rules! define_kind {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*))*) => {
        /// An operator without its immediates: one variant per variant of `Operator`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        enum Kind {
            $($op,)*
        }

        /// The kind of `op`; `None` only if `Operator` has a variant its own list
        /// (`for_each_operator!`) does not, which wasmparser generates it from.
        fn kind(op: &O<'_>) -> Option<Kind> {
            match op {
                $(O::$op { .. } => Some(Kind::$op),)*
                #[allow(unreachable_patterns)]
                _ => None,
            }
        }
    };
}
wasmparser::for_each_operator!(define_kind);

impl FuncTranslator<'_, '_> {
    /// Translates `op`, at byte `offset` of the module, in reachable code.
    #[rustfmt::skip]
    pub(super) fn dispatch(&mut self, op: &O<'_>, offset: u64) -> Result<(), TranslateError> {
        use Kind as K;
        let Some(kind) = kind(op) else {
            return Err(TranslateError::EngineBug {
                what: format!("{op:?} is missing from wasmparser's list of operators"),
                offset: Some(offset),
            });
        };
        let (concern, handled) = match kind {
            // Locals, globals, drop, select.
            K::Drop | K::Select | K::LocalGet | K::LocalSet | K::LocalTee | K::GlobalGet
            | K::GlobalSet | K::TypedSelect
                => ("variables", variables::translate(self, op)),

            // Constants and scalar arithmetic, comparisons and conversions.
            K::I32Const | K::I64Const | K::F32Const | K::F64Const | K::I32Eqz | K::I32Eq | K::I32Ne
            | K::I32LtS | K::I32LtU | K::I32GtS | K::I32GtU | K::I32LeS | K::I32LeU | K::I32GeS
            | K::I32GeU | K::I64Eqz | K::I64Eq | K::I64Ne | K::I64LtS | K::I64LtU | K::I64GtS
            | K::I64GtU | K::I64LeS | K::I64LeU | K::I64GeS | K::I64GeU | K::F32Eq | K::F32Ne
            | K::F32Lt | K::F32Gt | K::F32Le | K::F32Ge | K::F64Eq | K::F64Ne | K::F64Lt | K::F64Gt
            | K::F64Le | K::F64Ge | K::I32Clz | K::I32Ctz | K::I32Popcnt | K::I32Add | K::I32Sub
            | K::I32Mul | K::I32DivS | K::I32DivU | K::I32RemS | K::I32RemU | K::I32And | K::I32Or
            | K::I32Xor | K::I32Shl | K::I32ShrS | K::I32ShrU | K::I32Rotl | K::I32Rotr | K::I64Clz
            | K::I64Ctz | K::I64Popcnt | K::I64Add | K::I64Sub | K::I64Mul | K::I64DivS
            | K::I64DivU | K::I64RemS | K::I64RemU | K::I64And | K::I64Or | K::I64Xor | K::I64Shl
            | K::I64ShrS | K::I64ShrU | K::I64Rotl | K::I64Rotr | K::F32Abs | K::F32Neg
            | K::F32Ceil | K::F32Floor | K::F32Trunc | K::F32Nearest | K::F32Sqrt | K::F32Add
            | K::F32Sub | K::F32Mul | K::F32Div | K::F32Min | K::F32Max | K::F32Copysign
            | K::F64Abs | K::F64Neg | K::F64Ceil | K::F64Floor | K::F64Trunc | K::F64Nearest
            | K::F64Sqrt | K::F64Add | K::F64Sub | K::F64Mul | K::F64Div | K::F64Min | K::F64Max
            | K::F64Copysign | K::I32WrapI64 | K::I32TruncF32S | K::I32TruncF32U | K::I32TruncF64S
            | K::I32TruncF64U | K::I64ExtendI32S | K::I64ExtendI32U | K::I64TruncF32S
            | K::I64TruncF32U | K::I64TruncF64S | K::I64TruncF64U | K::F32ConvertI32S
            | K::F32ConvertI32U | K::F32ConvertI64S | K::F32ConvertI64U | K::F32DemoteF64
            | K::F64ConvertI32S | K::F64ConvertI32U | K::F64ConvertI64S | K::F64ConvertI64U
            | K::F64PromoteF32 | K::I32ReinterpretF32 | K::I64ReinterpretF64 | K::F32ReinterpretI32
            | K::F64ReinterpretI64 | K::I32Extend8S | K::I32Extend16S | K::I64Extend8S
            | K::I64Extend16S | K::I64Extend32S | K::I32TruncSatF32S | K::I32TruncSatF32U
            | K::I32TruncSatF64S | K::I32TruncSatF64U | K::I64TruncSatF32S | K::I64TruncSatF32U
            | K::I64TruncSatF64S | K::I64TruncSatF64U
                => ("numeric", numeric::translate(self, op)),

            // Memory accesses, memory.size/grow and bulk memory.
            K::I32Load | K::I64Load | K::F32Load | K::F64Load | K::I32Load8S | K::I32Load8U
            | K::I32Load16S | K::I32Load16U | K::I64Load8S | K::I64Load8U | K::I64Load16S
            | K::I64Load16U | K::I64Load32S | K::I64Load32U | K::I32Store | K::I64Store
            | K::F32Store | K::F64Store | K::I32Store8 | K::I32Store16 | K::I64Store8
            | K::I64Store16 | K::I64Store32 | K::MemorySize | K::MemoryGrow | K::MemoryInit
            | K::DataDrop | K::MemoryCopy | K::MemoryFill
                => ("memory", memory::translate(self, op)),

            // Blocks, branches, return, and the legacy exception-handling blocks.
            K::Unreachable | K::Nop | K::Block | K::Loop | K::If | K::Else | K::End | K::Br
            | K::BrIf | K::BrTable | K::Return | K::TryTable | K::Try | K::Catch | K::Rethrow
            | K::Delegate | K::CatchAll | K::BrOnNull | K::BrOnNonNull
                => ("control", control::translate(self, op)),

            // Direct, indirect and reference calls, and their tail-call forms.
            K::Call | K::CallIndirect | K::ReturnCall | K::ReturnCallIndirect | K::CallRef
            | K::ReturnCallRef
                => ("calls", calls::translate(self, op)),

            // References and tables.
            K::TableInit | K::ElemDrop | K::TableCopy | K::RefNull | K::RefIsNull | K::RefFunc
            | K::TableFill | K::TableGet | K::TableSet | K::TableGrow | K::TableSize
            | K::RefAsNonNull
                => ("tables", tables::translate(self, op)),

            // Throwing exceptions (try_table and the legacy try are blocks, in `control`).
            K::Throw | K::ThrowRef
                => ("exceptions", exceptions::translate(self, op)),

            // Fixed-width SIMD: memory, constants, splats, lanes, shuffles, bitwise operations and tests; the relaxed swizzle and laneselects, as their deterministic choice.
            K::V128Load | K::V128Load8x8S | K::V128Load8x8U | K::V128Load16x4S | K::V128Load16x4U
            | K::V128Load32x2S | K::V128Load32x2U | K::V128Load8Splat | K::V128Load16Splat
            | K::V128Load32Splat | K::V128Load64Splat | K::V128Load32Zero | K::V128Load64Zero
            | K::V128Store | K::V128Load8Lane | K::V128Load16Lane | K::V128Load32Lane
            | K::V128Load64Lane | K::V128Store8Lane | K::V128Store16Lane | K::V128Store32Lane
            | K::V128Store64Lane | K::V128Const | K::I8x16Shuffle | K::I8x16ExtractLaneS
            | K::I8x16ExtractLaneU | K::I8x16ReplaceLane | K::I16x8ExtractLaneS
            | K::I16x8ExtractLaneU | K::I16x8ReplaceLane | K::I32x4ExtractLane
            | K::I32x4ReplaceLane | K::I64x2ExtractLane | K::I64x2ReplaceLane | K::F32x4ExtractLane
            | K::F32x4ReplaceLane | K::F64x2ExtractLane | K::F64x2ReplaceLane | K::I8x16Swizzle
            | K::I8x16Splat | K::I16x8Splat | K::I32x4Splat | K::I64x2Splat | K::F32x4Splat
            | K::F64x2Splat | K::V128Not | K::V128And | K::V128AndNot | K::V128Or | K::V128Xor
            | K::V128Bitselect | K::V128AnyTrue | K::I8x16AllTrue | K::I8x16Bitmask
            | K::I16x8AllTrue | K::I16x8Bitmask | K::I32x4AllTrue | K::I32x4Bitmask
            | K::I64x2AllTrue | K::I64x2Bitmask | K::I8x16RelaxedSwizzle
            | K::I8x16RelaxedLaneselect | K::I16x8RelaxedLaneselect | K::I32x4RelaxedLaneselect
            | K::I64x2RelaxedLaneselect
                => ("simd::lanes", simd::lanes(self, op)),

            // Fixed-width SIMD: lane arithmetic, comparisons, conversions, narrowing and widening, dot products; relaxed SIMD's other operators.
            K::I8x16Eq | K::I8x16Ne | K::I8x16LtS | K::I8x16LtU | K::I8x16GtS | K::I8x16GtU
            | K::I8x16LeS | K::I8x16LeU | K::I8x16GeS | K::I8x16GeU | K::I16x8Eq | K::I16x8Ne
            | K::I16x8LtS | K::I16x8LtU | K::I16x8GtS | K::I16x8GtU | K::I16x8LeS | K::I16x8LeU
            | K::I16x8GeS | K::I16x8GeU | K::I32x4Eq | K::I32x4Ne | K::I32x4LtS | K::I32x4LtU
            | K::I32x4GtS | K::I32x4GtU | K::I32x4LeS | K::I32x4LeU | K::I32x4GeS | K::I32x4GeU
            | K::I64x2Eq | K::I64x2Ne | K::I64x2LtS | K::I64x2GtS | K::I64x2LeS | K::I64x2GeS
            | K::F32x4Eq | K::F32x4Ne | K::F32x4Lt | K::F32x4Gt | K::F32x4Le | K::F32x4Ge
            | K::F64x2Eq | K::F64x2Ne | K::F64x2Lt | K::F64x2Gt | K::F64x2Le | K::F64x2Ge
            | K::I8x16Abs | K::I8x16Neg | K::I8x16Popcnt | K::I8x16NarrowI16x8S
            | K::I8x16NarrowI16x8U | K::I8x16Shl | K::I8x16ShrS | K::I8x16ShrU | K::I8x16Add
            | K::I8x16AddSatS | K::I8x16AddSatU | K::I8x16Sub | K::I8x16SubSatS | K::I8x16SubSatU
            | K::I8x16MinS | K::I8x16MinU | K::I8x16MaxS | K::I8x16MaxU | K::I8x16AvgrU
            | K::I16x8ExtAddPairwiseI8x16S | K::I16x8ExtAddPairwiseI8x16U | K::I16x8Abs
            | K::I16x8Neg | K::I16x8Q15MulrSatS | K::I16x8NarrowI32x4S | K::I16x8NarrowI32x4U
            | K::I16x8ExtendLowI8x16S | K::I16x8ExtendHighI8x16S | K::I16x8ExtendLowI8x16U
            | K::I16x8ExtendHighI8x16U | K::I16x8Shl | K::I16x8ShrS | K::I16x8ShrU | K::I16x8Add
            | K::I16x8AddSatS | K::I16x8AddSatU | K::I16x8Sub | K::I16x8SubSatS | K::I16x8SubSatU
            | K::I16x8Mul | K::I16x8MinS | K::I16x8MinU | K::I16x8MaxS | K::I16x8MaxU
            | K::I16x8AvgrU | K::I16x8ExtMulLowI8x16S | K::I16x8ExtMulHighI8x16S
            | K::I16x8ExtMulLowI8x16U | K::I16x8ExtMulHighI8x16U | K::I32x4ExtAddPairwiseI16x8S
            | K::I32x4ExtAddPairwiseI16x8U | K::I32x4Abs | K::I32x4Neg | K::I32x4ExtendLowI16x8S
            | K::I32x4ExtendHighI16x8S | K::I32x4ExtendLowI16x8U | K::I32x4ExtendHighI16x8U
            | K::I32x4Shl | K::I32x4ShrS | K::I32x4ShrU | K::I32x4Add | K::I32x4Sub | K::I32x4Mul
            | K::I32x4MinS | K::I32x4MinU | K::I32x4MaxS | K::I32x4MaxU | K::I32x4DotI16x8S
            | K::I32x4ExtMulLowI16x8S | K::I32x4ExtMulHighI16x8S | K::I32x4ExtMulLowI16x8U
            | K::I32x4ExtMulHighI16x8U | K::I64x2Abs | K::I64x2Neg | K::I64x2ExtendLowI32x4S
            | K::I64x2ExtendHighI32x4S | K::I64x2ExtendLowI32x4U | K::I64x2ExtendHighI32x4U
            | K::I64x2Shl | K::I64x2ShrS | K::I64x2ShrU | K::I64x2Add | K::I64x2Sub | K::I64x2Mul
            | K::I64x2ExtMulLowI32x4S | K::I64x2ExtMulHighI32x4S | K::I64x2ExtMulLowI32x4U
            | K::I64x2ExtMulHighI32x4U | K::F32x4Ceil | K::F32x4Floor | K::F32x4Trunc
            | K::F32x4Nearest | K::F32x4Abs | K::F32x4Neg | K::F32x4Sqrt | K::F32x4Add
            | K::F32x4Sub | K::F32x4Mul | K::F32x4Div | K::F32x4Min | K::F32x4Max | K::F32x4PMin
            | K::F32x4PMax | K::F64x2Ceil | K::F64x2Floor | K::F64x2Trunc | K::F64x2Nearest
            | K::F64x2Abs | K::F64x2Neg | K::F64x2Sqrt | K::F64x2Add | K::F64x2Sub | K::F64x2Mul
            | K::F64x2Div | K::F64x2Min | K::F64x2Max | K::F64x2PMin | K::F64x2PMax
            | K::I32x4TruncSatF32x4S | K::I32x4TruncSatF32x4U | K::F32x4ConvertI32x4S
            | K::F32x4ConvertI32x4U | K::I32x4TruncSatF64x2SZero | K::I32x4TruncSatF64x2UZero
            | K::F64x2ConvertLowI32x4S | K::F64x2ConvertLowI32x4U | K::F32x4DemoteF64x2Zero
            | K::F64x2PromoteLowF32x4 | K::I32x4RelaxedTruncF32x4S | K::I32x4RelaxedTruncF32x4U
            | K::I32x4RelaxedTruncF64x2SZero | K::I32x4RelaxedTruncF64x2UZero | K::F32x4RelaxedMadd
            | K::F32x4RelaxedNmadd | K::F64x2RelaxedMadd | K::F64x2RelaxedNmadd
            | K::F32x4RelaxedMin | K::F32x4RelaxedMax | K::F64x2RelaxedMin | K::F64x2RelaxedMax
            | K::I16x8RelaxedQ15mulrS | K::I16x8RelaxedDotI8x16I7x16S
            | K::I32x4RelaxedDotI8x16I7x16AddS
                => ("simd::arith", simd::arith(self, op)),

            // Threads: atomics, wait/notify and fence (`atomics.rs`).
            K::MemoryAtomicNotify | K::MemoryAtomicWait32 | K::MemoryAtomicWait64 | K::AtomicFence
            | K::I32AtomicLoad | K::I64AtomicLoad | K::I32AtomicLoad8U | K::I32AtomicLoad16U
            | K::I64AtomicLoad8U | K::I64AtomicLoad16U | K::I64AtomicLoad32U | K::I32AtomicStore
            | K::I64AtomicStore | K::I32AtomicStore8 | K::I32AtomicStore16 | K::I64AtomicStore8
            | K::I64AtomicStore16 | K::I64AtomicStore32 | K::I32AtomicRmwAdd | K::I64AtomicRmwAdd
            | K::I32AtomicRmw8AddU | K::I32AtomicRmw16AddU | K::I64AtomicRmw8AddU
            | K::I64AtomicRmw16AddU | K::I64AtomicRmw32AddU | K::I32AtomicRmwSub
            | K::I64AtomicRmwSub | K::I32AtomicRmw8SubU | K::I32AtomicRmw16SubU
            | K::I64AtomicRmw8SubU | K::I64AtomicRmw16SubU | K::I64AtomicRmw32SubU
            | K::I32AtomicRmwAnd | K::I64AtomicRmwAnd | K::I32AtomicRmw8AndU
            | K::I32AtomicRmw16AndU | K::I64AtomicRmw8AndU | K::I64AtomicRmw16AndU
            | K::I64AtomicRmw32AndU | K::I32AtomicRmwOr | K::I64AtomicRmwOr | K::I32AtomicRmw8OrU
            | K::I32AtomicRmw16OrU | K::I64AtomicRmw8OrU | K::I64AtomicRmw16OrU
            | K::I64AtomicRmw32OrU | K::I32AtomicRmwXor | K::I64AtomicRmwXor | K::I32AtomicRmw8XorU
            | K::I32AtomicRmw16XorU | K::I64AtomicRmw8XorU | K::I64AtomicRmw16XorU
            | K::I64AtomicRmw32XorU | K::I32AtomicRmwXchg | K::I64AtomicRmwXchg
            | K::I32AtomicRmw8XchgU | K::I32AtomicRmw16XchgU | K::I64AtomicRmw8XchgU
            | K::I64AtomicRmw16XchgU | K::I64AtomicRmw32XchgU | K::I32AtomicRmwCmpxchg
            | K::I64AtomicRmwCmpxchg | K::I32AtomicRmw8CmpxchgU | K::I32AtomicRmw16CmpxchgU
            | K::I64AtomicRmw8CmpxchgU | K::I64AtomicRmw16CmpxchgU | K::I64AtomicRmw32CmpxchgU
                => ("atomics", atomics::translate(self, op)),

            // Never valid: the validator refuses `select` with other than one type.
            K::TypedSelectMulti
                => return Err(never_valid(op, offset)),

            // Proposals cranewasm does not implement. Validation refuses them first (their features
            // are not in `compiler::features`); each group is an explicit list, so that enabling a
            // feature means replacing its group here with the calls that translate it.


            // `pause` (the threads proposal's later addition, not in the 3.0 suite).
            K::Pause
                => return Err(unsupported("threads", op, offset)),

            // GC (bodies are validated without `GC`: see `compiler::decode`).
            K::RefEq | K::StructNew | K::StructNewDefault | K::StructGet | K::StructGetS
            | K::StructGetU | K::StructSet | K::ArrayNew | K::ArrayNewDefault | K::ArrayNewFixed
            | K::ArrayNewData | K::ArrayNewElem | K::ArrayGet | K::ArrayGetS | K::ArrayGetU
            | K::ArraySet | K::ArrayLen | K::ArrayFill | K::ArrayCopy | K::ArrayInitData
            | K::ArrayInitElem | K::RefTestNonNull | K::RefTestNullable | K::RefCastNonNull
            | K::RefCastNullable | K::AnyConvertExtern | K::ExternConvertAny | K::RefI31
            | K::I31GetS | K::I31GetU | K::BrOnCast | K::BrOnCastFail
                => return Err(unsupported("GC", op, offset)),

            // Custom descriptors (a GC extension).
            K::StructNewDesc | K::StructNewDefaultDesc | K::RefGetDesc | K::RefCastDescEqNonNull
            | K::RefCastDescEqNullable | K::BrOnCastDescEq | K::BrOnCastDescEqFail
                => return Err(unsupported("custom descriptors", op, offset)),

            // Shared-everything threads.
            K::GlobalAtomicGet | K::GlobalAtomicSet | K::GlobalAtomicRmwAdd | K::GlobalAtomicRmwSub
            | K::GlobalAtomicRmwAnd | K::GlobalAtomicRmwOr | K::GlobalAtomicRmwXor
            | K::GlobalAtomicRmwXchg | K::GlobalAtomicRmwCmpxchg | K::TableAtomicGet
            | K::TableAtomicSet | K::TableAtomicRmwXchg | K::TableAtomicRmwCmpxchg
            | K::StructAtomicGet | K::StructAtomicGetS | K::StructAtomicGetU | K::StructAtomicSet
            | K::StructAtomicRmwAdd | K::StructAtomicRmwSub | K::StructAtomicRmwAnd
            | K::StructAtomicRmwOr | K::StructAtomicRmwXor | K::StructAtomicRmwXchg
            | K::StructAtomicRmwCmpxchg | K::ArrayAtomicGet | K::ArrayAtomicGetS
            | K::ArrayAtomicGetU | K::ArrayAtomicSet | K::ArrayAtomicRmwAdd | K::ArrayAtomicRmwSub
            | K::ArrayAtomicRmwAnd | K::ArrayAtomicRmwOr | K::ArrayAtomicRmwXor
            | K::ArrayAtomicRmwXchg | K::ArrayAtomicRmwCmpxchg | K::RefI31Shared
                => return Err(unsupported("shared-everything threads", op, offset)),

            // Stack switching.
            K::ContNew | K::ContBind | K::Suspend | K::Resume | K::ResumeThrow | K::ResumeThrowRef
            | K::Switch
                => return Err(unsupported("stack switching", op, offset)),

            // Wide arithmetic.
            K::I64Add128 | K::I64Sub128 | K::I64MulWideS | K::I64MulWideU
                => return Err(unsupported("wide arithmetic", op, offset)),

            // Memory control.
            K::MemoryDiscard
                => return Err(unsupported("memory control", op, offset)),
        };
        match handled {
            Ok(true) => Ok(()),
            Ok(false) => Err(TranslateError::EngineBug {
                what: format!("the dispatch sent {op:?} to {concern}, which does not translate it"),
                offset: Some(offset),
            }),
            Err(what) => Err(TranslateError::EngineBug { what, offset: Some(offset) }),
        }
    }
}

fn unsupported(feature: &'static str, op: &O<'_>, offset: u64) -> TranslateError {
    TranslateError::Unsupported { feature, operator: format!("{op:?}"), offset }
}

fn never_valid(op: &O<'_>, offset: u64) -> TranslateError {
    TranslateError::EngineBug {
        what: format!("{op:?} is never valid, but validation let it through"),
        offset: Some(offset),
    }
}

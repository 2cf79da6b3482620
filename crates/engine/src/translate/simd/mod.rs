//! Fixed-width SIMD (Wasm 2.0): v128 operators to Cranelift's vector IR. A v128 on the operand
//! stack, in a local or a global is always an `i8x16`; operators that work on other lane shapes
//! take their operands with [`pop_as`] (a free bitcast) and push their result with
//! [`push_vector`], which casts it back. Each concern has its file: `lanes` (memory, constants,
//! splats, lanes, shuffles, bitwise operations and tests) and `arith` (lane arithmetic,
//! comparisons, conversions, narrowing and widening, dot products).

mod arith;
mod lanes;

use cranelift_codegen::ir::{types, Endianness, InstBuilder, MemFlagsData, Type, Value};
use cranelift_frontend::FunctionBuilder;
use wasmparser::Operator;

use super::FuncTranslator;

/// The type every v128 value has outside a SIMD operator.
pub(super) const V128: Type = types::I8X16;

/// Flags of the bitcasts between lane shapes: a v128's bytes are little-endian lanes.
const LITTLE: MemFlagsData = MemFlagsData::new().with_endianness(Endianness::Little);

/// Memory, constants, splats, lanes, shuffles, bitwise operations and tests (`lanes`), and the
/// relaxed operators whose deterministic choice is one of those.
pub(super) fn lanes(t: &mut FuncTranslator<'_, '_>, op: &Operator<'_>) -> Result<bool, String> {
    lanes::translate(t, &deterministic(op))
}

/// Lane arithmetic, comparisons, conversions, narrowing and widening, dot products (`arith`),
/// and the other relaxed operators.
pub(super) fn arith(t: &mut FuncTranslator<'_, '_>, op: &Operator<'_>) -> Result<bool, String> {
    arith::translate(t, &deterministic(op))
}

/// Relaxed SIMD (Wasm 3.0) leaves some results to the implementation; cranewasm makes one
/// choice per instruction, the same at both tiers and on every CPU (README, "Relaxed SIMD"):
/// where a fixed-width SIMD instruction computes one of the allowed results, the relaxed one
/// is translated as it. `madd`/`nmadd` (unfused: a multiply, then an add, each rounded) and the
/// dot products are translated in `arith`.
fn deterministic<'a>(op: &Operator<'a>) -> Operator<'a> {
    use Operator::*;
    match *op {
        I8x16RelaxedSwizzle => I8x16Swizzle,
        I32x4RelaxedTruncF32x4S => I32x4TruncSatF32x4S,
        I32x4RelaxedTruncF32x4U => I32x4TruncSatF32x4U,
        I32x4RelaxedTruncF64x2SZero => I32x4TruncSatF64x2SZero,
        I32x4RelaxedTruncF64x2UZero => I32x4TruncSatF64x2UZero,
        I8x16RelaxedLaneselect | I16x8RelaxedLaneselect | I32x4RelaxedLaneselect
        | I64x2RelaxedLaneselect => V128Bitselect,
        F32x4RelaxedMin => F32x4Min,
        F32x4RelaxedMax => F32x4Max,
        F64x2RelaxedMin => F64x2Min,
        F64x2RelaxedMax => F64x2Max,
        I16x8RelaxedQ15mulrS => I16x8Q15MulrSatS,
        _ => op.clone(),
    }
}

/// `value` (a vector of any shape) as a vector of shape `ty`.
pub(super) fn cast(t: &mut FuncTranslator<'_, '_>, ty: Type, value: Value) -> Value {
    reshape(&mut t.builder, ty, value)
}

/// [`cast`], for code that has only the builder.
pub(super) fn reshape(b: &mut FunctionBuilder<'_>, ty: Type, value: Value) -> Value {
    if b.func.dfg.value_type(value) == ty {
        value
    } else {
        b.ins().bitcast(ty, LITTLE, value)
    }
}

/// Pops a v128 as a vector of shape `ty` (`I8X16`, `I16X8`, `I32X4`, `I64X2`, `F32X4`,
/// `F64X2`).
pub(super) fn pop_as(t: &mut FuncTranslator<'_, '_>, ty: Type) -> Result<Value, String> {
    let value = t.pop()?;
    Ok(cast(t, ty, value))
}

/// Pushes `value`, a vector of any shape, as a v128.
pub(super) fn push_vector(t: &mut FuncTranslator<'_, '_>, value: Value) {
    let value = cast(t, V128, value);
    t.push(value);
}

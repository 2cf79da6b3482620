//! SIMD lane arithmetic, comparisons, conversions, narrowing and widening, dot products.
//!
//! Most operators are one Cranelift instruction on the operands cast to their lane shape:
//! vector shifts take their count modulo the lane width, `fmin`/`fmax` propagate NaN and order
//! -0 below +0, `avg_round`, the saturating operations and `sqmul_round_sat` are wasm's, and
//! vector comparisons give all-ones or all-zeros lanes. The others are written as the
//! instruction patterns the x64 backend has lowerings for, at every optimization level:
//! - `convert_low` widens the low half first (`fcvt_from_sint` of `swiden_low`, `fcvt_from_uint`
//!   of `uwiden_low`), since there is no general i64x2-to-f64x2 conversion without AVX-512;
//! - `trunc_sat_f64x2_*_zero` narrows the saturated i64x2 with a zero vector (`snarrow` or
//!   `uunarrow` of `fcvt_to_*_sat` and a zero `vconst`), the only form of i64x2 narrowing;
//! - `pmin`/`pmax` are a `bitselect` on an `fcmp` (wasm defines them as `b < a ? b : a` and
//!   `a < b ? b : a`, which is not `fmin`/`fmax` on NaNs and zeros);
//! - `extadd_pairwise` and `dot` sum adjacent lanes with `iadd_pairwise` of the widened halves
//!   (or of their products), `extmul` multiplies the widened halves.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, InstBuilder, Type, Value};
use cranelift_frontend::FunctionBuilder;
use wasmparser::Operator;

use super::super::FuncTranslator;
use super::{pop_as, push_vector, reshape};

use types::{F32X4, F64X2, I16X8, I32X4, I64X2, I8X16};

pub(super) fn translate(t: &mut FuncTranslator<'_, '_>, op: &Operator<'_>) -> Result<bool, String> {
    use Operator::*;
    match *op {
        // Integer lane arithmetic.
        I8x16Add => binary(t, I8X16, |b, x, y| b.ins().iadd(x, y))?,
        I16x8Add => binary(t, I16X8, |b, x, y| b.ins().iadd(x, y))?,
        I32x4Add => binary(t, I32X4, |b, x, y| b.ins().iadd(x, y))?,
        I64x2Add => binary(t, I64X2, |b, x, y| b.ins().iadd(x, y))?,
        I8x16Sub => binary(t, I8X16, |b, x, y| b.ins().isub(x, y))?,
        I16x8Sub => binary(t, I16X8, |b, x, y| b.ins().isub(x, y))?,
        I32x4Sub => binary(t, I32X4, |b, x, y| b.ins().isub(x, y))?,
        I64x2Sub => binary(t, I64X2, |b, x, y| b.ins().isub(x, y))?,
        I16x8Mul => binary(t, I16X8, |b, x, y| b.ins().imul(x, y))?,
        I32x4Mul => binary(t, I32X4, |b, x, y| b.ins().imul(x, y))?,
        I64x2Mul => binary(t, I64X2, |b, x, y| b.ins().imul(x, y))?,
        I8x16Neg => unary(t, I8X16, |b, x| b.ins().ineg(x))?,
        I16x8Neg => unary(t, I16X8, |b, x| b.ins().ineg(x))?,
        I32x4Neg => unary(t, I32X4, |b, x| b.ins().ineg(x))?,
        I64x2Neg => unary(t, I64X2, |b, x| b.ins().ineg(x))?,
        I8x16Abs => unary(t, I8X16, |b, x| b.ins().iabs(x))?,
        I16x8Abs => unary(t, I16X8, |b, x| b.ins().iabs(x))?,
        I32x4Abs => unary(t, I32X4, |b, x| b.ins().iabs(x))?,
        I64x2Abs => unary(t, I64X2, |b, x| b.ins().iabs(x))?,
        I8x16MinS => binary(t, I8X16, |b, x, y| b.ins().smin(x, y))?,
        I16x8MinS => binary(t, I16X8, |b, x, y| b.ins().smin(x, y))?,
        I32x4MinS => binary(t, I32X4, |b, x, y| b.ins().smin(x, y))?,
        I8x16MinU => binary(t, I8X16, |b, x, y| b.ins().umin(x, y))?,
        I16x8MinU => binary(t, I16X8, |b, x, y| b.ins().umin(x, y))?,
        I32x4MinU => binary(t, I32X4, |b, x, y| b.ins().umin(x, y))?,
        I8x16MaxS => binary(t, I8X16, |b, x, y| b.ins().smax(x, y))?,
        I16x8MaxS => binary(t, I16X8, |b, x, y| b.ins().smax(x, y))?,
        I32x4MaxS => binary(t, I32X4, |b, x, y| b.ins().smax(x, y))?,
        I8x16MaxU => binary(t, I8X16, |b, x, y| b.ins().umax(x, y))?,
        I16x8MaxU => binary(t, I16X8, |b, x, y| b.ins().umax(x, y))?,
        I32x4MaxU => binary(t, I32X4, |b, x, y| b.ins().umax(x, y))?,
        I8x16AvgrU => binary(t, I8X16, |b, x, y| b.ins().avg_round(x, y))?,
        I16x8AvgrU => binary(t, I16X8, |b, x, y| b.ins().avg_round(x, y))?,
        I8x16AddSatS => binary(t, I8X16, |b, x, y| b.ins().sadd_sat(x, y))?,
        I16x8AddSatS => binary(t, I16X8, |b, x, y| b.ins().sadd_sat(x, y))?,
        I8x16AddSatU => binary(t, I8X16, |b, x, y| b.ins().uadd_sat(x, y))?,
        I16x8AddSatU => binary(t, I16X8, |b, x, y| b.ins().uadd_sat(x, y))?,
        I8x16SubSatS => binary(t, I8X16, |b, x, y| b.ins().ssub_sat(x, y))?,
        I16x8SubSatS => binary(t, I16X8, |b, x, y| b.ins().ssub_sat(x, y))?,
        I8x16SubSatU => binary(t, I8X16, |b, x, y| b.ins().usub_sat(x, y))?,
        I16x8SubSatU => binary(t, I16X8, |b, x, y| b.ins().usub_sat(x, y))?,
        I8x16Popcnt => unary(t, I8X16, |b, x| b.ins().popcnt(x))?,
        I16x8Q15MulrSatS => binary(t, I16X8, |b, x, y| b.ins().sqmul_round_sat(x, y))?,

        // Shifts: a vector and an i32 count, taken modulo the lane width by Cranelift.
        I8x16Shl => shift(t, I8X16, |b, x, n| b.ins().ishl(x, n))?,
        I16x8Shl => shift(t, I16X8, |b, x, n| b.ins().ishl(x, n))?,
        I32x4Shl => shift(t, I32X4, |b, x, n| b.ins().ishl(x, n))?,
        I64x2Shl => shift(t, I64X2, |b, x, n| b.ins().ishl(x, n))?,
        I8x16ShrS => shift(t, I8X16, |b, x, n| b.ins().sshr(x, n))?,
        I16x8ShrS => shift(t, I16X8, |b, x, n| b.ins().sshr(x, n))?,
        I32x4ShrS => shift(t, I32X4, |b, x, n| b.ins().sshr(x, n))?,
        I64x2ShrS => shift(t, I64X2, |b, x, n| b.ins().sshr(x, n))?,
        I8x16ShrU => shift(t, I8X16, |b, x, n| b.ins().ushr(x, n))?,
        I16x8ShrU => shift(t, I16X8, |b, x, n| b.ins().ushr(x, n))?,
        I32x4ShrU => shift(t, I32X4, |b, x, n| b.ins().ushr(x, n))?,
        I64x2ShrU => shift(t, I64X2, |b, x, n| b.ins().ushr(x, n))?,

        // Integer comparisons.
        I8x16Eq => icmp(t, I8X16, IntCC::Equal)?,
        I16x8Eq => icmp(t, I16X8, IntCC::Equal)?,
        I32x4Eq => icmp(t, I32X4, IntCC::Equal)?,
        I64x2Eq => icmp(t, I64X2, IntCC::Equal)?,
        I8x16Ne => icmp(t, I8X16, IntCC::NotEqual)?,
        I16x8Ne => icmp(t, I16X8, IntCC::NotEqual)?,
        I32x4Ne => icmp(t, I32X4, IntCC::NotEqual)?,
        I64x2Ne => icmp(t, I64X2, IntCC::NotEqual)?,
        I8x16LtS => icmp(t, I8X16, IntCC::SignedLessThan)?,
        I16x8LtS => icmp(t, I16X8, IntCC::SignedLessThan)?,
        I32x4LtS => icmp(t, I32X4, IntCC::SignedLessThan)?,
        I64x2LtS => icmp(t, I64X2, IntCC::SignedLessThan)?,
        I8x16LtU => icmp(t, I8X16, IntCC::UnsignedLessThan)?,
        I16x8LtU => icmp(t, I16X8, IntCC::UnsignedLessThan)?,
        I32x4LtU => icmp(t, I32X4, IntCC::UnsignedLessThan)?,
        I8x16GtS => icmp(t, I8X16, IntCC::SignedGreaterThan)?,
        I16x8GtS => icmp(t, I16X8, IntCC::SignedGreaterThan)?,
        I32x4GtS => icmp(t, I32X4, IntCC::SignedGreaterThan)?,
        I64x2GtS => icmp(t, I64X2, IntCC::SignedGreaterThan)?,
        I8x16GtU => icmp(t, I8X16, IntCC::UnsignedGreaterThan)?,
        I16x8GtU => icmp(t, I16X8, IntCC::UnsignedGreaterThan)?,
        I32x4GtU => icmp(t, I32X4, IntCC::UnsignedGreaterThan)?,
        I8x16LeS => icmp(t, I8X16, IntCC::SignedLessThanOrEqual)?,
        I16x8LeS => icmp(t, I16X8, IntCC::SignedLessThanOrEqual)?,
        I32x4LeS => icmp(t, I32X4, IntCC::SignedLessThanOrEqual)?,
        I64x2LeS => icmp(t, I64X2, IntCC::SignedLessThanOrEqual)?,
        I8x16LeU => icmp(t, I8X16, IntCC::UnsignedLessThanOrEqual)?,
        I16x8LeU => icmp(t, I16X8, IntCC::UnsignedLessThanOrEqual)?,
        I32x4LeU => icmp(t, I32X4, IntCC::UnsignedLessThanOrEqual)?,
        I8x16GeS => icmp(t, I8X16, IntCC::SignedGreaterThanOrEqual)?,
        I16x8GeS => icmp(t, I16X8, IntCC::SignedGreaterThanOrEqual)?,
        I32x4GeS => icmp(t, I32X4, IntCC::SignedGreaterThanOrEqual)?,
        I64x2GeS => icmp(t, I64X2, IntCC::SignedGreaterThanOrEqual)?,
        I8x16GeU => icmp(t, I8X16, IntCC::UnsignedGreaterThanOrEqual)?,
        I16x8GeU => icmp(t, I16X8, IntCC::UnsignedGreaterThanOrEqual)?,
        I32x4GeU => icmp(t, I32X4, IntCC::UnsignedGreaterThanOrEqual)?,

        // Float comparisons: all ordered except `ne`, which is true when either side is NaN.
        F32x4Eq => fcmp(t, F32X4, FloatCC::Equal)?,
        F64x2Eq => fcmp(t, F64X2, FloatCC::Equal)?,
        F32x4Ne => fcmp(t, F32X4, FloatCC::NotEqual)?,
        F64x2Ne => fcmp(t, F64X2, FloatCC::NotEqual)?,
        F32x4Lt => fcmp(t, F32X4, FloatCC::LessThan)?,
        F64x2Lt => fcmp(t, F64X2, FloatCC::LessThan)?,
        F32x4Gt => fcmp(t, F32X4, FloatCC::GreaterThan)?,
        F64x2Gt => fcmp(t, F64X2, FloatCC::GreaterThan)?,
        F32x4Le => fcmp(t, F32X4, FloatCC::LessThanOrEqual)?,
        F64x2Le => fcmp(t, F64X2, FloatCC::LessThanOrEqual)?,
        F32x4Ge => fcmp(t, F32X4, FloatCC::GreaterThanOrEqual)?,
        F64x2Ge => fcmp(t, F64X2, FloatCC::GreaterThanOrEqual)?,

        // Float arithmetic.
        F32x4Add => binary(t, F32X4, |b, x, y| b.ins().fadd(x, y))?,
        F64x2Add => binary(t, F64X2, |b, x, y| b.ins().fadd(x, y))?,
        F32x4Sub => binary(t, F32X4, |b, x, y| b.ins().fsub(x, y))?,
        F64x2Sub => binary(t, F64X2, |b, x, y| b.ins().fsub(x, y))?,
        F32x4Mul => binary(t, F32X4, |b, x, y| b.ins().fmul(x, y))?,
        F64x2Mul => binary(t, F64X2, |b, x, y| b.ins().fmul(x, y))?,
        F32x4Div => binary(t, F32X4, |b, x, y| b.ins().fdiv(x, y))?,
        F64x2Div => binary(t, F64X2, |b, x, y| b.ins().fdiv(x, y))?,
        F32x4Min => binary(t, F32X4, |b, x, y| b.ins().fmin(x, y))?,
        F64x2Min => binary(t, F64X2, |b, x, y| b.ins().fmin(x, y))?,
        F32x4Max => binary(t, F32X4, |b, x, y| b.ins().fmax(x, y))?,
        F64x2Max => binary(t, F64X2, |b, x, y| b.ins().fmax(x, y))?,
        F32x4PMin => binary(t, F32X4, pmin)?,
        F64x2PMin => binary(t, F64X2, pmin)?,
        F32x4PMax => binary(t, F32X4, pmax)?,
        F64x2PMax => binary(t, F64X2, pmax)?,
        F32x4Sqrt => unary(t, F32X4, |b, x| b.ins().sqrt(x))?,
        F64x2Sqrt => unary(t, F64X2, |b, x| b.ins().sqrt(x))?,
        F32x4Neg => unary(t, F32X4, |b, x| b.ins().fneg(x))?,
        F64x2Neg => unary(t, F64X2, |b, x| b.ins().fneg(x))?,
        F32x4Abs => unary(t, F32X4, |b, x| b.ins().fabs(x))?,
        F64x2Abs => unary(t, F64X2, |b, x| b.ins().fabs(x))?,
        F32x4Ceil => unary(t, F32X4, |b, x| b.ins().ceil(x))?,
        F64x2Ceil => unary(t, F64X2, |b, x| b.ins().ceil(x))?,
        F32x4Floor => unary(t, F32X4, |b, x| b.ins().floor(x))?,
        F64x2Floor => unary(t, F64X2, |b, x| b.ins().floor(x))?,
        F32x4Trunc => unary(t, F32X4, |b, x| b.ins().trunc(x))?,
        F64x2Trunc => unary(t, F64X2, |b, x| b.ins().trunc(x))?,
        F32x4Nearest => unary(t, F32X4, |b, x| b.ins().nearest(x))?,
        F64x2Nearest => unary(t, F64X2, |b, x| b.ins().nearest(x))?,

        // Conversions.
        F32x4ConvertI32x4S => unary(t, I32X4, |b, x| b.ins().fcvt_from_sint(F32X4, x))?,
        F32x4ConvertI32x4U => unary(t, I32X4, |b, x| b.ins().fcvt_from_uint(F32X4, x))?,
        I32x4TruncSatF32x4S => unary(t, F32X4, |b, x| b.ins().fcvt_to_sint_sat(I32X4, x))?,
        I32x4TruncSatF32x4U => unary(t, F32X4, |b, x| b.ins().fcvt_to_uint_sat(I32X4, x))?,
        F64x2ConvertLowI32x4S => unary(t, I32X4, |b, x| {
            let wide = b.ins().swiden_low(x);
            b.ins().fcvt_from_sint(F64X2, wide)
        })?,
        F64x2ConvertLowI32x4U => unary(t, I32X4, |b, x| {
            let wide = b.ins().uwiden_low(x);
            b.ins().fcvt_from_uint(F64X2, wide)
        })?,
        I32x4TruncSatF64x2SZero => unary(t, F64X2, |b, x| {
            let wide = b.ins().fcvt_to_sint_sat(I64X2, x);
            let zero = zero_i64x2(b);
            b.ins().snarrow(wide, zero)
        })?,
        I32x4TruncSatF64x2UZero => unary(t, F64X2, |b, x| {
            let wide = b.ins().fcvt_to_uint_sat(I64X2, x);
            let zero = zero_i64x2(b);
            b.ins().uunarrow(wide, zero)
        })?,
        F32x4DemoteF64x2Zero => unary(t, F64X2, |b, x| b.ins().fvdemote(x))?,
        F64x2PromoteLowF32x4 => unary(t, F32X4, |b, x| b.ins().fvpromote_low(x))?,

        // Narrowing (signed inputs, saturated to the signed or unsigned narrow range).
        I8x16NarrowI16x8S => binary(t, I16X8, |b, x, y| b.ins().snarrow(x, y))?,
        I8x16NarrowI16x8U => binary(t, I16X8, |b, x, y| b.ins().unarrow(x, y))?,
        I16x8NarrowI32x4S => binary(t, I32X4, |b, x, y| b.ins().snarrow(x, y))?,
        I16x8NarrowI32x4U => binary(t, I32X4, |b, x, y| b.ins().unarrow(x, y))?,

        // Widening.
        I16x8ExtendLowI8x16S => unary(t, I8X16, |b, x| b.ins().swiden_low(x))?,
        I16x8ExtendHighI8x16S => unary(t, I8X16, |b, x| b.ins().swiden_high(x))?,
        I16x8ExtendLowI8x16U => unary(t, I8X16, |b, x| b.ins().uwiden_low(x))?,
        I16x8ExtendHighI8x16U => unary(t, I8X16, |b, x| b.ins().uwiden_high(x))?,
        I32x4ExtendLowI16x8S => unary(t, I16X8, |b, x| b.ins().swiden_low(x))?,
        I32x4ExtendHighI16x8S => unary(t, I16X8, |b, x| b.ins().swiden_high(x))?,
        I32x4ExtendLowI16x8U => unary(t, I16X8, |b, x| b.ins().uwiden_low(x))?,
        I32x4ExtendHighI16x8U => unary(t, I16X8, |b, x| b.ins().uwiden_high(x))?,
        I64x2ExtendLowI32x4S => unary(t, I32X4, |b, x| b.ins().swiden_low(x))?,
        I64x2ExtendHighI32x4S => unary(t, I32X4, |b, x| b.ins().swiden_high(x))?,
        I64x2ExtendLowI32x4U => unary(t, I32X4, |b, x| b.ins().uwiden_low(x))?,
        I64x2ExtendHighI32x4U => unary(t, I32X4, |b, x| b.ins().uwiden_high(x))?,

        // Extended multiplication: the product of the widened halves.
        I16x8ExtMulLowI8x16S => binary(t, I8X16, |b, x, y| extmul(b, Half::Low, true, x, y))?,
        I16x8ExtMulHighI8x16S => binary(t, I8X16, |b, x, y| extmul(b, Half::High, true, x, y))?,
        I16x8ExtMulLowI8x16U => binary(t, I8X16, |b, x, y| extmul(b, Half::Low, false, x, y))?,
        I16x8ExtMulHighI8x16U => binary(t, I8X16, |b, x, y| extmul(b, Half::High, false, x, y))?,
        I32x4ExtMulLowI16x8S => binary(t, I16X8, |b, x, y| extmul(b, Half::Low, true, x, y))?,
        I32x4ExtMulHighI16x8S => binary(t, I16X8, |b, x, y| extmul(b, Half::High, true, x, y))?,
        I32x4ExtMulLowI16x8U => binary(t, I16X8, |b, x, y| extmul(b, Half::Low, false, x, y))?,
        I32x4ExtMulHighI16x8U => binary(t, I16X8, |b, x, y| extmul(b, Half::High, false, x, y))?,
        I64x2ExtMulLowI32x4S => binary(t, I32X4, |b, x, y| extmul(b, Half::Low, true, x, y))?,
        I64x2ExtMulHighI32x4S => binary(t, I32X4, |b, x, y| extmul(b, Half::High, true, x, y))?,
        I64x2ExtMulLowI32x4U => binary(t, I32X4, |b, x, y| extmul(b, Half::Low, false, x, y))?,
        I64x2ExtMulHighI32x4U => binary(t, I32X4, |b, x, y| extmul(b, Half::High, false, x, y))?,

        // Pairwise sums and the dot product.
        I16x8ExtAddPairwiseI8x16S => unary(t, I8X16, |b, x| extadd_pairwise(b, true, x))?,
        I16x8ExtAddPairwiseI8x16U => unary(t, I8X16, |b, x| extadd_pairwise(b, false, x))?,
        I32x4ExtAddPairwiseI16x8S => unary(t, I16X8, |b, x| extadd_pairwise(b, true, x))?,
        I32x4ExtAddPairwiseI16x8U => unary(t, I16X8, |b, x| extadd_pairwise(b, false, x))?,
        I32x4DotI16x8S => binary(t, I16X8, |b, x, y| {
            let low = extmul(b, Half::Low, true, x, y);
            let high = extmul(b, Half::High, true, x, y);
            b.ins().iadd_pairwise(low, high)
        })?,

        // Relaxed SIMD, deterministically: madd is a*b + c unfused (two roundings), nmadd
        // -(a*b) + c; the dot products multiply both operands as signed, the i16x8 one adds
        // the pairs with wraparound, the i32x4 one sums its four products exactly.
        F32x4RelaxedMadd => ternary(t, F32X4, |b, x, y, z| madd(b, false, x, y, z))?,
        F32x4RelaxedNmadd => ternary(t, F32X4, |b, x, y, z| madd(b, true, x, y, z))?,
        F64x2RelaxedMadd => ternary(t, F64X2, |b, x, y, z| madd(b, false, x, y, z))?,
        F64x2RelaxedNmadd => ternary(t, F64X2, |b, x, y, z| madd(b, true, x, y, z))?,
        I16x8RelaxedDotI8x16I7x16S => binary(t, I8X16, |b, x, y| {
            let low = extmul(b, Half::Low, true, x, y);
            let high = extmul(b, Half::High, true, x, y);
            b.ins().iadd_pairwise(low, high)
        })?,
        I32x4RelaxedDotI8x16I7x16AddS => {
            let z = pop_as(t, I32X4)?;
            let y = pop_as(t, I8X16)?;
            let x = pop_as(t, I8X16)?;
            let b = &mut t.builder;
            let low = extmul(b, Half::Low, true, x, y);
            let high = extmul(b, Half::High, true, x, y);
            let low = extadd_pairwise(b, true, low);
            let high = extadd_pairwise(b, true, high);
            let dot = b.ins().iadd_pairwise(low, high);
            let result = b.ins().iadd(dot, z);
            push_vector(t, result);
        }

        _ => return Ok(false),
    }
    Ok(true)
}

/// Pops a v128 as shape `ty` and pushes `f` of it.
fn unary(
    t: &mut FuncTranslator<'_, '_>,
    ty: Type,
    f: impl FnOnce(&mut FunctionBuilder<'_>, Value) -> Value,
) -> Result<(), String> {
    let x = pop_as(t, ty)?;
    let result = f(&mut t.builder, x);
    push_vector(t, result);
    Ok(())
}

/// Pops two v128s as shape `ty` and pushes `f` of them (in stack order).
fn binary(
    t: &mut FuncTranslator<'_, '_>,
    ty: Type,
    f: impl FnOnce(&mut FunctionBuilder<'_>, Value, Value) -> Value,
) -> Result<(), String> {
    let y = pop_as(t, ty)?;
    let x = pop_as(t, ty)?;
    let result = f(&mut t.builder, x, y);
    push_vector(t, result);
    Ok(())
}

/// Pops three v128s as shape `ty` and pushes `f` of them (in stack order).
fn ternary(
    t: &mut FuncTranslator<'_, '_>,
    ty: Type,
    f: impl FnOnce(&mut FunctionBuilder<'_>, Value, Value, Value) -> Value,
) -> Result<(), String> {
    let z = pop_as(t, ty)?;
    let y = pop_as(t, ty)?;
    let x = pop_as(t, ty)?;
    let result = f(&mut t.builder, x, y, z);
    push_vector(t, result);
    Ok(())
}

/// `x * y + z`, or `-(x * y) + z` when `negate`, unfused.
fn madd(b: &mut FunctionBuilder<'_>, negate: bool, x: Value, y: Value, z: Value) -> Value {
    let product = b.ins().fmul(x, y);
    let product = if negate { b.ins().fneg(product) } else { product };
    b.ins().fadd(product, z)
}

/// Pops an i32 count and a v128 as shape `ty`, and pushes `f` of them.
fn shift(
    t: &mut FuncTranslator<'_, '_>,
    ty: Type,
    f: impl FnOnce(&mut FunctionBuilder<'_>, Value, Value) -> Value,
) -> Result<(), String> {
    let count = t.pop()?;
    let x = pop_as(t, ty)?;
    let result = f(&mut t.builder, x, count);
    push_vector(t, result);
    Ok(())
}

/// A lane-wise integer comparison of two v128s of shape `ty` (each lane all ones or all zeros).
fn icmp(t: &mut FuncTranslator<'_, '_>, ty: Type, cc: IntCC) -> Result<(), String> {
    binary(t, ty, |b, x, y| b.ins().icmp(cc, x, y))
}

/// A lane-wise float comparison of two v128s of shape `ty`; the result has integer lanes of the
/// same width.
fn fcmp(t: &mut FuncTranslator<'_, '_>, ty: Type, cc: FloatCC) -> Result<(), String> {
    binary(t, ty, |b, x, y| b.ins().fcmp(cc, x, y))
}

/// `pmin`: `y < x ? y : x` lane-wise (so `x` when either is NaN, and when they are zeros).
fn pmin(b: &mut FunctionBuilder<'_>, x: Value, y: Value) -> Value {
    let ty = b.func.dfg.value_type(x);
    let less = b.ins().fcmp(FloatCC::LessThan, y, x);
    let mask = reshape(b, ty, less);
    b.ins().bitselect(mask, y, x)
}

/// `pmax`: `x < y ? y : x` lane-wise (so `x` when either is NaN, and when they are zeros).
fn pmax(b: &mut FunctionBuilder<'_>, x: Value, y: Value) -> Value {
    let ty = b.func.dfg.value_type(x);
    let less = b.ins().fcmp(FloatCC::LessThan, x, y);
    let mask = reshape(b, ty, less);
    b.ins().bitselect(mask, y, x)
}

/// The all-zeros i64x2 that `snarrow`/`uunarrow` take as their high half in the `_zero`
/// truncations.
fn zero_i64x2(b: &mut FunctionBuilder<'_>) -> Value {
    let bytes = b.func.dfg.constants.insert(vec![0u8; 16].into());
    b.ins().vconst(I64X2, bytes)
}

/// Which half of a vector's lanes a widening takes: lanes 0 to n/2-1, or n/2 to n-1.
#[derive(Clone, Copy)]
enum Half {
    Low,
    High,
}

/// The lanes of half `half` of `x`, sign- or zero-extended to twice their width.
fn widen(b: &mut FunctionBuilder<'_>, half: Half, signed: bool, x: Value) -> Value {
    match (half, signed) {
        (Half::Low, true) => b.ins().swiden_low(x),
        (Half::High, true) => b.ins().swiden_high(x),
        (Half::Low, false) => b.ins().uwiden_low(x),
        (Half::High, false) => b.ins().uwiden_high(x),
    }
}

/// `extmul`: the widened lanes of half `half` of `x` and `y`, multiplied (the product of two
/// n-bit values always fits in 2n bits, so the multiplication does not wrap).
fn extmul(b: &mut FunctionBuilder<'_>, half: Half, signed: bool, x: Value, y: Value) -> Value {
    let x = widen(b, half, signed, x);
    let y = widen(b, half, signed, y);
    b.ins().imul(x, y)
}

/// `extadd_pairwise`: lanes 2i and 2i+1 of `x`, widened, added into lane i.
fn extadd_pairwise(b: &mut FunctionBuilder<'_>, signed: bool, x: Value) -> Value {
    let low = widen(b, Half::Low, signed, x);
    let high = widen(b, Half::High, signed, x);
    b.ins().iadd_pairwise(low, high)
}

//! Numeric instructions: constants, integer and float arithmetic, comparisons, conversions,
//! sign extension.
//!
//! Most map one to one onto Cranelift, whose semantics were designed to match wasm's: shift and
//! rotate counts are taken modulo the width, `fmin`/`fmax` propagate NaN and order -0 below +0,
//! `nearest` rounds ties to even, and no float operation canonicalizes NaNs (the ISA has NaN
//! canonicalization off). Integer division and remainder get explicit checks first so that each
//! trap carries V8's message.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Type, Value};
use cranelift_frontend::FunctionBuilder;
use wasmparser::Operator;

use super::FuncTranslator;
use crate::trap::TrapKind;

use types::{F32, F64, I16, I32, I64, I8};

pub(super) fn translate(t: &mut FuncTranslator<'_, '_>, op: &Operator<'_>) -> Result<bool, String> {
    use Operator::*;
    match *op {
        I32Const { value } => {
            let v = t.builder.ins().iconst(I32, i64::from(value as u32));
            t.push(v);
        }
        I64Const { value } => {
            let v = t.builder.ins().iconst(I64, value);
            t.push(v);
        }
        F32Const { value } => {
            let v = t.builder.ins().f32const(Ieee32::with_bits(value.bits()));
            t.push(v);
        }
        F64Const { value } => {
            let v = t.builder.ins().f64const(Ieee64::with_bits(value.bits()));
            t.push(v);
        }

        // Integer comparisons produce an i32 0 or 1.
        I32Eqz | I64Eqz => t.unary(|b, x| {
            let c = b.ins().icmp_imm_u(IntCC::Equal, x, 0);
            b.ins().uextend(I32, c)
        })?,
        I32Eq | I64Eq => t.binary(|b, x, y| icmp(b, IntCC::Equal, x, y))?,
        I32Ne | I64Ne => t.binary(|b, x, y| icmp(b, IntCC::NotEqual, x, y))?,
        I32LtS | I64LtS => t.binary(|b, x, y| icmp(b, IntCC::SignedLessThan, x, y))?,
        I32LtU | I64LtU => t.binary(|b, x, y| icmp(b, IntCC::UnsignedLessThan, x, y))?,
        I32GtS | I64GtS => t.binary(|b, x, y| icmp(b, IntCC::SignedGreaterThan, x, y))?,
        I32GtU | I64GtU => t.binary(|b, x, y| icmp(b, IntCC::UnsignedGreaterThan, x, y))?,
        I32LeS | I64LeS => t.binary(|b, x, y| icmp(b, IntCC::SignedLessThanOrEqual, x, y))?,
        I32LeU | I64LeU => t.binary(|b, x, y| icmp(b, IntCC::UnsignedLessThanOrEqual, x, y))?,
        I32GeS | I64GeS => t.binary(|b, x, y| icmp(b, IntCC::SignedGreaterThanOrEqual, x, y))?,
        I32GeU | I64GeU => t.binary(|b, x, y| icmp(b, IntCC::UnsignedGreaterThanOrEqual, x, y))?,

        // Float comparisons: all ordered except `ne`, which is true when either side is NaN.
        F32Eq | F64Eq => t.binary(|b, x, y| fcmp(b, FloatCC::Equal, x, y))?,
        F32Ne | F64Ne => t.binary(|b, x, y| fcmp(b, FloatCC::NotEqual, x, y))?,
        F32Lt | F64Lt => t.binary(|b, x, y| fcmp(b, FloatCC::LessThan, x, y))?,
        F32Gt | F64Gt => t.binary(|b, x, y| fcmp(b, FloatCC::GreaterThan, x, y))?,
        F32Le | F64Le => t.binary(|b, x, y| fcmp(b, FloatCC::LessThanOrEqual, x, y))?,
        F32Ge | F64Ge => t.binary(|b, x, y| fcmp(b, FloatCC::GreaterThanOrEqual, x, y))?,

        I32Clz | I64Clz => t.unary(|b, x| b.ins().clz(x))?,
        I32Ctz | I64Ctz => t.unary(|b, x| b.ins().ctz(x))?,
        I32Popcnt | I64Popcnt => t.unary(|b, x| b.ins().popcnt(x))?,
        I32Add | I64Add => t.binary(|b, x, y| b.ins().iadd(x, y))?,
        I32Sub | I64Sub => t.binary(|b, x, y| b.ins().isub(x, y))?,
        I32Mul | I64Mul => t.binary(|b, x, y| b.ins().imul(x, y))?,
        I32DivS | I64DivS => t.binary(div_s)?,
        I32DivU | I64DivU => t.binary(|b, x, y| {
            b.ins().trapz(y, TrapKind::DivideByZero.code());
            b.ins().udiv(x, y)
        })?,
        I32RemS | I64RemS => t.binary(rem_s)?,
        I32RemU | I64RemU => t.binary(|b, x, y| {
            b.ins().trapz(y, TrapKind::RemainderByZero.code());
            b.ins().urem(x, y)
        })?,
        I32And | I64And => t.binary(|b, x, y| b.ins().band(x, y))?,
        I32Or | I64Or => t.binary(|b, x, y| b.ins().bor(x, y))?,
        I32Xor | I64Xor => t.binary(|b, x, y| b.ins().bxor(x, y))?,
        I32Shl | I64Shl => t.binary(|b, x, y| b.ins().ishl(x, y))?,
        I32ShrS | I64ShrS => t.binary(|b, x, y| b.ins().sshr(x, y))?,
        I32ShrU | I64ShrU => t.binary(|b, x, y| b.ins().ushr(x, y))?,
        I32Rotl | I64Rotl => t.binary(|b, x, y| b.ins().rotl(x, y))?,
        I32Rotr | I64Rotr => t.binary(|b, x, y| b.ins().rotr(x, y))?,

        F32Abs | F64Abs => t.unary(|b, x| b.ins().fabs(x))?,
        F32Neg | F64Neg => t.unary(|b, x| b.ins().fneg(x))?,
        F32Ceil | F64Ceil => t.unary(|b, x| b.ins().ceil(x))?,
        F32Floor | F64Floor => t.unary(|b, x| b.ins().floor(x))?,
        F32Trunc | F64Trunc => t.unary(|b, x| b.ins().trunc(x))?,
        F32Nearest | F64Nearest => t.unary(|b, x| b.ins().nearest(x))?,
        F32Sqrt | F64Sqrt => t.unary(|b, x| b.ins().sqrt(x))?,
        F32Add | F64Add => t.binary(|b, x, y| b.ins().fadd(x, y))?,
        F32Sub | F64Sub => t.binary(|b, x, y| b.ins().fsub(x, y))?,
        F32Mul | F64Mul => t.binary(|b, x, y| b.ins().fmul(x, y))?,
        F32Div | F64Div => t.binary(|b, x, y| b.ins().fdiv(x, y))?,
        F32Min | F64Min => t.binary(|b, x, y| b.ins().fmin(x, y))?,
        F32Max | F64Max => t.binary(|b, x, y| b.ins().fmax(x, y))?,
        F32Copysign | F64Copysign => t.binary(|b, x, y| b.ins().fcopysign(x, y))?,

        I32WrapI64 => t.unary(|b, x| b.ins().ireduce(I32, x))?,
        I64ExtendI32S => t.unary(|b, x| b.ins().sextend(I64, x))?,
        I64ExtendI32U => t.unary(|b, x| b.ins().uextend(I64, x))?,
        // Cranelift's trapping conversions trap on NaN (BAD_CONVERSION_TO_INTEGER) and out of
        // range (INTEGER_OVERFLOW); both mean FloatUnrepresentable (see `TrapKind::from_code`).
        I32TruncF32S | I32TruncF64S => t.unary(|b, x| b.ins().fcvt_to_sint(I32, x))?,
        I32TruncF32U | I32TruncF64U => t.unary(|b, x| b.ins().fcvt_to_uint(I32, x))?,
        I64TruncF32S | I64TruncF64S => t.unary(|b, x| b.ins().fcvt_to_sint(I64, x))?,
        I64TruncF32U | I64TruncF64U => t.unary(|b, x| b.ins().fcvt_to_uint(I64, x))?,
        I32TruncSatF32S | I32TruncSatF64S => t.unary(|b, x| b.ins().fcvt_to_sint_sat(I32, x))?,
        I32TruncSatF32U | I32TruncSatF64U => t.unary(|b, x| b.ins().fcvt_to_uint_sat(I32, x))?,
        I64TruncSatF32S | I64TruncSatF64S => t.unary(|b, x| b.ins().fcvt_to_sint_sat(I64, x))?,
        I64TruncSatF32U | I64TruncSatF64U => t.unary(|b, x| b.ins().fcvt_to_uint_sat(I64, x))?,
        F32ConvertI32S | F32ConvertI64S => t.unary(|b, x| b.ins().fcvt_from_sint(F32, x))?,
        F32ConvertI32U | F32ConvertI64U => t.unary(|b, x| b.ins().fcvt_from_uint(F32, x))?,
        F64ConvertI32S | F64ConvertI64S => t.unary(|b, x| b.ins().fcvt_from_sint(F64, x))?,
        F64ConvertI32U | F64ConvertI64U => t.unary(|b, x| b.ins().fcvt_from_uint(F64, x))?,
        F32DemoteF64 => t.unary(|b, x| b.ins().fdemote(F32, x))?,
        F64PromoteF32 => t.unary(|b, x| b.ins().fpromote(F64, x))?,
        I32ReinterpretF32 => t.unary(|b, x| b.ins().bitcast(I32, MemFlagsData::new(), x))?,
        I64ReinterpretF64 => t.unary(|b, x| b.ins().bitcast(I64, MemFlagsData::new(), x))?,
        F32ReinterpretI32 => t.unary(|b, x| b.ins().bitcast(F32, MemFlagsData::new(), x))?,
        F64ReinterpretI64 => t.unary(|b, x| b.ins().bitcast(F64, MemFlagsData::new(), x))?,

        I32Extend8S => t.unary(|b, x| sign_extend(b, I8, I32, x))?,
        I32Extend16S => t.unary(|b, x| sign_extend(b, I16, I32, x))?,
        I64Extend8S => t.unary(|b, x| sign_extend(b, I8, I64, x))?,
        I64Extend16S => t.unary(|b, x| sign_extend(b, I16, I64, x))?,
        I64Extend32S => t.unary(|b, x| sign_extend(b, I32, I64, x))?,

        _ => return Ok(false),
    }
    Ok(true)
}

fn icmp(b: &mut FunctionBuilder<'_>, cc: IntCC, x: Value, y: Value) -> Value {
    let c = b.ins().icmp(cc, x, y);
    b.ins().uextend(I32, c)
}

fn fcmp(b: &mut FunctionBuilder<'_>, cc: FloatCC, x: Value, y: Value) -> Value {
    let c = b.ins().fcmp(cc, x, y);
    b.ins().uextend(I32, c)
}

/// An integer constant of type `ty` (i32 immediates are stored zero-extended).
fn iconst(b: &mut FunctionBuilder<'_>, ty: Type, value: i64) -> Value {
    let imm = if ty == I32 {
        i64::from(value as i32 as u32)
    } else {
        value
    };
    b.ins().iconst(ty, imm)
}

/// `div_s`: zero divisor, then `MIN / -1` (whose quotient does not fit), each with its trap.
fn div_s(b: &mut FunctionBuilder<'_>, x: Value, y: Value) -> Value {
    b.ins().trapz(y, TrapKind::DivideByZero.code());
    let ty = b.func.dfg.value_type(x);
    let min = iconst(
        b,
        ty,
        if ty == I32 {
            i64::from(i32::MIN)
        } else {
            i64::MIN
        },
    );
    let minus_one = iconst(b, ty, -1);
    let x_is_min = b.ins().icmp(IntCC::Equal, x, min);
    let y_is_minus_one = b.ins().icmp(IntCC::Equal, y, minus_one);
    let overflows = b.ins().band(x_is_min, y_is_minus_one);
    b.ins()
        .trapnz(overflows, TrapKind::DivideUnrepresentable.code());
    b.ins().sdiv(x, y)
}

/// `rem_s`: traps only for a zero divisor; `MIN % -1` is 0 in wasm, but the hardware division
/// faults on it, so a divisor of -1 is replaced by 1 (every `x % ±1` is 0).
fn rem_s(b: &mut FunctionBuilder<'_>, x: Value, y: Value) -> Value {
    b.ins().trapz(y, TrapKind::RemainderByZero.code());
    let ty = b.func.dfg.value_type(y);
    let minus_one = iconst(b, ty, -1);
    let one = iconst(b, ty, 1);
    let y_is_minus_one = b.ins().icmp(IntCC::Equal, y, minus_one);
    let divisor = b.ins().select(y_is_minus_one, one, y);
    b.ins().srem(x, divisor)
}

fn sign_extend(b: &mut FunctionBuilder<'_>, from: Type, to: Type, x: Value) -> Value {
    let narrow = b.ins().ireduce(from, x);
    b.ins().sextend(to, narrow)
}

//! SIMD memory access, constants, splats, lane access, shuffles, bitwise operations and tests.
//!
//! Memory accesses compute their address exactly as scalar ones do (`translate::memory`):
//! `base + zext64(address) + offset` with no bounds check, relying on the 4 GiB guard after the
//! 4 GiB reservation, and the same flags (little-endian, alignment not assumed — a memarg's
//! alignment is only a hint — and the MemoryOutOfBounds trap code on the access). Every SIMD
//! access is one machine load or store, so an out-of-bounds one faults before touching memory.
//!
//! The rest maps one to one onto Cranelift, whose vector instructions were designed for wasm:
//! `swizzle` gives 0 for indices of 16 and more, `shuffle` takes wasm's 16 lane indices (0–31)
//! as its immediate, and `extractlane`/`insertlane`/`splat` move lane bits unchanged, so float
//! lanes keep their NaN payloads.

use cranelift_codegen::ir::immediates::Offset32;
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Type, Value};
use cranelift_frontend::FunctionBuilder;
use wasmparser::{MemArg, Operator};

use super::super::environ::heap_flags;
use super::super::memory::{effective_address, store};
use super::super::FuncTranslator;
use super::{pop_as, push_vector, reshape, V128};

use types::{F32X4, F64X2, I16, I16X8, I32, I32X4, I64, I64X2, I8, I8X16};

pub(super) fn translate(t: &mut FuncTranslator<'_, '_>, op: &Operator<'_>) -> Result<bool, String> {
    use Operator::*;
    match *op {
        // ---- memory ----
        V128Load { memarg } => load(t, memarg, |b, f, p, o| b.ins().load(V128, f, p, o))?,
        V128Store { memarg } => store(t, memarg, |b, f, v, p, o| {
            b.ins().store(f, v, p, o);
        })?,
        // Eight bytes widened to eight 16-bit lanes, and so on.
        V128Load8x8S { memarg } => load(t, memarg, |b, f, p, o| b.ins().sload8x8(f, p, o))?,
        V128Load8x8U { memarg } => load(t, memarg, |b, f, p, o| b.ins().uload8x8(f, p, o))?,
        V128Load16x4S { memarg } => load(t, memarg, |b, f, p, o| b.ins().sload16x4(f, p, o))?,
        V128Load16x4U { memarg } => load(t, memarg, |b, f, p, o| b.ins().uload16x4(f, p, o))?,
        V128Load32x2S { memarg } => load(t, memarg, |b, f, p, o| b.ins().sload32x2(f, p, o))?,
        V128Load32x2U { memarg } => load(t, memarg, |b, f, p, o| b.ins().uload32x2(f, p, o))?,
        V128Load8Splat { memarg } => load_splat(t, memarg, I8X16)?,
        V128Load16Splat { memarg } => load_splat(t, memarg, I16X8)?,
        V128Load32Splat { memarg } => load_splat(t, memarg, I32X4)?,
        V128Load64Splat { memarg } => load_splat(t, memarg, I64X2)?,
        // `scalar_to_vector` zeroes the other lanes.
        V128Load32Zero { memarg } => load(t, memarg, |b, f, p, o| {
            let x = b.ins().load(I32, f, p, o);
            b.ins().scalar_to_vector(I32X4, x)
        })?,
        V128Load64Zero { memarg } => load(t, memarg, |b, f, p, o| {
            let x = b.ins().load(I64, f, p, o);
            b.ins().scalar_to_vector(I64X2, x)
        })?,
        V128Load8Lane { memarg, lane } => load_lane(t, memarg, I8X16, lane)?,
        V128Load16Lane { memarg, lane } => load_lane(t, memarg, I16X8, lane)?,
        V128Load32Lane { memarg, lane } => load_lane(t, memarg, I32X4, lane)?,
        V128Load64Lane { memarg, lane } => load_lane(t, memarg, I64X2, lane)?,
        V128Store8Lane { memarg, lane } => store_lane(t, memarg, I8X16, lane)?,
        V128Store16Lane { memarg, lane } => store_lane(t, memarg, I16X8, lane)?,
        V128Store32Lane { memarg, lane } => store_lane(t, memarg, I32X4, lane)?,
        V128Store64Lane { memarg, lane } => store_lane(t, memarg, I64X2, lane)?,

        // ---- constants, shuffles, splats, lanes ----
        V128Const { value } => {
            // Constant pool bytes are in memory order: byte 0 is lane 0 of an i8x16.
            let bytes = value.bytes().to_vec().into();
            let constant = t.builder.func.dfg.constants.insert(bytes);
            let v = t.builder.ins().vconst(V128, constant);
            t.push(v);
        }
        I8x16Shuffle { lanes } => {
            // Validation bounds every index to 0–31, the range `shuffle` accepts.
            let (a, b) = t.pop2()?;
            let mask = t.builder.func.dfg.immediates.push(lanes.to_vec().into());
            let v = t.builder.ins().shuffle(a, b, mask);
            t.push(v);
        }
        I8x16Swizzle => t.binary(|b, x, s| b.ins().swizzle(x, s))?,

        I8x16Splat => splat(t, I8X16)?,
        I16x8Splat => splat(t, I16X8)?,
        I32x4Splat => splat(t, I32X4)?,
        I64x2Splat => splat(t, I64X2)?,
        F32x4Splat => splat(t, F32X4)?,
        F64x2Splat => splat(t, F64X2)?,

        I8x16ExtractLaneS { lane } => extract_lane(t, I8X16, lane, Extend::Signed)?,
        I8x16ExtractLaneU { lane } => extract_lane(t, I8X16, lane, Extend::Unsigned)?,
        I16x8ExtractLaneS { lane } => extract_lane(t, I16X8, lane, Extend::Signed)?,
        I16x8ExtractLaneU { lane } => extract_lane(t, I16X8, lane, Extend::Unsigned)?,
        I32x4ExtractLane { lane } => extract_lane(t, I32X4, lane, Extend::None)?,
        I64x2ExtractLane { lane } => extract_lane(t, I64X2, lane, Extend::None)?,
        F32x4ExtractLane { lane } => extract_lane(t, F32X4, lane, Extend::None)?,
        F64x2ExtractLane { lane } => extract_lane(t, F64X2, lane, Extend::None)?,

        I8x16ReplaceLane { lane } => replace_lane(t, I8X16, lane)?,
        I16x8ReplaceLane { lane } => replace_lane(t, I16X8, lane)?,
        I32x4ReplaceLane { lane } => replace_lane(t, I32X4, lane)?,
        I64x2ReplaceLane { lane } => replace_lane(t, I64X2, lane)?,
        F32x4ReplaceLane { lane } => replace_lane(t, F32X4, lane)?,
        F64x2ReplaceLane { lane } => replace_lane(t, F64X2, lane)?,

        // ---- bitwise operations ----
        // Lane shape does not matter to these: they work on the i8x16 as it is.
        V128Not => t.unary(|b, x| b.ins().bnot(x))?,
        V128And => t.binary(|b, x, y| b.ins().band(x, y))?,
        // `x & ~y`, as `band_not` computes.
        V128AndNot => t.binary(|b, x, y| b.ins().band_not(x, y))?,
        V128Or => t.binary(|b, x, y| b.ins().bor(x, y))?,
        V128Xor => t.binary(|b, x, y| b.ins().bxor(x, y))?,
        // wasm `bitselect(v1, v2, c)` takes bits of `v1` where `c` is 1 and of `v2` elsewhere,
        // which is Cranelift's `bitselect(c, v1, v2)`.
        V128Bitselect => {
            let (x, y, c) = t.pop3()?;
            let v = t.builder.ins().bitselect(c, x, y);
            t.push(v);
        }

        // ---- tests ----
        // Cranelift's reductions give an i8 0 or 1 (`vhigh_bits` directly an i32): wasm wants
        // an i32.
        V128AnyTrue => {
            let x = t.pop()?;
            let any = t.builder.ins().vany_true(x);
            let v = t.builder.ins().uextend(I32, any);
            t.push(v);
        }
        I8x16AllTrue => all_true(t, I8X16)?,
        I16x8AllTrue => all_true(t, I16X8)?,
        I32x4AllTrue => all_true(t, I32X4)?,
        I64x2AllTrue => all_true(t, I64X2)?,
        I8x16Bitmask => bitmask(t, I8X16)?,
        I16x8Bitmask => bitmask(t, I16X8)?,
        I32x4Bitmask => bitmask(t, I32X4)?,
        I64x2Bitmask => bitmask(t, I64X2)?,

        _ => return Ok(false),
    }
    Ok(true)
}

/// Pops an address, pushes the vector `emit` loads from it (of any lane shape) as a v128.
fn load(
    t: &mut FuncTranslator<'_, '_>,
    memarg: MemArg,
    emit: impl FnOnce(&mut FunctionBuilder<'_>, MemFlagsData, Value, Offset32) -> Value,
) -> Result<(), String> {
    super::super::memory::load(t, memarg, |b, flags, pointer, offset| {
        let value = emit(b, flags, pointer, offset);
        reshape(b, V128, value)
    })
}

/// `v128.loadN_splat`: one lane of `shape` loaded, then copied to every lane.
fn load_splat(t: &mut FuncTranslator<'_, '_>, memarg: MemArg, shape: Type) -> Result<(), String> {
    load(t, memarg, |b, f, p, o| {
        let x = b.ins().load(shape.lane_type(), f, p, o);
        b.ins().splat(shape, x)
    })
}

/// `v128.loadN_lane`: pops an address and a vector, loads one lane of `shape` into lane `lane`.
fn load_lane(
    t: &mut FuncTranslator<'_, '_>,
    memarg: MemArg,
    shape: Type,
    lane: u8,
) -> Result<(), String> {
    let vector = pop_as(t, shape)?;
    let address = t.pop()?;
    let (pointer, offset) = effective_address(t, memarg, address)?;
    let flags = heap_flags(&mut t.builder);
    let x = t
        .builder
        .ins()
        .load(shape.lane_type(), flags, pointer, offset);
    let v = t.builder.ins().insertlane(vector, x, lane);
    push_vector(t, v);
    Ok(())
}

/// `v128.storeN_lane`: pops an address and a vector, stores lane `lane` of `shape`.
fn store_lane(
    t: &mut FuncTranslator<'_, '_>,
    memarg: MemArg,
    shape: Type,
    lane: u8,
) -> Result<(), String> {
    store(t, memarg, |b, flags, vector, pointer, offset| {
        let vector = reshape(b, shape, vector);
        let x = b.ins().extractlane(vector, lane);
        b.ins().store(flags, x, pointer, offset);
    })
}

/// `splat` to `shape`: i8 and i16 lanes take the low bits of their i32 operand.
fn splat(t: &mut FuncTranslator<'_, '_>, shape: Type) -> Result<(), String> {
    let x = t.pop()?;
    let x = narrow_to_lane(t, shape, x);
    let v = t.builder.ins().splat(shape, x);
    push_vector(t, v);
    Ok(())
}

/// How an extracted lane becomes its wasm result.
#[derive(Clone, Copy)]
enum Extend {
    /// i8 and i16 lanes, sign-extended to i32.
    Signed,
    /// i8 and i16 lanes, zero-extended to i32.
    Unsigned,
    /// Lanes that are already a wasm value (i32, i64, f32, f64).
    None,
}

fn extract_lane(
    t: &mut FuncTranslator<'_, '_>,
    shape: Type,
    lane: u8,
    extend: Extend,
) -> Result<(), String> {
    let vector = pop_as(t, shape)?;
    let x = t.builder.ins().extractlane(vector, lane);
    let x = match extend {
        Extend::Signed => t.builder.ins().sextend(I32, x),
        Extend::Unsigned => t.builder.ins().uextend(I32, x),
        Extend::None => x,
    };
    t.push(x);
    Ok(())
}

/// `replace_lane`: pops a vector and a lane value; i8 and i16 lanes take its low bits.
fn replace_lane(t: &mut FuncTranslator<'_, '_>, shape: Type, lane: u8) -> Result<(), String> {
    let x = t.pop()?;
    let vector = pop_as(t, shape)?;
    let x = narrow_to_lane(t, shape, x);
    let v = t.builder.ins().insertlane(vector, x, lane);
    push_vector(t, v);
    Ok(())
}

/// A wasm scalar as a lane of `shape`: i8 and i16 lanes come from an i32 operand, the others
/// are already of the lane's type.
fn narrow_to_lane(t: &mut FuncTranslator<'_, '_>, shape: Type, x: Value) -> Value {
    match shape.lane_type() {
        lane @ (I8 | I16) => t.builder.ins().ireduce(lane, x),
        _ => x,
    }
}

/// `all_true`: whether every lane of `shape` is non-zero, as an i32.
fn all_true(t: &mut FuncTranslator<'_, '_>, shape: Type) -> Result<(), String> {
    let x = pop_as(t, shape)?;
    let all = t.builder.ins().vall_true(x);
    let v = t.builder.ins().uextend(I32, all);
    t.push(v);
    Ok(())
}

/// `bitmask`: the top bit of each lane of `shape`, lane 0 in bit 0, as an i32.
fn bitmask(t: &mut FuncTranslator<'_, '_>, shape: Type) -> Result<(), String> {
    let x = pop_as(t, shape)?;
    let v = t.builder.ins().vhigh_bits(I32, x);
    t.push(v);
    Ok(())
}

//! Script values (invoke arguments, assert_return expectations) in the two forms the runner
//! consumes: JSON for values JS can carry exactly, and wasm text for values that must stay inside
//! wasm (NaN payloads, v128), which the wrapper modules use.

use wast::core::{
    AbstractHeapType, HeapType, NanPattern, V128Const, V128Pattern, WastArgCore, WastRetCore,
};
use wast::token::{F32, F64};

use crate::json::Json;

// Bit masks of the NaN patterns: a canonical NaN is exactly the quiet bit set (either sign), an
// arithmetic NaN is any NaN with the quiet bit set.
const F32_ABS: u32 = 0x7fff_ffff;
const F32_CANONICAL: u32 = 0x7fc0_0000;
const F64_ABS: u64 = 0x7fff_ffff_ffff_ffff;
const F64_CANONICAL: u64 = 0x7ff8_0000_0000_0000;

fn f32_is_nan(bits: u32) -> bool {
    bits & F32_ABS > 0x7f80_0000
}

fn f64_is_nan(bits: u64) -> bool {
    bits & F64_ABS > 0x7ff0_0000_0000_0000
}

/// True when JS cannot pass this argument bit-exactly (a NaN loses its payload, a v128 cannot
/// cross at all).
pub fn arg_needs_wasm(arg: &WastArgCore<'_>) -> bool {
    match arg {
        WastArgCore::F32(f) => f32_is_nan(f.bits),
        WastArgCore::F64(f) => f64_is_nan(f.bits),
        WastArgCore::V128(_) => true,
        _ => false,
    }
}

/// True when JS cannot check this expectation bit-exactly.
pub fn ret_needs_wasm(ret: &WastRetCore<'_>) -> bool {
    match ret {
        WastRetCore::F32(NanPattern::Value(f)) => f32_is_nan(f.bits),
        WastRetCore::F64(NanPattern::Value(f)) => f64_is_nan(f.bits),
        WastRetCore::F32(_) | WastRetCore::F64(_) | WastRetCore::V128(_) => true,
        WastRetCore::Either(cases) => cases.iter().any(ret_needs_wasm),
        _ => false,
    }
}

fn heap_type_name(ty: &HeapType<'_>) -> Result<&'static str, String> {
    match ty {
        HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Func,
        } => Ok("funcref"),
        HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Extern,
        } => Ok("externref"),
        other => Err(format!("heap type {other:?}")),
    }
}

/// JSON form of an argument: `{type, value}` with integers as signed decimal strings and floats
/// as their bit patterns (unsigned decimal strings), like wabt's wast2json.
pub fn arg_json(arg: &WastArgCore<'_>) -> Result<Json, String> {
    let (ty, value) = match arg {
        WastArgCore::I32(v) => ("i32", Json::str(v.to_string())),
        WastArgCore::I64(v) => ("i64", Json::str(v.to_string())),
        WastArgCore::F32(f) => ("f32", Json::str(f.bits.to_string())),
        WastArgCore::F64(f) => ("f64", Json::str(f.bits.to_string())),
        WastArgCore::RefNull(ty) => (heap_type_name(ty)?, Json::Null),
        WastArgCore::RefExtern(n) => ("externref", Json::str(n.to_string())),
        WastArgCore::V128(v) => return Ok(v128_json(v)),
        WastArgCore::RefHost(_) => return Err("ref.host argument (GC proposal)".into()),
    };
    Ok(Json::obj([("type", Json::str(ty)), ("value", value)]))
}

fn v128_json(v: &V128Const) -> Json {
    let bytes = v.to_le_bytes();
    let lanes = (0..4)
        .map(|i| {
            Json::str(u32::from_le_bytes(bytes[4 * i..4 * i + 4].try_into().unwrap()).to_string())
        })
        .collect();
    Json::obj([
        ("type", Json::str("v128")),
        ("shape", Json::str("i32x4")),
        ("value", Json::Arr(lanes)),
    ])
}

fn f32_pattern_json(p: &NanPattern<F32>) -> Json {
    match p {
        NanPattern::CanonicalNan => Json::str("nan:canonical"),
        NanPattern::ArithmeticNan => Json::str("nan:arithmetic"),
        NanPattern::Value(f) => Json::str(f.bits.to_string()),
    }
}

fn f64_pattern_json(p: &NanPattern<F64>) -> Json {
    match p {
        NanPattern::CanonicalNan => Json::str("nan:canonical"),
        NanPattern::ArithmeticNan => Json::str("nan:arithmetic"),
        NanPattern::Value(f) => Json::str(f.bits.to_string()),
    }
}

/// JSON form of an expectation. Besides the argument forms: `"nan:canonical"` and
/// `"nan:arithmetic"` for floats, v128 with the lane shape of the script, `{type: "funcref"}`
/// (any non-null function), `{type: "externref"}` (any non-null host value) and
/// `{type: "ref.null"}` (null of an unspecified type).
pub fn ret_json(ret: &WastRetCore<'_>) -> Result<Json, String> {
    let typed = |ty: &str, value: Json| Json::obj([("type", Json::str(ty)), ("value", value)]);
    Ok(match ret {
        WastRetCore::I32(v) => typed("i32", Json::str(v.to_string())),
        WastRetCore::I64(v) => typed("i64", Json::str(v.to_string())),
        WastRetCore::F32(p) => typed("f32", f32_pattern_json(p)),
        WastRetCore::F64(p) => typed("f64", f64_pattern_json(p)),
        WastRetCore::V128(p) => {
            let (shape, lanes): (&str, Vec<Json>) = match p {
                V128Pattern::I8x16(l) => (
                    "i8x16",
                    l.iter().map(|v| Json::str(v.to_string())).collect(),
                ),
                V128Pattern::I16x8(l) => (
                    "i16x8",
                    l.iter().map(|v| Json::str(v.to_string())).collect(),
                ),
                V128Pattern::I32x4(l) => (
                    "i32x4",
                    l.iter().map(|v| Json::str(v.to_string())).collect(),
                ),
                V128Pattern::I64x2(l) => (
                    "i64x2",
                    l.iter().map(|v| Json::str(v.to_string())).collect(),
                ),
                V128Pattern::F32x4(l) => ("f32x4", l.iter().map(f32_pattern_json).collect()),
                V128Pattern::F64x2(l) => ("f64x2", l.iter().map(f64_pattern_json).collect()),
            };
            Json::obj([
                ("type", Json::str("v128")),
                ("shape", Json::str(shape)),
                ("value", Json::Arr(lanes)),
            ])
        }
        WastRetCore::RefNull(None) => Json::obj([("type", Json::str("ref.null"))]),
        WastRetCore::RefNull(Some(ty)) => typed(heap_type_name(ty)?, Json::Null),
        WastRetCore::RefExtern(Some(n)) => typed("externref", Json::str(n.to_string())),
        WastRetCore::RefExtern(None) => Json::obj([("type", Json::str("externref"))]),
        WastRetCore::RefFunc(_) => Json::obj([("type", Json::str("funcref"))]),
        WastRetCore::Either(cases) => {
            let cases = cases.iter().map(ret_json).collect::<Result<Vec<_>, _>>()?;
            Json::obj([("type", Json::str("either")), ("value", Json::Arr(cases))])
        }
        other => return Err(format!("expectation {other:?} (GC proposal)")),
    })
}

/// Wasm instructions (flat text) that push an argument. Floats go through their bit patterns so
/// that NaN payloads arrive exactly.
pub fn arg_wat(arg: &WastArgCore<'_>) -> Result<String, String> {
    Ok(match arg {
        WastArgCore::I32(v) => format!("i32.const {v}"),
        WastArgCore::I64(v) => format!("i64.const {v}"),
        WastArgCore::F32(f) => format!("i32.const {} f32.reinterpret_i32", f.bits as i32),
        WastArgCore::F64(f) => format!("i64.const {} f64.reinterpret_i64", f.bits as i64),
        WastArgCore::V128(v) => {
            let b = v.to_le_bytes();
            let lo = i64::from_le_bytes(b[..8].try_into().unwrap());
            let hi = i64::from_le_bytes(b[8..].try_into().unwrap());
            format!("v128.const i64x2 {lo} {hi}")
        }
        WastArgCore::RefNull(ty) => match heap_type_name(ty)? {
            "funcref" => "ref.null func".to_string(),
            _ => "ref.null extern".to_string(),
        },
        WastArgCore::RefExtern(_) | WastArgCore::RefHost(_) => {
            return Err("host reference argument in a wasm-checked assertion".into());
        }
    })
}

/// Instructions that consume the raw bits of a float (an i32 or i64 already on the stack, or
/// `load`) and push 1 when they do NOT match the pattern.
fn f32_mismatch(load: &str, p: &NanPattern<F32>) -> String {
    match p {
        NanPattern::CanonicalNan => {
            format!("{load} i32.const {F32_ABS} i32.and i32.const {F32_CANONICAL} i32.ne")
        }
        NanPattern::ArithmeticNan => {
            format!("{load} i32.const {F32_CANONICAL} i32.and i32.const {F32_CANONICAL} i32.ne")
        }
        NanPattern::Value(f) => format!("{load} i32.const {} i32.ne", f.bits as i32),
    }
}

fn f64_mismatch(load: &str, p: &NanPattern<F64>) -> String {
    match p {
        NanPattern::CanonicalNan => {
            format!(
                "{load} i64.const {F64_ABS} i64.and i64.const {} i64.ne",
                F64_CANONICAL as i64
            )
        }
        NanPattern::ArithmeticNan => format!(
            "{load} i64.const {c} i64.and i64.const {c} i64.ne",
            c = F64_CANONICAL as i64
        ),
        NanPattern::Value(f) => format!("{load} i64.const {} i64.ne", f.bits as i64),
    }
}

/// Instructions that push i32 1 when local `local` (of type `ty`) does NOT match `ret`, 0 when it
/// does. Integer lanes are compared as two i64 halves; float lanes one by one, on their bits.
pub fn mismatch_wat(ret: &WastRetCore<'_>, local: u32, ty: &str) -> Result<String, String> {
    let get = format!("local.get {local}");
    let expect_type = |want: &str| {
        if ty == want {
            Ok(())
        } else {
            Err(format!("expected a {want} result, the export returns {ty}"))
        }
    };
    Ok(match ret {
        WastRetCore::I32(v) => {
            expect_type("i32")?;
            format!("{get} i32.const {v} i32.ne")
        }
        WastRetCore::I64(v) => {
            expect_type("i64")?;
            format!("{get} i64.const {v} i64.ne")
        }
        WastRetCore::F32(p) => {
            expect_type("f32")?;
            f32_mismatch(&format!("{get} i32.reinterpret_f32"), p)
        }
        WastRetCore::F64(p) => {
            expect_type("f64")?;
            f64_mismatch(&format!("{get} i64.reinterpret_f64"), p)
        }
        WastRetCore::V128(p) => {
            expect_type("v128")?;
            let lane_checks: Vec<String> = match p {
                V128Pattern::F32x4(lanes) => lanes
                    .iter()
                    .enumerate()
                    .map(|(i, l)| f32_mismatch(&format!("{get} i32x4.extract_lane {i}"), l))
                    .collect(),
                V128Pattern::F64x2(lanes) => lanes
                    .iter()
                    .enumerate()
                    .map(|(i, l)| f64_mismatch(&format!("{get} i64x2.extract_lane {i}"), l))
                    .collect(),
                ints => {
                    let bytes = int_lanes_le_bytes(ints);
                    (0..2)
                        .map(|i| {
                            let half =
                                i64::from_le_bytes(bytes[8 * i..8 * i + 8].try_into().unwrap());
                            format!("{get} i64x2.extract_lane {i} i64.const {half} i64.ne")
                        })
                        .collect()
                }
            };
            let mut out = lane_checks.join(" ");
            for _ in 1..lane_checks.len() {
                out.push_str(" i32.or");
            }
            out
        }
        WastRetCore::RefNull(_) => format!("{get} ref.is_null i32.eqz"),
        WastRetCore::RefFunc(None) | WastRetCore::RefExtern(None) => format!("{get} ref.is_null"),
        WastRetCore::Either(cases) => {
            // Mismatch of an alternative is mismatch of every case.
            let checks = cases
                .iter()
                .map(|c| mismatch_wat(c, local, ty))
                .collect::<Result<Vec<_>, _>>()?;
            let mut out = checks.join(" ");
            for _ in 1..checks.len() {
                out.push_str(" i32.and");
            }
            out
        }
        other => {
            return Err(format!(
                "expectation {other:?} cannot be checked inside wasm"
            ))
        }
    })
}

fn int_lanes_le_bytes(p: &V128Pattern) -> [u8; 16] {
    let mut out = [0u8; 16];
    match p {
        V128Pattern::I8x16(l) => l.iter().enumerate().for_each(|(i, v)| out[i] = *v as u8),
        V128Pattern::I16x8(l) => l
            .iter()
            .enumerate()
            .for_each(|(i, v)| out[2 * i..2 * i + 2].copy_from_slice(&v.to_le_bytes())),
        V128Pattern::I32x4(l) => l
            .iter()
            .enumerate()
            .for_each(|(i, v)| out[4 * i..4 * i + 4].copy_from_slice(&v.to_le_bytes())),
        V128Pattern::I64x2(l) => l
            .iter()
            .enumerate()
            .for_each(|(i, v)| out[8 * i..8 * i + 8].copy_from_slice(&v.to_le_bytes())),
        V128Pattern::F32x4(_) | V128Pattern::F64x2(_) => {
            unreachable!("float lanes are checked one by one")
        }
    }
    out
}

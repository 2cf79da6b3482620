//! ToWebAssemblyValue and ToJSValue of the JS API, on the 16-byte value slots the trampolines use.
//!
//! - i32: ToInt32; i64: ToBigInt64 and BigInt back; f32: ToNumber rounded to single precision;
//!   f64: ToNumber.
//! - externref: any JS value; `null` is ref.null. Non-null values are kept in the per-thread
//!   store (`js::store_push`) and cross as their slot index.
//! - funcref: `null` or an exported wasm function (a function object this binding created);
//!   anything else is a TypeError.
//! - v128 cannot cross: TypeError.

use napi::sys;
use wasmparser::{AbstractHeapType, HeapType, RefType, ValType};

use cranewasm_engine::runtime::signatures::{self, CanonType};

use crate::functions;
use crate::js::{self, Js, JsResult, Value};

/// V8's message for a value that cannot cross the boundary (v128, a funcref that is not a wasm
/// function).
pub const TYPE_INCOMPATIBILITY: &str = "type incompatibility when transforming from/to JS";

/// Whether values of `ty` are funcrefs: `func`, `nofunc` and concrete function types.
pub fn is_funcref(ty: RefType) -> bool {
    cranewasm_engine::runtime::instance::is_funcref(ty)
}

/// Whether values of `ty` are externrefs: `extern` and `noextern`.
pub fn is_externref(ty: RefType) -> bool {
    matches!(
        ty.heap_type(),
        HeapType::Abstract { ty: AbstractHeapType::Extern | AbstractHeapType::NoExtern, .. }
    )
}

/// What ToWebAssemblyValue allows besides the family's own conversion: null only where the type
/// is nullable; only null for the bottom types (`nofunc`, `noextern`); and, for a concrete
/// function type `$t`, only an exported wasm function whose type is `$t` or a declared subtype
/// of it (`canon` resolves `ty`'s module-relative index to `$t`'s canonical id).
fn check_reference(js: &Js, value: Value, ty: RefType, canon: impl FnOnce() -> Option<CanonType>) -> JsResult<()> {
    let is_null = js.type_of(value) == sys::ValueType::napi_null;
    if is_null {
        return if ty.is_nullable() { Ok(()) } else { Err(js.throw_type_error(TYPE_INCOMPATIBILITY)) };
    }
    match ty.heap_type() {
        HeapType::Abstract { ty: AbstractHeapType::Func | AbstractHeapType::Extern, .. } => Ok(()),
        HeapType::Concrete(_) => match (canon(), functions::exported_function(js, value)) {
            (Some(CanonType::Concrete { id, .. }), Some(f)) if signatures::is_subtype(f.function.type_id(), id) => Ok(()),
            _ => Err(js.throw_type_error(TYPE_INCOMPATIBILITY)),
        },
        _ => Err(js.throw_type_error(TYPE_INCOMPATIBILITY)),
    }
}

/// Parameter `index` of the function type with canonical id `type_id`, concrete references
/// resolved (what `to_wasm` checks a typed function reference against).
pub fn param_type(type_id: u32, index: usize) -> Option<CanonType> {
    signatures::signature(type_id).and_then(|s| s.0.get(index).copied())
}

/// Result `index` of the function type with canonical id `type_id` (see `param_type`).
pub fn result_type(type_id: u32, index: usize) -> Option<CanonType> {
    signatures::signature(type_id).and_then(|s| s.1.get(index).copied())
}

/// The JS API name of a value type ("anyfunc" for funcref, as V8 reports it).
pub fn type_name(ty: ValType) -> &'static str {
    match ty {
        ValType::I32 => "i32",
        ValType::I64 => "i64",
        ValType::F32 => "f32",
        ValType::F64 => "f64",
        ValType::V128 => "v128",
        ValType::Ref(r) if is_funcref(r) => "anyfunc",
        ValType::Ref(r) if is_externref(r) => "externref",
        ValType::Ref(_) => "ref",
    }
}

pub fn parse_type(name: &str) -> Option<ValType> {
    Some(match name {
        "i32" => ValType::I32,
        "i64" => ValType::I64,
        "f32" => ValType::F32,
        "f64" => ValType::F64,
        "v128" => ValType::V128,
        "anyfunc" | "funcref" => ValType::Ref(RefType::FUNCREF),
        "externref" => ValType::Ref(RefType::EXTERNREF),
        // Not a JS API name: the type of imported string constants (builtins.js).
        "(ref extern)" => ValType::Ref(RefType::EXTERN),
        _ => return None,
    })
}

/// ToWebAssemblyValue: the slot bits of `value` as a `ty`. May run user code (valueOf) and throw.
/// `canon` gives `ty` with its concrete reference resolved (called only for a non-null value of
/// a concrete reference type: the registry lookup stays off the common paths).
pub fn to_wasm(js: &Js, value: Value, ty: ValType, canon: impl FnOnce() -> Option<CanonType>) -> JsResult<u128> {
    Ok(match ty {
        ValType::I32 => js.to_int32(value)? as u32 as u128,
        ValType::I64 => js.to_bigint64(value)? as u64 as u128,
        ValType::F32 => (js.to_number(value)? as f32).to_bits() as u128,
        ValType::F64 => js.to_number(value)?.to_bits() as u128,
        ValType::Ref(r) if is_externref(r) => {
            check_reference(js, value, r, canon)?;
            externref_to_wasm(js, value)? as u128
        }
        ValType::Ref(r) if is_funcref(r) => funcref_of_type(js, value, r, canon)? as u128,
        ValType::V128 | ValType::Ref(_) => return Err(js.throw_type_error(TYPE_INCOMPATIBILITY)),
    })
}

/// ToJSValue of the slot bits of a `ty`.
pub fn to_js(js: &Js, bits: u128, ty: ValType) -> JsResult<Value> {
    match ty {
        ValType::I32 => js.int32(bits as u32 as i32),
        ValType::I64 => js.bigint(bits as u64 as i64),
        ValType::F32 => js.double(f32::from_bits(bits as u32) as f64),
        ValType::F64 => js.double(f64::from_bits(bits as u64)),
        ValType::Ref(r) if is_externref(r) => externref_to_js(js, bits as usize),
        ValType::Ref(r) if is_funcref(r) => functions::funcref_to_js(js, bits as usize),
        ValType::V128 | ValType::Ref(_) => Err(js.throw_type_error(TYPE_INCOMPATIBILITY)),
    }
}

pub fn externref_to_wasm(js: &Js, value: Value) -> JsResult<usize> {
    if js.type_of(value) == sys::ValueType::napi_null {
        return Ok(0);
    }
    // Freed by a sweep once no table or global holds it and no wasm runs.
    Ok(js::store_push(js, value)? as usize)
}

pub fn externref_to_js(js: &Js, handle: usize) -> JsResult<Value> {
    if handle == 0 {
        return Ok(js.null());
    }
    js::store_get(js, handle as u32)
}

/// [`funcref_of_type`] for plain `funcref` (nullable `func`): null, or an exported function.
pub fn plain_funcref_to_wasm(js: &Js, value: Value) -> JsResult<usize> {
    let t = js.type_of(value);
    if t == sys::ValueType::napi_null {
        return Ok(0);
    }
    let function = if t == sys::ValueType::napi_function { functions::exported_function_of(js, value) } else { None };
    match function {
        Some(f) => Ok(f.function.func_ref() as usize),
        None => Err(js.throw_type_error(TYPE_INCOMPATIBILITY)),
    }
}

/// ToWebAssemblyValue for a funcref type `ty`: `check_reference` and `funcref_to_wasm` in one,
/// asking `typeof` once and identifying the function once (the hot path of
/// `Table.prototype.set` and of funcref arguments). What the function needs stays alive while
/// the value is an argument (the caller holds the function object); wherever wasm or the host
/// stores it, the store is recorded (see `lifetimes`).
fn funcref_of_type(js: &Js, value: Value, ty: RefType, canon: impl FnOnce() -> Option<CanonType>) -> JsResult<usize> {
    let t = js.type_of(value);
    if t == sys::ValueType::napi_null {
        return if ty.is_nullable() { Ok(0) } else { Err(js.throw_type_error(TYPE_INCOMPATIBILITY)) };
    }
    let function = if t == sys::ValueType::napi_function { functions::exported_function_of(js, value) } else { None };
    let admitted = match (ty.heap_type(), function) {
        (HeapType::Abstract { ty: AbstractHeapType::Func, .. }, Some(f)) => Some(f),
        (HeapType::Concrete(_), Some(f)) => match canon() {
            Some(CanonType::Concrete { id, .. }) if signatures::is_subtype(f.function.type_id(), id) => Some(f),
            _ => None,
        },
        _ => None,
    };
    match admitted {
        Some(f) => Ok(f.function.func_ref() as usize),
        None => Err(js.throw_type_error(TYPE_INCOMPATIBILITY)),
    }
}


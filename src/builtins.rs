//! The compile-time half of the JS API's builtins (JS String Builtins): the "validate builtins
//! and imported string" step of compiling a module with `{ builtins, importedStringConstants }`.
//! Every import of `wasm:js-string` named after a builtin must be a function of the builtin's
//! type, and every import of the imported-strings module an immutable global that a
//! `(ref extern)` matches; the first import that is not gives the CompileError's message. The
//! builtins themselves run as host functions at instantiation (builtins.js).
//!
//! Matching: a builtin's type is `(rec (type (func …))).0`, a final type alone in its recursion
//! group, so a function import matches when its type is one too (declared without `rec` of
//! several types, without `sub` that leaves it open or names a supertype) and its parameter and
//! result types are the builtin's. fromCharCodeArray and intoCharCodeArray take a
//! `(ref null $a)` where `$a` is `(array (mut i16))`, itself final and alone in its group:
//! cranewasm lets modules declare array types but makes no array values (no GC), so these two
//! are only ever called with null, and trap.

use std::ptr;

use napi::sys;
use napi_derive::napi;
use wasmparser::{FuncType, RefType, ValType};

use crate::js::{napi_call, Js, JsResult, Value};
use crate::objects::Raw;
use crate::values;
use crate::NativeModule;
use cranewasm_engine::module::ImportType;

/// The module specifier the `js-string` builtin set is imported from.
pub const JS_STRING_MODULE: &str = "wasm:js-string";

const EXTERNREF: ValType = ValType::Ref(RefType::EXTERNREF);
/// `(ref extern)`: what the builtins that always make a string return.
const REF_EXTERN: ValType = ValType::Ref(RefType::EXTERN);
const I32: ValType = ValType::I32;

/// The `js-string` set: name, parameters, results (the JS API spec's "String Builtins"; the
/// return type of fromCodePoint is `(ref extern)`, as in the spec's tests and every engine, where
/// the spec's text says externref). fromCharCodeArray and intoCharCodeArray take a
/// `(ref null (array (mut i16)))` of the importing module: `None` here, matched by
/// [`matches_array_builtin`].
const JS_STRING: [(&str, Option<(&[ValType], &[ValType])>); 13] = [
    ("cast", Some((&[EXTERNREF], &[REF_EXTERN]))),
    ("test", Some((&[EXTERNREF], &[I32]))),
    ("fromCharCodeArray", None),
    ("intoCharCodeArray", None),
    ("fromCharCode", Some((&[I32], &[REF_EXTERN]))),
    ("fromCodePoint", Some((&[I32], &[REF_EXTERN]))),
    ("charCodeAt", Some((&[EXTERNREF, I32], &[I32]))),
    ("codePointAt", Some((&[EXTERNREF, I32], &[I32]))),
    ("length", Some((&[EXTERNREF], &[I32]))),
    ("concat", Some((&[EXTERNREF, EXTERNREF], &[REF_EXTERN]))),
    ("substring", Some((&[EXTERNREF, I32, I32], &[REF_EXTERN]))),
    ("equals", Some((&[EXTERNREF, EXTERNREF], &[I32]))),
    ("compare", Some((&[EXTERNREF, EXTERNREF], &[I32]))),
];

/// Whether `ty` is `(ref null $a)` for an `$a` of `module` that is `(array (mut i16))`, final and
/// alone in its recursion group (the i16 array of fromCharCodeArray and intoCharCodeArray).
fn is_i16_array(module: &cranewasm_engine::module::Module, ty: ValType) -> bool {
    use cranewasm_engine::module::TypeKind;
    let ValType::Ref(r) = ty else { return false };
    let Some(index) = r.type_index().and_then(|i| i.as_module_index()) else { return false };
    let info = module.type_info(index);
    let plain = info.group_len == 1 && info.is_final && info.supertype.is_none() && info.kind == TypeKind::Array;
    let element = module.aggregate_fields.get(&index).and_then(|f| f.first().copied());
    r.is_nullable()
        && plain
        && element.is_some_and(|f| f.mutable && f.element_type == wasmparser::StorageType::I16)
}

/// Whether function type `index` of `module` is final and alone in its recursion group, as a
/// builtin's type is.
fn is_plain_function_type(module: &cranewasm_engine::module::Module, index: u32) -> bool {
    let info = module.type_info(index);
    info.group_len == 1 && info.is_final && info.supertype.is_none() && info.kind == cranewasm_engine::module::TypeKind::Func
}

/// Whether `ty` is the type of the array builtin `name` (`None` in [`JS_STRING`]).
fn matches_array_builtin(module: &cranewasm_engine::module::Module, name: &str, ty: &FuncType) -> bool {
    let (params, results) = (ty.params(), ty.results());
    match name {
        // (func (param (ref null $a) i32 i32) (result (ref extern)))
        "fromCharCodeArray" => {
            params.len() == 3 && is_i16_array(module, params[0]) && params[1..] == [I32, I32] && results == [REF_EXTERN]
        }
        // (func (param externref (ref null $a) i32) (result i32))
        "intoCharCodeArray" => {
            params.len() == 3 && params[0] == EXTERNREF && is_i16_array(module, params[1]) && params[2] == I32 && results == [I32]
        }
        _ => false,
    }
}

/// The builtin's type as text, for the error message.
fn type_text(params: &[ValType], results: &[ValType]) -> String {
    let list = |types: &[ValType]| types.iter().map(|t| value_type_text(*t)).collect::<Vec<_>>().join(" ");
    let mut text = String::from("(func");
    if !params.is_empty() {
        text += &format!(" (param {})", list(params));
    }
    if !results.is_empty() {
        text += &format!(" (result {})", list(results));
    }
    text + ")"
}

fn value_type_text(ty: ValType) -> String {
    match ty {
        ValType::Ref(r) if r == RefType::EXTERNREF => "externref".into(),
        ValType::Ref(r) if r == RefType::EXTERN => "(ref extern)".into(),
        ValType::Ref(r) if r == RefType::FUNCREF => "funcref".into(),
        ValType::Ref(r) => {
            let text = format!("{r}");
            if text.starts_with('(') { text } else { format!("({text})") }
        }
        other => other.to_string(),
    }
}

/// Whether `ty` is the builtin's type.
fn matches(ty: &FuncType, params: &[ValType], results: &[ValType]) -> bool {
    ty.params() == params && ty.results() == results
}

/// "Validate builtins and imported string for a WebAssembly module": None when every builtin
/// and string-constant import of `module` is well typed, else the CompileError message naming the
/// first import that is not. `js_string`: whether the options enable the `js-string` set;
/// `string_module`: `importedStringConstants` (a module name) if not null.
#[napi]
pub fn check_compile_time_imports(
    module: &NativeModule,
    js_string: bool,
    string_module: Option<String>,
) -> Option<String> {
    let module = &module.module;
    for (index, import) in module.imports.iter().enumerate() {
        let names = format!("Import #{index} \"{}\" \"{}\"", import.module, import.name);
        if string_module.as_deref() == Some(import.module.as_str()) {
            // `global const (ref extern)` matches an immutable global of a supertype of
            // (ref extern): externref or (ref extern) (noextern is no supertype).
            let ok = match &import.ty {
                ImportType::Global(g) => !g.mutable && (g.content_type == EXTERNREF || g.content_type == REF_EXTERN),
                _ => false,
            };
            if !ok {
                return Some(format!(
                    "{names}: an imported string constant must be an immutable global of type externref or (ref extern)"
                ));
            }
            continue;
        }
        if !js_string || import.module != JS_STRING_MODULE {
            continue;
        }
        let Some((_, signature)) = JS_STRING.iter().find(|(name, _)| *name == import.name) else {
            // Not a builtin's name: an ordinary import, looked up in the import object.
            continue;
        };
        let ty = match &import.ty {
            ImportType::Function(type_index) if is_plain_function_type(module, *type_index) => {
                Some(&module.types[*type_index as usize])
            }
            _ => None,
        };
        match (signature, ty) {
            (Some((params, results)), Some(ty)) if matches(ty, params, results) => {}
            (None, Some(ty)) if matches_array_builtin(module, &import.name, ty) => {}
            (Some((params, results)), _) => {
                return Some(format!(
                    "{names}: the builtin function has type {} and cannot be imported as {}",
                    type_text(params, results),
                    match (&import.ty, ty) {
                        (_, Some(ty)) => type_text(ty.params(), ty.results()),
                        (ImportType::Function(index), None) => format!(
                            "{} (not a final type alone in its recursion group)",
                            type_text(module.types[*index as usize].params(), module.types[*index as usize].results())
                        ),
                        (_, None) => format!("a {}", import.ty.kind().as_str()),
                    }
                ))
            }
            (None, _) => {
                return Some(format!(
                    "{names}: the builtin function has type {} and cannot be imported as {}",
                    match import.name.as_str() {
                        "fromCharCodeArray" => "(func (param (ref null $a) i32 i32) (result (ref extern))) with $a = (array (mut i16))",
                        _ => "(func (param externref (ref null $a) i32) (result i32)) with $a = (array (mut i16))",
                    },
                    match (&import.ty, ty) {
                        (_, Some(ty)) => type_text(ty.params(), ty.results()),
                        (ImportType::Function(_), None) => "a type that is not final and alone in its recursion group".to_string(),
                        (_, None) => format!("a {}", import.ty.kind().as_str()),
                    }
                ))
            }
        }
    }
    None
}

// ---- Run time: the common cases of some builtins, answered without calling JS ---------------
//
// A builtin is linked as the JS function of builtins.js, through the generic import path (a
// Node-API call into JS per call). For `test`, `cast`, `length`, `equals` and `charCodeAt`,
// `host_call` first asks [`fast_call`], which answers from Node-API alone when the arguments are
// what the builtin expects; anything else (a value that is not a string, an index out of range:
// every trap) falls through to the JS function, which has the spec's full behaviour.

/// A builtin with a native fast path, as builtins.js marks its function (`markBuiltin`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FastOp {
    Test,
    Cast,
    Length,
    Equals,
    CharCodeAt,
}

const FAST_OPS: [(&str, FastOp); 5] = [
    ("test", FastOp::Test),
    ("cast", FastOp::Cast),
    ("length", FastOp::Length),
    ("equals", FastOp::Equals),
    ("charCodeAt", FastOp::CharCodeAt),
];

/// One napi type tag per fast builtin: the tag says which builtin a function is.
const fn fast_tag(op: usize) -> sys::napi_type_tag {
    sys::napi_type_tag { lower: 0x6372_616e_6577_6173, upper: 0x6a73_7374_7200_0000 | op as u64 }
}
static FAST_TAGS: [sys::napi_type_tag; 5] = [fast_tag(0), fast_tag(1), fast_tag(2), fast_tag(3), fast_tag(4)];

/// Marks `function` (a builtin of builtins.js's js-string set called `name`) as that builtin,
/// when it has a fast path.
#[napi]
pub fn mark_builtin(env: napi::Env, function: Raw, name: String) -> napi::Result<()> {
    let Some(index) = FAST_OPS.iter().position(|(n, _)| *n == name) else { return Ok(()) };
    // SAFETY: the env of the call Node is running on this thread.
    let js = unsafe { Js::from_env(env.raw()) };
    napi_call!(js, napi_type_tag_object(function.0, &FAST_TAGS[index]))
        .map_err(|_| napi::Error::new(napi::Status::PendingException, "markBuiltin failed"))
}

/// The fast builtin `value` is, if it is one (checked once, when an import is linked).
pub fn fast_op_of(js: &Js, value: Value) -> Option<FastOp> {
    if js.type_of(value) != sys::ValueType::napi_function {
        return None;
    }
    for (index, tag) in FAST_TAGS.iter().enumerate() {
        let mut tagged = false;
        napi_call!(js, napi_check_object_type_tag(value, tag, &mut tagged)).ok()?;
        if tagged {
            return Some(FAST_OPS[index].1);
        }
    }
    None
}

/// The string an externref argument holds, or None (null, or not a string).
fn string_arg(js: &Js, bits: u128) -> JsResult<Option<Value>> {
    let handle = bits as usize;
    if handle == 0 {
        return Ok(None);
    }
    let value = values::externref_to_js(js, handle)?;
    Ok((js.type_of(value) == sys::ValueType::napi_string).then_some(value))
}

fn string_length(js: &Js, string: Value) -> JsResult<usize> {
    let mut length = 0usize;
    napi_call!(js, napi_get_value_string_utf16(string, ptr::null_mut(), 0, &mut length))?;
    Ok(length)
}

/// The part of [`fast_call`] that makes no JS value (so needs no handle scope): `length` and
/// `charCodeAt` of the string charCodeAt last copied. True when answered.
pub fn cached_call(js: &Js, op: FastOp, values: &mut [u128]) -> bool {
    let result = match op {
        FastOp::Length => cached_units(js, values[0], |units| Some(units.len() as u32)),
        FastOp::CharCodeAt => {
            let index = values[1] as u32 as usize;
            cached_units(js, values[0], |units| units.get(index).map(|&unit| u32::from(unit)))
        }
        _ => None,
    };
    match result.flatten() {
        Some(n) => {
            values[0] = n as u128;
            true
        }
        None => false,
    }
}

/// Answers the call of `op` with the arguments in `values` (leaving the result there) and returns
/// true, or returns false for the JS function to answer it.
pub fn fast_call(js: &Js, op: FastOp, values: &mut [u128]) -> JsResult<bool> {
    let i32_result = |values: &mut [u128], n: i32| {
        values[0] = n as u32 as u128;
        Ok(true)
    };
    match op {
        FastOp::Test => {
            let is_string = string_arg(js, values[0])?.is_some();
            i32_result(values, i32::from(is_string))
        }
        // The result is the argument: its bits stay.
        FastOp::Cast => Ok(string_arg(js, values[0])?.is_some()),
        FastOp::Length => match cached_units(js, values[0], |units| units.len()) {
            Some(length) => i32_result(values, length as i32),
            None => match string_arg(js, values[0])? {
                Some(string) => i32_result(values, string_length(js, string)? as i32),
                None => Ok(false),
            },
        },
        FastOp::Equals => {
            let (a, b) = (values[0] as usize, values[1] as usize);
            let first = string_arg(js, values[0])?;
            let second = string_arg(js, values[1])?;
            // A non-null value that is not a string traps: the JS function does that.
            if (a != 0 && first.is_none()) || (b != 0 && second.is_none()) {
                return Ok(false);
            }
            let equal = match (first, second) {
                (None, None) => true,
                (Some(x), Some(y)) => {
                    let mut equal = false;
                    napi_call!(js, napi_strict_equals(x, y, &mut equal))?;
                    equal
                }
                _ => false,
            };
            i32_result(values, i32::from(equal))
        }
        FastOp::CharCodeAt => {
            let index = values[1] as u32 as usize;
            if let Some(unit) = cached_units(js, values[0], |units| units.get(index).copied()) {
                return match unit {
                    Some(code) => i32_result(values, i32::from(code)),
                    None => Ok(false),
                };
            }
            let Some(string) = string_arg(js, values[0])? else { return Ok(false) };
            match char_code_at(js, string, index, values[0] as usize)? {
                Some(code) => i32_result(values, i32::from(code)),
                None => Ok(false),
            }
        }
    }
}

/// Strings longer than this are never copied for charCodeAt (8 MiB of code units).
const CACHE_MAX_UNITS: usize = 4 << 20;
/// Strings this short are copied on their first charCodeAt; longer ones on their second in a
/// row, so that alternating between long strings costs no copy per call.
const COPY_AT_ONCE_UNITS: usize = 64;

/// The code units of the last string charCodeAt read (Node-API cannot read one unit of a string
/// without copying it from the start): a loop over a string copies it once. Node 20's Node-API
/// makes no references to strings, so the strings are held in a JS array.
struct CharCodeCache {
    env: sys::napi_env,
    /// The externref handle (store slot) and store generation the cached string was last seen
    /// with: while both hold, that handle is that string, and no Node-API call is needed.
    key: Option<(usize, u64)>,
    /// A two-element array (strong reference): [the cached string, a long string seen once
    /// (copied if the next miss is on it again)]; undefined where there is none.
    holder: sys::napi_ref,
    units: Vec<u16>,
}

const CACHED: u32 = 0;
const CANDIDATE: u32 = 1;

thread_local! {
    static CHAR_CODE_CACHE: std::cell::RefCell<CharCodeCache> = const {
        std::cell::RefCell::new(CharCodeCache { env: ptr::null_mut(), key: None, holder: ptr::null_mut(), units: Vec::new() })
    };
}

/// `read(units)` of the cached string when the externref `bits` is it (known without Node-API),
/// else None.
fn cached_units<T>(js: &Js, bits: u128, read: impl FnOnce(&[u16]) -> T) -> Option<T> {
    let handle = bits as usize;
    CHAR_CODE_CACHE.with(|cache| {
        let cache = cache.borrow();
        let hit = handle != 0 && cache.env == js.env && cache.key == Some((handle, crate::js::store_generation()));
        hit.then(|| read(&cache.units))
    })
}

/// Whether element `slot` of the holder is `string`.
fn holds(js: &Js, holder: Value, slot: u32, string: Value) -> JsResult<bool> {
    let held = js.get_element(holder, slot)?;
    if js.type_of(held) != sys::ValueType::napi_string {
        return Ok(false);
    }
    let mut equal = false;
    napi_call!(js, napi_strict_equals(held, string, &mut equal))?;
    Ok(equal)
}

fn hold(js: &Js, holder: Value, slot: u32, value: Value) -> JsResult<()> {
    napi_call!(js, napi_set_element(holder, slot, value))
}

/// The code unit at `index`, or None when the JS function must answer (out of range, or a long
/// string seen for the first time).
fn char_code_at(js: &Js, string: Value, index: usize, handle: usize) -> JsResult<Option<u16>> {
    CHAR_CODE_CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        let existing = if cache.env == js.env && !cache.holder.is_null() { js.reference_value(cache.holder) } else { None };
        let holder = match existing {
            Some(holder) => holder,
            None => {
                // First use on this thread, or a new env (whose references are not ours).
                let holder = js.array(&[js.undefined(), js.undefined()])?;
                *cache = CharCodeCache { env: js.env, key: None, holder: js.reference(holder, 1)?, units: Vec::new() };
                holder
            }
        };
        if holds(js, holder, CACHED, string)? {
            cache.key = Some((handle, crate::js::store_generation()));
            return Ok(cache.units.get(index).copied());
        }
        let length = string_length(js, string)?;
        if index >= length || length > CACHE_MAX_UNITS {
            return Ok(None);
        }
        if length > COPY_AT_ONCE_UNITS && !holds(js, holder, CANDIDATE, string)? {
            hold(js, holder, CANDIDATE, string)?;
            return Ok(None);
        }
        let mut units = std::mem::take(&mut cache.units);
        units.clear();
        // Room for the terminating NUL Node-API writes.
        units.resize(length + 1, 0);
        let mut copied = 0usize;
        napi_call!(js, napi_get_value_string_utf16(string, units.as_mut_ptr(), units.len(), &mut copied))?;
        units.truncate(copied);
        cache.key = None;
        hold(js, holder, CACHED, string)?;
        hold(js, holder, CANDIDATE, js.undefined())?;
        cache.units = units;
        cache.key = Some((handle, crate::js::store_generation()));
        Ok(cache.units.get(index).copied())
    })
}

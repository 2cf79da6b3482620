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

use napi_derive::napi;
use wasmparser::{FuncType, RefType, ValType};

use cranewasm_engine::module::ImportType;
use crate::NativeModule;

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

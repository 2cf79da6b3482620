//! The compile-time half of the JS API's builtins (JS String Builtins): the "validate builtins
//! and imported string" step of compiling a module with `{ builtins, importedStringConstants }`.
//! Every import of `wasm:js-string` named after a builtin must be a function of the builtin's
//! type, and every import of the imported-strings module an immutable global that a
//! `(ref extern)` matches; the first import that is not gives the CompileError's message. The
//! builtins themselves run as host functions at instantiation (builtins.js).
//!
//! Matching: a builtin's type is `(rec (type (func …))).0`, a final type without a supertype
//! alone in its recursion group, and types match iso-recursively: an import matches when its
//! type is declared that way too (read from the module's type section, so that `rec` groups and
//! `sub` declarations are told apart) with exactly the builtin's parameters and results.

use napi_derive::napi;
use wasmparser::{CompositeInnerType, FuncType, Parser, Payload, RefType, ValType};

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
/// `(ref null (array (mut i16)))`: `None` here, as no module can declare that type without GC,
/// so no import can match them.
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

/// By type index: whether the type is declared as `(rec (type (func …))).0` is: a function
/// type, final, without a supertype, alone in its recursion group. Read from the type section
/// of the module's (valid) bytes.
fn plain_function_types(bytes: &[u8]) -> Vec<bool> {
    let mut plain = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        let Ok(Payload::TypeSection(reader)) = payload else { continue };
        for group in reader.into_iter().flatten() {
            let alone = group.types().len() == 1;
            for sub in group.types() {
                let is_func = matches!(sub.composite_type.inner, CompositeInnerType::Func(_));
                plain.push(alone && sub.is_final && sub.supertype_idxs.is_empty() && is_func && !sub.composite_type.shared);
            }
        }
        break;
    }
    plain
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
    let mut plain_types: Option<Vec<bool>> = None;
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
            ImportType::Function(type_index) => Some((*type_index, &module.types[*type_index as usize])),
            _ => None,
        };
        let mut is_plain = |type_index: u32| {
            let plain = plain_types.get_or_insert_with(|| plain_function_types(&module.bytes));
            plain.get(type_index as usize).copied().unwrap_or(false)
        };
        match (signature, ty) {
            (Some((params, results)), Some((type_index, ty))) if matches(ty, params, results) && is_plain(type_index) => {}
            (Some((params, results)), Some((_, ty))) if matches(ty, params, results) => {
                return Some(format!(
                    "{names}: the builtin function has type {}, alone in its recursion group and final, and cannot be imported as a type in a larger recursion group or declared with sub",
                    type_text(params, results)
                ))
            }
            (Some((params, results)), _) => {
                return Some(format!(
                    "{names}: the builtin function has type {} and cannot be imported as {}",
                    type_text(params, results),
                    match ty {
                        Some((_, ty)) => type_text(ty.params(), ty.results()),
                        None => format!("a {}", import.ty.kind().as_str()),
                    }
                ))
            }
            (None, _) => {
                return Some(format!(
                    "{names}: the builtin function takes a (ref null (array (mut i16))), which needs the GC proposal (not supported by cranewasm)"
                ))
            }
        }
    }
    None
}

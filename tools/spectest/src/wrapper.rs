//! Wrapper modules: assertions whose values JS cannot carry exactly (NaN payloads, v128) run
//! inside wasm. A wrapper imports one export under test as `"test" "f"`, and exports one check
//! function per assertion on it (`c0`, `c1`, … in script order), which calls the import with
//! constant arguments and returns 0 when every result matches, or 1 + the index of the first
//! result that does not. It also stores result `i`'s raw bits at address `16 * i` of its exported
//! memory `m`, so the runner can say what came back. For assert_trap / assert_exhaustion / plain
//! actions the check function only calls and drops the results: the runner expects the throw.
//!
//! One wrapper per (instance, export) keeps the number of modules the engine compiles small
//! (simd asserts ~24k results on a few hundred functions) while a broken export only affects its
//! own assertions.

use wast::core::{WastArgCore, WastRetCore};

use crate::exports::{val_type_text, ExportType};
use crate::values::{arg_wat, mismatch_wat};

pub struct Wrapper {
    /// Index of the instance (module command) whose export is under test.
    pub instance: usize,
    pub field: String,
    import: String,
    /// Parameter and result types of the call (results only, for a global).
    params: Vec<&'static str>,
    results: Vec<&'static str>,
    is_global: bool,
    checks: Vec<String>,
}

impl Wrapper {
    pub fn new(instance: usize, field: &str, export: &ExportType) -> Result<Wrapper, String> {
        let types = |tys: &[wasmparser::ValType]| {
            tys.iter()
                .map(|t| val_type_text(*t))
                .collect::<Result<Vec<_>, _>>()
        };
        let (import, params, results, is_global) = match export {
            ExportType::Func(f) => {
                let params = types(f.params())?;
                let results = types(f.results())?;
                let import = format!(
                    "(func $f (param {}) (result {}))",
                    params.join(" "),
                    results.join(" ")
                );
                (import, params, results, false)
            }
            ExportType::Global(g) => {
                let ty = val_type_text(g.content_type)?;
                let import = if g.mutable {
                    format!("(global $f (mut {ty}))")
                } else {
                    format!("(global $f {ty})")
                };
                (import, Vec::new(), vec![ty], true)
            }
            ExportType::Other => {
                return Err(format!(
                    "export {field:?} is neither a function nor a global"
                ))
            }
        };
        Ok(Wrapper {
            instance,
            field: field.to_string(),
            import,
            params,
            results,
            is_global,
            checks: Vec::new(),
        })
    }

    /// Adds a check function; `expected` is None for actions expected to throw (or just run).
    /// Returns the export name of the check function.
    pub fn add_check(
        &mut self,
        args: &[WastArgCore<'_>],
        expected: Option<&[WastRetCore<'_>]>,
    ) -> Result<String, String> {
        if args.len() != self.params.len() {
            return Err(format!(
                "{} arguments for {} parameters",
                args.len(),
                self.params.len()
            ));
        }
        let name = format!("c{}", self.checks.len());
        let mut body = Vec::new();
        if self.is_global {
            body.push("global.get $f".to_string());
        } else {
            for arg in args {
                body.push(arg_wat(arg)?);
            }
            body.push("call $f".to_string());
        }
        let locals = match expected {
            None => {
                body.extend(self.results.iter().map(|_| "drop".to_string()));
                String::new()
            }
            Some(expected) => {
                if expected.len() != self.results.len() {
                    return Err(format!(
                        "{} expected results for {} results",
                        expected.len(),
                        self.results.len()
                    ));
                }
                // Results come off the stack last first.
                for i in (0..self.results.len()).rev() {
                    body.push(format!("local.set {i}"));
                }
                for (i, ty) in self.results.iter().enumerate() {
                    if let Some(store) = store_wat(ty) {
                        body.push(format!("i32.const {} local.get {i} {store}", 16 * i));
                    }
                }
                for (i, (ret, ty)) in expected.iter().zip(&self.results).enumerate() {
                    body.push(format!(
                        "{} if i32.const {} return end",
                        mismatch_wat(ret, i as u32, ty)?,
                        i + 1
                    ));
                }
                format!(" (local {})", self.results.join(" "))
            }
        };
        body.push("i32.const 0".to_string());
        self.checks.push(format!(
            "  (func (export \"{name}\") (result i32){locals}\n    {})",
            body.join("\n    ")
        ));
        Ok(name)
    }

    /// The wrapper as wasm text.
    pub fn to_wat(&self) -> String {
        format!(
            "(module\n  (import \"test\" \"f\" {})\n  (memory (export \"m\") 1)\n{})\n",
            self.import,
            self.checks.join("\n")
        )
    }

    /// The wrapper as a binary module.
    pub fn encode(&self) -> Result<Vec<u8>, String> {
        let text = self.to_wat();
        let buf = wast::parser::ParseBuffer::new(&text).map_err(|e| e.to_string())?;
        let mut wat = wast::parser::parse::<wast::Wat<'_>>(&buf).map_err(|e| {
            let mut e = e;
            e.set_text(&text);
            e.to_string()
        })?;
        wat.encode().map_err(|e| e.to_string())
    }
}

/// The instruction storing a result's raw bits (address and value on the stack), if it has any.
fn store_wat(ty: &str) -> Option<&'static str> {
    match ty {
        "i32" => Some("i32.store"),
        "i64" => Some("i64.store"),
        "f32" => Some("i32.reinterpret_f32 i32.store"),
        "f64" => Some("i64.reinterpret_f64 i64.store"),
        "v128" => Some("v128.store"),
        _ => None,
    }
}

//! The types of a module's exports, read from its binary. The generator needs them to write a
//! wrapper module's import with exactly the type of the function or global under test, and to
//! know whether an action involves `v128` (which JS cannot pass or receive).

use std::collections::HashMap;

use wasmparser::{
    CompositeInnerType, ExternalKind, FuncType, GlobalType, Parser, Payload, TypeRef, ValType,
};

/// What an export is, as far as the harness cares.
#[derive(Clone)]
pub enum ExportType {
    Func(FuncType),
    Global(GlobalType),
    /// Tables, memories, tags: only ever reached through imports, never asserted on.
    Other,
}

/// Maps each export name of a (valid) module binary to its type.
pub fn export_types(bytes: &[u8]) -> Result<HashMap<String, ExportType>, String> {
    let err = |e: wasmparser::BinaryReaderError| e.to_string();
    let mut types: Vec<Option<FuncType>> = Vec::new();
    let mut funcs: Vec<Option<FuncType>> = Vec::new();
    let mut globals: Vec<GlobalType> = Vec::new();
    let mut exports = HashMap::new();
    let func_type =
        |types: &[Option<FuncType>], index: u32| types.get(index as usize).cloned().flatten();

    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(err)? {
            Payload::TypeSection(reader) => {
                for group in reader {
                    for sub in group.map_err(err)?.into_types() {
                        types.push(match sub.composite_type.inner {
                            CompositeInnerType::Func(f) => Some(f),
                            _ => None,
                        });
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    match import.map_err(err)?.ty {
                        TypeRef::Func(index) | TypeRef::FuncExact(index) => {
                            funcs.push(func_type(&types, index))
                        }
                        TypeRef::Global(global) => globals.push(global),
                        _ => {}
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for index in reader {
                    funcs.push(func_type(&types, index.map_err(err)?));
                }
            }
            Payload::GlobalSection(reader) => {
                for global in reader {
                    globals.push(global.map_err(err)?.ty);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(err)?;
                    let ty = match export.kind {
                        ExternalKind::Func | ExternalKind::FuncExact => funcs
                            .get(export.index as usize)
                            .cloned()
                            .flatten()
                            .map(ExportType::Func),
                        ExternalKind::Global => globals
                            .get(export.index as usize)
                            .copied()
                            .map(ExportType::Global),
                        _ => Some(ExportType::Other),
                    };
                    exports.insert(export.name.to_string(), ty.unwrap_or(ExportType::Other));
                }
            }
            _ => {}
        }
    }
    Ok(exports)
}

/// The text-format name of a value type the wrappers can handle.
pub fn val_type_text(ty: ValType) -> Result<&'static str, String> {
    Ok(match ty {
        ValType::I32 => "i32",
        ValType::I64 => "i64",
        ValType::F32 => "f32",
        ValType::F64 => "f64",
        ValType::V128 => "v128",
        ValType::Ref(r) if r == wasmparser::RefType::FUNCREF => "funcref",
        ValType::Ref(r) if r == wasmparser::RefType::EXTERNREF => "externref",
        ValType::Ref(r) => return Err(format!("reference type {r} in a wasm-checked assertion")),
    })
}

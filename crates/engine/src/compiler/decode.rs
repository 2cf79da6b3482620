//! (1) DecodeModule: walk the module's sections in order, validating each with wasmparser's
//! `Validator` and collecting the metadata of [`Module`]. Function bodies are only collected
//! here; `function_validation` checks them in parallel.

use wasmparser::{
    DataKind, ElementItems, ElementKind, ExternalKind, FuncToValidate, FunctionBody, KnownCustom,
    Name, Operator, Parser, Payload, RefType, TypeRef, ValidPayload, Validator, ValidatorResources,
};

use super::error::CompileError;
use crate::module::{
    ConstExpr, CustomSection, DataSegment, ElementSegment, Export, ExternKind, Import, ImportType,
    Module, SegmentMode,
};

/// One function body awaiting validation, with its index in the function index space.
pub(super) struct PendingBody<'a> {
    pub index: u32,
    pub func: FuncToValidate<ValidatorResources>,
    pub body: FunctionBody<'a>,
}

pub(super) struct Decoded<'a> {
    pub module: Module,
    pub bodies: Vec<PendingBody<'a>>,
    /// The first error outside function bodies, if any. Bodies before it are still checked so
    /// that the error reported is the first one in byte order, as V8 reports it.
    pub section_error: Option<CompileError>,
}

pub(super) fn decode_module(
    bytes: &[u8],
    features: wasmparser::WasmFeatures,
) -> Result<Decoded<'_>, CompileError> {
    check_header(bytes)?;
    let mut decoded = Decoded {
        module: Module::default(),
        bodies: Vec::new(),
        section_error: None,
    };
    let mut validator = Validator::new_with_features(features);
    let mut next_body_index = None;
    // The parser has features of its own (they decide e.g. how memory limits are read): give it
    // the same set as the validator, or a Wasm 2.0 module could be read as memory64 would be.
    let mut parser = Parser::new(0);
    parser.set_features(features);
    for payload in parser.parse_all(bytes) {
        let step = payload.and_then(|payload| {
            let valid = validator.payload(&payload)?;
            Ok((payload, valid))
        });
        let step = step
            .map_err(|err| CompileError::from_reader(&err))
            .and_then(|(payload, valid)| {
                record(&mut decoded.module, &payload)?;
                Ok((payload, valid))
            });
        let (payload, valid) = match step {
            Ok(step) => step,
            Err(err) => {
                decoded.section_error = Some(err);
                break;
            }
        };
        if let Payload::CodeSectionStart { .. } = payload {
            next_body_index = Some(decoded.module.num_imported_functions);
        }
        match valid {
            ValidPayload::Func(func, body) => {
                let index = next_body_index
                    .expect("the validator only yields bodies inside a code section");
                next_body_index = Some(index + 1);
                let range = body.range();
                decoded.module.bodies.push(range.start as usize..range.end as usize);
                decoded.bodies.push(PendingBody { index, func, body });
            }
            ValidPayload::End(_) => break,
            ValidPayload::Ok | ValidPayload::Parser(_) => {}
        }
    }
    Ok(decoded)
}

/// Checks the magic word and version first, so that their errors read as V8's do (wasmparser's
/// own messages for these are less helpful to a user who passed the wrong file).
fn check_header(bytes: &[u8]) -> Result<(), CompileError> {
    const MAGIC: [u8; 4] = *b"\0asm";
    const VERSION: [u8; 4] = [1, 0, 0, 0];
    let hex = |b: &[u8]| {
        b.iter()
            .map(|x| format!("{x:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let fail = |message: String, offset: u64| {
        Err(CompileError {
            message,
            offset,
            function: None,
        })
    };
    for (offset, expected, what) in [(0usize, MAGIC, "magic word"), (4, VERSION, "version")] {
        let Some(found) = bytes.get(offset..offset + 4) else {
            return fail("expected 4 bytes, fell off end".to_string(), offset as u64);
        };
        if found != expected {
            return fail(
                format!("expected {what} {}, found {}", hex(&expected), hex(found)),
                offset as u64,
            );
        }
    }
    Ok(())
}

/// Adds what `payload` declares to `module`. Errors come from reading section contents; the
/// validator has already checked them, so in practice only the name section can fail here, and
/// its errors are ignored (a malformed name section does not invalidate a module).
fn record(module: &mut Module, payload: &Payload<'_>) -> Result<(), CompileError> {
    match payload {
        Payload::TypeSection(reader) => {
            for ty in reader.clone().into_iter_err_on_gc_types() {
                module.types.push(ty?);
            }
        }
        Payload::ImportSection(reader) => {
            for import in reader.clone().into_imports() {
                let import = import?;
                let ty = match import.ty {
                    TypeRef::Func(index) | TypeRef::FuncExact(index) => {
                        module.functions.push(index);
                        module.num_imported_functions += 1;
                        ImportType::Function(index)
                    }
                    TypeRef::Table(t) => ImportType::Table(t),
                    TypeRef::Memory(m) => ImportType::Memory(m),
                    TypeRef::Global(g) => ImportType::Global(g),
                    TypeRef::Tag(t) => ImportType::Tag(t),
                };
                module.imports.push(Import {
                    module: import.module.to_string(),
                    name: import.name.to_string(),
                    ty,
                });
            }
        }
        Payload::FunctionSection(reader) => {
            for ty in reader.clone() {
                module.functions.push(ty?);
            }
        }
        Payload::TableSection(reader) => {
            for table in reader.clone() {
                module.tables.push(table?.ty);
            }
        }
        Payload::MemorySection(reader) => {
            for memory in reader.clone() {
                module.memories.push(memory?);
            }
        }
        Payload::GlobalSection(reader) => {
            for global in reader.clone() {
                let global = global?;
                module.globals.push(global.ty);
                module.global_inits.push(const_expr(&global.init_expr)?);
            }
        }
        Payload::DataSection(reader) => {
            for segment in reader.clone() {
                let segment = segment?;
                let mode = match segment.kind {
                    DataKind::Passive => SegmentMode::Passive,
                    DataKind::Active {
                        memory_index,
                        offset_expr,
                    } => SegmentMode::Active {
                        index: memory_index,
                        offset: const_expr(&offset_expr)?,
                    },
                };
                let start = segment.range.end as usize - segment.data.len();
                module.data_segments.push(DataSegment {
                    mode,
                    data: start..segment.range.end as usize,
                });
            }
        }
        Payload::ElementSection(reader) => {
            for segment in reader.clone() {
                let segment = segment?;
                let mode = match segment.kind {
                    ElementKind::Passive => SegmentMode::Passive,
                    ElementKind::Declared => SegmentMode::Declared,
                    ElementKind::Active {
                        table_index,
                        offset_expr,
                    } => SegmentMode::Active {
                        index: table_index.unwrap_or(0),
                        offset: const_expr(&offset_expr)?,
                    },
                };
                let (element_type, items) = match segment.items {
                    ElementItems::Functions(funcs) => (
                        RefType::FUNCREF,
                        funcs
                            .into_iter()
                            .map(|f| f.map(ConstExpr::RefFunc))
                            .collect::<Result<_, _>>()?,
                    ),
                    ElementItems::Expressions(ty, exprs) => (
                        ty,
                        exprs
                            .into_iter()
                            .map(|e| const_expr(&e?))
                            .collect::<Result<_, _>>()?,
                    ),
                };
                module.element_segments.push(ElementSegment {
                    mode,
                    element_type,
                    items,
                });
            }
        }
        Payload::ExportSection(reader) => {
            for export in reader.clone() {
                let export = export?;
                let kind = match export.kind {
                    ExternalKind::Func | ExternalKind::FuncExact => ExternKind::Function,
                    ExternalKind::Table => ExternKind::Table,
                    ExternalKind::Memory => ExternKind::Memory,
                    ExternalKind::Global => ExternKind::Global,
                    ExternalKind::Tag => ExternKind::Tag,
                };
                module.exports.push(Export {
                    name: export.name.to_string(),
                    kind,
                    index: export.index,
                });
            }
        }
        Payload::StartSection { func, .. } => module.start = Some(*func),
        Payload::CustomSection(reader) => {
            let start = reader.data_offset() as usize; // within `bytes`, so it fits
            module.custom_sections.push(CustomSection {
                name: reader.name().to_string(),
                data: start..start + reader.data().len(),
            });
            if let KnownCustom::Name(names) = reader.as_known() {
                record_function_names(module, names);
            }
        }
        _ => {}
    }
    Ok(())
}

/// Reads a constant expression the validator has accepted (Wasm 2.0: one constant, ref.null,
/// ref.func or global.get, then `end`).
fn const_expr(expr: &wasmparser::ConstExpr<'_>) -> Result<ConstExpr, CompileError> {
    let mut reader = expr.get_operators_reader();
    let value = match reader.read()? {
        Operator::I32Const { value } => ConstExpr::I32(value),
        Operator::I64Const { value } => ConstExpr::I64(value),
        Operator::F32Const { value } => ConstExpr::F32(value.bits()),
        Operator::F64Const { value } => ConstExpr::F64(value.bits()),
        Operator::V128Const { value } => ConstExpr::V128(u128::from_le_bytes(*value.bytes())),
        Operator::RefNull { .. } => ConstExpr::RefNull,
        Operator::RefFunc { function_index } => ConstExpr::RefFunc(function_index),
        Operator::GlobalGet { global_index } => ConstExpr::GlobalGet(global_index),
        _ => {
            let message = "unsupported constant expression".to_string();
            return Err(CompileError {
                message,
                offset: reader.original_position() as u64,
                function: None,
            });
        }
    };
    Ok(value)
}

fn record_function_names(module: &mut Module, names: wasmparser::NameSectionReader<'_>) {
    for name in names {
        let Ok(Name::Function(map)) = name else {
            continue;
        };
        for naming in map.into_iter().flatten() {
            module
                .function_names
                .entry(naming.index)
                .or_insert_with(|| naming.name.to_string());
        }
    }
}

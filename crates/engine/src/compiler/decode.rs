//! (1) DecodeModule: walk the module's sections in order, validating each with wasmparser's
//! `Validator` and collecting the metadata of [`Module`]. Function bodies are only collected
//! here; `function_validation` checks them in parallel.

use wasmparser::{
    ExternalKind, FuncToValidate, FunctionBody, KnownCustom, Name, Parser, Payload, TypeRef,
    ValidPayload, Validator, ValidatorResources,
};

use super::error::CompileError;
use crate::module::{CustomSection, Export, ExternKind, Import, ImportType, Module};

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

pub(super) fn decode_module(bytes: &[u8]) -> Result<Decoded<'_>, CompileError> {
    check_header(bytes)?;
    let mut decoded = Decoded { module: Module::default(), bodies: Vec::new(), section_error: None };
    let mut validator = Validator::new_with_features(super::features());
    let mut next_body_index = None;
    // The parser has features of its own (they decide e.g. how memory limits are read): give it
    // the same set as the validator, or a Wasm 2.0 module could be read as memory64 would be.
    let mut parser = Parser::new(0);
    parser.set_features(super::features());
    for payload in parser.parse_all(bytes) {
        let step = payload.and_then(|payload| {
            let valid = validator.payload(&payload)?;
            record(&mut decoded.module, &payload)?;
            Ok((payload, valid))
        });
        let (payload, valid) = match step {
            Ok(step) => step,
            Err(err) => {
                decoded.section_error = Some(CompileError::from_reader(&err));
                break;
            }
        };
        if let Payload::CodeSectionStart { .. } = payload {
            next_body_index = Some(decoded.module.num_imported_functions);
        }
        match valid {
            ValidPayload::Func(func, body) => {
                let index = next_body_index.expect("the validator only yields bodies inside a code section");
                next_body_index = Some(index + 1);
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
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ");
    let fail = |message: String, offset: u64| Err(CompileError { message, offset, function: None });
    for (offset, expected, what) in [(0usize, MAGIC, "magic word"), (4, VERSION, "version")] {
        let Some(found) = bytes.get(offset..offset + 4) else {
            return fail("expected 4 bytes, fell off end".to_string(), offset as u64);
        };
        if found != expected {
            return fail(format!("expected {what} {}, found {}", hex(&expected), hex(found)), offset as u64);
        }
    }
    Ok(())
}

/// Adds what `payload` declares to `module`. Errors come from reading section contents; the
/// validator has already checked them, so in practice only the name section can fail here, and
/// its errors are ignored (a malformed name section does not invalidate a module).
fn record(module: &mut Module, payload: &Payload<'_>) -> wasmparser::Result<()> {
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
                module.imports.push(Import { module: import.module.to_string(), name: import.name.to_string(), ty });
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
                module.globals.push(global?.ty);
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
                module.exports.push(Export { name: export.name.to_string(), kind, index: export.index });
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

fn record_function_names(module: &mut Module, names: wasmparser::NameSectionReader<'_>) {
    for name in names {
        let Ok(Name::Function(map)) = name else { continue };
        for naming in map.into_iter().flatten() {
            module.function_names.entry(naming.index).or_insert_with(|| naming.name.to_string());
        }
    }
}

//! (1) DecodeModule: walk the module's sections in order, validating each with wasmparser's
//! `Validator` and collecting the metadata of [`Module`]. Function bodies are only collected
//! here; `function_validation` (or a streaming job's units) checks them.
//!
//! [`Decoder`] takes the bytes as they arrive (the seed's StreamingDecoder): it decodes every
//! section as soon as it is complete and hands over each function body as soon as the code
//! section delivers it. For bytes already in memory, `function_validation::decode_and_validate`
//! makes one call to it.

use wasmparser::{
    Chunk, CompositeInnerType, DataKind, FuncType, ElementItems, ElementKind, ExternalKind, FuncToValidate, FunctionBody,
    KnownCustom, Name, Operator, Parser, Payload, RefType, TypeRef, ValidPayload, Validator,
    ValidatorResources,
};

use std::sync::Arc;

use super::error::CompileError;
use super::fast_validation::FastModule;
use crate::module::{
    ConstExpr, ConstOp, CustomSection, DataSegment, ElementSegment, Export, ExternKind, Import, ImportType,
    Module, SegmentMode, TypeInfo, TypeKind,
};

/// One function body awaiting validation, with its index in the function index space.
pub(super) struct PendingBody<'a> {
    pub index: u32,
    pub func: FuncToValidate<ValidatorResources>,
    pub body: FunctionBody<'a>,
    /// The validation fast path's view of the module, the same for every body (`None`: the
    /// features it needs are off).
    pub fast: Option<Arc<FastModule>>,
}

/// Decodes a module known to be valid (a code cache entry's, which this build validated when
/// it compiled it: see `serialize::deserialize_cached`) without wasmparser's `Validator`: the
/// sections are only read and recorded (every read is still bounds-checked by the parser, and
/// `record`'s own checks apply), and function bodies only located. Much of the validator's
/// time on a large module goes to constant expressions (a Go module has ~100,000 data
/// segments), which need no second check.
pub(super) fn decode_module_trusted(
    bytes: &[u8],
    features: wasmparser::WasmFeatures,
) -> Result<Module, CompileError> {
    check_header(bytes)?;
    let mut parser = Parser::new(0);
    parser.set_features(features);
    let mut module = Module::default();
    for payload in parser.parse_all(bytes) {
        let payload = payload.map_err(|err| CompileError::from_reader(&err))?;
        match &payload {
            // A Go module has ~100,000 data segments: read by hand (see `record_data_trusted`).
            Payload::DataSection(reader) => record_data_trusted(&mut module, bytes, reader)?,
            _ => record(&mut module, &payload)?,
        }
        match payload {
            Payload::CodeSectionEntry(body) => {
                let range = body.range();
                module.bodies.push(range.start as usize..range.end as usize);
            }
            Payload::End(_) => return Ok(module),
            _ => {}
        }
    }
    Err(CompileError::invalid("unexpected end of module".to_string(), bytes.len() as u64))
}

/// The data section of a module known to be valid (a cache entry's, or one the validator has
/// just accepted), recorded as `record` would, without
/// wasmparser's segment reader: it makes (and frees) an operator reader twice per segment, which
/// for a Go module's ~100,000 segments was most of a warm start's decoding (~25 ms of ~35 for
/// esbuild.wasm). The common offset `i32.const n; end` is read here; any other expression goes
/// through wasmparser and `const_expr`. Every read is bounds-checked: damaged bytes are an error.
fn record_data_trusted(
    module: &mut Module,
    bytes: &[u8],
    reader: &wasmparser::DataSectionReader<'_>,
) -> Result<(), CompileError> {
    let range = reader.range();
    let (start, end) = (range.start as usize, range.end as usize);
    let section = bytes.get(start..end).ok_or_else(|| CompileError::invalid("data section out of bounds", range.start))?;
    let mut r = ByteReader { bytes: section, at: 0, base: start };
    let count = r.u32()?;
    if count != reader.count() {
        return Err(r.error("data segment count"));
    }
    module.data_segments.reserve(count as usize);
    for _ in 0..count {
        let flags = r.u32()?;
        let mode = match flags {
            1 => SegmentMode::Passive,
            0 | 2 => {
                let index = if flags == 0 { 0 } else { r.u32()? };
                let offset = match r.i32_const_end() {
                    Some(value) => ConstExpr::I32(value),
                    None => {
                        let at = r.at;
                        let mut parser = wasmparser::BinaryReader::new(&section[at..], (start + at) as u64);
                        let expr: wasmparser::ConstExpr<'_> =
                            parser.read().map_err(|err| CompileError::from_reader(&err))?;
                        r.at = at + parser.current_position();
                        const_expr(&expr)?
                    }
                };
                SegmentMode::Active { index, offset }
            }
            _ => return Err(r.error("invalid flags byte in data segment")),
        };
        let len = r.u32()? as usize;
        let data = r.at..r.at.checked_add(len).filter(|&e| e <= section.len()).ok_or_else(|| r.error("data segment length"))?;
        r.at = data.end;
        module.data_segments.push(DataSegment { mode, data: start + data.start..start + data.end });
    }
    if r.at != section.len() {
        return Err(r.error("trailing bytes in the data section"));
    }
    Ok(())
}

/// A bounds-checked reader of LEB128 integers (`record_data_trusted`).
struct ByteReader<'a> {
    bytes: &'a [u8],
    at: usize,
    /// Where `bytes` start in the module (for error offsets).
    base: usize,
}

impl ByteReader<'_> {
    fn error(&self, what: &str) -> CompileError {
        CompileError::invalid(what.to_string(), (self.base + self.at) as u64)
    }

    fn u32(&mut self) -> Result<u32, CompileError> {
        let mut value: u64 = 0;
        for shift in (0..35).step_by(7) {
            let byte = *self.bytes.get(self.at).ok_or_else(|| self.error("unexpected end"))?;
            self.at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return u32::try_from(value).map_err(|_| self.error("integer too large"));
            }
        }
        Err(self.error("integer representation too long"))
    }

    /// `i32.const n; end` at the reader, consumed: `n`. Else `None`, nothing consumed.
    fn i32_const_end(&mut self) -> Option<i32> {
        let bytes = self.bytes.get(self.at..)?;
        if bytes.first() != Some(&0x41) {
            return None;
        }
        let mut value: i64 = 0;
        let mut shift = 0;
        for (i, &byte) in bytes[1..].iter().enumerate().take(5) {
            value |= i64::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                if byte & 0x40 != 0 {
                    value |= -1i64 << shift; // sign-extend
                }
                let value = i32::try_from(value).ok()?;
                // The expression must end right after the constant.
                if bytes.get(i + 2) != Some(&0x0b) {
                    return None;
                }
                self.at += i + 3;
                return Some(value);
            }
        }
        None
    }
}

/// How far a [`Decoder`] got with the input it was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Progress {
    /// Everything complete so far is decoded; the rest of the module is still to come.
    NeedMoreData,
    /// The module ended where the input did, and every section is valid.
    End,
    /// The magic word or the version is wrong: nothing was decoded.
    BadHeader(CompileError),
    /// Decoding stopped at this error outside function bodies.
    Failed(CompileError),
}

/// An incremental module decoder: sections are validated and recorded in [`Module`] as soon as
/// they are complete, and function bodies are reported one by one as the code section delivers
/// them. Given the same bytes, split anywhere, it reports the same bodies, module and error as
/// one call with all the bytes.
pub(super) struct Decoder {
    parser: Parser,
    validator: Validator,
    module: Module,
    /// How many bytes of the input the parser has consumed.
    position: usize,
    header_checked: bool,
    /// Index (function index space) of the next body of the code section.
    next_body_index: Option<u32>,
    /// Taken at the first body (every section it reads comes before the code section).
    fast: Option<Option<Arc<FastModule>>>,
    /// Set once decoding ended: every later call returns it.
    outcome: Option<Progress>,
}

impl Decoder {
    pub fn new(features: wasmparser::WasmFeatures) -> Decoder {
        // The parser has features of its own (they decide e.g. how memory limits are read):
        // give it the same set as the validator, or a Wasm 2.0 module could be read as
        // memory64 would be.
        let mut parser = Parser::new(0);
        parser.set_features(features);
        Decoder {
            parser,
            validator: Validator::new_with_features(features),
            module: Module::default(),
            position: 0,
            header_checked: false,
            next_body_index: None,
            fast: None,
            outcome: None,
        }
    }

    /// Decodes what has arrived. `bytes` is the whole input received so far, from the
    /// module's first byte (the decoder remembers how far it got: only the new bytes are
    /// read); `eof` says that nothing more will come (then the result is never
    /// `NeedMoreData`). Each function body completed by these
    /// bytes goes to `on_body`, in order, with the module as decoded so far (at a body, every
    /// section before the code section is recorded: all that translating a function needs).
    pub fn feed<'a>(
        &mut self,
        bytes: &'a [u8],
        eof: bool,
        mut on_body: impl FnMut(&Module, PendingBody<'a>),
    ) -> Progress {
        if let Some(outcome) = &self.outcome {
            return outcome.clone();
        }
        if !self.header_checked {
            // The header is checked before the parser sees it, so that its errors read as
            // V8's. A wrong magic word is known from 4 bytes, the version from 8.
            let wrong_magic = bytes.len() >= 4 && bytes[..4] != MAGIC;
            if !(eof || wrong_magic || bytes.len() >= 8) {
                return Progress::NeedMoreData;
            }
            if let Err(err) = check_header(bytes) {
                return self.end(Progress::BadHeader(err));
            }
            self.header_checked = true;
        }
        if bytes.len() > MAX_MODULE_SIZE {
            // The JS API's limit on a module's size: a CompileError (validate() false), as soon
            // as the bytes go past it.
            let message = format!("module size exceeds the limit of {MAX_MODULE_SIZE} bytes");
            let error = CompileError::invalid(message, MAX_MODULE_SIZE as u64);
            return self.end(Progress::Failed(error));
        }
        loop {
            let data = &bytes[self.position..];
            let (consumed, payload) = match self.parser.parse(data, eof) {
                Ok(Chunk::NeedMoreData(_)) if !eof => return Progress::NeedMoreData,
                // The parser reports a truncated module as an error at eof; this is a guard.
                Ok(Chunk::NeedMoreData(_)) => {
                    let offset = bytes.len() as u64;
                    let message = "unexpected end of module".to_string();
                    let error = CompileError::invalid(message, offset);
                    return self.end(Progress::Failed(error));
                }
                Ok(Chunk::Parsed { consumed, payload }) => (consumed, payload),
                Err(err) => return self.end(Progress::Failed(CompileError::from_reader(&err))),
            };
            self.position += consumed;
            let valid = match self.validator.payload(&payload) {
                Ok(valid) => valid,
                Err(err) => return self.end(Progress::Failed(CompileError::from_reader(&err))),
            };
            let recorded = match &payload {
                // Valid by now (the validator has seen it): read by hand, as a cache entry's is.
                Payload::DataSection(reader) => record_data_trusted(&mut self.module, bytes, reader),
                _ => record(&mut self.module, &payload),
            };
            if let Err(err) = recorded {
                return self.end(Progress::Failed(err));
            }
            if let Payload::CodeSectionStart { .. } = payload {
                self.next_body_index = Some(self.module.num_imported_functions);
            }
            match valid {
                ValidPayload::Func(mut func, body) => {
                    // Bodies are validated without GC: the module's validator has it for
                    // recursion groups and subtyping, but its instructions and heap types
                    // need a GC runtime, so they stay invalid in code.
                    func.features.remove(wasmparser::WasmFeatures::GC);
                    let index = self
                        .next_body_index
                        .expect("the validator only yields bodies inside a code section");
                    self.next_body_index = Some(index + 1);
                    let range = body.range();
                    self.module
                        .bodies
                        .push(range.start as usize..range.end as usize);
                    let fast = self
                        .fast
                        .get_or_insert_with(|| FastModule::new(&func.resources, func.features).map(Arc::new))
                        .clone();
                    on_body(&self.module, PendingBody { index, func, body, fast });
                }
                ValidPayload::End(_) => return self.end(Progress::End),
                ValidPayload::Ok | ValidPayload::Parser(_) => {}
            }
        }
    }

    fn end(&mut self, outcome: Progress) -> Progress {
        self.outcome = Some(outcome.clone());
        outcome
    }

    /// The module as decoded so far.
    pub fn module(&self) -> &Module {
        &self.module
    }

    pub fn into_module(self) -> Module {
        self.module
    }
}

const MAGIC: [u8; 4] = *b"\0asm";

/// The largest module the JS API allows (1 GiB; "Implementation-defined Limits").
pub(super) const MAX_MODULE_SIZE: usize = 1 << 30;

/// Checks the magic word and version first, so that their errors read as V8's do (wasmparser's
/// own messages for these are less helpful to a user who passed the wrong file).
fn check_header(bytes: &[u8]) -> Result<(), CompileError> {
    const VERSION: [u8; 4] = [1, 0, 0, 0];
    let hex = |b: &[u8]| {
        b.iter()
            .map(|x| format!("{x:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let fail = |message: String, offset: u64| {
        Err(CompileError::invalid(message, offset))
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
        Payload::TypeSection(reader) => record_types(module, reader)?,
        Payload::ImportSection(reader) => {
            for import in reader.clone().into_imports_with_offsets() {
                let (offset, import) = import?;
                match import.ty {
                    TypeRef::Table(t) => no_gc_ref(t.element_type, offset)?,
                    TypeRef::Global(g) => no_gc_type(g.content_type, offset)?,
                    _ => {}
                }
                let ty = match import.ty {
                    TypeRef::Func(index) | TypeRef::FuncExact(index) => {
                        module.functions.push(index);
                        module.num_imported_functions += 1;
                        ImportType::Function(index)
                    }
                    TypeRef::Table(t) => ImportType::Table(t),
                    TypeRef::Memory(m) => ImportType::Memory(m),
                    TypeRef::Global(g) => ImportType::Global(g),
                    TypeRef::Tag(t) => {
                        module.tags.push(t.func_type_idx);
                        ImportType::Tag(t)
                    }
                };
                module.imports.push(Import {
                    module: import.module.to_string(),
                    name: import.name.to_string(),
                    ty,
                });
            }
        }
        Payload::TagSection(reader) => {
            for tag in reader.clone() {
                module.tags.push(tag?.func_type_idx);
            }
        }
        Payload::FunctionSection(reader) => {
            for ty in reader.clone() {
                module.functions.push(ty?);
            }
        }
        Payload::TableSection(reader) => {
            for table in reader.clone().into_iter_with_offsets() {
                let (offset, table) = table?;
                no_gc_ref(table.ty.element_type, offset)?;
                module.tables.push(table.ty);
                module.table_inits.push(match &table.init {
                    wasmparser::TableInit::RefNull => ConstExpr::RefNull,
                    wasmparser::TableInit::Expr(expr) => const_expr(expr)?,
                });
            }
        }
        Payload::MemorySection(reader) => {
            for memory in reader.clone() {
                module.memories.push(memory?);
            }
        }
        Payload::GlobalSection(reader) => {
            for global in reader.clone().into_iter_with_offsets() {
                let (offset, global) = global?;
                no_gc_type(global.ty.content_type, offset)?;
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
            for segment in reader.clone().into_iter_with_offsets() {
                let (offset, segment) = segment?;
                if let ElementItems::Expressions(ty, _) = &segment.items {
                    no_gc_ref(*ty, offset)?;
                }
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

/// Records the types of a type section with their recursion groups and declared supertypes.
/// References to the abstract GC heap types in function types are a CompileError here (the
/// validator accepts them, as it must to have recursion groups and subtyping).
fn record_types(module: &mut Module, reader: &wasmparser::TypeSectionReader<'_>) -> Result<(), CompileError> {
    for group in reader.clone() {
        let group = group?;
        let group_start = module.types.len() as u32;
        let group_len = group.types().len() as u32;
        for (offset, sub) in group.into_types_and_offsets() {
            let index = module.types.len() as u32;
            let (kind, func) = match sub.composite_type.inner {
                CompositeInnerType::Func(func) => {
                    for ty in func.params().iter().chain(func.results()) {
                        no_gc_type(*ty, offset)?;
                    }
                    (TypeKind::Func, func)
                }
                // Declared only: their values could only come from GC instructions, which
                // function bodies and constant expressions refuse.
                CompositeInnerType::Struct(s) => {
                    module.aggregate_fields.insert(index, s.fields);
                    (TypeKind::Struct, FuncType::new([], []))
                }
                CompositeInnerType::Array(a) => {
                    module.aggregate_fields.insert(index, Box::new([a.0]));
                    (TypeKind::Array, FuncType::new([], []))
                }
                CompositeInnerType::Cont(_) => {
                    return Err(gc_unsupported("continuation types", offset));
                }
            };
            let supertype = sub.supertype_idxs.first().and_then(|i| i.as_module_index());
            let is_final = sub.is_final;
            module.type_info.push(TypeInfo { group_start, group_len, supertype, is_final, kind });
            module.types.push(func);
        }
    }
    Ok(())
}

fn gc_unsupported(what: &str, offset: u64) -> CompileError {
    CompileError::unsupported(format!("GC is not supported: {what}"), offset)
}

/// Fails for a reference to a heap type only GC has values of (`any`, `eq`, `i31`, `struct`,
/// `array`, `none`); `nofunc` and `noextern` are the null references of function and extern
/// references, which cranewasm has.
fn no_gc_ref(r: RefType, offset: u64) -> Result<(), CompileError> {
    use wasmparser::{AbstractHeapType as A, HeapType};
    match r.heap_type() {
        HeapType::Abstract { ty: A::Any | A::Eq | A::I31 | A::Struct | A::Array | A::None, .. } => {
            Err(gc_unsupported(&format!("reference type {r:?}"), offset))
        }
        _ => Ok(()),
    }
}

fn no_gc_type(ty: wasmparser::ValType, offset: u64) -> Result<(), CompileError> {
    match ty {
        wasmparser::ValType::Ref(r) => no_gc_ref(r, offset),
        _ => Ok(()),
    }
}

/// Reads a constant expression the validator has accepted: one constant, `ref.null`, `ref.func`
/// or `global.get`, or (extended constant expressions) a sequence of those and integer
/// `add`/`sub`/`mul`, then `end`.
fn const_expr(expr: &wasmparser::ConstExpr<'_>) -> Result<ConstExpr, CompileError> {
    let mut reader = expr.get_operators_reader();
    // Nearly every expression is one constant (a Go module has ~100,000 data segments, each
    // with an `i32.const` offset): the first operator is kept aside, and a Vec is made only
    // for a second one.
    let mut first: Option<ConstOp> = None;
    let mut ops = Vec::new();
    loop {
        let offset = reader.original_position() as u64;
        let op = match reader.read()? {
            Operator::End => break,
            Operator::I32Const { value } => ConstOp::Push(ConstExpr::I32(value)),
            Operator::I64Const { value } => ConstOp::Push(ConstExpr::I64(value)),
            Operator::F32Const { value } => ConstOp::Push(ConstExpr::F32(value.bits())),
            Operator::F64Const { value } => ConstOp::Push(ConstExpr::F64(value.bits())),
            Operator::V128Const { value } => {
                ConstOp::Push(ConstExpr::V128(u128::from_le_bytes(*value.bytes())))
            }
            Operator::RefFunc { function_index } => ConstOp::Push(ConstExpr::RefFunc(function_index)),
            Operator::GlobalGet { global_index } => ConstOp::Push(ConstExpr::GlobalGet(global_index)),
            Operator::I32Add => ConstOp::I32Add,
            Operator::I32Sub => ConstOp::I32Sub,
            Operator::I32Mul => ConstOp::I32Mul,
            Operator::I64Add => ConstOp::I64Add,
            Operator::I64Sub => ConstOp::I64Sub,
            Operator::I64Mul => ConstOp::I64Mul,
            Operator::RefNull { hty } => {
                no_gc_ref(RefType::new(true, hty).unwrap_or(RefType::FUNCREF), offset)?;
                ConstOp::Push(ConstExpr::RefNull)
            }
            Operator::RefI31
            | Operator::StructNew { .. }
            | Operator::StructNewDefault { .. }
            | Operator::ArrayNew { .. }
            | Operator::ArrayNewDefault { .. }
            | Operator::ArrayNewFixed { .. }
            | Operator::AnyConvertExtern
            | Operator::ExternConvertAny => {
                return Err(gc_unsupported("GC instructions in constant expressions", offset));
            }
            _ => {
                return Err(CompileError::unsupported("unsupported constant expression", offset));
            }
        };
        if ops.is_empty() && first.is_none() {
            first = Some(op);
        } else {
            ops.extend(first.take());
            ops.push(op);
        }
    }
    // `first` is left only when there was a single operator.
    Ok(match first {
        Some(ConstOp::Push(value)) => value,
        Some(op) => ConstExpr::Extended(vec![op].into()),
        None => ConstExpr::Extended(ops.into()),
    })
}

fn record_function_names(module: &mut Module, names: wasmparser::NameSectionReader<'_>) {
    for name in names {
        if let Ok(Name::Module { name, .. }) = &name {
            module.module_name.get_or_insert_with(|| name.to_string());
            continue;
        }
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

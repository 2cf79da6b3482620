//! Decoded module metadata: what a module imports, exports and carries, shared by every
//! instance and every JS object that refers to the module. Immutable once built.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use wasmparser::{FuncType, GlobalType, MemoryType, TableType, TagType};

/// The kind of an import or export, spelled as the JS API spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExternKind {
    Function,
    Table,
    Memory,
    Global,
    Tag,
}

impl ExternKind {
    /// The `kind` string of `WebAssembly.Module.imports()` / `exports()` descriptors.
    pub fn as_str(self) -> &'static str {
        match self {
            ExternKind::Function => "function",
            ExternKind::Table => "table",
            ExternKind::Memory => "memory",
            ExternKind::Global => "global",
            ExternKind::Tag => "tag",
        }
    }
}

/// The type of one import, as declared by the module.
#[derive(Clone, Debug)]
pub enum ImportType {
    /// Index into [`Module::types`].
    Function(u32),
    Table(TableType),
    Memory(MemoryType),
    Global(GlobalType),
    Tag(TagType),
}

impl ImportType {
    pub fn kind(&self) -> ExternKind {
        match self {
            ImportType::Function(_) => ExternKind::Function,
            ImportType::Table(_) => ExternKind::Table,
            ImportType::Memory(_) => ExternKind::Memory,
            ImportType::Global(_) => ExternKind::Global,
            ImportType::Tag(_) => ExternKind::Tag,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Import {
    pub module: String,
    pub name: String,
    pub ty: ImportType,
}

#[derive(Clone, Debug)]
pub struct Export {
    pub name: String,
    pub kind: ExternKind,
    /// Index into the index space of `kind` (imports first, then definitions).
    pub index: u32,
}

#[derive(Clone, Debug)]
pub struct CustomSection {
    pub name: String,
    /// Byte range of the section's payload (after its name) within [`Module::bytes`].
    pub data: Range<usize>,
}

/// A constant expression (global initializers, segment offsets, element items): one constant,
/// or, with extended constant expressions, a short stack program.
#[derive(Clone, Debug, PartialEq)]
pub enum ConstExpr {
    I32(i32),
    I64(i64),
    /// Bits of an f32.
    F32(u32),
    /// Bits of an f64.
    F64(u64),
    V128(u128),
    RefNull,
    RefFunc(u32),
    /// The value of an (imported, or earlier immutable) global.
    GlobalGet(u32),
    /// An extended constant expression: the operators in order, evaluated on a stack (validated:
    /// they leave exactly one value).
    Extended(Arc<[ConstOp]>),
}

/// One operator of an extended constant expression.
#[derive(Clone, Debug, PartialEq)]
pub enum ConstOp {
    /// Pushes a plain constant (never `Extended`).
    Push(ConstExpr),
    I32Add,
    I32Sub,
    I32Mul,
    I64Add,
    I64Sub,
    I64Mul,
}

#[derive(Clone, Debug)]
pub enum SegmentMode {
    Passive,
    Active {
        index: u32,
        offset: ConstExpr,
    },
    /// Element segments only: declares functions for ref.func, dropped at instantiation.
    Declared,
}

#[derive(Clone, Debug)]
pub struct DataSegment {
    pub mode: SegmentMode,
    /// Byte range of the segment's contents within [`Module::bytes`].
    pub data: Range<usize>,
}

#[derive(Clone, Debug)]
pub struct ElementSegment {
    pub mode: SegmentMode,
    pub element_type: wasmparser::RefType,
    pub items: Vec<ConstExpr>,
}

/// What WebAssembly 3.0 declares about a function type besides its signature: its recursion
/// group (`rec`) and its place in the declared subtyping (`sub`, `sub final`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypeInfo {
    /// Index of the first type of the type's recursion group.
    pub group_start: u32,
    /// Number of types in that group.
    pub group_len: u32,
    /// The declared supertype's index, if any.
    pub supertype: Option<u32>,
    /// Whether no type may declare this one as its supertype.
    pub is_final: bool,
    pub kind: TypeKind,
}

/// What a defined type describes. Struct and array types may be declared (and referenced, by
/// references that can only be null: no instruction that makes their values is accepted), so
/// that recursion groups mixing them with function types keep their meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TypeKind {
    Func,
    Struct,
    Array,
}

impl TypeInfo {
    /// A plain `(type (func …))`: final, alone in its group, without a supertype.
    pub fn plain(index: u32) -> TypeInfo {
        TypeInfo { group_start: index, group_len: 1, supertype: None, is_final: true, kind: TypeKind::Func }
    }
}

/// A validated module's metadata, in declaration order. Built by [`crate::compile`].
#[derive(Clone, Debug, Default)]
pub struct Module {
    /// The module's bytes, copied when compilation started.
    pub bytes: Arc<[u8]>,
    /// Function types of the type section, by type index.
    pub types: Vec<FuncType>,
    /// Recursion group and declared supertype of each type, parallel to `types` (a type
    /// without an entry is final, without a supertype, alone in its group). Struct and array
    /// types have an empty function type in `types` and their fields here.
    pub type_info: Vec<TypeInfo>,
    /// The fields of each struct type (one, the element, for an array type), by type index.
    pub aggregate_fields: HashMap<u32, Box<[wasmparser::FieldType]>>,
    pub imports: Vec<Import>,
    pub exports: Vec<Export>,
    pub custom_sections: Vec<CustomSection>,
    /// Type index of every function in the function index space (imported ones first).
    pub functions: Vec<u32>,
    pub num_imported_functions: u32,
    /// Tables, memories and globals defined (not imported) by the module.
    pub tables: Vec<TableType>,
    /// The initial element of each defined table: `ref.null` unless the table has an
    /// initializer expression (typed function references).
    pub table_inits: Vec<ConstExpr>,
    /// The canonical signature ids of `types`, computed on first use by the runtime's registry
    /// (`Module::type_ids`, defined in `runtime::signatures`).
    pub canonical_type_ids: std::sync::OnceLock<Arc<[u32]>>,
    pub memories: Vec<MemoryType>,
    pub globals: Vec<GlobalType>,
    /// Initializers of the defined globals, parallel to `globals`.
    pub global_inits: Vec<ConstExpr>,
    pub data_segments: Vec<DataSegment>,
    pub element_segments: Vec<ElementSegment>,
    pub start: Option<u32>,
    /// Function names from the `name` custom section, when present and well formed.
    pub function_names: HashMap<u32, String>,
    /// The module's name from the `name` custom section, when present and well formed.
    pub module_name: Option<String>,
    /// The module's script URL in stack traces, made on first use (`runtime::frames`).
    pub script_url: std::sync::OnceLock<String>,
    /// Byte range within [`Module::bytes`] of each defined function's body (its locals and
    /// code, without the size that precedes it), by defined index: what lazy compilation and
    /// tier-up compile from.
    pub bodies: Vec<Range<usize>>,
    /// The function type index of every tag in the tag index space (imported ones first).
    pub tags: Vec<u32>,
}

impl Module {
    /// Group and supertype of type `index` ([`TypeInfo::plain`] when the module did not record
    /// one).
    pub fn type_info(&self, index: u32) -> TypeInfo {
        self.type_info.get(index as usize).copied().unwrap_or(TypeInfo::plain(index))
    }

    /// Payloads of every custom section called `name`, in module order.
    pub fn custom_sections_named<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.custom_sections
            .iter()
            .filter(move |s| s.name == name)
            .map(move |s| &self.bytes[s.data.clone()])
    }

    /// The body of defined function `defined` (index among the defined functions), to
    /// compile.
    pub fn body(&self, defined: u32) -> Option<wasmparser::FunctionBody<'_>> {
        let range = self.bodies.get(defined as usize)?.clone();
        let reader = wasmparser::BinaryReader::new(self.bytes.get(range.clone())?, range.start as u64);
        Some(wasmparser::FunctionBody::new(reader))
    }

    /// The function's name as the name section gives it, if any.
    pub fn function_name(&self, index: u32) -> Option<&str> {
        self.function_names.get(&index).map(String::as_str)
    }
}

impl Module {
    /// Imports of one kind, in order: their position is their index in that index space.
    fn imported<'a, T: 'a>(
        &'a self,
        pick: impl Fn(&'a ImportType) -> Option<T> + 'a,
    ) -> impl Iterator<Item = T> + 'a {
        self.imports.iter().filter_map(move |i| pick(&i.ty))
    }

    /// Type of function `index` of the function index space.
    pub fn func_type(&self, index: u32) -> &FuncType {
        &self.types[self.functions[index as usize] as usize]
    }

    /// Entry `index` of an index space: imports of that kind first, then `defined`.
    fn index_space<T: Copy>(&self, index: u32, pick: impl Fn(&ImportType) -> Option<T>, defined: &[T]) -> Option<T> {
        let mut imported = 0usize;
        for ty in self.imports.iter().filter_map(|i| pick(&i.ty)) {
            if imported == index as usize {
                return Some(ty);
            }
            imported += 1;
        }
        defined.get(index as usize - imported).copied()
    }

    /// Type of global `index` (imported globals first).
    pub fn global_type(&self, index: u32) -> GlobalType {
        let pick = |t: &ImportType| if let ImportType::Global(x) = t { Some(*x) } else { None };
        self.index_space(index, pick, &self.globals).expect("validated global index")
    }

    /// Type of table `index` (imported tables first).
    pub fn table_type(&self, index: u32) -> TableType {
        let pick = |t: &ImportType| if let ImportType::Table(x) = t { Some(*x) } else { None };
        self.index_space(index, pick, &self.tables).expect("validated table index")
    }

    /// Type of memory `index` (imported memories first).
    pub fn memory_type(&self, index: u32) -> Option<MemoryType> {
        let pick = |t: &ImportType| if let ImportType::Memory(x) = t { Some(*x) } else { None };
        self.index_space(index, pick, &self.memories)
    }

    pub fn num_imported_globals(&self) -> u32 {
        self.imported(|t| matches!(t, ImportType::Global(_)).then_some(()))
            .count() as u32
    }

    pub fn num_imported_tables(&self) -> u32 {
        self.imported(|t| matches!(t, ImportType::Table(_)).then_some(()))
            .count() as u32
    }

    pub fn num_globals(&self) -> u32 {
        self.num_imported_globals() + self.globals.len() as u32
    }

    pub fn num_tables(&self) -> u32 {
        self.num_imported_tables() + self.tables.len() as u32
    }

    pub fn num_imported_memories(&self) -> u32 {
        self.imported(|t| matches!(t, ImportType::Memory(_)).then_some(()))
            .count() as u32
    }

    pub fn num_memories(&self) -> u32 {
        self.num_imported_memories() + self.memories.len() as u32
    }

    pub fn num_imported_tags(&self) -> u32 {
        self.imported(|t| matches!(t, ImportType::Tag(_)).then_some(()))
            .count() as u32
    }

    /// The parameter types of tag `index` (its function type's; tags have no results).
    pub fn tag_type(&self, index: u32) -> Option<&FuncType> {
        self.tags
            .get(index as usize)
            .and_then(|&ty| self.types.get(ty as usize))
    }

    /// The vmctx layout of this module's instances.
    pub fn offsets(&self) -> crate::vmoffsets::VMOffsets {
        crate::vmoffsets::VMOffsets {
            num_imported_functions: self.num_imported_functions,
            num_memories: self.num_memories(),
            num_tables: self.num_tables(),
            num_globals: self.num_globals(),
            num_functions: self.functions.len() as u32,
        }
    }
}

//! Instances and the order they are built in, after the seed's `InstanceBuilder::Build`:
//! check and bind imports, create memories, globals (evaluating their initializers) and tables,
//! lay out the vmctx, apply element then data segments (Wasm 2.0 bounds rules: an out-of-bounds
//! segment traps, after the earlier ones were applied), and hand back the instance; the caller
//! runs the start function (`Instance::start`), so that it runs under the same trap catcher as
//! every other call from the host.

use std::cell::Cell;
use std::sync::Arc;

use wasmparser::{FuncType, GlobalType, MemoryType, RefType, TableType, ValType};

use super::exceptions::Tag;
use super::global::Global;
use super::memory::{LinearMemory, PAGE_SIZE};
use super::sandbox::Sandbox;
use super::signatures::{canon, canon_ref, is_subtype, matches};
use super::table::Table;
use super::traps::{self, Trap};
use crate::module::{ConstExpr, ConstOp, ImportType, Module, SegmentMode};
use crate::trap::TrapKind;
use crate::vmoffsets::{func_ref, function_import, memory_import, vmctx, VMOffsets};

pub use super::func::{
    func_ref_owner, Function, FunctionOwner, HostCallback, HostDataDrop, HostFunction, VMFuncRef,
    VMHostFuncContext,
};
use super::func::{register_func_refs, unregister_func_refs, WeakOwner};
pub use super::module_info::ModuleRuntimeInfo;

impl Drop for Instance {
    fn drop(&mut self) {
        unregister_func_refs(self.vmctx_ptr() as usize + self.offsets.func_refs() as usize);
    }
}

/// An external value: what imports take and exports give.
#[derive(Clone)]
pub enum Extern {
    Function(Function),
    Table(Arc<Table>),
    Memory(Arc<LinearMemory>),
    Global(Arc<Global>),
    Tag(Arc<Tag>),
}

/// Why instantiation failed.
#[derive(Debug)]
pub enum InstantiationError {
    /// An import does not match what the module declares: (import index, reason).
    Link(u32, String),
    /// An imported memory's or table's limits do not fit the module's: the whole message, which
    /// names the import by index as V8 words it ("memory import 2 is smaller than initial 1,
    /// got 0").
    Limits(String),
    /// A segment was out of bounds or the start function trapped.
    Trap(Trap),
    /// A sandbox's limit does not allow the instance (a `RangeError` in JS).
    ResourceLimit(String),
    /// Resources could not be allocated.
    Resource(String),
    /// A 32-bit memory of the instance (imported, or defined when no guard reservation could be
    /// had) has no guard reservation, so it needs the module's code compiled with bounds checks
    /// (`CompileOptions::bounds_checks`); instantiate again with that code.
    NeedsBoundsChecks,
}

/// The vmctx storage: 16-byte aligned words.
struct VMContextStorage(Box<[u128]>);

pub struct Instance {
    /// The module's code (the compiler's, behind the runtime's interface).
    code: Arc<dyn ModuleRuntimeInfo>,
    /// The module (`code.module()`, kept here so that no call path goes through the vtable).
    module: Arc<Module>,
    offsets: VMOffsets,
    vmctx: VMContextStorage,
    /// Every memory, imported ones first (the memory index space).
    memories: Vec<Arc<LinearMemory>>,
    tables: Vec<Arc<Table>>,
    globals: Vec<Arc<Global>>,
    /// The tag index space: imported tags, then one new tag per defined tag.
    tags: Vec<Arc<Tag>>,
    /// Imported functions, kept alive for as long as this instance can call them.
    imported_functions: Vec<Function>,
    dropped_data: Vec<Cell<bool>>,
    dropped_elements: Vec<Cell<bool>>,
    /// The sandbox the instance belongs to (counted in its instance limit while it lives).
    sandbox: Option<SandboxSlot>,
}

/// An instance's place in its sandbox's instance count, given back on drop.
struct SandboxSlot(Arc<Sandbox>);

impl Drop for SandboxSlot {
    fn drop(&mut self) {
        self.0.remove_instance();
    }
}

// SAFETY: an instance is created, run and dropped on one thread, even with threads (several
// threads running code of one module on one shared memory), so its interior mutability (the
// `Cell`s, the vmctx that its code writes) is never touched by two threads:
// - the JS API gives no way to move an instance, or a table, global, tag or function of one, to
//   another thread (postMessage and structuredClone throw DataCloneError on them, as V8 does;
//   __test__/workers-clone.test.js checks it); a Module sent to a Worker is instantiated there
//   anew, and what its instances share with ours is immutable (`Module`) or made for threads:
//   the code and its compilation state (`compiler::tiering`: a `OnceLock` per function, atomic
//   tiers and table entries, installs under a lock, published code never freed while the
//   module lives) and shared `LinearMemory`s (growth under a lock, the length atomic);
// - the one process-wide structure that names instances, `func::FUNC_REFS`, holds `Weak`s, and
//   `func_ref_owner` upgrades one only for a funcref address the calling thread stores, which
//   it can only have had from its own instances: funcrefs live in tables, globals, locals and
//   exceptions, never in linear memory, the only storage threads share.
// Send and Sync are claimed so that `Arc<Instance>` and those `Weak`s may sit in `Sync`
// structures; dropping a `Weak` on another thread touches only the reference counts.
unsafe impl Send for Instance {}
// SAFETY: as above.
unsafe impl Sync for Instance {}

fn value_bits(expr: &ConstExpr, globals: &[Arc<Global>], func_ref: &dyn Fn(u32) -> usize) -> u128 {
    match expr {
        ConstExpr::I32(v) => *v as u32 as u128,
        ConstExpr::I64(v) => *v as u64 as u128,
        ConstExpr::F32(bits) => *bits as u128,
        ConstExpr::F64(bits) => *bits as u128,
        ConstExpr::V128(v) => *v,
        ConstExpr::RefNull => 0,
        ConstExpr::RefFunc(index) => func_ref(*index) as u128,
        ConstExpr::GlobalGet(index) => globals[*index as usize].get(),
        ConstExpr::Extended(ops) => {
            // Validated: every operator finds its operands, and one value is left.
            let mut stack: Vec<u128> = Vec::with_capacity(4);
            for op in ops.iter() {
                let value = match op {
                    ConstOp::Push(value) => value_bits(value, globals, func_ref),
                    binary => {
                        let (b, a) = (stack.pop().unwrap_or(0), stack.pop().unwrap_or(0));
                        let (a32, b32, a64, b64) = (a as u32, b as u32, a as u64, b as u64);
                        match binary {
                            ConstOp::I32Add => a32.wrapping_add(b32) as u128,
                            ConstOp::I32Sub => a32.wrapping_sub(b32) as u128,
                            ConstOp::I32Mul => a32.wrapping_mul(b32) as u128,
                            ConstOp::I64Add => a64.wrapping_add(b64) as u128,
                            ConstOp::I64Sub => a64.wrapping_sub(b64) as u128,
                            _ => a64.wrapping_mul(b64) as u128,
                        }
                    }
                };
                stack.push(value);
            }
            stack.pop().unwrap_or(0)
        }
    }
}

impl Instance {
    pub fn module(&self) -> &Arc<Module> {
        &self.module
    }

    /// Memory `index` of the memory index space.
    pub fn memory(&self, index: u32) -> Option<&Arc<LinearMemory>> {
        self.memories.get(index as usize)
    }

    pub fn table(&self, index: u32) -> &Arc<Table> {
        &self.tables[index as usize]
    }

    pub fn global(&self, index: u32) -> &Arc<Global> {
        &self.globals[index as usize]
    }

    /// Tag `index` of the instance's tag index space.
    pub fn tag(&self, index: u32) -> Option<&Arc<Tag>> {
        self.tags.get(index as usize)
    }

    fn vmctx_ptr(&self) -> *mut u8 {
        self.vmctx.0.as_ptr() as *mut u8
    }

    /// The code this is an instance of.
    pub fn code(&self) -> &Arc<dyn ModuleRuntimeInfo> {
        &self.code
    }

    /// Address of the `VMFuncRef` of function `index`, inside the vmctx.
    fn func_ref_ptr(&self, index: u32) -> *mut VMFuncRef {
        // SAFETY: func_ref(index) is within the vmctx allocation for index < num_functions.
        unsafe { self.vmctx_ptr().add(self.offsets.func_ref(index) as usize) as *mut VMFuncRef }
    }

    pub(crate) fn func_ref_index(&self, func_ref: *const VMFuncRef) -> u32 {
        let base = self.vmctx_ptr() as usize + self.offsets.func_refs() as usize;
        ((func_ref as usize - base) / func_ref::SIZE as usize) as u32
    }

    /// Function `index` of this instance's function index space (imported ones are the imported
    /// functions themselves, so identity is preserved across re-exports).
    pub fn function(self: &Arc<Self>, index: u32) -> Function {
        match self.imported_functions.get(index as usize) {
            Some(f) => f.clone(),
            None => Function {
                func_ref: self.func_ref_ptr(index),
                owner: FunctionOwner::Instance(self.clone()),
            },
        }
    }

    /// The instance owning `vmctx`.
    ///
    /// # Safety
    /// `vmctx` must be the vmctx of a live instance (as passed to libcalls by generated code).
    pub unsafe fn from_vmctx<'a>(vmctx: *mut u8) -> &'a Instance {
        // SAFETY: the INSTANCE field was set to the owning instance, which outlives its code's
        // activations (per the contract).
        unsafe { &*(*(vmctx.add(vmctx::INSTANCE as usize) as *const *const Instance)) }
    }

    /// Builds an instance of `module` with `imports` (one per import, in order), applying its
    /// segments. The start function is not run: call [`Instance::start`].
    pub fn new(
        code: Arc<dyn ModuleRuntimeInfo>,
        imports: Vec<Extern>,
    ) -> Result<Arc<Instance>, InstantiationError> {
        Instance::new_in(code, imports, None)
    }

    /// [`Instance::new`] for `sandbox`, whose limits then govern the instance. The code must
    /// be compiled for the sandbox (metered if the sandbox is).
    pub fn new_in(
        code: Arc<dyn ModuleRuntimeInfo>,
        imports: Vec<Extern>,
        sandbox: Option<&Arc<Sandbox>>,
    ) -> Result<Arc<Instance>, InstantiationError> {
        // (0) The sandbox's instance limit.
        let sandbox = match sandbox {
            Some(sandbox) => {
                if code.metered() != sandbox.metered() {
                    return Err(InstantiationError::Resource(
                        "the module's code was not compiled for this sandbox".into(),
                    ));
                }
                if !sandbox.add_instance() {
                    let limit = sandbox.limits().instances.unwrap_or(0);
                    return Err(InstantiationError::ResourceLimit(format!(
                        "the sandbox's instance limit ({limit}) is reached"
                    )));
                }
                Some(SandboxSlot(sandbox.clone()))
            }
            None => None,
        };
        // The budgets the instance's own memories and tables draw from.
        let budgets = sandbox
            .as_ref()
            .map(|slot| slot.0.budgets_for_instance())
            .unwrap_or_default();
        let info = code.module().clone();
        let type_ids = code.type_ids();
        let offsets = info.offsets();
        if imports.len() != info.imports.len() {
            return Err(InstantiationError::Link(
                imports.len() as u32,
                "wrong number of imports".into(),
            ));
        }
        // (1) Check and bind imports.
        let mut imported_functions = Vec::new();
        let mut tables = Vec::new();
        let mut globals = Vec::new();
        let mut memories = Vec::new();
        let mut tags = Vec::new();
        for (index, (import, value)) in info.imports.iter().zip(imports).enumerate() {
            let link = |reason: String| InstantiationError::Link(index as u32, reason);
            match (&import.ty, value) {
                (ImportType::Function(ty), Extern::Function(f)) => {
                    // A function of a declared subtype of the import's type matches too.
                    if !is_subtype(f.type_id(), type_ids[*ty as usize]) {
                        return Err(link(
                            "imported function does not match the expected type".into(),
                        ));
                    }
                    imported_functions.push(f);
                }
                (ImportType::Table(ty), Extern::Table(t)) => {
                    // V8's order: the limits, then the element type.
                    check_table_limits(index, ty, &t).map_err(InstantiationError::Limits)?;
                    if t.canonical_element() != canon_ref(ty.element_type, type_ids)
                        || t.is_64() != ty.table64
                    {
                        return Err(link("imported table does not match the expected type".into()));
                    }
                    tables.push(t);
                }
                (ImportType::Memory(ty), Extern::Memory(m)) => {
                    if m.is_64() != ty.memory64 {
                        return Err(link("imported memory does not match the expected address type".into()));
                    }
                    check_memory_limits(index, ty, &m).map_err(InstantiationError::Limits)?;
                    if m.is_shared() != ty.shared {
                        // V8's message, without the import's name (as for the limits).
                        return Err(InstantiationError::Limits(format!(
                            "mismatch in shared state of memory, declared = {}, imported = {}",
                            u8::from(ty.shared),
                            u8::from(m.is_shared())
                        )));
                    }
                    memories.push(m);
                }
                (ImportType::Global(ty), Extern::Global(g)) => {
                    check_global_import(ty, type_ids, &g).map_err(link)?;
                    globals.push(g);
                }
                (ImportType::Tag(ty), Extern::Tag(tag)) => {
                    let expected = type_ids.get(ty.func_type_idx as usize);
                    if expected != Some(&tag.type_id()) {
                        return Err(link("imported tag does not match the expected type".into()));
                    }
                    tags.push(tag);
                }
                (expected, _) => {
                    return Err(link(format!(
                        "{} import requires a {}",
                        expected.kind().as_str(),
                        expected.kind().as_str()
                    )))
                }
            }
        }
        // (2) Memories: bounds-checked code gets ones without a guard reservation (address
        // space for their size only); other code guarded ones, unless none can be had. A
        // sandbox's memory limit counts them all: their initial sizes together must fit.
        if let Some(budget) = &budgets.memory {
            let bytes = info
                .memories
                .iter()
                .fold(0u64, |sum, ty| sum.saturating_add(ty.initial.saturating_mul(PAGE_SIZE)));
            if !budget.fits(bytes) {
                return Err(InstantiationError::ResourceLimit(format!(
                    "the sandbox's memory limit ({} bytes) does not allow memories of {bytes} bytes",
                    budget.limit()
                )));
            }
        }
        for ty in &info.memories {
            let guard = !code.bounds_checked();
            let m = LinearMemory::create_with(ty.initial, ty.maximum, ty.memory64, ty.shared, guard, budgets.memory.clone())
                .map_err(InstantiationError::Resource)?;
            memories.push(Arc::new(m));
        }
        // Code without bounds checks relies on the guard of every 32-bit memory (64-bit ones
        // are checked by all code).
        if !code.bounds_checked() && memories.iter().any(|m| !m.is_guarded() && !m.is_64()) {
            return Err(InstantiationError::NeedsBoundsChecks);
        }
        // (3) The vmctx, so that ref.func in initializers can point into it.
        let words = (offsets.size() as usize).div_ceil(16);
        let mut instance = Instance {
            code: code.clone(),
            module: info.clone(),
            offsets,
            vmctx: VMContextStorage(vec![0u128; words].into_boxed_slice()),
            memories,
            tables: Vec::new(),
            globals: Vec::new(),
            tags,
            imported_functions,
            dropped_data: info
                .data_segments
                .iter()
                .map(|_| Cell::new(false))
                .collect(),
            dropped_elements: info
                .element_segments
                .iter()
                .map(|_| Cell::new(false))
                .collect(),
            sandbox,
        };
        // Defined tags: each instance's are new (distinct from every other instance's).
        let num_imported_tags = info.num_imported_tags() as usize;
        for &ty in &info.tags[num_imported_tags.min(info.tags.len())..] {
            let type_id = type_ids[ty as usize];
            let ty = info.types.get(ty as usize).cloned().unwrap_or_else(|| FuncType::new([], []));
            instance.tags.push(Tag::new(ty, type_id));
        }
        // (4) Globals, with initializers over imported globals and function references.
        for (ty, init) in info.globals.iter().zip(&info.global_inits) {
            let bits = value_bits(init, &globals, &|f| instance.func_ref_ptr(f) as usize);
            globals.push(Arc::new(Global::with_type_ids(*ty, bits, info.type_ids())));
        }
        // (5) Tables.
        let mut table_inits = Vec::with_capacity(info.tables.len());
        for (ty, init) in info.tables.iter().zip(&info.table_inits) {
            let init = value_bits(init, &globals, &|f| instance.func_ref_ptr(f) as usize) as usize;
            table_inits.push(init);
            if let Some(budget) = budgets.tables.as_ref().filter(|b| !b.fits(ty.initial)) {
                return Err(InstantiationError::ResourceLimit(format!(
                    "the sandbox's table limit ({} elements) does not allow a table of {} elements",
                    budget.limit(),
                    ty.initial
                )));
            }
            let table = Table::with_budget(ty.element_type, ty.initial, ty.maximum, init, budgets.tables.clone())
                .map_err(InstantiationError::Resource)?
                .with_type_ids(info.type_ids())
                .with_table64(ty.table64);
            tables.push(Arc::new(table));
        }
        instance.globals = globals;
        instance.tables = tables;
        instance.write_vmctx();
        let instance = Arc::new(instance);
        let start = instance.vmctx_ptr() as usize + offsets.func_refs() as usize;
        let end = start + offsets.num_functions as usize * func_ref::SIZE as usize;
        register_func_refs(start, end, WeakOwner::Instance(Arc::downgrade(&instance)));
        // Defined globals initialized with function references hold them from now on.
        for global in &instance.globals[info.num_imported_globals() as usize..] {
            global.stored(global.get());
        }
        // So do defined tables filled with one by their initializer expression.
        let defined_tables = &instance.tables[info.num_imported_tables() as usize..];
        for (table, init) in defined_tables.iter().zip(table_inits) {
            if init != 0 && !table.is_empty() {
                table.stored(init);
            }
        }
        // (6) Segments: elements, then data, in order; a trap leaves earlier ones applied.
        instance
            .apply_segments()
            .map_err(|kind| InstantiationError::Trap(Trap { kind, pc: 0 }))?;
        Ok(instance)
    }

    fn write_vmctx(&mut self) {
        let base = self.vmctx_ptr();
        let offsets = self.offsets;
        let write = |offset: u32, value: usize| {
            // SAFETY: every offset written below lies inside the vmctx allocation (VMOffsets
            // computes them for this module) and is 8-byte aligned.
            unsafe { *(base.add(offset as usize) as *mut usize) = value };
        };
        write(vmctx::RUNTIME_LIMITS, traps::runtime_limits() as usize);
        for (i, m) in self.memories.iter().enumerate() {
            let at = offsets.memory(i as u32);
            write(at + memory_import::DEFINITION, m.definition() as usize);
            // Only a guarded memory's base is fixed; code never reads this one of another.
            let base = if m.is_guarded() { m.base() as usize } else { 0 };
            write(at + memory_import::BASE, base);
        }
        write(vmctx::CODE_TABLE, self.code.code_table() as usize);
        write(vmctx::TYPE_IDS, self.code.type_ids().as_ptr() as usize);
        write(vmctx::TIERING_BUDGETS, self.code.tiering_budgets() as usize);
        write(vmctx::BUILTINS, super::libcalls::builtins() as usize);
        write(vmctx::INSTANCE, self as *const Instance as usize);
        for (i, f) in self.imported_functions.iter().enumerate() {
            // SAFETY: the imported function's funcref is alive (kept in imported_functions).
            let r = unsafe { &*f.func_ref() };
            let at = offsets.imported_function(i as u32);
            write(at + function_import::CODE, r.code as usize);
            write(at + function_import::VMCTX, r.vmctx as usize);
        }
        for (i, t) in self.tables.iter().enumerate() {
            write(offsets.table(i as u32), t.definition() as usize);
        }
        for (i, g) in self.globals.iter().enumerate() {
            write(offsets.global(i as u32), g.cell() as usize);
        }
        let info = &self.module;
        for index in 0..offsets.num_functions {
            let (code, callee_vmctx, type_id) = match self.imported_functions.get(index as usize) {
                // SAFETY: as above.
                Some(f) => unsafe {
                    (
                        (*f.func_ref()).code,
                        (*f.func_ref()).vmctx,
                        (*f.func_ref()).type_id,
                    )
                },
                None => {
                    let defined = (index - info.num_imported_functions) as usize;
                    let ty = info.functions[index as usize] as usize;
                    (
                        self.code.entry(defined as u32),
                        base,
                        self.code.type_ids()[ty],
                    )
                }
            };
            // SAFETY: func_ref_ptr(index) is inside the vmctx and suitably aligned.
            unsafe {
                self.func_ref_ptr(index).write(VMFuncRef {
                    code,
                    vmctx: callee_vmctx,
                    type_id,
                    _padding: 0,
                })
            };
        }
    }

    /// Patches the instance pointer once the instance has its final address (inside the Arc).
    fn fix_instance_pointer(self: &Arc<Self>) {
        // SAFETY: INSTANCE is inside the vmctx; nothing runs this instance's code yet.
        unsafe {
            *(self.vmctx_ptr().add(vmctx::INSTANCE as usize) as *mut usize) =
                Arc::as_ptr(self) as usize
        };
    }

    fn apply_segments(self: &Arc<Self>) -> Result<(), TrapKind> {
        self.fix_instance_pointer();
        let info = self.module.clone();
        for (index, segment) in info.element_segments.iter().enumerate() {
            match &segment.mode {
                SegmentMode::Active {
                    index: table,
                    offset,
                } => {
                    let offset = value_bits(offset, &self.globals, &|_| 0);
                    let offset = if self.tables[*table as usize].is_64() { offset as u64 } else { offset as u32 as u64 };
                    let len = segment.items.len() as u32;
                    self.table_init(*table, index as u32, offset, 0, len)?;
                    self.dropped_elements[index].set(true);
                }
                SegmentMode::Declared => self.dropped_elements[index].set(true),
                SegmentMode::Passive => {}
            }
        }
        for (index, segment) in info.data_segments.iter().enumerate() {
            if let SegmentMode::Active { index: memory, offset } = &segment.mode {
                // An i32 offset is zero-extended, an i64 one taken whole.
                let offset = value_bits(offset, &self.globals, &|_| 0);
                let is_64 = self.memories.get(*memory as usize).is_some_and(|m| m.is_64());
                let offset = if is_64 { offset as u64 } else { offset as u32 as u64 };
                let len = segment.data.len() as u32;
                self.memory_init(*memory, index as u32, offset, 0, len)
                    .map_err(|_| TrapKind::DataSegmentOutOfBounds)?;
                self.dropped_data[index].set(true);
            }
        }
        Ok(())
    }

    /// Runs the start function, if any.
    /// The sandbox the instance belongs to.
    pub fn sandbox(&self) -> Option<&Arc<Sandbox>> {
        self.sandbox.as_ref().map(|slot| &slot.0)
    }

    pub fn start(self: &Arc<Self>) -> Result<(), Trap> {
        let Some(start) = self.module.start else {
            return Ok(());
        };
        let function = self.function(start);
        let trampolines = self.code.trampolines(function.ty()).map_err(|_| Trap {
            kind: TrapKind::Unreachable,
            pc: 0,
        })?;
        let mut values = [0u128; 1];
        // SAFETY: the start function takes and returns nothing; one slot is enough.
        unsafe { function.call(&trampolines, &mut values) }
    }

    // ---- Operations shared by instantiation and libcalls --------------------------------

    fn element_value(self: &Instance, expr: &ConstExpr) -> usize {
        value_bits(expr, &self.globals, &|f| self.func_ref_ptr(f) as usize) as usize
    }

    pub fn table_init(
        &self,
        table: u32,
        segment: u32,
        dst: u64,
        src: u32,
        len: u32,
    ) -> Result<(), TrapKind> {
        let info = &self.module;
        let items: &[ConstExpr] = if self.dropped_elements[segment as usize].get() {
            &[]
        } else {
            &info.element_segments[segment as usize].items
        };
        let table = &self.tables[table as usize];
        if dst.checked_add(len as u64).is_none_or(|end| end > table.len()) {
            return Err(TrapKind::TableOutOfBounds);
        }
        if src as u64 + len as u64 > items.len() as u64 {
            return Err(TrapKind::ElementSegmentOutOfBounds);
        }
        for i in 0..len {
            let value = self.element_value(&items[(src + i) as usize]);
            table
                .set(dst + i as u64, value)
                .map_err(|_| TrapKind::TableOutOfBounds)?;
            table.stored(value);
        }
        Ok(())
    }

    pub fn elem_drop(&self, segment: u32) {
        self.dropped_elements[segment as usize].set(true);
    }

    pub fn memory_init(
        &self,
        memory: u32,
        segment: u32,
        dst: u64,
        src: u32,
        len: u32,
    ) -> Result<(), TrapKind> {
        let info = &self.module;
        let range = info.data_segments[segment as usize].data.clone();
        let data: &[u8] = if self.dropped_data[segment as usize].get() {
            &[]
        } else {
            &info.bytes[range]
        };
        let Some(memory) = self.memories.get(memory as usize) else {
            return Err(TrapKind::MemoryOutOfBounds);
        };
        // SAFETY: no other view of the memory's bytes is live during this host operation.
        let bytes = unsafe { memory.bytes_mut() };
        let src_end = src as u64 + len as u64;
        let dst_end = dst.saturating_add(len as u64);
        if src_end > data.len() as u64 || dst_end > bytes.len() as u64 {
            return Err(TrapKind::MemoryOutOfBounds);
        }
        let (target, source) = (
            &mut bytes[dst as usize..dst_end as usize],
            &data[src as usize..src_end as usize],
        );
        super::interrupts::in_chunks(len as usize, false, |at, n| {
            target[at..at + n].copy_from_slice(&source[at..at + n])
        })
    }

    pub fn data_drop(&self, segment: u32) {
        self.dropped_data[segment as usize].set(true);
    }

}

/// V8's checks and messages for an imported table's limits.
fn check_table_limits(index: usize, expected: &TableType, table: &Table) -> Result<(), String> {
    if table.len() < expected.initial {
        return Err(format!(
            "table import {index} is smaller than initial {}, got {}",
            expected.initial,
            table.len()
        ));
    }
    if let Some(declared) = expected.maximum {
        match table.declared_maximum() {
            None => {
                return Err(format!(
                    "table import {index} has no maximum length, expected {declared}"
                ))
            }
            // V8 prints the imported maximum in hexadecimal.
            Some(max) if max > declared => {
                return Err(format!(
                    "table import {index} has a larger maximum size {max:x} than the module's declared maximum {declared}"
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// V8's checks and messages for an imported memory's limits.
fn check_memory_limits(
    index: usize,
    expected: &MemoryType,
    memory: &LinearMemory,
) -> Result<(), String> {
    let pages = memory.byte_length() / PAGE_SIZE;
    if pages < expected.initial {
        return Err(format!(
            "memory import {index} is smaller than initial {}, got {pages}",
            expected.initial
        ));
    }
    if let Some(declared) = expected.maximum {
        match memory.declared_maximum() {
            // V8 prints the imported maximum, -1 for none, as an unsigned number.
            None => {
                return Err(format!(
                    "memory import {index} has no maximum limit, expected at most {}",
                    u32::MAX
                ))
            }
            Some(max) if max > declared => {
                return Err(format!(
                    "memory import {index} has a larger maximum size {max} than the module's declared maximum {declared}"
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Immutable globals match by subtyping, mutable ones by equality (as the spec's import
/// matching says).
fn check_global_import(expected: &GlobalType, ids: &[u32], global: &Global) -> Result<(), String> {
    let expected_type = canon(expected.content_type, ids);
    let type_ok = if expected.mutable {
        global.canonical_type() == expected_type
    } else {
        matches(global.canonical_type(), expected_type)
    };
    if !type_ok || global.ty.mutable != expected.mutable {
        return Err("imported global does not match the expected type or mutability".into());
    }
    Ok(())
}

/// The default value bits of a value type (zero for every Wasm 2.0 type).
pub fn default_bits(_ty: ValType) -> u128 {
    0
}

/// Whether `ty` is a reference type whose values are funcrefs (`VMFuncRef` addresses): `func`,
/// `nofunc` and concrete function types, nullable or not.
pub fn is_funcref(ty: RefType) -> bool {
    use wasmparser::{AbstractHeapType, HeapType};
    match ty.heap_type() {
        HeapType::Abstract { ty, .. } => matches!(ty, AbstractHeapType::Func | AbstractHeapType::NoFunc),
        HeapType::Concrete(_) | HeapType::Exact(_) => true,
    }
}

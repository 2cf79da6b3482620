//! Runs translated code without the runtime: compiles every function of a module, maps the code
//! executable with `region`, and builds by hand the structures a `VMContext` points to (runtime
//! limits with no stack limit, memory 0 of its minimum size, global cells, tables, a code table
//! and type ids). Imports and libcalls are not linked, and traps cannot be caught here: tests
//! only run code that needs none of them.

use std::collections::HashMap;
use std::sync::Arc;

use cranelift_codegen::ir::{
    types, AbiParam, Function, InstBuilder, MemFlagsData, Signature, UserFuncName,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use wasmparser::FuncType;

use super::{function_bodies, wat_to_wasm};
use crate::compiler::codegen::{compile_function, isa, Tier};
use crate::module::Module;
use crate::translate::{translate_function, value_type, wasm_signature};
use crate::vmoffsets::{
    func_ref, memory_definition, memory_import, table_definition, vmctx, VMOffsets, VALUE_SLOT,
};

// Memory and table definitions are built as `[pointer, length]` pairs.
const _: () = assert!(
    memory_definition::BASE == 0
        && memory_definition::LENGTH == 8
        && table_definition::ELEMENTS == 0
        && table_definition::LENGTH == 8
        && VALUE_SLOT == 16
);

const PAGE: usize = 65536;

/// `trampoline(code, vmctx, values)`: calls `code` with the arguments in `values` (16-byte
/// slots) and writes its results back there.
type Trampoline = extern "sysv64" fn(usize, *mut u8, *mut u128);

/// A module compiled at one tier with a hand-built instance around it. Everything the vmctx
/// points to is owned here and never moves (boxed), so the pointers stay valid while it lives.
pub struct Instance {
    pub module: Arc<Module>,
    offsets: VMOffsets,
    tier: Tier,
    /// Keeps the executable code (functions and trampolines) mapped.
    code: Vec<region::Allocation>,
    code_table: Box<[usize]>,
    /// u128 elements: the vmctx must be 16-byte aligned.
    vmctx: Box<[u128]>,
    limits: Box<u64>,
    memory: Box<[u8]>,
    memory_definition: Box<[u64; 2]>,
    globals: Box<[[u64; 2]]>,
    type_ids: Box<[u32]>,
    tables: Vec<Table>,
    /// Trampolines by type index.
    trampolines: HashMap<u32, Trampoline>,
}

impl Instance {
    /// Compiles a module written in the text format; panics on any failure.
    pub fn new(wat: &str, tier: Tier) -> Instance {
        Instance::from_wasm(&wat_to_wasm(wat), tier).unwrap()
    }

    /// Compiles `bytes`; an error says why the harness cannot run the module.
    pub fn from_wasm(bytes: &[u8], tier: Tier) -> Result<Instance, String> {
        let module = crate::compiler::compile_with_features(bytes, crate::compiler::features_with_simd()).map_err(|e| e.to_string())?;
        if !module.imports.is_empty() {
            return Err("imports are not linked".into());
        }
        let memory_pages = module.memory_type(0).map_or(0, |m| m.initial as usize);
        if memory_pages > 256 {
            return Err("memory too large for the harness".into());
        }
        let offsets = module.offsets();

        let mut code = Vec::new();
        let mut code_table = Vec::new();
        for (index, body) in function_bodies(bytes, 0) {
            let func = translate_function(&module, index, &body).map_err(|e| e.to_string())?;
            let start = map_code(&mut code, func, tier)?;
            code_table.push(start);
        }

        // Structurally equal types share a canonical id, as the runtime's registry makes them.
        let type_ids: Box<[u32]> = (0..module.types.len())
            .map(|i| canonical_id(&module.types, i))
            .collect();
        let limits = Box::new(0u64); // stack limit 0: the prologue check never fires
                                     // One spare byte so that even an empty memory has a distinct address.
        let mut memory = vec![0u8; memory_pages * PAGE + 1].into_boxed_slice();
        let memory_definition =
            Box::new([memory.as_mut_ptr() as u64, (memory_pages * PAGE) as u64]);
        let globals = vec![[0u64; 2]; offsets.num_globals as usize].into_boxed_slice();
        let tables: Vec<Table> = (0..offsets.num_tables)
            .map(|t| {
                let length = module.table_type(t).initial as usize;
                let mut elements = vec![0u64; length].into_boxed_slice();
                Table {
                    definition: Box::new([elements.as_mut_ptr() as u64, length as u64]),
                    elements,
                }
            })
            .collect();

        let mut instance = Instance {
            module,
            offsets,
            tier,
            code,
            code_table: code_table.into_boxed_slice(),
            vmctx: vec![0u128; (offsets.size() as usize).div_ceil(16)].into_boxed_slice(),
            limits,
            memory,
            memory_definition,
            globals,
            type_ids,
            tables,
            trampolines: HashMap::new(),
        };
        instance.fill_vmctx();
        Ok(instance)
    }

    fn fill_vmctx(&mut self) {
        let words = [
            (vmctx::RUNTIME_LIMITS, &*self.limits as *const u64 as u64),
            // Generated code writes memory, global cells and table elements: pointers to them
            // come from mutable borrows.
            (vmctx::CODE_TABLE, self.code_table.as_ptr() as u64),
            (vmctx::TYPE_IDS, self.type_ids.as_ptr() as u64),
            (vmctx::BUILTINS, crate::runtime::libcalls::builtins() as u64),
        ];
        for (offset, value) in words {
            self.write_u64(offset, value);
        }
        if self.offsets.num_memories > 0 {
            let at = self.offsets.memory(0);
            let (base, definition) = (self.memory.as_mut_ptr() as u64, self.memory_definition.as_ptr() as u64);
            self.write_u64(at + memory_import::DEFINITION, definition);
            self.write_u64(at + memory_import::BASE, base);
        }
        for t in 0..self.offsets.num_tables {
            let definition = self.tables[t as usize].definition.as_ptr() as u64;
            self.write_u64(self.offsets.table(t), definition);
        }
        for g in 0..self.offsets.num_globals {
            let cell = self.globals[g as usize].as_mut_ptr() as u64;
            self.write_u64(self.offsets.global(g), cell);
        }
        let vmctx_address = self.vmctx_ptr() as u64;
        for f in 0..self.offsets.num_functions {
            let base = self.offsets.func_ref(f);
            let type_id = self.type_ids[self.module.functions[f as usize] as usize];
            self.write_u64(base + func_ref::CODE, self.code_table[f as usize] as u64);
            self.write_u64(base + func_ref::VMCTX, vmctx_address);
            self.write_u64(base + func_ref::TYPE_ID, u64::from(type_id));
        }
    }

    /// Writes a little-endian u64 field of the vmctx.
    fn write_u64(&mut self, offset: u32, value: u64) {
        let bytes = u128s_as_bytes(&mut self.vmctx);
        bytes[offset as usize..offset as usize + 8].copy_from_slice(&value.to_le_bytes());
    }

    pub fn vmctx_ptr(&self) -> *mut u8 {
        self.vmctx.as_ptr() as *mut u8
    }

    /// The function index of export `name`, if it is a function.
    pub fn exported_function(&self, name: &str) -> Option<u32> {
        self.module
            .exports
            .iter()
            .find(|e| e.name == name && e.kind == crate::module::ExternKind::Function)
            .map(|e| e.index)
    }

    /// The global index of export `name`, if it is a global.
    pub fn exported_global(&self, name: &str) -> Option<u32> {
        self.module
            .exports
            .iter()
            .find(|e| e.name == name && e.kind == crate::module::ExternKind::Global)
            .map(|e| e.index)
    }

    /// The code of the exported function `name`, as a function pointer of type `F`.
    ///
    /// # Safety
    /// `F` must be an `extern "sysv64" fn(*mut u8, …)` whose parameters and results match the
    /// export's wasm type under the wasm calling convention, and it must only be called while
    /// `self` lives, with `self.vmctx_ptr()` as its first argument.
    // SAFETY: the contract above is the caller's.
    pub unsafe fn export<F: Copy>(&self, name: &str) -> F {
        assert_eq!(std::mem::size_of::<F>(), std::mem::size_of::<usize>());
        let index = self
            .exported_function(name)
            .unwrap_or_else(|| panic!("no exported function {name}"));
        let code = self.code_table[index as usize];
        // SAFETY: `F` is a function pointer type (the caller's contract), the same size as
        // `usize`, and `code` is the start of that function's executable code.
        unsafe { std::mem::transmute_copy::<usize, F>(&code) }
    }

    /// Calls function `index` with `args` (one 16-byte slot each, low bytes first) through a
    /// trampoline and returns its results the same way. The function must not trap, call an
    /// import or need a libcall.
    pub fn call(&mut self, index: u32, args: &[u128]) -> Result<Vec<u128>, String> {
        let type_index = self.module.functions[index as usize];
        let ty = self.module.types[type_index as usize].clone();
        if args.len() != ty.params().len() {
            return Err(format!(
                "{} arguments for {} parameters",
                args.len(),
                ty.params().len()
            ));
        }
        let trampoline = match self.trampolines.get(&type_index) {
            Some(trampoline) => *trampoline,
            None => {
                let start = map_code(&mut self.code, trampoline_function(&ty), self.tier)?;
                // SAFETY: `start` is the executable code of a function compiled from
                // `trampoline_function`, whose Cranelift signature is `Trampoline`'s: three i64
                // parameters, no results, System V.
                let trampoline = unsafe { std::mem::transmute::<usize, Trampoline>(start) };
                self.trampolines.insert(type_index, trampoline);
                trampoline
            }
        };
        let mut values = vec![0u128; args.len().max(ty.results().len())];
        values[..args.len()].copy_from_slice(args);
        trampoline(
            self.code_table[index as usize],
            self.vmctx_ptr(),
            values.as_mut_ptr(),
        );
        values.truncate(ty.results().len());
        Ok(values)
    }

    pub fn memory(&mut self) -> &mut [u8] {
        let length = self.memory_definition[1] as usize;
        &mut self.memory[..length]
    }

    /// The 16-byte cell of global `index`.
    pub fn global(&mut self, index: u32) -> &mut [u64; 2] {
        &mut self.globals[index as usize]
    }

    /// The `*const VMFuncRef` of function `index`, as a table element.
    pub fn func_ref(&self, index: u32) -> u64 {
        self.vmctx_ptr() as u64 + u64::from(self.offsets.func_ref(index))
    }

    pub fn table_elements(&mut self, table: u32) -> &mut [u64] {
        &mut self.tables[table as usize].elements
    }
}

/// A table's `VMTableDefinition` (`[elements, length]`) and its element storage.
struct Table {
    definition: Box<[u64; 2]>,
    elements: Box<[u64]>,
}

/// Compiles `func` for `tier`, maps it executable and keeps the mapping in `code`; returns the
/// code's address.
fn map_code(
    code: &mut Vec<region::Allocation>,
    func: Function,
    tier: Tier,
) -> Result<usize, String> {
    cranelift_codegen::verify_function(&func, isa(tier)).map_err(|e| e.to_string())?;
    let compiled = compile_function(func, tier)?;
    let mut allocation = region::alloc(compiled.code.len(), region::Protection::READ_WRITE)
        .map_err(|e| e.to_string())?;
    let start = allocation.as_mut_ptr::<u8>();
    // SAFETY: the allocation is at least `code.len()` bytes, writable, and fresh, so it overlaps
    // nothing; after the copy it is made executable and never written again.
    unsafe {
        std::ptr::copy_nonoverlapping(compiled.code.as_ptr(), start, compiled.code.len());
        region::protect(start, compiled.code.len(), region::Protection::READ_EXECUTE)
            .map_err(|e| e.to_string())?;
    }
    code.push(allocation);
    Ok(start as usize)
}

/// The IR of a [`Trampoline`] for functions of type `ty`.
fn trampoline_function(ty: &FuncType) -> Function {
    let mut sig = Signature::new(CallConv::SystemV);
    sig.params.extend([AbiParam::new(types::I64); 3]);
    let mut func = Function::with_name_signature(UserFuncName::default(), sig);
    let mut context = FunctionBuilderContext::new();
    let mut builder = FunctionBuilder::new(&mut func, &mut context);
    let block = builder.create_block();
    builder.append_block_params_for_function_params(block);
    builder.switch_to_block(block);
    builder.seal_block(block);
    let [code, callee_vmctx, values] = builder.block_params(block).try_into().unwrap();
    let flags = MemFlagsData::trusted();
    let mut args = vec![callee_vmctx];
    for (i, param) in ty.params().iter().enumerate() {
        args.push(
            builder
                .ins()
                .load(value_type(*param), flags, values, (i * 16) as i32),
        );
    }
    let callee_sig = builder.import_signature(wasm_signature(ty));
    let call = builder.ins().call_indirect(callee_sig, code, &args);
    let results = builder.inst_results(call).to_vec();
    for (i, result) in results.into_iter().enumerate() {
        builder.ins().store(flags, result, values, (i * 16) as i32);
    }
    builder.ins().return_(&[]);
    builder.finalize(isa(Tier::Baseline).frontend_config());
    func
}

/// The bytes of the vmctx buffer.
fn u128s_as_bytes(words: &mut [u128]) -> &mut [u8] {
    let len = std::mem::size_of_val(words);
    // SAFETY: u128 has no padding and every byte pattern is a valid u8; the slice covers exactly
    // the memory of `words` and borrows it mutably for as long as the result lives.
    unsafe { std::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u8>(), len) }
}

/// The index of the first type equal to type `index`.
fn canonical_id(types: &[FuncType], index: usize) -> u32 {
    types
        .iter()
        .position(|t| *t == types[index])
        .unwrap_or(index) as u32
}

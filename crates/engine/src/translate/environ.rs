//! Every access generated code makes to the `VMContext` and the structures it points to, and
//! every call out of generated code (other functions, libcalls). The layout comes from
//! [`crate::vmoffsets`]; no other translator file knows an offset.
//!
//! Loads of fields that stay fixed for an instance's lifetime are `readonly`, so the optimizing
//! tier can hoist and merge them; fields that change while code runs (memory length, table
//! length and storage, code table entries, global values) are plain loads.

use std::collections::HashMap;

use cranelift_codegen::ir::{
    condcodes::IntCC, types, AliasRegion, AliasRegionData, Endianness, GlobalValueData,
    InstBuilder, MemFlags, MemFlagsData, SigRef, Signature, Value,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, Variable};
use wasmparser::{GlobalType, MemoryType, Operator, TableType};

use crate::libcall::LibCall;
use crate::module::Module;
use crate::trap::TrapKind;
use crate::vmoffsets::{
    func_ref, function_import, memory_definition, memory_import, runtime_limits, table_definition,
    vmctx, VMOffsets,
};

/// A VM structure field that never changes while the instance lives: it cannot fault
/// (`notrap`), is naturally aligned, no store of the function can change it (`readonly`), and
/// it is always dereferenceable, so the optimizer may hoist it out of loops (`can_move`).
const FIXED: MemFlagsData = MemFlagsData::trusted().with_readonly().with_can_move();
/// A VM structure field that other code (the runtime, other instances) may change.
const VARIABLE: MemFlagsData = MemFlagsData::trusted();

/// Alias regions (user ids) of the function's memory accesses: linear memory, and the memory
/// definition's base and length. Accesses of one region do not change what another holds, so
/// the optimizer reuses a read of the bounds across stores to linear memory, until a call.
const HEAP_REGION: u32 = 1;
const MEMORY_BOUNDS_REGION: u32 = 2;

fn alias_region(builder: &mut FunctionBuilder<'_>, user_id: u32, description: &'static str) -> AliasRegion {
    builder
        .func
        .dfg
        .alias_regions
        .insert(AliasRegionData { user_id, description: description.into() })
}

/// Flags of a wasm linear-memory access: little-endian as wasm requires, possibly unaligned,
/// and faulting out of bounds; the trap code puts the faulting PC in the trap table. Linear
/// memory is its own alias region (no VM structure lies in it).
pub(super) fn heap_flags(builder: &mut FunctionBuilder<'_>) -> MemFlagsData {
    MemFlagsData::new()
        .with_alias_region(Some(alias_region(builder, HEAP_REGION, "linear memory")))
        .with_endianness(Endianness::Little)
        .with_trap_code(Some(TrapKind::MemoryOutOfBounds.code()))
}

/// The absolute address generated code calls `call` at.

/// What one function's translation knows about its module and its `vmctx`.
pub(crate) struct FuncEnvironment<'m> {
    pub module: &'m Module,
    offsets: VMOffsets,
    /// The function's `vmctx` parameter.
    vmctx: Value,
    /// How the function reaches each memory it accesses, by memory index (`None` for the
    /// memories it does not load from or store to).
    memories: Vec<Option<MemoryReach>>,
    /// Imported signatures, by wasm type index and by libcall.
    signatures: HashMap<u32, SigRef>,
    libcall_signatures: HashMap<LibCall, SigRef>,
    /// `Module::global_type` and `table_type` scan the imports; ask once per function.
    global_types: HashMap<u32, GlobalType>,
    table_types: HashMap<u32, TableType>,
    /// Dynamic tier-up: this function's defined index and what one call or loop iteration
    /// charges its budget; `None` when the code has no budget (optimized code, or a policy
    /// other than dynamic).
    tiering: Option<(u32, i32)>,
    /// Whether loop headers check for interrupts.
    interrupt_checks: bool,
    interrupt_signature: Option<SigRef>,
    /// Fuel counting, in metered code.
    fuel: Option<Fuel>,
}

/// How generated code reaches one memory for its loads and stores.
#[derive(Clone, Copy)]
enum MemoryReach {
    /// A guarded 32-bit memory in code without bounds checks: its base, loaded once in the
    /// entry block (it never moves); a 32-bit address plus a 32-bit offset stays inside the
    /// reservation and its guard, so accesses are not checked.
    Guarded { base: Value },
    /// Checked accesses (bounds-checked code, and every 64-bit memory, whose addresses no guard
    /// region can cover): variables holding the memory's base and byte length, read from its
    /// definition at entry and again after every call (anything that may grow or move the
    /// memory is a call), so that loops keep them in registers.
    Checked { base: Variable, length: Variable },
}

/// How an access reaches memory: [`FuncEnvironment::memory_reach`].
pub(crate) enum MemoryBounds {
    Guarded { base: Value },
    Checked { base: Value, length: Value },
}

/// Whether memory `index` is in a [`super::Shape::accessed_memories`] mask (bit 63 stands for
/// every memory from 63 on).
pub(crate) fn mask_has(mask: u64, index: u32) -> bool {
    mask & (1u64 << index.min(63)) != 0
}

/// The fuel count of metered code (see `runtime::sandbox`). The thread's fuel cell holds fuel
/// consumed minus fuel available; a function keeps what it consumed since its entry in a
/// variable (`delta`): operators add their cost to it at the end of each straight-line run (the
/// run's cost, counted at translation), it is added to the cell when the function returns (or
/// traps with `unreachable`), and function entries and loop headers stop the code once cell plus
/// delta is positive. Calls leave the delta alone, so that the count is no chain of stores and
/// loads through memory across calls (a count saved and reloaded around every call made small
/// recursive functions twice as slow); callees do not see their callers' pending deltas, so each
/// frame on the stack may overshoot the budget by what it consumed so far. Both tiers translate
/// alike, so a call consumes the same fuel at either.
struct Fuel {
    /// Fuel consumed since the function's entry (i64), not yet added to the cell.
    delta: Variable,
    /// Cost of the operators translated since the last flush into `delta`.
    pending: i64,
}

impl<'m> FuncEnvironment<'m> {
    /// Sets up the environment while `builder` is in the entry block: loads the memory base and
    /// installs the stack-limit check of the prologue.
    pub fn new(
        module: &'m Module,
        func_index: u32,
        builder: &mut FunctionBuilder<'_>,
        vmctx_value: Value,
        options: super::TranslateOptions,
        accessed_memories: u64,
    ) -> Result<Self, String> {
        let tiering = options
            .tiering_cost
            .map(|cost| (func_index.saturating_sub(module.num_imported_functions), cost));
        // The prologue traps with STACK_OVERFLOW when sp would go below
        // `(*vmctx.runtime_limits).stack_limit`.
        let fixed = intern(builder, FIXED)?;
        let variable = intern(builder, VARIABLE)?;
        let vmctx_gv = builder.create_global_value(GlobalValueData::VMContext);
        let limits = builder.create_global_value(GlobalValueData::Load {
            base: vmctx_gv,
            offset: offset(vmctx::RUNTIME_LIMITS).into(),
            global_type: types::I64,
            flags: fixed,
        });
        let stack_limit = builder.create_global_value(GlobalValueData::Load {
            base: limits,
            offset: offset(runtime_limits::STACK_LIMIT).into(),
            global_type: types::I64,
            flags: variable,
        });
        builder.func.stack_limit = Some(stack_limit);

        let offsets = module.offsets();
        // Only the memories the function loads from or stores to get a base or bounds (an
        // access to another fails to translate, never goes unchecked). Checked code reads the
        // base from the definition (the memory may move): at entry and after each call; the copy
        // in the vmctx is only for guarded memories.
        let memories = (0..module.num_memories())
            .map(|index| {
                if !mask_has(accessed_memories, index) {
                    return None;
                }
                let memory64 = module.memory_type(index).is_some_and(|m| m.memory64);
                Some(if options.bounds_checks || memory64 {
                    MemoryReach::Checked {
                        base: builder.declare_var(types::I64),
                        length: builder.declare_var(types::I64),
                    }
                } else {
                    let at = offsets.memory(index) + memory_import::BASE;
                    MemoryReach::Guarded {
                        base: builder.ins().load(types::I64, FIXED, vmctx_value, offset(at)),
                    }
                })
            })
            .collect();
        let environment = FuncEnvironment {
            module,
            offsets,
            vmctx: vmctx_value,
            memories,
            signatures: HashMap::new(),
            libcall_signatures: HashMap::new(),
            global_types: HashMap::new(),
            table_types: HashMap::new(),
            tiering,
            interrupt_checks: options.interrupt_checks,
            interrupt_signature: None,
            fuel: options.fuel.then(|| Fuel {
                delta: builder.declare_var(types::I64),
                pending: 0,
            }),
        };
        environment.reload_memory_bounds(builder);
        Ok(environment)
    }

    // ---- what every function does on entry and at every loop header ----

    /// The function's entry, after the prologue (whose stack check is also the interrupt check
    /// of the entry: see `runtime::interrupts`).
    pub fn function_entry(&mut self, builder: &mut FunctionBuilder<'_>) {
        if let Some(fuel) = &self.fuel {
            let zero = builder.ins().iconst(types::I64, 0);
            builder.def_var(fuel.delta, zero);
        }
        self.fuel_check(builder);
        self.charge_tiering_budget(builder);
    }

    /// The start of every loop iteration: the interrupt check, the fuel check, then the
    /// tier-up budget.
    pub fn loop_header(&mut self, builder: &mut FunctionBuilder<'_>) {
        self.interrupt_check(builder);
        self.fuel_check(builder);
        self.charge_tiering_budget(builder);
    }

    // ---- fuel ----

    /// Counts `op` (reachable, about to be translated); flushes the count into the delta
    /// before operators that end a straight-line run.
    pub fn fuel_before_op(&mut self, builder: &mut FunctionBuilder<'_>, op: &Operator<'_>) {
        let Some(fuel) = &mut self.fuel else {
            return;
        };
        fuel.pending += crate::fuel::operator_cost(op);
        let ends_run = crate::fuel::ends_run(op);
        if ends_run && fuel.pending != 0 {
            let delta = builder.use_var(fuel.delta);
            let delta = builder.ins().iadd_imm_s(delta, fuel.pending);
            builder.def_var(fuel.delta, delta);
            fuel.pending = 0;
        }
        if matches!(op, Operator::Unreachable) {
            self.fuel_function_exit(builder);
        }
    }

    /// The thread's fuel cell: (the address of the runtime limits, the cell's value).
    fn fuel_cell(&self, builder: &mut FunctionBuilder<'_>) -> (Value, Value) {
        let limits = builder
            .ins()
            .load(types::I64, FIXED, self.vmctx, offset(vmctx::RUNTIME_LIMITS));
        let cell = builder.ins().load(
            types::I64,
            VARIABLE,
            limits,
            offset(runtime_limits::FUEL_CONSUMED),
        );
        (limits, cell)
    }

    /// Adds the function's delta to the thread's fuel cell (control leaves the function).
    pub fn fuel_function_exit(&mut self, builder: &mut FunctionBuilder<'_>) {
        let Some(fuel) = &self.fuel else {
            return;
        };
        let delta = builder.use_var(fuel.delta);
        let (limits, cell) = self.fuel_cell(builder);
        let total = builder.ins().iadd(cell, delta);
        builder.ins().store(
            VARIABLE,
            total,
            limits,
            offset(runtime_limits::FUEL_CONSUMED),
        );
    }

    /// Stops the code with `OutOfFuel` once more fuel was consumed than was available.
    /// Leaves `builder` in a fresh block.
    fn fuel_check(&mut self, builder: &mut FunctionBuilder<'_>) {
        let Some(fuel) = &self.fuel else {
            return;
        };
        let delta = builder.use_var(fuel.delta);
        let (_, cell) = self.fuel_cell(builder);
        let total = builder.ins().iadd(cell, delta);
        let exhausted = builder.ins().icmp_imm_s(IntCC::SignedGreaterThan, total, 0);
        let out = builder.create_block();
        let next = builder.create_block();
        builder.set_cold_block(out);
        builder.ins().brif(exhausted, out, &[], next, &[]);
        builder.seal_block(out);
        builder.switch_to_block(out);
        self.fuel_function_exit(builder);
        builder.ins().trap(TrapKind::OutOfFuel.code());
        builder.seal_block(next);
        builder.switch_to_block(next);
    }

    /// Compares the stack pointer with the thread's stack limit, as the prologue does; the
    /// limit is `INTERRUPT_LIMIT` while an interrupt is pending, and then the `Interrupt` libcall
    /// decides whether to carry on or trap. Leaves `builder` in a fresh block.
    fn interrupt_check(&mut self, builder: &mut FunctionBuilder<'_>) {
        if !self.interrupt_checks {
            return;
        }
        let limits = builder
            .ins()
            .load(types::I64, FIXED, self.vmctx, offset(vmctx::RUNTIME_LIMITS));
        let sp = builder.ins().get_stack_pointer(types::I64);
        // Other threads write the limit, so every iteration must read it anew: a plain load
        // that the optimizer cannot merge with an earlier one, because the loop's slow path
        // below calls out (calls end what alias analysis knows about memory).
        let limit = builder.ins().load(
            types::I64,
            VARIABLE,
            limits,
            offset(runtime_limits::STACK_LIMIT),
        );
        let interrupted = builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThan, limit, sp);
        let slow = builder.create_block();
        let next = builder.create_block();
        builder.set_cold_block(slow);
        builder.ins().brif(interrupted, slow, &[], next, &[]);
        builder.seal_block(slow);
        builder.switch_to_block(slow);
        // The stub preserves every register and unwinds by itself when the activation must
        // stop, so the loop's values stay in registers across this cold call.
        let sig = *self.interrupt_signature.get_or_insert_with(|| {
            builder.import_signature(Signature::new(CallConv::PreserveAll))
        });
        let stub = self.builtin(builder, crate::libcall::INTERRUPT_STUB_SLOT);
        builder.ins().call_indirect(sig, stub, &[]);
        // No reload of the memory bounds after the stub: it never moves a memory (JS that runs
        // during its host poll, a debugger's, may grow memories only in place; see
        // `interrupts::in_host_poll`), and a reload here would make the bounds loop-carried
        // values (bench: a 3x3 blur 2.4x slower than with them loop-invariant).
        builder.ins().jump(next, &[]);
        builder.seal_block(next);
        builder.switch_to_block(next);
    }

    // ---- dynamic tier-up ----

    /// Charges the function's tier-up budget for one call or loop iteration; when it runs out,
    /// calls `TierUpHot` (which refills it) and carries on. Leaves `builder` in a fresh block.
    fn charge_tiering_budget(&mut self, builder: &mut FunctionBuilder<'_>) {
        let Some((defined, cost)) = self.tiering else {
            return;
        };
        let budgets = builder
            .ins()
            .load(types::I64, FIXED, self.vmctx, offset(vmctx::TIERING_BUDGETS));
        // Modules have at most a million functions (validated), so the offset fits.
        let at = offset(defined * 4);
        let budget = builder.ins().load(types::I32, VARIABLE, budgets, at);
        let budget = builder.ins().iadd_imm_s(budget, -i64::from(cost));
        builder.ins().store(VARIABLE, budget, budgets, at);
        let exhausted = builder.ins().icmp_imm_s(IntCC::SignedLessThan, budget, 0);
        let hot = builder.create_block();
        let next = builder.create_block();
        builder.set_cold_block(hot);
        builder.ins().brif(exhausted, hot, &[], next, &[]);
        builder.seal_block(hot);
        builder.switch_to_block(hot);
        let index = builder.ins().iconst(types::I32, i64::from(defined));
        self.call_libcall(builder, LibCall::TierUpHot, &[index]);
        builder.ins().jump(next, &[]);
        builder.seal_block(next);
        builder.switch_to_block(next);
    }

    // ---- linear memory ----

    /// The type of memory `index`.
    pub fn memory_type(&self, index: u32) -> Result<MemoryType, String> {
        self.module
            .memory_type(index)
            .ok_or_else(|| format!("memory #{index} is not in the module"))
    }

    /// How an access reaches memory `index`: its base, and its byte length (i64) when accesses
    /// are checked. Both change when the memory grows (the base when an unguarded memory
    /// moves), so checked accesses read variables that every call site reloads
    /// (`reload_memory_bounds`).
    pub fn memory_reach(
        &self,
        builder: &mut FunctionBuilder<'_>,
        index: u32,
    ) -> Result<MemoryBounds, String> {
        match self.memories.get(index as usize).copied().flatten() {
            Some(MemoryReach::Guarded { base }) => Ok(MemoryBounds::Guarded { base }),
            Some(MemoryReach::Checked { base, length }) => Ok(MemoryBounds::Checked {
                base: builder.use_var(base),
                length: builder.use_var(length),
            }),
            None => Err(format!(
                "access to memory #{index} not prepared (no such memory, or an access `memory::accessed_memory` misses)"
            )),
        }
    }

    /// Pointer to memory `index`'s `VMMemoryDefinition`.
    fn memory_definition(&self, builder: &mut FunctionBuilder<'_>, index: u32) -> Value {
        let at = self.offsets.memory(index) + memory_import::DEFINITION;
        builder.ins().load(types::I64, FIXED, self.vmctx, offset(at))
    }

    /// Reads the base and length of every memory the function accesses with checks from their
    /// definitions into their variables: at entry, and after every call (the callee may have
    /// grown a memory, which may have moved it). Nothing else of this thread changes them; other
    /// threads grow shared memories (which never move) at any time, so a failed bounds check of
    /// a shared memory reads the length again before trapping (`reload_memory_length`).
    pub fn reload_memory_bounds(&self, builder: &mut FunctionBuilder<'_>) {
        for (index, reach) in self.memories.iter().enumerate() {
            let Some(MemoryReach::Checked { base: base_var, length: length_var }) = *reach else {
                continue;
            };
            let definition = self.memory_definition(builder, index as u32);
            let region = alias_region(builder, MEMORY_BOUNDS_REGION, "memory bounds");
            let flags = MemFlagsData::trusted().with_alias_region(Some(region));
            let base = builder
                .ins()
                .load(types::I64, flags, definition, offset(memory_definition::BASE));
            let length = builder
                .ins()
                .load(types::I64, flags, definition, offset(memory_definition::LENGTH));
            builder.def_var(base_var, base);
            builder.def_var(length_var, length);
        }
    }

    /// Reads the byte length of checked memory `index` from its definition into the function's
    /// variable again, and returns it: for a shared memory, which other threads grow while this
    /// code runs (the variable is otherwise only reloaded after calls).
    pub fn reload_memory_length(&self, builder: &mut FunctionBuilder<'_>, index: u32) -> Result<Value, String> {
        let Some(Some(MemoryReach::Checked { length: length_var, .. })) = self.memories.get(index as usize).copied() else {
            return Err(format!("memory #{index} is not accessed with checks"));
        };
        let definition = self.memory_definition(builder, index);
        let length = builder
            .ins()
            .load(types::I64, VARIABLE, definition, offset(memory_definition::LENGTH));
        builder.def_var(length_var, length);
        Ok(length)
    }

    /// Current byte length of memory `index` (i64); it changes when the memory grows.
    pub fn memory_length(&self, builder: &mut FunctionBuilder<'_>, index: u32) -> Result<Value, String> {
        self.memory_type(index)?;
        let definition = self.memory_definition(builder, index);
        Ok(builder.ins().load(
            types::I64,
            VARIABLE,
            definition,
            offset(memory_definition::LENGTH),
        ))
    }

    // ---- globals ----

    pub fn global_type(&mut self, index: u32) -> Result<GlobalType, String> {
        if index >= self.offsets.num_globals {
            return Err(format!("global #{index} is not in the module"));
        }
        let module = self.module;
        Ok(*self
            .global_types
            .entry(index)
            .or_insert_with(|| module.global_type(index)))
    }

    /// Address of global `index`'s value, and the flags to access it with.
    pub fn global_address(
        &mut self,
        builder: &mut FunctionBuilder<'_>,
        index: u32,
    ) -> Result<(Value, MemFlagsData), String> {
        let ty = self.global_type(index)?;
        let cell = builder.ins().load(
            types::I64,
            FIXED,
            self.vmctx,
            offset(self.offsets.global(index)),
        );
        // Immutable globals are set before any code of the instance runs.
        let flags = if ty.mutable { VARIABLE } else { FIXED };
        Ok((cell, flags))
    }

    // ---- tables ----

    pub fn table_type(&mut self, index: u32) -> Result<TableType, String> {
        if index >= self.offsets.num_tables {
            return Err(format!("table #{index} is not in the module"));
        }
        let module = self.module;
        Ok(*self
            .table_types
            .entry(index)
            .or_insert_with(|| module.table_type(index)))
    }

    /// Pointer to table `index`'s `VMTableDefinition`.
    fn table_definition(
        &mut self,
        builder: &mut FunctionBuilder<'_>,
        index: u32,
    ) -> Result<Value, String> {
        self.table_type(index)?;
        Ok(builder.ins().load(
            types::I64,
            FIXED,
            self.vmctx,
            offset(self.offsets.table(index)),
        ))
    }

    /// The type of table `index`'s indices and sizes: i64 for a 64-bit table, else i32.
    pub fn table_index_type(&mut self, index: u32) -> Result<types::Type, String> {
        Ok(if self.table_type(index)?.table64 { types::I64 } else { types::I32 })
    }

    /// Current number of elements of table `index` (of its index type).
    pub fn table_size(
        &mut self,
        builder: &mut FunctionBuilder<'_>,
        index: u32,
    ) -> Result<Value, String> {
        let index_type = self.table_index_type(index)?;
        let definition = self.table_definition(builder, index)?;
        // The length is a u64 field that never exceeds `MAX_TABLE_ELEMENTS`: its low half is the
        // whole of it (little-endian).
        Ok(builder.ins().load(
            index_type,
            VARIABLE,
            definition,
            offset(table_definition::LENGTH),
        ))
    }

    /// Address of element `element` (of the table's index type) of table `index`, after
    /// trapping with TableOutOfBounds unless `element < length`.
    pub fn table_element_address(
        &mut self,
        builder: &mut FunctionBuilder<'_>,
        index: u32,
        element: Value,
    ) -> Result<Value, String> {
        let index_type = self.table_index_type(index)?;
        let definition = self.table_definition(builder, index)?;
        let length = builder.ins().load(
            index_type,
            VARIABLE,
            definition,
            offset(table_definition::LENGTH),
        );
        let out_of_bounds = builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, element, length);
        builder
            .ins()
            .trapnz(out_of_bounds, TrapKind::TableOutOfBounds.code());
        let elements = builder.ins().load(
            types::I64,
            VARIABLE,
            definition,
            offset(table_definition::ELEMENTS),
        );
        let element = if index_type == types::I64 {
            element
        } else {
            builder.ins().uextend(types::I64, element)
        };
        let byte_offset = builder.ins().ishl_imm_u(element, 3); // 8-byte elements
        Ok(builder.ins().iadd(elements, byte_offset))
    }

    /// Flags for loading and storing table elements (bounds already checked).
    pub fn table_element_flags(&self) -> MemFlagsData {
        VARIABLE
    }

    // ---- functions ----

    /// The `*const VMFuncRef` of function `index`: it lives inside the vmctx.
    pub fn func_ref(&self, builder: &mut FunctionBuilder<'_>, index: u32) -> Result<Value, String> {
        if index >= self.offsets.num_functions {
            return Err(format!("function #{index} is not in the module"));
        }
        Ok(builder
            .ins()
            .iadd_imm_u(self.vmctx, i64::from(self.offsets.func_ref(index))))
    }

    /// The signature to call functions of wasm type `type_index` with.
    pub fn signature(
        &mut self,
        builder: &mut FunctionBuilder<'_>,
        type_index: u32,
    ) -> Result<SigRef, String> {
        if let Some(sig) = self.signatures.get(&type_index) {
            return Ok(*sig);
        }
        let ty = self
            .module
            .types
            .get(type_index as usize)
            .ok_or_else(|| format!("unknown type #{type_index}"))?;
        let sig = builder.import_signature(super::wasm_signature(ty));
        self.signatures.insert(type_index, sig);
        Ok(sig)
    }

    /// Code address and callee `vmctx` of function `index` of the function index space.
    pub fn function_callee(
        &self,
        builder: &mut FunctionBuilder<'_>,
        index: u32,
    ) -> Result<(Value, Value), String> {
        let imported = self.offsets.num_imported_functions;
        if index < imported {
            let import = self.offsets.imported_function(index);
            let code = builder.ins().load(
                types::I64,
                FIXED,
                self.vmctx,
                offset(import + function_import::CODE),
            );
            let callee_vmctx = builder.ins().load(
                types::I64,
                FIXED,
                self.vmctx,
                offset(import + function_import::VMCTX),
            );
            return Ok((code, callee_vmctx));
        }
        if index >= self.offsets.num_functions {
            return Err(format!("function #{index} is not in the module"));
        }
        // Code table entries change when a function is compiled lazily or tiers up, and every
        // call must see the newest one: a plain (atomic, 8-byte aligned) load each time.
        let table = builder
            .ins()
            .load(types::I64, FIXED, self.vmctx, offset(vmctx::CODE_TABLE));
        let slot = i64::from(index - imported) * 8;
        let code = if let Ok(slot) = i32::try_from(slot) {
            builder.ins().load(types::I64, VARIABLE, table, slot)
        } else {
            let address = builder.ins().iadd_imm_u(table, slot);
            builder.ins().load(types::I64, VARIABLE, address, 0)
        };
        Ok((code, self.vmctx))
    }

    /// For `call_indirect`: traps with IndirectCallMismatch if `func_ref` is null or its
    /// signature is not `type_index`, then returns its code address and `vmctx`.
    pub fn checked_func_ref_callee(
        &mut self,
        builder: &mut FunctionBuilder<'_>,
        func_ref_value: Value,
        type_index: u32,
    ) -> Result<(Value, Value), String> {
        if type_index as usize >= self.module.types.len() {
            return Err(format!("unknown type #{type_index}"));
        }
        let mismatch = TrapKind::IndirectCallMismatch.code();
        builder.ins().trapz(func_ref_value, mismatch);
        let type_ids = builder
            .ins()
            .load(types::I64, FIXED, self.vmctx, offset(vmctx::TYPE_IDS));
        let expected = builder
            .ins()
            .load(types::I32, FIXED, type_ids, offset(4 * type_index));
        let actual = builder.ins().load(
            types::I32,
            VARIABLE,
            func_ref_value,
            offset(func_ref::TYPE_ID),
        );
        let differs = builder.ins().icmp(IntCC::NotEqual, expected, actual);
        if self.module.type_info(type_index).is_final {
            // No other type can be a subtype of a final one.
            builder.ins().trapnz(differs, mismatch);
        } else {
            // A declared subtype, perhaps of another module, is accepted too: the registry
            // knows the supertypes (a cold path: only when the ids differ).
            let slow = builder.create_block();
            let done = builder.create_block();
            builder.ins().brif(differs, slow, &[], done, &[]);
            builder.set_cold_block(slow);
            builder.switch_to_block(slow);
            builder.seal_block(slow);
            let is_subtype = self
                .call_libcall(builder, LibCall::IsSubtype, &[actual, expected])
                .ok_or("IsSubtype returns no result")?;
            builder.ins().trapz(is_subtype, mismatch);
            builder.ins().jump(done, &[]);
            builder.switch_to_block(done);
            builder.seal_block(done);
        }
        let code = builder
            .ins()
            .load(types::I64, VARIABLE, func_ref_value, offset(func_ref::CODE));
        let callee_vmctx = builder.ins().load(
            types::I64,
            VARIABLE,
            func_ref_value,
            offset(func_ref::VMCTX),
        );
        Ok((code, callee_vmctx))
    }

    /// The code and vmctx of the function `func_ref_value` references (typed: no signature
    /// check), trapping on null.
    pub fn func_ref_callee(
        &self,
        builder: &mut FunctionBuilder<'_>,
        func_ref_value: Value,
    ) -> (Value, Value) {
        builder
            .ins()
            .trapz(func_ref_value, TrapKind::NullDereference.code());
        let code = builder
            .ins()
            .load(types::I64, VARIABLE, func_ref_value, offset(func_ref::CODE));
        let callee_vmctx = builder.ins().load(
            types::I64,
            VARIABLE,
            func_ref_value,
            offset(func_ref::VMCTX),
        );
        (code, callee_vmctx)
    }

    // ---- libcalls ----

    /// The address in slot `slot` of the builtins table (`vmctx.builtins`).
    fn builtin(&mut self, builder: &mut FunctionBuilder<'_>, slot: usize) -> Value {
        let table = builder
            .ins()
            .load(types::I64, FIXED, self.vmctx, offset(vmctx::BUILTINS));
        // The table has `libcall::BUILTINS` entries, a few dozen: the offset fits.
        builder
            .ins()
            .load(types::I64, FIXED, table, offset(slot as u32 * 8))
    }

    /// The function's `vmctx` parameter.
    pub fn vmctx(&self) -> Value {
        self.vmctx
    }

    /// The signature to call `call` with.
    pub fn libcall_signature(&mut self, builder: &mut FunctionBuilder<'_>, call: LibCall) -> SigRef {
        *self
            .libcall_signatures
            .entry(call)
            .or_insert_with(|| builder.import_signature(call.signature()))
    }

    /// The address to call `call` at.
    pub fn libcall_callee(&mut self, builder: &mut FunctionBuilder<'_>, call: LibCall) -> Value {
        self.builtin(builder, call.slot())
    }

    /// Calls `call` with the function's vmctx followed by `args`; returns its result, if any.
    pub fn call_libcall(
        &mut self,
        builder: &mut FunctionBuilder<'_>,
        call: LibCall,
        args: &[Value],
    ) -> Option<Value> {
        let sig = self.libcall_signature(builder, call);
        let address = self.libcall_callee(builder, call);
        let mut call_args = Vec::with_capacity(args.len() + 1);
        call_args.push(self.vmctx);
        call_args.extend_from_slice(args);
        let inst = builder.ins().call_indirect(sig, address, &call_args);
        let result = builder.inst_results(inst).first().copied();
        self.reload_memory_bounds(builder);
        result
    }

    /// Calls a status-returning libcall (a bulk operation, which an interrupt may stop between
    /// chunks) and traps with `trap` when the status is not zero, or with `Interrupted`.
    pub fn call_libcall_checked(
        &mut self,
        builder: &mut FunctionBuilder<'_>,
        call: LibCall,
        args: &[Value],
        trap: TrapKind,
    ) -> Result<(), String> {
        self.call_libcall_checked_kinds(builder, call, args, trap, &[TrapKind::Interrupted])
    }

    /// Calls a status-returning libcall that can fail in several ways: a non-zero status (1 +
    /// the failure's index in `TrapKind::ALL`) traps with its kind when it is one of `others`,
    /// else with `trap`.
    pub fn call_libcall_checked_kinds(
        &mut self,
        builder: &mut FunctionBuilder<'_>,
        call: LibCall,
        args: &[Value],
        trap: TrapKind,
        others: &[TrapKind],
    ) -> Result<(), String> {
        let status = self
            .call_libcall(builder, call, args)
            .ok_or_else(|| format!("{call:?} returns no status"))?;
        for kind in others {
            let code = 1 + TrapKind::ALL.iter().position(|k| k == kind).unwrap_or(0) as i64;
            let is_kind = builder.ins().icmp_imm_u(IntCC::Equal, status, code);
            builder.ins().trapnz(is_kind, kind.code());
        }
        builder.ins().trapnz(status, trap.code());
        Ok(())
    }
}

/// A VM structure offset as a load/store immediate (every offset fits in i32: a vmctx is far
/// smaller than 2 GiB).
fn offset(bytes: u32) -> i32 {
    bytes as i32
}

/// `flags` as stored in the function (global values take interned flags).
fn intern(builder: &mut FunctionBuilder<'_>, flags: MemFlagsData) -> Result<MemFlags, String> {
    builder
        .func
        .dfg
        .mem_flags
        .insert(flags)
        .map_err(|_| "too many distinct memory flags".to_string())
}

//! Wasm operators to Cranelift IR, one defined function at a time. [`translate_function`] walks
//! a validated body once, keeping wasm's operand stack as a stack of SSA values and its control
//! stack as [`control::ControlFrame`]s; locals are `cranelift-frontend` variables, so the
//! frontend builds SSA form — except in functions where that would be too slow (many locals
//! used inside loops, see [`shape`]), whose locals live in a stack slot. `dispatch` sends each
//! operator to its concern, one exhaustive `match` over every operator wasmparser knows. Each
//! concern has its own file: `control` (blocks, branches), `variables` (locals, globals, drop,
//! select), `numeric`, `memory`, `tables` (and references), `calls`, `exceptions`, `simd`, and
//! `environ`, the only file that knows the `VMContext` layout. Failures are typed
//! ([`TranslateError`]): an operator cranewasm does not implement, or an engine bug.
//!
//! Translation keeps no state between calls, so functions translate in parallel.

mod atomics;
mod calls;
mod control;
mod dispatch;
mod environ;
mod error;
mod exceptions;
mod memory;
mod numeric;
mod simd;
mod tables;
mod variables;

#[cfg(test)]
mod tests;

use cranelift_codegen::ir::{
    types, AbiParam, ArgumentPurpose, Function, InstBuilder, MemFlagsData, Signature,
    SourceLoc, StackSlotData, StackSlotKind, Type, UserFuncName, Value,
};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use wasmparser::{FuncType, FunctionBody, Operator, ValType};

use crate::module::Module;
use control::ControlFrame;
use environ::FuncEnvironment;
pub use error::TranslateError;

/// The Cranelift signature of a wasm function type under the wasm calling convention:
/// `(vmctx, params…) -> results…`, Cranelift's `tail` convention (System V's argument registers;
/// the callee pops its stack arguments), so that `return_call` can reuse the caller's frame.
pub fn wasm_signature(ty: &FuncType) -> Signature {
    let mut sig = Signature::new(CallConv::Tail);
    // Marking vmctx lets the function reach it as `GlobalValueData::VMContext`, which the
    // prologue's stack-limit check is expressed with; the ABI is that of a plain i64.
    sig.params
        .push(AbiParam::special(types::I64, ArgumentPurpose::VMContext));
    sig.params
        .extend(ty.params().iter().map(|t| AbiParam::new(value_type(*t))));
    sig.returns
        .extend(ty.results().iter().map(|t| AbiParam::new(value_type(*t))));
    sig
}

/// The Cranelift type of a wasm value: references are pointer-sized (a `*const VMFuncRef` or
/// an externref handle, 0 for null).
pub(crate) fn value_type(ty: ValType) -> Type {
    match ty {
        ValType::I32 => types::I32,
        ValType::I64 => types::I64,
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        ValType::V128 => types::I8X16,
        ValType::Ref(_) => types::I64,
    }
}

/// Translates the body of defined function `func_index` (index in the function index space) of
/// `module` into a Cranelift function with the wasm calling convention.
pub fn translate_function(
    module: &Module,
    func_index: u32,
    body: &FunctionBody<'_>,
) -> Result<Function, TranslateError> {
    translate_function_with(module, func_index, body, TranslateOptions::default())
}

/// How to translate, beyond the function itself.
#[derive(Clone, Copy, Debug)]
pub struct TranslateOptions {
    /// Charge a dynamic tier-up budget this much on entry and on every loop iteration (see
    /// `compiler::tiering`).
    pub tiering_cost: Option<i32>,
    /// Keep every local in a stack slot rather than in SSA form: code that compiles faster
    /// (about a fifth less time) and runs slower, for baseline code that will be replaced.
    pub locals_in_slots: bool,
    /// Check for interrupts at loop headers (see `runtime::interrupts`); off only to measure
    /// the checks' cost.
    pub interrupt_checks: bool,
    /// Count fuel (see `runtime::sandbox`).
    pub fuel: bool,
    /// Check every memory access against the memory's current length, reading base and length
    /// from its definition (see `runtime::memory`: memories without a guard reservation).
    pub bounds_checks: bool,
}

impl Default for TranslateOptions {
    fn default() -> Self {
        TranslateOptions {
            tiering_cost: None,
            locals_in_slots: false,
            interrupt_checks: true,
            fuel: false,
            bounds_checks: false,
        }
    }
}

/// [`translate_function`] as `options` say.
pub fn translate_function_with(
    module: &Module,
    func_index: u32,
    body: &FunctionBody<'_>,
    options: TranslateOptions,
) -> Result<Function, TranslateError> {
    if func_index < module.num_imported_functions {
        return Err(format!("function #{func_index} is imported, it has no body to translate").into());
    }
    let type_index = *module
        .functions
        .get(func_index as usize)
        .ok_or_else(|| format!("function #{func_index} is not in the module"))?;
    let ty = module
        .types
        .get(type_index as usize)
        .ok_or_else(|| format!("function #{func_index} has unknown type #{type_index}"))?;

    let shape = shape(ty, body)?;
    if shape.locals_in_slots || options.locals_in_slots {
        return translate_with(module, func_index, ty, body, shape, true, options);
    }
    // The estimate let SSA form through; its true size decides.
    let func = translate_with(module, func_index, ty, body, shape, false, options)?;
    let limit = BRANCH_ARGUMENTS_LIMIT.max(2 * func.dfg.num_insts() as u64);
    if branch_arguments(&func) > limit {
        return translate_with(module, func_index, ty, body, shape, true, options);
    }
    Ok(func)
}

fn translate_with(
    module: &Module,
    func_index: u32,
    ty: &FuncType,
    body: &FunctionBody<'_>,
    shape: Shape,
    locals_in_slots: bool,
    options: TranslateOptions,
) -> Result<Function, TranslateError> {
    // Functions too deeply nested to optimize say so in their name's namespace, the one thing
    // of a Cranelift function that the code generator can read and the optimizer ignores.
    let namespace = if shape.if_depth > IF_DEPTH_LIMIT {
        NOT_OPTIMIZED
    } else {
        OPTIMIZABLE
    };
    let mut func = Function::with_name_signature(
        UserFuncName::user(namespace, func_index),
        wasm_signature(ty),
    );
    let mut context = FunctionBuilderContext::new();
    let mut builder = FunctionBuilder::new(&mut func, &mut context);
    let entry = builder.create_block();
    builder.append_block_params_for_function_params(entry);
    builder.switch_to_block(entry);
    builder.seal_block(entry);
    let params = builder.block_params(entry).to_vec();
    let (vmctx, wasm_params) = params.split_first().ok_or("the signature has no vmctx")?;

    let env = FuncEnvironment::new(module, func_index, &mut builder, *vmctx, options, shape.accessed_memories)?;
    let mut translator = FuncTranslator {
        builder,
        env,
        stack: Vec::new(),
        control: Vec::new(),
        locals: Vec::new(),
        reachable: true,
        dead_depth: 0,
        handlers: Vec::new(),
    };
    translator.declare_locals(ty, wasm_params, body, locals_in_slots)?;
    control::enter_function(&mut translator, ty);
    translator.env.function_entry(&mut translator.builder);

    let mut reader = body.get_operators_reader().map_err(|e| e.to_string())?;
    while !reader.eof() {
        let (op, offset) = reader.read_with_offset().map_err(|e| e.to_string())?;
        // The operator's byte offset in the module: what stack traces report for the code it
        // becomes (`runtime::frames`).
        translator
            .builder
            .set_srcloc(SourceLoc::new(u32::try_from(offset).unwrap_or(u32::MAX)));
        translator.translate_operator(&op, offset as u64)?;
    }
    if !translator.control.is_empty() {
        return Err("the function body ended inside a block".into());
    }

    let mut builder = translator.builder;
    builder.seal_all_blocks();
    // Only used for stack maps, which wasm 2.0 code does not need (no GC references).
    builder.finalize(frontend_config());
    Ok(func)
}

/// The number of values all branches of `func` pass to their targets' parameters: the size of
/// the SSA form beyond the instructions, which the code generator's time (and the register
/// allocator's moves) grows with.
fn branch_arguments(func: &Function) -> u64 {
    let dfg = &func.dfg;
    func.layout
        .blocks()
        .filter_map(|block| func.layout.last_inst(block))
        .map(|inst| {
            dfg.insts[inst]
                .branch_destination(&dfg.jump_tables, &dfg.exception_tables)
                .iter()
                .map(|call| call.len(&dfg.value_lists) as u64)
                .sum::<u64>()
        })
        .sum()
}

/// The largest estimated SSA construction cost (see [`shape`]) for which locals are
/// `cranelift-frontend` variables: well under a tenth of a second of translation, and code the
/// optimizing tier's register allocator still handles quickly.
const SSA_COST_LIMIT: u64 = 1 << 25;

/// The largest upper bound on the branch arguments of SSA form (see [`shape`]) for which
/// translating to SSA form is tried at all: a few seconds of translation at worst.
const BRANCH_ARGUMENTS_ESTIMATE_LIMIT: u64 = 1 << 25;

/// The most branch arguments (see [`branch_arguments`]) a function in SSA form may have, unless
/// it has half as many instructions; beyond that it is translated again with its locals in a
/// stack slot. SSA form passes every local that a branch's target needs and that changed on the
/// way as an argument, so a function with many locals and many branches grows as their product:
/// 1,155 locals, 9,000 branches and 700 KB of wasm made 10 million arguments (for 73,000
/// instructions), 5 s of baseline and over 20 s of optimizing code generation; 227 locals
/// live everywhere made 1.7 million for 80,000 instructions, and the optimizing tier's register
/// allocator took 15 s.
const BRANCH_ARGUMENTS_LIMIT: u64 = 1 << 18;

#[cfg(test)]
thread_local! {
    /// Tests set this to translate every function with its locals in a stack slot.
    pub(crate) static FORCE_LOCALS_IN_SLOTS: std::cell::Cell<bool> =
        const { std::cell::Cell::new(false) };
}

/// What a pass over a body's operators, before translating it, decides about the translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    /// Whether the locals live in a stack slot rather than in SSA variables.
    pub locals_in_slots: bool,
    /// The deepest nesting of `if`s.
    pub if_depth: u64,
    /// The memories the function loads from or stores to, bit `i` for memory `i` (bit 63 for
    /// all from 63 on): only those get a base (guarded memories) or bounds in variables
    /// (checked accesses), and only those are reloaded after calls.
    pub accessed_memories: u64,
}

/// The namespace of the name of a translated wasm function (`UserFuncName::user(namespace,
/// function index)`): whether the optimizing tier may optimize it (`compiler::codegen` reads
/// it). The translator marks functions whose shape would make optimization blow up ([`Shape`]).
pub const OPTIMIZABLE: u32 = 0;
pub const NOT_OPTIMIZED: u32 = 1;

/// The target as the function builder sees it: the host, x86-64 System V with 4 KiB pages,
/// which every tier's ISA targets (the compiler's tests check that they agree).
pub fn frontend_config() -> TargetFrontendConfig {
    TargetFrontendConfig {
        default_call_conv: CallConv::SystemV,
        pointer_width: target_lexicon::PointerWidth::U64,
        page_size_align_log2: 12,
    }
}

/// The `if` nesting beyond which a function is not optimized (see [`NOT_OPTIMIZED`]).
///
/// Cranelift's e-graph pass places a pure value where it is used rather than where it was
/// computed, once per dominator subtree that uses it: a chain of values computed down the
/// `then` arms of nested `if`s and used in their `else` arms is rebuilt in every `else` arm,
/// so the code grows with the square of the depth: 2,000 nested `if`s (30 KB) gave 4 MB of
/// machine code in 4 s, 16,000 (250 KB) ran out of memory after 19 GB.
const IF_DEPTH_LIMIT: u64 = 256;

/// Looks at the shape of `body` before it is translated.
///
/// Locals: `cranelift-frontend` builds SSA form lazily. A local read inside a loop whose header
/// is not sealed yet (it is sealed at the loop's `end`, when every back edge is known) gets a
/// placeholder block parameter in that header and in every enclosing unsealed header. At
/// sealing, the parameters that turn out redundant are removed one at a time, each removal
/// shifting the header's other parameters, and become aliases of the enclosing header's, which
/// later lookups walk. A loop whose body reads `v` distinct locals so costs about `v²`, plus
/// `v` times its nesting depth: a 200 KB function reading its 50,000 locals inside four nested
/// loops took 20 s to translate, and 65,536 nested loops reading three locals (1.4 MB) took 5 s,
/// growing with the square of the depth. That cost is estimated as the sum over loops with
/// `v = min(local accesses inside, locals)`; above [`SSA_COST_LIMIT`] the locals go to memory,
/// which is linear. So they do when the branch arguments of SSA form could exceed
/// [`BRANCH_ARGUMENTS_ESTIMATE_LIMIT`]: at most one per branch edge and local ever set.
pub(crate) fn shape(ty: &FuncType, body: &FunctionBody<'_>) -> Result<Shape, String> {
    let mut num_locals = ty.params().len() as u64;
    let mut locals = body.get_locals_reader().map_err(|e| e.to_string())?;
    for _ in 0..locals.get_count() {
        let (count, _) = locals.read().map_err(|e| e.to_string())?;
        num_locals += u64::from(count);
    }
    #[derive(PartialEq)]
    enum Open {
        Block,
        If,
        /// With the number of local accesses before it.
        Loop(u64),
    }
    let mut open: Vec<Open> = Vec::new();
    let mut accesses = 0u64;
    // Locals ever set, and branch edges (an `if` makes two).
    // (Validation bounds the locals to 50,000; the cap only guards unvalidated input.)
    let mut set = vec![false; num_locals.min(1 << 16) as usize];
    let (mut locals_set, mut edges) = (0u64, 0u64);
    let (mut loop_depth, mut if_depth, mut max_if_depth) = (0u64, 0u64, 0u64);
    let mut cost = 0u64;
    let mut accessed_memories = 0u64;
    let mut reader = body.get_operators_reader().map_err(|e| e.to_string())?;
    while !reader.eof() {
        let op = reader.read().map_err(|e| e.to_string())?;
        if let Some(index) = memory::accessed_memory(&op) {
            accessed_memories |= 1u64 << index.min(63);
        }
        match op {
            Operator::LocalGet { .. } => accesses += 1,
            Operator::LocalSet { local_index } | Operator::LocalTee { local_index } => {
                accesses += 1;
                if let Some(seen) = set.get_mut(local_index as usize) {
                    if !*seen {
                        *seen = true;
                        locals_set += 1;
                    }
                }
            }
            Operator::Br { .. } | Operator::BrIf { .. } => edges += 1,
            Operator::BrTable { targets } => edges += u64::from(targets.len()) + 1,
            Operator::Loop { .. } => {
                open.push(Open::Loop(accesses));
                loop_depth += 1;
            }
            Operator::If { .. } => {
                edges += 2;
                open.push(Open::If);
                if_depth += 1;
                max_if_depth = max_if_depth.max(if_depth);
            }
            Operator::Block { .. } => open.push(Open::Block),
            Operator::End => match open.pop() {
                Some(Open::Loop(start)) => {
                    let v = (accesses - start).min(num_locals);
                    cost = cost.saturating_add(v.saturating_mul(v + loop_depth));
                    loop_depth -= 1;
                }
                Some(Open::If) => if_depth -= 1,
                Some(Open::Block) | None => {}
            },
            _ => {}
        }
    }
    #[cfg(test)]
    let forced = FORCE_LOCALS_IN_SLOTS.with(|force| force.get());
    #[cfg(not(test))]
    let forced = false;
    let branch_arguments = edges.saturating_mul(locals_set);
    Ok(Shape {
        locals_in_slots: forced
            || cost > SSA_COST_LIMIT
            || branch_arguments > BRANCH_ARGUMENTS_ESTIMATE_LIMIT,
        if_depth: max_if_depth,
        accessed_memories,
    })
}

/// Where a local lives.
#[derive(Clone, Copy)]
pub(crate) enum Local {
    /// A `cranelift-frontend` variable.
    Variable(Variable),
    /// At `offset` from `base`, the address of the function's locals slot. (One base address
    /// for all: a `stack_addr` per local would be merged by the optimizer into one value per
    /// local live across the whole function, which the register allocator then struggles with.)
    Slot { base: Value, offset: i32, ty: Type },
}

/// The state of one function's translation.
pub(crate) struct FuncTranslator<'m, 'f> {
    pub builder: FunctionBuilder<'f>,
    pub env: FuncEnvironment<'m>,
    /// Wasm's operand stack, as SSA values.
    pub stack: Vec<Value>,
    /// Wasm's control stack; the function body is the bottom frame.
    pub control: Vec<ControlFrame>,
    /// Where each local lives (parameters first).
    pub locals: Vec<Local>,
    /// Whether the current position can execute. wasmparser still yields the operators after a
    /// `br`, `return` or `unreachable` up to the end of their block; they are skipped.
    pub reachable: bool,
    /// While unreachable: how many blocks opened in the dead code are still open.
    pub dead_depth: u32,
    /// The handlers of the open `try_table`s, innermost last.
    pub handlers: Vec<exceptions::HandlerScope>,
}

impl FuncTranslator<'_, '_> {
    fn declare_locals(
        &mut self,
        ty: &FuncType,
        params: &[Value],
        body: &FunctionBody<'_>,
        in_slots: bool,
    ) -> Result<(), String> {
        let mut groups = Vec::new();
        let mut reader = body.get_locals_reader().map_err(|e| e.to_string())?;
        for _ in 0..reader.get_count() {
            groups.push(reader.read().map_err(|e| e.to_string())?);
        }
        if in_slots {
            // The validator bounds the number of locals (50,000), so this cannot explode.
            let mut types: Vec<ValType> = ty.params().to_vec();
            for &(count, wasm_ty) in &groups {
                types.extend(std::iter::repeat_n(wasm_ty, count as usize));
            }
            return self.declare_locals_in_slot(&types, params);
        }
        for (&value, &wasm_ty) in params.iter().zip(ty.params()) {
            let var = self.builder.declare_var(value_type(wasm_ty));
            self.builder.def_var(var, value);
            self.locals.push(Local::Variable(var));
        }
        for (count, wasm_ty) in groups {
            // Locals start at zero (null for references, +0.0 for floats).
            let zero = self.zero(wasm_ty);
            for _ in 0..count {
                let var = self.builder.declare_var(value_type(wasm_ty));
                self.builder.def_var(var, zero);
                self.locals.push(Local::Variable(var));
            }
        }
        Ok(())
    }

    /// Lays the locals out in one stack slot, each aligned to its size, and initializes them.
    fn declare_locals_in_slot(
        &mut self,
        types: &[ValType],
        params: &[Value],
    ) -> Result<(), String> {
        let mut size = 0u32;
        let mut layout = Vec::with_capacity(types.len());
        for &wasm_ty in types {
            let ty = value_type(wasm_ty);
            let bytes = ty.bytes();
            size = size.next_multiple_of(bytes);
            layout.push((size, ty));
            size = size
                .checked_add(bytes)
                .ok_or("the locals do not fit in a stack frame")?;
        }
        // 16-byte alignment (2^4) for v128 locals.
        let slot = self.builder.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            size.max(1),
            4,
        ));
        let base = self.builder.ins().stack_addr(types::I64, slot, 0);
        let mut zeros: Vec<(ValType, Value)> = Vec::new();
        for (i, (&wasm_ty, &(offset, ty))) in types.iter().zip(&layout).enumerate() {
            let offset = i32::try_from(offset).map_err(|_| "the locals do not fit in a frame")?;
            let value = match params.get(i) {
                Some(&param) => param,
                None => match zeros.iter().find(|(t, _)| *t == wasm_ty) {
                    Some(&(_, zero)) => zero,
                    None => {
                        let zero = self.zero(wasm_ty);
                        zeros.push((wasm_ty, zero));
                        zero
                    }
                },
            };
            self.builder
                .ins()
                .store(MemFlagsData::trusted(), value, base, offset);
            self.locals.push(Local::Slot { base, offset, ty });
        }
        Ok(())
    }

    /// The current value of local `index`.
    pub fn get_local(&mut self, index: u32) -> Result<Value, String> {
        Ok(match self.local(index)? {
            Local::Variable(var) => self.builder.use_var(var),
            Local::Slot { base, offset, ty } => {
                self.builder
                    .ins()
                    .load(ty, MemFlagsData::trusted(), base, offset)
            }
        })
    }

    /// Sets local `index` to `value`.
    pub fn set_local(&mut self, index: u32, value: Value) -> Result<(), String> {
        match self.local(index)? {
            Local::Variable(var) => self.builder.def_var(var, value),
            Local::Slot { base, offset, .. } => {
                self.builder
                    .ins()
                    .store(MemFlagsData::trusted(), value, base, offset);
            }
        }
        Ok(())
    }

    fn local(&self, index: u32) -> Result<Local, String> {
        self.locals
            .get(index as usize)
            .copied()
            .ok_or_else(|| format!("local #{index} is not declared"))
    }

    /// The zero value of a wasm type.
    fn zero(&mut self, ty: ValType) -> Value {
        let ins = self.builder.ins();
        match ty {
            ValType::I32 => ins.iconst(types::I32, 0),
            ValType::I64 | ValType::Ref(_) => ins.iconst(types::I64, 0),
            ValType::F32 => ins.f32const(0.0),
            ValType::F64 => ins.f64const(0.0),
            ValType::V128 => {
                let bytes = self.builder.func.dfg.constants.insert(vec![0u8; 16].into());
                self.builder.ins().vconst(types::I8X16, bytes)
            }
        }
    }

    fn translate_operator(&mut self, op: &Operator<'_>, offset: u64) -> Result<(), TranslateError> {
        if !self.reachable {
            return control::translate_unreachable(self, op)
                .map_err(|e| TranslateError::from(e).at(offset));
        }
        self.env.fuel_before_op(&mut self.builder, op);
        self.dispatch(op, offset)
    }

    // Operand stack. Validation guarantees every pop has an operand; an empty stack here is a
    // translator bug, reported as an error rather than a panic.

    pub fn push(&mut self, value: Value) {
        self.stack.push(value);
    }

    pub fn pop(&mut self) -> Result<Value, String> {
        self.stack.pop().ok_or_else(underflow)
    }

    pub fn pop2(&mut self) -> Result<(Value, Value), String> {
        let b = self.pop()?;
        let a = self.pop()?;
        Ok((a, b))
    }

    pub fn pop3(&mut self) -> Result<(Value, Value, Value), String> {
        let c = self.pop()?;
        let (a, b) = self.pop2()?;
        Ok((a, b, c))
    }

    /// The top `n` operands, deepest first, left on the stack.
    pub fn peekn(&self, n: usize) -> Result<&[Value], String> {
        let start = self.stack.len().checked_sub(n).ok_or_else(underflow)?;
        Ok(&self.stack[start..])
    }

    /// Removes the top `n` operands and returns them, deepest first.
    pub fn popn(&mut self, n: usize) -> Result<Vec<Value>, String> {
        let start = self.stack.len().checked_sub(n).ok_or_else(underflow)?;
        Ok(self.stack.split_off(start))
    }

    /// Pops one operand and pushes `f` of it.
    pub fn unary(
        &mut self,
        f: impl FnOnce(&mut FunctionBuilder<'_>, Value) -> Value,
    ) -> Result<(), String> {
        let x = self.pop()?;
        let result = f(&mut self.builder, x);
        self.push(result);
        Ok(())
    }

    /// Pops two operands and pushes `f` of them (in stack order).
    pub fn binary(
        &mut self,
        f: impl FnOnce(&mut FunctionBuilder<'_>, Value, Value) -> Value,
    ) -> Result<(), String> {
        let (x, y) = self.pop2()?;
        let result = f(&mut self.builder, x, y);
        self.push(result);
        Ok(())
    }
}

fn underflow() -> String {
    "operand stack underflow".into()
}

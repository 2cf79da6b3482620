//! Wasm operators to Cranelift IR, one defined function at a time. [`translate_function`] walks
//! a validated body once, keeping wasm's operand stack as a stack of SSA values and its control
//! stack as [`control::ControlFrame`]s; locals are `cranelift-frontend` variables, so the
//! frontend builds SSA form. Each concern has its own file: `control` (blocks, branches),
//! `variables` (locals, globals, drop, select), `numeric`, `memory`, `tables` (and references),
//! `calls`, and `environ`, the only file that knows the `VMContext` layout.
//!
//! Translation keeps no state between calls, so functions translate in parallel.

mod calls;
mod control;
mod environ;
mod memory;
mod numeric;
mod tables;
mod variables;

#[cfg(test)]
mod tests;

use cranelift_codegen::ir::{
    types, AbiParam, ArgumentPurpose, Function, InstBuilder, Signature, Type, UserFuncName, Value,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use wasmparser::{FuncType, FunctionBody, Operator, ValType};

use crate::compiler::codegen::{self, Tier};
use crate::module::Module;
use control::ControlFrame;
use environ::FuncEnvironment;

/// The Cranelift signature of a wasm function type under the wasm calling convention:
/// `(vmctx, params…) -> results…`, System V.
pub fn wasm_signature(ty: &FuncType) -> Signature {
    let mut sig = Signature::new(CallConv::SystemV);
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
) -> Result<Function, String> {
    if func_index < module.num_imported_functions {
        return Err(format!(
            "function #{func_index} is imported, it has no body to translate"
        ));
    }
    let type_index = *module
        .functions
        .get(func_index as usize)
        .ok_or_else(|| format!("function #{func_index} is not in the module"))?;
    let ty = module
        .types
        .get(type_index as usize)
        .ok_or_else(|| format!("function #{func_index} has unknown type #{type_index}"))?;

    let mut func =
        Function::with_name_signature(UserFuncName::user(0, func_index), wasm_signature(ty));
    let mut context = FunctionBuilderContext::new();
    let mut builder = FunctionBuilder::new(&mut func, &mut context);
    let entry = builder.create_block();
    builder.append_block_params_for_function_params(entry);
    builder.switch_to_block(entry);
    builder.seal_block(entry);
    let params = builder.block_params(entry).to_vec();
    let (vmctx, wasm_params) = params.split_first().ok_or("the signature has no vmctx")?;

    let env = FuncEnvironment::new(module, &mut builder, *vmctx)?;
    let mut translator = FuncTranslator {
        builder,
        env,
        stack: Vec::new(),
        control: Vec::new(),
        locals: Vec::new(),
        reachable: true,
        dead_depth: 0,
    };
    translator.declare_locals(ty, wasm_params, body)?;
    control::enter_function(&mut translator, ty);

    let mut reader = body.get_operators_reader().map_err(|e| e.to_string())?;
    while !reader.eof() {
        let op = reader.read().map_err(|e| e.to_string())?;
        translator.translate_operator(&op)?;
    }
    if !translator.control.is_empty() {
        return Err("the function body ended inside a block".into());
    }

    let mut builder = translator.builder;
    builder.seal_all_blocks();
    // Only used for stack maps, which wasm 2.0 code does not need (no GC references); both
    // tiers target the same machine, so either ISA's frontend configuration does.
    builder.finalize(codegen::isa(Tier::Baseline).frontend_config());
    Ok(func)
}

/// The error for functions using SIMD operators (a later issue); v128 values themselves are
/// supported in signatures, locals, globals, blocks and `select`.
pub const SIMD_UNSUPPORTED: &str = "SIMD is not supported yet";

/// The state of one function's translation.
pub(crate) struct FuncTranslator<'m, 'f> {
    pub builder: FunctionBuilder<'f>,
    pub env: FuncEnvironment<'m>,
    /// Wasm's operand stack, as SSA values.
    pub stack: Vec<Value>,
    /// Wasm's control stack; the function body is the bottom frame.
    pub control: Vec<ControlFrame>,
    /// The variable of each local (parameters first).
    pub locals: Vec<Variable>,
    /// Whether the current position can execute. wasmparser still yields the operators after a
    /// `br`, `return` or `unreachable` up to the end of their block; they are skipped.
    pub reachable: bool,
    /// While unreachable: how many blocks opened in the dead code are still open.
    pub dead_depth: u32,
}

impl FuncTranslator<'_, '_> {
    fn declare_locals(
        &mut self,
        ty: &FuncType,
        params: &[Value],
        body: &FunctionBody<'_>,
    ) -> Result<(), String> {
        for (&value, &wasm_ty) in params.iter().zip(ty.params()) {
            let var = self.builder.declare_var(value_type(wasm_ty));
            self.builder.def_var(var, value);
            self.locals.push(var);
        }
        let mut reader = body.get_locals_reader().map_err(|e| e.to_string())?;
        for _ in 0..reader.get_count() {
            let (count, wasm_ty) = reader.read().map_err(|e| e.to_string())?;
            // Locals start at zero (null for references, +0.0 for floats).
            let zero = self.zero(wasm_ty);
            for _ in 0..count {
                let var = self.builder.declare_var(value_type(wasm_ty));
                self.builder.def_var(var, zero);
                self.locals.push(var);
            }
        }
        Ok(())
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

    fn translate_operator(&mut self, op: &Operator<'_>) -> Result<(), String> {
        if !self.reachable {
            return control::translate_unreachable(self, op);
        }
        // Each concern claims its operators; the most frequent ones are asked first.
        let handled = variables::translate(self, op)?
            || numeric::translate(self, op)?
            || memory::translate(self, op)?
            || control::translate(self, op)?
            || calls::translate(self, op)?
            || tables::translate(self, op)?;
        if handled {
            Ok(())
        } else if is_simd(op) {
            Err(SIMD_UNSUPPORTED.into())
        } else {
            Err(format!("unsupported operator: {op:?}"))
        }
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

/// Whether `op` belongs to the SIMD or relaxed-SIMD proposals.
fn is_simd(op: &Operator<'_>) -> bool {
    macro_rules! simd_operators {
        ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*))*) => {
            matches!(op, $(Operator::$op { .. })|*)
        };
    }
    wasmparser::for_each_visit_simd_operator!(simd_operators)
}

//! Fuel metering's accounting, shared by every tier that meters (the Cranelift translator,
//! `translate::environ`, and the single-pass compiler, `singlepass::fuel`), so that a module
//! stops after the same operator with the same fuel left at every tier.

use wasmparser::Operator;

/// What an operator costs: Wasmtime's default, so that budgets carry over. Operators that
/// generate no code, and structured control other than `if`, are free.
pub(crate) fn operator_cost(op: &Operator<'_>) -> i64 {
    match op {
        Operator::Nop | Operator::Drop => 0,
        Operator::Block { .. }
        | Operator::Loop { .. }
        | Operator::Unreachable
        | Operator::Return
        | Operator::Else
        | Operator::End => 0,
        _ => 1,
    }
}

/// Whether `op` ends a straight-line run: the run's count is added to the function's delta
/// before it (control may leave, join or loop there).
pub(crate) fn ends_run(op: &Operator<'_>) -> bool {
    matches!(
        op,
        Operator::Unreachable
            | Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::Else
            | Operator::Br { .. }
            | Operator::BrIf { .. }
            | Operator::BrTable { .. }
            | Operator::End
            | Operator::Return
            | Operator::Call { .. }
            | Operator::CallIndirect { .. }
            | Operator::ReturnCall { .. }
            | Operator::ReturnCallIndirect { .. }
            | Operator::ReturnCallRef { .. }
            | Operator::CallRef { .. }
            | Operator::BrOnNull { .. }
            | Operator::BrOnNonNull { .. }
            | Operator::Throw { .. }
            | Operator::ThrowRef
            | Operator::TryTable { .. }
            | Operator::Try { .. }
            | Operator::Catch { .. }
            | Operator::CatchAll
            | Operator::Rethrow { .. }
            | Operator::Delegate { .. }
    )
}

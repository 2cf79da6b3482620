//! Fuel metering at the single-pass tier, exactly as the translator meters it
//! (`translate::environ`, `Fuel`): the same cost per operator (`crate::fuel`), counted at
//! compile time over each straight-line run and added to the function's delta (an extra 8-byte
//! frame slot after the locals, zeroed on entry) before the operators that end a run; the delta
//! goes to the thread's fuel cell when the function returns or traps with `unreachable`, and
//! function entries and loop headers (after the interrupt check) stop with `OutOfFuel` once the
//! cell plus the delta is positive. Calls leave the delta alone. A module therefore stops after
//! the same operator, with the same fuel left, at every tier.

use wasmparser::Operator;

use super::asm::{Alu, Cond, Mem, Size};
use super::asm::{R11, R12, R15, RAX, RBX, RCX};
use super::{Compiler, Fallback};
use crate::fuel::{ends_run, operator_cost};
use crate::trap::TrapKind;
use crate::vmoffsets::{runtime_limits, vmctx};

impl Compiler<'_> {
    fn fuel_delta(&self) -> Option<Mem> {
        self.fuel_slot.map(|slot| self.local_slot(slot))
    }

    /// Counts `op` (reachable, about to be compiled); adds the run's count to the delta before
    /// an operator that ends a run; `unreachable` also hands the delta to the fuel cell.
    /// Uses r11, rax and rcx only, between operators.
    pub(super) fn fuel_before_op(&mut self, op: &Operator<'_>) -> Result<(), Fallback> {
        let Some(delta) = self.fuel_delta() else { return Ok(()) };
        self.fuel_pending += operator_cost(op);
        if ends_run(op) && self.fuel_pending != 0 {
            let pending = i32::try_from(self.fuel_pending).map_err(|_| Fallback("fuel count".into()))?;
            self.a.load(Size::S64, R11, delta);
            self.a.alu_ri(Alu::Add, Size::S64, R11, pending);
            self.a.store(Size::S64, delta, R11);
            self.fuel_pending = 0;
        }
        if matches!(op, Operator::Unreachable) {
            self.fuel_exit();
        }
        Ok(())
    }

    /// Adds the function's delta to the thread's fuel cell (control leaves the function by a
    /// trap or a throw). Uses rax, rcx and r11.
    pub(super) fn fuel_exit(&mut self) {
        let Some(delta) = self.fuel_delta() else { return };
        self.a.load(Size::S64, RAX, Mem::at(R15, vmctx::RUNTIME_LIMITS as i32));
        let cell = Mem::at(RAX, runtime_limits::FUEL_CONSUMED as i32);
        self.a.load(Size::S64, R11, cell);
        self.a.load(Size::S64, RCX, delta);
        self.a.alu_rr(Alu::Add, Size::S64, R11, RCX);
        self.a.store(Size::S64, cell, R11);
    }

    /// The fuel exit of the epilogue (bound at the return label): the result registers are live,
    /// so only registers the epilogue restores next (rbx, r12) and r11 are used; r15 is still
    /// the vmctx.
    pub(super) fn fuel_exit_at_return(&mut self) {
        let Some(delta) = self.fuel_delta() else { return };
        self.a.load(Size::S64, RBX, Mem::at(R15, vmctx::RUNTIME_LIMITS as i32));
        let cell = Mem::at(RBX, runtime_limits::FUEL_CONSUMED as i32);
        self.a.load(Size::S64, R11, cell);
        self.a.load(Size::S64, R12, delta);
        self.a.alu_rr(Alu::Add, Size::S64, R11, R12);
        self.a.store(Size::S64, cell, R11);
    }

    /// Stops with `OutOfFuel` (after handing the delta to the cell) once the cell plus the
    /// delta is positive: on entry and at loop headers, with every value in its home. Uses rax,
    /// rcx and r11.
    pub(super) fn fuel_check(&mut self) {
        let Some(delta) = self.fuel_delta() else { return };
        let ok = self.a.label();
        self.a.load(Size::S64, RCX, Mem::at(R15, vmctx::RUNTIME_LIMITS as i32));
        let cell = Mem::at(RCX, runtime_limits::FUEL_CONSUMED as i32);
        self.a.load(Size::S64, RAX, cell);
        self.a.load(Size::S64, R11, delta);
        self.a.alu_rr(Alu::Add, Size::S64, RAX, R11);
        self.a.alu_ri(Alu::Cmp, Size::S64, RAX, 0);
        self.a.jcc(Cond::Le, ok);
        // The total is what the exit stores.
        self.a.store(Size::S64, cell, RAX);
        self.a.ud2(TrapKind::OutOfFuel);
        self.a.bind(ok);
    }
}

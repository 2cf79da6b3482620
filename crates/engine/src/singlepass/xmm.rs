//! Float values in xmm registers, and comparisons left in the flags: the parts of the value
//! stack (`Val::Xmm`, `Val::Flags`) that keep float code and compare-and-branch sequences off
//! the general registers. v128 values (`Val::V128Reg`, see `simd`) share the xmm pool.
//!
//! Every helper of the core value stack keeps its contract for these values: `pop_reg` and
//! `pop_into` move a float's bits to a general register (or materialize a comparison as 0/1),
//! `spill` stores an xmm register's low 64 bits to the home slot (all 16 bytes of a v128).
//! Float operators use [`Compiler::pop_xmm`] instead, which takes any value into an xmm
//! register of its own. When the pool runs dry, `alloc_xmm` drops a cached local first, then
//! spills the deepest float or v128 held in a register.

use super::asm::{Cond, Label, Reg, Size};
use super::{Compiler, Entry, Flag, Val, R11};
use super::{Alu, XMM_POOL};

impl Compiler<'_> {
    /// A free xmm register of `XMM_POOL`; when none is, the deepest value held in one is
    /// spilled (only stores: the flags survive).
    pub(super) fn alloc_xmm(&mut self) -> u8 {
        if self.free_xmm == 0 && !self.cache_evict_xmm() {
            let depth = self
                .stack
                .iter()
                .position(|e| matches!(e.val, Val::Xmm(_) | Val::V128Reg(_)))
                .expect("the xmm pool is empty only when the stack holds its registers");
            self.spill(depth);
        }
        let x = self.free_xmm.trailing_zeros() as u8;
        debug_assert!(XMM_POOL.contains(&x));
        self.free_xmm &= !(1 << x);
        x
    }

    pub(super) fn release_xmm(&mut self, x: u8) {
        self.free_xmm |= 1 << x;
    }

    /// Gives back whatever register a popped value held.
    pub(super) fn release_val(&mut self, val: Val) {
        match val {
            Val::Reg(r) => self.release(r),
            Val::Xmm(x) | Val::V128Reg(x) => self.release_xmm(x),
            Val::Const(_) | Val::Spilled | Val::Flags(_) | Val::V128 => {}
        }
    }

    /// Whether the top of the stack is held in an xmm register.
    pub(super) fn top_is_xmm(&self) -> bool {
        matches!(self.stack.last(), Some(Entry { val: Val::Xmm(_), .. }))
    }

    /// Pops the top value into an xmm register the caller owns (its bits in the low 32 or 64).
    pub(super) fn pop_xmm(&mut self) -> (u8, Size) {
        let entry = self.pop();
        let x = match entry.val {
            // A v128's low 32 or 64 bits, as its slot's load gives.
            Val::Xmm(x) | Val::V128Reg(x) => return (x, entry.size),
            _ => self.alloc_xmm(),
        };
        match entry.val {
            Val::Const(0) => self.a.xor_xmm(x, x),
            Val::Const(v) => {
                self.a.mov_ri(Size::S64, R11, v);
                self.a.to_xmm(entry.size, x, R11);
            }
            Val::Reg(r) => {
                self.a.to_xmm(entry.size, x, r);
                self.release(r);
            }
            Val::Spilled | Val::V128 => {
                let home = self.home(self.stack.len());
                self.a.load_xmm(entry.size, x, home);
            }
            Val::Flags(flag) => {
                self.materialize(flag, R11);
                self.a.to_xmm(Size::S32, x, R11);
            }
            Val::Xmm(_) | Val::V128Reg(_) => unreachable!("returned above"),
        }
        (x, entry.size)
    }

    /// Pushes a float held in xmm register `x`.
    pub(super) fn push_xmm(&mut self, x: u8, size: Size) {
        self.push(Val::Xmm(x), size);
    }

    /// `dst` = the flags' condition as 0 or 1 (uses r11 for the float ones unless it is `dst`).
    pub(super) fn materialize(&mut self, flag: Flag, dst: Reg) {
        match flag {
            Flag::Int(cond) => self.a.setcc(cond, dst),
            Flag::FloatEq | Flag::FloatNe => {
                let (c, parity, op) = if flag == Flag::FloatEq {
                    (Cond::E, Cond::Np, Alu::And)
                } else {
                    (Cond::Ne, Cond::P, Alu::Or)
                };
                let tmp = if dst == R11 { super::RAX } else { R11 };
                self.a.setcc(c, dst);
                self.a.setcc(parity, tmp);
                self.a.alu_rr(op, Size::S32, dst, tmp);
            }
        }
    }

    /// Before operator `op`: a comparison left in the flags that `op` does not consume as its
    /// condition is materialized in a register (`op` may clobber the flags).
    pub(super) fn flags_hook(&mut self, op: &wasmparser::Operator<'_>) {
        if let Some(&Entry { val: Val::Flags(_), .. }) = self.stack.last() {
            use wasmparser::Operator as O;
            // With fuel metering, `br_if`/`if` end a run: the count is added to the delta
            // (an `add`, which sets the flags) before them, so the condition goes to a register.
            let consumer = match op {
                O::I32Eqz => true,
                O::BrIf { .. } | O::If { .. } => self.fuel_slot.is_none(),
                _ => false,
            };
            if !consumer {
                let (r, size) = self.pop_reg();
                self.push(Val::Reg(r), size);
            }
        }
    }

    /// `i32.eqz` of a comparison left in the flags: the opposite condition. False when the top
    /// of the stack is something else.
    pub(super) fn negate_flags(&mut self) -> bool {
        let Some(&Entry { val: Val::Flags(flag), size }) = self.stack.last() else { return false };
        let negated = match flag {
            Flag::Int(cond) => Flag::Int(negate(cond)),
            Flag::FloatEq => Flag::FloatNe,
            Flag::FloatNe => Flag::FloatEq,
        };
        self.pop();
        self.push(Val::Flags(negated), size);
        true
    }

    /// Pops the top value as a branch condition: the flags' condition when it is a comparison
    /// left there, else a register tested against zero (released: nothing may allocate before
    /// the jump). Only stores may be emitted between this and the jump.
    pub(super) fn pop_condition(&mut self) -> Flag {
        if let Some(&Entry { val: Val::Flags(flag), .. }) = self.stack.last() {
            self.pop();
            return flag;
        }
        let (c, _) = self.pop_reg();
        self.release(c);
        self.a.test_rr(Size::S32, c, c);
        Flag::Int(Cond::Ne)
    }

    /// Jumps to `label` if `flag` holds (`when` true) or does not (`when` false).
    pub(super) fn jump_if(&mut self, flag: Flag, when: bool, label: Label) {
        match (flag, when) {
            (Flag::Int(cond), true) => self.a.jcc(cond, label),
            (Flag::Int(cond), false) => self.a.jcc(negate(cond), label),
            // Not (equal and ordered): not equal, or unordered.
            (Flag::FloatEq, false) | (Flag::FloatNe, true) => {
                self.a.jcc(Cond::Ne, label);
                self.a.jcc(Cond::P, label);
            }
            // Equal and ordered.
            (Flag::FloatEq, true) | (Flag::FloatNe, false) => {
                let skip = self.a.label();
                self.a.jcc(Cond::P, skip);
                self.a.jcc(Cond::E, label);
                self.a.bind(skip);
            }
        }
    }
}

/// The opposite condition.
pub(super) fn negate(cond: Cond) -> Cond {
    match cond {
        Cond::O => unreachable!("no overflow comparisons"),
        Cond::B => Cond::Ae,
        Cond::Ae => Cond::B,
        Cond::E => Cond::Ne,
        Cond::Ne => Cond::E,
        Cond::Be => Cond::A,
        Cond::A => Cond::Be,
        Cond::S => unreachable!("no sign comparisons"),
        Cond::P => Cond::Np,
        Cond::Np => Cond::P,
        Cond::L => Cond::Ge,
        Cond::Ge => Cond::L,
        Cond::Le => Cond::G,
        Cond::G => Cond::Le,
    }
}

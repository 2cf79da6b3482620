//! The threads proposal's operators at the single-pass tier, as `translate::atomics` translates
//! them: atomic loads (plain `mov`s: x86-64 loads are sequentially consistent with `xchg`
//! stores), stores (`xchg`), read-modify-writes (`lock xadd` for add and sub, `xchg`, a
//! `lock cmpxchg` loop for and/or/xor), compare-exchanges (`lock cmpxchg`), narrow results
//! zero-extended; `atomic.fence` (`mfence`, what Cranelift's `fence` is on x86-64);
//! `memory.atomic.wait32/64` and `memory.atomic.notify` through the same libcalls.
//!
//! An access reaches memory as ordinary loads and stores do (guarded 32-bit memories: an
//! out-of-bounds address faults), then its natural alignment is checked: a misaligned access
//! first touches its last byte (which faults when out of bounds, so bounds come before alignment
//! as in V8 and the translator), then traps with `UnalignedAccess`. `notify` on an unshared
//! memory gives 0 after the probe, `wait` on one traps with `WaitOnUnsharedMemory`.

use cranelift_assembler_x64::{inst, Amode, AmodeOffset, AmodeOffsetPlusKnownOffset, Fixed, Gpr, GprMem, NonRspGpr};
use wasmparser::{MemArg, Operator};

use super::asm::{Alu, Cond, Hw, Mem, Reg, Size};
use super::asm::{R11, R15, R8, RAX, RCX, RDX, RSI};
use super::{fallback, Compiler, Fallback, Val};
use crate::libcall::{LibCall, WAIT_INTERRUPTED};
use crate::trap::TrapKind;
use crate::vmoffsets::vmctx;

/// The read-modify-write operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rmw {
    Add,
    Sub,
    And,
    Or,
    Xor,
    Xchg,
}

fn amode(m: Mem) -> Amode<u8> {
    match m.index {
        None => Amode::ImmReg {
            base: m.base,
            simm32: AmodeOffsetPlusKnownOffset { simm32: AmodeOffset::new(m.disp), offset: None },
            trap: None,
        },
        Some(index) => Amode::ImmRegRegShift {
            base: m.base,
            index: NonRspGpr::new(index),
            scale: cranelift_assembler_x64::Scale::One,
            simm32: AmodeOffset::new(m.disp),
            trap: None,
        },
    }
}

macro_rules! emit {
    ($c:expr, $name:ident($($arg:expr),*)) => {
        inst::$name::<Hw>::new($($arg),*).encode(&mut $c.a.buf)
    };
}

impl Compiler<'_> {
    /// Compiles `op` if it is one of the threads proposal's; `Ok(false)` when it is not.
    pub(super) fn atomic_operator(&mut self, op: &Operator<'_>) -> Result<bool, Fallback> {
        use Operator as O;
        use Size::{S32, S64};
        match *op {
            O::AtomicFence { .. } => inst::mfence_zo::new().encode(&mut self.a.buf),
            O::I32AtomicLoad { memarg } => self.atomic_load(memarg, 4, S32)?,
            O::I64AtomicLoad { memarg } => self.atomic_load(memarg, 8, S64)?,
            O::I32AtomicLoad8U { memarg } => self.atomic_load(memarg, 1, S32)?,
            O::I32AtomicLoad16U { memarg } => self.atomic_load(memarg, 2, S32)?,
            O::I64AtomicLoad8U { memarg } => self.atomic_load(memarg, 1, S64)?,
            O::I64AtomicLoad16U { memarg } => self.atomic_load(memarg, 2, S64)?,
            O::I64AtomicLoad32U { memarg } => self.atomic_load(memarg, 4, S64)?,

            O::I32AtomicStore { memarg } => self.atomic_store(memarg, 4)?,
            O::I64AtomicStore { memarg } => self.atomic_store(memarg, 8)?,
            O::I32AtomicStore8 { memarg } | O::I64AtomicStore8 { memarg } => self.atomic_store(memarg, 1)?,
            O::I32AtomicStore16 { memarg } | O::I64AtomicStore16 { memarg } => self.atomic_store(memarg, 2)?,
            O::I64AtomicStore32 { memarg } => self.atomic_store(memarg, 4)?,

            O::I32AtomicRmwAdd { memarg } => self.atomic_rmw(memarg, Rmw::Add, 4, S32)?,
            O::I64AtomicRmwAdd { memarg } => self.atomic_rmw(memarg, Rmw::Add, 8, S64)?,
            O::I32AtomicRmw8AddU { memarg } => self.atomic_rmw(memarg, Rmw::Add, 1, S32)?,
            O::I32AtomicRmw16AddU { memarg } => self.atomic_rmw(memarg, Rmw::Add, 2, S32)?,
            O::I64AtomicRmw8AddU { memarg } => self.atomic_rmw(memarg, Rmw::Add, 1, S64)?,
            O::I64AtomicRmw16AddU { memarg } => self.atomic_rmw(memarg, Rmw::Add, 2, S64)?,
            O::I64AtomicRmw32AddU { memarg } => self.atomic_rmw(memarg, Rmw::Add, 4, S64)?,

            O::I32AtomicRmwSub { memarg } => self.atomic_rmw(memarg, Rmw::Sub, 4, S32)?,
            O::I64AtomicRmwSub { memarg } => self.atomic_rmw(memarg, Rmw::Sub, 8, S64)?,
            O::I32AtomicRmw8SubU { memarg } => self.atomic_rmw(memarg, Rmw::Sub, 1, S32)?,
            O::I32AtomicRmw16SubU { memarg } => self.atomic_rmw(memarg, Rmw::Sub, 2, S32)?,
            O::I64AtomicRmw8SubU { memarg } => self.atomic_rmw(memarg, Rmw::Sub, 1, S64)?,
            O::I64AtomicRmw16SubU { memarg } => self.atomic_rmw(memarg, Rmw::Sub, 2, S64)?,
            O::I64AtomicRmw32SubU { memarg } => self.atomic_rmw(memarg, Rmw::Sub, 4, S64)?,

            O::I32AtomicRmwAnd { memarg } => self.atomic_rmw(memarg, Rmw::And, 4, S32)?,
            O::I64AtomicRmwAnd { memarg } => self.atomic_rmw(memarg, Rmw::And, 8, S64)?,
            O::I32AtomicRmw8AndU { memarg } => self.atomic_rmw(memarg, Rmw::And, 1, S32)?,
            O::I32AtomicRmw16AndU { memarg } => self.atomic_rmw(memarg, Rmw::And, 2, S32)?,
            O::I64AtomicRmw8AndU { memarg } => self.atomic_rmw(memarg, Rmw::And, 1, S64)?,
            O::I64AtomicRmw16AndU { memarg } => self.atomic_rmw(memarg, Rmw::And, 2, S64)?,
            O::I64AtomicRmw32AndU { memarg } => self.atomic_rmw(memarg, Rmw::And, 4, S64)?,

            O::I32AtomicRmwOr { memarg } => self.atomic_rmw(memarg, Rmw::Or, 4, S32)?,
            O::I64AtomicRmwOr { memarg } => self.atomic_rmw(memarg, Rmw::Or, 8, S64)?,
            O::I32AtomicRmw8OrU { memarg } => self.atomic_rmw(memarg, Rmw::Or, 1, S32)?,
            O::I32AtomicRmw16OrU { memarg } => self.atomic_rmw(memarg, Rmw::Or, 2, S32)?,
            O::I64AtomicRmw8OrU { memarg } => self.atomic_rmw(memarg, Rmw::Or, 1, S64)?,
            O::I64AtomicRmw16OrU { memarg } => self.atomic_rmw(memarg, Rmw::Or, 2, S64)?,
            O::I64AtomicRmw32OrU { memarg } => self.atomic_rmw(memarg, Rmw::Or, 4, S64)?,

            O::I32AtomicRmwXor { memarg } => self.atomic_rmw(memarg, Rmw::Xor, 4, S32)?,
            O::I64AtomicRmwXor { memarg } => self.atomic_rmw(memarg, Rmw::Xor, 8, S64)?,
            O::I32AtomicRmw8XorU { memarg } => self.atomic_rmw(memarg, Rmw::Xor, 1, S32)?,
            O::I32AtomicRmw16XorU { memarg } => self.atomic_rmw(memarg, Rmw::Xor, 2, S32)?,
            O::I64AtomicRmw8XorU { memarg } => self.atomic_rmw(memarg, Rmw::Xor, 1, S64)?,
            O::I64AtomicRmw16XorU { memarg } => self.atomic_rmw(memarg, Rmw::Xor, 2, S64)?,
            O::I64AtomicRmw32XorU { memarg } => self.atomic_rmw(memarg, Rmw::Xor, 4, S64)?,

            O::I32AtomicRmwXchg { memarg } => self.atomic_rmw(memarg, Rmw::Xchg, 4, S32)?,
            O::I64AtomicRmwXchg { memarg } => self.atomic_rmw(memarg, Rmw::Xchg, 8, S64)?,
            O::I32AtomicRmw8XchgU { memarg } => self.atomic_rmw(memarg, Rmw::Xchg, 1, S32)?,
            O::I32AtomicRmw16XchgU { memarg } => self.atomic_rmw(memarg, Rmw::Xchg, 2, S32)?,
            O::I64AtomicRmw8XchgU { memarg } => self.atomic_rmw(memarg, Rmw::Xchg, 1, S64)?,
            O::I64AtomicRmw16XchgU { memarg } => self.atomic_rmw(memarg, Rmw::Xchg, 2, S64)?,
            O::I64AtomicRmw32XchgU { memarg } => self.atomic_rmw(memarg, Rmw::Xchg, 4, S64)?,

            O::I32AtomicRmwCmpxchg { memarg } => self.atomic_cmpxchg(memarg, 4, S32)?,
            O::I64AtomicRmwCmpxchg { memarg } => self.atomic_cmpxchg(memarg, 8, S64)?,
            O::I32AtomicRmw8CmpxchgU { memarg } => self.atomic_cmpxchg(memarg, 1, S32)?,
            O::I32AtomicRmw16CmpxchgU { memarg } => self.atomic_cmpxchg(memarg, 2, S32)?,
            O::I64AtomicRmw8CmpxchgU { memarg } => self.atomic_cmpxchg(memarg, 1, S64)?,
            O::I64AtomicRmw16CmpxchgU { memarg } => self.atomic_cmpxchg(memarg, 2, S64)?,
            O::I64AtomicRmw32CmpxchgU { memarg } => self.atomic_cmpxchg(memarg, 4, S64)?,

            O::MemoryAtomicNotify { memarg } => self.atomic_notify(memarg)?,
            O::MemoryAtomicWait32 { memarg } => self.atomic_wait(memarg, 4)?,
            O::MemoryAtomicWait64 { memarg } => self.atomic_wait(memarg, 8)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The native address of an atomic access of `bytes` at wasm address `addr` (32 bits), as
    /// `[r11 + disp]` (r11 = memory base + zero-extended address), after the alignment check
    /// (whose misaligned path first probes the access's last byte). Clobbers rax and rcx.
    fn atomic_address(&mut self, memarg: MemArg, addr: Reg, bytes: u8) -> Result<Mem, Fallback> {
        let m = self.address(memarg, addr)?;
        // rax = base, r11 = address: r11 = base + address.
        self.a.alu_rr(Alu::Add, Size::S64, R11, RAX);
        let m = Mem::at(R11, m.disp);
        if bytes > 1 {
            let last = m.disp.checked_add(i32::from(bytes) - 1).ok_or_else(|| Fallback("large offset".into()))?;
            // The memory's base is page-aligned: the native address's low bits are the wasm
            // address's plus the offset's.
            self.a.mov_rr(Size::S32, RCX, R11);
            self.a.alu_ri(Alu::Add, Size::S32, RCX, m.disp);
            self.a.alu_ri(Alu::And, Size::S32, RCX, i32::from(bytes) - 1);
            let aligned = self.a.label();
            self.a.jcc(Cond::E, aligned);
            self.a.trap_here(TrapKind::MemoryOutOfBounds);
            self.a.load_narrow(1, false, Size::S32, RCX, Mem::at(R11, last));
            self.a.ud2(TrapKind::UnalignedAccess);
            self.a.bind(aligned);
        }
        Ok(m)
    }

    /// Zero-extends the low `bytes` of `r` into `dst` (the full register).
    fn zero_extend(&mut self, bytes: u8, dst: Reg, r: Reg) {
        match bytes {
            1 => emit!(self, movzbl_rm(Gpr::new(dst), GprMem::Gpr(r))),
            2 => emit!(self, movzwl_rm(Gpr::new(dst), GprMem::Gpr(r))),
            4 => self.a.mov_rr(Size::S32, dst, r),
            _ => self.a.mov_rr(Size::S64, dst, r),
        }
    }

    fn atomic_load(&mut self, memarg: MemArg, bytes: u8, to: Size) -> Result<(), Fallback> {
        let (addr, _) = self.pop_reg();
        let m = self.atomic_address(memarg, addr, bytes)?;
        self.a.trap_here(TrapKind::MemoryOutOfBounds);
        self.a.load_narrow(bytes, false, to, addr, m);
        self.push(Val::Reg(addr), to);
        Ok(())
    }

    fn atomic_store(&mut self, memarg: MemArg, bytes: u8) -> Result<(), Fallback> {
        let (value, _) = self.pop_reg();
        let (addr, _) = self.pop_reg();
        let m = self.atomic_address(memarg, addr, bytes)?;
        self.xchg(bytes, value, m);
        self.release(value);
        self.release(addr);
        Ok(())
    }

    /// `xchg [m], r` (implicitly locked), a trap site.
    fn xchg(&mut self, bytes: u8, r: Reg, m: Mem) {
        self.a.trap_here(TrapKind::MemoryOutOfBounds);
        let m = amode(m);
        match bytes {
            1 => emit!(self, xchgb_rm(Gpr::new(r), m)),
            2 => emit!(self, xchgw_rm(Gpr::new(r), m)),
            4 => emit!(self, xchgl_rm(Gpr::new(r), m)),
            _ => emit!(self, xchgq_rm(Gpr::new(r), m)),
        }
    }

    /// `lock cmpxchg [m], r` (compares with rax's low `bytes`), a trap site.
    fn lock_cmpxchg(&mut self, bytes: u8, r: Reg, m: Mem) {
        self.a.trap_here(TrapKind::MemoryOutOfBounds);
        let (m, rax) = (amode(m), Fixed(RAX));
        match bytes {
            1 => emit!(self, lock_cmpxchgb_mr(m, Gpr::new(r), rax)),
            2 => emit!(self, lock_cmpxchgw_mr(m, Gpr::new(r), rax)),
            4 => emit!(self, lock_cmpxchgl_mr(m, Gpr::new(r), rax)),
            _ => emit!(self, lock_cmpxchgq_mr(m, Gpr::new(r), rax)),
        }
    }

    fn atomic_rmw(&mut self, memarg: MemArg, op: Rmw, bytes: u8, to: Size) -> Result<(), Fallback> {
        let (value, _) = self.pop_reg();
        let (addr, _) = self.pop_reg();
        let m = self.atomic_address(memarg, addr, bytes)?;
        match op {
            Rmw::Add | Rmw::Sub => {
                if op == Rmw::Sub {
                    self.a.neg(Size::S64, value);
                }
                self.a.trap_here(TrapKind::MemoryOutOfBounds);
                let m = amode(m);
                match bytes {
                    1 => emit!(self, lock_xaddb_mr(m, Gpr::new(value))),
                    2 => emit!(self, lock_xaddw_mr(m, Gpr::new(value))),
                    4 => emit!(self, lock_xaddl_mr(m, Gpr::new(value))),
                    _ => emit!(self, lock_xaddq_mr(m, Gpr::new(value))),
                }
                self.zero_extend(bytes, addr, value);
            }
            Rmw::Xchg => {
                self.xchg(bytes, value, m);
                self.zero_extend(bytes, addr, value);
            }
            Rmw::And | Rmw::Or | Rmw::Xor => {
                // rax = the old value (zero-extended; cmpxchg reloads only its low bytes), rcx =
                // old op value; retried until no other write came in between.
                self.a.trap_here(TrapKind::MemoryOutOfBounds);
                self.a.load_narrow(bytes, false, Size::S64, RAX, m);
                let retry = self.a.label();
                self.a.bind(retry);
                self.a.mov_rr(Size::S64, RCX, RAX);
                let alu = match op {
                    Rmw::And => Alu::And,
                    Rmw::Or => Alu::Or,
                    _ => Alu::Xor,
                };
                self.a.alu_rr(alu, Size::S64, RCX, value);
                self.lock_cmpxchg(bytes, RCX, m);
                self.a.jcc(Cond::Ne, retry);
                self.zero_extend(bytes, addr, RAX);
            }
        }
        self.release(value);
        self.push(Val::Reg(addr), to);
        Ok(())
    }

    fn atomic_cmpxchg(&mut self, memarg: MemArg, bytes: u8, to: Size) -> Result<(), Fallback> {
        let (replacement, _) = self.pop_reg();
        let (expected, _) = self.pop_reg();
        let (addr, _) = self.pop_reg();
        let m = self.atomic_address(memarg, addr, bytes)?;
        // Only the access's low bytes of `expected` are compared (wasm wraps it to the width).
        self.a.mov_rr(Size::S64, RAX, expected);
        self.lock_cmpxchg(bytes, replacement, m);
        // rax: the old value on failure, `expected` (whose high bits may be set) on success.
        self.zero_extend(bytes, addr, RAX);
        self.release(replacement);
        self.release(expected);
        self.push(Val::Reg(addr), to);
        Ok(())
    }

    /// Whether the memory of `memarg` is shared.
    fn shared(&self, memarg: MemArg) -> Result<bool, Fallback> {
        let wasmparser::MemArgTarget::Memory(index) = memarg.target else {
            return fallback("array accesses");
        };
        match self.module.memory_type(index) {
            Some(memory) => Ok(memory.shared),
            None => fallback("no such memory"),
        }
    }

    /// Spills the stack, then leaves in r11 the native address of the `wait`/`notify` operand
    /// at depth `depth` (bounds-checked by a probing load of `bytes`, and aligned), plus the
    /// offset in the returned displacement. Clobbers rax, rcx, rdx.
    fn probed_address(&mut self, memarg: MemArg, depth: usize, bytes: u8) -> Result<Mem, Fallback> {
        let home = self.home(depth);
        let size = self.stack[depth].size;
        self.a.load(size, RDX, home);
        let m = self.atomic_address(memarg, RDX, bytes)?;
        self.a.trap_here(TrapKind::MemoryOutOfBounds);
        self.a.load_narrow(bytes, false, Size::S64, RCX, m);
        Ok(m)
    }

    /// Calls libcall `call` (System V; arguments after the vmctx in place).
    fn call_libcall(&mut self, call: LibCall) {
        self.a.mov_rr(Size::S64, super::asm::RDI, R15);
        self.a.load(Size::S64, RAX, Mem::at(R15, vmctx::BUILTINS as i32));
        self.a.call_m(Mem::at(RAX, (call.slot() * 8) as i32));
    }

    /// `memory.atomic.notify`: how many waiters it woke (0 on an unshared memory).
    fn atomic_notify(&mut self, memarg: MemArg) -> Result<(), Fallback> {
        let shared = self.shared(memarg)?;
        self.spill_all();
        let first = self.stack.len() - 2;
        let m = self.probed_address(memarg, first, 4)?;
        if !shared {
            self.truncate(first);
            self.push(Val::Const(0), Size::S32);
            return Ok(());
        }
        // AtomicNotify(vmctx, address: i64, count: i32) -> woken: i32
        self.a.mov_rr(Size::S64, RSI, R11);
        if m.disp != 0 {
            self.a.alu_ri(Alu::Add, Size::S64, RSI, m.disp);
        }
        let home = self.home(first + 1);
        self.a.load(Size::S32, RDX, home);
        self.truncate(first);
        self.call_libcall(LibCall::AtomicNotify);
        let r = self.alloc();
        self.a.mov_rr(Size::S32, r, RAX);
        self.push(Val::Reg(r), Size::S32);
        Ok(())
    }

    /// `memory.atomic.wait32/64`: 0 woken, 1 not equal, 2 timed out.
    fn atomic_wait(&mut self, memarg: MemArg, bytes: u8) -> Result<(), Fallback> {
        let shared = self.shared(memarg)?;
        self.spill_all();
        let first = self.stack.len() - 3;
        let m = self.probed_address(memarg, first, bytes)?;
        if !shared {
            self.a.ud2(TrapKind::WaitOnUnsharedMemory);
            self.truncate(first);
            self.push(Val::Const(0), Size::S32);
            return Ok(());
        }
        // AtomicWait(vmctx, address: i64, expected: i64, timeout_ns: i64, width: i32) -> i32
        self.a.mov_rr(Size::S64, RSI, R11);
        if m.disp != 0 {
            self.a.alu_ri(Alu::Add, Size::S64, RSI, m.disp);
        }
        let size = if bytes == 8 { Size::S64 } else { Size::S32 };
        let home = self.home(first + 1);
        self.a.load(size, RDX, home);
        let home = self.home(first + 2);
        self.a.load(Size::S64, RCX, home);
        self.a.mov_ri(Size::S32, R8, i64::from(bytes));
        self.truncate(first);
        self.call_libcall(LibCall::AtomicWait);
        self.a.alu_ri(Alu::Cmp, Size::S32, RAX, WAIT_INTERRUPTED as i32);
        self.a.trap_if(Cond::E, TrapKind::Interrupted);
        let r = self.alloc();
        self.a.mov_rr(Size::S32, r, RAX);
        self.push(Val::Reg(r), Size::S32);
        Ok(())
    }
}

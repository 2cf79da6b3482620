//! SIMD (v128) in the single-pass tier.
//!
//! A function that has a v128 anywhere (a parameter, result or local, or an operator producing
//! one) is compiled with 16-byte frame slots (`Compiler::wide`): the first compile of a
//! function without v128 locals uses 8-byte slots and restarts wide ([`RESTART`]) at its
//! first v128 value, so frames of other functions are unchanged.
//!
//! A v128 value on the stack is held in an xmm register of the pool the floats use
//! ([`Val::V128Reg`], `XMM_POOL`), or in its home slot ([`Val::V128`]): a register runs dry,
//! a label, a branch or a call spills it there, all 16 bytes (`Compiler::spill`). Operators
//! pop their operands into registers they own ([`Compiler::pop_v128`], a load when the value
//! is in its slot) and push the result in a register: the SSE two-operand form computes into
//! the first operand's register. xmm0 and xmm1 are scratch inside one operator (constants,
//! masks). v128 locals are cached in xmm registers as float locals are, loop headers
//! included (`locals`: `v128_local_get`/`v128_local_set`, and a loop header loads v128 locals
//! into free registers so that accumulators stay in registers around the loop). A v128 call
//! result moves from xmm0 to a pool register; the function's own result goes to xmm0.
//!
//! Inline: memory accesses (one `movdqu` for 16 bytes straight into or from a pool register,
//! so an out-of-bounds store writes nothing; narrow accesses as the scalar ones, with the same
//! trap sites), constants, splats (a multiplication spreads the lane), local/global moves,
//! `select`, the bitwise `and`/`or`/`xor`/`andnot`/`not`, and the lane-wise operators that are
//! one SSE instruction (`sse_binary`: integer add/sub/mul/min/max/avgr/saturating ops,
//! `eq`/`gt_s`/`lt_s`, narrowing, f32/f64 add/sub/mul/div, which are the instructions
//! Cranelift emits for them), widening (`pmovzx`/`pmovsx` of the register, after `pshufd` for
//! the high half) and the i16/i32/i64 shifts (the count masked to the lane width; the
//! immediate form for a constant count), float
//! comparisons (`cmpps`/`cmppd`), integer `ne`, the 8/32/64-bit `bitmask`s, and
//! `q15mulr_sat_s` (Cranelift's x64 sequence: `pmulhrsw`, then the 0x8000 lanes fixed) and the
//! `extadd_pairwise`s (the two halves of each wide lane shifted into place and added). Lane
//! extraction and replacement, lane loads and stores and `any_true` work on the operand's
//! slot (the value is stored there first: [`Compiler::v128_to_slot`]). Every other operator
//! calls the `Simd` libcall (the runtime's `simd`) on the operand slots, with the whole stack
//! spilled; `load8x8_s` and the like load their 8 bytes inline, then widen through it when the
//! CPU lacks SSE4.1.

use wasmparser::{MemArg, Operator, ValType};

use super::asm::{Alu, Mem, Reg, Size};
use super::asm::{R15, R8, RAX, RBP, RCX, RDI, RDX, RSI};
use super::{fallback, Compiler, Fallback, Val};
use crate::libcall::{simd_arity, simd_subop, LibCall};
use crate::vmoffsets::vmctx;

/// The reason a function is compiled again with 16-byte slots (never reported).
pub(super) const RESTART: &str = "v128 value: restart with 16-byte slots";

/// A scalar or v128 type's size in a frame slot (v128: 16-byte slots hold it whole).
pub(super) fn slot_size(ty: ValType) -> Result<Size, Fallback> {
    match ty {
        ValType::V128 => Ok(Size::S64),
        other => super::size_of(other),
    }
}

/// `x` repeated in every lane of `bytes` bytes of a 64-bit value.
fn spread(bytes: u8) -> i64 {
    match bytes {
        1 => 0x0101_0101_0101_0101,
        2 => 0x0001_0001_0001_0001,
        4 => 0x0000_0001_0000_0001,
        _ => 1,
    }
}

impl Compiler<'_> {
    /// Fails with [`RESTART`] unless the function is compiled with 16-byte slots.
    pub(super) fn need_wide(&self) -> Result<(), Fallback> {
        if self.wide {
            Ok(())
        } else {
            fallback(RESTART)
        }
    }

    pub(super) fn is_v128_local(&self, index: u32) -> bool {
        self.v128_locals.get(index as usize).copied().unwrap_or(false)
    }

    pub(super) fn is_v128_global(&self, index: u32) -> bool {
        index < self.offsets.num_globals && self.module.global_type(index).content_type == ValType::V128
    }

    /// Whether the value `depth` below the top is a v128.
    pub(super) fn is_v128_at(&self, depth: usize) -> bool {
        let len = self.stack.len();
        len > depth && matches!(self.stack[len - 1 - depth].val, Val::V128 | Val::V128Reg(_))
    }

    /// Pops the top value, a v128, into an xmm register of the pool the caller owns.
    pub(super) fn pop_v128(&mut self) -> u8 {
        let entry = self.pop();
        if let Val::V128Reg(x) = entry.val {
            return x;
        }
        debug_assert!(matches!(entry.val, Val::V128 | Val::Spilled), "a v128 is in a register or its slot");
        let home = self.home(self.stack.len());
        // The allocation may spill values below: they are stored, this slot is not touched.
        let x = self.alloc_xmm();
        self.a.load_v128(x, home);
        x
    }

    /// Pushes the v128 constant whose low and high 8 bytes are `lo` and `hi`, built in a pool
    /// register (through rax, and xmm1 for the high half when it differs).
    fn push_v128_const(&mut self, lo: i64, hi: i64) {
        let x = self.alloc_xmm();
        if lo == 0 && hi == 0 {
            self.a.xor_xmm(x, x);
        } else {
            self.a.mov_ri(Size::S64, RAX, lo);
            if hi == lo {
                self.a.splat64_xmm(x, RAX);
            } else {
                self.a.to_xmm(Size::S64, x, RAX);
                self.a.mov_ri(Size::S64, RAX, hi);
                self.a.to_xmm(Size::S64, 1, RAX);
                self.a.sse_rr("punpcklqdq_a", x, 1);
            }
        }
        self.push_v128_reg(x);
    }

    /// Pushes a v128 held in pool register `x`.
    fn push_v128_reg(&mut self, x: u8) {
        self.push(Val::V128Reg(x), Size::S64);
    }

    /// Stores the v128 `depth` below the top to its home slot if a register holds it (for the
    /// operators that work on slots: lanes, shuffles, the libcall).
    fn v128_to_slot(&mut self, depth: usize) {
        let at = self.stack.len() - 1 - depth;
        if matches!(self.stack[at].val, Val::V128Reg(_)) {
            self.spill(at);
        }
    }

    /// The function's v128 result (the top value) into xmm0, as the convention returns it.
    pub(super) fn v128_result_to_xmm0(&mut self) {
        let x = self.pop_v128();
        self.a.mov_xmm(0, x);
        self.release_xmm(x);
    }

    /// `home(depth) + disp`.
    fn simd_slot(&self, depth: usize, disp: i32) -> Mem {
        let home = self.home(depth);
        Mem { disp: home.disp + disp, ..home }
    }

    fn simd_copy16(&mut self, to: Mem, from: Mem) {
        self.load0(from);
        self.a.store_v128_xmm0(to);
    }

    /// xmm0 = the 16 bytes at `m`, unless the last instruction stored xmm0 there.
    fn load0(&mut self, m: Mem) {
        if !self.a.xmm0_holds(m) {
            self.a.load_v128(0, m);
        }
    }

    /// Pushes a v128 whose bytes are in `home(stack.len())` already.
    fn push_v128(&mut self) {
        self.push(Val::V128, Size::S64);
    }

    pub(super) fn v128_global_get(&mut self, index: u32) -> Result<(), Fallback> {
        self.need_wide()?;
        let x = self.alloc_xmm();
        self.a.load(Size::S64, RAX, Mem::at(R15, self.offsets.global(index) as i32));
        self.a.load_v128(x, Mem::at(RAX, 0));
        self.push_v128_reg(x);
        Ok(())
    }

    pub(super) fn v128_global_set(&mut self, index: u32) -> Result<(), Fallback> {
        self.need_wide()?;
        let x = self.pop_v128();
        self.a.load(Size::S64, RAX, Mem::at(R15, self.offsets.global(index) as i32));
        self.a.store_v128(Mem::at(RAX, 0), x);
        self.release_xmm(x);
        Ok(())
    }

    /// `select` of two v128s: the first operand's register takes the second's bytes when the
    /// condition is zero.
    pub(super) fn v128_select(&mut self) -> Result<(), Fallback> {
        self.need_wide()?;
        let (c, _) = self.pop_reg();
        let y = self.pop_v128();
        let x = self.pop_v128();
        self.release(c);
        let keep = self.a.label();
        self.a.test_rr(Size::S32, c, c);
        self.a.jcc(super::asm::Cond::Ne, keep);
        self.a.mov_xmm(x, y);
        self.a.bind(keep);
        self.release_xmm(y);
        self.push_v128_reg(x);
        Ok(())
    }

    /// Calls `Simd(vmctx, subop, lanes, home(depth))` with the whole stack spilled.
    fn simd_libcall(&mut self, subop: u32, lanes: [u8; 16], depth: usize) {
        self.spill_all();
        let (lo, hi) = lanes.split_at(8);
        let lo = i64::from_le_bytes(lo.try_into().expect("8 bytes"));
        let hi = i64::from_le_bytes(hi.try_into().expect("8 bytes"));
        self.a.mov_ri(Size::S32, RSI, i64::from(subop));
        self.a.mov_ri(Size::S64, RDX, lo);
        self.a.mov_ri(Size::S64, RCX, hi);
        self.a.mov_rr(Size::S64, R8, RBP);
        let disp = self.home(depth).disp;
        self.a.alu_ri(Alu::Add, Size::S64, R8, disp);
        self.a.mov_rr(Size::S64, RDI, R15);
        self.a.load(Size::S64, RAX, Mem::at(R15, vmctx::BUILTINS as i32));
        self.a.call_m(Mem::at(RAX, (LibCall::Simd.slot() * 8) as i32));
    }

    /// An operator through the libcall: its operands are the top `arity` values.
    fn simd_via_libcall(&mut self, op: &Operator<'_>, lanes: [u8; 16]) -> Result<bool, Fallback> {
        let Some(subop) = simd_subop(op) else {
            return Ok(false);
        };
        let arity = simd_arity(op);
        self.need_wide()?;
        let first = self.stack.len() - arity;
        // Every value goes to its slot (the call clobbers the registers; it reads the slots).
        self.simd_libcall(subop, lanes, first);
        self.stack.truncate(first);
        use Operator as O;
        match op {
            O::V128AnyTrue
            | O::I8x16AllTrue
            | O::I16x8AllTrue
            | O::I32x4AllTrue
            | O::I64x2AllTrue
            | O::I8x16Bitmask
            | O::I16x8Bitmask
            | O::I32x4Bitmask
            | O::I64x2Bitmask => self.push(Val::Spilled, Size::S32),
            _ => self.push_v128(),
        }
        Ok(true)
    }

    /// The SIMD operators; `Ok(false)` for any other.
    pub(super) fn simd(&mut self, op: &Operator<'_>) -> Result<bool, Fallback> {
        use Operator as O;
        match *op {
            O::V128Load { memarg } => self.v128_load(memarg)?,
            O::V128Store { memarg } => self.v128_store(memarg)?,
            O::V128Load8x8S { memarg } => self.simd_load_extend(memarg, &O::I16x8ExtendLowI8x16S)?,
            O::V128Load8x8U { memarg } => self.simd_load_extend(memarg, &O::I16x8ExtendLowI8x16U)?,
            O::V128Load16x4S { memarg } => self.simd_load_extend(memarg, &O::I32x4ExtendLowI16x8S)?,
            O::V128Load16x4U { memarg } => self.simd_load_extend(memarg, &O::I32x4ExtendLowI16x8U)?,
            O::V128Load32x2S { memarg } => self.simd_load_extend(memarg, &O::I64x2ExtendLowI32x4S)?,
            O::V128Load32x2U { memarg } => self.simd_load_extend(memarg, &O::I64x2ExtendLowI32x4U)?,
            O::V128Load8Splat { memarg } => self.simd_load_splat(memarg, 1, true)?,
            O::V128Load16Splat { memarg } => self.simd_load_splat(memarg, 2, true)?,
            O::V128Load32Splat { memarg } => self.simd_load_splat(memarg, 4, true)?,
            O::V128Load64Splat { memarg } => self.simd_load_splat(memarg, 8, true)?,
            O::V128Load32Zero { memarg } => self.simd_load_splat(memarg, 4, false)?,
            O::V128Load64Zero { memarg } => self.simd_load_splat(memarg, 8, false)?,
            O::V128Load8Lane { memarg, lane } => self.simd_load_lane(memarg, 1, lane)?,
            O::V128Load16Lane { memarg, lane } => self.simd_load_lane(memarg, 2, lane)?,
            O::V128Load32Lane { memarg, lane } => self.simd_load_lane(memarg, 4, lane)?,
            O::V128Load64Lane { memarg, lane } => self.simd_load_lane(memarg, 8, lane)?,
            O::V128Store8Lane { memarg, lane } => self.simd_store_lane(memarg, 1, lane)?,
            O::V128Store16Lane { memarg, lane } => self.simd_store_lane(memarg, 2, lane)?,
            O::V128Store32Lane { memarg, lane } => self.simd_store_lane(memarg, 4, lane)?,
            O::V128Store64Lane { memarg, lane } => self.simd_store_lane(memarg, 8, lane)?,

            O::V128Const { value } => {
                self.need_wide()?;
                let bytes = value.bytes();
                let half = |h: usize| i64::from_le_bytes(bytes[8 * h..8 * h + 8].try_into().expect("8 bytes"));
                self.push_v128_const(half(0), half(1));
            }
            O::I8x16Splat => self.simd_splat(1)?,
            O::I16x8Splat => self.simd_splat(2)?,
            O::I32x4Splat | O::F32x4Splat => self.simd_splat(4)?,
            O::I64x2Splat | O::F64x2Splat => self.simd_splat(8)?,

            O::I8x16ExtractLaneS { lane } => self.simd_extract_lane(1, lane, true, Size::S32)?,
            O::I8x16ExtractLaneU { lane } => self.simd_extract_lane(1, lane, false, Size::S32)?,
            O::I16x8ExtractLaneS { lane } => self.simd_extract_lane(2, lane, true, Size::S32)?,
            O::I16x8ExtractLaneU { lane } => self.simd_extract_lane(2, lane, false, Size::S32)?,
            O::I32x4ExtractLane { lane } | O::F32x4ExtractLane { lane } => {
                self.simd_extract_lane(4, lane, false, Size::S32)?
            }
            O::I64x2ExtractLane { lane } | O::F64x2ExtractLane { lane } => {
                self.simd_extract_lane(8, lane, false, Size::S64)?
            }
            O::I8x16ReplaceLane { lane } => self.simd_replace_lane(1, lane)?,
            O::I16x8ReplaceLane { lane } => self.simd_replace_lane(2, lane)?,
            O::I32x4ReplaceLane { lane } | O::F32x4ReplaceLane { lane } => self.simd_replace_lane(4, lane)?,
            O::I64x2ReplaceLane { lane } | O::F64x2ReplaceLane { lane } => self.simd_replace_lane(8, lane)?,

            O::V128And => self.simd_binary_inline("pand_a", false)?,
            O::V128Or => self.simd_binary_inline("por_a", false)?,
            O::V128Xor => self.simd_binary_inline("pxor_a", false)?,
            // pandn: dst = !dst & src, so `x & !y` is `pandn y, x`.
            O::V128AndNot => self.simd_binary_inline("pandn_a", true)?,
            O::V128Not => {
                self.need_wide()?;
                let x = self.pop_v128();
                self.invert(x);
                self.push_v128_reg(x);
            }

            O::I16x8ExtendLowI8x16S if self.has_sse41 => self.simd_widen("pmovsxbw", false)?,
            O::I16x8ExtendHighI8x16S if self.has_sse41 => self.simd_widen("pmovsxbw", true)?,
            O::I16x8ExtendLowI8x16U if self.has_sse41 => self.simd_widen("pmovzxbw", false)?,
            O::I16x8ExtendHighI8x16U if self.has_sse41 => self.simd_widen("pmovzxbw", true)?,
            O::I32x4ExtendLowI16x8S if self.has_sse41 => self.simd_widen("pmovsxwd", false)?,
            O::I32x4ExtendHighI16x8S if self.has_sse41 => self.simd_widen("pmovsxwd", true)?,
            O::I32x4ExtendLowI16x8U if self.has_sse41 => self.simd_widen("pmovzxwd", false)?,
            O::I32x4ExtendHighI16x8U if self.has_sse41 => self.simd_widen("pmovzxwd", true)?,
            O::I64x2ExtendLowI32x4S if self.has_sse41 => self.simd_widen("pmovsxdq", false)?,
            O::I64x2ExtendHighI32x4S if self.has_sse41 => self.simd_widen("pmovsxdq", true)?,
            O::I64x2ExtendLowI32x4U if self.has_sse41 => self.simd_widen("pmovzxdq", false)?,
            O::I64x2ExtendHighI32x4U if self.has_sse41 => self.simd_widen("pmovzxdq", true)?,
            O::I16x8Shl => self.simd_shift_inline("psllw_a", 15)?,
            O::I32x4Shl => self.simd_shift_inline("pslld_a", 31)?,
            O::I64x2Shl => self.simd_shift_inline("psllq_a", 63)?,
            O::I16x8ShrU => self.simd_shift_inline("psrlw_a", 15)?,
            O::I32x4ShrU => self.simd_shift_inline("psrld_a", 31)?,
            O::I64x2ShrU => self.simd_shift_inline("psrlq_a", 63)?,
            O::I16x8ShrS => self.simd_shift_inline("psraw_a", 15)?,
            O::I32x4ShrS => self.simd_shift_inline("psrad_a", 31)?,

            // cmpps/cmppd predicates: 0 eq, 1 lt, 2 le, 4 neq (unordered: true on NaN).
            O::F32x4Eq => self.simd_float_compare(false, 0, false)?,
            O::F32x4Ne => self.simd_float_compare(false, 4, false)?,
            O::F32x4Lt => self.simd_float_compare(false, 1, false)?,
            O::F32x4Le => self.simd_float_compare(false, 2, false)?,
            O::F32x4Gt => self.simd_float_compare(false, 1, true)?,
            O::F32x4Ge => self.simd_float_compare(false, 2, true)?,
            O::F64x2Eq => self.simd_float_compare(true, 0, false)?,
            O::F64x2Ne => self.simd_float_compare(true, 4, false)?,
            O::F64x2Lt => self.simd_float_compare(true, 1, false)?,
            O::F64x2Le => self.simd_float_compare(true, 2, false)?,
            O::F64x2Gt => self.simd_float_compare(true, 1, true)?,
            O::F64x2Ge => self.simd_float_compare(true, 2, true)?,
            O::I8x16Ne => self.simd_not_equal("pcmpeqb_a")?,
            O::I16x8Ne => self.simd_not_equal("pcmpeqw_a")?,
            O::I32x4Ne => self.simd_not_equal("pcmpeqd_a")?,
            O::I64x2Ne if self.has_sse41 => self.simd_not_equal("pcmpeqq_a")?,
            O::I8x16Bitmask => self.simd_bitmask(1)?,
            O::I32x4Bitmask => self.simd_bitmask(4)?,
            O::I64x2Bitmask => self.simd_bitmask(8)?,
            O::V128AnyTrue => {
                self.need_wide()?;
                self.v128_to_slot(0);
                self.pop();
                let d = self.stack.len();
                let r = self.alloc();
                self.a.load(Size::S64, r, self.home(d));
                self.a.load(Size::S64, RAX, self.simd_slot(d, 8));
                self.a.alu_rr(Alu::Or, Size::S64, r, RAX);
                self.a.setcc(super::asm::Cond::Ne, r);
                self.push(Val::Reg(r), Size::S32);
            }

            // SSSE3 (every CPU with SSE4.1 has it): Cranelift's x64 sequence.
            O::I16x8Q15MulrSatS if self.has_ssse3() => self.simd_q15mulr()?,
            O::I16x8ExtAddPairwiseI8x16S => self.simd_extadd_pairwise(1, true)?,
            O::I16x8ExtAddPairwiseI8x16U => self.simd_extadd_pairwise(1, false)?,
            O::I32x4ExtAddPairwiseI16x8S => self.simd_extadd_pairwise(2, true)?,
            O::I32x4ExtAddPairwiseI16x8U => self.simd_extadd_pairwise(2, false)?,

            O::I8x16Shuffle { lanes } => return self.simd_via_libcall(op, lanes),
            _ if self.simd_sse_binary(op).is_some() => {
                let (name, swap) = self.simd_sse_binary(op).expect("just checked");
                self.simd_binary_inline(name, swap)?
            }
            _ => return self.simd_via_libcall(op, [0; 16]),
        }
        Ok(true)
    }

    /// The one SSE instruction computing binary operator `op` exactly as wasm (and Cranelift's
    /// x64 backend, the same instruction for the float ones) defines it, and whether it takes its
    /// operands swapped (`lt` as `gt`). SSE4.1/4.2 ones only where the CPU has them.
    fn simd_sse_binary(&self, op: &Operator<'_>) -> Option<(&'static str, bool)> {
        use Operator as O;
        let sse41 = self.has_sse41;
        let sse42 = sse41 && std::arch::is_x86_feature_detected!("sse4.2");
        Some(match *op {
            O::I8x16Add => ("paddb_a", false),
            O::I16x8Add => ("paddw_a", false),
            O::I32x4Add => ("paddd_a", false),
            O::I64x2Add => ("paddq_a", false),
            O::I8x16Sub => ("psubb_a", false),
            O::I16x8Sub => ("psubw_a", false),
            O::I32x4Sub => ("psubd_a", false),
            O::I64x2Sub => ("psubq_a", false),
            O::I16x8Mul => ("pmullw_a", false),
            O::I32x4Mul if sse41 => ("pmulld_a", false),
            O::I8x16MinS if sse41 => ("pminsb_a", false),
            O::I16x8MinS => ("pminsw_a", false),
            O::I32x4MinS if sse41 => ("pminsd_a", false),
            O::I8x16MinU => ("pminub_a", false),
            O::I16x8MinU if sse41 => ("pminuw_a", false),
            O::I32x4MinU if sse41 => ("pminud_a", false),
            O::I8x16MaxS if sse41 => ("pmaxsb_a", false),
            O::I16x8MaxS => ("pmaxsw_a", false),
            O::I32x4MaxS if sse41 => ("pmaxsd_a", false),
            O::I8x16MaxU => ("pmaxub_a", false),
            O::I16x8MaxU if sse41 => ("pmaxuw_a", false),
            O::I32x4MaxU if sse41 => ("pmaxud_a", false),
            O::I8x16AvgrU => ("pavgb_a", false),
            O::I16x8AvgrU => ("pavgw_a", false),
            O::I8x16AddSatS => ("paddsb_a", false),
            O::I16x8AddSatS => ("paddsw_a", false),
            O::I8x16AddSatU => ("paddusb_a", false),
            O::I16x8AddSatU => ("paddusw_a", false),
            O::I8x16SubSatS => ("psubsb_a", false),
            O::I16x8SubSatS => ("psubsw_a", false),
            O::I8x16SubSatU => ("psubusb_a", false),
            O::I16x8SubSatU => ("psubusw_a", false),
            O::I8x16Eq => ("pcmpeqb_a", false),
            O::I16x8Eq => ("pcmpeqw_a", false),
            O::I32x4Eq => ("pcmpeqd_a", false),
            O::I64x2Eq if sse41 => ("pcmpeqq_a", false),
            O::I8x16GtS => ("pcmpgtb_a", false),
            O::I16x8GtS => ("pcmpgtw_a", false),
            O::I32x4GtS => ("pcmpgtd_a", false),
            O::I64x2GtS if sse42 => ("pcmpgtq_a", false),
            O::I8x16LtS => ("pcmpgtb_a", true),
            O::I16x8LtS => ("pcmpgtw_a", true),
            O::I32x4LtS => ("pcmpgtd_a", true),
            O::I64x2LtS if sse42 => ("pcmpgtq_a", true),
            // The instructions Cranelift emits for fadd/fsub/fmul/fdiv: the same NaN propagates.
            O::F32x4Add => ("addps_a", false),
            O::F64x2Add => ("addpd_a", false),
            O::F32x4Sub => ("subps_a", false),
            O::F64x2Sub => ("subpd_a", false),
            O::F32x4Mul => ("mulps_a", false),
            O::F64x2Mul => ("mulpd_a", false),
            O::F32x4Div => ("divps_a", false),
            O::F64x2Div => ("divpd_a", false),
            O::I8x16NarrowI16x8S => ("packsswb_a", false),
            O::I8x16NarrowI16x8U => ("packuswb_a", false),
            O::I16x8NarrowI32x4S => ("packssdw_a", false),
            O::I16x8NarrowI32x4U if sse41 => ("packusdw_a", false),
            _ => return None,
        })
    }

    /// Binary operator `name` (an [`Asm::sse_rr`] instruction) on the two v128s on top:
    /// xmm0 = first (second when `swap`), xmm1 = the other.
    fn simd_binary_inline(&mut self, name: &str, swap: bool) -> Result<(), Fallback> {
        let result = self.pop_two(swap)?;
        if !self.a.sse_rr(name, result.0, result.1) {
            return fallback(format!("no instruction {name}"));
        }
        self.push_v128_reg(result.0);
        Ok(())
    }

    /// Pops the two v128s on top into registers: `(first, second)`, `(second, first)` when
    /// `swap`. The second of the pair is released (still readable until the next allocation):
    /// an operator computes into the first, two-operand form, and pushes it.
    fn pop_two(&mut self, swap: bool) -> Result<(u8, u8), Fallback> {
        self.need_wide()?;
        let y = self.pop_v128();
        let x = self.pop_v128();
        let (dst, src) = if swap { (y, x) } else { (x, y) };
        self.release_xmm(src);
        Ok((dst, src))
    }

    /// xmm `x` = its bitwise complement (xmm1 is scratch).
    fn invert(&mut self, x: u8) {
        self.a.sse_rr("pcmpeqb_a", 1, 1);
        self.a.sse_rr("pxor_a", x, 1);
    }

    /// Whether the SSSE3 instruction `pmulhrsw` may be used: only with SSE4.1 (the
    /// feature the code is recorded as needing), which every CPU having also has SSSE3.
    fn has_ssse3(&self) -> bool {
        self.has_sse41 && std::arch::is_x86_feature_detected!("ssse3")
    }

    /// `i16x8.q15mulr_sat_s` as Cranelift's x64 backend lowers `sqmul_round_sat` with SSSE3:
    /// `pmulhrsw`, whose only overflow (0x8000 * 0x8000 gives 0x8000) is then turned into
    /// 0x7fff by xoring the lanes equal to 0x8000 with all-ones.
    fn simd_q15mulr(&mut self) -> Result<(), Fallback> {
        let (x, y) = self.pop_two(false)?;
        self.a.sse_rr("pmulhrsw_a", x, y);
        // 0x8000 in every lane: all-ones shifted left by 15.
        self.a.sse_rr("pcmpeqw_a", 1, 1);
        self.a.sse_shift_imm("psllw", 1, 15);
        self.a.sse_rr("pcmpeqw_a", 1, x);
        self.a.sse_rr("pxor_a", x, 1);
        self.push_v128_reg(x);
        Ok(())
    }

    /// `extadd_pairwise` from lanes of `bytes` bytes (1: i8x16 to i16x8, 2: i16x8 to i32x4): in
    /// each wide lane, its high half shifted down (arithmetic when `signed`, in xmm1) plus its
    /// low half shifted up and back down, with no constant vector.
    fn simd_extadd_pairwise(&mut self, bytes: u8, signed: bool) -> Result<(), Fallback> {
        self.need_wide()?;
        let x = self.pop_v128();
        let bits = 8 * bytes;
        let (left, right, add) = match (bytes, signed) {
            (1, true) => ("psllw", "psraw", "paddw_a"),
            (1, false) => ("psllw", "psrlw", "paddw_a"),
            (_, true) => ("pslld", "psrad", "paddd_a"),
            (_, false) => ("pslld", "psrld", "paddd_a"),
        };
        self.a.mov_xmm(1, x);
        self.a.sse_shift_imm(right, 1, bits);
        self.a.sse_shift_imm(left, x, bits);
        self.a.sse_shift_imm(right, x, bits);
        self.a.sse_rr(add, x, 1);
        self.push_v128_reg(x);
        Ok(())
    }

    /// A float comparison (`cmpps`/`cmppd` with `predicate`; `swap`: the operands swapped, `gt`
    /// as `lt`): all-ones lanes where true, as wasm and Cranelift's `fcmp` give.
    fn simd_float_compare(&mut self, double: bool, predicate: u8, swap: bool) -> Result<(), Fallback> {
        let (x, y) = self.pop_two(swap)?;
        self.a.sse_cmp(double, x, y, predicate);
        self.push_v128_reg(x);
        Ok(())
    }

    /// Integer `ne`: `eq` (instruction `eq`), then inverted.
    fn simd_not_equal(&mut self, eq: &str) -> Result<(), Fallback> {
        let (x, y) = self.pop_two(false)?;
        self.a.sse_rr(eq, x, y);
        self.invert(x);
        self.push_v128_reg(x);
        Ok(())
    }

    /// `bitmask` of lanes of `lane_bytes` bytes (1, 4 or 8): one move-mask instruction.
    fn simd_bitmask(&mut self, lane_bytes: u8) -> Result<(), Fallback> {
        self.need_wide()?;
        let x = self.pop_v128();
        self.release_xmm(x);
        let r = self.alloc();
        self.a.movemask(lane_bytes, r, x);
        self.push(Val::Reg(r), Size::S32);
        Ok(())
    }

    /// `extend_low`/`extend_high`: `pmovzx`/`pmovsx` of the register, after moving the high
    /// half down (`pshufd` 0xee) for `high`.
    fn simd_widen(&mut self, name: &str, high: bool) -> Result<(), Fallback> {
        self.need_wide()?;
        let x = self.pop_v128();
        if high {
            self.a.pshufd(x, x, 0xee);
        }
        if !self.a.sse_widen_rr(name, x, x) {
            return fallback(format!("no instruction {name}"));
        }
        self.push_v128_reg(x);
        Ok(())
    }

    /// A shift by the i32 on top, taken modulo the lane width (`mask`), of the v128 below it.
    fn simd_shift_inline(&mut self, name: &str, mask: i32) -> Result<(), Fallback> {
        self.need_wide()?;
        if let Some(count) = self.top_const() {
            // A constant count: the immediate form.
            self.pop();
            let x = self.pop_v128();
            let imm_name = name.trim_end_matches("_a");
            if !self.a.sse_shift_imm(imm_name, x, (count & i64::from(mask)) as u8) {
                return fallback(format!("no instruction {imm_name}"));
            }
            self.push_v128_reg(x);
            return Ok(());
        }
        let (n, _) = self.pop_reg();
        self.a.alu_ri(Alu::And, Size::S32, n, mask);
        self.a.to_xmm(Size::S64, 1, n);
        self.release(n);
        let x = self.pop_v128();
        if !self.a.sse_rr(name, x, 1) {
            return fallback(format!("no instruction {name}"));
        }
        self.push_v128_reg(x);
        Ok(())
    }

    fn v128_load(&mut self, memarg: MemArg) -> Result<(), Fallback> {
        self.need_wide()?;
        // The address read in place from a cached local's register when it is one.
        let local = self.take_local_operand();
        let addr = match local {
            Some(local) => local.reg,
            None => self.pop_reg().0,
        };
        let x = self.alloc_xmm();
        let m = self.address(memarg, addr)?;
        self.a.trap_here(crate::trap::TrapKind::MemoryOutOfBounds);
        self.a.load_v128(x, m);
        match local {
            Some(local) => self.end_local_operand(local),
            None => self.release(addr),
        }
        self.push_v128_reg(x);
        Ok(())
    }

    fn v128_store(&mut self, memarg: MemArg) -> Result<(), Fallback> {
        self.need_wide()?;
        let x = self.pop_v128();
        let (addr, _) = self.pop_reg();
        let m = self.address(memarg, addr)?;
        self.release(addr);
        self.a.trap_here(crate::trap::TrapKind::MemoryOutOfBounds);
        self.a.store_v128(m, x);
        self.release_xmm(x);
        Ok(())
    }

    /// Loads `bytes` bytes (zero-extended) at the popped address into a register.
    fn simd_load_scalar(&mut self, memarg: MemArg, bytes: u8) -> Result<Reg, Fallback> {
        let (addr, _) = self.pop_reg();
        let m = self.address(memarg, addr)?;
        self.a.trap_here(crate::trap::TrapKind::MemoryOutOfBounds);
        self.a.load_narrow(bytes, false, Size::S64, addr, m);
        Ok(addr)
    }

    /// `v128.loadNxM_s/u`: the 8 bytes loaded into the low half, then widened (the operator
    /// `extend` on them is the same).
    fn simd_load_extend(&mut self, memarg: MemArg, extend: &Operator<'_>) -> Result<(), Fallback> {
        self.need_wide()?;
        let r = self.simd_load_scalar(memarg, 8)?;
        let x = self.alloc_xmm();
        self.a.to_xmm(Size::S64, x, r);
        self.release(r);
        self.push_v128_reg(x);
        if !self.simd(extend)? {
            return fallback("simd extend");
        }
        Ok(())
    }

    /// `v128.loadN_splat` (`splat`), or `v128.loadN_zero`.
    fn simd_load_splat(&mut self, memarg: MemArg, bytes: u8, splat: bool) -> Result<(), Fallback> {
        self.need_wide()?;
        let r = self.simd_load_scalar(memarg, bytes)?;
        let x = if splat {
            self.simd_spread(r, bytes)
        } else {
            // movq zeroes the upper half.
            let x = self.alloc_xmm();
            self.a.to_xmm(Size::S64, x, r);
            x
        };
        self.release(r);
        self.push_v128_reg(x);
        Ok(())
    }

    /// A new pool register holding the low `bytes` of `r` (its upper bits zero) in every lane.
    fn simd_spread(&mut self, r: Reg, bytes: u8) -> u8 {
        if bytes < 8 {
            self.a.mov_ri(Size::S64, RAX, spread(bytes));
            self.a.imul_rr(Size::S64, r, RAX);
        }
        let x = self.alloc_xmm();
        self.a.splat64_xmm(x, r);
        x
    }

    fn simd_splat(&mut self, bytes: u8) -> Result<(), Fallback> {
        self.need_wide()?;
        if let Some(v) = self.top_const() {
            // A constant lane: the constant vector, spread at compile time.
            self.pop();
            let lane = if bytes == 8 { v } else { v & ((1i64 << (8 * bytes)) - 1) };
            let spread = lane.wrapping_mul(spread(bytes));
            self.push_v128_const(spread, spread);
            return Ok(());
        }
        let (r, _) = self.pop_reg();
        match bytes {
            1 => self.a.alu_ri(Alu::And, Size::S32, r, 0xff),
            2 => self.a.alu_ri(Alu::And, Size::S32, r, 0xffff),
            4 => self.a.mov_rr(Size::S32, r, r),
            _ => {}
        }
        let x = self.simd_spread(r, bytes);
        self.release(r);
        self.push_v128_reg(x);
        Ok(())
    }

    fn simd_load_lane(&mut self, memarg: MemArg, bytes: u8, lane: u8) -> Result<(), Fallback> {
        self.need_wide()?;
        self.v128_to_slot(0);
        self.pop();
        let r = self.simd_load_scalar(memarg, bytes)?;
        let d = self.stack.len();
        let (to, from) = (self.home(d), self.home(d + 1));
        self.simd_copy16(to, from);
        let at = self.simd_slot(d, i32::from(lane) * i32::from(bytes));
        self.a.store_narrow(bytes, at, r);
        self.release(r);
        self.push_v128();
        Ok(())
    }

    fn simd_store_lane(&mut self, memarg: MemArg, bytes: u8, lane: u8) -> Result<(), Fallback> {
        self.need_wide()?;
        self.v128_to_slot(0);
        self.pop();
        let at = self.simd_slot(self.stack.len(), i32::from(lane) * i32::from(bytes));
        self.a.load_narrow(bytes, false, Size::S64, RCX, at);
        let (addr, _) = self.pop_reg();
        let m = self.address(memarg, addr)?;
        self.release(addr);
        self.a.trap_here(crate::trap::TrapKind::MemoryOutOfBounds);
        self.a.store_narrow(bytes, m, RCX);
        Ok(())
    }

    fn simd_extract_lane(&mut self, bytes: u8, lane: u8, signed: bool, to: Size) -> Result<(), Fallback> {
        self.need_wide()?;
        self.v128_to_slot(0);
        self.pop();
        let at = self.simd_slot(self.stack.len(), i32::from(lane) * i32::from(bytes));
        let r = self.alloc();
        self.a.load_narrow(bytes, signed, to, r, at);
        self.push(Val::Reg(r), to);
        Ok(())
    }

    fn simd_replace_lane(&mut self, bytes: u8, lane: u8) -> Result<(), Fallback> {
        self.need_wide()?;
        self.v128_to_slot(1);
        let (r, _) = self.pop_reg();
        self.pop();
        let at = self.simd_slot(self.stack.len(), i32::from(lane) * i32::from(bytes));
        self.a.store_narrow(bytes, at, r);
        self.release(r);
        self.push_v128();
        Ok(())
    }

    // ---- calls, parameters, results ----

    /// The prologue's copy of v128 parameter `i` from xmm`x` (or from the stack-argument area
    /// at `stack`) to its local slot.
    pub(super) fn v128_param(&mut self, i: usize, x: Option<u8>, stack: i32) {
        let slot = self.local_slot(i);
        match x {
            Some(x) => self.a.store_v128(slot, x),
            None => self.simd_copy16(slot, Mem::at(RBP, 16 + stack)),
        }
    }
}

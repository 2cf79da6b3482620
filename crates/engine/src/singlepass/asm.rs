//! A thin layer over `cranelift-assembler-x64` for the single-pass compiler: the few
//! instruction forms it emits, by operand size, plus labels (rel32 jumps patched when the label
//! is bound) and trap sites. The assembler crate encodes one instruction at a time into a byte
//! vector; it has no label fixups of its own outside Cranelift's `MachBuffer`, so jumps are
//! encoded here (`jmp rel32`, `jcc rel32`: two fixed forms). So are the most frequent forms
//! (32/64-bit moves, loads, stores, ALU operations with a register or an imm32), byte for byte
//! as the crate encodes them (the tests compare every register and displacement class): they
//! are most of the code, and the crate's general operand path took about a fifth of the compile.
//! The buffers live across functions in the compiler's per-thread scratch ([`Buffers`]).

use cranelift_assembler_x64::{
    inst, Amode, AmodeOffset, AmodeOffsetPlusKnownOffset, Fixed, Gpr, GprMem, Imm16, Imm32, Imm8,
    NonRspGpr, Registers, Simm32, Xmm, XmmMem,
};

use crate::code_info::{SourceRange, TrapSite};
use crate::trap::TrapKind;

/// Hardware register numbers.
pub type Reg = u8;
pub const RAX: Reg = 0;
pub const RCX: Reg = 1;
pub const RDX: Reg = 2;
pub const RBX: Reg = 3;
pub const RSP: Reg = 4;
pub const RBP: Reg = 5;
pub const RSI: Reg = 6;
pub const RDI: Reg = 7;
pub const R8: Reg = 8;
pub const R9: Reg = 9;
pub const R10: Reg = 10;
pub const R11: Reg = 11;
pub const R12: Reg = 12;
pub const R13: Reg = 13;
pub const R14: Reg = 14;
pub const R15: Reg = 15;

/// Registers as the assembler crate sees them: plain hardware numbers.
#[derive(Clone, Copy, Debug)]
pub struct Hw;
impl Registers for Hw {
    type ReadGpr = u8;
    type ReadWriteGpr = u8;
    type WriteGpr = u8;
    type ReadXmm = u8;
    type ReadWriteXmm = u8;
    type WriteXmm = u8;
}

/// Operand size of an integer operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    S32,
    S64,
}

/// Condition codes (x86 encoding nibble).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Cond {
    O = 0x0,
    B = 0x2,
    Ae = 0x3,
    E = 0x4,
    Ne = 0x5,
    Be = 0x6,
    A = 0x7,
    S = 0x8,
    P = 0xa,
    Np = 0xb,
    L = 0xc,
    Ge = 0xd,
    Le = 0xe,
    G = 0xf,
}

/// Binary ALU operations with register or immediate sources.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alu {
    Add,
    Sub,
    And,
    Or,
    Xor,
    Cmp,
}

/// Shifts and rotates by `cl` or an immediate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shift {
    Shl,
    Shr,
    Sar,
    Rol,
    Ror,
}

/// A label: unbound until [`Asm::bind`]; jumps to it are patched then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label(u32);

pub struct Asm {
    pub buf: Vec<u8>,
    labels: Vec<Option<u32>>,
    /// (offset of the rel32 field, label)
    fixups: Vec<(u32, Label)>,
    pub traps: Vec<TrapSite>,
    pub sources: Vec<SourceRange>,
    /// Counts label bindings and calls: registers the compiler caches values in keep them
    /// only while it stays the same (no other path joins, no callee clobbers them).
    pub epoch: u32,
    /// The frame slot (rbp-based) xmm0 was last stored to with [`Asm::store_v128_xmm0`], and
    /// the code offset right after that store: xmm0 still holds the slot's bytes while nothing
    /// else has been emitted and no label has been bound since ([`Asm::xmm0_holds`]).
    xmm0_slot: Option<(i32, u32)>,
}

fn mem(base: Reg, disp: i32) -> GprMem<u8, u8> {
    GprMem::Mem(Amode::ImmReg {
        base,
        simm32: AmodeOffsetPlusKnownOffset { simm32: AmodeOffset::new(disp), offset: None },
        trap: None,
    })
}

fn mem_index(base: Reg, index: Reg, disp: i32) -> GprMem<u8, u8> {
    GprMem::Mem(Amode::ImmRegRegShift {
        base,
        index: NonRspGpr::new(index),
        scale: cranelift_assembler_x64::Scale::One,
        simm32: AmodeOffset::new(disp),
        trap: None,
    })
}

/// A memory operand: `[base + disp]` or `[base + index + disp]`.
#[derive(Clone, Copy, Debug)]
pub struct Mem {
    pub base: Reg,
    pub index: Option<Reg>,
    pub disp: i32,
}

impl Mem {
    pub fn at(base: Reg, disp: i32) -> Mem {
        Mem { base, index: None, disp }
    }
    fn amode(self) -> Amode<u8> {
        match self.operand() {
            GprMem::Mem(amode) => amode,
            GprMem::Gpr(_) => unreachable!("a memory operand"),
        }
    }
    fn operand(self) -> GprMem<u8, u8> {
        match self.index {
            None => mem(self.base, self.disp),
            Some(index) => mem_index(self.base, index, self.disp),
        }
    }
}

/// The assembler records trap codes through its sink, which a byte vector ignores: trap sites
/// are recorded here instead ([`Asm::trap_here`]).
fn trap_code() -> cranelift_assembler_x64::TrapCode {
    cranelift_assembler_x64::TrapCode(std::num::NonZeroU8::MIN)
}

/// The byte vector as the assembler crate's sink, with its methods inlined: the crate's own
/// `CodeSink for Vec<u8>` is not `#[inline]`, so each byte of each instruction was a call.
struct Sink<'a>(&'a mut Vec<u8>);

impl cranelift_assembler_x64::CodeSink for Sink<'_> {
    #[inline(always)]
    fn put1(&mut self, v: u8) {
        self.0.push(v);
    }

    #[inline(always)]
    fn put2(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    #[inline(always)]
    fn put4(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    #[inline(always)]
    fn put8(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    #[inline(always)]
    fn add_trap(&mut self, _: cranelift_assembler_x64::TrapCode) {}

    #[inline(always)]
    fn use_target(&mut self, _: cranelift_assembler_x64::DeferredTarget) {}

    fn known_offset(&self, offset: cranelift_assembler_x64::KnownOffset) -> i32 {
        // No operand here carries a known offset (`mem` passes `offset: None`).
        panic!("unknown offset {offset:?}")
    }
}

macro_rules! emit {
    ($a:expr, $name:ident($($arg:expr),*)) => {
        inst::$name::<Hw>::new($($arg),*).encode(&mut Sink(&mut $a.buf))
    };
}

/// The growable buffers of an [`Asm`], kept from one function to the next by a compile thread
/// (their capacity: see `Scratch` in the compiler) and empty between functions.
#[derive(Default)]
pub struct Buffers {
    buf: Vec<u8>,
    labels: Vec<Option<u32>>,
    fixups: Vec<(u32, Label)>,
    traps: Vec<TrapSite>,
    sources: Vec<SourceRange>,
}

impl Buffers {
    /// The code buffer's capacity (the compiler drops buffers that grew too large to keep).
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }
}

/// The ModRM `reg`-field extension of the `81 /digit id` immediate forms, and the opcode of the
/// `op reg, r/m` forms, of an [`Alu`] operation.
fn alu_codes(op: Alu) -> (u8, u8) {
    match op {
        Alu::Add => (0, 0x03),
        Alu::Or => (1, 0x0b),
        Alu::And => (4, 0x23),
        Alu::Sub => (5, 0x2b),
        Alu::Xor => (6, 0x33),
        Alu::Cmp => (7, 0x3b),
    }
}

impl Asm {
    // ---- direct encoding ----
    //
    // The most frequent forms (moves, loads and stores, ALU operations) are encoded here
    // directly, byte for byte as `cranelift-assembler-x64` encodes them (the tests compare
    // every register and displacement class), without its general operand machinery: they are
    // most of what the compiler emits.

    /// Appends the first `len` bytes of `bytes` (at most 16: one instruction) with a single
    /// capacity check and a fixed-size copy.
    #[inline(always)]
    fn put(&mut self, bytes: [u8; 16], len: usize) {
        debug_assert!(len <= 16);
        self.buf.reserve(16);
        let at = self.buf.len();
        // SAFETY: `reserve` left room for 16 bytes past the length, so the 16-byte copy stays in
        // the allocation; the first `len <= 16` of them, now initialized, join the vector.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.buf.as_mut_ptr().add(at), 16);
            self.buf.set_len(at + len.min(16));
        }
    }

    /// A REX prefix for a 32- or 64-bit operation (`w`) with ModRM `reg`, SIB `index` and
    /// ModRM/SIB `base` registers, when one is needed: written at `b[0]`, its length returned.
    #[inline(always)]
    fn rex(b: &mut [u8; 16], w: bool, reg: Reg, index: Reg, base: Reg) -> usize {
        let rex = 0x40 | (w as u8) << 3 | (reg >> 3) << 2 | (index >> 3) << 1 | base >> 3;
        b[0] = rex;
        usize::from(rex != 0x40)
    }

    /// `opcode` with a register-direct ModRM: `reg` and `rm`, then `imm` when given.
    #[inline(always)]
    fn op_rr(&mut self, w: bool, opcode: u8, reg: Reg, rm: Reg, imm: Option<i32>) {
        let mut b = [0u8; 16];
        let n = Self::rex(&mut b, w, reg, 0, rm);
        b[n] = opcode;
        b[n + 1] = 0xc0 | (reg & 7) << 3 | (rm & 7);
        let mut len = n + 2;
        if let Some(imm) = imm {
            b[len..len + 4].copy_from_slice(&imm.to_le_bytes());
            len += 4;
        }
        self.put(b, len);
    }

    /// `opcode` with ModRM `reg` and a memory operand `m`.
    #[inline(always)]
    fn op_rm(&mut self, w: bool, opcode: u8, reg: Reg, m: Mem) {
        let mut b = [0u8; 16];
        let mut n = Self::rex(&mut b, w, reg, m.index.unwrap_or(0), m.base);
        // [rbp]/[r13] have no disp-less form.
        let md: u8 = if m.disp == 0 && m.base & 7 != 5 {
            0x00
        } else if i8::try_from(m.disp).is_ok() {
            0x40
        } else {
            0x80
        };
        let r = (reg & 7) << 3;
        b[n] = opcode;
        match m.index {
            None if m.base & 7 != 4 => {
                b[n + 1] = md | r | (m.base & 7);
                n += 2;
            }
            // rsp/r12 as the base need a SIB byte (no index).
            None => {
                b[n + 1] = md | r | 4;
                b[n + 2] = 0x24;
                n += 3;
            }
            Some(index) => {
                b[n + 1] = md | r | 4;
                b[n + 2] = (index & 7) << 3 | (m.base & 7);
                n += 3;
            }
        }
        match md {
            0x40 => {
                b[n] = m.disp as u8;
                n += 1;
            }
            0x80 => {
                b[n..n + 4].copy_from_slice(&m.disp.to_le_bytes());
                n += 4;
            }
            _ => {}
        }
        self.put(b, n);
    }

    /// An assembler writing into `buffers` (emptied), with room for `capacity` bytes of code.
    pub fn new(buffers: Buffers, capacity: usize) -> Asm {
        let Buffers { mut buf, mut labels, mut fixups, mut traps, mut sources } = buffers;
        buf.clear();
        buf.reserve(capacity);
        labels.clear();
        fixups.clear();
        traps.clear();
        sources.clear();
        Asm { buf, labels, fixups, traps, xmm0_slot: None, sources, epoch: 0 }
    }

    pub fn offset(&self) -> u32 {
        self.buf.len() as u32
    }

    pub fn source(&mut self, wasm_offset: u32) {
        let start = self.offset();
        match self.sources.last_mut() {
            Some(last) if last.wasm_offset == wasm_offset => {}
            Some(last) if last.start == start => last.wasm_offset = wasm_offset,
            _ => self.sources.push(SourceRange { start, wasm_offset }),
        }
    }

    /// Removes the code emitted from `to` on, which recorded no label, fixup or trap site:
    /// its source ranges move to `to`.
    pub fn retract(&mut self, to: u32) {
        let mut wasm_offset = None;
        while let Some(last) = self.sources.last() {
            if last.start <= to {
                break;
            }
            wasm_offset = Some(last.wasm_offset);
            self.sources.pop();
        }
        self.buf.truncate(to as usize);
        if let Some(w) = wasm_offset {
            self.source(w);
        }
    }

    pub fn trap_here(&mut self, kind: TrapKind) {
        let offset = self.offset();
        self.traps.push(TrapSite { offset, kind });
    }

    // ---- labels and jumps ----

    pub fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() as u32 - 1)
    }

    pub fn bind(&mut self, label: Label) {
        self.epoch = self.epoch.wrapping_add(1);
        self.xmm0_slot = None;
        self.labels[label.0 as usize] = Some(self.offset());
    }

    /// Where `label` was bound, if it was.
    pub fn label_offset(&self, label: Label) -> Option<u32> {
        self.labels[label.0 as usize]
    }


    fn rel32(&mut self, label: Label) {
        let at = self.offset();
        self.fixups.push((at, label));
        self.buf.extend_from_slice(&[0; 4]);
    }

    pub fn jmp(&mut self, label: Label) {
        self.buf.push(0xe9);
        self.rel32(label);
    }

    pub fn jcc(&mut self, cond: Cond, label: Label) {
        self.buf.extend_from_slice(&[0x0f, 0x80 | cond as u8]);
        self.rel32(label);
    }

    /// `ud2` raising `kind`, skipped unless `cond` holds: `j!cond +2; ud2`.
    pub fn trap_if(&mut self, cond: Cond, kind: TrapKind) {
        self.buf.extend_from_slice(&[0x70 | (cond as u8 ^ 1), 2]);
        self.ud2(kind);
    }

    pub fn ud2(&mut self, kind: TrapKind) {
        self.trap_here(kind);
        inst::ud2_zo::new(trap_code()).encode(&mut Sink(&mut self.buf));
    }

    /// Resolves every jump; fails if a label was never bound (a compiler bug). Returns the
    /// code, trap sites and source ranges as vectors of their exact length (copies: the
    /// buffers themselves go back to the compile thread's scratch, [`Asm::into_buffers`]).
    #[allow(clippy::type_complexity)]
    pub fn finish(&mut self) -> Result<(Vec<u8>, Vec<TrapSite>, Vec<SourceRange>), String> {
        for &(at, label) in &self.fixups {
            let target = self.labels[label.0 as usize].ok_or("single-pass: unbound label")?;
            let rel = target as i64 - (at as i64 + 4);
            let at = at as usize;
            self.buf[at..at + 4].copy_from_slice(&(rel as i32).to_le_bytes());
        }
        self.traps.sort_by_key(|t| t.offset);
        Ok((self.buf.as_slice().into(), self.traps.as_slice().into(), self.sources.as_slice().into()))
    }

    /// The buffers, for the next function.
    pub fn into_buffers(self) -> Buffers {
        let Asm { buf, labels, fixups, traps, sources, .. } = self;
        Buffers { buf, labels, fixups, traps, sources }
    }

    /// Overwrites the 4 bytes at `at` (an immediate emitted earlier).
    pub fn patch_u32(&mut self, at: u32, value: u32) {
        let at = at as usize;
        self.buf[at..at + 4].copy_from_slice(&value.to_le_bytes());
    }

    // ---- moves ----

    pub fn mov_rr(&mut self, size: Size, dst: Reg, src: Reg) {
        self.op_rr(size == Size::S64, 0x8b, dst, src, None);
    }

    pub fn mov_ri(&mut self, size: Size, dst: Reg, value: i64) {
        let mut b = [0u8; 16];
        let zero_extended = size == Size::S32 || value as u64 <= u32::MAX as u64;
        if zero_extended || i32::try_from(value).is_err() {
            // `mov r32, imm32` (B8+r; zero-extends) or `movabs r64, imm64` (REX.W B8+r).
            let n = Self::rex(&mut b, !zero_extended, 0, 0, dst);
            b[n] = 0xb8 | (dst & 7);
            let len = if zero_extended {
                b[n + 1..n + 5].copy_from_slice(&(value as u32).to_le_bytes());
                n + 5
            } else {
                b[n + 1..n + 9].copy_from_slice(&value.to_le_bytes());
                n + 9
            };
            self.put(b, len);
        } else {
            // A negative i32, sign-extended: `mov r/m64, imm32` (REX.W C7 /0).
            self.op_rr(true, 0xc7, 0, dst, Some(value as i32));
        }
    }

    pub fn load(&mut self, size: Size, dst: Reg, src: Mem) {
        self.op_rm(size == Size::S64, 0x8b, dst, src);
    }

    pub fn store(&mut self, size: Size, dst: Mem, src: Reg) {
        self.op_rm(size == Size::S64, 0x89, src, dst);
    }

    /// Narrow loads, extending to 32 (`S32`) or 64 bits.
    pub fn load_narrow(&mut self, bytes: u8, signed: bool, to: Size, dst: Reg, src: Mem) {
        let m = src.operand();
        match (bytes, signed, to) {
            (1, false, _) => emit!(self, movzbl_rm(Gpr::new(dst), m)),
            (2, false, _) => emit!(self, movzwl_rm(Gpr::new(dst), m)),
            (1, true, Size::S32) => emit!(self, movsbl_rm(Gpr::new(dst), m)),
            (2, true, Size::S32) => emit!(self, movswl_rm(Gpr::new(dst), m)),
            (1, true, Size::S64) => emit!(self, movsbq_rm(Gpr::new(dst), m)),
            (2, true, Size::S64) => emit!(self, movswq_rm(Gpr::new(dst), m)),
            (4, false, _) => emit!(self, movl_rm(Gpr::new(dst), m)),
            (4, true, _) => emit!(self, movslq_rm(Gpr::new(dst), m)),
            _ => emit!(self, movq_rm(Gpr::new(dst), m)),
        }
    }

    /// Narrow stores of `src`'s low `bytes`.
    pub fn store_narrow(&mut self, bytes: u8, dst: Mem, src: Reg) {
        let m = dst.operand();
        match bytes {
            1 => emit!(self, movb_mr(m, Gpr::new(src))),
            2 => emit!(self, movw_mr(m, Gpr::new(src))),
            4 => emit!(self, movl_mr(m, Gpr::new(src))),
            _ => emit!(self, movq_mr(m, Gpr::new(src))),
        }
    }

    /// Stores the low `bytes` of `value` (for 8 bytes: an i32 sign-extended, which the caller
    /// checks `value` is).
    pub fn store_imm(&mut self, bytes: u8, dst: Mem, value: i64) {
        let m = dst.operand();
        match bytes {
            1 => emit!(self, movb_mi(m, Imm8::new(value as u8))),
            2 => emit!(self, movw_mi(m, Imm16::new(value as u16))),
            4 => emit!(self, movl_mi(m, Imm32::new(value as u32))),
            _ => emit!(self, movq_mi_sxl(m, Simm32::new(value as i32))),
        }
    }

    /// Sign-extends the low `bytes` of `src` into `dst` (wasm's `extendN_s`).
    pub fn sign_extend(&mut self, bytes: u8, to: Size, dst: Reg, src: Reg) {
        let s = GprMem::Gpr(src);
        match (bytes, to) {
            (1, Size::S32) => emit!(self, movsbl_rm(Gpr::new(dst), s)),
            (2, Size::S32) => emit!(self, movswl_rm(Gpr::new(dst), s)),
            (1, Size::S64) => emit!(self, movsbq_rm(Gpr::new(dst), s)),
            (2, Size::S64) => emit!(self, movswq_rm(Gpr::new(dst), s)),
            _ => emit!(self, movslq_rm(Gpr::new(dst), s)),
        }
    }

    // ---- arithmetic ----

    pub fn alu_rr(&mut self, op: Alu, size: Size, dst: Reg, src: Reg) {
        self.op_rr(size == Size::S64, alu_codes(op).1, dst, src, None);
    }

    /// `dst op= imm` (sign-extended to 64 bits for `S64`): always the `81 /digit id` form (the
    /// frame-size fixups patch such an immediate).
    pub fn alu_ri(&mut self, op: Alu, size: Size, dst: Reg, imm: i32) {
        self.op_rr(size == Size::S64, 0x81, alu_codes(op).0, dst, Some(imm));
    }

    /// `cmp reg32, [mem]` (32-bit).
    pub fn cmp_rm32(&mut self, r: Reg, m: Mem) {
        self.op_rm(false, 0x3b, r, m);
    }

    /// `cmp reg, [mem]` (64-bit).
    pub fn cmp_rm64(&mut self, r: Reg, m: Mem) {
        self.op_rm(true, 0x3b, r, m);
    }

    pub fn test_rr(&mut self, size: Size, a: Reg, b: Reg) {
        match size {
            Size::S32 => emit!(self, testl_mr(GprMem::Gpr(a), Gpr::new(b))),
            Size::S64 => emit!(self, testq_mr(GprMem::Gpr(a), Gpr::new(b))),
        }
    }

    pub fn imul_rr(&mut self, size: Size, dst: Reg, src: Reg) {
        match size {
            Size::S32 => emit!(self, imull_rm(Gpr::new(dst), GprMem::Gpr(src))),
            Size::S64 => emit!(self, imulq_rm(Gpr::new(dst), GprMem::Gpr(src))),
        }
    }

    /// `rdx:rax / src` (signed: after `cdq`/`cqo`; unsigned: after zeroing rdx).
    pub fn div(&mut self, size: Size, signed: bool, src: Reg) {
        let (a, d, s) = (Fixed(RAX), Fixed(RDX), GprMem::Gpr(src));
        let trap = trap_code();
        match (size, signed) {
            (Size::S32, true) => {
                emit!(self, cltd_zo(Fixed(RDX), Fixed(RAX)));
                emit!(self, idivl_m(a, d, s, trap))
            }
            (Size::S64, true) => {
                emit!(self, cqto_zo(Fixed(RDX), Fixed(RAX)));
                emit!(self, idivq_m(a, d, s, trap))
            }
            (Size::S32, false) => {
                emit!(self, xorl_rm(Gpr::new(RDX), GprMem::Gpr(RDX)));
                emit!(self, divl_m(a, d, s, trap))
            }
            (Size::S64, false) => {
                emit!(self, xorl_rm(Gpr::new(RDX), GprMem::Gpr(RDX)));
                emit!(self, divq_m(a, d, s, trap))
            }
        }
    }

    /// `dst = dst shift cl`.
    pub fn shift_cl(&mut self, op: Shift, size: Size, dst: Reg) {
        let (d, c) = (GprMem::Gpr(dst), Fixed(RCX));
        match (op, size) {
            (Shift::Shl, Size::S32) => emit!(self, shll_mc(d, c)),
            (Shift::Shl, Size::S64) => emit!(self, shlq_mc(d, c)),
            (Shift::Shr, Size::S32) => emit!(self, shrl_mc(d, c)),
            (Shift::Shr, Size::S64) => emit!(self, shrq_mc(d, c)),
            (Shift::Sar, Size::S32) => emit!(self, sarl_mc(d, c)),
            (Shift::Sar, Size::S64) => emit!(self, sarq_mc(d, c)),
            (Shift::Rol, Size::S32) => emit!(self, roll_mc(d, c)),
            (Shift::Rol, Size::S64) => emit!(self, rolq_mc(d, c)),
            (Shift::Ror, Size::S32) => emit!(self, rorl_mc(d, c)),
            (Shift::Ror, Size::S64) => emit!(self, rorq_mc(d, c)),
        }
    }

    /// `dst = dst shift imm` (the hardware masks the count as wasm does).
    pub fn shift_i(&mut self, op: Shift, size: Size, dst: Reg, imm: u8) {
        let (d, i) = (GprMem::Gpr(dst), Imm8::new(imm));
        match (op, size) {
            (Shift::Shl, Size::S32) => emit!(self, shll_mi(d, i)),
            (Shift::Shl, Size::S64) => emit!(self, shlq_mi(d, i)),
            (Shift::Shr, Size::S32) => emit!(self, shrl_mi(d, i)),
            (Shift::Shr, Size::S64) => emit!(self, shrq_mi(d, i)),
            (Shift::Sar, Size::S32) => emit!(self, sarl_mi(d, i)),
            (Shift::Sar, Size::S64) => emit!(self, sarq_mi(d, i)),
            (Shift::Rol, Size::S32) => emit!(self, roll_mi(d, i)),
            (Shift::Rol, Size::S64) => emit!(self, rolq_mi(d, i)),
            (Shift::Ror, Size::S32) => emit!(self, rorl_mi(d, i)),
            (Shift::Ror, Size::S64) => emit!(self, rorq_mi(d, i)),
        }
    }

    /// `dst = lzcnt/tzcnt/popcnt(src)`: 0, 1, 2.
    pub fn bitcount(&mut self, which: u8, size: Size, dst: Reg, src: Reg) {
        let (d, s) = (Gpr::new(dst), GprMem::Gpr(src));
        match (which, size) {
            (0, Size::S32) => emit!(self, lzcntl_rm(d, s)),
            (0, Size::S64) => emit!(self, lzcntq_rm(d, s)),
            (1, Size::S32) => emit!(self, tzcntl_a(d, s)),
            (1, Size::S64) => emit!(self, tzcntq_a(d, s)),
            (_, Size::S32) => emit!(self, popcntl_rm(d, s)),
            (_, Size::S64) => emit!(self, popcntq_rm(d, s)),
        }
    }

    /// `dst = cond ? 1 : 0` (32-bit).
    pub fn setcc(&mut self, cond: Cond, dst: Reg) {
        let d = GprMem::Gpr(dst);
        match cond {
            Cond::O => emit!(self, seto_m(d)),
            Cond::B => emit!(self, setb_m(d)),
            Cond::Ae => emit!(self, setae_m(d)),
            Cond::E => emit!(self, sete_m(d)),
            Cond::Ne => emit!(self, setne_m(d)),
            Cond::Be => emit!(self, setbe_m(d)),
            Cond::A => emit!(self, seta_m(d)),
            Cond::S => emit!(self, sets_m(d)),
            Cond::P => emit!(self, setp_m(d)),
            Cond::Np => emit!(self, setnp_m(d)),
            Cond::L => emit!(self, setl_m(d)),
            Cond::Ge => emit!(self, setge_m(d)),
            Cond::Le => emit!(self, setle_m(d)),
            Cond::G => emit!(self, setg_m(d)),
        }
        emit!(self, movzbl_rm(Gpr::new(dst), GprMem::Gpr(dst)));
    }

    /// `if (zero flag) dst = src`.
    pub fn cmov_e(&mut self, size: Size, dst: Reg, src: Reg) {
        match size {
            Size::S32 => emit!(self, cmovel_rm(Gpr::new(dst), GprMem::Gpr(src))),
            Size::S64 => emit!(self, cmoveq_rm(Gpr::new(dst), GprMem::Gpr(src))),
        }
    }

    pub fn neg(&mut self, size: Size, dst: Reg) {
        match size {
            Size::S32 => emit!(self, negl_m(GprMem::Gpr(dst))),
            Size::S64 => emit!(self, negq_m(GprMem::Gpr(dst))),
        }
    }

    // ---- floating point (values live in general registers as their bits) ----

    /// `xmm = gpr` (the low 32 or all 64 bits).
    pub fn to_xmm(&mut self, size: Size, xmm: u8, gpr: Reg) {
        match size {
            Size::S32 => emit!(self, movd_a(Xmm::new(xmm), GprMem::Gpr(gpr))),
            Size::S64 => emit!(self, movq_a(Xmm::new(xmm), GprMem::Gpr(gpr))),
        }
    }

    /// `gpr = xmm` (the low 32 bits zero-extended, or all 64).
    pub fn from_xmm(&mut self, size: Size, gpr: Reg, xmm: u8) {
        match size {
            Size::S32 => emit!(self, movd_b(GprMem::Gpr(gpr), Xmm::new(xmm))),
            Size::S64 => emit!(self, movq_b(GprMem::Gpr(gpr), Xmm::new(xmm))),
        }
    }

    /// `dst op= src` on scalar floats of `size` (32: single, 64: double): op 0 add, 1 sub,
    /// 2 mul, 3 div, 4 sqrt (of src).
    pub fn float_op(&mut self, op: u8, size: Size, dst: u8, src: u8) {
        let (d, s) = (Xmm::new(dst), XmmMem::Xmm(src));
        match (op, size) {
            (0, Size::S64) => emit!(self, addsd_a(d, s)),
            (1, Size::S64) => emit!(self, subsd_a(d, s)),
            (2, Size::S64) => emit!(self, mulsd_a(d, s)),
            (3, Size::S64) => emit!(self, divsd_a(d, s)),
            (_, Size::S64) => emit!(self, sqrtsd_a(d, s)),
            (0, Size::S32) => emit!(self, addss_a(d, s)),
            (1, Size::S32) => emit!(self, subss_a(d, s)),
            (2, Size::S32) => emit!(self, mulss_a(d, s)),
            (3, Size::S32) => emit!(self, divss_a(d, s)),
            (_, Size::S32) => emit!(self, sqrtss_a(d, s)),
        }
    }

    /// `ucomisd/ucomiss a, b`.
    pub fn float_compare(&mut self, size: Size, a: u8, b: u8) {
        match size {
            Size::S64 => emit!(self, ucomisd_a(Xmm::new(a), XmmMem::Xmm(b))),
            Size::S32 => emit!(self, ucomiss_a(Xmm::new(a), XmmMem::Xmm(b))),
        }
    }

    /// `xmm = (float of size to) signed integer src of size from`.
    pub fn int_to_float(&mut self, to: Size, from: Size, xmm: u8, src: Reg) {
        let (d, s) = (Xmm::new(xmm), GprMem::Gpr(src));
        // cvtsi2s* merges into the destination: clear it first (no stale dependency).
        emit!(self, xorps_a(Xmm::new(xmm), XmmMem::Xmm(xmm)));
        match (to, from) {
            (Size::S64, Size::S32) => emit!(self, cvtsi2sdl_a(d, s)),
            (Size::S64, Size::S64) => emit!(self, cvtsi2sdq_a(d, s)),
            (Size::S32, Size::S32) => emit!(self, cvtsi2ssl_a(d, s)),
            (Size::S32, Size::S64) => emit!(self, cvtsi2ssq_a(d, s)),
        }
    }

    /// `f32.demote_f64` (to S32) or `f64.promote_f32` (to S64), in place.
    pub fn float_convert(&mut self, to: Size, xmm: u8) {
        match to {
            Size::S32 => emit!(self, cvtsd2ss_a(Xmm::new(xmm), XmmMem::Xmm(xmm))),
            Size::S64 => emit!(self, cvtss2sd_a(Xmm::new(xmm), XmmMem::Xmm(xmm))),
        }
    }

    /// `roundsd/roundss dst, src, mode` (SSE4.1): mode 0 nearest (ties to even), 1 down,
    /// 2 up, 3 toward zero; bit 3 keeps the precision exception quiet.
    pub fn round(&mut self, size: Size, dst: u8, src: u8, mode: u8) {
        let (d, s, i) = (Xmm::new(dst), XmmMem::Xmm(src), Imm8::new(mode | 8));
        match size {
            Size::S64 => emit!(self, roundsd_rmi(d, s, i)),
            Size::S32 => emit!(self, roundss_rmi(d, s, i)),
        }
    }

    /// `dst op= src` on the low float of `size`: op 0 min, 1 max (x86's: the second operand
    /// when either is NaN or both are zeros), 2 bitwise or, 3 bitwise and (of the whole
    /// register).
    pub fn float_minmax_bits(&mut self, op: u8, size: Size, dst: u8, src: u8) {
        let (d, s) = (Xmm::new(dst), XmmMem::Xmm(src));
        match (op, size) {
            (0, Size::S64) => emit!(self, minsd_a(d, s)),
            (1, Size::S64) => emit!(self, maxsd_a(d, s)),
            (0, Size::S32) => emit!(self, minss_a(d, s)),
            (1, Size::S32) => emit!(self, maxss_a(d, s)),
            (2, _) => emit!(self, orpd_a(d, s)),
            (_, _) => emit!(self, andpd_a(d, s)),
        }
    }

    /// `dst = (integer of size to) xmm`, truncated (`cvttsd2si/cvttss2si`; the "integer
    /// indefinite" 1 << (to bits - 1) when out of range or NaN).
    pub fn float_to_int(&mut self, to: Size, from: Size, dst: Reg, xmm: u8) {
        let (d, s) = (Gpr::new(dst), XmmMem::Xmm(xmm));
        match (to, from) {
            (Size::S32, Size::S64) => emit!(self, cvttsd2si_a(d, s)),
            (Size::S64, Size::S64) => emit!(self, cvttsd2si_aq(d, s)),
            (Size::S32, Size::S32) => emit!(self, cvttss2si_a(d, s)),
            (Size::S64, Size::S32) => emit!(self, cvttss2si_aq(d, s)),
        }
    }

    // ---- floating point in xmm registers ----

    /// `xmm = [src]` (movss, zeroing the rest, or movsd).
    pub fn load_xmm(&mut self, size: Size, xmm: u8, src: Mem) {
        match size {
            Size::S32 => emit!(self, movss_a_m(Xmm::new(xmm), src.amode())),
            Size::S64 => emit!(self, movsd_a_m(Xmm::new(xmm), src.amode())),
        }
    }

    /// `[dst] = xmm` (its low 32 or 64 bits).
    pub fn store_xmm(&mut self, size: Size, dst: Mem, xmm: u8) {
        match size {
            Size::S32 => emit!(self, movss_c_m(dst.amode(), Xmm::new(xmm))),
            Size::S64 => emit!(self, movsd_c_m(dst.amode(), Xmm::new(xmm))),
        }
    }

    /// `dst = src` (the whole register).
    pub fn mov_xmm(&mut self, dst: u8, src: u8) {
        emit!(self, movaps_a(Xmm::new(dst), XmmMem::Xmm(src)));
    }

    /// `dst ^= src` (the whole register; `dst` = `src` clears it).
    pub fn xor_xmm(&mut self, dst: u8, src: u8) {
        emit!(self, xorps_a(Xmm::new(dst), XmmMem::Xmm(src)));
    }

    // ---- frame and calls ----


    pub fn pop(&mut self, r: Reg) {
        emit!(self, popq_o(Gpr::new(r)));
    }

    /// `sub rsp, imm32` with a 4-byte immediate; returns the immediate's offset for patching.
    pub fn sub_rsp_imm32(&mut self) -> u32 {
        // REX.W 81 /5 id: the long form, so that the frame size can be patched in.
        self.buf.extend_from_slice(&[0x48, 0x81, 0xec]);
        let at = self.offset();
        self.buf.extend_from_slice(&[0; 4]);
        at
    }

    /// `add reg, imm32` with a 4-byte immediate; returns the immediate's offset for patching.
    pub fn add_imm32_patchable(&mut self, r: Reg) -> u32 {
        // REX.W(+B) 81 /0 id
        self.buf.push(0x48 | (r >> 3));
        self.buf.extend_from_slice(&[0x81, 0xc0 | (r & 7)]);
        let at = self.offset();
        self.buf.extend_from_slice(&[0; 4]);
        at
    }

    pub fn call_r(&mut self, r: Reg) {
        self.epoch = self.epoch.wrapping_add(1);
        emit!(self, callq_m(GprMem::Gpr(r)));
    }

    pub fn call_m(&mut self, m: Mem) {
        self.epoch = self.epoch.wrapping_add(1);
        emit!(self, callq_m(m.operand()));
    }

    pub fn ret(&mut self) {
        inst::retq_zo::new().encode(&mut Sink(&mut self.buf));
    }

    /// `ret imm16`: returns, then pops `bytes` of stack arguments.
    pub fn ret_imm(&mut self, bytes: u16) {
        inst::retq_i::new(Imm16::new(bytes)).encode(&mut Sink(&mut self.buf));
    }

    /// `mov rsp, rbp` (64-bit).
    pub fn mov_rsp_rbp(&mut self) {
        self.mov_rr(Size::S64, RSP, RBP);
    }


    // ---- v128 (the single-pass tier keeps v128 values in 16-byte frame slots) ----

    /// `movdqu xmm, [src]`: one access, which a trap site covers whole.
    pub fn load_v128(&mut self, xmm: u8, src: Mem) {
        emit!(self, movdqu_a(Xmm::new(xmm), src.xmm_operand()))
    }

    /// `dst op= src` for the SSE2/SSE4.1/SSE4.2 instruction named `op` on xmm registers (the
    /// lane-wise v128 operators that are one instruction), or `false` for another name.
    pub fn sse_rr(&mut self, op: &str, dst: u8, src: u8) -> bool {
        let (d, s) = (Xmm::new(dst), XmmMem::Xmm(src));
        macro_rules! ops {
            ($($name:ident),*) => {
                match op {
                    $( stringify!($name) => emit!(self, $name(d, s)), )*
                    _ => return false,
                }
            };
        }
        ops!(
            paddb_a, paddw_a, paddd_a, paddq_a, psubb_a, psubw_a, psubd_a, psubq_a, pmullw_a, pmulld_a,
            pminsb_a, pminsw_a, pminsd_a, pminub_a, pminuw_a, pminud_a, pmaxsb_a, pmaxsw_a, pmaxsd_a,
            pmaxub_a, pmaxuw_a, pmaxud_a, pavgb_a, pavgw_a, paddsb_a, paddsw_a, paddusb_a, paddusw_a,
            psubsb_a, psubsw_a, psubusb_a, psubusw_a, pcmpeqb_a, pcmpeqw_a, pcmpeqd_a, pcmpeqq_a,
            pcmpgtb_a, pcmpgtw_a, pcmpgtd_a, pcmpgtq_a, addps_a, addpd_a, subps_a, subpd_a, mulps_a,
            mulpd_a, divps_a, divpd_a, packsswb_a, packuswb_a, packssdw_a, packusdw_a, psllw_a, pslld_a,
            psllq_a, psrlw_a, psrld_a, psrlq_a, psraw_a, psrad_a, pxor_a, pmulhrsw_a, pmaddubsw_a,
            pmaddwd_a, punpcklqdq_a, pand_a, por_a, pandn_a
        );
        true
    }

    /// `cmpps`/`cmppd dst, src, predicate` (`double`: cmppd).
    pub fn sse_cmp(&mut self, double: bool, dst: u8, src: u8, predicate: u8) {
        let (d, s, imm) = (Xmm::new(dst), XmmMem::Xmm(src), Imm8::new(predicate));
        if double {
            emit!(self, cmppd_a(d, s, imm))
        } else {
            emit!(self, cmpps_a(d, s, imm))
        }
    }

    /// `pmovmskb` (lane bytes 1), `movmskps` (4) or `movmskpd` (8): the top bit of each lane of
    /// xmm `src` into `dst`.
    pub fn movemask(&mut self, lane_bytes: u8, dst: Reg, src: u8) {
        let (d, s) = (Gpr::new(dst), Xmm::new(src));
        match lane_bytes {
            1 => emit!(self, pmovmskb_rm(d, s)),
            4 => emit!(self, movmskps_rm(d, s)),
            _ => emit!(self, movmskpd_rm(d, s)),
        }
    }

    /// `pmovzx*`/`pmovsx*` (named by `op`) of the low 8 bytes of xmm `src` into xmm `dst`.
    pub fn sse_widen_rr(&mut self, op: &str, dst: u8, src: u8) -> bool {
        let (d, s) = (Xmm::new(dst), XmmMem::Xmm(src));
        match op {
            "pmovzxbw" => emit!(self, pmovzxbw_a(d, s)),
            "pmovzxwd" => emit!(self, pmovzxwd_a(d, s)),
            "pmovzxdq" => emit!(self, pmovzxdq_a(d, s)),
            "pmovsxbw" => emit!(self, pmovsxbw_a(d, s)),
            "pmovsxwd" => emit!(self, pmovsxwd_a(d, s)),
            "pmovsxdq" => emit!(self, pmovsxdq_a(d, s)),
            _ => return false,
        }
        true
    }

    /// The SSE2 shift named `op` (`psllw`, `psrlw`, `psraw`, `pslld`, `psrld`, `psrad`, `psllq`,
    /// `psrlq`) of xmm
    /// `xmm` by the immediate `imm`, or `false` for another name.
    pub fn sse_shift_imm(&mut self, op: &str, xmm: u8, imm: u8) -> bool {
        let (x, i) = (Xmm::new(xmm), Imm8::new(imm));
        match op {
            "psllw" => emit!(self, psllw_b(x, i)),
            "psrlw" => emit!(self, psrlw_b(x, i)),
            "psraw" => emit!(self, psraw_b(x, i)),
            "pslld" => emit!(self, pslld_b(x, i)),
            "psrld" => emit!(self, psrld_b(x, i)),
            "psrad" => emit!(self, psrad_b(x, i)),
            "psllq" => emit!(self, psllq_b(x, i)),
            "psrlq" => emit!(self, psrlq_b(x, i)),
            _ => return false,
        }
        true
    }

    /// `pshufd dst, src, imm`.
    pub fn pshufd(&mut self, dst: u8, src: u8, imm: u8) {
        emit!(self, pshufd_a(Xmm::new(dst), XmmMem::Xmm(src), Imm8::new(imm)));
    }

    /// `movdqu [dst], xmm0` for a frame slot `dst` (`[rbp + disp]`), remembered: the next
    /// instruction may read xmm0 instead of the slot ([`Asm::xmm0_holds`]).
    pub fn store_v128_xmm0(&mut self, dst: Mem) {
        self.store_v128(dst, 0);
        self.xmm0_slot = (dst.base == RBP && dst.index.is_none()).then(|| (dst.disp, self.offset()));
    }

    /// Whether xmm0 holds frame slot `m`'s 16 bytes: it was stored there by the last instruction
    /// emitted ([`Asm::store_v128_xmm0`]) and no label has been bound at this offset since (no
    /// other path joins here).
    pub fn xmm0_holds(&self, m: Mem) -> bool {
        m.base == RBP && m.index.is_none() && self.xmm0_slot == Some((m.disp, self.offset()))
    }

    /// `movq xmm, gpr; punpcklqdq xmm, xmm`: the 64 bits of `gpr` in both halves of `xmm`.
    pub fn splat64_xmm(&mut self, xmm: u8, gpr: Reg) {
        emit!(self, movq_a(Xmm::new(xmm), GprMem::Gpr(gpr)));
        emit!(self, punpcklqdq_a(Xmm::new(xmm), XmmMem::Xmm(xmm)));
    }

    /// `movdqu [dst], xmm`.
    pub fn store_v128(&mut self, dst: Mem, xmm: u8) {
        emit!(self, movdqu_b(dst.xmm_operand(), Xmm::new(xmm)))
    }
}

impl Mem {
    fn xmm_operand(self) -> XmmMem<u8, u8> {
        match self.operand() {
            GprMem::Mem(amode) => XmmMem::Mem(amode),
            GprMem::Gpr(_) => unreachable!("a Mem is always a memory operand"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranelift_assembler_x64::Imm64;

    const DISPS: [i32; 9] = [0, 1, -1, 127, 128, -128, -129, 0x1234_5678, i32::MIN];
    const ALUS: [Alu; 6] = [Alu::Add, Alu::Sub, Alu::And, Alu::Or, Alu::Xor, Alu::Cmp];

    /// Every memory operand shape: each base, without and with each index, at each
    /// displacement class.
    fn mems() -> Vec<Mem> {
        let mut mems = Vec::new();
        for base in 0..16u8 {
            for index in std::iter::once(None).chain((0..16u8).filter(|&i| i != RSP).map(Some)) {
                for disp in DISPS {
                    mems.push(Mem { base, index, disp });
                }
            }
        }
        mems
    }

    /// The bytes `f` emits into a fresh assembler.
    fn bytes(f: impl FnOnce(&mut Asm)) -> Vec<u8> {
        let mut a = Asm::new(Buffers::default(), 16);
        f(&mut a);
        a.buf
    }

    fn same(what: &str, direct: Vec<u8>, reference: Vec<u8>) {
        assert_eq!(direct, reference, "{what}: direct encoding differs from the assembler crate's");
    }

    #[test]
    fn direct_memory_forms_match_the_assembler_crate() {
        for m in mems() {
            for r in 0..16u8 {
                let g = || Gpr::new(r);
                same(&format!("load32 {r} {m:?}"), bytes(|a| a.load(Size::S32, r, m)), bytes(|a| emit!(a, movl_rm(g(), m.operand()))));
                same(&format!("load64 {r} {m:?}"), bytes(|a| a.load(Size::S64, r, m)), bytes(|a| emit!(a, movq_rm(g(), m.operand()))));
                same(&format!("store32 {r} {m:?}"), bytes(|a| a.store(Size::S32, m, r)), bytes(|a| emit!(a, movl_mr(m.operand(), g()))));
                same(&format!("store64 {r} {m:?}"), bytes(|a| a.store(Size::S64, m, r)), bytes(|a| emit!(a, movq_mr(m.operand(), g()))));
                same(&format!("cmp32 {r} {m:?}"), bytes(|a| a.cmp_rm32(r, m)), bytes(|a| emit!(a, cmpl_rm(g(), m.operand()))));
                same(&format!("cmp64 {r} {m:?}"), bytes(|a| a.cmp_rm64(r, m)), bytes(|a| emit!(a, cmpq_rm(g(), m.operand()))));
            }
        }
    }

    #[test]
    fn direct_immediate_moves_match_the_assembler_crate() {
        let values = [0, 1, -1, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x1_0000_0000, i64::from(i32::MIN), i64::MIN, i64::MAX, -0x1234_5678_9abc];
        for d in 0..16u8 {
            for v in values {
                let g = Gpr::new(d);
                same(&format!("mov32 {d} #{v}"), bytes(|a| a.mov_ri(Size::S32, d, v)), bytes(|a| emit!(a, movl_oi(g, Imm32::new(v as u32)))));
                let reference = bytes(|a| {
                    if v as u64 <= u32::MAX as u64 {
                        emit!(a, movl_oi(g, Imm32::new(v as u32)))
                    } else if i32::try_from(v).is_ok() {
                        emit!(a, movq_mi_sxl(GprMem::Gpr(d), Simm32::new(v as i32)))
                    } else {
                        emit!(a, movabsq_oi(g, Imm64::new(v as u64)))
                    }
                });
                same(&format!("mov64 {d} #{v}"), bytes(|a| a.mov_ri(Size::S64, d, v)), reference);
            }
        }
    }

    #[test]
    fn direct_register_forms_match_the_assembler_crate() {
        for d in 0..16u8 {
            for s in 0..16u8 {
                let (g, m) = (Gpr::new(d), GprMem::Gpr(s));
                same("mov32", bytes(|a| a.mov_rr(Size::S32, d, s)), bytes(|a| emit!(a, movl_rm(g, m))));
                same("mov64", bytes(|a| a.mov_rr(Size::S64, d, s)), bytes(|a| emit!(a, movq_rm(g, m))));
                for op in ALUS {
                    let reference = |size| {
                        bytes(|a| match (op, size) {
                            (Alu::Add, Size::S32) => emit!(a, addl_rm(g, m)),
                            (Alu::Add, Size::S64) => emit!(a, addq_rm(g, m)),
                            (Alu::Sub, Size::S32) => emit!(a, subl_rm(g, m)),
                            (Alu::Sub, Size::S64) => emit!(a, subq_rm(g, m)),
                            (Alu::And, Size::S32) => emit!(a, andl_rm(g, m)),
                            (Alu::And, Size::S64) => emit!(a, andq_rm(g, m)),
                            (Alu::Or, Size::S32) => emit!(a, orl_rm(g, m)),
                            (Alu::Or, Size::S64) => emit!(a, orq_rm(g, m)),
                            (Alu::Xor, Size::S32) => emit!(a, xorl_rm(g, m)),
                            (Alu::Xor, Size::S64) => emit!(a, xorq_rm(g, m)),
                            (Alu::Cmp, Size::S32) => emit!(a, cmpl_rm(g, m)),
                            (Alu::Cmp, Size::S64) => emit!(a, cmpq_rm(g, m)),
                        })
                    };
                    for size in [Size::S32, Size::S64] {
                        same(&format!("{op:?} {size:?} {d} {s}"), bytes(|a| a.alu_rr(op, size, d, s)), reference(size));
                    }
                }
            }
            for imm in DISPS {
                let m = GprMem::Gpr(d);
                for op in ALUS {
                    let reference = |size| {
                        let (i, x) = (Imm32::new(imm as u32), Simm32::new(imm));
                        bytes(|a| match (op, size) {
                            (Alu::Add, Size::S32) => emit!(a, addl_mi(m, i)),
                            (Alu::Add, Size::S64) => emit!(a, addq_mi_sxl(m, x)),
                            (Alu::Sub, Size::S32) => emit!(a, subl_mi(m, i)),
                            (Alu::Sub, Size::S64) => emit!(a, subq_mi_sxl(m, x)),
                            (Alu::And, Size::S32) => emit!(a, andl_mi(m, i)),
                            (Alu::And, Size::S64) => emit!(a, andq_mi_sxl(m, x)),
                            (Alu::Or, Size::S32) => emit!(a, orl_mi(m, i)),
                            (Alu::Or, Size::S64) => emit!(a, orq_mi_sxl(m, x)),
                            (Alu::Xor, Size::S32) => emit!(a, xorl_mi(m, i)),
                            (Alu::Xor, Size::S64) => emit!(a, xorq_mi_sxl(m, x)),
                            (Alu::Cmp, Size::S32) => emit!(a, cmpl_mi(m, i)),
                            (Alu::Cmp, Size::S64) => emit!(a, cmpq_mi(m, x)),
                        })
                    };
                    for size in [Size::S32, Size::S64] {
                        same(&format!("{op:?} {size:?} {d} #{imm}"), bytes(|a| a.alu_ri(op, size, d, imm)), reference(size));
                    }
                }
            }
        }
    }
}

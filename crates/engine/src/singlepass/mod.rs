//! The single-pass baseline compiler: wasm bytecode straight to x86-64 machine code, read once,
//! with no IR and no register allocation pass (V8's Liftoff, SpiderMonkey's baseline compiler).
//!
//! The compiler keeps wasm's operand stack as a stack of [`Val`]s: a constant not yet
//! materialized, a value in a general or xmm register (floats: `xmm`), a comparison still in
//! the flags, a v128 (in an xmm register or its slot: `simd`), or a value spilled to its home slot in the
//! frame (one 8-byte slot per stack depth; 16 bytes in functions with v128 values). Registers
//! come from small pools; when one runs dry, the deepest value held in a register of its class
//! is spilled. Locals are cached in registers, write-through (`locals`). Every control-flow merge (block and loop labels,
//! branches, `if`/`else`) and every call spills the whole stack, so that at every label all
//! values are in their home slots: the state needs no reconciliation between edges.
//!
//! Code it produces meets the contract of every tier (see `compiler::codegen`): Cranelift's
//! `tail` calling convention on x86-64 (vmctx in rdi, arguments in rsi, rdx, rcx, r8, r9 and
//! xmm0–xmm7, the rest in 8-byte stack slots the callee pops; the result in rax or xmm0; rbx,
//! r12–r15 callee-saved; see `arg_locs`), a frame linked into the frame-pointer chain whose
//! first bytes are `push rbp; mov rbp, rsp` followed by the stack-limit check (the interrupt
//! machinery relies on both, `runtime::traps`), trap sites at every instruction that may fault,
//! a source range per operator, interrupt checks and the tier-up budget at loop headers.
//!
//! It covers every operator of WebAssembly 2.0 and of the 3.0 proposals cranewasm accepts but GC
//! (SIMD: `simd`; exceptions: `exceptions`; atomics: `atomics`; references and tables: `refs`;
//! multi-value blocks: `multivalue`; fuel metering: `fuel`; bounds-checked and 64-bit memories:
//! `bounds`; calls: `calls`; tail calls: `tailcalls`). A function it cannot compile (results
//! beyond the return registers, several results with a v128) is reported as [`Fallback`], and
//! the compiler gives it to Cranelift's baseline instead.
//!
//! The encoder is `cranelift-assembler-x64`, with the frequent forms encoded directly (see
//! `asm`). Operators go from wasmparser's decoder to `Compiler::operator` through a
//! `VisitOperator` (`Feed`), by reference; each compile thread reuses its buffers from function
//! to function (`Scratch`).

mod asm;
mod atomics;
mod bounds;
mod calls;
mod exceptions;
mod fuel;
mod locals;
mod multivalue;
mod refs;
mod simd;
mod tailcalls;
mod xmm;

use wasmparser::{BlockType, FunctionBody, MemArg, Operator, ValType};

use crate::code_info::{ExceptionSite, SourceRange, TrapSite};
use crate::libcall::{LibCall, INTERRUPT_STUB_SLOT};
use crate::module::Module;
use crate::trap::TrapKind;
use crate::vmoffsets::{
    memory_definition, memory_import, runtime_limits, vmctx, VMOffsets,
};
use asm::{Alu, Asm, Cond, Label, Mem, Reg, Shift, Size};
use asm::{R10, R11, R12, R13, R14, R15, R8, R9, RAX, RBP, RBX, RCX, RDI, RDX, RSI, RSP};

/// What the compiler needs beyond the function.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Charge the dynamic tier-up budget this much on entry and per loop iteration.
    pub tiering_cost: Option<i32>,
    pub interrupt_checks: bool,
    pub fuel: bool,
    pub bounds_checks: bool,
}

/// Machine code of one function, and what the runtime needs to know about it.
pub struct Output {
    pub code: Vec<u8>,
    pub traps: Vec<TrapSite>,
    pub sources: Vec<SourceRange>,
    /// The call sites with exception handlers, by return offset.
    pub exceptions: Vec<ExceptionSite>,
}

/// Why a function is left to Cranelift's baseline: what the compiler does not cover yet.
#[derive(Debug)]
pub struct Fallback(pub String);

fn fallback<T>(what: impl Into<String>) -> Result<T, Fallback> {
    Err(Fallback(what.into()))
}

/// Registers values live in. rax, rcx, rdx and r11 are scratch (division, shifts, calls,
/// addresses); r15 holds the vmctx.
const POOL: [Reg; 9] = [RBX, RSI, RDI, R8, R9, R10, R12, R13, R14];
/// Callee-saved registers the function uses, saved below rbp in this order.
const SAVED: [Reg; 5] = [R15, RBX, R12, R13, R14];
const SAVE_AREA: i32 = 8 * SAVED.len() as i32;
/// Argument registers of the `tail` convention after the vmctx (rdi).
const ARGS: [Reg; 5] = [RSI, RDX, RCX, R8, R9];
/// The most locals plus stack depth a function may have here (frame offsets stay small).
const MAX_SLOTS: usize = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Val {
    Const(i64),
    Reg(Reg),
    /// In its home slot.
    Spilled,
    /// In an xmm register of `XMM_POOL` (floats; its low 32 or 64 bits are the value).
    Xmm(u8),
    /// A comparison's result still in the flags: only ever the top of the stack, consumed by
    /// the next operator (`br_if`, `if`) or materialized before it (`flags_hook`).
    Flags(Flag),
    /// A v128 in its home slot (16-byte slots: see `simd`): a spilled `V128Reg`.
    V128,
    /// A v128 in an xmm register of `XMM_POOL` (all 16 bytes).
    V128Reg(u8),
}

/// A condition the flags hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flag {
    Int(Cond),
    /// After `ucomis`: equal and ordered (ZF and not PF).
    FloatEq,
    /// After `ucomis`: not equal or unordered (not ZF, or PF).
    FloatNe,
}

/// Registers float values live in; xmm0 and xmm1 stay scratch (and the calling convention's
/// first argument and result registers).
const XMM_POOL: std::ops::Range<u8> = 2..16;

#[derive(Clone, Copy, Debug)]
struct Entry {
    val: Val,
    size: Size,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FloatCmp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Function,
    Block,
    Loop,
    If { else_label: Label, has_else: bool },
}

#[derive(Clone, Copy, Debug)]
struct Frame {
    kind: Kind,
    /// Where branches to this frame go (a loop's header, else the end).
    label: Label,
    /// Stack height at entry.
    base: usize,
    /// Result size, if the block has one result.
    result: Option<Size>,
    /// Whether code was reachable at the frame's entry.
    reachable_at_entry: bool,
    /// Whether some branch targets the end label.
    branched: bool,
    /// Whether the result is a v128.
    v128: bool,
}

impl Frame {
    /// The values a branch to this frame carries.
    fn branch_arity(&self) -> usize {
        match self.kind {
            Kind::Loop => 0,
            _ => self.result.is_some() as usize,
        }
    }
}

/// The size of a value of type `ty` (f32 as 32, f64 as 64: floats live in xmm registers, or
/// as their bits in general registers and home slots).
fn size_of(ty: ValType) -> Result<Size, Fallback> {
    match ty {
        ValType::I32 | ValType::F32 => Ok(Size::S32),
        ValType::I64 | ValType::F64 => Ok(Size::S64),
        // References, `exnref` included: 64-bit pointers (see `refs`, `exceptions`).
        ValType::Ref(_) => Ok(Size::S64),
        other => fallback(format!("{other:?} values")),
    }
}

fn is_float(ty: ValType) -> bool {
    matches!(ty, ValType::F32 | ValType::F64)
}

/// Argument float registers of the `tail` convention: xmm0–xmm7, counted apart from the
/// integer ones.
const FLOAT_ARGS: usize = 8;

/// Where the `tail` convention passes a parameter (after the vmctx in rdi).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ArgLoc {
    /// `ARGS[i]`.
    Int(usize),
    /// xmm`i`.
    Float(u8),
    /// At this offset from the bottom of the stack-argument area (the caller's rsp at the call;
    /// the callee's rbp + 16).
    Stack(i32),
}

/// The parameter locations of a function of type `ty` under Cranelift's `tail` convention on
/// x86-64, and the size of its stack-argument area: as `cranelift-codegen`'s
/// `X64ABIMachineSpec::compute_arg_locs` assigns them. Integers take rdi (the vmctx), rsi, rdx,
/// rcx, r8, r9 and floats xmm0–xmm7, each class counted apart; a parameter left over takes the
/// next 8-byte stack slot (every wasm scalar is at most 8 bytes, so slots are 8 bytes, 8-byte
/// aligned, in parameter order from the lowest address), and the area is rounded up to 16 bytes.
/// The callee pops the area (`ret n`), the caller reserves it just below its rsp before the call.
fn arg_locs(ty: &wasmparser::FuncType) -> (Vec<ArgLoc>, u32) {
    let (mut ints, mut floats, mut stack) = (0usize, 0u8, 0i32);
    let mut locs = Vec::with_capacity(ty.params().len());
    for &t in ty.params() {
        // v128s take xmm registers like floats, else 16 bytes of stack, 16-byte aligned.
        let xmm = is_float(t) || t == ValType::V128;
        let loc = if xmm && usize::from(floats) < FLOAT_ARGS {
            floats += 1;
            ArgLoc::Float(floats - 1)
        } else if !xmm && ints < ARGS.len() {
            ints += 1;
            ArgLoc::Int(ints - 1)
        } else if t == ValType::V128 {
            stack = (stack + 15) / 16 * 16 + 16;
            ArgLoc::Stack(stack - 16)
        } else {
            stack += 8;
            ArgLoc::Stack(stack - 8)
        };
        locs.push(loc);
    }
    (locs, (stack as u32).next_multiple_of(16))
}

/// Integer result registers of the `tail` convention, in order (`get_intreg_for_retval`).
const INT_RETS: [Reg; 8] = [RAX, RCX, RDX, RSI, RDI, R8, R9, R10];

/// Where the `tail` convention returns each result of a function of type `ty`: integers in
/// `INT_RETS` and floats in xmm0–xmm7, each class counted apart, as cranelift-codegen's x64
/// `compute_arg_locs` assigns return values. `None` when some result would go to the stack
/// return area (whose pointer then takes rdi and moves every argument: not covered).
fn ret_locs(ty: &wasmparser::FuncType) -> Option<Vec<ArgLoc>> {
    let (mut ints, mut floats) = (0usize, 0u8);
    let mut locs = Vec::with_capacity(ty.results().len());
    for &t in ty.results() {
        if is_float(t) || t == ValType::V128 {
            if usize::from(floats) == FLOAT_ARGS {
                return None;
            }
            locs.push(ArgLoc::Float(floats));
            floats += 1;
        } else {
            if ints == INT_RETS.len() {
                return None;
            }
            locs.push(ArgLoc::Int(ints));
            ints += 1;
        }
    }
    Some(locs)
}

/// Whether this compiler can pass the parameters and results of a function of type `ty`:
/// scalar types, results all in registers.
fn signature_ok(ty: &wasmparser::FuncType) -> Result<(), Fallback> {
    if ret_locs(ty).is_none() {
        return fallback("signature: results in a stack return area");
    }
    for &t in ty.params().iter().chain(ty.results()) {
        simd::slot_size(t)?;
    }
    if ty.results().len() > 1 && ty.results().contains(&ValType::V128) {
        return fallback("signature: several results with a v128");
    }
    // `ret imm16` pops the area: wasm's limit of 1000 parameters keeps it far below.
    if arg_locs(ty).1 > u32::from(u16::MAX) {
        return fallback("signature");
    }
    Ok(())
}

struct Compiler<'m> {
    module: &'m Module,
    offsets: VMOffsets,
    options: Options,
    defined_index: u32,
    a: Asm,
    stack: Vec<Entry>,
    max_depth: usize,
    control: Vec<Frame>,
    locals: Vec<Size>,
    /// Which locals are floats (read straight into xmm registers).
    float_locals: Vec<bool>,
    free: u16,
    free_xmm: u16,
    /// Registers holding copies of locals (`locals`).
    cache: locals::LocalCache,
    /// Loop headers with locals in registers (`locals::LoopHead`).
    loop_heads: Vec<locals::LoopHead>,
    /// The loop header whose code is being emitted.
    heading: Option<Label>,
    reachable: bool,
    /// Frames opened in unreachable code, not tracked.
    dead_depth: u32,
    frame_size_fixups: Vec<u32>,
    /// The prologue's stack check, patched with the frame size plus `max_outgoing`.
    stack_check_fixup: u32,
    /// The largest stack-argument area this function reserves below its frame for a call.
    max_outgoing: u32,
    /// The size of the function's own stack-argument area, which its return pops.
    incoming_stack: u32,
    /// The function's results and their return registers, when it has more than one.
    results: Vec<(Size, ArgLoc)>,
    stack_overflow: Label,
    /// The block types of multi-value frames (see `multivalue`).
    multi: Vec<multivalue::BlockSig>,
    /// The frame slot (a local index) of the fuel delta, when metering (see `fuel`).
    fuel_slot: Option<usize>,
    /// Fuel counted since the last addition to the delta.
    fuel_pending: i64,
    has_lzcnt: bool,
    has_bmi1: bool,
    has_popcnt: bool,
    has_sse41: bool,
    /// Exception handling (`exceptions`).
    exc: exceptions::State,
    /// 16-byte frame slots (the function has v128 values: see `simd`).
    wide: bool,
    /// Which locals are v128s.
    v128_locals: Vec<bool>,
}

/// Compiles defined function `func_index` (function index space) of `module`, or says why not.
pub fn compile(
    module: &Module,
    func_index: u32,
    body: &FunctionBody<'_>,
    options: Options,
) -> Result<Output, Fallback> {
    match compile_with(module, func_index, body, options, false) {
        Err(Fallback(reason)) if reason == simd::RESTART => compile_with(module, func_index, body, options, true),
        other => other,
    }
}

/// [`compile`], with 16-byte frame slots when `wide` (or when the function has v128 locals).
fn compile_with(
    module: &Module,
    func_index: u32,
    body: &FunctionBody<'_>,
    options: Options,
    wide: bool,
) -> Result<Output, Fallback> {
    if module.functions.get(func_index as usize).is_none() {
        return fallback("no such function");
    }
    let ty = module.func_type(func_index).clone();
    signature_ok(&ty)?;
    // The thread's buffers from its previous function (lost on a fallback: rare).
    let scratch = SCRATCH.take();
    let (mut locals, mut float_locals, mut v128_locals) = (scratch.locals, scratch.float_locals, scratch.v128_locals);
    locals.clear();
    float_locals.clear();
    v128_locals.clear();
    for &p in ty.params() {
        locals.push(simd::slot_size(p)?);
        float_locals.push(is_float(p));
        v128_locals.push(p == ValType::V128);
    }
    let mut reader = body.get_locals_reader().map_err(|e| Fallback(e.to_string()))?;
    for _ in 0..reader.get_count() {
        let (count, ty) = reader.read().map_err(|e| Fallback(e.to_string()))?;
        if locals.len() + count as usize > MAX_SLOTS / 2 {
            return fallback("too many locals");
        }
        let size = simd::slot_size(ty)?;
        locals.extend(std::iter::repeat_n(size, count as usize));
        float_locals.extend(std::iter::repeat_n(is_float(ty), count as usize));
        v128_locals.extend(std::iter::repeat_n(ty == ValType::V128, count as usize));
    }
    // Fuel metering: the function's delta in one more slot after the locals (see `fuel`).
    let fuel_slot = options.fuel.then(|| {
        locals.push(Size::S64);
        float_locals.push(false);
        v128_locals.push(false);
        locals.len() - 1
    });
    // Several results: the function frame carries none itself, `results` says where they go.
    let result = match ty.results() {
        [t] => Some(simd::slot_size(*t)?),
        _ => None,
    };
    let wide = wide || v128_locals.contains(&true) || ty.results().contains(&ValType::V128);
    let results = if ty.results().len() > 1 {
        let locs = ret_locs(&ty).ok_or_else(|| Fallback("signature".into()))?;
        ty.results().iter().map(|&t| size_of(t)).collect::<Result<Vec<_>, _>>()?.into_iter().zip(locs).collect()
    } else {
        Vec::new()
    };
    let size = body.range().end - body.range().start;
    let mut a = Asm::new(scratch.asm, size as usize * 6 + 128);
    let stack_overflow = a.label();
    let ret = a.label();
    let mut c = Compiler {
        module,
        offsets: module.offsets(),
        options,
        defined_index: func_index - module.num_imported_functions,
        a,
        stack: cleared(scratch.stack),
        max_depth: 0,
        control: cleared(scratch.control),
        locals,
        float_locals,
        free: 0,
        free_xmm: 0,
        cache: locals::LocalCache::new(),
        loop_heads: cleared(scratch.loop_heads),
        heading: None,
        reachable: true,
        dead_depth: 0,
        frame_size_fixups: cleared(scratch.frame_size_fixups),
        stack_check_fixup: 0,
        max_outgoing: 0,
        incoming_stack: arg_locs(&ty).1,
        results,
        stack_overflow,
        multi: cleared(scratch.multi),
        fuel_slot,
        fuel_pending: 0,
        has_lzcnt: std::arch::is_x86_feature_detected!("lzcnt"),
        has_bmi1: std::arch::is_x86_feature_detected!("bmi1"),
        has_popcnt: std::arch::is_x86_feature_detected!("popcnt"),
        has_sse41: std::arch::is_x86_feature_detected!("sse4.1"),
        exc: Default::default(),
        wide,
        v128_locals,
    };
    for r in POOL {
        c.free |= 1 << r;
    }
    for x in XMM_POOL {
        c.free_xmm |= 1 << x;
    }
    c.control.push(Frame {
        kind: Kind::Function,
        label: ret,
        base: 0,
        result,
        reachable_at_entry: true,
        branched: false,
        v128: ty.results() == [ValType::V128],
    });
    c.prologue(&ty);
    let operators = body.get_binary_reader_for_operators().map_err(|e| Fallback(e.to_string()))?;
    let mut ops = wasmparser::OperatorsReader::new_with_allocs(operators, scratch.operators);
    // Each operator goes from the decoder to `Compiler::operator` by reference (`Feed`), not
    // returned by value through the reader's `read`.
    let mut feed = Feed { c: &mut c, offset: 0 };
    while !ops.eof() {
        feed.offset = u32::try_from(ops.original_position()).unwrap_or(u32::MAX);
        ops.visit_operator(&mut feed).map_err(|e| Fallback(e.to_string()))??;
    }
    if !c.control.is_empty() {
        return fallback("the body ended inside a block");
    }
    let float_result = match ty.results() {
        [t] if is_float(*t) => Some(size_of(*t)?),
        _ => None,
    };
    c.epilogue(ret, float_result);
    let frame = c.frame_size()?;
    for at in std::mem::take(&mut c.frame_size_fixups) {
        c.a.patch_u32(at, frame);
    }
    // The check covers the stack-argument areas the function's calls reserve below the frame
    // (each callee checks its own frame on entry).
    let checked = frame.checked_add(c.max_outgoing).ok_or_else(|| Fallback("frame too large".into()))?;
    c.a.patch_u32(c.stack_check_fixup, checked);
    let exceptions = c.exception_sites(frame)?;
    let (code, traps, sources) = c.a.finish().map_err(Fallback)?;
    Scratch::keep(c, ops.into_allocations());
    Ok(Output { code, traps, sources, exceptions })
}

/// `v`, emptied (its capacity kept).
fn cleared<T>(mut v: Vec<T>) -> Vec<T> {
    v.clear();
    v
}

/// The buffers a compile thread reuses from one function to the next (their capacity), so
/// that a module's thousands of functions do not each allocate, grow and free them (the code
/// buffer was a fresh allocation of six times the body's size per function). The outputs are
/// exact-size copies (`Asm::finish`).
#[derive(Default)]
struct Scratch {
    asm: asm::Buffers,
    stack: Vec<Entry>,
    control: Vec<Frame>,
    locals: Vec<Size>,
    float_locals: Vec<bool>,
    v128_locals: Vec<bool>,
    loop_heads: Vec<locals::LoopHead>,
    frame_size_fixups: Vec<u32>,
    multi: Vec<multivalue::BlockSig>,
    operators: wasmparser::OperatorsReaderAllocations,
}

/// A code buffer larger than this (a huge function's) is not kept for the next function.
const KEPT_CODE_CAPACITY: usize = 16 << 20;

thread_local! {
    static SCRATCH: std::cell::Cell<Scratch> = std::cell::Cell::new(Scratch::default());
}

impl Scratch {
    /// Gives `c`'s buffers back to the thread for its next function.
    fn keep(c: Compiler<'_>, operators: wasmparser::OperatorsReaderAllocations) {
        let asm = c.a.into_buffers();
        if asm.capacity() > KEPT_CODE_CAPACITY {
            return;
        }
        SCRATCH.set(Scratch {
            asm,
            stack: c.stack,
            control: c.control,
            locals: c.locals,
            float_locals: c.float_locals,
            v128_locals: c.v128_locals,
            loop_heads: c.loop_heads,
            frame_size_fixups: c.frame_size_fixups,
            multi: c.multi,
            operators,
        });
    }
}

/// Feeds each operator the reader decodes to [`Compiler::operator`] (a `VisitOperator` whose
/// every method builds the `Operator` in place and passes it by reference).
struct Feed<'c, 'm> {
    c: &'c mut Compiler<'m>,
    /// The operator's offset in the module.
    offset: u32,
}

macro_rules! feed_operator {
    ($(@$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*))*) => {
        $(
            #[inline]
            fn $visit(&mut self $($(,$arg: $argty)*)?) -> Result<(), Fallback> {
                // Dropped only when the operator owns memory (`try_table`'s catches…): a
                // constant per operator, so that the others need no call to drop glue.
                let op = std::mem::ManuallyDrop::new(Operator::$op $({ $($arg),* })?);
                let result = self.c.operator(&op, self.offset);
                if std::mem::needs_drop::<($($($argty,)*)?)>() {
                    drop(std::mem::ManuallyDrop::into_inner(op));
                }
                result
            }
        )*
    };
}

impl<'a> wasmparser::VisitOperator<'a> for Feed<'_, '_> {
    type Output = Result<(), Fallback>;

    fn simd_visitor(&mut self) -> Option<&mut dyn wasmparser::VisitSimdOperator<'a, Output = Self::Output>> {
        Some(self)
    }

    wasmparser::for_each_visit_operator!(feed_operator);
}

impl<'a> wasmparser::VisitSimdOperator<'a> for Feed<'_, '_> {
    wasmparser::for_each_visit_simd_operator!(feed_operator);
}

impl<'m> Compiler<'m> {
    // ---- frame ----

    fn frame_size(&self) -> Result<u32, Fallback> {
        let slots = self.locals.len() + self.max_depth;
        if slots > MAX_SLOTS {
            return fallback("frame too large");
        }
        let bytes = self.save_area() as usize + self.slot_bytes() as usize * slots + self.exception_frame_bytes();
        Ok(bytes.next_multiple_of(16) as u32)
    }

    /// The bytes below rbp before the first slot: the saved registers, and in functions with
    /// 16-byte slots 8 bytes more, so that every slot is 16-byte aligned (rbp is: the call's
    /// return address and the pushed rbp make 16) and no v128 access crosses a cache line.
    fn save_area(&self) -> i32 {
        if self.wide {
            (SAVE_AREA + 15) / 16 * 16
        } else {
            SAVE_AREA
        }
    }

    /// 8, or 16 in functions with v128 values.
    fn slot_bytes(&self) -> i32 {
        if self.wide {
            16
        } else {
            8
        }
    }

    fn local_slot(&self, index: usize) -> Mem {
        Mem::at(RBP, -(self.save_area() + self.slot_bytes() * (index as i32 + 1)))
    }

    fn home(&self, depth: usize) -> Mem {
        Mem::at(RBP, -(self.save_area() + self.slot_bytes() * (self.locals.len() as i32 + depth as i32 + 1)))
    }

    fn prologue(&mut self, ty: &wasmparser::FuncType) {
        let param_types = ty.params();
        let params = param_types.len();
        // The frame setup the interrupt machinery recognizes, then the stack check, which
        // touches neither rsp nor the argument registers.
        self.a.buf.extend_from_slice(&[0x55, 0x48, 0x89, 0xe5]);
        self.a.load(Size::S64, R11, Mem::at(RDI, vmctx::RUNTIME_LIMITS as i32));
        self.a.load(Size::S64, R11, Mem::at(R11, runtime_limits::STACK_LIMIT as i32));
        self.stack_check_fixup = self.a.add_imm32_patchable(R11);
        self.a.alu_rr(Alu::Cmp, Size::S64, RSP, R11);
        let overflow = self.stack_overflow;
        self.a.jcc(Cond::B, overflow);
        let at = self.a.sub_rsp_imm32();
        self.frame_size_fixups.push(at);
        for (i, &r) in SAVED.iter().enumerate() {
            self.a.store(Size::S64, Mem::at(RBP, -8 * (i as i32 + 1)), r);
        }
        self.a.mov_rr(Size::S64, R15, RDI);
        let (locs, _) = arg_locs(ty);
        for (i, loc) in locs.into_iter().enumerate() {
            let slot = self.local_slot(i);
            if param_types[i] == ValType::V128 {
                match loc {
                    ArgLoc::Float(x) => self.v128_param(i, Some(x), 0),
                    ArgLoc::Stack(off) => self.v128_param(i, None, off),
                    ArgLoc::Int(_) => unreachable!("v128s go in xmm registers or on the stack"),
                }
                continue;
            }
            match loc {
                ArgLoc::Int(k) => self.a.store(Size::S64, slot, ARGS[k]),
                ArgLoc::Float(x) => self.a.store_xmm(Size::S64, slot, x),
                ArgLoc::Stack(off) => {
                    // Above the saved rbp and the return address. All 64 bits are copied
                    // (the caller may leave the upper half of a 32-bit value undefined; locals
                    // are read at their size).
                    self.a.load(Size::S64, R11, Mem::at(RBP, 16 + off));
                    self.a.store(Size::S64, slot, R11);
                }
            }
        }
        if self.locals.len() > params {
            self.a.alu_rr(Alu::Xor, Size::S32, RAX, RAX);
            if self.wide {
                // The parameters are stored: xmm0 is free.
                self.a.xor_xmm(0, 0);
            }
            for i in params..self.locals.len() {
                let slot = self.local_slot(i);
                if self.v128_locals[i] {
                    // One 16-byte store, so that a 16-byte load of the local is forwarded from it.
                    self.a.store_v128(slot, 0);
                } else {
                    self.a.store(Size::S64, slot, RAX);
                }
            }
        }
        self.fuel_check();
        self.charge_tiering_budget();
    }

    /// `float_result`: the size of a float result, which every return path leaves in rax and
    /// the convention wants in xmm0.
    fn epilogue(&mut self, ret: Label, float_result: Option<Size>) {
        self.a.bind(ret);
        if let Some(size) = float_result {
            self.a.to_xmm(size, 0, RAX);
        }
        self.fuel_exit_at_return();
        for (i, &r) in SAVED.iter().enumerate() {
            self.a.load(Size::S64, r, Mem::at(RBP, -8 * (i as i32 + 1)));
        }
        self.a.mov_rsp_rbp();
        self.a.pop(RBP);
        // The callee pops its stack arguments (`tail` convention).
        if self.incoming_stack == 0 {
            self.a.ret();
        } else {
            self.a.ret_imm(self.incoming_stack as u16);
        }
        // The prologue's failed stack check: rsp still equals rbp here.
        let overflow = self.stack_overflow;
        self.a.bind(overflow);
        self.a.ud2(TrapKind::StackOverflow);
    }

    /// The dynamic tier-up budget: on entry and at loop headers (as the translator charges it).
    fn charge_tiering_budget(&mut self) {
        let Some(cost) = self.options.tiering_cost else { return };
        let skip = self.a.label();
        self.a.load(Size::S64, RAX, Mem::at(R15, vmctx::TIERING_BUDGETS as i32));
        let at = Mem::at(RAX, (self.defined_index * 4) as i32);
        self.a.load(Size::S32, RCX, at);
        self.a.alu_ri(Alu::Sub, Size::S32, RCX, cost);
        self.a.store(Size::S32, at, RCX);
        self.a.alu_ri(Alu::Cmp, Size::S32, RCX, 0);
        self.a.jcc(Cond::Ge, skip);
        // TierUpHot(vmctx, defined index): System V.
        self.a.mov_rr(Size::S64, RDI, R15);
        self.a.mov_ri(Size::S32, RSI, i64::from(self.defined_index));
        self.a.load(Size::S64, RAX, Mem::at(R15, vmctx::BUILTINS as i32));
        self.a.call_m(Mem::at(RAX, (LibCall::TierUpHot.slot() * 8) as i32));
        // At a loop header: the call clobbered the registers holding locals.
        if let Some(header) = self.heading {
            self.reload_loop_head(header);
        }
        self.a.bind(skip);
    }

    /// The loop header's interrupt check: sp below the thread's stack limit means an
    /// interrupt is pending (`runtime::interrupts`); the stub preserves every register.
    fn interrupt_check(&mut self) {
        if !self.options.interrupt_checks {
            return;
        }
        let skip = self.a.label();
        self.a.load(Size::S64, RAX, Mem::at(R15, vmctx::RUNTIME_LIMITS as i32));
        self.a.cmp_rm64(RSP, Mem::at(RAX, runtime_limits::STACK_LIMIT as i32));
        self.a.jcc(Cond::Ae, skip);
        self.a.load(Size::S64, RAX, Mem::at(R15, vmctx::BUILTINS as i32));
        self.a.call_m(Mem::at(RAX, (INTERRUPT_STUB_SLOT * 8) as i32));
        self.a.bind(skip);
    }

    // ---- the value stack ----

    fn alloc(&mut self) -> Reg {
        if self.free == 0 && !self.cache_evict_gpr() {
            // Spill the deepest value held in a register.
            let depth = self
                .stack
                .iter()
                .position(|e| matches!(e.val, Val::Reg(_)))
                .expect("the pool is empty only when the stack holds its registers");
            self.spill(depth);
        }
        let r = self.free.trailing_zeros() as Reg;
        self.free &= !(1 << r);
        r
    }

    fn release(&mut self, r: Reg) {
        self.free |= 1 << r;
    }

    fn push(&mut self, val: Val, size: Size) {
        self.stack.push(Entry { val, size });
        self.max_depth = self.max_depth.max(self.stack.len());
    }

    fn spill(&mut self, depth: usize) {
        let entry = self.stack[depth];
        let home = self.home(depth);
        match entry.val {
            Val::Reg(r) => {
                self.a.store(Size::S64, home, r);
                self.release(r);
            }
            Val::Const(v) => {
                self.a.mov_ri(Size::S64, RAX, v);
                self.a.store(Size::S64, home, RAX);
            }
            Val::Xmm(x) => {
                self.a.store_xmm(Size::S64, home, x);
                self.release_xmm(x);
            }
            Val::V128Reg(x) => {
                self.a.store_v128(home, x);
                self.release_xmm(x);
                self.stack[depth].val = Val::V128;
                return;
            }
            Val::Flags(flag) => {
                self.materialize(flag, RAX);
                self.a.store(Size::S64, home, RAX);
            }
            Val::Spilled | Val::V128 => return,
        }
        self.stack[depth].val = Val::Spilled;
    }

    fn spill_all(&mut self) {
        // Every pool register is free afterwards, cached copies of locals included.
        self.cache_clear();
        self.spill_values();
    }

    /// Spills the whole stack, keeping the registers cached copies of locals live in (for a
    /// conditional branch's fall-through path, which nothing else joins).
    fn spill_values(&mut self) {
        for depth in 0..self.stack.len() {
            self.spill(depth);
        }
    }

    fn pop(&mut self) -> Entry {
        self.stack.pop().expect("validated code never pops an empty stack")
    }

    /// Pops the top value into a register the caller owns.
    fn pop_reg(&mut self) -> (Reg, Size) {
        let entry = self.pop();
        match entry.val {
            Val::Reg(r) => (r, entry.size),
            Val::Const(v) => {
                let r = self.alloc();
                self.a.mov_ri(entry.size, r, v);
                (r, entry.size)
            }
            Val::Spilled | Val::V128 => {
                let r = self.alloc();
                let home = self.home(self.stack.len());
                self.a.load(entry.size, r, home);
                (r, entry.size)
            }
            Val::Xmm(x) | Val::V128Reg(x) => {
                let r = self.alloc();
                self.a.from_xmm(entry.size, r, x);
                self.release_xmm(x);
                (r, entry.size)
            }
            Val::Flags(flag) => {
                let r = self.alloc();
                self.materialize(flag, r);
                (r, entry.size)
            }
        }
    }

    /// Pops the top value into `target` (a scratch register).
    fn pop_into(&mut self, target: Reg) -> Size {
        let entry = self.pop();
        match entry.val {
            Val::Reg(r) => {
                self.a.mov_rr(Size::S64, target, r);
                self.release(r);
            }
            Val::Const(v) => self.a.mov_ri(Size::S64, target, v),
            Val::Spilled | Val::V128 => {
                let home = self.home(self.stack.len());
                self.a.load(Size::S64, target, home);
            }
            Val::Xmm(x) | Val::V128Reg(x) => {
                self.a.from_xmm(entry.size, target, x);
                self.release_xmm(x);
            }
            Val::Flags(flag) => self.materialize(flag, target),
        }
        entry.size
    }

    fn top_const(&self) -> Option<i64> {
        match self.stack.last()?.val {
            Val::Const(v) => Some(v),
            _ => None,
        }
    }

    // ---- operators ----

    /// Compiles one operator (`Feed` calls it for each: not inlined into every caller).
    #[inline(never)]
    fn operator(&mut self, op: &Operator<'_>, offset: u32) -> Result<(), Fallback> {
        if !self.reachable {
            return self.dead_operator(op);
        }
        self.flags_hook(op);
        self.a.source(offset);
        self.fuel_before_op(op)?;
        use Operator as O;
        match *op {
            O::Nop => {}
            O::Unreachable => {
                self.a.ud2(TrapKind::Unreachable);
                self.reachable = false;
            }
            O::Block { blockty } => self.open(Kind::Block, blockty)?,
            O::Loop { blockty } => self.open(Kind::Loop, blockty)?,
            O::If { blockty } => {
                let flag = self.pop_condition();
                self.spill_values();
                let else_label = self.a.label();
                self.jump_if(flag, false, else_label);
                self.open(Kind::If { else_label, has_else: false }, blockty)?;
            }
            O::Else => self.else_()?,
            O::End => self.before_end()?,
            O::Br { relative_depth } => {
                self.spill_values();
                self.release_catches(self.control.len() - 1 - relative_depth as usize);
                match self.direct_branch(relative_depth) {
                    Some(label) => self.a.jmp(label),
                    None => self.branch(relative_depth),
                }
                self.reachable = false;
            }
            O::BrIf { relative_depth } => {
                let flag = self.pop_condition();
                self.spill_values();
                if let Some(label) = self.direct_branch(relative_depth) {
                    self.jump_if(flag, true, label);
                } else {
                    let skip = self.a.label();
                    self.jump_if(flag, false, skip);
                    self.branch(relative_depth);
                    self.a.bind(skip);
                }
            }
            O::BrTable { ref targets } => {
                let (index, _) = self.pop_reg();
                self.release(index);
                self.spill_all();
                // The index register is free now but nothing below allocates.
                for (i, target) in targets.targets().enumerate() {
                    let target = target.map_err(|e| Fallback(e.to_string()))?;
                    let skip = self.a.label();
                    let i = i32::try_from(i).map_err(|_| Fallback("br_table too large".into()))?;
                    self.a.alu_ri(Alu::Cmp, Size::S32, index, i);
                    self.a.jcc(Cond::Ne, skip);
                    self.branch(target);
                    self.a.bind(skip);
                }
                self.branch(targets.default());
                self.reachable = false;
            }
            O::Return => {
                self.spill_all();
                self.release_catches(0);
                let depth = self.control.len() as u32 - 1;
                self.branch(depth);
                self.reachable = false;
            }
            O::Drop => {
                let entry = self.pop();
                self.release_val(entry.val);
            }
            O::Select if self.is_v128_at(1) => self.v128_select()?,
            O::TypedSelect { ty: ValType::V128 } => self.v128_select()?,
            O::Select => self.select()?,
            O::TypedSelect { ty } => {
                size_of(ty)?;
                self.select()?;
            }
            O::LocalGet { local_index } if self.is_v128_local(local_index) => self.v128_local_get(local_index)?,
            O::LocalSet { local_index } if self.is_v128_local(local_index) => {
                self.v128_local_set(local_index, false)?
            }
            O::LocalTee { local_index } if self.is_v128_local(local_index) => self.v128_local_set(local_index, true)?,
            O::GlobalGet { global_index } if self.is_v128_global(global_index) => self.v128_global_get(global_index)?,
            O::GlobalSet { global_index } if self.is_v128_global(global_index) => self.v128_global_set(global_index)?,
            O::LocalGet { local_index } => self.local_get(local_index),
            O::LocalSet { local_index } => self.local_set(local_index, false),
            O::LocalTee { local_index } => self.local_set(local_index, true),
            O::GlobalGet { global_index } => {
                let size = self.global_size(global_index)?;
                let r = self.alloc();
                self.a.load(Size::S64, RAX, Mem::at(R15, self.offsets.global(global_index) as i32));
                self.a.load(size, r, Mem::at(RAX, 0));
                self.push(Val::Reg(r), size);
            }
            O::GlobalSet { global_index } if self.ref_global(global_index) => self.global_set_ref(global_index),
            O::GlobalSet { global_index } => {
                let size = self.global_size(global_index)?;
                let (v, _) = self.pop_reg();
                self.a.load(Size::S64, RAX, Mem::at(R15, self.offsets.global(global_index) as i32));
                self.a.store(size, Mem::at(RAX, 0), v);
                self.release(v);
            }
            O::I32Const { value } => self.push(Val::Const(i64::from(value as u32)), Size::S32),
            O::I64Const { value } => self.push(Val::Const(value), Size::S64),

            O::I32Add => self.binop(Size::S32, Alu::Add),
            O::I32Sub => self.binop(Size::S32, Alu::Sub),
            O::I32And => self.binop(Size::S32, Alu::And),
            O::I32Or => self.binop(Size::S32, Alu::Or),
            O::I32Xor => self.binop(Size::S32, Alu::Xor),
            O::I64Add => self.binop(Size::S64, Alu::Add),
            O::I64Sub => self.binop(Size::S64, Alu::Sub),
            O::I64And => self.binop(Size::S64, Alu::And),
            O::I64Or => self.binop(Size::S64, Alu::Or),
            O::I64Xor => self.binop(Size::S64, Alu::Xor),
            O::I32Mul => self.mul(Size::S32),
            O::I64Mul => self.mul(Size::S64),
            O::I32DivS => self.div(Size::S32, true, false),
            O::I32DivU => self.div(Size::S32, false, false),
            O::I32RemS => self.div(Size::S32, true, true),
            O::I32RemU => self.div(Size::S32, false, true),
            O::I64DivS => self.div(Size::S64, true, false),
            O::I64DivU => self.div(Size::S64, false, false),
            O::I64RemS => self.div(Size::S64, true, true),
            O::I64RemU => self.div(Size::S64, false, true),
            O::I32Shl => self.shift(Size::S32, Shift::Shl),
            O::I32ShrS => self.shift(Size::S32, Shift::Sar),
            O::I32ShrU => self.shift(Size::S32, Shift::Shr),
            O::I32Rotl => self.shift(Size::S32, Shift::Rol),
            O::I32Rotr => self.shift(Size::S32, Shift::Ror),
            O::I64Shl => self.shift(Size::S64, Shift::Shl),
            O::I64ShrS => self.shift(Size::S64, Shift::Sar),
            O::I64ShrU => self.shift(Size::S64, Shift::Shr),
            O::I64Rotl => self.shift(Size::S64, Shift::Rol),
            O::I64Rotr => self.shift(Size::S64, Shift::Ror),
            O::I32Clz if self.has_lzcnt => self.bitcount(Size::S32, 0, Size::S32),
            O::I64Clz if self.has_lzcnt => self.bitcount(Size::S64, 0, Size::S64),
            O::I32Ctz if self.has_bmi1 => self.bitcount(Size::S32, 1, Size::S32),
            O::I64Ctz if self.has_bmi1 => self.bitcount(Size::S64, 1, Size::S64),
            O::I32Popcnt if self.has_popcnt => self.bitcount(Size::S32, 2, Size::S32),
            O::I64Popcnt if self.has_popcnt => self.bitcount(Size::S64, 2, Size::S64),
            O::I32Eqz if self.negate_flags() => {}
            O::I32Eqz => self.eqz(Size::S32),
            O::I64Eqz => self.eqz(Size::S64),
            O::I32Eq => self.compare(Size::S32, Cond::E),
            O::I32Ne => self.compare(Size::S32, Cond::Ne),
            O::I32LtS => self.compare(Size::S32, Cond::L),
            O::I32LtU => self.compare(Size::S32, Cond::B),
            O::I32GtS => self.compare(Size::S32, Cond::G),
            O::I32GtU => self.compare(Size::S32, Cond::A),
            O::I32LeS => self.compare(Size::S32, Cond::Le),
            O::I32LeU => self.compare(Size::S32, Cond::Be),
            O::I32GeS => self.compare(Size::S32, Cond::Ge),
            O::I32GeU => self.compare(Size::S32, Cond::Ae),
            O::I64Eq => self.compare(Size::S64, Cond::E),
            O::I64Ne => self.compare(Size::S64, Cond::Ne),
            O::I64LtS => self.compare(Size::S64, Cond::L),
            O::I64LtU => self.compare(Size::S64, Cond::B),
            O::I64GtS => self.compare(Size::S64, Cond::G),
            O::I64GtU => self.compare(Size::S64, Cond::A),
            O::I64LeS => self.compare(Size::S64, Cond::Le),
            O::I64LeU => self.compare(Size::S64, Cond::Be),
            O::I64GeS => self.compare(Size::S64, Cond::Ge),
            O::I64GeU => self.compare(Size::S64, Cond::Ae),
            O::I32WrapI64 => {
                let (r, _) = self.pop_reg();
                self.a.mov_rr(Size::S32, r, r);
                self.push(Val::Reg(r), Size::S32);
            }
            O::I64ExtendI32U => {
                let (r, _) = self.pop_reg();
                self.a.mov_rr(Size::S32, r, r);
                self.push(Val::Reg(r), Size::S64);
            }
            O::I64ExtendI32S => self.extend(4, Size::S64),
            O::I32Extend8S => self.extend(1, Size::S32),
            O::I32Extend16S => self.extend(2, Size::S32),
            O::I64Extend8S => self.extend(1, Size::S64),
            O::I64Extend16S => self.extend(2, Size::S64),
            O::I64Extend32S => self.extend(4, Size::S64),

            O::F32Const { value } => self.push(Val::Const(i64::from(value.bits())), Size::S32),
            O::F64Const { value } => self.push(Val::Const(value.bits() as i64), Size::S64),
            O::F32Load { memarg } => self.float_load(memarg, Size::S32)?,
            O::F64Load { memarg } => self.float_load(memarg, Size::S64)?,
            O::F32Store { memarg } => self.store(memarg, 4)?,
            O::F64Store { memarg } => self.store(memarg, 8)?,
            O::F32Add => self.float_binop(Size::S32, 0),
            O::F32Sub => self.float_binop(Size::S32, 1),
            O::F32Mul => self.float_binop(Size::S32, 2),
            O::F32Div => self.float_binop(Size::S32, 3),
            O::F64Add => self.float_binop(Size::S64, 0),
            O::F64Sub => self.float_binop(Size::S64, 1),
            O::F64Mul => self.float_binop(Size::S64, 2),
            O::F64Div => self.float_binop(Size::S64, 3),
            O::F32Sqrt => self.float_sqrt(Size::S32),
            O::F64Sqrt => self.float_sqrt(Size::S64),
            O::F32Neg => self.sign_bit(Size::S32, 0),
            O::F64Neg => self.sign_bit(Size::S64, 0),
            O::F32Abs => self.sign_bit(Size::S32, 1),
            O::F64Abs => self.sign_bit(Size::S64, 1),
            O::F32Copysign => self.copysign(Size::S32),
            O::F64Copysign => self.copysign(Size::S64),
            O::F32Eq => self.float_compare(Size::S32, FloatCmp::Eq),
            O::F32Ne => self.float_compare(Size::S32, FloatCmp::Ne),
            O::F32Lt => self.float_compare(Size::S32, FloatCmp::Lt),
            O::F32Gt => self.float_compare(Size::S32, FloatCmp::Gt),
            O::F32Le => self.float_compare(Size::S32, FloatCmp::Le),
            O::F32Ge => self.float_compare(Size::S32, FloatCmp::Ge),
            O::F64Eq => self.float_compare(Size::S64, FloatCmp::Eq),
            O::F64Ne => self.float_compare(Size::S64, FloatCmp::Ne),
            O::F64Lt => self.float_compare(Size::S64, FloatCmp::Lt),
            O::F64Gt => self.float_compare(Size::S64, FloatCmp::Gt),
            O::F64Le => self.float_compare(Size::S64, FloatCmp::Le),
            O::F64Ge => self.float_compare(Size::S64, FloatCmp::Ge),
            O::F32ConvertI32S => self.int_to_float(Size::S32, Size::S32, true),
            O::F32ConvertI32U => self.int_to_float(Size::S32, Size::S32, false),
            O::F32ConvertI64S => self.int_to_float(Size::S32, Size::S64, true),
            O::F64ConvertI32S => self.int_to_float(Size::S64, Size::S32, true),
            O::F64ConvertI32U => self.int_to_float(Size::S64, Size::S32, false),
            O::F64ConvertI64S => self.int_to_float(Size::S64, Size::S64, true),
            O::F32ConvertI64U => self.u64_to_float(Size::S32),
            O::F64ConvertI64U => self.u64_to_float(Size::S64),
            O::F32Ceil if self.has_sse41 => self.float_round(Size::S32, 2),
            O::F32Floor if self.has_sse41 => self.float_round(Size::S32, 1),
            O::F32Trunc if self.has_sse41 => self.float_round(Size::S32, 3),
            O::F32Nearest if self.has_sse41 => self.float_round(Size::S32, 0),
            O::F64Ceil if self.has_sse41 => self.float_round(Size::S64, 2),
            O::F64Floor if self.has_sse41 => self.float_round(Size::S64, 1),
            O::F64Trunc if self.has_sse41 => self.float_round(Size::S64, 3),
            O::F64Nearest if self.has_sse41 => self.float_round(Size::S64, 0),
            O::F32Min => self.float_minmax(Size::S32, false),
            O::F32Max => self.float_minmax(Size::S32, true),
            O::F64Min => self.float_minmax(Size::S64, false),
            O::F64Max => self.float_minmax(Size::S64, true),
            O::I32TruncF32S => self.float_to_int(Size::S32, Size::S32, true, false),
            O::I32TruncF32U => self.float_to_int(Size::S32, Size::S32, false, false),
            O::I32TruncF64S => self.float_to_int(Size::S32, Size::S64, true, false),
            O::I32TruncF64U => self.float_to_int(Size::S32, Size::S64, false, false),
            O::I64TruncF32S => self.float_to_int(Size::S64, Size::S32, true, false),
            O::I64TruncF32U => self.float_to_int(Size::S64, Size::S32, false, false),
            O::I64TruncF64S => self.float_to_int(Size::S64, Size::S64, true, false),
            O::I64TruncF64U => self.float_to_int(Size::S64, Size::S64, false, false),
            O::I32TruncSatF32S => self.float_to_int(Size::S32, Size::S32, true, true),
            O::I32TruncSatF32U => self.float_to_int(Size::S32, Size::S32, false, true),
            O::I32TruncSatF64S => self.float_to_int(Size::S32, Size::S64, true, true),
            O::I32TruncSatF64U => self.float_to_int(Size::S32, Size::S64, false, true),
            O::I64TruncSatF32S => self.float_to_int(Size::S64, Size::S32, true, true),
            O::I64TruncSatF32U => self.float_to_int(Size::S64, Size::S32, false, true),
            O::I64TruncSatF64S => self.float_to_int(Size::S64, Size::S64, true, true),
            O::I64TruncSatF64U => self.float_to_int(Size::S64, Size::S64, false, true),
            O::F32DemoteF64 => self.float_convert(Size::S64, Size::S32),
            O::F64PromoteF32 => self.float_convert(Size::S32, Size::S64),
            // The bits stay as they are.
            O::I32ReinterpretF32 | O::F32ReinterpretI32 | O::I64ReinterpretF64 | O::F64ReinterpretI64 => {}

            O::I32Load { memarg } => self.load(memarg, 4, false, Size::S32)?,
            O::I64Load { memarg } => self.load(memarg, 8, false, Size::S64)?,
            O::I32Load8S { memarg } => self.load(memarg, 1, true, Size::S32)?,
            O::I32Load8U { memarg } => self.load(memarg, 1, false, Size::S32)?,
            O::I32Load16S { memarg } => self.load(memarg, 2, true, Size::S32)?,
            O::I32Load16U { memarg } => self.load(memarg, 2, false, Size::S32)?,
            O::I64Load8S { memarg } => self.load(memarg, 1, true, Size::S64)?,
            O::I64Load8U { memarg } => self.load(memarg, 1, false, Size::S64)?,
            O::I64Load16S { memarg } => self.load(memarg, 2, true, Size::S64)?,
            O::I64Load16U { memarg } => self.load(memarg, 2, false, Size::S64)?,
            O::I64Load32S { memarg } => self.load(memarg, 4, true, Size::S64)?,
            O::I64Load32U { memarg } => self.load(memarg, 4, false, Size::S64)?,
            O::I32Store { memarg } => self.store(memarg, 4)?,
            O::I64Store { memarg } => self.store(memarg, 8)?,
            O::I32Store8 { memarg } | O::I64Store8 { memarg } => self.store(memarg, 1)?,
            O::I32Store16 { memarg } | O::I64Store16 { memarg } => self.store(memarg, 2)?,
            O::I64Store32 { memarg } => self.store(memarg, 4)?,

            ref other if self.memory64_operator(other)? => {}
            O::MemoryFill { mem } => {
                self.memory32(mem)?;
                // MemoryFill(vmctx, memory, dst: i64, value: i32, len: i64) -> status
                self.libcall_arguments(&[RDX, RCX, R8]);
                self.a.mov_ri(Size::S32, RSI, i64::from(mem));
                self.bulk_libcall(LibCall::MemoryFill);
            }
            O::MemoryCopy { dst_mem, src_mem } => {
                self.memory32(dst_mem)?;
                self.memory32(src_mem)?;
                // MemoryCopy(vmctx, dst memory, src memory, dst: i64, src: i64, len: i64)
                self.libcall_arguments(&[RCX, R8, R9]);
                self.a.mov_ri(Size::S32, RSI, i64::from(dst_mem));
                self.a.mov_ri(Size::S32, RDX, i64::from(src_mem));
                self.bulk_libcall(LibCall::MemoryCopy);
            }
            O::MemorySize { mem } => {
                self.memory32(mem)?;
                // The current length in bytes (never above 4 GiB here), in pages.
                let r = self.alloc();
                let at = self.offsets.memory(mem) + memory_import::DEFINITION;
                self.a.load(Size::S64, RAX, Mem::at(R15, at as i32));
                self.a.load(Size::S64, r, Mem::at(RAX, memory_definition::LENGTH as i32));
                self.a.shift_i(Shift::Shr, Size::S64, r, 16);
                self.push(Val::Reg(r), Size::S32);
            }
            O::MemoryGrow { mem } => {
                self.memory32(mem)?;
                // MemoryGrow(vmctx, memory, delta: i64) -> old pages: i64 (-1 on failure)
                self.libcall_arguments(&[RDX]);
                self.a.mov_ri(Size::S32, RSI, i64::from(mem));
                self.a.mov_rr(Size::S64, RDI, R15);
                self.a.load(Size::S64, RAX, Mem::at(R15, vmctx::BUILTINS as i32));
                self.a.call_m(Mem::at(RAX, (LibCall::MemoryGrow.slot() * 8) as i32));
                let r = self.alloc();
                self.a.mov_rr(Size::S32, r, RAX);
                self.push(Val::Reg(r), Size::S32);
            }
            O::Call { function_index } => self.call(function_index)?,
            O::CallIndirect { type_index, table_index } => self.call_indirect(type_index, table_index)?,
            O::ReturnCall { function_index } => self.return_call(function_index)?,
            O::ReturnCallIndirect { type_index, table_index } => self.return_call_indirect(type_index, table_index)?,
            O::ReturnCallRef { type_index } => self.return_call_ref(type_index)?,
            O::Try { .. }
            | O::TryTable { .. }
            | O::Catch { .. }
            | O::CatchAll
            | O::Delegate { .. }
            | O::Rethrow { .. }
            | O::Throw { .. }
            | O::ThrowRef => self.exception_operator(op)?,

            ref other if self.atomic_operator(other)? => {}
            ref other if self.ref_operator(other)? => {}
            ref other => {
                if !self.simd(other)? {
                    return fallback(format!("{other:?}"));
                }
            }
        }
        Ok(())
    }

    /// Unreachable code: only the nesting matters.
    fn dead_operator(&mut self, op: &Operator<'_>) -> Result<(), Fallback> {
        if let Some(result) = self.exception_dead_operator(op) {
            return result;
        }
        match op {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                self.dead_depth += 1;
            }
            Operator::Else if self.dead_depth == 0 => return self.else_(),
            Operator::End if self.dead_depth == 0 => return self.end(),
            Operator::End => self.dead_depth -= 1,
            _ => {}
        }
        Ok(())
    }

    fn block_result(&self, blockty: BlockType) -> Result<Option<Size>, Fallback> {
        match blockty {
            BlockType::Empty => Ok(None),
            BlockType::Type(ValType::V128) => {
                self.need_wide()?;
                Ok(Some(Size::S64))
            }
            BlockType::Type(t) => Ok(Some(size_of(t)?)),
            // Recorded apart (`open_multi`).
            BlockType::FuncType(_) => Ok(None),
        }
    }

    fn open(&mut self, kind: Kind, blockty: BlockType) -> Result<(), Fallback> {
        let result = self.block_result(blockty)?;
        let label = match kind {
            Kind::Loop => {
                self.spill_values();
                let header = self.a.label();
                self.bind_loop_header(header);
                self.heading = Some(header);
                self.interrupt_check();
                self.fuel_check();
                self.charge_tiering_budget();
                self.heading = None;
                self.loop_header_done(header);
                header
            }
            _ => self.a.label(),
        };
        let params = self.open_multi(blockty, label)?;
        self.control.push(Frame {
            kind,
            label,
            base: self.stack.len() - params,
            result,
            reachable_at_entry: true,
            branched: false,
            v128: blockty == BlockType::Type(ValType::V128),
        });
        Ok(())
    }

    /// The label a branch to frame `relative_depth` may jump to straight, with the stack
    /// spilled: when the branch moves no value (marks the frame branched).
    fn direct_branch(&mut self, relative_depth: u32) -> Option<Label> {
        let index = self.control.len() - 1 - relative_depth as usize;
        let frame = self.control[index];
        // The values the branch carries must already be where the target wants them.
        let moves = match self.multi_arity(&frame) {
            Some(arity) => arity > 0 && self.stack.len() - arity != frame.base,
            None => frame.branch_arity() == 1 && self.stack.len() - 1 != frame.base,
        };
        if frame.kind == Kind::Function || moves {
            return None;
        }
        self.control[index].branched = true;
        if frame.kind == Kind::Loop {
            return Some(self.establish_head(frame.label));
        }
        Some(frame.label)
    }

    /// Jumps to frame `relative_depth` with the whole stack spilled: copies the values the
    /// branch carries to the target's home slots.
    fn branch(&mut self, relative_depth: u32) {
        let index = self.control.len() - 1 - relative_depth as usize;
        let frame = self.control[index];
        let arity = frame.branch_arity();
        let len = self.stack.len();
        if frame.kind == Kind::Function {
            if !self.results.is_empty() {
                self.load_results(len);
            }
            if frame.v128 {
                let home = self.home(len - 1);
                self.a.load_v128(0, home);
            } else if let Some(size) = frame.result {
                let home = self.home(len - 1);
                self.a.load(size, RAX, home);
            }
        } else if let Some(arity) = self.multi_arity(&frame) {
            self.copy_branch_values(len, arity, frame.base);
        } else if arity == 1 && len - 1 != frame.base {
            let (from, to) = (self.home(len - 1), self.home(frame.base));
            if frame.v128 {
                self.a.load_v128(0, from);
                self.a.store_v128(to, 0);
            } else {
                self.a.load(Size::S64, RAX, from);
                self.a.store(Size::S64, to, RAX);
            }
        }
        self.control[index].branched = true;
        let target = if frame.kind == Kind::Loop { self.loop_entry_for_branch(frame.label) } else { frame.label };
        self.a.jmp(target);
    }

    fn else_(&mut self) -> Result<(), Fallback> {
        let frame = *self.control.last().ok_or_else(|| Fallback("else outside if".into()))?;
        let Kind::If { else_label, .. } = frame.kind else {
            return fallback("else outside if");
        };
        if self.reachable {
            self.spill_all();
            self.a.jmp(frame.label);
            self.control.last_mut().expect("just read").branched = true;
        }
        self.a.bind(else_label);
        self.control.last_mut().expect("just read").kind = Kind::If { else_label, has_else: true };
        self.truncate(frame.base);
        self.push_frame_params(&frame);
        self.reachable = frame.reachable_at_entry;
        self.dead_depth = 0;
        Ok(())
    }

    /// Drops the stack to `height` (values of a block left behind by a branch).
    fn truncate(&mut self, height: usize) {
        while self.stack.len() > height {
            let entry = self.pop();
            self.release_val(entry.val);
        }
    }

    fn end(&mut self) -> Result<(), Fallback> {
        let frame = self.control.pop().ok_or_else(|| Fallback("end outside a block".into()))?;
        self.dead_depth = 0;
        match frame.kind {
            Kind::Function => {
                if self.reachable {
                    if frame.v128 {
                        self.v128_result_to_xmm0();
                    } else if frame.result.is_some() {
                        self.pop_into(RAX);
                    }
                    if !self.results.is_empty() {
                        self.spill_all();
                        self.load_results(self.stack.len());
                    }
                    // Falls into the epilogue, bound right after the body.
                }
                self.truncate(0);
                self.reachable = true;
                return Ok(());
            }
            Kind::Loop => {
                // Only the fallthrough reaches a loop's end.
                if !self.reachable {
                    self.truncate(frame.base);
                    self.push_frame_results(&frame);
                }
                return Ok(());
            }
            Kind::If { else_label, has_else } => {
                if !has_else {
                    // The false edge goes straight to the end, with the stack spilled.
                    if self.reachable {
                        self.spill_all();
                    }
                    self.a.bind(else_label);
                    let reachable = self.reachable || frame.reachable_at_entry || frame.branched;
                    self.a.bind(frame.label);
                    self.truncate(frame.base);
                    self.push_frame_results(&frame);
                    self.reachable = reachable;
                    return Ok(());
                }
            }
            Kind::Block => {}
        }
        if self.reachable {
            self.spill_all();
        }
        let reachable = self.reachable || frame.branched;
        self.a.bind(frame.label);
        self.truncate(frame.base);
        self.push_frame_results(&frame);
        self.reachable = reachable;
        Ok(())
    }

    fn select(&mut self) -> Result<(), Fallback> {
        let (c, _) = self.pop_reg();
        let (b, _) = self.pop_reg();
        let (a, size) = self.pop_reg();
        self.a.test_rr(Size::S32, c, c);
        self.a.cmov_e(size, a, b);
        self.release(b);
        self.release(c);
        self.push(Val::Reg(a), size);
        Ok(())
    }

    fn global_size(&mut self, index: u32) -> Result<Size, Fallback> {
        if index >= self.offsets.num_globals {
            return fallback("no such global");
        }
        size_of(self.module.global_type(index).content_type)
    }

    fn binop(&mut self, size: Size, op: Alu) {
        if let Some(imm) = self.top_const().and_then(|v| {
            // An i32 constant is stored zero-extended; as a 32-bit immediate it is the same.
            let v = if size == Size::S32 { v as u32 as i32 as i64 } else { v };
            i32::try_from(v).ok()
        }) {
            self.pop();
            let (a, _) = self.pop_reg();
            self.a.alu_ri(op, size, a, imm);
            self.push(Val::Reg(a), size);
            return;
        }
        if let Some(local) = self.take_local_operand() {
            // The right operand read from the cached local's register.
            let (a, _) = self.pop_reg();
            self.a.alu_rr(op, size, a, local.reg);
            self.end_local_operand(local);
            self.push(Val::Reg(a), size);
            return;
        }
        let (b, _) = self.pop_reg();
        let (a, _) = self.pop_reg();
        self.a.alu_rr(op, size, a, b);
        self.release(b);
        self.push(Val::Reg(a), size);
    }

    fn mul(&mut self, size: Size) {
        let (b, _) = self.pop_reg();
        let (a, _) = self.pop_reg();
        self.a.imul_rr(size, a, b);
        self.release(b);
        self.push(Val::Reg(a), size);
    }

    /// Division and remainder with wasm's traps (checked before the instruction, which then
    /// never faults): zero divisor, and the signed quotient that overflows.
    fn div(&mut self, size: Size, signed: bool, rem: bool) {
        let (b, _) = self.pop_reg();
        let (a, _) = self.pop_reg();
        self.a.test_rr(size, b, b);
        self.a.trap_if(Cond::E, if rem { TrapKind::RemainderByZero } else { TrapKind::DivideByZero });
        let done = self.a.label();
        if signed {
            let normal = self.a.label();
            self.a.alu_ri(Alu::Cmp, size, b, -1);
            self.a.jcc(Cond::Ne, normal);
            if rem {
                // x % -1 is 0 (idiv would fault on MIN % -1).
                self.a.alu_rr(Alu::Xor, Size::S32, a, a);
                self.a.jmp(done);
            } else {
                // MIN / -1 overflows; any other x / -1 is -x.
                self.a.mov_rr(size, RAX, a);
                self.a.neg(size, RAX);
                self.a.trap_if(Cond::O, TrapKind::DivideUnrepresentable);
                self.a.mov_rr(size, a, RAX);
                self.a.jmp(done);
            }
            self.a.bind(normal);
        }
        self.a.mov_rr(size, RAX, a);
        self.a.div(size, signed, b);
        self.a.mov_rr(size, a, if rem { RDX } else { RAX });
        self.a.bind(done);
        self.release(b);
        self.push(Val::Reg(a), size);
    }

    fn shift(&mut self, size: Size, op: Shift) {
        if let Some(v) = self.top_const() {
            self.pop();
            let (a, _) = self.pop_reg();
            let mask = if size == Size::S32 { 31 } else { 63 };
            self.a.shift_i(op, size, a, (v & mask) as u8);
            self.push(Val::Reg(a), size);
            return;
        }
        self.pop_into(RCX);
        let (a, _) = self.pop_reg();
        self.a.shift_cl(op, size, a);
        self.push(Val::Reg(a), size);
    }

    fn bitcount(&mut self, size: Size, which: u8, result: Size) {
        let (a, _) = self.pop_reg();
        self.a.bitcount(which, size, a, a);
        self.push(Val::Reg(a), result);
    }

    fn eqz(&mut self, size: Size) {
        let (a, _) = self.pop_reg();
        self.a.test_rr(size, a, a);
        self.release(a);
        self.push(Val::Flags(Flag::Int(Cond::E)), Size::S32);
    }

    fn compare(&mut self, size: Size, cond: Cond) {
        let imm = self.top_const().and_then(|v| {
            let v = if size == Size::S32 { v as u32 as i32 as i64 } else { v };
            i32::try_from(v).ok()
        });
        let a = if let Some(imm) = imm {
            self.pop();
            if let Some(local) = self.take_local_operand() {
                // Compares the cached local's register itself.
                self.a.alu_ri(Alu::Cmp, size, local.reg, imm);
                self.end_local_operand(local);
                self.push(Val::Flags(Flag::Int(cond)), Size::S32);
                return;
            }
            let (a, _) = self.pop_reg();
            self.a.alu_ri(Alu::Cmp, size, a, imm);
            a
        } else if let Some(local) = self.take_local_operand() {
            if let Some(left) = self.take_local_operand() {
                // Both operands cached locals' registers.
                self.a.alu_rr(Alu::Cmp, size, left.reg, local.reg);
                self.end_local_operand(left);
                self.end_local_operand(local);
                self.push(Val::Flags(Flag::Int(cond)), Size::S32);
                return;
            }
            let (a, _) = self.pop_reg();
            self.a.alu_rr(Alu::Cmp, size, a, local.reg);
            self.end_local_operand(local);
            a
        } else {
            let (b, _) = self.pop_reg();
            let (a, _) = self.pop_reg();
            self.a.alu_rr(Alu::Cmp, size, a, b);
            self.release(b);
            a
        };
        self.release(a);
        self.push(Val::Flags(Flag::Int(cond)), Size::S32);
    }

    fn extend(&mut self, bytes: u8, to: Size) {
        let (a, _) = self.pop_reg();
        self.a.sign_extend(bytes, to, a, a);
        self.push(Val::Reg(a), to);
    }

    // ---- floating point ----

    fn float_binop(&mut self, size: Size, op: u8) {
        let (b, _) = self.pop_xmm();
        let (a, _) = self.pop_xmm();
        self.a.float_op(op, size, a, b);
        self.release_xmm(b);
        self.push_xmm(a, size);
    }

    fn float_sqrt(&mut self, size: Size) {
        let (a, _) = self.pop_xmm();
        self.a.float_op(4, size, a, a);
        self.push_xmm(a, size);
    }

    /// `neg` (`which` 0: flip the sign bit) or `abs` (1: clear it), on the bits.
    fn sign_bit(&mut self, size: Size, which: u8) {
        if self.top_is_xmm() {
            let (a, _) = self.pop_xmm();
            let mask = match (size, which) {
                (Size::S32, 0) => i64::from(i32::MIN as u32),
                (Size::S32, _) => i64::from(i32::MAX as u32),
                (Size::S64, 0) => i64::MIN,
                (Size::S64, _) => i64::MAX,
            };
            self.a.mov_ri(Size::S64, R11, mask);
            self.a.to_xmm(Size::S64, 0, R11);
            if which == 0 {
                self.a.xor_xmm(a, 0);
            } else {
                self.a.float_minmax_bits(3, size, a, 0);
            }
            self.push_xmm(a, size);
            return;
        }
        let (a, _) = self.pop_reg();
        let op = if which == 0 { Alu::Xor } else { Alu::And };
        match size {
            Size::S32 => {
                let mask = if which == 0 { i32::MIN } else { i32::MAX };
                self.a.alu_ri(op, Size::S32, a, mask);
            }
            Size::S64 => {
                let mask = if which == 0 { i64::MIN } else { i64::MAX };
                self.a.mov_ri(Size::S64, R11, mask);
                self.a.alu_rr(op, Size::S64, a, R11);
            }
        }
        self.push(Val::Reg(a), size);
    }

    /// `copysign(a, b)`: a's magnitude, b's sign.
    fn copysign(&mut self, size: Size) {
        let (b, _) = self.pop_reg();
        let (a, _) = self.pop_reg();
        match size {
            Size::S32 => {
                self.a.alu_ri(Alu::And, Size::S32, a, i32::MAX);
                self.a.alu_ri(Alu::And, Size::S32, b, i32::MIN);
            }
            Size::S64 => {
                self.a.mov_ri(Size::S64, R11, i64::MAX);
                self.a.alu_rr(Alu::And, Size::S64, a, R11);
                self.a.mov_ri(Size::S64, R11, i64::MIN);
                self.a.alu_rr(Alu::And, Size::S64, b, R11);
            }
        }
        self.a.alu_rr(Alu::Or, size, a, b);
        self.release(b);
        self.push(Val::Reg(a), size);
    }

    /// Comparisons, false on NaN but for `ne` (ucomis sets ZF, PF and CF on unordered): the
    /// result stays in the flags (`Val::Flags`).
    fn float_compare(&mut self, size: Size, cmp: FloatCmp) {
        let (b, _) = self.pop_xmm();
        let (a, _) = self.pop_xmm();
        self.release_xmm(a);
        self.release_xmm(b);
        let flag = match cmp {
            FloatCmp::Eq | FloatCmp::Ne => {
                self.a.float_compare(size, a, b);
                if cmp == FloatCmp::Eq {
                    Flag::FloatEq
                } else {
                    Flag::FloatNe
                }
            }
            FloatCmp::Gt | FloatCmp::Ge => {
                self.a.float_compare(size, a, b);
                Flag::Int(if cmp == FloatCmp::Gt { Cond::A } else { Cond::Ae })
            }
            FloatCmp::Lt | FloatCmp::Le => {
                self.a.float_compare(size, b, a);
                Flag::Int(if cmp == FloatCmp::Lt { Cond::A } else { Cond::Ae })
            }
        };
        self.push(Val::Flags(flag), Size::S32);
    }

    /// `fN.convert_iM_s/u` (unsigned only from i32: zero-extended, then converted as i64).
    fn int_to_float(&mut self, to: Size, from: Size, signed: bool) {
        let (a, _) = self.pop_reg();
        let from = if signed {
            from
        } else {
            self.a.mov_rr(Size::S32, a, a);
            Size::S64
        };
        let x = self.alloc_xmm();
        self.a.int_to_float(to, from, x, a);
        self.release(a);
        self.push_xmm(x, to);
    }

    /// `fN.convert_i64_u`: a value with the top bit set is halved (keeping the low bit, so
    /// that the rounding stays right), converted as signed, then doubled.
    fn u64_to_float(&mut self, to: Size) {
        let (a, _) = self.pop_reg();
        let x = self.alloc_xmm();
        let (big, done) = (self.a.label(), self.a.label());
        self.a.test_rr(Size::S64, a, a);
        self.a.jcc(Cond::S, big);
        self.a.int_to_float(to, Size::S64, x, a);
        self.a.jmp(done);
        self.a.bind(big);
        self.a.mov_rr(Size::S64, R11, a);
        self.a.shift_i(Shift::Shr, Size::S64, R11, 1);
        self.a.mov_rr(Size::S32, RAX, a);
        self.a.alu_ri(Alu::And, Size::S32, RAX, 1);
        self.a.alu_rr(Alu::Or, Size::S64, R11, RAX);
        self.a.int_to_float(to, Size::S64, x, R11);
        self.a.float_op(0, to, x, x);
        self.a.bind(done);
        self.release(a);
        self.push_xmm(x, to);
    }

    /// `ceil`, `floor`, `trunc`, `nearest` (rounding `mode` of `roundss/sd`).
    fn float_round(&mut self, size: Size, mode: u8) {
        let (a, _) = self.pop_xmm();
        self.a.round(size, a, a, mode);
        self.push_xmm(a, size);
    }

    /// `min`/`max` as wasm has them: NaN if either operand is NaN, and -0 below +0 (x86's
    /// `mins/maxs` return the second operand in both cases).
    fn float_minmax(&mut self, size: Size, max: bool) {
        let (b, _) = self.pop_xmm();
        let (a, _) = self.pop_xmm();
        self.release_xmm(b);
        let (nan, ordered, done) = (self.a.label(), self.a.label(), self.a.label());
        self.a.float_compare(size, a, b);
        self.a.jcc(Cond::P, nan);
        self.a.jcc(Cond::Ne, ordered);
        // Equal: only the zeros' signs may differ; or keeps -0 (min), and keeps +0 (max).
        self.a.float_minmax_bits(if max { 3 } else { 2 }, size, a, b);
        self.a.jmp(done);
        self.a.bind(nan);
        // A NaN operand: the sum is a NaN.
        self.a.float_op(0, size, a, b);
        self.a.jmp(done);
        self.a.bind(ordered);
        self.a.float_minmax_bits(max as u8, size, a, b);
        self.a.bind(done);
        self.push_xmm(a, size);
    }

    /// `xmm` = the float `value` (exact in `size`), through r11.
    fn float_const(&mut self, size: Size, xmm: u8, value: f64) {
        let bits = match size {
            Size::S32 => i64::from((value as f32).to_bits()),
            Size::S64 => value.to_bits() as i64,
        };
        self.a.mov_ri(Size::S64, R11, bits);
        self.a.to_xmm(size, xmm, R11);
    }

    /// `iN.trunc_fM_s/u` and their `_sat` forms. The operand is checked against the open
    /// interval (lo, hi) of floats whose truncation fits (NaN fails both comparisons): outside
    /// it, the trapping forms trap with FloatUnrepresentable (what Cranelift's conversions
    /// raise for NaN and overflow alike) and the saturating ones give 0 for NaN, else the
    /// bound.
    fn float_to_int(&mut self, to: Size, from: Size, signed: bool, saturating: bool) {
        // lo is the largest float below the smallest valid one: -2^(N-1) - 1 where that is
        // exact, else the next float below -2^(N-1) (f32: ulp 2^8 at 2^31, 2^40 at 2^63;
        // f64: 2^11 at 2^63).
        const P31: f64 = 2147483648.0;
        const P63: f64 = 9223372036854775808.0;
        let lo = match (to, from, signed) {
            (_, _, false) => -1.0,
            (Size::S32, Size::S32, true) => -P31 - 256.0,
            (Size::S32, Size::S64, true) => -P31 - 1.0,
            (Size::S64, Size::S32, true) => -P63 - 1099511627776.0,
            (Size::S64, Size::S64, true) => -P63 - 2048.0,
        };
        // The bounds and what saturation gives (i32 values zero-extended, as constants are).
        let (hi, min, max) = match (to, signed) {
            (Size::S32, true) => (P31, i64::from(i32::MIN as u32), i64::from(i32::MAX)),
            (Size::S64, true) => (P63, i64::MIN, i64::MAX),
            (Size::S32, false) => (2.0 * P31, 0, i64::from(u32::MAX)),
            (Size::S64, false) => (2.0 * P63, 0, -1),
        };
        let (x, _) = self.pop_xmm();
        let a = self.alloc();
        let done = self.a.label();
        // x > lo (unordered clears A).
        self.float_const(from, 1, lo);
        self.a.float_compare(from, x, 1);
        if saturating {
            let above = self.a.label();
            self.a.jcc(Cond::A, above);
            // mov leaves the flags alone: ordered means x <= lo.
            self.a.mov_ri(to, a, min);
            self.a.jcc(Cond::Np, done);
            self.a.mov_ri(to, a, 0);
            self.a.jmp(done);
            self.a.bind(above);
        } else {
            self.a.trap_if(Cond::Be, TrapKind::FloatUnrepresentable);
        }
        // hi > x.
        self.float_const(from, 1, hi);
        self.a.float_compare(from, 1, x);
        if saturating {
            let below = self.a.label();
            self.a.jcc(Cond::A, below);
            self.a.mov_ri(to, a, max);
            self.a.jmp(done);
            self.a.bind(below);
        } else {
            self.a.trap_if(Cond::Be, TrapKind::FloatUnrepresentable);
        }
        if signed {
            self.a.float_to_int(to, from, a, x);
        } else if to == Size::S32 {
            // In [0, 2^32): the 64-bit conversion is exact and its upper half zero.
            self.a.float_to_int(Size::S64, from, a, x);
        } else {
            // In [0, 2^64): below 2^63 as signed; above, minus 2^63, then the top bit set.
            let big = self.a.label();
            self.float_const(from, 1, P63);
            self.a.float_compare(from, x, 1);
            self.a.jcc(Cond::Ae, big);
            self.a.float_to_int(Size::S64, from, a, x);
            self.a.jmp(done);
            self.a.bind(big);
            self.a.float_op(1, from, x, 1);
            self.a.float_to_int(Size::S64, from, a, x);
            self.a.mov_ri(Size::S64, R11, i64::MIN);
            self.a.alu_rr(Alu::Xor, Size::S64, a, R11);
        }
        self.a.bind(done);
        self.release_xmm(x);
        self.push(Val::Reg(a), to);
    }

    fn float_convert(&mut self, from: Size, to: Size) {
        let (a, _) = self.pop_xmm();
        debug_assert!(from != to);
        self.a.float_convert(to, a);
        self.push_xmm(a, to);
    }

    // ---- memory ----

    /// `[base + zero-extended address + offset]` for an access of memory `memarg.memory`
    /// (its base in rax, the address in r11), or why not: only guarded 32-bit memories.
    fn address(&mut self, memarg: MemArg, addr: Reg) -> Result<Mem, Fallback> {
        let wasmparser::MemArgTarget::Memory(index) = memarg.target else {
            return fallback("array accesses");
        };
        let memory = self
            .module
            .memory_type(index)
            .ok_or_else(|| Fallback("no such memory".into()))?;
        if self.options.bounds_checks || memory.memory64 {
            return self.checked_address(memarg, addr, index, memory.memory64);
        }
        let at = self.offsets.memory(index) + memory_import::BASE;
        self.a.load(Size::S64, RAX, Mem::at(R15, at as i32));
        self.a.mov_rr(Size::S32, R11, addr);
        Ok(self.offset_operand(memarg.offset))
    }

    fn load(&mut self, memarg: MemArg, bytes: u8, signed: bool, to: Size) -> Result<(), Fallback> {
        if let Some(local) = self.take_local_operand() {
            // The address read from the cached local's register; the value to a new one.
            let r = self.alloc();
            let m = self.address(memarg, local.reg)?;
            self.a.trap_here(TrapKind::MemoryOutOfBounds);
            self.a.load_narrow(bytes, signed, to, r, m);
            self.end_local_operand(local);
            self.push(Val::Reg(r), to);
            return Ok(());
        }
        let (addr, _) = self.pop_reg();
        let m = self.address(memarg, addr)?;
        self.a.trap_here(TrapKind::MemoryOutOfBounds);
        self.a.load_narrow(bytes, signed, to, addr, m);
        self.push(Val::Reg(addr), to);
        Ok(())
    }

    /// `f32.load`, `f64.load`: straight to an xmm register.
    fn float_load(&mut self, memarg: MemArg, size: Size) -> Result<(), Fallback> {
        let (addr, _) = self.pop_reg();
        let x = self.alloc_xmm();
        let m = self.address(memarg, addr)?;
        self.a.trap_here(TrapKind::MemoryOutOfBounds);
        self.a.load_xmm(size, x, m);
        self.release(addr);
        self.push_xmm(x, size);
        Ok(())
    }

    fn store(&mut self, memarg: MemArg, bytes: u8) -> Result<(), Fallback> {
        if self.top_is_xmm() && (bytes == 4 || bytes == 8) {
            // A value in an xmm register (a float, or its bits): its low 4 or 8 bytes.
            let (value, _) = self.pop_xmm();
            let (addr, _) = self.pop_reg();
            let m = self.address(memarg, addr)?;
            self.a.trap_here(TrapKind::MemoryOutOfBounds);
            self.a.store_xmm(if bytes == 4 { Size::S32 } else { Size::S64 }, m, value);
            self.release_xmm(value);
            self.release(addr);
            return Ok(());
        }
        if let Some(v) = self.top_const().filter(|&v| bytes < 8 || i32::try_from(v).is_ok()) {
            // A constant stored as an immediate; the address maybe the cached local's register.
            self.pop();
            let local = self.take_local_operand();
            let addr = match local {
                Some(local) => local.reg,
                None => self.pop_reg().0,
            };
            let m = self.address(memarg, addr)?;
            self.a.trap_here(TrapKind::MemoryOutOfBounds);
            self.a.store_imm(bytes, m, v);
            match local {
                Some(local) => self.end_local_operand(local),
                None => self.release(addr),
            }
            return Ok(());
        }
        let (value, _) = self.pop_reg();
        let (addr, _) = self.pop_reg();
        let m = self.address(memarg, addr)?;
        self.a.trap_here(TrapKind::MemoryOutOfBounds);
        self.a.store_narrow(bytes, m, value);
        self.release(value);
        self.release(addr);
        Ok(())
    }

    /// Fails unless memory `index` is a 32-bit memory.
    fn memory32(&self, index: u32) -> Result<(), Fallback> {
        match self.module.memory_type(index) {
            Some(memory) if !memory.memory64 => Ok(()),
            Some(_) => fallback("memory64"),
            None => fallback("no such memory"),
        }
    }

    /// Spills the stack and moves its top values to `registers` (the deepest first), each
    /// read as 32 bits, zero-extended: the i32 operands of a libcall that takes them as i64
    /// addresses and lengths of a 32-bit memory, or as i32.
    fn libcall_arguments(&mut self, registers: &[Reg]) {
        self.spill_all();
        let first = self.stack.len() - registers.len();
        for (k, &reg) in registers.iter().enumerate() {
            let home = self.home(first + k);
            self.a.load(Size::S32, reg, home);
        }
        self.stack.truncate(first);
    }

    /// Calls a status-returning bulk-memory libcall (System V; its arguments after the vmctx
    /// already in place) and traps as the translator's code does: `Interrupted` for an
    /// interrupt between chunks, else MemoryOutOfBounds on any non-zero status.
    fn bulk_libcall(&mut self, call: LibCall) {
        self.a.mov_rr(Size::S64, RDI, R15);
        self.a.load(Size::S64, RAX, Mem::at(R15, vmctx::BUILTINS as i32));
        self.a.call_m(Mem::at(RAX, (call.slot() * 8) as i32));
        let done = self.a.label();
        self.a.test_rr(Size::S32, RAX, RAX);
        self.a.jcc(Cond::E, done);
        let interrupted = 1 + TrapKind::ALL
            .iter()
            .position(|k| *k == TrapKind::Interrupted)
            .unwrap_or(0) as i32;
        self.a.alu_ri(Alu::Cmp, Size::S32, RAX, interrupted);
        self.a.trap_if(Cond::E, TrapKind::Interrupted);
        self.a.ud2(TrapKind::MemoryOutOfBounds);
        self.a.bind(done);
    }

    // ---- calls ----

    /// Spills the stack and moves the top values, the arguments of a callee of type `ty`, to
    /// where the `tail` convention passes them (`arg_locs`): registers (integers in rsi, rdx,
    /// rcx, r8, r9; floats in xmm0–xmm7), the rest in a stack-argument area reserved below rsp,
    /// which the callee pops on return. Leaves rsp lowered by that area: the call follows.
    fn arguments(&mut self, ty: &wasmparser::FuncType) -> Result<(), Fallback> {
        signature_ok(ty)?;
        // Every value is in its home slot across the call: the callee clobbers the pool.
        self.spill_all();
        let first = self.stack.len() - ty.params().len();
        let (locs, stack_bytes) = arg_locs(ty);
        if stack_bytes > 0 {
            self.max_outgoing = self.max_outgoing.max(stack_bytes);
            // A multiple of 16 below a 16-byte-aligned rsp: rsp stays aligned at the call.
            self.a.alu_ri(Alu::Sub, Size::S64, RSP, stack_bytes as i32);
        }
        for (k, loc) in locs.into_iter().enumerate() {
            let home = self.home(first + k);
            self.move_argument(ty.params()[k], loc, home, Mem::at(RSP, 0));
        }
        self.stack.truncate(first);
        Ok(())
    }

    /// Moves the function's results, the spilled values just below stack height `len`, to their
    /// return registers (multi-value). Uses r11; clobbers the argument registers.
    fn load_results(&mut self, len: usize) {
        let first = len - self.results.len();
        for k in 0..self.results.len() {
            let home = self.home(first + k);
            match self.results[k].1 {
                ArgLoc::Int(i) => self.a.load(Size::S64, INT_RETS[i], home),
                ArgLoc::Float(x) => self.a.load_xmm(Size::S64, x, home),
                ArgLoc::Stack(_) => unreachable!("ret_locs gives registers only"),
            }
        }
    }

    /// After a call: the result, from rax or xmm0; several results (from `ret_locs`' registers)
    /// straight to their home slots, since the return registers overlap the pool.
    fn call_result(&mut self, ty: &wasmparser::FuncType) -> Result<(), Fallback> {
        if ty.results().len() > 1 {
            let locs = ret_locs(ty).ok_or_else(|| Fallback("signature".into()))?;
            let base = self.stack.len();
            // Integers first: the floats go through rax, the first integer result.
            for pass_floats in [false, true] {
                for (k, &loc) in locs.iter().enumerate() {
                    let home = self.home(base + k);
                    match loc {
                        ArgLoc::Int(i) if !pass_floats => self.a.store(Size::S64, home, INT_RETS[i]),
                        ArgLoc::Float(x) if pass_floats => {
                            self.a.from_xmm(Size::S64, RAX, x);
                            self.a.store(Size::S64, home, RAX);
                        }
                        _ => {}
                    }
                }
            }
            for &t in ty.results() {
                let size = size_of(t)?;
                self.push(Val::Spilled, size);
            }
            return Ok(());
        }
        if ty.results() == [ValType::V128] {
            self.need_wide()?;
            let x = self.alloc_xmm();
            self.a.mov_xmm(x, 0);
            self.push(Val::V128Reg(x), Size::S64);
            return Ok(());
        }
        if let Some(&t) = ty.results().first() {
            let size = size_of(t)?;
            if is_float(t) {
                let x = self.alloc_xmm();
                self.a.mov_xmm(x, 0);
                self.push_xmm(x, size);
            } else {
                let r = self.alloc();
                self.a.mov_rr(Size::S64, r, RAX);
                self.push(Val::Reg(r), size);
            }
        }
        Ok(())
    }
}

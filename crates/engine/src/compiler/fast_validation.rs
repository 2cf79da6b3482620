//! A fast path for validating function bodies made of the common operators: numbers (i32, i64,
//! f32, f64 and v128 values), locals, globals, loads and stores of 32-bit memory 0, blocks,
//! branches, calls and `call_indirect` through funcref tables, `memory.copy`/`fill`.
//!
//! It can only say "valid": anything it does not cover (an operator, a type, an encoding) or
//! finds wrong ends it, and the body is then validated by wasmparser's validator, which decides
//! (and words the error). So it must never accept a body wasmparser refuses; it may refuse one
//! wasmparser accepts, at the cost of validating that body twice. Every check here is
//! wasmparser's check for the same operator, made on a snapshot of the module's types taken once
//! ([`FastModule`]), or stricter than it.
//!
//! Why: compile() of a large module is mostly validation (1.8M operators for the compile
//! benchmark's synthetic module), and wasmparser's validator spends ~125 instructions per
//! operator, most of it the dispatch through its visitor and the generic operand checks
//! (subtyping, reference types). This loop reads the opcode byte and checks its operands
//! against a table, on a stack of one-byte types, in the manner of V8's function body decoder.

use std::cell::RefCell;

use wasmparser::{CompositeInnerType, RefType, ValType, WasmFeatures, WasmModuleResources};

/// The type of a value on the operand stack: the value type's own binary encoding, or
/// [`UNKNOWN`] for the bottom type of unreachable code.
type Ty = u8;
const UNKNOWN: Ty = 0;
const I32: Ty = 0x7f;
const I64: Ty = 0x7e;
const F32: Ty = 0x7d;
const F64: Ty = 0x7c;
const V128: Ty = 0x7b;

/// wasmparser's limit on a function's locals, parameters included
/// (`limits::MAX_WASM_FUNCTION_LOCALS`).
const MAX_LOCALS: u64 = 50_000;
/// wasmparser's limit on a `br_table`'s targets (`limits::MAX_WASM_BR_TABLE_SIZE`).
const MAX_BR_TABLE: u32 = 7_654_321;

/// Every byte as a one-element slice, for a block type that is one value type.
static ONE: [u8; 256] = {
    let mut all = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        all[i] = i as u8;
        i += 1;
    }
    all
};

/// The numeric operators 0x45..=0xc4 (comparisons, arithmetic, conversions, sign extension):
/// [first operand, second operand (UNKNOWN: none), result].
static NUMERIC: [[Ty; 3]; 256] = {
    let mut t = [[UNKNOWN; 3]; 256];
    let mut op = 0x45;
    while op <= 0xc4 {
        t[op] = match op {
            0x45 => [I32, UNKNOWN, I32],
            0x46..=0x4f => [I32, I32, I32],
            0x50 => [I64, UNKNOWN, I32],
            0x51..=0x5a => [I64, I64, I32],
            0x5b..=0x60 => [F32, F32, I32],
            0x61..=0x66 => [F64, F64, I32],
            0x67..=0x69 => [I32, UNKNOWN, I32],
            0x6a..=0x78 => [I32, I32, I32],
            0x79..=0x7b => [I64, UNKNOWN, I64],
            0x7c..=0x8a => [I64, I64, I64],
            0x8b..=0x91 => [F32, UNKNOWN, F32],
            0x92..=0x98 => [F32, F32, F32],
            0x99..=0x9f => [F64, UNKNOWN, F64],
            0xa0..=0xa6 => [F64, F64, F64],
            0xa7 => [I64, UNKNOWN, I32],
            0xa8 | 0xa9 => [F32, UNKNOWN, I32],
            0xaa | 0xab => [F64, UNKNOWN, I32],
            0xac | 0xad => [I32, UNKNOWN, I64],
            0xae | 0xaf => [F32, UNKNOWN, I64],
            0xb0 | 0xb1 => [F64, UNKNOWN, I64],
            0xb2 | 0xb3 => [I32, UNKNOWN, F32],
            0xb4 | 0xb5 => [I64, UNKNOWN, F32],
            0xb6 => [F64, UNKNOWN, F32],
            0xb7 | 0xb8 => [I32, UNKNOWN, F64],
            0xb9 | 0xba => [I64, UNKNOWN, F64],
            0xbb => [F32, UNKNOWN, F64],
            0xbc => [F32, UNKNOWN, I32],
            0xbd => [F64, UNKNOWN, I64],
            0xbe => [I32, UNKNOWN, F32],
            0xbf => [I64, UNKNOWN, F64],
            0xc0 | 0xc1 => [I32, UNKNOWN, I32],
            _ => [I64, UNKNOWN, I64], // 0xc2..=0xc4
        };
        op += 1;
    }
    t
};

/// Loads 0x28..=0x35 and stores 0x36..=0x3e: [the memarg's natural alignment (log2), value type].
#[rustfmt::skip]
static MEMORY_ACCESS: [[u8; 2]; 23] = [
    [2, I32], [3, I64], [2, F32], [3, F64], // i32 i64 f32 f64 .load
    [0, I32], [0, I32], [1, I32], [1, I32], // i32.load8_s/u, i32.load16_s/u
    [0, I64], [0, I64], [1, I64], [1, I64], [2, I64], [2, I64], // i64.load8/16/32_s/u
    [2, I32], [3, I64], [2, F32], [3, F64], // i32 i64 f32 f64 .store
    [0, I32], [1, I32], [0, I64], [1, I64], [2, I64], // i32.store8/16, i64.store8/16/32
];

/// A function type as the fast path knows it: parameters then results.
struct Signature {
    types: Box<[Ty]>,
    params: usize,
}

impl Signature {
    fn params(&self) -> &[Ty] {
        &self.types[..self.params]
    }
    fn results(&self) -> &[Ty] {
        &self.types[self.params..]
    }
}

/// What the fast path needs of a module, taken once from the validator's view of it (the
/// sections before the code section): function types whose values are all numbers or vectors,
/// and which functions, globals, tables and memory 0 it can check accesses to.
pub(super) struct FastModule {
    /// By type index: `None` for a type that is not a function type, or has a reference-typed
    /// parameter or result, or is shared.
    types: Vec<Option<Signature>>,
    /// By function index: its type index (`signature` says whether the fast path knows it).
    functions: Vec<u32>,
    /// By global index: its value type with [`MUTABLE`] for a mutable one, or 0 (reference-typed
    /// or shared globals).
    globals: Vec<u8>,
    /// By table index: whether `call_indirect` may go through it (a 32-bit unshared table of
    /// `funcref`, nullable: wasmparser's subtyping check holds).
    funcref_tables: Vec<bool>,
    /// Memory 0 exists and has 32-bit addresses.
    memory0: bool,
    /// Memory offsets are read as u64 (the memory64 feature), else as u32.
    offsets_64: bool,
    /// Memory indices are LEBs (multi-memory), else one zero byte.
    memory_index_leb: bool,
    simd: bool,
}

/// The global flag in [`FastModule::globals`].
const MUTABLE: u8 = 0x80;

impl FastModule {
    /// The snapshot of `resources`, or `None` when bodies validated with `features` could mean
    /// something this path does not check (one of the features its operators need is off).
    pub(super) fn new(
        resources: &impl WasmModuleResources,
        features: WasmFeatures,
    ) -> Option<FastModule> {
        let needed = WasmFeatures::FLOATS
            | WasmFeatures::MUTABLE_GLOBAL
            | WasmFeatures::SIGN_EXTENSION
            | WasmFeatures::SATURATING_FLOAT_TO_INT
            | WasmFeatures::MULTI_VALUE
            | WasmFeatures::BULK_MEMORY
            | WasmFeatures::CALL_INDIRECT_OVERLONG;
        if !features.contains(needed) {
            return None;
        }
        let simd = features.contains(WasmFeatures::SIMD);
        let value = |ty: &ValType| -> Option<Ty> {
            match ty {
                ValType::I32 => Some(I32),
                ValType::I64 => Some(I64),
                ValType::F32 => Some(F32),
                ValType::F64 => Some(F64),
                ValType::V128 if simd => Some(V128),
                _ => None,
            }
        };
        let mut types = Vec::new();
        while let Some(sub) = resources.sub_type_at(types.len() as u32) {
            let signature = match &sub.composite_type.inner {
                CompositeInnerType::Func(func) if !sub.composite_type.shared => {
                    let all: Option<Box<[Ty]>> = func
                        .params()
                        .iter()
                        .chain(func.results())
                        .map(value)
                        .collect();
                    all.map(|types| Signature {
                        types,
                        params: func.params().len(),
                    })
                }
                _ => None,
            };
            types.push(signature);
        }
        let mut functions = Vec::new();
        while let Some(ty) = resources.type_index_of_function(functions.len() as u32) {
            functions.push(ty);
        }
        let mut globals = Vec::new();
        while let Some(global) = resources.global_at(globals.len() as u32) {
            globals.push(match value(&global.content_type) {
                Some(ty) if !global.shared => ty | if global.mutable { MUTABLE } else { 0 },
                _ => 0,
            });
        }
        let mut funcref_tables = Vec::new();
        while let Some(table) = resources.table_at(funcref_tables.len() as u32) {
            funcref_tables
                .push(table.element_type == RefType::FUNCREF && !table.table64 && !table.shared);
        }
        let memory0 = resources.memory_at(0).is_some_and(|m| !m.memory64);
        Some(FastModule {
            types,
            functions,
            globals,
            funcref_tables,
            memory0,
            offsets_64: features.contains(WasmFeatures::MEMORY64),
            memory_index_leb: features.contains(WasmFeatures::MULTI_MEMORY),
            simd,
        })
    }

    fn value_type(&self, byte: u8) -> Option<Ty> {
        match byte {
            I32 | I64 | F32 | F64 => Some(byte),
            V128 if self.simd => Some(V128),
            _ => None,
        }
    }

    fn signature(&self, type_index: u32) -> Option<&Signature> {
        self.types.get(type_index as usize)?.as_ref()
    }

    fn params(&self, block: BlockType) -> &[Ty] {
        match block {
            BlockType::Empty | BlockType::Value(_) => &[],
            BlockType::Func(index) => self.types[index as usize]
                .as_ref()
                .map_or(&[], Signature::params),
        }
    }

    fn results(&self, block: BlockType) -> &[Ty] {
        match block {
            BlockType::Empty => &[],
            BlockType::Value(ty) => std::slice::from_ref(&ONE[ty as usize]),
            BlockType::Func(index) => self.types[index as usize]
                .as_ref()
                .map_or(&[], Signature::results),
        }
    }
}

/// A block's type; a `Func` index always names a [`Signature`].
#[derive(Clone, Copy)]
enum BlockType {
    Empty,
    Value(Ty),
    Func(u32),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Block,
    Loop,
    If,
    Else,
}

#[derive(Clone, Copy)]
struct Frame {
    kind: Kind,
    block: BlockType,
    /// The operand stack's height when the block began (its parameters above it).
    height: usize,
    unreachable: bool,
}

/// Buffers reused from one body to the next.
#[derive(Default)]
struct Scratch {
    operands: Vec<Ty>,
    control: Vec<Frame>,
    locals: Vec<Ty>,
}

impl Scratch {
    /// Gives back what an outsized body made the buffers grow to (kept per thread between
    /// compiles, they stay small).
    fn trim(&mut self) {
        const KEEP: usize = 64 * 1024;
        if self.operands.capacity() > KEEP || self.locals.capacity() > KEEP || self.control.capacity() > KEEP / 16 {
            *self = Scratch::default();
        }
    }
}

/// Whether the fast path finds `body` (a code section entry: its locals, then its operators)
/// valid as the body of a function of type `type_index`. `false` says nothing: the body is then
/// wasmparser's to validate.
pub(super) fn validate(module: &FastModule, type_index: u32, body: &[u8]) -> bool {
    thread_local! {
        /// Buffers reused by every body this thread validates.
        static SCRATCH: RefCell<Scratch> = RefCell::default();
    }
    SCRATCH.with_borrow_mut(|scratch| {
        let valid = validate_with(module, type_index, body, scratch);
        scratch.trim();
        valid
    })
}

fn validate_with(module: &FastModule, type_index: u32, body: &[u8], scratch: &mut Scratch) -> bool {
    let Some(signature) = module.signature(type_index) else {
        return false;
    };
    let mut locals = std::mem::take(&mut scratch.locals);
    locals.clear();
    locals.extend_from_slice(signature.params());
    let mut control = std::mem::take(&mut scratch.control);
    control.clear();
    // The validator is a value of this frame, all its methods inlined: its scalars (the read
    // position, the stack pointer, the innermost frame's height) stay in registers.
    let v = Validator {
        module,
        reader: Reader {
            bytes: body,
            position: 0,
        },
        operands: Operands {
            slots: std::mem::take(&mut scratch.operands),
            len: 0,
        },
        control,
        locals,
        height: 0,
        unreachable: false,
    };
    let (valid, v) = v.run(type_index);
    scratch.operands = v.operands.slots;
    scratch.control = v.control;
    scratch.locals = v.locals;
    valid
}

/// A cursor over a body's bytes. Integers are read as wasmparser reads them, or refused where
/// wasmparser might accept (the fast path then gives up, which is always allowed).
struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl Reader<'_> {
    #[inline(always)]
    fn byte(&mut self) -> Option<u8> {
        let byte = *self.bytes.get(self.position)?;
        self.position += 1;
        Some(byte)
    }

    #[inline(always)]
    fn eof(&self) -> bool {
        self.position == self.bytes.len()
    }

    #[inline(always)]
    fn skip(&mut self, n: usize) -> Option<()> {
        if self.bytes.len() - self.position < n {
            return None;
        }
        self.position += n;
        Some(())
    }

    /// An unsigned LEB of at most 32 bits: wasmparser's `read_var_u32` (the fifth byte carries
    /// four bits and no continuation).
    #[inline(always)]
    fn u32(&mut self) -> Option<u32> {
        let byte = self.byte()?;
        if byte & 0x80 == 0 {
            return Some(u32::from(byte));
        }
        self.u32_long(byte)
    }

    #[inline(always)]
    fn u32_long(&mut self, first: u8) -> Option<u32> {
        let mut result = u32::from(first & 0x7f);
        for shift in [7, 14, 21] {
            let byte = self.byte()?;
            result |= u32::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(result);
            }
        }
        let byte = self.byte()?;
        if byte >> 4 != 0 {
            return None;
        }
        Some(result | u32::from(byte) << 28)
    }

    /// An unsigned LEB of at most 64 bits: wasmparser's `read_var_u64`.
    #[inline(always)]
    fn u64(&mut self) -> Option<u64> {
        let mut result = 0u64;
        for shift in (0..63).step_by(7) {
            let byte = self.byte()?;
            result |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(result);
            }
        }
        let byte = self.byte()?; // the tenth: one bit left
        if byte >> 1 != 0 {
            return None;
        }
        Some(result | u64::from(byte) << 63)
    }

    /// Skips a signed LEB of at most `bits` (32 or 64) bits, as wasmparser's `read_var_i32` and
    /// `read_var_i64` accept it: the last byte's unused bits repeat the sign bit.
    #[inline(always)]
    fn skip_signed(&mut self, bits: u32) -> Option<()> {
        let last = bits.div_ceil(7) - 1; // the index of the last byte a value may take
        for _ in 0..last {
            if self.byte()? & 0x80 == 0 {
                return Some(());
            }
        }
        let byte = self.byte()?;
        // The last byte holds `bits - 7 * last` value bits; the 7 - that above them (and the
        // continuation bit) must be copies of the sign.
        let used = bits - 7 * last;
        let rest = (byte & 0x7f) >> (used - 1); // the sign bit and the unused bits
        if byte & 0x80 != 0 || (rest != 0 && rest != (0x7f >> (used - 1))) {
            return None;
        }
        Some(())
    }

    /// A block type: empty, one value type, or a function type's index (a non-negative s33, here
    /// of at most four bytes).
    #[inline(always)]
    fn block_type(&mut self, module: &FastModule) -> Option<BlockType> {
        let byte = *self.bytes.get(self.position)?;
        if byte == 0x40 {
            self.position += 1;
            return Some(BlockType::Empty);
        }
        if byte & 0xc0 == 0x40 {
            // A negative one-byte s33: a value type.
            self.position += 1;
            return module.value_type(byte).map(BlockType::Value);
        }
        // An s33 index: positive (the sign bit of its last byte clear), at most four bytes.
        let mut index = 0u32;
        for shift in [0, 7, 14, 21] {
            let byte = self.byte()?;
            index |= u32::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                if byte & 0x40 != 0 {
                    return None;
                }
                module.signature(index)?;
                return Some(BlockType::Func(index));
            }
        }
        None
    }

    /// A memory index after `memory.size`, `memory.grow`, `memory.copy`, `memory.fill`: it must
    /// be 0, and memory 0 one the fast path knows.
    #[inline(always)]
    fn memory_zero(&mut self, module: &FastModule) -> Option<()> {
        let index = if module.memory_index_leb {
            self.u32()?
        } else {
            u32::from(self.byte()?)
        };
        (index == 0 && module.memory0).then_some(())
    }

    /// A load's or store's memarg for memory 0 (an alignment byte with no flags), alignment at
    /// most `natural`, its offset within 32 bits.
    #[inline(always)]
    fn memarg(&mut self, module: &FastModule, natural: u8) -> Option<()> {
        let align = self.byte()?;
        if align > natural || !module.memory0 {
            return None;
        }
        let offset = if module.offsets_64 {
            self.u64()?
        } else {
            u64::from(self.u32()?)
        };
        (offset <= u64::from(u32::MAX)).then_some(())
    }
}

/// `a == b`, without a call for the usual lengths (none or one type).
#[inline(always)]
fn same_types(a: &[Ty], b: &[Ty]) -> bool {
    match (a, b) {
        ([], []) => true,
        ([x], [y]) => x == y,
        _ => a == b,
    }
}

/// The operand stack: `slots[..len]`. `slots` only grows (its length is its capacity, filled
/// with anything), so that a push is a store and an increment of `len`, which stays in a
/// register: only `slots` is passed to the (cold) call that grows it.
struct Operands {
    slots: Vec<Ty>,
    len: usize,
}

impl Operands {
    #[inline(always)]
    fn push(&mut self, ty: Ty) {
        if self.len == self.slots.len() {
            grow(&mut self.slots);
        }
        self.slots[self.len] = ty;
        self.len += 1;
    }

    #[inline(always)]
    fn extend(&mut self, types: &[Ty]) {
        for &ty in types {
            self.push(ty);
        }
    }
}

#[cold]
#[inline(never)]
fn grow(slots: &mut Vec<Ty>) {
    let len = (slots.len() * 2).max(64);
    slots.resize(len, UNKNOWN);
}

struct Validator<'a, 'b> {
    module: &'a FastModule,
    reader: Reader<'b>,
    operands: Operands,
    control: Vec<Frame>,
    locals: Vec<Ty>,
    /// The innermost frame's `height` and `unreachable`.
    height: usize,
    unreachable: bool,
}

impl<'a> Validator<'a, '_> {
    #[inline(always)]
    fn run(mut self, type_index: u32) -> (bool, Self) {
        let valid = self.body(type_index).is_some();
        (valid, self)
    }

    #[inline(always)]
    fn body(&mut self, type_index: u32) -> Option<()> {
        self.locals()?;
        self.control.push(Frame {
            kind: Kind::Block,
            block: BlockType::Func(type_index),
            height: 0,
            unreachable: false,
        });
        self.operators()
    }

    #[inline(always)]
    fn locals(&mut self) -> Option<()> {
        let groups = self.reader.u32()?;
        let mut total = self.locals.len() as u64;
        for _ in 0..groups {
            let count = self.reader.u32()?;
            let ty = self.module.value_type(self.reader.byte()?)?;
            total += u64::from(count);
            if total > MAX_LOCALS {
                return None;
            }
            self.locals.resize(total as usize, ty);
        }
        Some(())
    }

    #[inline(always)]
    fn pop(&mut self) -> Option<Ty> {
        if self.operands.len == self.height {
            return self.unreachable.then_some(UNKNOWN);
        }
        self.operands.len -= 1;
        Some(self.operands.slots[self.operands.len])
    }

    #[inline(always)]
    fn pop_expect(&mut self, expected: Ty) -> Option<()> {
        let actual = self.pop()?;
        (actual == expected || actual == UNKNOWN).then_some(())
    }

    #[inline(always)]
    fn pop_all(&mut self, types: &[Ty]) -> Option<()> {
        for &ty in types.iter().rev() {
            self.pop_expect(ty)?;
        }
        Some(())
    }

    #[inline(always)]
    fn unary(&mut self, operand: Ty, result: Ty) -> Option<()> {
        let n = self.operands.len;
        if n > self.height && self.operands.slots[n - 1] == operand {
            self.operands.slots[n - 1] = result;
        } else {
            self.pop_expect(operand)?;
            self.operands.push(result);
        }
        Some(())
    }

    #[inline(always)]
    fn binary(&mut self, operand: Ty, result: Ty) -> Option<()> {
        let n = self.operands.len;
        if n >= self.height + 2
            && self.operands.slots[n - 1] == operand
            && self.operands.slots[n - 2] == operand
        {
            self.operands.len = n - 1;
            self.operands.slots[n - 2] = result;
        } else {
            self.pop_expect(operand)?;
            self.pop_expect(operand)?;
            self.operands.push(result);
        }
        Some(())
    }

    #[inline(always)]
    fn set_unreachable(&mut self) {
        self.operands.len = self.height;
        self.unreachable = true;
        if let Some(frame) = self.control.last_mut() {
            frame.unreachable = true;
        }
    }

    #[inline(always)]
    fn push_frame(&mut self, kind: Kind, block: BlockType) -> Option<()> {
        let params = self.module.params(block);
        self.pop_all(params)?;
        let height = self.operands.len;
        self.control.push(Frame {
            kind,
            block,
            height,
            unreachable: false,
        });
        self.operands.extend(params);
        self.height = height;
        self.unreachable = false;
        Some(())
    }

    /// The types a branch to the frame `depth` levels out carries.
    #[inline(always)]
    fn label(&self, depth: u32) -> Option<&'a [Ty]> {
        let index = self.control.len().checked_sub(1 + depth as usize)?;
        let frame = self.control[index];
        let module: &'a FastModule = self.module;
        Some(if frame.kind == Kind::Loop {
            module.params(frame.block)
        } else {
            module.results(frame.block)
        })
    }

    /// The end of the innermost frame's instructions (at `else` or `end`): its results must be
    /// all that is left above its height.
    #[inline(always)]
    fn close_frame(&mut self) -> Option<Frame> {
        let frame = *self.control.last()?;
        self.pop_all(self.module.results(frame.block))?;
        (self.operands.len == frame.height).then_some(frame)
    }

    #[inline(always)]
    fn operators(&mut self) -> Option<()> {
        let module = self.module;
        loop {
            let op = self.reader.byte()?;
            match op {
                0x45..=0xc4 => {
                    let [a, b, result] = NUMERIC[op as usize];
                    if b == UNKNOWN {
                        self.unary(a, result)?;
                    } else {
                        self.binary(a, result)?;
                    }
                }
                0x20 => {
                    let ty = *self.locals.get(self.reader.u32()? as usize)?;
                    self.operands.push(ty);
                }
                0x21 => {
                    let ty = *self.locals.get(self.reader.u32()? as usize)?;
                    self.pop_expect(ty)?;
                }
                0x22 => {
                    let ty = *self.locals.get(self.reader.u32()? as usize)?;
                    self.unary(ty, ty)?;
                }
                0x41 => {
                    self.reader.skip_signed(32)?;
                    self.operands.push(I32);
                }
                0x42 => {
                    self.reader.skip_signed(64)?;
                    self.operands.push(I64);
                }
                0x43 => {
                    self.reader.skip(4)?;
                    self.operands.push(F32);
                }
                0x44 => {
                    self.reader.skip(8)?;
                    self.operands.push(F64);
                }
                0x28..=0x35 => {
                    let [natural, ty] = MEMORY_ACCESS[usize::from(op - 0x28)];
                    self.reader.memarg(module, natural)?;
                    self.unary(I32, ty)?;
                }
                0x36..=0x3e => {
                    let [natural, ty] = MEMORY_ACCESS[usize::from(op - 0x28)];
                    self.reader.memarg(module, natural)?;
                    self.pop_expect(ty)?;
                    self.pop_expect(I32)?;
                }
                0x3f => {
                    self.reader.memory_zero(module)?;
                    self.operands.push(I32);
                }
                0x40 => {
                    self.reader.memory_zero(module)?;
                    self.unary(I32, I32)?;
                }
                0x23 => {
                    let global = *module.globals.get(self.reader.u32()? as usize)?;
                    if global == 0 {
                        return None;
                    }
                    self.operands.push(global & !MUTABLE);
                }
                0x24 => {
                    let global = *module.globals.get(self.reader.u32()? as usize)?;
                    if global & MUTABLE == 0 {
                        return None;
                    }
                    self.pop_expect(global & !MUTABLE)?;
                }
                0x00 => self.set_unreachable(),
                0x01 => {}
                0x02 => {
                    let block = self.reader.block_type(module)?;
                    self.push_frame(Kind::Block, block)?;
                }
                0x03 => {
                    let block = self.reader.block_type(module)?;
                    self.push_frame(Kind::Loop, block)?;
                }
                0x04 => {
                    let block = self.reader.block_type(module)?;
                    self.pop_expect(I32)?;
                    self.push_frame(Kind::If, block)?;
                }
                0x05 => {
                    let frame = self.close_frame()?;
                    if frame.kind != Kind::If {
                        return None;
                    }
                    let top = self.control.last_mut()?;
                    top.kind = Kind::Else;
                    top.unreachable = false;
                    self.unreachable = false;
                    self.operands.extend(module.params(frame.block));
                }
                0x0b => {
                    let frame = self.close_frame()?;
                    // An `if` without `else`: the missing branch passes its parameters on.
                    if frame.kind == Kind::If
                        && !same_types(module.params(frame.block), module.results(frame.block))
                    {
                        return None;
                    }
                    self.control.pop();
                    match self.control.last() {
                        Some(outer) => {
                            self.height = outer.height;
                            self.unreachable = outer.unreachable;
                            self.operands.extend(module.results(frame.block));
                        }
                        // The function's end: it must be the last byte.
                        None => return self.reader.eof().then_some(()),
                    }
                }
                0x0c => {
                    let depth = self.reader.u32()?;
                    let label = self.label(depth)?;
                    self.pop_all(label)?;
                    self.set_unreachable();
                }
                0x0d => {
                    let depth = self.reader.u32()?;
                    let label = self.label(depth)?;
                    self.pop_expect(I32)?;
                    self.pop_all(label)?;
                    self.operands.extend(label);
                }
                0x0e => {
                    self.pop_expect(I32)?;
                    let count = self.reader.u32()?;
                    if count > MAX_BR_TABLE {
                        return None;
                    }
                    let targets = self.reader.position;
                    for _ in 0..count {
                        self.reader.u32()?;
                    }
                    let depth = self.reader.u32()?;
                    let default = self.label(depth)?;
                    let after = self.reader.position;
                    // Every target must carry exactly the default's types (wasmparser allows
                    // other matches in unreachable code; those bodies are left to it).
                    self.reader.position = targets;
                    for _ in 0..count {
                        let depth = self.reader.u32()?;
                        if !same_types(self.label(depth)?, default) {
                            return None;
                        }
                    }
                    self.reader.position = after;
                    self.pop_all(default)?;
                    self.set_unreachable();
                }
                0x0f => {
                    let results = module.results(self.control.first()?.block);
                    self.pop_all(results)?;
                    self.set_unreachable();
                }
                0x10 => {
                    let ty = *module.functions.get(self.reader.u32()? as usize)?;
                    let signature = module.signature(ty)?;
                    self.pop_all(signature.params())?;
                    self.operands.extend(signature.results());
                }
                0x11 => {
                    let signature = module.signature(self.reader.u32()?)?;
                    let table = self.reader.u32()?;
                    if !*module.funcref_tables.get(table as usize)? {
                        return None;
                    }
                    self.pop_expect(I32)?;
                    self.pop_all(signature.params())?;
                    self.operands.extend(signature.results());
                }
                0x1a => {
                    self.pop()?;
                }
                0x1b => {
                    self.pop_expect(I32)?;
                    let a = self.pop()?;
                    let b = self.pop()?;
                    // Numbers and vectors only (no reference type reaches this stack).
                    let ty = match (a, b) {
                        (UNKNOWN, t) | (t, UNKNOWN) => t,
                        (a, b) if a == b => a,
                        _ => return None,
                    };
                    self.operands.push(ty);
                }
                0xfc => match self.reader.u32()? {
                    0 | 1 => self.unary(F32, I32)?,
                    2 | 3 => self.unary(F64, I32)?,
                    4 | 5 => self.unary(F32, I64)?,
                    6 | 7 => self.unary(F64, I64)?,
                    10 => {
                        self.reader.memory_zero(module)?;
                        self.reader.memory_zero(module)?;
                        self.pop_all(&[I32, I32, I32])?;
                    }
                    11 => {
                        self.reader.memory_zero(module)?;
                        self.pop_all(&[I32, I32, I32])?;
                    }
                    _ => return None,
                },
                _ => return None,
            }
        }
    }
}

/// For each function body of `bytes` (as far as the sections before it decode), decoded and
/// validated as `compile()` does: (the fast path's verdict, wasmparser's). For the tests and the
/// fuzzer (`cranewasm-fuzz --validator`): the fast path must never say valid where wasmparser
/// does not.
pub fn verdicts(bytes: &[u8]) -> Vec<(bool, bool)> {
    let mut out = Vec::new();
    super::decode::Decoder::new(super::features()).feed(bytes, true, |_, pending| {
        let fast = pending.fast.as_deref();
        let quick = fast.is_some_and(|fast| validate(fast, pending.func.ty, pending.body.as_bytes()));
        let full = pending.func.into_validator(Default::default()).validate(&pending.body).is_ok();
        out.push((quick, full));
    });
    out
}

#[cfg(test)]
mod tests;

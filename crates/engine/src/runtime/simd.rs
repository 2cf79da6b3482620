//! The `Simd` libcall ([`crate::libcall::LibCall::Simd`]): the SIMD operators the single-pass
//! tier does not emit inline, computed on the 16-byte stack slots of its frame.
//!
//! Results are bit-identical to the code Cranelift's x64 backend generates for the translator's
//! IR (`translate::simd`), NaN bits included: float arithmetic, square roots, roundings and
//! the f32/f64 conversions run the very SSE instructions Cranelift emits (inline assembly, so
//! operand order, and with it which NaN propagates, is the backend's), `fmin`/`fmax` compute
//! what the backend's branchless sequences give (a NaN operand gives the quiet NaN with the
//! sign of `x | y` for `max` and the negative quiet NaN for `min`; -0 < +0), and the relaxed
//! operators make the README's deterministic choices. Integer operators, comparisons,
//! conversions to and from integers and lane moves are exactly defined by the spec.

use wasmparser::Operator;

use crate::libcall::{simd_arity, simd_operator};

type V = [u8; 16];

/// `Simd(vmctx, subop, lanes_lo, lanes_hi, slots)`: operator `subop` on the operands in the
/// 16-byte slots at `slots`, `slots - 16`, `slots - 32` (the deepest first, as the single-pass
/// frame lays them out), the result in the first slot (a scalar result in its low bytes, the
/// rest zero). `lanes_lo`/`lanes_hi` are `i8x16.shuffle`'s lane indices.
///
/// # Safety
/// `slots` points to as many readable and writable 16-byte slots (downwards) as the operator
/// has operands; the single-pass compiler validated the operator.
pub unsafe extern "C" fn simd(_vmctx: *mut u8, subop: u32, lanes_lo: u64, lanes_hi: u64, slots: *mut u8) {
    let Some(op) = simd_operator(subop) else {
        // Never generated for an operator the table lacks (the compiler found it there).
        return;
    };
    let arity = simd_arity(op);
    let mut operands = [[0u8; 16]; 3];
    for (k, operand) in operands.iter_mut().enumerate().take(arity) {
        // SAFETY: the caller provides `arity` slots at `slots - 16k`.
        *operand = unsafe { std::ptr::read_unaligned(slots.sub(16 * k) as *const V) };
    }
    let mut lanes = [0u8; 16];
    lanes[..8].copy_from_slice(&lanes_lo.to_le_bytes());
    lanes[8..].copy_from_slice(&lanes_hi.to_le_bytes());
    let result = eval(op, &operands, &lanes).unwrap_or([0; 16]);
    // SAFETY: the first slot is writable (the caller's contract).
    unsafe { std::ptr::write_unaligned(slots as *mut V, result) };
}

// ---- lane access ----

macro_rules! get {
    ($v:expr, $t:ty, $i:expr) => {{
        const W: usize = std::mem::size_of::<$t>();
        <$t>::from_le_bytes($v[$i * W..$i * W + W].try_into().expect("lane"))
    }};
}

macro_rules! set {
    ($v:expr, $t:ty, $i:expr, $x:expr) => {{
        const W: usize = std::mem::size_of::<$t>();
        let x: $t = $x;
        $v[$i * W..$i * W + W].copy_from_slice(&x.to_le_bytes());
    }};
}

/// Lane-wise `f(x)` on lanes of type `$t`, results of type `$r` (same width).
macro_rules! map1 {
    ($a:expr, $t:ty, $r:ty, |$x:ident| $e:expr) => {{
        let mut out = [0u8; 16];
        for i in 0..16 / std::mem::size_of::<$t>() {
            let $x = get!($a, $t, i);
            set!(out, $r, i, $e);
        }
        out
    }};
}

macro_rules! map2 {
    ($a:expr, $b:expr, $t:ty, $r:ty, |$x:ident, $y:ident| $e:expr) => {{
        let mut out = [0u8; 16];
        for i in 0..16 / std::mem::size_of::<$t>() {
            let $x = get!($a, $t, i);
            let $y = get!($b, $t, i);
            set!(out, $r, i, $e);
        }
        out
    }};
}

/// A lane-wise comparison: all ones where true.
macro_rules! cmp {
    ($a:expr, $b:expr, $t:ty, $u:ty, |$x:ident, $y:ident| $e:expr) => {
        map2!($a, $b, $t, $u, |$x, $y| if $e { <$u>::MAX } else { 0 })
    };
}

/// Shift of lanes of `$t` by the i32 in `$b`'s low bytes, modulo the lane width.
macro_rules! shift {
    ($a:expr, $b:expr, $t:ty, $op:ident) => {{
        let n = get!($b, u32, 0) % (8 * std::mem::size_of::<$t>() as u32);
        map1!($a, $t, $t, |x| x.$op(n))
    }};
}

/// Widens lanes `$from..$from + n` of `$t` to `$w`.
macro_rules! widen {
    ($a:expr, $t:ty, $w:ty, $high:expr) => {{
        let n = 16 / std::mem::size_of::<$w>();
        let base = if $high { n } else { 0 };
        let mut out = [0u8; 16];
        for i in 0..n {
            set!(out, $w, i, <$w>::from(get!($a, $t, base + i)));
        }
        out
    }};
}

macro_rules! extmul {
    ($a:expr, $b:expr, $t:ty, $w:ty, $high:expr) => {{
        let n = 16 / std::mem::size_of::<$w>();
        let base = if $high { n } else { 0 };
        let mut out = [0u8; 16];
        for i in 0..n {
            let x = <$w>::from(get!($a, $t, base + i));
            let y = <$w>::from(get!($b, $t, base + i));
            set!(out, $w, i, x.wrapping_mul(y));
        }
        out
    }};
}

macro_rules! extadd {
    ($a:expr, $t:ty, $w:ty) => {{
        let mut out = [0u8; 16];
        for i in 0..16 / std::mem::size_of::<$w>() {
            let x = <$w>::from(get!($a, $t, 2 * i));
            let y = <$w>::from(get!($a, $t, 2 * i + 1));
            set!(out, $w, i, x.wrapping_add(y));
        }
        out
    }};
}

/// Narrowing with saturation: lanes of `$a` then of `$b` (of `$t`) to `$n`.
macro_rules! narrow {
    ($a:expr, $b:expr, $t:ty, $n:ty) => {{
        let count = 16 / std::mem::size_of::<$t>();
        let mut out = [0u8; 16];
        for i in 0..count {
            let x = get!($a, $t, i).clamp(<$n>::MIN as $t, <$n>::MAX as $t) as $n;
            let y = get!($b, $t, i).clamp(<$n>::MIN as $t, <$n>::MAX as $t) as $n;
            set!(out, $n, i, x);
            set!(out, $n, count + i, y);
        }
        out
    }};
}

fn all_true<const W: usize>(a: &V) -> bool {
    a.chunks(W).all(|lane| lane.iter().any(|&b| b != 0))
}

fn bitmask<const W: usize>(a: &V) -> u32 {
    a.chunks(W).enumerate().fold(0, |m, (i, lane)| m | (u32::from(lane[W - 1] >> 7) << i))
}

fn scalar(x: u32) -> V {
    let mut out = [0u8; 16];
    out[..4].copy_from_slice(&x.to_le_bytes());
    out
}

// ---- SSE instructions, as the backend emits them ----

macro_rules! sse {
    ($ins:literal, $a:expr, $b:expr) => {
        sse!(@ concat!($ins, " {x}, {y}"), $a, $b)
    };
    ($ins:literal, $a:expr, $b:expr, $imm:literal) => {
        sse!(@ concat!($ins, " {x}, {y}, ", stringify!($imm)), $a, $b)
    };
    (@ $text:expr, $a:expr, $b:expr) => {{
        use std::arch::x86_64::__m128i;
        // SAFETY: [u8; 16] and __m128i have the same size; every bit pattern is valid.
        let mut x: __m128i = unsafe { std::mem::transmute::<V, __m128i>($a) };
        // SAFETY: as above.
        let y: __m128i = unsafe { std::mem::transmute::<V, __m128i>($b) };
        // SAFETY: one SSE/SSE4.1 instruction on registers (the engine requires SSE4.1); no
        // memory, no stack, no flags.
        unsafe {
            std::arch::asm!($text, x = inout(xmm_reg) x, y = in(xmm_reg) y,
                options(pure, nomem, nostack, preserves_flags));
        }
        // SAFETY: as above.
        unsafe { std::mem::transmute::<__m128i, V>(x) }
    }};
}

fn f32_sign_flip(a: V) -> V {
    map1!(a, u32, u32, |x| x ^ 0x8000_0000)
}

fn f64_sign_flip(a: V) -> V {
    map1!(a, u64, u64, |x| x ^ 0x8000_0000_0000_0000)
}

/// The backend's vector `fmin`: NaN in either gives the negative quiet NaN; otherwise the
/// minimum, the OR of both when they compare equal (so -0 for mixed zeros).
fn fmin32(x: u32, y: u32) -> u32 {
    let (fx, fy) = (f32::from_bits(x), f32::from_bits(y));
    if fx.is_nan() || fy.is_nan() {
        0xffc0_0000
    } else if fx < fy {
        x
    } else if fy < fx {
        y
    } else {
        x | y
    }
}

fn fmin64(x: u64, y: u64) -> u64 {
    let (fx, fy) = (f64::from_bits(x), f64::from_bits(y));
    if fx.is_nan() || fy.is_nan() {
        0xfff8_0000_0000_0000
    } else if fx < fy {
        x
    } else if fy < fx {
        y
    } else {
        x | y
    }
}

/// The backend's vector `fmax`: NaN in either gives the quiet NaN whose sign is that of
/// `x | y`; otherwise the maximum, +0 for mixed zeros.
fn fmax32(x: u32, y: u32) -> u32 {
    let (fx, fy) = (f32::from_bits(x), f32::from_bits(y));
    if fx.is_nan() || fy.is_nan() {
        ((x | y) & 0x8000_0000) | 0x7fc0_0000
    } else if fx > fy {
        x
    } else if fy > fx {
        y
    } else {
        x & y
    }
}

fn fmax64(x: u64, y: u64) -> u64 {
    let (fx, fy) = (f64::from_bits(x), f64::from_bits(y));
    if fx.is_nan() || fy.is_nan() {
        ((x | y) & 0x8000_0000_0000_0000) | 0x7ff8_0000_0000_0000
    } else if fx > fy {
        x
    } else if fy > fx {
        y
    } else {
        x & y
    }
}

fn q15mulr(x: i16, y: i16) -> i16 {
    let p = (i32::from(x) * i32::from(y) + 0x4000) >> 15;
    p.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
}

/// `op` on `o` (its operands in stack order), or `None` when the libcall does not compute it.
fn eval(op: &Operator<'_>, o: &[V; 3], lanes: &[u8; 16]) -> Option<V> {
    use Operator::*;
    let (a, b, c) = (o[0], o[1], o[2]);
    Some(match *op {
        // ---- lanes ----
        I8x16Shuffle { .. } => {
            let mut out = [0u8; 16];
            for (i, &l) in lanes.iter().enumerate() {
                let l = usize::from(l & 31);
                out[i] = if l < 16 { a[l] } else { b[l - 16] };
            }
            out
        }
        I8x16Swizzle | I8x16RelaxedSwizzle => {
            let mut out = [0u8; 16];
            for i in 0..16 {
                let l = usize::from(b[i]);
                out[i] = if l < 16 { a[l] } else { 0 };
            }
            out
        }

        // ---- bitwise ----
        V128Not => map1!(a, u64, u64, |x| !x),
        V128And => map2!(a, b, u64, u64, |x, y| x & y),
        V128AndNot => map2!(a, b, u64, u64, |x, y| x & !y),
        V128Or => map2!(a, b, u64, u64, |x, y| x | y),
        V128Xor => map2!(a, b, u64, u64, |x, y| x ^ y),
        V128Bitselect | I8x16RelaxedLaneselect | I16x8RelaxedLaneselect | I32x4RelaxedLaneselect
        | I64x2RelaxedLaneselect => {
            let mut out = [0u8; 16];
            for i in 0..16 {
                out[i] = (a[i] & c[i]) | (b[i] & !c[i]);
            }
            out
        }

        // ---- tests ----
        V128AnyTrue => scalar(u32::from(a.iter().any(|&x| x != 0))),
        I8x16AllTrue => scalar(u32::from(all_true::<1>(&a))),
        I16x8AllTrue => scalar(u32::from(all_true::<2>(&a))),
        I32x4AllTrue => scalar(u32::from(all_true::<4>(&a))),
        I64x2AllTrue => scalar(u32::from(all_true::<8>(&a))),
        I8x16Bitmask => scalar(bitmask::<1>(&a)),
        I16x8Bitmask => scalar(bitmask::<2>(&a)),
        I32x4Bitmask => scalar(bitmask::<4>(&a)),
        I64x2Bitmask => scalar(bitmask::<8>(&a)),

        // ---- integer arithmetic ----
        I8x16Add => map2!(a, b, u8, u8, |x, y| x.wrapping_add(y)),
        I16x8Add => map2!(a, b, u16, u16, |x, y| x.wrapping_add(y)),
        I32x4Add => map2!(a, b, u32, u32, |x, y| x.wrapping_add(y)),
        I64x2Add => map2!(a, b, u64, u64, |x, y| x.wrapping_add(y)),
        I8x16Sub => map2!(a, b, u8, u8, |x, y| x.wrapping_sub(y)),
        I16x8Sub => map2!(a, b, u16, u16, |x, y| x.wrapping_sub(y)),
        I32x4Sub => map2!(a, b, u32, u32, |x, y| x.wrapping_sub(y)),
        I64x2Sub => map2!(a, b, u64, u64, |x, y| x.wrapping_sub(y)),
        I16x8Mul => map2!(a, b, u16, u16, |x, y| x.wrapping_mul(y)),
        I32x4Mul => map2!(a, b, u32, u32, |x, y| x.wrapping_mul(y)),
        I64x2Mul => map2!(a, b, u64, u64, |x, y| x.wrapping_mul(y)),
        I8x16Neg => map1!(a, i8, i8, |x| x.wrapping_neg()),
        I16x8Neg => map1!(a, i16, i16, |x| x.wrapping_neg()),
        I32x4Neg => map1!(a, i32, i32, |x| x.wrapping_neg()),
        I64x2Neg => map1!(a, i64, i64, |x| x.wrapping_neg()),
        I8x16Abs => map1!(a, i8, i8, |x| x.wrapping_abs()),
        I16x8Abs => map1!(a, i16, i16, |x| x.wrapping_abs()),
        I32x4Abs => map1!(a, i32, i32, |x| x.wrapping_abs()),
        I64x2Abs => map1!(a, i64, i64, |x| x.wrapping_abs()),
        I8x16MinS => map2!(a, b, i8, i8, |x, y| x.min(y)),
        I16x8MinS => map2!(a, b, i16, i16, |x, y| x.min(y)),
        I32x4MinS => map2!(a, b, i32, i32, |x, y| x.min(y)),
        I8x16MinU => map2!(a, b, u8, u8, |x, y| x.min(y)),
        I16x8MinU => map2!(a, b, u16, u16, |x, y| x.min(y)),
        I32x4MinU => map2!(a, b, u32, u32, |x, y| x.min(y)),
        I8x16MaxS => map2!(a, b, i8, i8, |x, y| x.max(y)),
        I16x8MaxS => map2!(a, b, i16, i16, |x, y| x.max(y)),
        I32x4MaxS => map2!(a, b, i32, i32, |x, y| x.max(y)),
        I8x16MaxU => map2!(a, b, u8, u8, |x, y| x.max(y)),
        I16x8MaxU => map2!(a, b, u16, u16, |x, y| x.max(y)),
        I32x4MaxU => map2!(a, b, u32, u32, |x, y| x.max(y)),
        I8x16AvgrU => map2!(a, b, u8, u8, |x, y| ((u16::from(x) + u16::from(y) + 1) / 2) as u8),
        I16x8AvgrU => map2!(a, b, u16, u16, |x, y| ((u32::from(x) + u32::from(y) + 1) / 2) as u16),
        I8x16AddSatS => map2!(a, b, i8, i8, |x, y| x.saturating_add(y)),
        I16x8AddSatS => map2!(a, b, i16, i16, |x, y| x.saturating_add(y)),
        I8x16AddSatU => map2!(a, b, u8, u8, |x, y| x.saturating_add(y)),
        I16x8AddSatU => map2!(a, b, u16, u16, |x, y| x.saturating_add(y)),
        I8x16SubSatS => map2!(a, b, i8, i8, |x, y| x.saturating_sub(y)),
        I16x8SubSatS => map2!(a, b, i16, i16, |x, y| x.saturating_sub(y)),
        I8x16SubSatU => map2!(a, b, u8, u8, |x, y| x.saturating_sub(y)),
        I16x8SubSatU => map2!(a, b, u16, u16, |x, y| x.saturating_sub(y)),
        I8x16Popcnt => map1!(a, u8, u8, |x| x.count_ones() as u8),
        I16x8Q15MulrSatS | I16x8RelaxedQ15mulrS => map2!(a, b, i16, i16, |x, y| q15mulr(x, y)),

        // ---- shifts ----
        I8x16Shl => shift!(a, b, u8, wrapping_shl),
        I16x8Shl => shift!(a, b, u16, wrapping_shl),
        I32x4Shl => shift!(a, b, u32, wrapping_shl),
        I64x2Shl => shift!(a, b, u64, wrapping_shl),
        I8x16ShrS => shift!(a, b, i8, wrapping_shr),
        I16x8ShrS => shift!(a, b, i16, wrapping_shr),
        I32x4ShrS => shift!(a, b, i32, wrapping_shr),
        I64x2ShrS => shift!(a, b, i64, wrapping_shr),
        I8x16ShrU => shift!(a, b, u8, wrapping_shr),
        I16x8ShrU => shift!(a, b, u16, wrapping_shr),
        I32x4ShrU => shift!(a, b, u32, wrapping_shr),
        I64x2ShrU => shift!(a, b, u64, wrapping_shr),

        // ---- integer comparisons ----
        I8x16Eq => cmp!(a, b, u8, u8, |x, y| x == y),
        I16x8Eq => cmp!(a, b, u16, u16, |x, y| x == y),
        I32x4Eq => cmp!(a, b, u32, u32, |x, y| x == y),
        I64x2Eq => cmp!(a, b, u64, u64, |x, y| x == y),
        I8x16Ne => cmp!(a, b, u8, u8, |x, y| x != y),
        I16x8Ne => cmp!(a, b, u16, u16, |x, y| x != y),
        I32x4Ne => cmp!(a, b, u32, u32, |x, y| x != y),
        I64x2Ne => cmp!(a, b, u64, u64, |x, y| x != y),
        I8x16LtS => cmp!(a, b, i8, u8, |x, y| x < y),
        I16x8LtS => cmp!(a, b, i16, u16, |x, y| x < y),
        I32x4LtS => cmp!(a, b, i32, u32, |x, y| x < y),
        I64x2LtS => cmp!(a, b, i64, u64, |x, y| x < y),
        I8x16LtU => cmp!(a, b, u8, u8, |x, y| x < y),
        I16x8LtU => cmp!(a, b, u16, u16, |x, y| x < y),
        I32x4LtU => cmp!(a, b, u32, u32, |x, y| x < y),
        I8x16GtS => cmp!(a, b, i8, u8, |x, y| x > y),
        I16x8GtS => cmp!(a, b, i16, u16, |x, y| x > y),
        I32x4GtS => cmp!(a, b, i32, u32, |x, y| x > y),
        I64x2GtS => cmp!(a, b, i64, u64, |x, y| x > y),
        I8x16GtU => cmp!(a, b, u8, u8, |x, y| x > y),
        I16x8GtU => cmp!(a, b, u16, u16, |x, y| x > y),
        I32x4GtU => cmp!(a, b, u32, u32, |x, y| x > y),
        I8x16LeS => cmp!(a, b, i8, u8, |x, y| x <= y),
        I16x8LeS => cmp!(a, b, i16, u16, |x, y| x <= y),
        I32x4LeS => cmp!(a, b, i32, u32, |x, y| x <= y),
        I64x2LeS => cmp!(a, b, i64, u64, |x, y| x <= y),
        I8x16LeU => cmp!(a, b, u8, u8, |x, y| x <= y),
        I16x8LeU => cmp!(a, b, u16, u16, |x, y| x <= y),
        I32x4LeU => cmp!(a, b, u32, u32, |x, y| x <= y),
        I8x16GeS => cmp!(a, b, i8, u8, |x, y| x >= y),
        I16x8GeS => cmp!(a, b, i16, u16, |x, y| x >= y),
        I32x4GeS => cmp!(a, b, i32, u32, |x, y| x >= y),
        I64x2GeS => cmp!(a, b, i64, u64, |x, y| x >= y),
        I8x16GeU => cmp!(a, b, u8, u8, |x, y| x >= y),
        I16x8GeU => cmp!(a, b, u16, u16, |x, y| x >= y),
        I32x4GeU => cmp!(a, b, u32, u32, |x, y| x >= y),

        // ---- float comparisons (ordered, except `ne`) ----
        F32x4Eq => cmp!(a, b, u32, u32, |x, y| f32::from_bits(x) == f32::from_bits(y)),
        F32x4Ne => cmp!(a, b, u32, u32, |x, y| f32::from_bits(x) != f32::from_bits(y)),
        F32x4Lt => cmp!(a, b, u32, u32, |x, y| f32::from_bits(x) < f32::from_bits(y)),
        F32x4Gt => cmp!(a, b, u32, u32, |x, y| f32::from_bits(x) > f32::from_bits(y)),
        F32x4Le => cmp!(a, b, u32, u32, |x, y| f32::from_bits(x) <= f32::from_bits(y)),
        F32x4Ge => cmp!(a, b, u32, u32, |x, y| f32::from_bits(x) >= f32::from_bits(y)),
        F64x2Eq => cmp!(a, b, u64, u64, |x, y| f64::from_bits(x) == f64::from_bits(y)),
        F64x2Ne => cmp!(a, b, u64, u64, |x, y| f64::from_bits(x) != f64::from_bits(y)),
        F64x2Lt => cmp!(a, b, u64, u64, |x, y| f64::from_bits(x) < f64::from_bits(y)),
        F64x2Gt => cmp!(a, b, u64, u64, |x, y| f64::from_bits(x) > f64::from_bits(y)),
        F64x2Le => cmp!(a, b, u64, u64, |x, y| f64::from_bits(x) <= f64::from_bits(y)),
        F64x2Ge => cmp!(a, b, u64, u64, |x, y| f64::from_bits(x) >= f64::from_bits(y)),

        // ---- float arithmetic: the backend's instructions ----
        F32x4Add => sse!("addps", a, b),
        F64x2Add => sse!("addpd", a, b),
        F32x4Sub => sse!("subps", a, b),
        F64x2Sub => sse!("subpd", a, b),
        F32x4Mul => sse!("mulps", a, b),
        F64x2Mul => sse!("mulpd", a, b),
        F32x4Div => sse!("divps", a, b),
        F64x2Div => sse!("divpd", a, b),
        F32x4Sqrt => sse!("sqrtps", a, a),
        F64x2Sqrt => sse!("sqrtpd", a, a),
        F32x4Nearest => sse!("roundps", a, a, 0),
        F64x2Nearest => sse!("roundpd", a, a, 0),
        F32x4Floor => sse!("roundps", a, a, 1),
        F64x2Floor => sse!("roundpd", a, a, 1),
        F32x4Ceil => sse!("roundps", a, a, 2),
        F64x2Ceil => sse!("roundpd", a, a, 2),
        F32x4Trunc => sse!("roundps", a, a, 3),
        F64x2Trunc => sse!("roundpd", a, a, 3),
        F32x4Min | F32x4RelaxedMin => map2!(a, b, u32, u32, |x, y| fmin32(x, y)),
        F64x2Min | F64x2RelaxedMin => map2!(a, b, u64, u64, |x, y| fmin64(x, y)),
        F32x4Max | F32x4RelaxedMax => map2!(a, b, u32, u32, |x, y| fmax32(x, y)),
        F64x2Max | F64x2RelaxedMax => map2!(a, b, u64, u64, |x, y| fmax64(x, y)),
        // `y < x ? y : x` and `x < y ? y : x`, bits unchanged.
        F32x4PMin => map2!(a, b, u32, u32, |x, y| if f32::from_bits(y) < f32::from_bits(x) { y } else { x }),
        F64x2PMin => map2!(a, b, u64, u64, |x, y| if f64::from_bits(y) < f64::from_bits(x) { y } else { x }),
        F32x4PMax => map2!(a, b, u32, u32, |x, y| if f32::from_bits(x) < f32::from_bits(y) { y } else { x }),
        F64x2PMax => map2!(a, b, u64, u64, |x, y| if f64::from_bits(x) < f64::from_bits(y) { y } else { x }),
        F32x4Neg => f32_sign_flip(a),
        F64x2Neg => f64_sign_flip(a),
        F32x4Abs => map1!(a, u32, u32, |x| x & 0x7fff_ffff),
        F64x2Abs => map1!(a, u64, u64, |x| x & 0x7fff_ffff_ffff_ffff),
        // Unfused: the product rounded, (negated,) then the sum.
        F32x4RelaxedMadd => {
            let product = sse!("mulps", a, b);
            sse!("addps", product, c)
        }
        F64x2RelaxedMadd => {
            let product = sse!("mulpd", a, b);
            sse!("addpd", product, c)
        }
        F32x4RelaxedNmadd => {
            let product = f32_sign_flip(sse!("mulps", a, b));
            sse!("addps", product, c)
        }
        F64x2RelaxedNmadd => {
            let product = f64_sign_flip(sse!("mulpd", a, b));
            sse!("addpd", product, c)
        }

        // ---- conversions ----
        F32x4ConvertI32x4S => map1!(a, i32, u32, |x| (x as f32).to_bits()),
        F32x4ConvertI32x4U => map1!(a, u32, u32, |x| (x as f32).to_bits()),
        I32x4TruncSatF32x4S | I32x4RelaxedTruncF32x4S => map1!(a, u32, i32, |x| f32::from_bits(x) as i32),
        I32x4TruncSatF32x4U | I32x4RelaxedTruncF32x4U => map1!(a, u32, u32, |x| f32::from_bits(x) as u32),
        F64x2ConvertLowI32x4S => {
            let mut out = [0u8; 16];
            for i in 0..2 {
                set!(out, u64, i, f64::from(get!(a, i32, i)).to_bits());
            }
            out
        }
        F64x2ConvertLowI32x4U => {
            let mut out = [0u8; 16];
            for i in 0..2 {
                set!(out, u64, i, f64::from(get!(a, u32, i)).to_bits());
            }
            out
        }
        I32x4TruncSatF64x2SZero | I32x4RelaxedTruncF64x2SZero => {
            let mut out = [0u8; 16];
            for i in 0..2 {
                set!(out, i32, i, f64::from_bits(get!(a, u64, i)) as i32);
            }
            out
        }
        I32x4TruncSatF64x2UZero | I32x4RelaxedTruncF64x2UZero => {
            let mut out = [0u8; 16];
            for i in 0..2 {
                set!(out, u32, i, f64::from_bits(get!(a, u64, i)) as u32);
            }
            out
        }
        F32x4DemoteF64x2Zero => sse!("cvtpd2ps", a, a),
        F64x2PromoteLowF32x4 => sse!("cvtps2pd", a, a),

        // ---- narrowing and widening ----
        I8x16NarrowI16x8S => narrow!(a, b, i16, i8),
        I8x16NarrowI16x8U => narrow!(a, b, i16, u8),
        I16x8NarrowI32x4S => narrow!(a, b, i32, i16),
        I16x8NarrowI32x4U => narrow!(a, b, i32, u16),
        I16x8ExtendLowI8x16S => widen!(a, i8, i16, false),
        I16x8ExtendHighI8x16S => widen!(a, i8, i16, true),
        I16x8ExtendLowI8x16U => widen!(a, u8, u16, false),
        I16x8ExtendHighI8x16U => widen!(a, u8, u16, true),
        I32x4ExtendLowI16x8S => widen!(a, i16, i32, false),
        I32x4ExtendHighI16x8S => widen!(a, i16, i32, true),
        I32x4ExtendLowI16x8U => widen!(a, u16, u32, false),
        I32x4ExtendHighI16x8U => widen!(a, u16, u32, true),
        I64x2ExtendLowI32x4S => widen!(a, i32, i64, false),
        I64x2ExtendHighI32x4S => widen!(a, i32, i64, true),
        I64x2ExtendLowI32x4U => widen!(a, u32, u64, false),
        I64x2ExtendHighI32x4U => widen!(a, u32, u64, true),
        I16x8ExtMulLowI8x16S => extmul!(a, b, i8, i16, false),
        I16x8ExtMulHighI8x16S => extmul!(a, b, i8, i16, true),
        I16x8ExtMulLowI8x16U => extmul!(a, b, u8, u16, false),
        I16x8ExtMulHighI8x16U => extmul!(a, b, u8, u16, true),
        I32x4ExtMulLowI16x8S => extmul!(a, b, i16, i32, false),
        I32x4ExtMulHighI16x8S => extmul!(a, b, i16, i32, true),
        I32x4ExtMulLowI16x8U => extmul!(a, b, u16, u32, false),
        I32x4ExtMulHighI16x8U => extmul!(a, b, u16, u32, true),
        I64x2ExtMulLowI32x4S => extmul!(a, b, i32, i64, false),
        I64x2ExtMulHighI32x4S => extmul!(a, b, i32, i64, true),
        I64x2ExtMulLowI32x4U => extmul!(a, b, u32, u64, false),
        I64x2ExtMulHighI32x4U => extmul!(a, b, u32, u64, true),
        I16x8ExtAddPairwiseI8x16S => extadd!(a, i8, i16),
        I16x8ExtAddPairwiseI8x16U => extadd!(a, u8, u16),
        I32x4ExtAddPairwiseI16x8S => extadd!(a, i16, i32),
        I32x4ExtAddPairwiseI16x8U => extadd!(a, u16, u32),

        // ---- dot products ----
        I32x4DotI16x8S => {
            let mut out = [0u8; 16];
            for i in 0..4 {
                let p0 = i32::from(get!(a, i16, 2 * i)) * i32::from(get!(b, i16, 2 * i));
                let p1 = i32::from(get!(a, i16, 2 * i + 1)) * i32::from(get!(b, i16, 2 * i + 1));
                set!(out, i32, i, p0.wrapping_add(p1));
            }
            out
        }
        // Both operands signed; the pairs added with wraparound.
        I16x8RelaxedDotI8x16I7x16S => {
            let mut out = [0u8; 16];
            for i in 0..8 {
                let p0 = i16::from(get!(a, i8, 2 * i)) * i16::from(get!(b, i8, 2 * i));
                let p1 = i16::from(get!(a, i8, 2 * i + 1)) * i16::from(get!(b, i8, 2 * i + 1));
                set!(out, i16, i, p0.wrapping_add(p1));
            }
            out
        }
        // The four products summed exactly (they fit an i32), then `c` with wraparound.
        I32x4RelaxedDotI8x16I7x16AddS => {
            let mut out = [0u8; 16];
            for i in 0..4 {
                let mut sum = 0i32;
                for k in 0..4 {
                    sum += i32::from(get!(a, i8, 4 * i + k)) * i32::from(get!(b, i8, 4 * i + k));
                }
                set!(out, i32, i, sum.wrapping_add(get!(c, i32, i)));
            }
            out
        }

        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every SIMD operator the single-pass compiler may send here (all but the memory, constant,
    /// splat and lane operators it emits inline) is computed.
    #[test]
    fn the_libcall_computes_every_operator_left_to_it() {
        let mut missing = Vec::new();
        let mut count = 0;
        for sub in 0..0x200 {
            let Some(op) = simd_operator(sub) else { continue };
            let name = format!("{op:?}");
            let inline = ["Load", "Store", "Const", "Splat", "ExtractLane", "ReplaceLane"].iter().any(|k| name.contains(k));
            if eval(op, &[[0; 16]; 3], &[0; 16]).is_some() {
                count += 1;
            } else if !inline {
                missing.push(name);
            }
        }
        assert!(missing.is_empty(), "{missing:?}");
        assert!(count > 200, "{count}");
    }
}

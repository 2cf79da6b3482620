//! The SIMD arithmetic operators (`translate::simd::arith`) run natively at both tiers on
//! vectors of edge-case lanes (zeros, ones, the extremes, NaNs, signed zeros, infinities,
//! halfway values) and pseudo-random ones, and must agree lane by lane with a reference written
//! in Rust. A float lane that the reference computes as NaN may be any NaN (wasm leaves the
//! payload to the implementation); every other lane must match bit for bit.

use super::harness::Instance;
use crate::compiler::codegen::Tier;

/// How an operator takes its operands.
#[derive(Clone, Copy, PartialEq)]
enum Arity {
    Unary,
    Binary,
    /// A vector and an i32 shift count.
    Shift,
}

/// How the result's lanes are compared: as integers (exactly), or as floats of that many bits
/// (any NaN where the reference has a NaN).
#[derive(Clone, Copy)]
enum Compare {
    Int,
    Float(u32),
}

type Reference = Box<dyn Fn(u128, u128) -> u128>;

struct Case {
    op: &'static str,
    arity: Arity,
    result: Compare,
    reference: Reference,
}

// Lane access: a v128 is little-endian lanes of `bits` bits.

fn lane(v: u128, bits: u32, i: u32) -> u64 {
    ((v >> (i * bits)) as u64) & mask(bits)
}

fn mask(bits: u32) -> u64 {
    if bits == 64 {
        u64::MAX
    } else {
        (1 << bits) - 1
    }
}

/// Lane `i` of `v` sign-extended.
fn slane(v: u128, bits: u32, i: u32) -> i64 {
    let x = lane(v, bits, i);
    ((x << (64 - bits)) as i64) >> (64 - bits)
}

fn from_lanes(bits: u32, lanes: impl IntoIterator<Item = u64>) -> u128 {
    lanes.into_iter().enumerate().fold(0, |v, (i, x)| {
        v | (u128::from(x & mask(bits)) << (i as u32 * bits))
    })
}

fn f32_lane(v: u128, i: u32) -> f32 {
    f32::from_bits(lane(v, 32, i) as u32)
}

fn f64_lane(v: u128, i: u32) -> f64 {
    f64::from_bits(lane(v, 64, i))
}

/// A lane-wise operation on integer lanes (sign-extended into an i64, `f` truncates).
fn int2(bits: u32, f: impl Fn(i64, i64) -> i64 + 'static) -> Reference {
    Box::new(move |a, b| {
        from_lanes(
            bits,
            (0..128 / bits).map(|i| f(slane(a, bits, i), slane(b, bits, i)) as u64),
        )
    })
}

/// A lane-wise operation on unsigned integer lanes.
fn uint2(bits: u32, f: impl Fn(u64, u64) -> u64 + 'static) -> Reference {
    Box::new(move |a, b| {
        from_lanes(
            bits,
            (0..128 / bits).map(|i| f(lane(a, bits, i), lane(b, bits, i))),
        )
    })
}

/// A shift of every lane (sign-extended) by the count `n` modulo the lane width.
fn shift(bits: u32, f: impl Fn(i64, u32) -> u64 + 'static) -> Reference {
    Box::new(move |a, n| {
        from_lanes(
            bits,
            (0..128 / bits).map(|i| f(slane(a, bits, i), n as u32 % bits)),
        )
    })
}

fn int1(bits: u32, f: impl Fn(i64) -> i64 + 'static) -> Reference {
    int2(bits, move |x, _| f(x))
}

/// A lane-wise comparison: all ones where `f` holds.
fn cmp(bits: u32, signed: bool, f: impl Fn(i64, i64) -> bool + 'static) -> Reference {
    Box::new(move |a, b| {
        from_lanes(
            bits,
            (0..128 / bits).map(|i| {
                let (x, y) = if signed {
                    (slane(a, bits, i), slane(b, bits, i))
                } else {
                    (lane(a, bits, i) as i64, lane(b, bits, i) as i64)
                };
                // Unsigned 64-bit lanes do not occur (i64x2 has only signed comparisons).
                if f(x, y) {
                    u64::MAX
                } else {
                    0
                }
            }),
        )
    })
}

fn f32x4(f: impl Fn(f32, f32) -> f32 + 'static) -> Reference {
    Box::new(move |a, b| {
        from_lanes(
            32,
            (0..4).map(|i| u64::from(f(f32_lane(a, i), f32_lane(b, i)).to_bits())),
        )
    })
}

fn f64x2(f: impl Fn(f64, f64) -> f64 + 'static) -> Reference {
    Box::new(move |a, b| {
        from_lanes(
            64,
            (0..2).map(|i| f(f64_lane(a, i), f64_lane(b, i)).to_bits()),
        )
    })
}

fn f32x4_cmp(f: impl Fn(f32, f32) -> bool + 'static) -> Reference {
    Box::new(move |a, b| {
        from_lanes(
            32,
            (0..4).map(|i| {
                if f(f32_lane(a, i), f32_lane(b, i)) {
                    u64::MAX
                } else {
                    0
                }
            }),
        )
    })
}

fn f64x2_cmp(f: impl Fn(f64, f64) -> bool + 'static) -> Reference {
    Box::new(move |a, b| {
        from_lanes(
            64,
            (0..2).map(|i| {
                if f(f64_lane(a, i), f64_lane(b, i)) {
                    u64::MAX
                } else {
                    0
                }
            }),
        )
    })
}

/// Wasm's `fmin`: NaN if either is, -0 below +0.
fn wasm_min<F: num::Float>(x: F, y: F) -> F {
    if x.is_nan() || y.is_nan() {
        F::nan()
    } else if x == y {
        // Equal: only zeros can differ (in sign); the negative one is the minimum.
        if x.is_sign_negative() {
            x
        } else {
            y
        }
    } else if x < y {
        x
    } else {
        y
    }
}

fn wasm_max<F: num::Float>(x: F, y: F) -> F {
    if x.is_nan() || y.is_nan() {
        F::nan()
    } else if x == y {
        if x.is_sign_positive() {
            x
        } else {
            y
        }
    } else if x > y {
        x
    } else {
        y
    }
}

/// The little float interface the references share between f32 and f64.
mod num {
    pub trait Float: Copy + PartialOrd {
        fn is_nan(self) -> bool;
        fn nan() -> Self;
        fn is_sign_negative(self) -> bool;
        fn is_sign_positive(self) -> bool;
    }
    macro_rules! float {
        ($t:ty) => {
            impl Float for $t {
                fn is_nan(self) -> bool {
                    <$t>::is_nan(self)
                }
                fn nan() -> Self {
                    <$t>::NAN
                }
                fn is_sign_negative(self) -> bool {
                    <$t>::is_sign_negative(self)
                }
                fn is_sign_positive(self) -> bool {
                    <$t>::is_sign_positive(self)
                }
            }
        };
    }
    float!(f32);
    float!(f64);
}

/// Lanes of half `high` of `v`, widened (signed or not) from `bits` bits.
fn half(v: u128, bits: u32, high: bool, signed: bool) -> Vec<i64> {
    let n = 128 / bits;
    let start = if high { n / 2 } else { 0 };
    (start..start + n / 2)
        .map(|i| {
            if signed {
                slane(v, bits, i)
            } else {
                lane(v, bits, i) as i64
            }
        })
        .collect()
}

fn extend(bits: u32, high: bool, signed: bool) -> Reference {
    Box::new(move |a, _| {
        from_lanes(
            2 * bits,
            half(a, bits, high, signed).into_iter().map(|x| x as u64),
        )
    })
}

fn extmul(bits: u32, high: bool, signed: bool) -> Reference {
    Box::new(move |a, b| {
        let (x, y) = (half(a, bits, high, signed), half(b, bits, high, signed));
        from_lanes(
            2 * bits,
            x.iter().zip(&y).map(|(x, y)| x.wrapping_mul(*y) as u64),
        )
    })
}

fn extadd_pairwise(bits: u32, signed: bool) -> Reference {
    Box::new(move |a, _| {
        let lanes: Vec<i64> = (0..128 / bits)
            .map(|i| {
                if signed {
                    slane(a, bits, i)
                } else {
                    lane(a, bits, i) as i64
                }
            })
            .collect();
        from_lanes(2 * bits, lanes.chunks(2).map(|p| (p[0] + p[1]) as u64))
    })
}

/// Narrowing: the signed lanes of `a` then `b`, saturated to [lo, hi].
fn narrow(bits: u32, lo: i64, hi: i64) -> Reference {
    Box::new(move |a, b| {
        let n = 128 / bits;
        let lanes = (0..n)
            .map(|i| slane(a, bits, i))
            .chain((0..n).map(|i| slane(b, bits, i)));
        from_lanes(bits / 2, lanes.map(|x| x.clamp(lo, hi) as u64))
    })
}

fn cases() -> Vec<Case> {
    use Arity::*;
    let mut cases = Vec::new();
    let mut add = |op: &'static str, arity: Arity, result: Compare, reference: Reference| {
        cases.push(Case {
            op,
            arity,
            result,
            reference,
        })
    };
    let int = Compare::Int;

    for (shape, bits) in [("i8x16", 8), ("i16x8", 16), ("i32x4", 32), ("i64x2", 64)] {
        let name = |op: &str| -> &'static str { format!("{shape}.{op}").leak() };
        let (min, max) = (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1);
        let umax = mask(bits);
        add(
            name("add"),
            Binary,
            int,
            int2(bits, |x, y| x.wrapping_add(y)),
        );
        add(
            name("sub"),
            Binary,
            int,
            int2(bits, |x, y| x.wrapping_sub(y)),
        );
        if bits > 8 {
            add(
                name("mul"),
                Binary,
                int,
                int2(bits, |x, y| x.wrapping_mul(y)),
            );
        }
        add(name("neg"), Unary, int, int1(bits, |x| x.wrapping_neg()));
        add(name("abs"), Unary, int, int1(bits, |x| x.wrapping_abs()));
        add(name("shl"), Shift, int, shift(bits, |x, n| (x as u64) << n));
        add(
            name("shr_u"),
            Shift,
            int,
            shift(bits, move |x, n| (x as u64 & mask(bits)) >> n),
        );
        add(
            name("shr_s"),
            Shift,
            int,
            shift(bits, |x, n| (x >> n) as u64),
        );
        add(name("eq"), Binary, int, cmp(bits, true, |x, y| x == y));
        add(name("ne"), Binary, int, cmp(bits, true, |x, y| x != y));
        add(name("lt_s"), Binary, int, cmp(bits, true, |x, y| x < y));
        add(name("gt_s"), Binary, int, cmp(bits, true, |x, y| x > y));
        add(name("le_s"), Binary, int, cmp(bits, true, |x, y| x <= y));
        add(name("ge_s"), Binary, int, cmp(bits, true, |x, y| x >= y));
        if bits == 64 {
            continue;
        }
        add(name("lt_u"), Binary, int, cmp(bits, false, |x, y| x < y));
        add(name("gt_u"), Binary, int, cmp(bits, false, |x, y| x > y));
        add(name("le_u"), Binary, int, cmp(bits, false, |x, y| x <= y));
        add(name("ge_u"), Binary, int, cmp(bits, false, |x, y| x >= y));
        add(name("min_s"), Binary, int, int2(bits, |x, y| x.min(y)));
        add(name("max_s"), Binary, int, int2(bits, |x, y| x.max(y)));
        add(name("min_u"), Binary, int, uint2(bits, |x, y| x.min(y)));
        add(name("max_u"), Binary, int, uint2(bits, |x, y| x.max(y)));
        if bits == 32 {
            continue;
        }
        add(
            name("avgr_u"),
            Binary,
            int,
            uint2(bits, |x, y| (x + y + 1) >> 1),
        );
        add(
            name("add_sat_s"),
            Binary,
            int,
            int2(bits, move |x, y| (x + y).clamp(min, max)),
        );
        add(
            name("sub_sat_s"),
            Binary,
            int,
            int2(bits, move |x, y| (x - y).clamp(min, max)),
        );
        add(
            name("add_sat_u"),
            Binary,
            int,
            uint2(bits, move |x, y| (x + y).min(umax)),
        );
        add(
            name("sub_sat_u"),
            Binary,
            int,
            uint2(bits, |x, y| x.saturating_sub(y)),
        );
    }
    add(
        "i8x16.popcnt",
        Unary,
        int,
        uint2(8, |x, _| u64::from(x.count_ones())),
    );
    add(
        "i16x8.q15mulr_sat_s",
        Binary,
        int,
        int2(16, |x, y| ((x * y + 0x4000) >> 15).clamp(-0x8000, 0x7fff)),
    );

    let f32r = Compare::Float(32);
    let f64r = Compare::Float(64);
    add("f32x4.add", Binary, f32r, f32x4(|x, y| x + y));
    add("f64x2.add", Binary, f64r, f64x2(|x, y| x + y));
    add("f32x4.sub", Binary, f32r, f32x4(|x, y| x - y));
    add("f64x2.sub", Binary, f64r, f64x2(|x, y| x - y));
    add("f32x4.mul", Binary, f32r, f32x4(|x, y| x * y));
    add("f64x2.mul", Binary, f64r, f64x2(|x, y| x * y));
    add("f32x4.div", Binary, f32r, f32x4(|x, y| x / y));
    add("f64x2.div", Binary, f64r, f64x2(|x, y| x / y));
    add("f32x4.min", Binary, f32r, f32x4(wasm_min));
    add("f64x2.min", Binary, f64r, f64x2(wasm_min));
    add("f32x4.max", Binary, f32r, f32x4(wasm_max));
    add("f64x2.max", Binary, f64r, f64x2(wasm_max));
    // pmin/pmax return an operand unchanged: compared bit for bit, NaNs included.
    add(
        "f32x4.pmin",
        Binary,
        int,
        f32x4(|x, y| if y < x { y } else { x }),
    );
    add(
        "f64x2.pmin",
        Binary,
        int,
        f64x2(|x, y| if y < x { y } else { x }),
    );
    add(
        "f32x4.pmax",
        Binary,
        int,
        f32x4(|x, y| if x < y { y } else { x }),
    );
    add(
        "f64x2.pmax",
        Binary,
        int,
        f64x2(|x, y| if x < y { y } else { x }),
    );
    add("f32x4.sqrt", Unary, f32r, f32x4(|x, _| x.sqrt()));
    add("f64x2.sqrt", Unary, f64r, f64x2(|x, _| x.sqrt()));
    // neg and abs only touch the sign bit, NaNs included.
    add("f32x4.neg", Unary, int, f32x4(|x, _| -x));
    add("f64x2.neg", Unary, int, f64x2(|x, _| -x));
    add("f32x4.abs", Unary, int, f32x4(|x, _| x.abs()));
    add("f64x2.abs", Unary, int, f64x2(|x, _| x.abs()));
    add("f32x4.ceil", Unary, f32r, f32x4(|x, _| x.ceil()));
    add("f64x2.ceil", Unary, f64r, f64x2(|x, _| x.ceil()));
    add("f32x4.floor", Unary, f32r, f32x4(|x, _| x.floor()));
    add("f64x2.floor", Unary, f64r, f64x2(|x, _| x.floor()));
    add("f32x4.trunc", Unary, f32r, f32x4(|x, _| x.trunc()));
    add("f64x2.trunc", Unary, f64r, f64x2(|x, _| x.trunc()));
    add(
        "f32x4.nearest",
        Unary,
        f32r,
        f32x4(|x, _| x.round_ties_even()),
    );
    add(
        "f64x2.nearest",
        Unary,
        f64r,
        f64x2(|x, _| x.round_ties_even()),
    );
    add("f32x4.eq", Binary, int, f32x4_cmp(|x, y| x == y));
    add("f64x2.eq", Binary, int, f64x2_cmp(|x, y| x == y));
    add("f32x4.ne", Binary, int, f32x4_cmp(|x, y| x != y));
    add("f64x2.ne", Binary, int, f64x2_cmp(|x, y| x != y));
    add("f32x4.lt", Binary, int, f32x4_cmp(|x, y| x < y));
    add("f64x2.lt", Binary, int, f64x2_cmp(|x, y| x < y));
    add("f32x4.gt", Binary, int, f32x4_cmp(|x, y| x > y));
    add("f64x2.gt", Binary, int, f64x2_cmp(|x, y| x > y));
    add("f32x4.le", Binary, int, f32x4_cmp(|x, y| x <= y));
    add("f64x2.le", Binary, int, f64x2_cmp(|x, y| x <= y));
    add("f32x4.ge", Binary, int, f32x4_cmp(|x, y| x >= y));
    add("f64x2.ge", Binary, int, f64x2_cmp(|x, y| x >= y));

    // Conversions (Rust's `as` saturates float-to-int, NaN to 0, and rounds to nearest even).
    add(
        "f32x4.convert_i32x4_s",
        Unary,
        f32r,
        int1(32, |x| i64::from((x as i32 as f32).to_bits())),
    );
    add(
        "f32x4.convert_i32x4_u",
        Unary,
        f32r,
        uint2(32, |x, _| u64::from((x as u32 as f32).to_bits())),
    );
    add(
        "i32x4.trunc_sat_f32x4_s",
        Unary,
        int,
        f32x4(|x, _| f32::from_bits(x as i32 as u32)),
    );
    add(
        "i32x4.trunc_sat_f32x4_u",
        Unary,
        int,
        f32x4(|x, _| f32::from_bits(x as u32)),
    );
    add(
        "f64x2.convert_low_i32x4_s",
        Unary,
        f64r,
        Box::new(|a, _| from_lanes(64, (0..2).map(|i| (slane(a, 32, i) as f64).to_bits()))),
    );
    add(
        "f64x2.convert_low_i32x4_u",
        Unary,
        f64r,
        Box::new(|a, _| from_lanes(64, (0..2).map(|i| (lane(a, 32, i) as f64).to_bits()))),
    );
    add(
        "i32x4.trunc_sat_f64x2_s_zero",
        Unary,
        int,
        Box::new(|a, _| from_lanes(32, (0..2).map(|i| f64_lane(a, i) as i32 as u32 as u64))),
    );
    add(
        "i32x4.trunc_sat_f64x2_u_zero",
        Unary,
        int,
        Box::new(|a, _| from_lanes(32, (0..2).map(|i| u64::from(f64_lane(a, i) as u32)))),
    );
    add(
        "f32x4.demote_f64x2_zero",
        Unary,
        f32r,
        Box::new(|a, _| {
            from_lanes(
                32,
                (0..2).map(|i| u64::from((f64_lane(a, i) as f32).to_bits())),
            )
        }),
    );
    add(
        "f64x2.promote_low_f32x4",
        Unary,
        f64r,
        Box::new(|a, _| from_lanes(64, (0..2).map(|i| (f32_lane(a, i) as f64).to_bits()))),
    );

    add("i8x16.narrow_i16x8_s", Binary, int, narrow(16, -0x80, 0x7f));
    add("i8x16.narrow_i16x8_u", Binary, int, narrow(16, 0, 0xff));
    add(
        "i16x8.narrow_i32x4_s",
        Binary,
        int,
        narrow(32, -0x8000, 0x7fff),
    );
    add("i16x8.narrow_i32x4_u", Binary, int, narrow(32, 0, 0xffff));
    for (wide, narrow, bits) in [
        ("i16x8", "i8x16", 8),
        ("i32x4", "i16x8", 16),
        ("i64x2", "i32x4", 32),
    ] {
        for (half_name, high) in [("low", false), ("high", true)] {
            for (sign, signed) in [("s", true), ("u", false)] {
                let extend_op = format!("{wide}.extend_{half_name}_{narrow}_{sign}").leak();
                add(extend_op, Unary, int, extend(bits, high, signed));
                let extmul_op = format!("{wide}.extmul_{half_name}_{narrow}_{sign}").leak();
                add(extmul_op, Binary, int, extmul(bits, high, signed));
            }
        }
    }
    add(
        "i16x8.extadd_pairwise_i8x16_s",
        Unary,
        int,
        extadd_pairwise(8, true),
    );
    add(
        "i16x8.extadd_pairwise_i8x16_u",
        Unary,
        int,
        extadd_pairwise(8, false),
    );
    add(
        "i32x4.extadd_pairwise_i16x8_s",
        Unary,
        int,
        extadd_pairwise(16, true),
    );
    add(
        "i32x4.extadd_pairwise_i16x8_u",
        Unary,
        int,
        extadd_pairwise(16, false),
    );
    add(
        "i32x4.dot_i16x8_s",
        Binary,
        int,
        Box::new(|a, b| {
            from_lanes(
                32,
                (0..4).map(|i| {
                    let p = |j| slane(a, 16, j) * slane(b, 16, j);
                    p(2 * i).wrapping_add(p(2 * i + 1)) as u64
                }),
            )
        }),
    );
    cases
}

/// Operand vectors: each lane shape's edge cases spread over the lanes, and pseudo-random bits.
fn vectors() -> Vec<u128> {
    let mut vectors = Vec::new();
    let ints: [i64; 8] = [0, 1, -1, 2, -2, 0x55, 0x3fff, 0x7fff_1234];
    for bits in [8u32, 16, 32, 64] {
        let min = -(1i64 << (bits - 1));
        let max = !min;
        let pool: Vec<u64> = [min, max, min + 1, max - 1]
            .into_iter()
            .chain(ints)
            .map(|x| x as u64)
            .collect();
        let n = 128 / bits as usize;
        for start in (0..pool.len()).step_by(n.min(pool.len())) {
            vectors.push(from_lanes(
                bits,
                (0..n).map(|i| pool[(start + i) % pool.len()]),
            ));
        }
    }
    let f32s: [f32; 20] = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        -0.5,
        1.5,
        2.5,
        -2.5,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        -f32::NAN,
        f32::MIN_POSITIVE,
        f32::MAX,
        2147483648.0,
        -2147483904.0,
        4294967296.0,
        16777217.0,
        1e-40,
    ];
    for chunk in f32s.chunks(4) {
        vectors.push(from_lanes(32, chunk.iter().map(|x| u64::from(x.to_bits()))));
    }
    let f64s: [f64; 20] = [
        0.0,
        -0.0,
        1.0,
        -1.5,
        2.5,
        -0.5,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -f64::NAN,
        2147483647.5,
        -2147483648.9,
        4294967295.9,
        4294967296.0,
        1e300,
        -1e-300,
        f64::MAX,
        3.4028235677973366e38,
        1.0000000596046448,
        9007199254740993.0,
    ];
    for chunk in f64s.chunks(2) {
        vectors.push(from_lanes(64, chunk.iter().map(|x| x.to_bits())));
    }
    // xorshift128+ for reproducible noise.
    let (mut s0, mut s1) = (0x9e37_79b9_7f4a_7c15u64, 0xbf58_476d_1ce4_e5b9u64);
    let mut next = || {
        let (mut x, y) = (s0, s1);
        s0 = y;
        x ^= x << 23;
        s1 = x ^ y ^ (x >> 17) ^ (y >> 26);
        s1.wrapping_add(y)
    };
    for _ in 0..8 {
        vectors.push(u128::from(next()) | (u128::from(next()) << 64));
    }
    vectors
}

/// Shift counts: in range, the lane widths, beyond them, and negative.
const SHIFT_COUNTS: [i32; 12] = [0, 1, 3, 7, 8, 9, 15, 16, 31, 33, 64, -1];

fn module(cases: &[Case]) -> String {
    let mut wat = String::from("(module\n");
    for case in cases {
        let params = match case.arity {
            Arity::Unary => "(param v128)",
            Arity::Binary => "(param v128 v128)",
            Arity::Shift => "(param v128 i32)",
        };
        let gets = if case.arity == Arity::Unary {
            "local.get 0"
        } else {
            "local.get 0 local.get 1"
        };
        wat.push_str(&format!(
            "  (func (export \"{}\") {params} (result v128) {gets} {})\n",
            case.op, case.op
        ));
    }
    wat.push(')');
    wat
}

fn same(result: Compare, got: u128, want: u128) -> bool {
    match result {
        Compare::Int => got == want,
        Compare::Float(bits) => (0..128 / bits).all(|i| {
            let (g, w) = (lane(got, bits, i), lane(want, bits, i));
            let nan = |x: u64| {
                if bits == 32 {
                    f32::from_bits(x as u32).is_nan()
                } else {
                    f64::from_bits(x).is_nan()
                }
            };
            g == w || (nan(g) && nan(w))
        }),
    }
}

#[test]
fn simd_arithmetic_matches_the_reference_at_both_tiers() {
    let cases = cases();
    let wat = module(&cases);
    let vectors = vectors();
    for tier in [Tier::Baseline, Tier::Optimized] {
        let mut instance = Instance::new(&wat, tier);
        let mut failures = Vec::new();
        for case in &cases {
            let index = instance.exported_function(case.op).unwrap();
            let mut check = |a: u128, b: u128, args: &[u128]| {
                let got = instance.call(index, args).unwrap()[0];
                let want = (case.reference)(a, b);
                if !same(case.result, got, want) && failures.len() < 40 {
                    failures.push(format!(
                        "{tier:?} {}({a:#034x}, {b:#x}) = {got:#034x}, expected {want:#034x}",
                        case.op
                    ));
                }
            };
            for &a in &vectors {
                match case.arity {
                    Arity::Unary => check(a, 0, &[a]),
                    Arity::Binary => {
                        for &b in &vectors {
                            check(a, b, &[a, b]);
                        }
                    }
                    Arity::Shift => {
                        for n in SHIFT_COUNTS {
                            let n = u128::from(n as u32);
                            check(a, n, &[a, n]);
                        }
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}

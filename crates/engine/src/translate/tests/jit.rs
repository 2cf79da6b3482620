//! Translated functions run natively at both tiers, without the runtime: each test builds a
//! module, calls its exports through [`Instance::export`] and checks the results against Rust's
//! own arithmetic where Rust has the same semantics (wrapping integers, saturating `as` casts,
//! IEEE floats). Trapping paths need the trap handler and are not exercised here.

use super::harness::Instance;
use crate::compiler::codegen::Tier;

type II = extern "sysv64" fn(*mut u8, i32, i32) -> i32;
type LL = extern "sysv64" fn(*mut u8, i64, i64) -> i64;
type FF = extern "sysv64" fn(*mut u8, f32, f32) -> f32;
type DD = extern "sysv64" fn(*mut u8, f64, f64) -> f64;
type FI = extern "sysv64" fn(*mut u8, f32) -> i32;
type DL = extern "sysv64" fn(*mut u8, f64) -> i64;
type LF = extern "sysv64" fn(*mut u8, i64) -> f32;
type LD = extern "sysv64" fn(*mut u8, i64) -> f64;
type Ref = extern "sysv64" fn(*mut u8) -> u64;

const TIERS: [Tier; 2] = [Tier::Baseline, Tier::Optimized];

/// Calls export `name` of type `F` with the instance's vmctx and the given arguments.
macro_rules! call {
    ($instance:expr, $ty:ty, $name:expr $(, $arg:expr)*) => {{
        // SAFETY: every export called through this macro has the wasm type that `$ty` spells
        // under the wasm calling convention (checked by reading the module text of the test),
        // and the instance outlives the call.
        let f: $ty = unsafe { $instance.export::<$ty>($name) };
        f($instance.vmctx_ptr() $(, $arg)*)
    }};
}

const I32_VALUES: [i32; 14] = [
    0,
    1,
    -1,
    2,
    7,
    -7,
    31,
    32,
    33,
    0x1234_5678,
    -0x1234_5678,
    i32::MIN,
    i32::MAX,
    0x80,
];
const I64_VALUES: [i64; 10] = [
    0,
    1,
    -1,
    3,
    63,
    64,
    65,
    i64::MIN,
    i64::MAX,
    0x1234_5678_9abc_def0,
];

#[test]
fn integer_arithmetic() {
    let wat = r#"(module
        (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
        (func (export "sub") (param i32 i32) (result i32) (i32.sub (local.get 0) (local.get 1)))
        (func (export "mul") (param i32 i32) (result i32) (i32.mul (local.get 0) (local.get 1)))
        (func (export "div_s") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
        (func (export "div_u") (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
        (func (export "rem_s") (param i32 i32) (result i32) (i32.rem_s (local.get 0) (local.get 1)))
        (func (export "rem_u") (param i32 i32) (result i32) (i32.rem_u (local.get 0) (local.get 1)))
        (func (export "and") (param i32 i32) (result i32) (i32.and (local.get 0) (local.get 1)))
        (func (export "or") (param i32 i32) (result i32) (i32.or (local.get 0) (local.get 1)))
        (func (export "xor") (param i32 i32) (result i32) (i32.xor (local.get 0) (local.get 1)))
        (func (export "shl") (param i32 i32) (result i32) (i32.shl (local.get 0) (local.get 1)))
        (func (export "shr_s") (param i32 i32) (result i32) (i32.shr_s (local.get 0) (local.get 1)))
        (func (export "shr_u") (param i32 i32) (result i32) (i32.shr_u (local.get 0) (local.get 1)))
        (func (export "rotl") (param i32 i32) (result i32) (i32.rotl (local.get 0) (local.get 1)))
        (func (export "rotr") (param i32 i32) (result i32) (i32.rotr (local.get 0) (local.get 1)))
        (func (export "clz") (param i32 i32) (result i32) (i32.clz (local.get 0)))
        (func (export "ctz") (param i32 i32) (result i32) (i32.ctz (local.get 0)))
        (func (export "popcnt") (param i32 i32) (result i32) (i32.popcnt (local.get 0)))
        (func (export "eqz") (param i32 i32) (result i32) (i32.eqz (local.get 0)))
        (func (export "lt_s") (param i32 i32) (result i32) (i32.lt_s (local.get 0) (local.get 1)))
        (func (export "lt_u") (param i32 i32) (result i32) (i32.lt_u (local.get 0) (local.get 1)))
        (func (export "ge_u") (param i32 i32) (result i32) (i32.ge_u (local.get 0) (local.get 1)))
        (func (export "add64") (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1)))
        (func (export "mul64") (param i64 i64) (result i64) (i64.mul (local.get 0) (local.get 1)))
        (func (export "div_s64") (param i64 i64) (result i64) (i64.div_s (local.get 0) (local.get 1)))
        (func (export "rem_s64") (param i64 i64) (result i64) (i64.rem_s (local.get 0) (local.get 1)))
        (func (export "rem_u64") (param i64 i64) (result i64) (i64.rem_u (local.get 0) (local.get 1)))
        (func (export "shr_s64") (param i64 i64) (result i64) (i64.shr_s (local.get 0) (local.get 1)))
        (func (export "rotl64") (param i64 i64) (result i64) (i64.rotl (local.get 0) (local.get 1)))
        (func (export "clz64") (param i64 i64) (result i64) (i64.clz (local.get 0)))
        (func (export "gt_s64") (param i64 i64) (result i64) (i64.extend_i32_u (i64.gt_s (local.get 0) (local.get 1))))
        (func (export "wrap") (param i64 i64) (result i64) (i64.extend_i32_s (i32.wrap_i64 (local.get 0))))
        (func (export "extend_u") (param i64 i64) (result i64) (i64.extend_i32_u (i32.wrap_i64 (local.get 0))))
    )"#;
    for tier in TIERS {
        let instance = Instance::new(wat, tier);
        for a in I32_VALUES {
            for b in I32_VALUES {
                let ctx = format!("{tier:?} a={a} b={b}");
                assert_eq!(call!(instance, II, "add", a, b), a.wrapping_add(b), "{ctx}");
                assert_eq!(call!(instance, II, "sub", a, b), a.wrapping_sub(b), "{ctx}");
                assert_eq!(call!(instance, II, "mul", a, b), a.wrapping_mul(b), "{ctx}");
                assert_eq!(call!(instance, II, "and", a, b), a & b, "{ctx}");
                assert_eq!(call!(instance, II, "or", a, b), a | b, "{ctx}");
                assert_eq!(call!(instance, II, "xor", a, b), a ^ b, "{ctx}");
                assert_eq!(
                    call!(instance, II, "shl", a, b),
                    a.wrapping_shl(b as u32),
                    "{ctx}"
                );
                assert_eq!(
                    call!(instance, II, "shr_s", a, b),
                    a.wrapping_shr(b as u32),
                    "{ctx}"
                );
                assert_eq!(
                    call!(instance, II, "shr_u", a, b),
                    (a as u32).wrapping_shr(b as u32) as i32,
                    "{ctx}"
                );
                assert_eq!(
                    call!(instance, II, "rotl", a, b),
                    a.rotate_left(b as u32 % 32),
                    "{ctx}"
                );
                assert_eq!(
                    call!(instance, II, "rotr", a, b),
                    a.rotate_right(b as u32 % 32),
                    "{ctx}"
                );
                assert_eq!(call!(instance, II, "lt_s", a, b), (a < b) as i32, "{ctx}");
                assert_eq!(
                    call!(instance, II, "lt_u", a, b),
                    ((a as u32) < (b as u32)) as i32,
                    "{ctx}"
                );
                assert_eq!(
                    call!(instance, II, "ge_u", a, b),
                    ((a as u32) >= (b as u32)) as i32,
                    "{ctx}"
                );
                if b != 0 {
                    // rem_s of MIN by -1 is 0 (wrapping_rem agrees); div_s of it would trap.
                    assert_eq!(
                        call!(instance, II, "rem_s", a, b),
                        a.wrapping_rem(b),
                        "{ctx}"
                    );
                    assert_eq!(
                        call!(instance, II, "div_u", a, b),
                        ((a as u32) / (b as u32)) as i32,
                        "{ctx}"
                    );
                    assert_eq!(
                        call!(instance, II, "rem_u", a, b),
                        ((a as u32) % (b as u32)) as i32,
                        "{ctx}"
                    );
                    if !(a == i32::MIN && b == -1) {
                        assert_eq!(call!(instance, II, "div_s", a, b), a / b, "{ctx}");
                    }
                }
            }
            assert_eq!(call!(instance, II, "clz", a, 0), a.leading_zeros() as i32);
            assert_eq!(call!(instance, II, "ctz", a, 0), a.trailing_zeros() as i32);
            assert_eq!(call!(instance, II, "popcnt", a, 0), a.count_ones() as i32);
            assert_eq!(call!(instance, II, "eqz", a, 0), (a == 0) as i32);
        }
        for a in I64_VALUES {
            for b in I64_VALUES {
                let ctx = format!("{tier:?} a={a} b={b}");
                assert_eq!(
                    call!(instance, LL, "add64", a, b),
                    a.wrapping_add(b),
                    "{ctx}"
                );
                assert_eq!(
                    call!(instance, LL, "mul64", a, b),
                    a.wrapping_mul(b),
                    "{ctx}"
                );
                assert_eq!(
                    call!(instance, LL, "shr_s64", a, b),
                    a.wrapping_shr(b as u32),
                    "{ctx}"
                );
                assert_eq!(
                    call!(instance, LL, "rotl64", a, b),
                    a.rotate_left((b as u64 % 64) as u32),
                    "{ctx}"
                );
                assert_eq!(call!(instance, LL, "gt_s64", a, b), (a > b) as i64, "{ctx}");
                if b != 0 {
                    assert_eq!(
                        call!(instance, LL, "rem_s64", a, b),
                        a.wrapping_rem(b),
                        "{ctx}"
                    );
                    assert_eq!(
                        call!(instance, LL, "rem_u64", a, b),
                        ((a as u64) % (b as u64)) as i64,
                        "{ctx}"
                    );
                    if !(a == i64::MIN && b == -1) {
                        assert_eq!(call!(instance, LL, "div_s64", a, b), a / b, "{ctx}");
                    }
                }
            }
            assert_eq!(
                call!(instance, LL, "clz64", a, 0),
                i64::from(a.leading_zeros())
            );
            assert_eq!(call!(instance, LL, "wrap", a, 0), i64::from(a as i32));
            assert_eq!(call!(instance, LL, "extend_u", a, 0), i64::from(a as u32));
        }
    }
}

#[test]
fn control_flow_with_multi_value_blocks() {
    let wat = r#"(module
        ;; (a, b) -> b - a, swapping through a block with two params and two results.
        (func (export "swap_sub") (param i32 i32) (result i32)
            local.get 0
            local.get 1
            block (param i32 i32) (result i32 i32)
                local.set 0
                local.set 1
                local.get 0
                local.get 1
            end
            i32.sub)
        ;; a ? (10 + 3) * b : (10 - 3) * 100, the if consuming two params.
        (func (export "if_params") (param i32 i32) (result i32)
            i32.const 10
            i32.const 3
            local.get 0
            if (param i32 i32) (result i32 i32)
                i32.add
                local.get 1
            else
                i32.sub
                i32.const 100
            end
            i32.mul)
        ;; b + (a ? 1 : 0), an if without else passing its param through.
        (func (export "if_no_else") (param i32 i32) (result i32)
            local.get 1
            local.get 0
            if (param i32) (result i32)
                i32.const 1
                i32.add
            end)
        ;; 1 + 2 + ... + a, a loop with two params (accumulator, counter).
        (func (export "loop_sum") (param i32 i32) (result i32)
            i32.const 0
            local.get 0
            loop (param i32 i32) (result i32)
                local.set 1
                local.get 1
                i32.add
                local.get 1
                i32.const 1
                i32.sub
                local.get 1
                i32.const 1
                i32.gt_s
                br_if 0
                drop
            end)
        ;; a ? b : (b + 1) * 10, a br_if out of two blocks carrying a value.
        (func (export "br_out") (param i32 i32) (result i32)
            block (result i32)
                block (result i32)
                    local.get 1
                    local.get 0
                    br_if 1
                    i32.const 1
                    i32.add
                end
                i32.const 10
                i32.mul
            end)
        ;; a ? b : -1, returning from inside a block.
        (func (export "early_return") (param i32 i32) (result i32)
            block
                local.get 0
                i32.eqz
                br_if 0
                local.get 1
                return
            end
            i32.const -1)
        ;; a, with dead code (nested blocks, an if) after the br.
        (func (export "dead_code") (param i32 i32) (result i32)
            block (result i32)
                local.get 0
                br 0
                i32.const 1
                block (result i32) i32.const 2 end
                if (result i32) i32.const 3 else i32.const 4 end
                i32.add
                drop
            end)
        ;; a ? b : trap; only called with a != 0.
        (func (export "if_unreachable") (param i32 i32) (result i32)
            local.get 0
            if (result i32)
                local.get 1
            else
                unreachable
                i32.add
            end)
        ;; select on the condition b.
        (func (export "select") (param i32 i32) (result i32)
            (select (i32.const 11) (i32.const 22) (local.get 1)))
        (func (export "typed_select") (param i32 i32) (result i32)
            (i32.wrap_i64 (select (result i64) (i64.const 33) (i64.const 44) (local.get 1))))
        ;; Calls between functions: two results, and more results than return registers.
        (func $divmod (param i32 i32) (result i32 i32)
            (i32.div_u (local.get 0) (local.get 1))
            (i32.rem_u (local.get 0) (local.get 1)))
        (func (export "call_multi") (param i32 i32) (result i32)
            (call $divmod (local.get 0) (local.get 1))
            local.set 1
            i32.const 1000
            i32.mul
            local.get 1
            i32.add)
        (func $many (param i64) (result i64 i64 i64 i64 i64 i64 i64 i64)
            (local.get 0) (i64.const 1) (i64.const 2) (i64.const 3)
            (i64.const 4) (i64.const 5) (i64.const 6) (i64.const 7))
        (func (export "call_many") (param i64 i64) (result i64)
            (call $many (local.get 0))
            i64.add i64.add i64.add i64.add i64.add i64.add i64.add)
    )"#;
    for tier in TIERS {
        let instance = Instance::new(wat, tier);
        assert_eq!(call!(instance, II, "swap_sub", 5, 12), 7);
        assert_eq!(call!(instance, II, "if_params", 1, 4), 52);
        assert_eq!(call!(instance, II, "if_params", 0, 4), 700);
        assert_eq!(call!(instance, II, "if_no_else", 1, 41), 42);
        assert_eq!(call!(instance, II, "if_no_else", 0, 41), 41);
        for n in [0, 1, 2, 10, 1000] {
            assert_eq!(
                call!(instance, II, "loop_sum", n, 0),
                n * (n + 1) / 2,
                "{tier:?} n={n}"
            );
        }
        assert_eq!(call!(instance, II, "br_out", 1, 5), 5);
        assert_eq!(call!(instance, II, "br_out", 0, 5), 60);
        assert_eq!(call!(instance, II, "early_return", 1, 9), 9);
        assert_eq!(call!(instance, II, "early_return", 0, 9), -1);
        assert_eq!(call!(instance, II, "dead_code", 77, 0), 77);
        assert_eq!(call!(instance, II, "if_unreachable", 1, 8), 8);
        assert_eq!(call!(instance, II, "select", 0, 1), 11);
        assert_eq!(call!(instance, II, "select", 0, 0), 22);
        assert_eq!(call!(instance, II, "typed_select", 0, 5), 33);
        assert_eq!(call!(instance, II, "typed_select", 0, 0), 44);
        assert_eq!(call!(instance, II, "call_multi", 1234, 100), 12034);
        assert_eq!(call!(instance, LL, "call_many", 100, 0), 128);
    }
}

#[test]
fn br_table_with_and_without_values() {
    let wat = r#"(module
        ;; index 0: b + 1100, 1 and default: b + 100, 2: b.
        (func (export "br_table") (param i32 i32) (result i32)
            block $out (result i32)
                block $two (result i32)
                    block $one (result i32)
                        local.get 1
                        local.get 0
                        br_table $one $two $out $two
                    end
                    i32.const 1000
                    i32.add
                end
                i32.const 100
                i32.add
            end)
        ;; Counts a down to zero through a br_table targeting a loop: returns a (a >= 1).
        (func (export "br_table_loop") (param i32 i32) (result i32)
            (local $count i32)
            block $done
                loop $again
                    local.get $count
                    i32.const 1
                    i32.add
                    local.set $count
                    local.get 0
                    i32.const 1
                    i32.sub
                    local.tee 0
                    br_table $done $again
                end
            end
            local.get $count)
        ;; A br_table whose only target is its default.
        (func (export "br_table_default") (param i32 i32) (result i32)
            block (result i32)
                local.get 1
                local.get 0
                br_table 0
            end)
    )"#;
    for tier in TIERS {
        let instance = Instance::new(wat, tier);
        assert_eq!(call!(instance, II, "br_table", 0, 5), 1105);
        assert_eq!(call!(instance, II, "br_table", 1, 5), 105);
        assert_eq!(call!(instance, II, "br_table", 2, 5), 5);
        assert_eq!(call!(instance, II, "br_table", 3, 5), 105);
        assert_eq!(call!(instance, II, "br_table", -1, 5), 105);
        for n in [1, 2, 17] {
            assert_eq!(call!(instance, II, "br_table_loop", n, 0), n);
        }
        assert_eq!(call!(instance, II, "br_table_default", 9, 3), 3);
    }
}

#[test]
fn float_operations_keep_wasm_semantics_and_nan_bits() {
    let wat = r#"(module
        (func (export "f32_min") (param f32 f32) (result f32) (f32.min (local.get 0) (local.get 1)))
        (func (export "f32_max") (param f32 f32) (result f32) (f32.max (local.get 0) (local.get 1)))
        (func (export "f32_copysign") (param f32 f32) (result f32) (f32.copysign (local.get 0) (local.get 1)))
        (func (export "f32_neg") (param f32 f32) (result f32) (f32.neg (local.get 0)))
        (func (export "f32_abs") (param f32 f32) (result f32) (f32.abs (local.get 0)))
        (func (export "f32_nearest") (param f32 f32) (result f32) (f32.nearest (local.get 0)))
        (func (export "f32_sqrt") (param f32 f32) (result f32) (f32.sqrt (local.get 0)))
        (func (export "f32_div") (param f32 f32) (result f32) (f32.div (local.get 0) (local.get 1)))
        (func (export "f64_min") (param f64 f64) (result f64) (f64.min (local.get 0) (local.get 1)))
        (func (export "f64_max") (param f64 f64) (result f64) (f64.max (local.get 0) (local.get 1)))
        (func (export "f64_copysign") (param f64 f64) (result f64) (f64.copysign (local.get 0) (local.get 1)))
        (func (export "f64_neg") (param f64 f64) (result f64) (f64.neg (local.get 0)))
        (func (export "f64_nearest") (param f64 f64) (result f64) (f64.nearest (local.get 0)))
        (func (export "f64_floor") (param f64 f64) (result f64) (f64.floor (local.get 0)))
        (func (export "f64_ceil") (param f64 f64) (result f64) (f64.ceil (local.get 0)))
        (func (export "f64_trunc") (param f64 f64) (result f64) (f64.trunc (local.get 0)))
        (func (export "demote_promote") (param f64 f64) (result f64) (f64.promote_f32 (f32.demote_f64 (local.get 0))))
        (func (export "f64_lt") (param f64 f64) (result f64) (f64.convert_i32_u (f64.lt (local.get 0) (local.get 1))))
        (func (export "f64_ne") (param f64 f64) (result f64) (f64.convert_i32_u (f64.ne (local.get 0) (local.get 1))))
        (func (export "bits_round_trip") (param i32 i32) (result i32) (i32.reinterpret_f32 (f32.reinterpret_i32 (local.get 0))))
        (func (export "f32_const_nan") (param i32 i32) (result i32) (i32.reinterpret_f32 (f32.const nan:0x200001)))
        (func (export "f64_const_bits") (param i64 i64) (result i64) (i64.reinterpret_f64 (f64.const -nan:0x8000000000001)))
    )"#;
    let f32_bits =
        |instance: &Instance, name: &str, a: f32, b: f32| call!(instance, FF, name, a, b).to_bits();
    let f64_bits =
        |instance: &Instance, name: &str, a: f64, b: f64| call!(instance, DD, name, a, b).to_bits();
    let snan32 = f32::from_bits(0x7fa0_0001);
    let payload32 = f32::from_bits(0x7fc0_1234);
    let payload64 = f64::from_bits(0x7ff8_0000_0000_1234);
    for tier in TIERS {
        let instance = Instance::new(wat, tier);
        // min/max: -0 < +0 in either order; NaN in, NaN out.
        assert_eq!(
            f32_bits(&instance, "f32_min", -0.0, 0.0),
            (-0.0f32).to_bits()
        );
        assert_eq!(
            f32_bits(&instance, "f32_min", 0.0, -0.0),
            (-0.0f32).to_bits()
        );
        assert_eq!(f32_bits(&instance, "f32_max", -0.0, 0.0), 0.0f32.to_bits());
        assert_eq!(f32_bits(&instance, "f32_max", 0.0, -0.0), 0.0f32.to_bits());
        assert!(call!(instance, FF, "f32_min", f32::NAN, 1.0).is_nan());
        assert!(call!(instance, FF, "f32_min", 1.0, f32::NAN).is_nan());
        assert!(call!(instance, FF, "f32_max", f32::NAN, f32::INFINITY).is_nan());
        assert_eq!(call!(instance, FF, "f32_min", 1.5, -2.5), -2.5);
        assert_eq!(call!(instance, FF, "f32_max", 1.5, -2.5), 1.5);
        assert_eq!(
            f64_bits(&instance, "f64_min", 0.0, -0.0),
            (-0.0f64).to_bits()
        );
        assert_eq!(f64_bits(&instance, "f64_max", -0.0, 0.0), 0.0f64.to_bits());
        assert!(call!(instance, DD, "f64_max", 3.0, f64::NAN).is_nan());
        assert!(call!(instance, DD, "f64_min", f64::NAN, f64::NEG_INFINITY).is_nan());
        // Sign operations are bitwise: NaN payloads, even signaling ones, survive.
        assert_eq!(
            f32_bits(&instance, "f32_copysign", 1.5, -0.0),
            (-1.5f32).to_bits()
        );
        assert_eq!(
            f32_bits(&instance, "f32_copysign", payload32, -1.0),
            0xffc0_1234
        );
        assert_eq!(f32_bits(&instance, "f32_neg", snan32, 0.0), 0xffa0_0001);
        assert_eq!(
            f32_bits(&instance, "f32_abs", f32::from_bits(0xffa0_0001), 0.0),
            0x7fa0_0001
        );
        assert_eq!(
            f64_bits(&instance, "f64_copysign", payload64, -1.0),
            0xfff8_0000_0000_1234
        );
        assert_eq!(
            f64_bits(&instance, "f64_neg", -payload64, 0.0),
            payload64.to_bits()
        );
        assert_eq!(
            call!(instance, II, "bits_round_trip", 0x7f80_0001, 0),
            0x7f80_0001
        );
        assert_eq!(call!(instance, II, "f32_const_nan", 0, 0), 0x7fa0_0001);
        assert_eq!(
            call!(instance, LL, "f64_const_bits", 0, 0) as u64,
            0xfff8_0000_0000_0001
        );
        // nearest rounds ties to even and keeps the sign of zero.
        for (x, expected) in [
            (2.5f32, 2.0f32),
            (3.5, 4.0),
            (-2.5, -2.0),
            (0.499_999_97, 0.0),
            (1e30, 1e30),
            (-0.5, -0.0),
        ] {
            assert_eq!(
                f32_bits(&instance, "f32_nearest", x, 0.0),
                expected.to_bits(),
                "{tier:?} nearest({x})"
            );
        }
        for (x, expected) in [
            (2.5f64, 2.0f64),
            (-3.5, -4.0),
            (4_503_599_627_370_497.0, 4_503_599_627_370_497.0),
            (-0.2, -0.0),
        ] {
            assert_eq!(
                f64_bits(&instance, "f64_nearest", x, 0.0),
                expected.to_bits(),
                "{tier:?} nearest({x})"
            );
        }
        assert!(call!(instance, FF, "f32_nearest", f32::NAN, 0.0).is_nan());
        for x in [-1.5f64, -0.5, -0.0, 0.3, 2.7, 1e300, f64::INFINITY] {
            assert_eq!(
                f64_bits(&instance, "f64_floor", x, 0.0),
                x.floor().to_bits(),
                "floor({x})"
            );
            assert_eq!(
                f64_bits(&instance, "f64_ceil", x, 0.0),
                x.ceil().to_bits(),
                "ceil({x})"
            );
            assert_eq!(
                f64_bits(&instance, "f64_trunc", x, 0.0),
                x.trunc().to_bits(),
                "trunc({x})"
            );
        }
        assert_eq!(call!(instance, FF, "f32_sqrt", 2.0, 0.0), 2.0f32.sqrt());
        assert!(call!(instance, FF, "f32_sqrt", -1.0, 0.0).is_nan());
        assert_eq!(call!(instance, FF, "f32_div", 1.0, 0.0), f32::INFINITY);
        assert_eq!(
            call!(instance, DD, "demote_promote", 1e300, 0.0),
            f64::INFINITY
        );
        assert_eq!(
            call!(instance, DD, "demote_promote", 0.1, 0.0),
            f64::from(0.1f32)
        );
        // Comparisons with NaN: ordered ones are false, ne is true.
        assert_eq!(call!(instance, DD, "f64_lt", f64::NAN, 1.0), 0.0);
        assert_eq!(call!(instance, DD, "f64_lt", 0.5, 1.0), 1.0);
        assert_eq!(call!(instance, DD, "f64_ne", f64::NAN, f64::NAN), 1.0);
        assert_eq!(call!(instance, DD, "f64_ne", 2.0, 2.0), 0.0);
    }
}

#[test]
fn sign_extension() {
    let wat = r#"(module
        (func (export "i32_extend8_s") (param i32 i32) (result i32) (i32.extend8_s (local.get 0)))
        (func (export "i32_extend16_s") (param i32 i32) (result i32) (i32.extend16_s (local.get 0)))
        (func (export "i64_extend8_s") (param i64 i64) (result i64) (i64.extend8_s (local.get 0)))
        (func (export "i64_extend16_s") (param i64 i64) (result i64) (i64.extend16_s (local.get 0)))
        (func (export "i64_extend32_s") (param i64 i64) (result i64) (i64.extend32_s (local.get 0)))
    )"#;
    for tier in TIERS {
        let instance = Instance::new(wat, tier);
        for a in I32_VALUES
            .into_iter()
            .chain([0x7f, 0xff, 0x1ff, 0x8000, 0x7fff, 0x1_8000])
        {
            assert_eq!(
                call!(instance, II, "i32_extend8_s", a, 0),
                i32::from(a as i8),
                "{a:#x}"
            );
            assert_eq!(
                call!(instance, II, "i32_extend16_s", a, 0),
                i32::from(a as i16),
                "{a:#x}"
            );
        }
        for a in I64_VALUES
            .into_iter()
            .chain([0x80, 0x8000, 0x8000_0000, 0x1_7fff_ffff])
        {
            assert_eq!(
                call!(instance, LL, "i64_extend8_s", a, 0),
                i64::from(a as i8),
                "{a:#x}"
            );
            assert_eq!(
                call!(instance, LL, "i64_extend16_s", a, 0),
                i64::from(a as i16),
                "{a:#x}"
            );
            assert_eq!(
                call!(instance, LL, "i64_extend32_s", a, 0),
                i64::from(a as i32),
                "{a:#x}"
            );
        }
    }
}

#[test]
fn conversions_saturate_and_round_like_rust() {
    let wat = r#"(module
        (func (export "i32_sat_f32_s") (param f32) (result i32) (i32.trunc_sat_f32_s (local.get 0)))
        (func (export "i32_sat_f32_u") (param f32) (result i32) (i32.trunc_sat_f32_u (local.get 0)))
        (func (export "i32_trunc_f32_s") (param f32) (result i32) (i32.trunc_f32_s (local.get 0)))
        (func (export "i64_sat_f64_s") (param f64) (result i64) (i64.trunc_sat_f64_s (local.get 0)))
        (func (export "i64_sat_f64_u") (param f64) (result i64) (i64.trunc_sat_f64_u (local.get 0)))
        (func (export "i64_trunc_f64_u") (param f64) (result i64) (i64.trunc_f64_u (local.get 0)))
        (func (export "f32_convert_i64_u") (param i64) (result f32) (f32.convert_i64_u (local.get 0)))
        (func (export "f32_convert_i64_s") (param i64) (result f32) (f32.convert_i64_s (local.get 0)))
        (func (export "f64_convert_i64_u") (param i64) (result f64) (f64.convert_i64_u (local.get 0)))
        (func (export "f64_convert_i32_u") (param i64) (result f64) (f64.convert_i32_u (i32.wrap_i64 (local.get 0))))
    )"#;
    let f32_values = [
        0.0f32,
        -0.0,
        1.9,
        -1.9,
        2.5,
        1e10,
        -1e10,
        5e9,
        -1.0,
        2_147_483_520.0,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
    ];
    let f64_values = [
        0.0f64,
        -0.9,
        3.99,
        1e19,
        2e19,
        1e20,
        -1e20,
        -3.0,
        9.2e18,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    let i64_values = [
        0i64,
        1,
        -1,
        i64::MAX,
        i64::MIN,
        0x8000_0000_0000_0001u64 as i64,
        0x20_0000_0000_0001,
        0xffff_ffff,
    ];
    for tier in TIERS {
        let instance = Instance::new(wat, tier);
        // Rust's float-to-int `as` saturates and maps NaN to 0, exactly like trunc_sat.
        for x in f32_values {
            assert_eq!(
                call!(instance, FI, "i32_sat_f32_s", x),
                x as i32,
                "{tier:?} {x}"
            );
            assert_eq!(
                call!(instance, FI, "i32_sat_f32_u", x),
                x as u32 as i32,
                "{tier:?} {x}"
            );
            if x.is_finite() && x.trunc() >= i32::MIN as f32 && x.trunc() <= 2_147_483_520.0 {
                assert_eq!(
                    call!(instance, FI, "i32_trunc_f32_s", x),
                    x as i32,
                    "{tier:?} {x}"
                );
            }
        }
        for x in f64_values {
            assert_eq!(
                call!(instance, DL, "i64_sat_f64_s", x),
                x as i64,
                "{tier:?} {x}"
            );
            assert_eq!(
                call!(instance, DL, "i64_sat_f64_u", x),
                x as u64 as i64,
                "{tier:?} {x}"
            );
            if x.is_finite() && x > -1.0 && x < 18_446_744_073_709_551_616.0 {
                assert_eq!(
                    call!(instance, DL, "i64_trunc_f64_u", x),
                    x as u64 as i64,
                    "{tier:?} {x}"
                );
            }
        }
        // Int-to-float rounds to nearest, ties to even, like Rust's `as`.
        for x in i64_values {
            assert_eq!(
                call!(instance, LF, "f32_convert_i64_u", x),
                x as u64 as f32,
                "{tier:?} {x}"
            );
            assert_eq!(
                call!(instance, LF, "f32_convert_i64_s", x),
                x as f32,
                "{tier:?} {x}"
            );
            assert_eq!(
                call!(instance, LD, "f64_convert_i64_u", x),
                x as u64 as f64,
                "{tier:?} {x}"
            );
            assert_eq!(
                call!(instance, LD, "f64_convert_i32_u", x),
                f64::from(x as u32),
                "{tier:?} {x}"
            );
        }
    }
}

#[test]
fn locals_start_at_zero_and_tee() {
    check_locals();
}

/// The same functions with their locals in a stack slot (see `translate::shape`).
#[test]
fn locals_in_a_stack_slot_start_at_zero_and_tee() {
    crate::translate::FORCE_LOCALS_IN_SLOTS.with(|force| force.set(true));
    check_locals();
    crate::translate::FORCE_LOCALS_IN_SLOTS.with(|force| force.set(false));
}

fn check_locals() {
    let wat = r#"(module
        ;; 1 when every declared local starts at zero / null (and +0.0, not -0.0).
        (func (export "zeroed") (param i32 i32) (result i32)
            (local i32 i64 f32 f64 funcref externref v128)
            (i32.eqz (local.get 2))
            (i64.eqz (local.get 3))
            i32.and
            (i32.eqz (i32.reinterpret_f32 (local.get 4)))
            i32.and
            (i64.eqz (i64.reinterpret_f64 (local.get 5)))
            i32.and
            (ref.is_null (local.get 6))
            i32.and
            (ref.is_null (local.get 7))
            i32.and
            (local.set 8 (local.get 8)))
        ;; (a + b) * (a + b) through tee.
        (func (export "tee") (param i32 i32) (result i32)
            (local $sum i32)
            (local.tee $sum (i32.add (local.get 0) (local.get 1)))
            (local.get $sum)
            i32.mul)
        ;; Locals updated in a loop: fib(a).
        (func (export "fib") (param i32 i32) (result i32)
            (local $x i32) (local $y i32) (local $t i32)
            (local.set $y (i32.const 1))
            block $done
                loop $next
                    (br_if $done (i32.eqz (local.get 0)))
                    (local.set $t (i32.add (local.get $x) (local.get $y)))
                    (local.set $x (local.get $y))
                    (local.set $y (local.get $t))
                    (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
                    br $next
                end
            end
            local.get $x)
    )"#;
    for tier in TIERS {
        let instance = Instance::new(wat, tier);
        assert_eq!(call!(instance, II, "zeroed", 0, 0), 1);
        assert_eq!(call!(instance, II, "tee", 3, 4), 49);
        let fib = [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55];
        for (n, expected) in fib.iter().enumerate() {
            assert_eq!(call!(instance, II, "fib", n as i32, 0), *expected);
        }
    }
}

/// Regression (found by tools/fuzz's "shapes" inputs, which the watchdog reported as hangs): SSA
/// form passes every changed local along every branch, so many locals and many branches make
/// a product of branch arguments (10 million for a 700 KB function, 5 to 20 s of code
/// generation). A function whose SSA form turns out that large is translated again with its
/// locals in a stack slot, and computes the same.
#[test]
fn many_locals_and_branches_live_in_a_stack_slot() {
    use wasmparser::Payload;
    const LOCALS: usize = 300;
    const BRANCHES: usize = 2000;
    // A loop that adds 1 to local k % LOCALS and then may branch back (when the first
    // parameter is non-zero), BRANCHES times; it runs once, so the sum of the locals is
    // BRANCHES.
    let body: String = (0..BRANCHES)
        .map(|k| {
            let l = 2 + k % LOCALS;
            format!(
                "(local.set {l} (i32.add (local.get {l}) (i32.const 1))) (br_if 0 (local.get 0))"
            )
        })
        .collect();
    let sum = (3..2 + LOCALS).fold("(local.get 2)".to_string(), |acc, l| {
        format!("(i32.add {acc} (local.get {l}))")
    });
    let wat = format!(
        r#"(module (func (export "f") (param i32 i32) (result i32) (local {})
            (loop {body}) {sum}))"#,
        "i32 ".repeat(LOCALS)
    );
    let bytes = super::wat_to_wasm(&wat);
    let module = crate::compile(&bytes).unwrap();
    let body = wasmparser::Parser::new(0)
        .parse_all(&bytes)
        .find_map(|p| match p {
            Ok(Payload::CodeSectionEntry(body)) => Some(body),
            _ => None,
        })
        .unwrap();
    let ty = module.func_type(0).clone();
    // The estimate lets SSA form through; its size sends the locals to a stack slot.
    assert!(!crate::translate::shape(&ty, &body).unwrap().locals_in_slots);
    let func = crate::translate::translate_function(&module, 0, &body).unwrap();
    assert!(
        !func.sized_stack_slots.is_empty(),
        "the locals are in a stack slot"
    );
    for tier in TIERS {
        let instance = Instance::from_wasm(&bytes, tier).unwrap();
        assert_eq!(call!(instance, II, "f", 0, 0), BRANCHES as i32, "{tier:?}");
    }
}

/// Regression (found by tools/fuzz's "shapes" inputs, which the watchdog reported as hangs):
/// SSA construction for many locals read inside nested loops is quadratic in the locals per
/// loop, so a 200 KB function reading its 50,000 locals in four nested loops took 20 s to
/// translate, and deeper nests took hours. Such functions now keep their locals in a stack
/// slot, and compute the same results.
#[test]
fn many_locals_in_nested_loops_live_in_a_stack_slot() {
    use wasmparser::{FuncType, Payload, ValType};
    const LOCALS: usize = 50_000 - 1;
    // The innermost of four nested loops increments every i64 local and runs `n` times (the
    // first parameter), so the function returns 2n (first i64 local + last).
    let increments: String = (2..=LOCALS)
        .map(|i| format!("(local.set {i} (i64.add (local.get {i}) (i64.const 1)))"))
        .collect();
    let wat = format!(
        r#"(module (func (export "f") (param i32 i32) (result i32)
            (local {})
            (loop (loop (loop (loop
              {increments}
              (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
              (br_if 0 (local.get 0))))))
            (i32.wrap_i64 (i64.add (local.get 2) (local.get {LOCALS})))))"#,
        "i64 ".repeat(LOCALS - 1)
    );
    let bytes = super::wat_to_wasm(&wat);
    let ty = FuncType::new([ValType::I32, ValType::I32], [ValType::I32]);
    let body = wasmparser::Parser::new(0)
        .parse_all(&bytes)
        .find_map(|p| match p {
            Ok(Payload::CodeSectionEntry(body)) => Some(body),
            _ => None,
        })
        .unwrap();
    assert!(crate::translate::shape(&ty, &body).unwrap().locals_in_slots);
    for tier in TIERS {
        let instance = Instance::from_wasm(&bytes, tier).unwrap();
        assert_eq!(call!(instance, II, "f", 3, 0), 6, "{tier:?}");
    }

    // An ordinary function keeps its locals in SSA variables.
    let bytes = super::wat_to_wasm(
        r#"(module (func (param i32 i32) (result i32) (local i32 i32 i32)
            (block (loop
              (br_if 1 (i32.eqz (local.get 0)))
              (local.set 2 (i32.add (local.get 3) (local.get 4)))
              (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
              (br 0)))
            (local.get 2)))"#,
    );
    let body = wasmparser::Parser::new(0)
        .parse_all(&bytes)
        .find_map(|p| match p {
            Ok(Payload::CodeSectionEntry(body)) => Some(body),
            _ => None,
        })
        .unwrap();
    assert!(!crate::translate::shape(&ty, &body).unwrap().locals_in_slots);
}

#[test]
fn memory_accesses_are_little_endian() {
    let wat = r#"(module
        (memory 1)
        (func (export "store_load") (param i32 i32) (result i32)
            (i32.store offset=4 (local.get 0) (local.get 1))
            (i32.load offset=4 (local.get 0)))
        (func (export "load8_s") (param i32 i32) (result i32) (i32.load8_s (local.get 0)))
        (func (export "load8_u") (param i32 i32) (result i32) (i32.load8_u (local.get 0)))
        (func (export "load16_s") (param i32 i32) (result i32) (i32.load16_s offset=1 (local.get 0)))
        (func (export "i64_load32_s") (param i32 i32) (result i64) (i64.load32_s (local.get 0)))
        (func (export "i64_load32_u") (param i32 i32) (result i64) (i64.load32_u (local.get 0)))
        (func (export "store16") (param i32 i32) (result i32) (i32.store16 (local.get 0) (local.get 1)) (i32.const 0))
        (func (export "f64_store") (param i32 i32) (result i32) (f64.store (local.get 0) (f64.const 1.5)) (i32.const 0))
        (func (export "size") (param i32 i32) (result i32) (memory.size))
    )"#;
    type IIToL = extern "sysv64" fn(*mut u8, i32, i32) -> i64;
    for tier in TIERS {
        let mut instance = Instance::new(wat, tier);
        assert_eq!(
            call!(instance, II, "store_load", 100, 0x1234_5678),
            0x1234_5678
        );
        assert_eq!(&instance.memory()[104..108], &[0x78, 0x56, 0x34, 0x12]);
        // Unaligned access.
        assert_eq!(call!(instance, II, "store_load", 1001, -2), -2);
        instance.memory()[200..204].copy_from_slice(&[0x80, 0xff, 0x7f, 0xfe]);
        assert_eq!(call!(instance, II, "load8_s", 200, 0), -128);
        assert_eq!(call!(instance, II, "load8_u", 200, 0), 0x80);
        assert_eq!(call!(instance, II, "load16_s", 200, 0), 0x7fff);
        assert_eq!(
            call!(instance, IIToL, "i64_load32_s", 200, 0),
            i64::from(0xfe7f_ff80u32 as i32)
        );
        assert_eq!(call!(instance, IIToL, "i64_load32_u", 200, 0), 0xfe7f_ff80);
        call!(instance, II, "store16", 300, 0x0001_abcd);
        assert_eq!(&instance.memory()[300..303], &[0xcd, 0xab, 0x00]);
        call!(instance, II, "f64_store", 400, 0);
        assert_eq!(&instance.memory()[400..408], &1.5f64.to_le_bytes());
        assert_eq!(call!(instance, II, "size", 0, 0), 1);
    }
}

#[test]
fn globals_go_through_their_cells() {
    let wat = r#"(module
        (global $counter (mut i32) (i32.const 0))
        (global $scale f64 (f64.const 0))
        (global $wide (mut i64) (i64.const 0))
        (func (export "bump") (param i32 i32) (result i32)
            (global.set $counter (i32.add (global.get $counter) (local.get 0)))
            (global.get $counter))
        (func (export "scale") (param f64 f64) (result f64) (f64.mul (global.get $scale) (local.get 0)))
        (func (export "set_wide") (param i64 i64) (result i64) (global.set $wide (local.get 0)) (global.get $wide))
    )"#;
    for tier in TIERS {
        let mut instance = Instance::new(wat, tier);
        instance.global(0)[0] = 5;
        instance.global(1)[0] = 2.5f64.to_bits();
        assert_eq!(call!(instance, II, "bump", 3, 0), 8);
        assert_eq!(call!(instance, II, "bump", -10, 0), -2);
        assert_eq!(instance.global(0)[0] as u32, -2i32 as u32);
        assert_eq!(call!(instance, DD, "scale", 4.0, 0.0), 10.0);
        assert_eq!(call!(instance, LL, "set_wide", -7, 0), -7);
        assert_eq!(instance.global(2)[0], -7i64 as u64);
    }
}

#[test]
fn tables_references_and_call_indirect() {
    let wat = r#"(module
        (type $bin (func (param i32 i32) (result i32)))
        (table 4 funcref)
        (elem declare func $add $sub)
        (func $add (type $bin) (i32.add (local.get 0) (local.get 1)))
        (func $sub (type $bin) (i32.sub (local.get 0) (local.get 1)))
        (func (export "dispatch") (param i32 i32) (result i32)
            (call_indirect (type $bin) (i32.const 7) (local.get 1) (local.get 0)))
        (func (export "size") (param i32 i32) (result i32) (table.size))
        (func (export "is_null") (param i32 i32) (result i32) (ref.is_null (table.get (local.get 0))))
        (func (export "ref_func") (result funcref) (ref.func $sub))
        (func (export "null") (result externref) (ref.null extern))
    )"#;
    for tier in TIERS {
        let mut instance = Instance::new(wat, tier);
        let (add, sub) = (instance.func_ref(0), instance.func_ref(1));
        instance
            .table_elements(0)
            .copy_from_slice(&[add, sub, 0, 0]);
        assert_eq!(call!(instance, II, "dispatch", 0, 5), 12);
        assert_eq!(call!(instance, II, "dispatch", 1, 5), 2);
        assert_eq!(call!(instance, II, "size", 0, 0), 4);
        assert_eq!(call!(instance, II, "is_null", 1, 0), 0);
        assert_eq!(call!(instance, II, "is_null", 2, 0), 1);
        assert_eq!(call!(instance, Ref, "ref_func"), sub);
        assert_eq!(call!(instance, Ref, "null"), 0);
        // (table.set is a libcall, which this harness does not link: see runtime::tests.)
    }
}

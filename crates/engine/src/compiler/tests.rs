use super::*;

/// `(module (func (export "f") (result i32) i32.const 1 i64.const 2 i32.add))`-like bytes,
/// hand-assembled: one type, one function whose body fails to validate.
fn module_with_bad_body() -> Vec<u8> {
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    m.extend_from_slice(&[0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f]); // type () -> i32
    m.extend_from_slice(&[0x03, 0x02, 0x01, 0x00]); // func 0: type 0
                                                    // code: one body, no locals, i32.const 1, i64.const 2, i32.add, end
    m.extend_from_slice(&[
        0x0a, 0x09, 0x01, 0x07, 0x00, 0x41, 0x01, 0x42, 0x02, 0x6a, 0x0b,
    ]);
    m
}

#[test]
fn empty_module_is_valid() {
    assert!(validate(b"\0asm\x01\0\0\0"));
    let module = compile(b"\0asm\x01\0\0\0").unwrap();
    assert!(module.imports.is_empty() && module.exports.is_empty());
}

#[test]
fn bad_header_reads_as_v8() {
    let err = compile(b"\0asx\x01\0\0\0").unwrap_err();
    assert_eq!(
        err.to_string(),
        "expected magic word 00 61 73 6d, found 00 61 73 78 @+0"
    );
    let err = compile(b"\0asm\x02\0\0\0").unwrap_err();
    assert_eq!(
        err.to_string(),
        "expected version 01 00 00 00, found 02 00 00 00 @+4"
    );
    let err = compile(b"\0asm\x01\0").unwrap_err();
    assert_eq!(err.to_string(), "expected 4 bytes, fell off end @+4");
    assert_eq!(err.offset, 4);
    assert!(err.function.is_none());
    assert!(!validate(b""));
}

#[test]
fn bad_body_names_function_and_offset() {
    let err = compile(&module_with_bad_body()).unwrap_err();
    assert_eq!(err.function, Some((0, None)));
    let text = err.to_string();
    assert!(text.starts_with("Compiling function #0 failed: "), "{text}");
    assert!(text.ends_with(&format!("@+{}", err.offset)), "{text}");
    assert!(err.offset > 20 && (err.offset as usize) < module_with_bad_body().len());
}

#[test]
fn truncated_inputs_never_panic() {
    let bytes = module_with_bad_body();
    for len in 0..bytes.len() {
        let _ = validate(&bytes[..len]);
    }
}

// ---- Shapes the optimizing tier must not take on (found with tools/fuzz) -------------------

fn wat(text: &str) -> Vec<u8> {
    let buffer = wast::parser::ParseBuffer::new(text).unwrap();
    let mut module: wast::Wat = wast::parser::parse(&buffer).unwrap();
    module.encode().unwrap()
}

/// The only function of `bytes`, translated.
fn translated(bytes: &[u8]) -> cranelift_codegen::ir::Function {
    let module = compile(bytes).unwrap();
    let body = wasmparser::Parser::new(0)
        .parse_all(bytes)
        .find_map(|p| match p {
            Ok(wasmparser::Payload::CodeSectionEntry(body)) => Some(body),
            _ => None,
        })
        .unwrap();
    crate::translate::translate_function(&module, module.num_imported_functions, &body).unwrap()
}

/// Calls export "f" of a fresh instance of `bytes`, compiled for `tier`, with two i32s.
fn call_f(bytes: &[u8], tier: codegen::Tier, a: u32, b: u32) -> u32 {
    use crate::runtime::instance::{Extern, Instance};
    let compiled = compile_module(bytes, tier).unwrap();
    let instance = Instance::new(compiled, Vec::<Extern>::new()).unwrap();
    let export = instance
        .module()
        .exports
        .iter()
        .find(|e| e.name == "f")
        .unwrap();
    let function = instance.function(export.index);
    let trampolines = crate::compiler::trampolines::for_signature(function.ty()).unwrap();
    let mut values = [a as u128, b as u128];
    // SAFETY: "f" takes two i32s and returns one i32: two slots are enough, and the
    // trampolines are those of its signature.
    unsafe { function.call(&trampolines, &mut values) }.unwrap();
    values[0] as u32
}

/// Regression: the e-graph pass rebuilt the chain of values computed down the `then` arms of
/// nested `if`s in every `else` arm that uses them, so code grew with the square of the depth
/// (2,000 levels: 30 KB of wasm, 4 MB of machine code, 4 s; 16,000: out of memory). Such
/// functions are compiled without optimization at either tier, and still compute the same.
#[test]
fn deeply_nested_ifs_are_not_optimized() {
    const DEPTH: usize = 2000;
    let bytes = wat(&format!(
        r#"(module (func (export "f") (param i32 i32) (result i32) (local i32)
            (local.set 2 (local.get 1))
            {} (local.get 2) {}))"#,
        "(if (result i32) (local.get 0) (then (local.set 2 (i32.add (local.get 2) (local.get 0))) "
            .repeat(DEPTH),
        ") (else (local.get 2)))".repeat(DEPTH)
    ));
    let func = translated(&bytes);
    assert!(!codegen::optimizable(&func));
    let baseline = codegen::compile_function(func.clone(), codegen::Tier::Baseline).unwrap();
    let optimized = codegen::compile_function(func, codegen::Tier::Optimized).unwrap();
    assert_eq!(optimized.code.len(), baseline.code.len());
    for tier in [codegen::Tier::Baseline, codegen::Tier::Optimized] {
        assert_eq!(call_f(&bytes, tier, 1, 5), 5 + DEPTH as u32);
        assert_eq!(call_f(&bytes, tier, 0, 5), 5);
        assert_eq!(call_f(&bytes, tier, 3, 5), 5 + 3 * DEPTH as u32);
    }
    // Ordinary nesting is optimized.
    let shallow = wat(r#"(module (func (export "f") (param i32 i32) (result i32)
            (if (result i32) (local.get 0)
              (then (if (result i32) (local.get 1) (then (i32.const 1)) (else (i32.const 2))))
              (else (i32.const 3)))))"#);
    assert!(codegen::optimizable(&translated(&shallow)));
    assert_eq!(call_f(&shallow, codegen::Tier::Optimized, 1, 0), 2);
}

/// Regression: the e-graph pass's time grows with every instruction's loop depth: 4,096 nested
/// loops (a 300 KB module) took a minute at the optimizing tier, 8,192 almost three. Such
/// functions are compiled without optimization, and still compute the same.
#[test]
fn deeply_nested_loops_are_not_optimized() {
    const DEPTH: usize = 4096;
    // Every loop has a back edge (never taken: local 2 stays 0) and adds to local 1.
    let bytes = wat(&format!(
        r#"(module (func (export "f") (param i32 i32) (result i32) (local i32)
            {} {} (local.get 1)))"#,
        "(loop (local.set 1 (i32.add (local.get 1) (local.get 0))) ".repeat(DEPTH),
        "(br_if 0 (local.get 2)))".repeat(DEPTH)
    ));
    let func = translated(&bytes);
    assert!(codegen::loop_weight(&func) > 0);
    assert!(!codegen::optimizable(&func));
    let baseline = codegen::compile_function(func.clone(), codegen::Tier::Baseline).unwrap();
    let optimized = codegen::compile_function(func, codegen::Tier::Optimized).unwrap();
    assert_eq!(optimized.code.len(), baseline.code.len());
    for tier in [codegen::Tier::Baseline, codegen::Tier::Optimized] {
        assert_eq!(call_f(&bytes, tier, 2, 1), 1 + 2 * DEPTH as u32);
    }
    // Ordinary loops are optimized.
    let fib = wat(
        r#"(module (func (export "f") (param i32 i32) (result i32) (local i32 i32)
            (local.set 3 (i32.const 1))
            (block (loop
              (br_if 1 (i32.eqz (local.get 0)))
              (local.set 2 (i32.add (local.get 2) (local.get 3)))
              (local.set 3 (i32.sub (local.get 2) (local.get 3)))
              (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
              (br 0)))
            (local.get 2)))"#,
    );
    assert!(codegen::optimizable(&translated(&fib)));
    assert_eq!(call_f(&fib, codegen::Tier::Optimized, 10, 0), 55);
}

#[test]
fn used_features_names_each_feature_a_module_needs() {
    assert_eq!(used_features(b"\0asm\x01\0\0\0"), Some(vec![]));
    assert_eq!(used_features(&module_with_bad_body()), None);
    let cases: [(&str, &[&str]); 7] = [
        ("(module (global i32 (i32.add (i32.const 1) (i32.const 2))))", &["extended-const"]),
        ("(module (func $f (return_call $f)))", &["tail-call"]),
        ("(module (func (result i32 i32) i32.const 1 i32.const 2))", &["multi-value"]),
        ("(module (func (param i32) (result i32) local.get 0 i32.extend8_s))", &["sign-extension-ops"]),
        ("(module (memory 1) (func (memory.fill (i32.const 0) (i32.const 0) (i32.const 0))))", &["bulk-memory"]),
        ("(module (table 1 externref) (global (export \"g\") (mut i32) (i32.const 0)))", &["mutable-globals", "reference-types"]),
        ("(module (func (param v128)))", &["simd"]),
    ];
    for (text, expected) in cases {
        assert_eq!(used_features(&wat(text)).as_deref(), Some(expected), "{text}");
    }
}

/// The translator builds IR for the target every tier's ISA compiles for.
#[test]
fn the_translators_target_is_every_tiers() {
    let translator = crate::translate::frontend_config();
    for tier in codegen::Tier::ALL {
        let isa = codegen::isa(tier).frontend_config();
        assert_eq!(isa.default_call_conv, translator.default_call_conv, "{tier:?}");
        assert_eq!(isa.pointer_width, translator.pointer_width, "{tier:?}");
        assert_eq!(isa.page_size_align_log2, translator.page_size_align_log2, "{tier:?}");
    }
}


/// Regression: a chain of adds of constants, `((x + 1) + 2) + …`, cost the e-graph about 35 µs
/// and 5 KB per add (it reassociates every link against every form of the link below): 1,000
/// adds took 12× their baseline compile, 1M took 188 s and 3.8 GB. Such functions get register
/// allocation without the e-graph, and compute the same.
#[test]
fn long_constant_chains_skip_the_e_graph() {
    const LENGTH: u32 = 2_000;
    let adds: String = (1..=LENGTH).map(|k| format!("(i32.const {k}) i32.add ")).collect();
    let bytes = wat(&format!(r#"(module (func (export "f") (param i32 i32) (result i32) local.get 0 {adds}))"#));
    let func = translated(&bytes);
    assert!(codegen::reassociation_links(&func) >= LENGTH as usize - 3);
    assert_eq!(codegen::profile_for(&func, codegen::Tier::Optimized), codegen::Profile::Allocated);
    assert_eq!(codegen::profile_for(&func, codegen::Tier::Baseline), codegen::Profile::Fast);
    let optimized = codegen::compile_function(func, codegen::Tier::Optimized).unwrap();
    assert!(optimized.cheaper_settings);
    assert_eq!(optimized.tier, codegen::Tier::Optimized);
    let sum = LENGTH * (LENGTH + 1) / 2;
    for tier in [codegen::Tier::Baseline, codegen::Tier::Optimized] {
        assert_eq!(call_f(&bytes, tier, 7, 0), 7 + sum);
    }
    // Short chains and chains of other operations, ordinary code, are optimized.
    let short: String = (1..=LENGTH / 2)
        .map(|k| format!("(local.set 1 (i32.add (local.get 1) (i32.mul (i32.add (local.get 0) (i32.const {k})) (i32.const 3)))) "))
        .collect();
    let bytes = wat(&format!(r#"(module (func (export "f") (param i32 i32) (result i32) {short} (local.get 1)))"#));
    let func = translated(&bytes);
    assert_eq!(codegen::reassociation_links(&func), 0);
    assert_eq!(codegen::profile_for(&func, codegen::Tier::Optimized), codegen::Profile::Full);
    assert!(!codegen::compile_function(func, codegen::Tier::Optimized).unwrap().cheaper_settings);
}

/// Regression: Cranelift's e-graph computes each pure value where its first use needs it, so in
/// `s ^= x + k` repeated every `x + k` came first and all stayed live to the end; backtracking
/// register allocation then took time with the square of their number (10,000 statements:
/// 54× the baseline's compile). The pressure is measured on the optimized function; such a
/// function gets single-pass allocation, and computes the same.
#[test]
fn crowded_functions_get_single_pass_allocation() {
    const STATEMENTS: u32 = 3_000;
    let body: String = (1..=STATEMENTS)
        .map(|k| format!("(local.set 1 (i32.xor (i32.add (local.get 0) (i32.const {k})) (local.get 1))) "))
        .collect();
    let bytes = wat(&format!(r#"(module (func (export "f") (param i32 i32) (result i32) {body} (local.get 1)))"#));
    let func = translated(&bytes);
    // As translated, each sum dies at once.
    assert!(!codegen::crowded(&func));
    assert_eq!(codegen::profile_for(&func, codegen::Tier::Optimized), codegen::Profile::Full);
    let optimized = codegen::compile_function(func, codegen::Tier::Optimized).unwrap();
    assert!(optimized.cheaper_settings);
    let expected = (1..=STATEMENTS).fold(9u32, |s, k| s ^ 5u32.wrapping_add(k));
    for tier in [codegen::Tier::Baseline, codegen::Tier::Optimized] {
        assert_eq!(call_f(&bytes, tier, 5, 9), expected);
    }
}

/// The pressure measure: the values live across each instruction, summed.
#[test]
fn register_pressure_counts_live_values() {
    // x + 1 + 2 + … : two values live across each add (the sum so far and the constant).
    let chain = wat(r#"(module (func (export "f") (param i32 i32) (result i32)
        local.get 0 i32.const 1 i32.add i32.const 2 i32.add i32.const 3 i32.add))"#);
    let func = translated(&chain);
    let insts = func.dfg.num_insts() as u64;
    let pressure = codegen::register_pressure(&func);
    assert!(pressure >= insts && pressure <= 3 * insts, "{pressure} for {insts} instructions");
}

/// Loop nests too small for the loop-weight limit can still be deep on average: 300 nested
/// loops (an average depth of 150) took 20× their baseline compile at the optimizing tier, 600
/// took 80×. The average depth decides too.
#[test]
fn loops_nested_deep_on_average_are_not_optimized() {
    let nest = |depth: usize| {
        wat(&format!(
            r#"(module (func (export "f") (param i32 i32) (result i32) (local i32)
                {} {} (local.get 1)))"#,
            "(loop (local.set 1 (i32.add (local.get 1) (local.get 0))) ".repeat(depth),
            "(br_if 0 (local.get 2)))".repeat(depth)
        ))
    };
    let deep = translated(&nest(300));
    assert!(codegen::loop_weight(&deep) <= 1 << 23);
    assert!(!codegen::optimizable(&deep));
    assert_eq!(call_f(&nest(300), codegen::Tier::Optimized, 2, 1), 1 + 2 * 300);
    assert!(codegen::optimizable(&translated(&nest(50))));
}

/// Regression: a chain of thousands of blocks each dominating the next (here loops without back
/// edges) made the e-graph quadratic: each pure instruction walks its GVN scope stack, one
/// scope per dominator-tree level (5,000 levels: 25× the baseline's compile). Such functions
/// get register allocation without the e-graph, and compute the same.
#[test]
fn deep_dominator_trees_skip_the_e_graph() {
    const LEVELS: u32 = 2_000;
    let bytes = wat(&format!(
        r#"(module (func (export "f") (param i32 i32) (result i32) {} {} (local.get 0)))"#,
        "(loop (local.set 0 (i32.add (local.get 0) (local.get 1))) ".repeat(LEVELS as usize),
        ")".repeat(LEVELS as usize)
    ));
    let func = translated(&bytes);
    assert!(codegen::dominator_weight(&func) > 256 * func.dfg.num_insts() as u64);
    assert_eq!(codegen::profile_for(&func, codegen::Tier::Optimized), codegen::Profile::Allocated);
    for tier in [codegen::Tier::Baseline, codegen::Tier::Optimized] {
        assert_eq!(call_f(&bytes, tier, 1, 3), 1 + 3 * LEVELS);
    }
}

// ---- The persistent cache's trusted decoding ---------------------------------------------

/// The trusted decoder (`decode_trusted`, which reads data sections by hand) records the same
/// data segments as the validating one, for every form of segment and offset expression.
#[test]
fn trusted_decoding_records_the_same_data_segments() {
    let bytes = wat(r#"(module
        (memory 1) (memory $two 1)
        (global $g i32 (i32.const 64))
        (data (i32.const 0) "a")
        (data (i32.const -1) "")
        (data (i32.const 2147483647) "")
        (data (i32.const 624485) "bcd")
        (data (memory $two) (i32.const 16) "second memory")
        (data (global.get $g) "from a global")
        (data (i32.add (i32.const 1) (i32.const 2)) "extended")
        (data "passive")
        (data (i32.const 100) ""))"#);
    let validated = decode_and_validate(&bytes, features()).unwrap();
    let trusted = decode_trusted(&bytes, features()).unwrap();
    assert_eq!(validated.data_segments.len(), 9);
    assert_eq!(format!("{:?}", trusted.data_segments), format!("{:?}", validated.data_segments));
    assert!(matches!(
        &trusted.data_segments[6].mode,
        crate::module::SegmentMode::Active { offset: crate::module::ConstExpr::Extended(_), .. }
    ));
}

/// Damaged bytes reach the trusted decoder only through a cache entry whose checksum held
/// (never, in practice), but even then it returns an error rather than panicking.
#[test]
fn trusted_decoding_of_damaged_data_sections_never_panics() {
    let bytes = wat(r#"(module (memory 1)
        (data (i32.const 0) "abc") (data (i32.const 200000) "de") (data "f"))"#);
    for len in 0..bytes.len() {
        let _ = decode_trusted(&bytes[..len], features());
    }
    for at in 8..bytes.len() {
        for value in [0x00, 0x01, 0x02, 0x0b, 0x41, 0x7f, 0x80, 0xff] {
            let mut damaged = bytes.clone();
            damaged[at] = value;
            let _ = decode_trusted(&damaged, features());
        }
    }
}

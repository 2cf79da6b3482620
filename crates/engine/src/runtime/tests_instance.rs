//! End-to-end tests of the runtime: wasm text compiled by the whole pipeline, instantiated and
//! called through the entry trampolines, with traps caught.

use std::sync::Arc;

use super::instance::{Extern, Instance};
use crate::compiler::trampolines;
use super::traps::Trap;
use crate::compiler::codegen::Tier;
use crate::compiler::compile_module;
use crate::trap::TrapKind;

fn instantiate(wat: &str) -> Arc<Instance> {
    let mut text = wast::parser::ParseBuffer::new(wat).unwrap();
    let _ = &mut text;
    let mut module: wast::Wat = wast::parser::parse(&text).unwrap();
    let bytes = module.encode().unwrap();
    let compiled = compile_module(&bytes, Tier::Optimized).unwrap();
    let instance = Instance::new(compiled, Vec::<Extern>::new()).unwrap();
    instance.start().unwrap();
    instance
}

/// Calls the export `name` with i64-sized raw arguments; returns the raw first result.
fn call(instance: &Arc<Instance>, name: &str, args: &[u128]) -> Result<u128, Trap> {
    let export = instance
        .module()
        .exports
        .iter()
        .find(|e| e.name == name)
        .unwrap();
    let function = instance.function(export.index);
    let trampolines = trampolines::for_signature(function.ty()).unwrap();
    let mut values = [0u128; 8];
    values[..args.len()].copy_from_slice(args);
    // SAFETY: 8 slots cover every signature used here; the trampolines match the function.
    unsafe { function.call(&trampolines, &mut values) }?;
    Ok(values[0])
}

#[test]
fn runs_fib_and_recursion() {
    let instance = instantiate(include_str!("../../../../examples/fib.wat"));
    assert_eq!(
        call(&instance, "fib", &[90]).unwrap() as u64,
        2880067194370816120
    );
    assert_eq!(
        call(&instance, "fib_recursive", &[20]).unwrap() as u64,
        6765
    );
}

#[test]
fn traps_carry_their_kind_and_the_instance_keeps_working() {
    let instance = instantiate(
        r#"(module
          (memory 1)
          (func (export "unreachable") unreachable)
          (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
          (func (export "rem") (param i32 i32) (result i32) (i32.rem_u (local.get 0) (local.get 1)))
          (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
          (func (export "trunc") (param f32) (result i32) (i32.trunc_f32_s (local.get 0)))
          (func $down (export "recurse") (param i32) (result i32) (call $down (i32.add (local.get 0) (i32.const 1))))
          (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
          (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2))))"#,
    );
    for _ in 0..100 {
        assert_eq!(
            call(&instance, "unreachable", &[]).unwrap_err().kind,
            TrapKind::Unreachable
        );
        assert_eq!(
            call(&instance, "div", &[7, 0]).unwrap_err().kind,
            TrapKind::DivideByZero
        );
        assert_eq!(
            call(&instance, "div", &[0x8000_0000, 0xffff_ffff])
                .unwrap_err()
                .kind,
            TrapKind::DivideUnrepresentable
        );
        assert_eq!(
            call(&instance, "rem", &[7, 0]).unwrap_err().kind,
            TrapKind::RemainderByZero
        );
        assert_eq!(
            call(&instance, "load", &[65534]).unwrap_err().kind,
            TrapKind::MemoryOutOfBounds
        );
        assert_eq!(
            call(&instance, "trunc", &[f32::NAN.to_bits() as u128])
                .unwrap_err()
                .kind,
            TrapKind::FloatUnrepresentable
        );
    }
    assert_eq!(
        call(&instance, "recurse", &[0]).unwrap_err().kind,
        TrapKind::StackOverflow
    );
    assert_eq!(call(&instance, "div", &[7, 2]).unwrap() as u32, 3);
    assert_eq!(call(&instance, "load", &[0]).unwrap() as u32, 0);
    assert_eq!(call(&instance, "grow", &[1]).unwrap() as u32, 1);
    assert_eq!(
        call(&instance, "load", &[65534]).unwrap() as u32,
        0,
        "in bounds after growth"
    );
    assert_eq!(call(&instance, "fill", &[0, 0xab, 4]).unwrap() as u32, 0);
    assert_eq!(call(&instance, "load", &[0]).unwrap() as u32, 0xabab_abab);
    assert_eq!(
        call(&instance, "fill", &[131070, 0, 4]).unwrap_err().kind,
        TrapKind::MemoryOutOfBounds
    );
}

#[test]
fn segments_and_call_indirect() {
    let instance = instantiate(
        r#"(module
          (type $ii (func (param i32) (result i32)))
          (memory 1)
          (data (i32.const 8) "\2a\00\00\00")
          (table 4 funcref)
          (elem (i32.const 1) $double $inc)
          (func $double (type $ii) (i32.mul (local.get 0) (i32.const 2)))
          (func $inc (type $ii) (i32.add (local.get 0) (i32.const 1)))
          (func (export "load8") (result i32) (i32.load (i32.const 8)))
          (func (export "dispatch") (param i32 i32) (result i32)
            (call_indirect (type $ii) (local.get 1) (local.get 0))))"#,
    );
    assert_eq!(call(&instance, "load8", &[]).unwrap() as u32, 42);
    assert_eq!(call(&instance, "dispatch", &[1, 21]).unwrap() as u32, 42);
    assert_eq!(call(&instance, "dispatch", &[2, 41]).unwrap() as u32, 42);
    assert_eq!(
        call(&instance, "dispatch", &[0, 1]).unwrap_err().kind,
        TrapKind::IndirectCallMismatch
    );
    assert_eq!(
        call(&instance, "dispatch", &[4, 1]).unwrap_err().kind,
        TrapKind::TableOutOfBounds
    );
}

fn encode(wat: &str) -> Vec<u8> {
    let text = wast::parser::ParseBuffer::new(wat).unwrap();
    let mut module: wast::Wat = wast::parser::parse(&text).unwrap();
    module.encode().unwrap()
}

fn compile_lazily(bytes: &[u8], tier_up: crate::compiler::TierUp) -> Arc<crate::compiler::CompiledModule> {
    let options = crate::compiler::CompileOptions {
        lazy: true,
        first_tier: Tier::Baseline,
        tier_up,
        threads: 2,
        interrupt_checks: true,
        fuel: false,
        bounds_checks: false,
    };
    crate::compiler::compile_with_options(bytes, options)
        .unwrap()
        .code
        .unwrap()
}

const LAZY_MODULE: &str = r#"(module
  (table 2 funcref)
  (elem (i32.const 0) $sum $mix)
  (type $t (func (param i32) (result i64)))
  (func $sum (param i32) (result i64) (local i64)
    (loop $l
      (local.set 1 (i64.add (local.get 1) (i64.extend_i32_u (local.get 0))))
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br_if $l (local.get 0)))
    (local.get 1))
  (func $mix (param i32) (result i64)
    (i64.mul (i64.extend_i32_u (local.get 0)) (i64.const 3)))
  (func (export "direct") (param i32) (result i64) (call $sum (local.get 0)))
  (func (export "indirect") (param i32 i32) (result i64)
    (call_indirect (type $t) (local.get 0) (local.get 1)))
  (func (export "many") (param i32 i64 f32 f64 i32 i64 f32 f64 i32 i64 f64 f64 f64 f64 f64 f64) (result f64)
    (f64.add (f64.convert_i32_s (local.get 8))
      (f64.add (f64.convert_i64_s (local.get 9)) (f64.add (local.get 15) (f64.promote_f32 (local.get 6))))))
)"#;

#[test]
fn lazy_functions_compile_on_first_call_through_every_path() {
    let compiled = compile_lazily(&encode(LAZY_MODULE), crate::compiler::TierUp::Off);
    assert_eq!(compiled.status().uncompiled, 5);
    let instance = Instance::new(compiled.clone(), Vec::<Extern>::new()).unwrap();
    // call_indirect to $mix (index 1): compiles `indirect` and `mix` only.
    assert_eq!(call(&instance, "indirect", &[7, 1]).unwrap() as u64, 21);
    assert_eq!(compiled.status().uncompiled, 3);
    // A direct call to $sum.
    assert_eq!(call(&instance, "direct", &[100]).unwrap() as u64, 5050);
    assert_eq!(compiled.status().uncompiled, 1);
    // Arguments beyond the registers (stack arguments) survive the lazy trampoline.
    let f = |x: f64| x.to_bits() as u128;
    let args = [0, 0, 0, 0, 0, 0, (2.5f32).to_bits() as u128, 0, 40, 2, 0, 0, 0, 0, 0, f(0.25)];
    let mut values = [0u128; 16];
    values.copy_from_slice(&args);
    let export = instance.module().exports.iter().find(|e| e.name == "many").unwrap();
    let function = instance.function(export.index);
    let trampolines = trampolines::for_signature(function.ty()).unwrap();
    // SAFETY: 16 slots cover the signature; the trampolines match the function.
    unsafe { function.call(&trampolines, &mut values) }.unwrap();
    assert_eq!(f64::from_bits(values[0] as u64), 44.75);
    assert_eq!(compiled.status().uncompiled, 0);
    assert_eq!(compiled.status().count(Tier::Baseline), 5);
}

#[test]
fn threads_racing_for_a_lazy_function_compile_it_once_and_agree() {
    let compiled = compile_lazily(&encode(LAZY_MODULE), crate::compiler::TierUp::Off);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let compiled = compiled.clone();
            std::thread::spawn(move || {
                let instance = Instance::new(compiled, Vec::<Extern>::new()).unwrap();
                (0..50)
                    .map(|i| call(&instance, "direct", &[1000 + i]).unwrap() as u64)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for t in threads {
        let results = t.join().unwrap();
        for (i, r) in results.iter().enumerate() {
            let n = 1000 + i as u64;
            assert_eq!(*r, n * (n + 1) / 2);
        }
    }
    assert_eq!(compiled.status().count(Tier::Baseline), 2);
}

#[test]
fn code_swapped_by_tier_up_while_instances_run_gives_the_same_results() {
    let compiled = compile_lazily(&encode(LAZY_MODULE), crate::compiler::TierUp::Eager);
    let instances: Vec<_> = (0..3)
        .map(|_| Instance::new(compiled.clone(), Vec::<Extern>::new()).unwrap())
        .collect();
    let mut rounds = 0;
    loop {
        for (k, instance) in instances.iter().enumerate() {
            let n = 20_000 + k as u128 + rounds;
            assert_eq!(call(instance, "direct", &[n]).unwrap(), n * (n + 1) / 2);
            assert_eq!(call(instance, "indirect", &[n, 0]).unwrap(), n * (n + 1) / 2);
            assert_eq!(call(instance, "indirect", &[n, 1]).unwrap(), n * 3);
        }
        rounds += 1;
        if compiled.status().count(Tier::Optimized) == 5 || rounds > 100_000 {
            break;
        }
    }
    compiled.wait_tiered_up().unwrap();
    assert_eq!(compiled.status().count(Tier::Optimized), 5);
    for instance in &instances {
        assert_eq!(call(instance, "direct", &[10]).unwrap(), 55);
    }
}

#[test]
fn dynamic_tier_up_optimizes_hot_functions_only() {
    let compiled = compile_lazily(&encode(LAZY_MODULE), crate::compiler::TierUp::Dynamic);
    let instance = Instance::new(compiled.clone(), Vec::<Extern>::new()).unwrap();
    // $sum's loop spends its budget (1.8M / ~20 bytes per iteration): hot.
    assert_eq!(call(&instance, "direct", &[1_000_000]).unwrap(), 500_000_500_000);
    assert_eq!(call(&instance, "indirect", &[4, 1]).unwrap(), 12);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while compiled.status().count(Tier::Optimized) == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let status = compiled.status();
    assert_eq!(status.count(Tier::Optimized), 1, "{status:?}");
    assert_eq!(status.count(Tier::Baseline), 3, "{status:?}");
}

const BOUNDS_MODULE: &str = r#"(module
  (memory 1)
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "load32") (param i32) (result i32) (i32.load offset=2 (local.get 0)))
  (func (export "load64_far") (param i32) (result i64) (i64.load offset=4294967295 (local.get 0)))
  (func (export "store64") (param i32 i64) (i64.store (local.get 0) (local.get 1)))
  (func (export "v128") (param i32) (result i32)
    (i32x4.extract_lane 3 (v128.load (local.get 0))))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "grow_then_load") (param i32) (result i32)
    (drop (memory.grow (i32.const 1)))
    (i32.load (local.get 0)))
)"#;

/// Bounds-checked code (every tier, lazy or eager) traps at each boundary as guarded code does,
/// on a memory without a guard reservation that moves as it grows; code without checks refuses
/// such a memory.
#[test]
fn bounds_checked_code_traps_at_every_boundary_and_follows_a_moving_memory() {
    use crate::compiler::{CompileOptions, TierUp};
    let bytes = encode(BOUNDS_MODULE);
    for (first_tier, lazy, tier_up) in [
        (Tier::Baseline, true, TierUp::Off),
        (Tier::Baseline, false, TierUp::Eager),
        (Tier::Optimized, false, TierUp::Off),
    ] {
        let options = CompileOptions {
            lazy,
            first_tier,
            tier_up,
            threads: 2,
            interrupt_checks: true,
            fuel: false,
            bounds_checks: true,
        };
        let compiled = crate::compiler::compile_with_options(&bytes, options)
            .unwrap()
            .code
            .unwrap();
        let instance = Instance::new(compiled, Vec::<Extern>::new()).unwrap();
        let memory = instance.memory(0).unwrap().clone();
        assert!(
            !memory.is_guarded(),
            "bounds-checked code gets a memory without a guard"
        );
        let oob = |name: &str, args: &[u128]| {
            assert_eq!(
                call(&instance, name, args).unwrap_err().kind,
                TrapKind::MemoryOutOfBounds,
                "{name} {args:?}"
            );
        };
        let page = 65536u128;
        assert_eq!(call(&instance, "load8", &[page - 1]).unwrap() as u32, 0);
        oob("load8", &[page]);
        oob("load8", &[u32::MAX as u128]);
        assert_eq!(call(&instance, "load32", &[page - 6]).unwrap() as u32, 0);
        oob("load32", &[page - 5]);
        oob("load32", &[u32::MAX as u128 - 1]);
        oob("load64_far", &[0]);
        oob("load64_far", &[u32::MAX as u128]);
        call(&instance, "store64", &[page - 8, 0x0102_0304_0506_0708]).unwrap();
        oob("store64", &[page - 7, 1]);
        assert_eq!(
            call(&instance, "v128", &[page - 16]).unwrap() as u32,
            0x0102_0304
        );
        oob("v128", &[page - 15]);
        // Growing (the memory may move, as the kernel chooses): the new pages are in bounds, and the old bytes kept.
        assert_eq!(call(&instance, "grow", &[300]).unwrap() as u32, 1);
        assert_eq!(
            call(&instance, "v128", &[page - 16]).unwrap() as u32,
            0x0102_0304
        );
        assert_eq!(
            call(&instance, "load8", &[301 * page - 1]).unwrap() as u32,
            0
        );
        oob("load8", &[301 * page]);
        assert_eq!(
            call(&instance, "grow_then_load", &[302 * page - 4]).unwrap() as u32,
            0
        );
        oob("grow_then_load", &[303 * page - 3]);
        // Unchecked code on this memory is refused.
        let unchecked = compile_module(&encode(
            r#"(module (import "m" "mem" (memory 1)) (func (export "f") (result i32) (i32.load (i32.const 0))))"#,
        ), Tier::Optimized).unwrap();
        assert!(matches!(
            Instance::new(unchecked, vec![Extern::Memory(memory)]),
            Err(super::instance::InstantiationError::NeedsBoundsChecks)
        ));
    }
}

#[test]
fn exceptions_are_caught_by_try_table_across_frames() {
    let instance = instantiate(
        r#"(module
          (tag $e (param i32))
          (tag $f)
          (func $thrower (param i32) (result i32)
            (if (i32.eqz (local.get 0)) (then (throw $e (i32.const 42))))
            (if (i32.eq (local.get 0) (i32.const 1)) (then (throw $f)))
            (local.get 0))
          (func $deep (param i32) (param i32) (result i32)
            (if (result i32) (local.get 1)
              (then (call $deep (local.get 0) (i32.sub (local.get 1) (i32.const 1))))
              (else (call $thrower (local.get 0)))))
          (func (export "catch") (param i32) (result i32)
            (block $h (result i32)
              (try_table (result i32) (catch $e $h)
                (call $deep (local.get 0) (i32.const 100)))
              (return))
            (i32.add (i32.const 1000)))
          (func (export "catch_all") (param i32) (result i32)
            (block $h
              (try_table (catch_all $h)
                (drop (call $thrower (local.get 0))))
              (return (i32.const 0)))
            (i32.const 7))
          (func (export "rethrow") (param i32) (result i32)
            (block $h (result i32)
              (try_table (result i32) (catch $e $h)
                (block $r (result exnref)
                  (try_table (catch_all_ref $r)
                    (drop (call $thrower (local.get 0))))
                  (return (i32.const 5)))
                (throw_ref)))
            (i32.add (i32.const 2000))))"#,
    );
    assert_eq!(call(&instance, "catch", &[0]).unwrap(), 1042);
    assert_eq!(call(&instance, "catch", &[9]).unwrap(), 9);
    let uncaught = call(&instance, "catch", &[1]).unwrap_err();
    assert_eq!(uncaught.kind, TrapKind::Exception);
    let exception = crate::runtime::exceptions::take_uncaught().expect("the exception left");
    assert!(Arc::ptr_eq(exception.tag(), instance.tag(1).unwrap()));
    assert_eq!(call(&instance, "catch_all", &[1]).unwrap(), 7);
    assert_eq!(call(&instance, "catch_all", &[3]).unwrap(), 0);
    assert_eq!(call(&instance, "rethrow", &[0]).unwrap(), 2042);
    assert_eq!(call(&instance, "rethrow", &[4]).unwrap(), 5);
}

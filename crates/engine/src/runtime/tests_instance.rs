//! End-to-end tests of the runtime: wasm text compiled by the whole pipeline, instantiated and
//! called through the entry trampolines, with traps caught.

use std::sync::Arc;

use super::instance::{Extern, Instance};
use super::trampolines;
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

//! Funcref and instance lifetimes, from the fuzz driver's findings: an instance is freed when
//! nothing holds it, and a funcref stored anywhere (a table or global of another instance) keeps
//! its owner alive. These run without a `RefSink`, so holders retain owners themselves; the
//! Node binding's sink (edges of the JS object graph) is tested by the jest suite.

use std::sync::{Arc, Weak};

use cranewasm_engine::compiler::codegen::Tier;
use cranewasm_engine::compiler::compile_module;
use cranewasm_engine::runtime::code_memory;
use cranewasm_engine::runtime::instance::{Extern, Instance};
use cranewasm_engine::runtime::refs::ScopedStore;
use cranewasm_engine::runtime::table::Table;
use cranewasm_engine::compiler::trampolines;
use cranewasm_engine::runtime::traps::Trap;
use wasmparser::RefType;

fn wat(text: &str) -> Vec<u8> {
    let buffer = wast::parser::ParseBuffer::new(text).unwrap();
    let mut module: wast::Wat = wast::parser::parse(&buffer).unwrap();
    module.encode().unwrap()
}

fn instantiate(bytes: &[u8], imports: Vec<Extern>) -> Arc<Instance> {
    // Compiled separately for each instance, so that the code of a dropped instance is freed.
    let instance = Instance::new(compile_module(bytes, Tier::Optimized).unwrap(), imports).unwrap();
    instance.start().unwrap();
    instance
}

fn export(instance: &Arc<Instance>, name: &str) -> u32 {
    instance
        .module()
        .exports
        .iter()
        .find(|e| e.name == name)
        .unwrap()
        .index
}

/// Calls a function taking and returning nothing or one i32.
fn call(instance: &Arc<Instance>, name: &str) -> Result<u128, Trap> {
    let function = instance.function(export(instance, name));
    let trampolines = trampolines::for_signature(function.ty()).unwrap();
    let mut values = [0u128; 1];
    // SAFETY: one slot covers the signatures used here; the trampolines match the function.
    unsafe { function.call(&trampolines, &mut values) }?;
    Ok(values[0])
}

/// An instance that imports a funcref table was never freed, nor its memory (an 8 GiB address
/// space reservation): `Instance::new` made every imported funcref table retain the instance,
/// which holds the table itself. A process that instantiated such a module ~16,000 times ran out
/// of address space (the fuzz driver's first runs reached 114 TB of virtual memory in 14
/// minutes).
#[test]
fn instance_importing_a_funcref_table_is_freed() {
    let bytes = wat(r#"(module (import "m" "t" (table 1 funcref)) (memory 1))"#);
    let table = Arc::new(Table::new(RefType::FUNCREF, 1, None, 0).unwrap());
    let instance = instantiate(&bytes, vec![Extern::Table(table)]);
    let weak: Weak<Instance> = Arc::downgrade(&instance);
    drop(instance);
    assert_eq!(
        weak.strong_count(),
        0,
        "the instance (and its memory) leaked"
    );
}

/// A funcref that instance B stores in a global it imports from instance A must keep B alive:
/// it did not, and once B was dropped, A called B's freed code. The engine's trap handler takes the fault
/// in the (freed part of the) code region for a trap, so this shows up as a "memory access out
/// of bounds" trap at a PC that is no trap site; once the pages are reused for other code, A
/// runs whatever code is there.
#[test]
fn funcref_stored_in_an_imported_global_keeps_its_instance_alive() {
    let a = instantiate(
        &wat(r#"(module
          (global (export "g") (mut funcref) (ref.null func))
          (table 1 funcref)
          (func (export "call") (result i32)
            (table.set (i32.const 0) (global.get 0))
            (call_indirect (result i32) (i32.const 0))))"#),
        vec![],
    );
    let b = instantiate(
        &wat(r#"(module
          (import "a" "g" (global $g (mut funcref)))
          (func $seven (result i32) (i32.const 7))
          (elem declare func $seven)
          (func (export "set") (global.set $g (ref.func $seven))))"#),
        vec![Extern::Global(a.global(export(&a, "g")).clone())],
    );
    call(&b, "set").unwrap();
    assert_eq!(call(&a, "call").unwrap() as u32, 7);
    drop(b);
    let result = call(&a, "call");
    if let Err(trap) = &result {
        assert!(
            code_memory::trap_at(trap.pc).is_some(),
            "{:?} at {:#x}, which is no trap site: A ran B's freed code",
            trap.kind,
            trap.pc
        );
    }
    assert_eq!(result.unwrap() as u32, 7);
}

/// The same through a table: B passes its own function to A's export, which stores it in A's
/// own table; once B was dropped, A called B's freed code.
#[test]
fn funcref_stored_in_another_instances_table_keeps_its_instance_alive() {
    let a = instantiate(
        &wat(r#"(module
          (table 1 funcref)
          (func (export "store") (param funcref) (table.set (i32.const 0) (local.get 0)))
          (func (export "call") (result i32) (call_indirect (result i32) (i32.const 0))))"#),
        vec![],
    );
    let store = a.function(export(&a, "store"));
    let b = instantiate(
        &wat(r#"(module
          (import "a" "store" (func $store (param funcref)))
          (func $seven (result i32) (i32.const 7))
          (elem declare func $seven)
          (func (export "give") (call $store (ref.func $seven))))"#),
        vec![Extern::Function(store)],
    );
    call(&b, "give").unwrap();
    assert_eq!(call(&a, "call").unwrap() as u32, 7);
    drop(b);
    let result = call(&a, "call");
    if let Err(trap) = &result {
        assert!(
            code_memory::trap_at(trap.pc).is_some(),
            "{:?} at {:#x}, which is no trap site: A ran B's freed code",
            trap.kind,
            trap.pc
        );
    }
    assert_eq!(result.unwrap() as u32, 7);
}

/// An instance whose own table holds its own functions is a cycle when holders retain owners;
/// inside a `ScopedStore` the owners are the store's, and everything is freed with it.
#[test]
fn a_scoped_store_frees_instances_whose_tables_hold_their_own_functions() {
    let store = ScopedStore::new();
    let instance = instantiate(
        &wat(r#"(module
          (table (export "t") 2 funcref)
          (memory 1)
          (func $f (result i32) (i32.const 1))
          (elem (i32.const 0) $f)
          (func (export "set") (table.set (i32.const 1) (ref.func $f))))"#),
        vec![],
    );
    call(&instance, "set").unwrap();
    assert_eq!(store.len(), 1, "one owner, recorded once");
    let weak = Arc::downgrade(&instance);
    drop(instance);
    assert_eq!(weak.strong_count(), 1, "the store keeps the owner");
    drop(store);
    assert_eq!(weak.strong_count(), 0, "freed with the store");
}

/// Every path that stores a funcref records it: `table.fill`, `table.grow`, `table.copy` and
/// `table.init` into another instance's table keep the stored function's instance alive.
#[test]
fn bulk_table_operations_keep_stored_functions_alive() {
    for op in [
        "(table.fill $t (i32.const 0) (ref.func $seven) (i32.const 1))",
        "(drop (table.grow $t (ref.func $seven) (i32.const 1))) (table.copy $t $t (i32.const 0) (i32.const 1) (i32.const 1))",
        "(table.copy $t $own (i32.const 0) (i32.const 0) (i32.const 1))",
        "(table.init $t $seg (i32.const 0) (i32.const 0) (i32.const 1))",
    ] {
        let table = Arc::new(Table::new(RefType::FUNCREF, 1, None, 0).unwrap());
        let a = instantiate(
            &wat(r#"(module
              (import "m" "t" (table 1 funcref))
              (func (export "call") (result i32) (call_indirect (result i32) (i32.const 0))))"#),
            vec![Extern::Table(table.clone())],
        );
        let b = instantiate(
            &wat(&format!(r#"(module
              (import "m" "t" (table $t 1 funcref))
              (table $own 1 funcref)
              (func $seven (result i32) (i32.const 7))
              (elem (table $own) (i32.const 0) func $seven)
              (elem $seg func $seven)
              (func (export "store") {op}))"#)),
            vec![Extern::Table(table.clone())],
        );
        call(&b, "store").unwrap();
        let weak = Arc::downgrade(&b);
        drop(b);
        assert!(weak.strong_count() > 0, "{op}: the stored function's instance was freed");
        assert_eq!(call(&a, "call").unwrap() as u32, 7, "{op}");
    }
}

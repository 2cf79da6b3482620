//! Tests of the translator: every function of the spec suite must translate, verify and compile
//! at both tiers (`spec_suite`); the suite's `assert_return`s pass on translated code wherever
//! no runtime is needed (`spec_run`); and focused functions give the results wasm requires
//! (`jit`). `harness` runs code against a hand-built vmctx, without the runtime.

mod dispatch;
mod harness;
mod jit;
mod simd_arith;
mod simd_lanes;
mod spec_run;
mod spec_suite;

use wasmparser::{FunctionBody, Parser, Payload};

/// The function bodies of a module's bytes, with their index in the function index space.
pub(super) fn function_bodies(
    bytes: &[u8],
    num_imported_functions: u32,
) -> Vec<(u32, FunctionBody<'_>)> {
    let mut bodies = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        if let Ok(Payload::CodeSectionEntry(body)) = payload {
            bodies.push((num_imported_functions + bodies.len() as u32, body));
        }
    }
    bodies
}

/// Encodes a module written in the text format.
pub(super) fn wat_to_wasm(text: &str) -> Vec<u8> {
    let buffer = wast::parser::ParseBuffer::new(text).expect("lexes");
    let mut wat = wast::parser::parse::<wast::Wat<'_>>(&buffer).expect("parses");
    wat.encode().expect("encodes")
}

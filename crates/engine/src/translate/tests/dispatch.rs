//! The dispatch's typed errors. Validation refuses the operators of proposals cranewasm does not
//! implement before the translator sees them, so these tests hand the translator bodies that
//! were not validated, as a feature enabled without its translation would.

use wasmparser::{BinaryReader, FunctionBody};

use super::wat_to_wasm;
use crate::compiler::{self, codegen::Tier, ErrorKind};
use crate::translate::{translate_function, TranslateError};

/// Where the test bodies start in the (pretend) module.
const BODY_OFFSET: u64 = 1000;

/// A module with one function `(func)`, under which the test bodies are translated.
fn module() -> std::sync::Arc<crate::module::Module> {
    compiler::compile(&wat_to_wasm("(module (memory 1) (func (export \"f\")))")).unwrap()
}

/// A body without locals: `code`, then `end`.
fn body(code: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0x00];
    bytes.extend_from_slice(code);
    bytes.push(0x0b);
    bytes
}

fn translate(code: &[u8]) -> Result<(), TranslateError> {
    let bytes = body(code);
    let body = FunctionBody::new(BinaryReader::new(&bytes, BODY_OFFSET));
    translate_function(&module(), 0, &body).map(|_| ())
}

#[test]
fn operators_of_unimplemented_proposals_are_unsupported_at_their_offset() {
    // i32.const 1; ref.i31 (GC); drop
    assert_eq!(
        translate(&[0x41, 0x01, 0xfb, 0x1c, 0x1a]),
        Err(TranslateError::Unsupported {
            feature: "GC",
            operator: "RefI31".into(),
            offset: BODY_OFFSET + 3,
        })
    );
    // i32.const 0; i32.atomic.load align=2 offset=0; drop: threads are implemented.
    assert_eq!(translate(&[0x41, 0x00, 0xfe, 0x10, 0x02, 0x00, 0x1a]), Ok(()));
    // i64.const 0 ×4; i64.add128 (wide arithmetic)
    let err = translate(&[0x42, 0, 0x42, 0, 0x42, 0, 0x42, 0, 0xfc, 19, 0x1a, 0x1a]).unwrap_err();
    assert!(
        matches!(err, TranslateError::Unsupported { feature: "wide arithmetic", offset, .. } if offset == BODY_OFFSET + 9),
        "{err:?}"
    );
    assert_eq!(
        translate(&[0x41, 0x01, 0xfb, 0x1c, 0x1a]).unwrap_err().to_string(),
        "GC is not supported: RefI31"
    );
}

#[test]
fn broken_invariants_are_engine_bugs_at_their_offset() {
    // i32.const 1; i32.add: the operand stack underflows (validation would have refused it).
    let err = translate(&[0x41, 0x01, 0x6a]).unwrap_err();
    assert_eq!(
        err,
        TranslateError::EngineBug {
            what: "operand stack underflow".into(),
            offset: Some(BODY_OFFSET + 3),
        }
    );
    assert_eq!(err.to_string(), "internal error: operand stack underflow");
    // select with two types: never valid.
    let err = translate(&[0x1c, 0x02, 0x7f, 0x7f]).unwrap_err();
    assert!(matches!(err, TranslateError::EngineBug { offset: Some(o), .. } if o == BODY_OFFSET + 1), "{err:?}");
}

#[test]
fn compile_units_report_the_kind_function_and_offset() {
    let module = module();
    let options = compiler::options();
    let compile = |code: &[u8]| {
        let bytes = body(code);
        let body = FunctionBody::new(BinaryReader::new(&bytes, BODY_OFFSET));
        compiler::compile_unit(&module, 0, &body, Tier::Baseline, &options).map(|_| ())
    };
    let err = compile(&[0x41, 0x01, 0xfb, 0x1c, 0x1a]).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unsupported);
    assert_eq!(err.offset, BODY_OFFSET + 3);
    assert_eq!(err.to_string(), "Compiling function #0 failed: GC is not supported: RefI31 @+1003");
    let err = compile(&[0x41, 0x01, 0x6a]).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Internal);
    assert_eq!(err.offset, BODY_OFFSET + 3);
    // A valid body compiles.
    assert!(compile(&[]).is_ok());
}

#[test]
fn validation_tells_unsupported_proposals_from_invalid_modules() {
    // A module whose only function's body is `code` (no locals), assembled by hand.
    let module = |code: &[u8]| {
        let body = body(code);
        let mut bytes = b"\0asm\x01\0\0\0".to_vec();
        bytes.extend_from_slice(&[0x01, 0x04, 0x01, 0x60, 0x00, 0x00]); // type (func)
        bytes.extend_from_slice(&[0x03, 0x02, 0x01, 0x00]); // func 0: type 0
        bytes.extend_from_slice(&[0x05, 0x03, 0x01, 0x00, 0x01]); // memory 1
        bytes.extend_from_slice(&[0x0a, body.len() as u8 + 2, 0x01, body.len() as u8]);
        bytes.extend_from_slice(&body);
        bytes
    };
    // ref.i31 (GC): valid WebAssembly cranewasm does not implement.
    for code in [&[0x41, 0x01, 0xfb, 0x1c, 0x1a][..]] {
        let err = compiler::compile(&module(code)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unsupported, "{err}");
        assert!(err.message.ends_with("support is not enabled: cranewasm does not support it"), "{err}");
        assert_eq!(err.function, Some((0, None)));
    }
    // i32.add with one operand: invalid.
    let err = compiler::compile(&module(&[0x41, 0x01, 0x6a])).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid, "{err}");
    assert!(compiler::compile(&module(&[])).is_ok());
    // i32.atomic.load (threads) compiles.
    assert!(compiler::compile(&module(&[0x41, 0x00, 0xfe, 0x10, 0x02, 0x00, 0x1a])).is_ok());
}

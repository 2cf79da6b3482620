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

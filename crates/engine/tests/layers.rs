//! The engine's layers depend one way: environ (module.rs, vmoffsets.rs, libcall.rs, trap.rs,
//! code_info.rs, tier.rs) ← translate ← compiler → runtime (docs/architecture.md, "Layers").
//! These tests read the sources and fail when a file names a layer it must not depend on.
//! Test code (`tests.rs`, `tests_*.rs`, `tests/` folders) may use every layer.

use std::path::{Path, PathBuf};

/// The engine's `src/`.
fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every non-test `.rs` file under `dir` (relative to `src/`), recursively.
fn sources(dir: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "tests" {
                    walk(&path, out);
                }
            } else if name.ends_with(".rs") && name != "tests.rs" && !name.starts_with("tests_") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&src().join(dir), &mut out);
    assert!(!out.is_empty(), "no sources under src/{dir}");
    out
}

/// `text` without comments (line comments, doc comments, block comments), so that prose may
/// mention any layer.
fn code_of(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("//") {
            rest = after.find('\n').map_or("", |i| &after[i..]);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.find("*/").map_or("", |i| &after[i + 2..]);
        } else if rest.starts_with("'\"'") {
            // The character literal of a double quote, which starts no string.
            out.push_str("'\"'");
            rest = &rest[3..];
        } else if rest.starts_with('"') {
            // A string literal, kept whole (it may contain "//").
            let mut end = 1;
            let bytes = rest.as_bytes();
            while end < bytes.len() && bytes[end] != b'"' {
                end += if bytes[end] == b'\\' { 2 } else { 1 };
            }
            let end = (end + 1).min(rest.len());
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// Where `code` names one of `layers` (as `crate::layer`, in a `crate::{…}` group, or through
/// `super::super::layer`) or a Cranelift crate (when `cranelift` is set): one line per use.
fn uses(code: &str, layers: &[&str], cranelift: bool) -> Vec<String> {
    let mut found = Vec::new();
    for (n, line) in code.lines().enumerate() {
        let mut hit = |what: &str| found.push(format!("line {}: {what}: {}", n + 1, line.trim()));
        for layer in layers {
            if line.contains(&format!("crate::{layer}")) || line.contains(&format!("super::super::{layer}")) {
                hit(layer);
            }
        }
        if cranelift && (line.contains("cranelift_") || line.contains("cranelift::")) {
            hit("cranelift");
        }
    }
    // `use crate::{a, b::c};` groups, possibly over several lines.
    let mut at = 0;
    while let Some(i) = code[at..].find("crate::{") {
        let start = at + i + "crate::{".len();
        let end = code[start..].find('}').map_or(code.len(), |j| start + j);
        let group = &code[start..end];
        for layer in layers {
            if group.split(|c: char| !c.is_alphanumeric() && c != '_').any(|w| w == *layer) {
                found.push(format!("a crate::{{…}} group names {layer}: {}", group.trim()));
            }
        }
        at = end;
    }
    found
}

/// Checks every non-test file under `dir` (or only `files`, relative to `src/`) against
/// `layers`, and against Cranelift if `cranelift`.
fn check(dir: &str, files: Option<&[&str]>, layers: &[&str], cranelift: bool) {
    let paths: Vec<PathBuf> = match files {
        Some(files) => files.iter().map(|f| src().join(f)).collect(),
        None => sources(dir),
    };
    let mut failures = Vec::new();
    for path in paths {
        let relative = path.strip_prefix(src()).unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{relative}: {e}"));
        let found = uses(&code_of(&text), layers, cranelift);
        if !found.is_empty() {
            failures.push(format!("{relative} depends on a layer it must not:\n  {}", found.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_runtime_names_neither_the_compiler_nor_the_translator_nor_cranelift() {
    check("runtime", None, &["compiler", "translate"], true);
}

#[test]
fn the_translator_does_not_name_the_runtime() {
    check("translate", None, &["runtime"], false);
}

#[test]
fn the_translator_does_not_name_the_compiler() {
    check("translate", None, &["compiler"], false);
}

#[test]
fn the_single_pass_compiler_names_neither_the_runtime_nor_the_compiler_nor_the_translator() {
    check("singlepass", None, &["runtime", "compiler", "translate"], false);
}

#[test]
fn environ_names_no_layer_above_it() {
    check(
        "",
        Some(&["module.rs", "vmoffsets.rs", "libcall.rs", "trap.rs", "code_info.rs", "tier.rs"]),
        &["compiler", "translate", "runtime"],
        // Libcall signatures and trap codes are described in Cranelift's IR types.
        false,
    );
}

/// The checks themselves: a use in code is found, one in a comment is not.
#[test]
fn the_check_finds_uses_in_code_and_not_in_comments() {
    let code = code_of(
        "use crate::compiler::codegen; // crate::runtime\n/* crate::translate */\nuse crate::{module, runtime::x};\nlet s = \"// crate::compiler\";\n",
    );
    let found = uses(&code, &["compiler", "translate", "runtime"], true);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found[0].contains("compiler"));
    assert!(found[1].contains("compiler"), "inside a string literal, still code: {found:?}");
    assert!(found[2].contains("group names runtime"));
    assert!(uses(&code_of("use cranelift_codegen::ir;"), &[], true).len() == 1);
    assert!(uses(&code_of("//! Cranelift's cranelift_codegen"), &[], true).is_empty());
}

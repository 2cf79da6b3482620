//! Compiles the small C helper of the trap handler (sigsetjmp/siglongjmp cannot be called
//! soundly from Rust: setjmp "returns twice", which Rust does not model), and computes the
//! engine's build id.
//!
//! The build id (`ENGINE_BUILD_ID`, 64 hex digits) is a SHA-256 of everything that decides
//! what machine code the engine generates for a module and how that code reaches the runtime:
//! the engine's sources (translator, compiler, vmctx layout, libcall table), the patched
//! wasmparser, the lock file (Cranelift's exact version), the target and the profile.
//! Serialized code (`compiler::serialize`) carries it and is refused by any other build.
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn main() {
    println!("cargo:rerun-if-changed=src/runtime/guarded_call.c");
    cc::Build::new()
        .file("src/runtime/guarded_call.c")
        .warnings(true)
        .compile("cranewasm_guarded_call");
    build_id();
}

fn build_id() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest.join("../..");
    let mut files = Vec::new();
    for dir in [manifest.join("src"), root.join("crates/wasmparser/src")] {
        println!("cargo:rerun-if-changed={}", dir.display());
        collect(&dir, &mut files);
    }
    for file in [manifest.join("Cargo.toml"), root.join("Cargo.lock"), root.join("Cargo.toml")] {
        println!("cargo:rerun-if-changed={}", file.display());
        files.push(file);
    }
    files.sort();
    let mut hash = Sha256::new();
    for file in &files {
        let Ok(contents) = std::fs::read(file) else { continue };
        let name = file.strip_prefix(&root).unwrap_or(file).to_string_lossy().into_owned();
        hash.update((name.len() as u64).to_le_bytes());
        hash.update(name.as_bytes());
        hash.update((contents.len() as u64).to_le_bytes());
        hash.update(&contents);
    }
    for var in ["TARGET", "PROFILE", "OPT_LEVEL", "DEBUG", "CARGO_CFG_TARGET_FEATURE"] {
        println!("cargo:rerun-if-env-changed={var}");
        hash.update(var.as_bytes());
        hash.update(std::env::var(var).unwrap_or_default().as_bytes());
    }
    let id: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    println!("cargo:rustc-env=ENGINE_BUILD_ID={id}");
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}

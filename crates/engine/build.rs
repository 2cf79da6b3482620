//! Compiles the small C helper of the trap handler (sigsetjmp/siglongjmp cannot be called
//! soundly from Rust: setjmp "returns twice", which Rust does not model).
fn main() {
    println!("cargo:rerun-if-changed=src/runtime/guarded_call.c");
    cc::Build::new()
        .file("src/runtime/guarded_call.c")
        .warnings(true)
        .compile("cranewasm_guarded_call");
}

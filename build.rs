//! Build script of the binding crate: napi-build sets the linker flags a Node addon needs
//! (symbols resolved against the host process at load time), and the C++ helpers are
//! compiled: `src/shared_buffer.cc`, the SharedArrayBuffer of a shared WebAssembly.Memory, and
//! `src/stack_limit.cc`, V8's stack limit, which Node-API cannot reach, and `src/fast_calls.cc`,
//! the JS<->wasm calls without Node-API's per-call wrapper (V8's C++ API, against the headers of
//! the Node that runs the build). Without those headers the addon builds without them
//! (`cranewasm_no_shared_buffer`): shared memories then work in wasm but their `buffer` throws,
//! wasm->JS->wasm recursion stops at V8's own stack limit, and calls go through Node-API.
use std::path::PathBuf;
use std::process::Command;

fn main() {
    napi_build::setup();
    println!("cargo:rerun-if-changed=src/shared_buffer.cc");
    println!("cargo:rerun-if-changed=src/stack_limit.cc");
    println!("cargo:rerun-if-changed=src/fast_calls.cc");
    println!("cargo:rerun-if-env-changed=CRANEWASM_NODE_INCLUDE");
    println!("cargo:rerun-if-env-changed=npm_node_execpath");
    println!("cargo::rustc-check-cfg=cfg(cranewasm_no_shared_buffer)");
    match node_include() {
        Some(include) => {
            cc::Build::new()
                .cpp(true)
                .file("src/shared_buffer.cc")
                .file("src/stack_limit.cc")
                .file("src/fast_calls.cc")
                .include(&include)
                .flag_if_supported("-std=c++17")
                // V8's headers have unused parameters and deprecations: not ours to fix.
                .flag_if_supported("-w")
                .compile("cranewasm_shared_buffer");
        }
        None => {
            println!(
                "cargo:warning=Node's headers (v8.h) not found: shared WebAssembly.Memory buffers are disabled and calls go through Node-API only (set CRANEWASM_NODE_INCLUDE)"
            );
            println!("cargo:rustc-cfg=cranewasm_no_shared_buffer");
        }
    }
}

/// The directory with `v8.h`: `CRANEWASM_NODE_INCLUDE`, else the include directory of the Node
/// on the PATH (`<prefix>/include/node`, where Node's installers put it).
fn node_include() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CRANEWASM_NODE_INCLUDE") {
        let dir = PathBuf::from(dir);
        return dir.join("v8.h").exists().then_some(dir);
    }
    // npm runs install scripts with the Node it runs on in `npm_node_execpath`.
    let node = std::env::var("npm_node_execpath")
        .or_else(|_| std::env::var("NODE"))
        .unwrap_or_else(|_| "node".into());
    let out = Command::new(node)
        .args(["-p", "process.execPath"])
        .output()
        .ok()?;
    let exec = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    let exec = exec.canonicalize().unwrap_or(exec);
    let dir = exec.parent()?.parent()?.join("include").join("node");
    dir.join("v8.h").exists().then_some(dir)
}

//! Wasm frames for stack traces and profilers.
//!
//! - Stack traces: generated code keeps the frame-pointer chain (Cranelift's
//!   `preserve_frame_pointers`), so when a trap ends an activation the trap handler walks it from
//!   the faulting frame, in the signal handler, before unwinding: it only reads the return
//!   addresses into a fixed per-thread buffer (`traps::FrameWalk`). Back in the host, each one is
//!   looked up in the code maps (`code_memory::wasm_frame`: which function, and which wasm
//!   offset from the function's map of code ranges to the module offsets Cranelift's source
//!   locations carry). Nothing of this runs on the normal call path.
//! - V8's format: [`WasmFrame::v8_line`] gives the text V8 prints for a wasm frame, with the
//!   script URL V8 makes for a module (`wasm://wasm/[NAME-]HASH`, [`script_url`]) and the names
//!   of the `name` section as V8 composes them.
//! - Profilers: with `CRANEWASM_PERF_MAP=1`, every function placed in code memory (each tier,
//!   each trampoline) gets a line in `/tmp/perf-<pid>.map`, the file Linux `perf` reads to name
//!   JIT code.

use std::fs::File;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

pub use super::code_memory::WasmFrame;
use super::code_memory::Symbol;
use crate::module::Module;

/// V8's hash of a module's wire bytes (`GetWireBytesHash`: its string hasher, seed 0, over the
/// bytes as a one-byte string), as it appears in the script URL: the raw hash field, with the
/// hash in bits 2..32 and the "not an integer index" flag in bit 1. Strings longer than V8's
/// `String::kMaxHashCalcLength` (16383) hash to their length.
pub fn wire_bytes_hash(bytes: &[u8]) -> u32 {
    const MAX_HASH_CALC_LENGTH: usize = 16383;
    const HASH_SHIFT: u32 = 2;
    const IS_NOT_INTEGER_INDEX: u32 = 1 << 1;
    const ZERO_HASH: u32 = 27;
    const HASH_MASK: u32 = (1 << 30) - 1;
    // The wire bytes start with "\0asm", never a decimal digit: the integer-index forms of
    // V8's hasher do not apply.
    if bytes.len() > MAX_HASH_CALC_LENGTH {
        return ((bytes.len() as u32) << HASH_SHIFT) | IS_NOT_INTEGER_INDEX;
    }
    let mut hash: u32 = 0;
    for &byte in bytes {
        hash = hash.wrapping_add(byte as u32);
        hash = hash.wrapping_add(hash << 10);
        hash ^= hash >> 6;
    }
    hash = hash.wrapping_add(hash << 3);
    hash ^= hash >> 11;
    hash = hash.wrapping_add(hash << 15);
    if hash & HASH_MASK == 0 {
        hash |= ZERO_HASH;
    }
    (hash << HASH_SHIFT) | IS_NOT_INTEGER_INDEX
}

/// The script URL V8 gives a module compiled from bytes: `wasm://wasm/<hash>`, or
/// `wasm://wasm/<module name>-<hash>` when the name section names the module. Computed once
/// per module (the hash reads up to 16 KB).
pub fn script_url(module: &Module) -> &str {
    module.script_url.get_or_init(|| {
        let hash = wire_bytes_hash(&module.bytes);
        match &module.module_name {
            Some(name) => format!("wasm://wasm/{name}-{hash:08x}"),
            None => format!("wasm://wasm/{hash:08x}"),
        }
    })
}

/// The name V8 gives function `index` in stack traces: `module.function` from the name
/// section, the module's name alone when only it is named, the function's alone when only it
/// is, and none without either.
pub fn debug_name(module: &Module, index: u32) -> Option<String> {
    match (module.module_name.as_deref(), module.function_name(index)) {
        (Some(m), Some(f)) => Some(format!("{m}.{f}")),
        (Some(m), None) => Some(m.to_string()),
        (None, Some(f)) => Some(f.to_string()),
        (None, None) => None,
    }
}

impl WasmFrame {
    /// The frame as V8 prints it after `at `: `name (url:wasm-function[i]:0xoffset)`, or the
    /// location alone for an unnamed function.
    pub fn v8_line(&self) -> String {
        let location = format!(
            "{}:wasm-function[{}]:0x{:x}",
            script_url(&self.module),
            self.index,
            self.offset
        );
        match debug_name(&self.module, self.index) {
            Some(name) => format!("{name} ({location})"),
            None => location,
        }
    }
}

/// The open perf map, if `CRANEWASM_PERF_MAP=1`.
fn perf_map() -> Option<&'static Mutex<File>> {
    static MAP: OnceLock<Option<Mutex<File>>> = OnceLock::new();
    MAP.get_or_init(|| {
        // The spellings of a flag in environment.js (index.js has rejected any other value).
        let on = std::env::var("CRANEWASM_PERF_MAP").is_ok_and(|v| {
            matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
        });
        if !on {
            return None;
        }
        let path = format!("/tmp/perf-{}.map", std::process::id());
        File::options()
            .create(true)
            .append(true)
            .open(path)
            .ok()
            .map(Mutex::new)
    })
    .as_ref()
}

/// Whether a perf map is being written (`CRANEWASM_PERF_MAP=1`).
pub fn perf_map_enabled() -> bool {
    perf_map().is_some()
}

/// Adds `(address, length, symbol)` entries to the perf map, if one is being written. Each
/// line is written whole by one `write` (the file is opened for appending), so V8's own
/// entries (`node --perf-basic-prof`) may interleave with ours in the same file.
pub(crate) fn perf_map_add<'a>(entries: impl Iterator<Item = (usize, usize, &'a Symbol)>) {
    let Some(map) = perf_map() else { return };
    let mut text = String::new();
    for (address, length, symbol) in entries {
        let name = match symbol {
            Symbol::Wasm { module, index, tier } => {
                let name = debug_name(module, *index)
                    .unwrap_or_else(|| format!("wasm-function[{index}]"));
                let tier = tier.as_str();
                format!("wasm {name} [{tier}] {}:wasm-function[{index}]", script_url(module))
            }
            Symbol::Engine(what) => format!("cranewasm {what}"),
        };
        text.push_str(&format!("{address:x} {length:x} {name}\n"));
    }
    let mut file = map.lock().unwrap_or_else(|e| e.into_inner());
    let _ = file.write_all(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_as_v8_does() {
        // URLs Node 20 (V8 11.3) prints for these modules: a 60-byte module with a name
        // section, and (hashed by length) a 24,106-byte one.
        let hex = "0061736d0100000001060160017f017f03020100070901056f7574657200000a09010700410120\
                   006d0b0010046e616d650104010001640203010000";
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        assert_eq!(format!("{:08x}", wire_bytes_hash(&bytes)), "844c60d2");
        let long = vec![0u8; 24106];
        assert_eq!(format!("{:08x}", wire_bytes_hash(&long)), "000178aa");
    }
}

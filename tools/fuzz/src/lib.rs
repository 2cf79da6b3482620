//! A long-running property-test driver for the engine: the stable-toolchain stand-in for
//! `cargo fuzz` (libFuzzer needs nightly). Each input is one of
//!
//! - **smith**: a wasm-smith module (Wasm 2.0 features, imports allowed, SIMD now and then, a
//!   later proposal now and then so that rejection is exercised too), made terminating with
//!   `Module::ensure_termination`, so it is also run;
//! - **mutated**: the bytes of a wasm-smith module with a few random byte edits (validated,
//!   compiled and instantiated, never run: nothing bounds its loops any more);
//! - **random**: random bytes behind a valid header, raw or as sections with correct lengths;
//! - **shapes**: hand-assembled extremes wasm-smith does not produce: up to 50,000 locals,
//!   thousands of nested loops, `if`s and blocks, hundreds of parameters and dozens of results.
//!
//! For every input the engine's `validate` must agree with wasmparser's validator;
//! `compile_module` (tiers alternate; the baseline runs compile lazily) must succeed on every
//! valid module (SIMD included) and fail on every invalid one. A compiled module is instantiated with
//! dummy imports (host functions that return zeros and now and then call back into the
//! instance; fresh tables, memories and globals), its start function run and every exported
//! function called twice, with zeros and then with other simple values (funcref arguments are
//! functions of the instance). When the module has imports, a second instance, compiled again
//! for the other tier, imports what it can from the first (functions, tables, memories,
//! globals); then it is dropped and the first runs again. Funcrefs handed out (results, table
//! elements, globals) must resolve to a live function and are called. Traps are expected and
//! counted, but a trap must be at a trap site of live code. Once all handles are dropped, no
//! instance may still be alive. One smith module in four is run on both tiers (with wasm-smith's
//! NaN canonicalization) and the two runs must agree event for event. Panics, aborts, fatal
//! signals and hangs are findings, as are these checks failing. Known engine bugs that are not
//! ours to fix are counted and sampled as `known-<n>.wasm` rather than failing the run (see
//! `run_module` and tests/known_bugs.rs).
//!
//! Runs are reproducible: every input derives from `--seed` through a splitmix64 generator.
//! Before an input runs, its bytes are written to `<crash-dir>/current.wasm`; the file is
//! removed on a clean exit, so one found at start-up is the input that killed the previous run
//! (it is renamed to `died-<time>.wasm`). Panics are caught and their input saved as
//! `panic-<n>.wasm`; other findings as `finding-<n>.wasm`, each with a `.txt` saying why (at
//! most three per distinct finding). A watchdog aborts the process when one input takes more
//! than [`HANG_LIMIT`] of CPU time (or [`HANG_WALL_LIMIT`] in all), after copying it to
//! `hang-<time>.wasm`. `--replay FILE` reruns one input on both tiers with a log of every step.

mod validator;
pub use validator::{run_validator, ValidatorStats};

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ffi::c_void;
use std::fmt::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cranewasm_engine::compiler::codegen::Tier;
use cranewasm_engine::compiler::{self, compile_module, trampolines, CompiledModule, ErrorKind};
use cranewasm_engine::module::{ExternKind, ImportType};
use cranewasm_engine::runtime::code_memory;
use cranewasm_engine::runtime::global::Global;
use cranewasm_engine::runtime::instance::{
    Extern, Function, HostFunction, Instance, InstantiationError, VMFuncRef,
    VMHostFuncContext,
};
use cranewasm_engine::runtime::memory::{LinearMemory, MAX_PAGES, MAX_PAGES_64};
use cranewasm_engine::runtime::refs::ScopedStore;
use cranewasm_engine::runtime::table::{Table, MAX_TABLE_ELEMENTS};
use cranewasm_engine::runtime::traps::Trap;
use cranewasm_engine::trap::TrapKind;
use wasmparser::{AbstractHeapType, FuncType, HeapType, RefType, ValType};

/// The fuel of a wasm-smith module, refilled before every call of an export.
const FUEL_PER_CALL: u32 = 5_000;

/// How much CPU time one input may take before the watchdog declares a hang. CPU time rather
/// than wall time: on a machine shared with builds, slow but finite inputs (the big shapes) take
/// several times their CPU time in wall time and must not end the run.
pub const HANG_LIMIT: Duration = Duration::from_secs(20);

/// How long one input may run in wall time, whatever its CPU time (a deadlock spends none).
pub const HANG_WALL_LIMIT: Duration = Duration::from_secs(120);

// ---- Random numbers -------------------------------------------------------------------------

/// splitmix64: tiny, fast and good enough to drive input generation reproducibly.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        out.truncate(len);
        out
    }

    /// A length skewed towards small values: mostly under 1 KiB, sometimes up to `max`.
    pub fn skewed_len(&mut self, max: u64) -> usize {
        let bits = self.range(2, (64 - max.leading_zeros() as u64).max(2));
        self.below(1 << bits).min(max) as usize
    }
}

// ---- Inputs ---------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Smith,
    Mutated,
    Random,
    Shapes,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Smith, Kind::Mutated, Kind::Random, Kind::Shapes];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Smith => "smith",
            Kind::Mutated => "mutated",
            Kind::Random => "random",
            Kind::Shapes => "shapes",
        }
    }
}

pub struct Input {
    pub kind: Kind,
    pub bytes: Vec<u8>,
    /// Whether the module may be run (its termination is guaranteed).
    pub execute: bool,
    /// Whether to run it on both tiers and compare.
    pub differential: bool,
}

const HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/// A wasm-smith configuration for the Wasm 2.0 feature set, with swarm-style random limits.
fn smith_config(rng: &mut Rng, differential: bool) -> wasm_smith::Config {
    // wasm-smith stops growing a module early on uniform random bytes; minimums keep most
    // modules big enough to be interesting.
    let min_funcs = rng.range(0, 12) as usize;
    let big = rng.one_in(10);
    let mut config = wasm_smith::Config {
        // Wasm 2.0.
        multi_value_enabled: true,
        bulk_memory_enabled: true,
        reference_types_enabled: true,
        sign_extension_ops_enabled: true,
        saturating_float_to_int_enabled: true,
        simd_enabled: rng.one_in(10),
        // Of 3.0, what the engine implements, now and then.
        relaxed_simd_enabled: false,
        threads_enabled: false,
        shared_everything_threads_enabled: false,
        exceptions_enabled: rng.one_in(4),
        gc_enabled: false,
        memory64_enabled: rng.one_in(4),
        tail_call_enabled: rng.one_in(4),
        wide_arithmetic_enabled: false,
        extended_const_enabled: rng.one_in(4),
        custom_page_sizes_enabled: false,
        compact_imports_enabled: false,
        custom_descriptors_enabled: false,
        max_memories: if rng.one_in(3) { rng.range(2, 4) as usize } else { 1 },
        max_tables: rng.range(1, 4) as usize,
        // Keep memories (and so bulk operations) and tables a sensible size for a fuzzer.
        // (Now and then: no maximum, up to 4 GiB, big tables and long bodies.)
        memory_max_size_required: !big,
        max_memory32_bytes: if big {
            1 << 32
        } else {
            rng.range(0, 256) * 65536
        },
        max_memory64_bytes: if big {
            1 << 34
        } else {
            u128::from(rng.range(0, 256) * 65536)
        },
        max_table_elements: if big { 1_000_000 } else { rng.range(0, 10_000) },
        min_funcs,
        max_funcs: min_funcs + rng.range(1, 50) as usize,
        min_exports: rng.range(0, 1) as usize,
        max_imports: rng.range(0, 20) as usize,
        max_exports: rng.range(1, 60) as usize,
        max_instructions: if big {
            5000
        } else {
            rng.range(5, 600) as usize
        },
        max_nesting_depth: rng.range(2, 12) as usize,
        max_data_segments: rng.range(0, 8) as usize,
        max_element_segments: rng.range(0, 8) as usize,
        export_everything: !rng.one_in(3),
        allow_start_export: true,
        disallow_traps: rng.one_in(2),
        canonicalize_nans: differential || rng.one_in(4),
        generate_custom_sections: rng.one_in(8),
        min_uleb_size: if rng.one_in(8) {
            rng.range(1, 5) as u8
        } else {
            1
        },
        ..wasm_smith::Config::default()
    };
    if config.simd_enabled && rng.one_in(3) {
        // Deterministic in cranewasm: both tiers must agree on it.
        config.relaxed_simd_enabled = true;
    }
    // Now and then one proposal beyond what the engine implements, so that validation and
    // compilation see well-formed modules they must reject (or accept, when the feature went
    // unused).
    if !differential && rng.one_in(12) {
        match rng.below(10) {
            0 => config.tail_call_enabled = true,
            1 => config.extended_const_enabled = true,
            2 | 3 | 4 => config.threads_enabled = true,
            5 => config.exceptions_enabled = true,
            6 => config.gc_enabled = true,
            7 => config.wide_arithmetic_enabled = true,
            8 => {
                config.simd_enabled = true;
                config.relaxed_simd_enabled = true;
            }
            _ => config.custom_page_sizes_enabled = true,
        }
    }
    config
}

/// A wasm-smith module, made terminating when `fuel` is given. None when wasm-smith could not
/// build one from the bytes it was given.
fn smith_module(rng: &mut Rng, fuel: Option<u32>, differential: bool) -> Option<Vec<u8>> {
    let config = smith_config(rng, differential);
    let len = rng.skewed_len(64 * 1024).max(64) + rng.below(2048) as usize;
    let data = rng.bytes(len);
    let mut u = arbitrary::Unstructured::new(&data);
    let mut module = wasm_smith::Module::new(config, &mut u).ok()?;
    if let Some(fuel) = fuel {
        module.ensure_termination(fuel).ok()?;
    }
    Some(module.to_bytes())
}

/// What Node 20's V8 runs as well (with `--experimental-wasm-extended-const` and
/// `--experimental-wasm-memory64`): tail calls, extended constant expressions, memory64 and
/// SIMD, never relaxed SIMD (whose results V8 may choose per CPU). For the differential fuzzer
/// against V8 (tools/fuzz-v8.js), which runs both engines on the modules [`v8_module`] makes.
fn v8_config(rng: &mut Rng) -> wasm_smith::Config {
    let mut config = smith_config(rng, true);
    config.relaxed_simd_enabled = false;
    config.simd_enabled = rng.one_in(6);
    config.tail_call_enabled = !rng.one_in(3);
    config.extended_const_enabled = rng.one_in(3);
    config.memory64_enabled = rng.one_in(5);
    // Node 20's V8 has neither custom sections checks nor leb padding differences to fear, but
    // a start function that traps makes instantiation fail in both, which compares nothing.
    config.allow_start_export = false;
    config.canonicalize_nans = true;
    config.export_everything = true;
    config
}

/// A terminating wasm-smith module for the differential fuzzer against V8 (see [`v8_config`]).
pub fn v8_module(rng: &mut Rng, fuel: u32) -> Option<Vec<u8>> {
    let config = v8_config(rng);
    let len = rng.skewed_len(64 * 1024).max(64) + rng.below(2048) as usize;
    let data = rng.bytes(len);
    let mut u = arbitrary::Unstructured::new(&data);
    let mut module = wasm_smith::Module::new(config, &mut u).ok()?;
    module.ensure_termination(fuel).ok()?;
    Some(module.to_bytes())
}

/// What a JS driver needs to know of `bytes` (a valid module) to link and call it, as JSON:
/// `{"imports": [...], "exports": [...]}`, each import with its module, name and kind and
/// type (`params`/`results` of functions and tags, `type`/`mutable` of globals, `element`,
/// `min`, `max` of tables, `min`, `max`, `i64` of memories), each function export with its
/// `params` and `results`. Value types by their JS API names (`i32`, `anyfunc`, ...; other
/// reference types as `ref`).
pub fn describe(bytes: &[u8]) -> Option<String> {
    use wasmparser::{Payload, TypeRef};
    fn val(t: ValType) -> &'static str {
        match t {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F32 => "f32",
            ValType::F64 => "f64",
            ValType::V128 => "v128",
            ValType::Ref(r) if r == RefType::FUNCREF => "anyfunc",
            ValType::Ref(r) if r == RefType::EXTERNREF => "externref",
            ValType::Ref(_) => "ref",
        }
    }
    fn list(types: &[ValType]) -> String {
        let names: Vec<String> = types.iter().map(|t| format!("\"{}\"", val(*t))).collect();
        format!("[{}]", names.join(","))
    }
    fn text(s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }
    let mut types: Vec<Option<FuncType>> = Vec::new();
    let mut funcs: Vec<u32> = Vec::new();
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    let func_json = |ty: &Option<FuncType>| match ty {
        Some(f) => format!("\"params\":{},\"results\":{}", list(f.params()), list(f.results())),
        None => "\"params\":null,\"results\":null".to_string(),
    };
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.ok()? {
            Payload::TypeSection(reader) => {
                for group in reader {
                    for sub in group.ok()?.into_types() {
                        types.push(match sub.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => Some(f),
                            _ => None,
                        });
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.ok()?;
                    let head = format!("\"module\":{},\"name\":{}", text(import.module), text(import.name));
                    let ty = match import.ty {
                        TypeRef::Func(t) | TypeRef::FuncExact(t) => {
                            funcs.push(t);
                            format!("\"kind\":\"function\",{}", func_json(types.get(t as usize)?))
                        }
                        TypeRef::Tag(t) => format!("\"kind\":\"tag\",{}", func_json(types.get(t.func_type_idx as usize)?)),
                        TypeRef::Global(g) => format!(
                            "\"kind\":\"global\",\"type\":\"{}\",\"mutable\":{}",
                            val(g.content_type),
                            g.mutable
                        ),
                        TypeRef::Memory(m) => format!(
                            "\"kind\":\"memory\",\"min\":{},\"max\":{},\"i64\":{},\"shared\":{}",
                            m.initial,
                            m.maximum.map_or("null".to_string(), |v| v.to_string()),
                            m.memory64,
                            m.shared
                        ),
                        TypeRef::Table(t) => format!(
                            "\"kind\":\"table\",\"element\":\"{}\",\"min\":{},\"max\":{},\"i64\":{}",
                            val(ValType::Ref(t.element_type)),
                            t.initial,
                            t.maximum.map_or("null".to_string(), |v| v.to_string()),
                            t.table64
                        ),
                    };
                    imports.push(format!("{{{head},{ty}}}"));
                }
            }
            Payload::FunctionSection(reader) => {
                for f in reader {
                    funcs.push(f.ok()?);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.ok()?;
                    let kind = match export.kind {
                        wasmparser::ExternalKind::Func | wasmparser::ExternalKind::FuncExact => "function",
                        wasmparser::ExternalKind::Table => "table",
                        wasmparser::ExternalKind::Memory => "memory",
                        wasmparser::ExternalKind::Global => "global",
                        wasmparser::ExternalKind::Tag => "tag",
                    };
                    let sig = if kind == "function" {
                        let ty = *funcs.get(export.index as usize)?;
                        format!(",{}", func_json(types.get(ty as usize)?))
                    } else {
                        String::new()
                    };
                    exports.push(format!("{{\"name\":{},\"kind\":\"{kind}\"{sig}}}", text(export.name)));
                }
            }
            _ => {}
        }
    }
    Some(format!("{{\"imports\":[{}],\"exports\":[{}]}}", imports.join(","), exports.join(",")))
}

fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>) {
    for _ in 0..rng.range(1, 4) {
        // Never the header: the mutations are meant for the sections.
        let len = bytes.len();
        if len <= 8 {
            bytes.push(rng.next_u64() as u8);
            continue;
        }
        let at = rng.range(8, len as u64 - 1) as usize;
        match rng.below(6) {
            0 => bytes[at] ^= 1 << rng.below(8),
            1 => bytes[at] = rng.next_u64() as u8,
            2 => bytes[at] = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x40][rng.below(6) as usize],
            3 => bytes.insert(at, rng.next_u64() as u8),
            4 => {
                bytes.remove(at);
            }
            _ => {
                let n = rng.range(1, 8).min((len - at) as u64) as usize;
                let chunk = bytes[at..at + n].to_vec();
                let to = rng.range(8, bytes.len() as u64) as usize;
                bytes.splice(to..to, chunk);
            }
        }
    }
}

fn leb(mut value: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn random_module(rng: &mut Rng) -> Vec<u8> {
    let mut bytes = HEADER.to_vec();
    if rng.one_in(2) {
        let len = rng.skewed_len(4096);
        bytes.extend(rng.bytes(len));
    } else {
        // Sections with correct lengths, mostly in order, with random contents.
        let mut id = 0u64;
        for _ in 0..rng.range(1, 8) {
            id = if rng.one_in(5) {
                rng.below(14)
            } else {
                (id + rng.range(0, 3)).min(13)
            };
            let len = rng.skewed_len(512);
            let mut contents = Vec::with_capacity(len + 1);
            // A small count first, as most sections start with one.
            contents.push(rng.below(4) as u8);
            contents.extend(rng.bytes(len));
            bytes.push(id as u8);
            leb(contents.len() as u64, &mut bytes);
            bytes.extend(contents);
        }
    }
    bytes
}

// ---- Shapes: extreme function shapes wasm-smith does not produce -----------------------------

fn section(out: &mut Vec<u8>, id: u8, contents: &[u8]) {
    out.push(id);
    leb(contents.len() as u64, out);
    out.extend_from_slice(contents);
}

fn name(out: &mut Vec<u8>, s: &str) {
    leb(s.len() as u64, out);
    out.extend_from_slice(s.as_bytes());
}

const I32: u8 = 0x7f;
const I64: u8 = 0x7e;
const F32: u8 = 0x7d;
const F64: u8 = 0x7c;

/// Pushes a constant of value type `ty` (a small value derived from `seed`).
fn push_const(body: &mut Vec<u8>, ty: u8, seed: u64) {
    match ty {
        I32 => {
            body.push(0x41);
            leb((seed % 64) as u64, body); // small non-negative: one-byte-safe sleb
        }
        I64 => {
            body.push(0x42);
            leb((seed % 64) as u64, body);
        }
        F32 => {
            body.push(0x43);
            body.extend_from_slice(&(seed as f32).to_le_bytes());
        }
        _ => {
            body.push(0x44);
            body.extend_from_slice(&(seed as f64).to_le_bytes());
        }
    }
}

/// A module of extreme shapes: a function with up to 50,000 locals used inside deeply nested
/// loops, `if`s and blocks (loops count iterations against a fuel global, so it terminates),
/// and a function with hundreds of parameters and dozens of results, also imported from the
/// host and called through both.
///
/// `light` keeps them small (for the quick `cargo test`, which may run unoptimized).
fn shapes_module(rng: &mut Rng, light: bool) -> Vec<u8> {
    let scale = if light { 16 } else { 1 };
    let params = rng.range(0, 8) as usize;
    let locals = rng.skewed_len((50_000 - params as u64) / scale);
    let n = (params + locals).max(1) as u64;
    let depth = rng.skewed_len(2_000 / scale);
    let uses = rng.skewed_len(100_000 / scale);
    let val_types = [I32, I64, F32, F64];
    let wide_params: Vec<u8> = (0..rng.skewed_len(400))
        .map(|_| val_types[rng.below(4) as usize])
        .collect();
    let wide_results: Vec<u8> = (0..rng.skewed_len(80))
        .map(|_| val_types[rng.below(4) as usize])
        .collect();

    let mut m = HEADER.to_vec();
    // Types: 0 = shape (i64 × params) -> i64; 1 = wide; 2 = () -> i64.
    let mut types = Vec::new();
    leb(3, &mut types);
    types.push(0x60);
    leb(params as u64, &mut types);
    types.extend(std::iter::repeat_n(I64, params));
    types.extend([1, I64]);
    types.push(0x60);
    leb(wide_params.len() as u64, &mut types);
    types.extend(&wide_params);
    leb(wide_results.len() as u64, &mut types);
    types.extend(&wide_results);
    types.extend([0x60, 0, 1, I64]);
    section(&mut m, 1, &types);
    // Import: function 0 = host "wide".
    let mut imports = Vec::new();
    leb(1, &mut imports);
    name(&mut imports, "host");
    name(&mut imports, "wide");
    imports.extend([0x00, 1]);
    section(&mut m, 2, &imports);
    // Functions: 1 = shape, 2 = wide, 3 = call_wide.
    section(&mut m, 3, &[3, 0, 1, 2]);
    // Global 0: the fuel.
    let mut globals = vec![1, I32, 1, 0x41];
    leb(rng.range(1, 100_000), &mut globals);
    globals.push(0x0b);
    section(&mut m, 6, &globals);
    let mut exports = Vec::new();
    leb(2, &mut exports);
    name(&mut exports, "shape");
    exports.extend([0x00, 1]);
    name(&mut exports, "call_wide");
    exports.extend([0x00, 3]);
    section(&mut m, 7, &exports);

    let mut code = Vec::new();
    leb(3, &mut code);
    let push_body = |code: &mut Vec<u8>, body: Vec<u8>| {
        leb(body.len() as u64, code);
        code.extend(body);
    };

    // shape: `depth` nested loops, `uses` operations on random locals spread over the levels
    // (mostly the innermost), now and then a back edge.
    let mut body = Vec::new();
    if locals > 0 {
        body.push(1);
        leb(locals as u64, &mut body);
        body.push(I64);
    } else {
        body.push(0);
    }
    let op = |body: &mut Vec<u8>, rng: &mut Rng, in_loop: bool| match rng.below(10) {
        0..=5 => {
            for _ in 0..2 {
                body.push(0x20);
                leb(rng.below(n), body);
            }
            body.push(0x7c); // i64.add
            body.push(0x21);
            leb(rng.below(n), body);
        }
        6..=8 => {
            body.push(0x20);
            leb(rng.below(n), body);
            body.push(0x1a); // drop
        }
        _ if in_loop => {
            body.push(0x20);
            leb(rng.below(n), body);
            body.extend([0xa7, 0x0d, 0x00]); // i32.wrap_i64; br_if 0
        }
        _ => {}
    };
    let innermost = uses - uses / 4;
    let per_level = (uses / 4) / (depth.max(1) * 2);
    // Each level is a loop (counting down the fuel), an `if` on a local (nesting in its
    // `then` arm; its `else` arm comes at the end) or a block; `in_loop` at each level says
    // whether `br_if 0` there targets a loop (then it must stay a rare back edge).
    let mut levels = Vec::with_capacity(depth);
    let if_share = rng.below(4); // in tenths: some shapes are all loops, some a third ifs
    for _ in 0..depth {
        let kind = match rng.below(10) {
            k if k < if_share => 1u8,
            9 => 2,
            _ => 0,
        };
        levels.push(kind);
        match kind {
            0 => {
                body.extend([0x03, 0x40]); // loop
                                           // if fuel == 0 { unreachable } fuel -= 1
                body.extend([0x23, 0, 0x45, 0x04, 0x40, 0x00, 0x0b]);
                body.extend([0x23, 0, 0x41, 1, 0x6b, 0x24, 0]);
            }
            1 => {
                body.push(0x20);
                leb(rng.below(n), &mut body);
                body.extend([0xa7, 0x04, 0x40]); // i32.wrap_i64; if
            }
            _ => body.extend([0x02, 0x40]), // block
        }
        for _ in 0..per_level {
            op(&mut body, rng, kind == 0);
        }
    }
    let innermost_loop = levels.last() == Some(&0);
    for _ in 0..innermost {
        op(&mut body, rng, innermost_loop);
    }
    for kind in levels.into_iter().rev() {
        if kind == 1 {
            body.push(0x05); // else
        }
        for _ in 0..per_level {
            op(&mut body, rng, kind == 0);
        }
        body.push(0x0b);
    }
    body.push(0x20);
    leb(rng.below(n), &mut body);
    body.push(0x0b);
    push_body(&mut code, body);

    // wide: results from parameters of the same type where there is one, else constants.
    let mut body = vec![0];
    for (i, ty) in wide_results.iter().enumerate() {
        let from = wide_params
            .iter()
            .enumerate()
            .filter(|(_, p)| *p == ty)
            .map(|(j, _)| j)
            .nth(i % 3);
        match from {
            Some(j) => {
                body.push(0x20);
                leb(j as u64, &mut body);
            }
            None => push_const(&mut body, *ty, i as u64),
        }
    }
    body.push(0x0b);
    push_body(&mut code, body);

    // call_wide: calls the host's and our own with constants, drops the results.
    let mut body = vec![0];
    for callee in [0u8, 2] {
        for (i, ty) in wide_params.iter().enumerate() {
            push_const(&mut body, *ty, i as u64 + 1);
        }
        body.extend([0x10, callee]);
        body.extend(std::iter::repeat_n(0x1a, wide_results.len()));
    }
    body.extend([0x42, 0, 0x0b]);
    push_body(&mut code, body);
    section(&mut m, 10, &code);
    m
}

/// The next input, drawn from `rng` (`light`: see [`Options::light`]). The flag says whether
/// the generator produced the kind it meant to (false: wasm-smith gave up, random bytes instead).
pub fn generate(rng: &mut Rng, light: bool) -> (Input, bool) {
    let roll = rng.below(100);
    if roll < 3 {
        let input = Input {
            kind: Kind::Shapes,
            bytes: shapes_module(rng, light),
            execute: true,
            differential: rng.one_in(2),
        };
        return (input, true);
    }
    if roll < 65 {
        let differential = rng.one_in(4);
        let fuel = rng.range(100, 20_000) as u32;
        if let Some(bytes) = smith_module(rng, Some(fuel), differential) {
            let input = Input {
                kind: Kind::Smith,
                bytes,
                execute: true,
                differential,
            };
            return (input, true);
        }
        // wasm-smith ran out of data: fall through to a random module.
        let input = Input {
            kind: Kind::Random,
            bytes: random_module(rng),
            execute: false,
            differential: false,
        };
        return (input, false);
    }
    if roll < 85 {
        let fuel = rng.one_in(2).then(|| rng.range(100, 20_000) as u32);
        if let Some(mut bytes) = smith_module(rng, fuel, false) {
            mutate(rng, &mut bytes);
            let input = Input {
                kind: Kind::Mutated,
                bytes,
                execute: false,
                differential: false,
            };
            return (input, true);
        }
    }
    let input = Input {
        kind: Kind::Random,
        bytes: random_module(rng),
        execute: false,
        differential: false,
    };
    (input, true)
}

// ---- Statistics -----------------------------------------------------------------------------

#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub inputs: u64,
    pub input_bytes: u64,
    pub by_kind: HashMap<&'static str, u64>,
    pub smith_failed: u64,
    pub valid: u64,
    pub invalid: u64,
    pub compiled: u64,
    /// Valid modules the engine refuses as unsupported (`ErrorKind::Unsupported`: an
    /// operator of a proposal it does not implement, or a CPU without SSE4.1).
    pub unsupported: u64,
    pub instantiated: u64,
    pub instantiate_traps: u64,
    pub instantiate_resource: u64,
    pub started: u64,
    pub start_traps: u64,
    pub calls: u64,
    pub call_traps: u64,
    pub differential: u64,
    pub linked: u64,
    pub ref_calls: u64,
    pub traps_by_kind: HashMap<String, u64>,
    pub panics: u64,
    pub findings: u64,
    /// Inputs hitting known, reported engine bugs (see `Finding::known`).
    pub known: u64,
    /// The slowest input: seconds, kind, input number.
    pub slowest: (f64, &'static str, u64),
}

impl Stats {
    fn trap(&mut self, kind: TrapKind) {
        *self.traps_by_kind.entry(format!("{kind:?}")).or_default() += 1;
    }

    pub fn summary(&self, elapsed: Duration) -> String {
        let mut s = String::new();
        let secs = elapsed.as_secs_f64();
        let _ = write!(
            s,
            "[{secs:.0}s] inputs {} ({:.0}/s, {} bytes on average):",
            self.inputs,
            self.inputs as f64 / secs.max(1e-9),
            self.input_bytes / self.inputs.max(1)
        );
        for kind in Kind::ALL {
            let _ = write!(
                s,
                " {} {}",
                kind.name(),
                self.by_kind.get(kind.name()).copied().unwrap_or(0)
            );
        }
        let _ = write!(
            s,
            "\n  valid {} invalid {} | compiled {} (unsupported {}) | instantiated {} \
             (segment traps {}, resource {}) | start ran {} (trapped {}) | calls {} (trapped {}) \
             | linked second instances {} | funcrefs called {} | differential {} | smith gave up {}",
            self.valid,
            self.invalid,
            self.compiled,
            self.unsupported,
            self.instantiated,
            self.instantiate_traps,
            self.instantiate_resource,
            self.started,
            self.start_traps,
            self.calls,
            self.call_traps,
            self.linked,
            self.ref_calls,
            self.differential,
            self.smith_failed,
        );
        let mut traps: Vec<_> = self.traps_by_kind.iter().collect();
        traps.sort();
        let _ = write!(
            s,
            "\n  host calls {} (re-entering wasm {}); traps:",
            HOST_CALLS.load(Ordering::Relaxed),
            REENTRIES.load(Ordering::Relaxed)
        );
        for (kind, n) in traps {
            let _ = write!(s, " {kind} {n}");
        }
        let _ = write!(
            s,
            "\n  FINDINGS {} (panics {}) | known bugs hit {} | slowest input {:.1}s ({} #{})",
            self.findings, self.panics, self.known, self.slowest.0, self.slowest.1, self.slowest.2
        );
        s
    }
}

// ---- One input ------------------------------------------------------------------------------

/// Something the engine got wrong (other than a panic, which is caught separately).
#[derive(Debug)]
pub struct Finding {
    /// A short, stable description used to deduplicate findings.
    pub key: String,
    pub detail: String,
    /// A known engine bug (reported, owned elsewhere): counted and sampled, not a failure.
    pub known: bool,
}

fn finding(key: &str, detail: impl Into<String>) -> Finding {
    Finding {
        key: key.to_string(),
        detail: detail.into(),
        known: false,
    }
}

/// The state of a dummy host function: how many results to write, and the wasm function it
/// calls back into now and then (re-entering wasm from the host, as a JS import calling an
/// export does).
struct HostState {
    results: usize,
    reenter: RefCell<Option<(Weak<Instance>, u32)>>,
    calls: Cell<u64>,
}

/// Calls of dummy host functions, and how many of them re-entered wasm (process totals).
static HOST_CALLS: AtomicU64 = AtomicU64::new(0);
static REENTRIES: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// How deeply host functions have re-entered wasm on this thread.
    static REENTRY_DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Calls `function` with zero arguments; whether it returned without trapping.
fn call_with_zeros(function: &Function) -> bool {
    let ty = function.ty().clone();
    let Ok(trampolines) = trampolines::for_signature(&ty) else {
        return false;
    };
    if ty.params().iter().any(|p| matches!(p, ValType::Ref(r) if !r.is_nullable())) {
        // Zero is no value of a non-nullable reference type: not called.
        return true;
    }
    let mut values = vec![0u128; ty.params().len().max(ty.results().len()).max(1)];
    // SAFETY: enough slots, all zero (valid for every parameter type: numbers, or null for
    // nullable references, checked above), and the trampolines of the function's own signature.
    unsafe { function.call(&trampolines, &mut values) }.is_ok()
}

/// The host callback of every dummy import: every third call re-enters wasm (two levels deep
/// at most) and fails if that traps; then writes zero results and succeeds.
unsafe extern "C" fn dummy_host(context: *mut VMHostFuncContext, values: *mut u128) -> u32 {
    // SAFETY: the exit trampoline passes the context of one of our host functions, whose data
    // is its `HostState` (alive as long as the function), and max(params, results, 1) slots.
    let state = unsafe { &*((*context).data as *const HostState) };
    let calls = state.calls.get();
    state.calls.set(calls + 1);
    HOST_CALLS.fetch_add(1, Ordering::Relaxed);
    let target = state.reenter.borrow().clone();
    if let Some((instance, index)) = target {
        let depth = REENTRY_DEPTH.with(Cell::get);
        if calls % 3 == 1 && depth < 2 {
            if let Some(instance) = instance.upgrade() {
                REENTRY_DEPTH.with(|d| d.set(depth + 1));
                REENTRIES.fetch_add(1, Ordering::Relaxed);
                let ok = call_with_zeros(&instance.function(index));
                REENTRY_DEPTH.with(|d| d.set(depth));
                if !ok {
                    return 1;
                }
            }
        }
    }
    for i in 0..state.results {
        // SAFETY: see above: at least `results` slots.
        unsafe { values.add(i).write(0) };
    }
    0
}

/// # Safety
/// `data` is a `HostState` box from `dummy_imports`, dropped once (SAFETY: the engine calls this
/// once, when the host function is dropped).
unsafe fn drop_host_state(data: *mut c_void) {
    // SAFETY: `data` came from `Box::into_raw` in `dummy_imports`, and is dropped once.
    drop(unsafe { Box::from_raw(data as *mut HostState) });
}

/// Dummy imports for `module`, each with the state of its host function if it is one.
fn dummy_imports(
    module: &cranewasm_engine::Module,
) -> Result<Vec<(Extern, Option<*const HostState>)>, String> {
    module
        .imports
        .iter()
        .map(|import| {
            Ok(match &import.ty {
                ImportType::Function(ty) => {
                    let type_id = module.type_ids()[*ty as usize];
                    let ty = module.types[*ty as usize].clone();
                    let state = Box::into_raw(Box::new(HostState {
                        results: ty.results().len(),
                        reenter: RefCell::new(None),
                        calls: Cell::new(0),
                    }));
                    let host = trampolines::for_signature(&ty)
                        .and_then(|trampolines| {
                            HostFunction::new(
                                ty,
                                type_id,
                                dummy_host,
                                state as *mut c_void,
                                Some(drop_host_state),
                                trampolines,
                            )
                        })
                        .inspect_err(|_| {
                            // SAFETY: `new` failed, so nothing else owns the state.
                            unsafe { drop_host_state(state as *mut c_void) };
                        })?;
                    (
                        Extern::Function(Function::host(host)),
                        Some(state as *const HostState),
                    )
                }
                ImportType::Table(ty) => (
                    Extern::Table(Arc::new(Table::new(
                        ty.element_type,
                        ty.initial,
                        ty.maximum,
                        0,
                    )?
                    .with_type_ids(module.type_ids())
                    .with_table64(ty.table64))),
                    None,
                ),
                ImportType::Memory(ty) => (
                    Extern::Memory(Arc::new(LinearMemory::create_with(ty.initial, ty.maximum, ty.memory64, ty.shared, true, None)?)),
                    None,
                ),
                ImportType::Global(ty) => (
                    Extern::Global(Arc::new(Global::with_type_ids(*ty, 0, module.type_ids()))),
                    None,
                ),
                ImportType::Tag(_) => return Err("tag import".to_string()),
            })
        })
        .collect()
}

fn value_size(ty: ValType) -> u32 {
    match ty {
        ValType::I32 | ValType::F32 => 4,
        ValType::I64 | ValType::F64 => 8,
        ValType::V128 => 16,
        // Only null-ness of references is comparable across instances.
        ValType::Ref(_) => 0,
    }
}

/// The observable bits of a value of type `ty` held in a 16-byte slot.
fn observable(ty: ValType, slot: u128) -> u128 {
    match value_size(ty) {
        0 => (slot as u64 != 0) as u128,
        16 => slot,
        n => slot & ((1u128 << (n * 8)) - 1),
    }
}

/// Simple arguments for `ty`: all zero for round 0, interesting constants after that.
/// References: null in round 0; then a function of the instance (`func_ref`) for `func`, a small
/// externref handle (opaque to the engine) for `extern`, and null for every other reference
/// type (an `exnref` or a concrete function type has no value the harness could make up: a
/// made-up handle there was an invalid pointer, which crashed `throw_ref`). The caller skips a
/// call whose non-nullable parameter would get null.
fn argument(ty: ValType, round: u32, index: usize, func_ref: &dyn Fn(usize) -> u128) -> u128 {
    const I32: [u32; 8] = [
        1,
        0xffff_ffff,
        0x8000_0000,
        0x7fff_ffff,
        65535,
        65536,
        42,
        8,
    ];
    const I64: [u64; 6] = [
        1,
        u64::MAX,
        1 << 63,
        0x7fff_ffff_ffff_ffff,
        65536,
        0x1_0000_0000,
    ];
    const F32: [f32; 7] = [
        1.0,
        -0.0,
        f32::NAN,
        f32::INFINITY,
        -1.5,
        2147483648.0,
        1e-40,
    ];
    const F64: [f64; 7] = [
        1.0,
        -0.0,
        f64::NAN,
        f64::NEG_INFINITY,
        0.5,
        9.3e18,
        4.9e-324,
    ];
    if round == 0 {
        return 0;
    }
    let pick = round as usize * 7 + index * 3;
    match ty {
        ValType::I32 => I32[pick % I32.len()] as u128,
        ValType::I64 => I64[pick % I64.len()] as u128,
        ValType::F32 => F32[pick % F32.len()].to_bits() as u128,
        ValType::F64 => F64[pick % F64.len()].to_bits() as u128,
        ValType::V128 => 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210u128.rotate_left(pick as u32),
        ValType::Ref(r) => match r.heap_type() {
            HeapType::Abstract { ty: AbstractHeapType::Func, .. } => func_ref(pick),
            HeapType::Abstract { ty: AbstractHeapType::Extern, .. } => (pick % 3 + 1) as u128,
            _ => 0,
        },
    }
}

/// What one run of a module did, comparable across tiers.
#[derive(Debug, PartialEq, Eq)]
enum Event {
    Instantiated(Result<(), TrapKind>),
    Start(Result<(), TrapKind>),
    Call(String, u32, Result<Vec<u128>, TrapKind>),
    /// A funcref handed out (result, table element, global) called back with zero arguments.
    CallRef(bool),
    Global(u32, u128),
    MemoryHash(u64),
    /// The first instance's second life, after the linked instance was dropped.
    Survivor,
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &b in bytes {
        h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// Imports for a second instance of a module, taken from the exports of `first` where one
/// has the right type (so wasm calls wasm of another instance, and tables, memories and
/// globals are shared), else the dummies.
fn linked_imports(module: &cranewasm_engine::Module, first: &Arc<Instance>) -> Vec<Option<Extern>> {
    let exports = &first.module().exports;
    module
        .imports
        .iter()
        .enumerate()
        .map(|(i, import)| {
            // Rotate the starting point so that different imports pick different exports.
            let candidates = exports.iter().cycle().skip(i).take(exports.len());
            for export in candidates {
                let found = match (&import.ty, export.kind) {
                    (ImportType::Function(ty), ExternKind::Function) => {
                        let f = first.function(export.index);
                        (*f.ty() == module.types[*ty as usize]).then(|| Extern::Function(f))
                    }
                    (ImportType::Table(ty), ExternKind::Table) => {
                        let t = first.table(export.index);
                        let max_ok = match ty.maximum {
                            None => true,
                            Some(m) => t.maximum() < MAX_TABLE_ELEMENTS && t.maximum() <= m,
                        };
                        (t.element_type() == ty.element_type && t.is_64() == ty.table64 && t.len() >= ty.initial && max_ok)
                            .then(|| Extern::Table(t.clone()))
                    }
                    (ImportType::Memory(ty), ExternKind::Memory) => first.memory(export.index).and_then(|m| {
                        let limit = if m.is_64() { MAX_PAGES_64 } else { MAX_PAGES };
                        let max_ok = match ty.maximum {
                            None => true,
                            Some(max) => m.maximum_pages() < limit && m.maximum_pages() <= max,
                        };
                        (m.is_64() == ty.memory64 && m.is_shared() == ty.shared && m.pages() >= ty.initial && max_ok)
                            .then(|| Extern::Memory(m.clone()))
                    }),
                    (ImportType::Global(ty), ExternKind::Global) => {
                        let g = first.global(export.index);
                        (g.ty.content_type == ty.content_type && g.ty.mutable == ty.mutable)
                            .then(|| Extern::Global(g.clone()))
                    }
                    _ => None,
                };
                if found.is_some() {
                    return found;
                }
            }
            None
        })
        .collect()
}

/// Checks a trap that ended a call from the host: its PC must be a trap site of live code.
/// (The engine turns any fault in the code region into a trap; one without a trap site means
/// generated code faulted where it should not, or ran code that was already freed.) An
/// uncaught exception ends the call at the return address of its throw, a call site: that must
/// be live code.
fn check_trap(trap: &Trap) -> Result<(), Finding> {
    if matches!(trap.kind, TrapKind::Exception | TrapKind::HostException) {
        if trap.pc != 0 && !code_memory::is_code_address(trap.pc) {
            return Err(finding(
                "an exception left from a PC outside live code",
                format!("{:?} at {:#x}", trap.kind, trap.pc),
            ));
        }
        return Ok(());
    }
    if code_memory::trap_at(trap.pc).is_none() {
        return Err(finding(
            "trap at a PC that is no trap site",
            format!("{:?} at {:#x}", trap.kind, trap.pc),
        ));
    }
    Ok(())
}

/// Instantiates `compiled` with `imports` (dummies where None) and runs its start function
/// when `execute`. None when instantiation failed the expected way (trap, resources).
fn instantiate(
    compiled: Arc<CompiledModule>,
    imports: Vec<Option<Extern>>,
    execute: bool,
    stats: &mut Stats,
    events: &mut Vec<Event>,
    log: bool,
) -> Result<Option<Arc<Instance>>, Finding> {
    let module = compiled.module.clone();
    let dummies = match dummy_imports(&module) {
        Ok(imports) => imports,
        Err(e) => {
            // Our dummies could not be made (e.g. a table larger than the JS API allows).
            stats.instantiate_resource += 1;
            if log {
                eprintln!("dummy imports: {e}");
            }
            return Ok(None);
        }
    };
    let linked = imports.iter().filter(|i| i.is_some()).count();
    // The states of the dummy host functions actually used (the others are dropped here).
    let mut host_states = Vec::new();
    let imports: Vec<Extern> = dummies
        .into_iter()
        .zip(imports)
        .map(|((dummy, state), import)| {
            import.unwrap_or_else(|| {
                host_states.extend(state);
                dummy
            })
        })
        .collect();
    let instance = match Instance::new(compiled, imports) {
        Ok(instance) => instance,
        Err(InstantiationError::Trap(trap)) => {
            stats.instantiate_traps += 1;
            stats.trap(trap.kind);
            if log {
                eprintln!("instantiation trapped: {:?}", trap.kind);
            }
            events.push(Event::Instantiated(Err(trap.kind)));
            return Ok(None);
        }
        Err(InstantiationError::Resource(e)) => {
            stats.instantiate_resource += 1;
            if log {
                eprintln!("instantiation: resource: {e}");
            }
            return Ok(None);
        }
        Err(InstantiationError::Link(index, reason)) => {
            return Err(finding(
                "link error with matching imports",
                format!("import #{index} ({linked} linked to another instance): {reason}"),
            ))
        }
        #[allow(unreachable_patterns)] // the instantiation errors are still growing
        Err(e) => {
            return Err(finding(
                "instantiation failed with matching imports",
                format!("({linked} linked to another instance): {e:?}"),
            ))
        }
    };
    stats.instantiated += 1;
    events.push(Event::Instantiated(Ok(())));
    // Host functions call back into the first exported function (weakly: no cycle).
    if let Some(export) = module
        .exports
        .iter()
        .find(|e| e.kind == ExternKind::Function)
    {
        for state in &host_states {
            // SAFETY: the states belong to host functions the instance holds (its imports), so
            // they live as long as `instance`; dummies replaced by linked imports (dropped with
            // their states) are not in the list.
            let state = unsafe { &**state };
            *state.reenter.borrow_mut() = Some((Arc::downgrade(&instance), export.index));
        }
    }
    if !execute {
        return Ok(Some(instance));
    }
    let started = instance.start();
    stats.started += 1;
    if let Err(trap) = &started {
        stats.start_traps += 1;
        stats.trap(trap.kind);
        check_trap(trap)?;
    }
    if log {
        eprintln!("start: {started:?}");
    }
    let started = started.map_err(|t| t.kind);
    events.push(Event::Start(started));
    // A module whose start function trapped is not instantiated (its instance is unreachable
    // in the JS API); do not run it further.
    Ok(started.is_ok().then_some(instance))
}

/// Calls every exported function of `instance` in each of `rounds` (see [`argument`]).
fn exercise(
    instance: &Arc<Instance>,
    rounds: std::ops::Range<u32>,
    stats: &mut Stats,
    events: &mut Vec<Event>,
    log: bool,
) -> Result<(), Finding> {
    let module = instance.module().clone();
    // wasm-smith's fuel is the last defined global (`ensure_termination` adds it): refill it
    // before each call so that later exports get to run too.
    let fuel = module
        .globals
        .last()
        .filter(|g| g.mutable && g.content_type == ValType::I32)
        .map(|_| module.num_globals() - 1);
    let num_functions = module.functions.len();
    let func_ref = |pick: usize| -> u128 {
        if pick % 4 == 0 || num_functions == 0 {
            0
        } else {
            instance.function((pick % num_functions) as u32).func_ref() as usize as u128
        }
    };
    for round in rounds {
        for export in &module.exports {
            if export.kind != ExternKind::Function {
                continue;
            }
            let function = instance.function(export.index);
            let ty: FuncType = function.ty().clone();
            if let Some(fuel) = fuel {
                instance.global(fuel).set(FUEL_PER_CALL as u128);
            }
            let trampolines = trampolines::for_signature(&ty)
                .map_err(|e| finding("trampolines failed", format!("{ty:?}: {e}")))?;
            let slots = ty.params().len().max(ty.results().len()).max(1);
            let mut values = vec![0u128; slots];
            for (i, p) in ty.params().iter().enumerate() {
                values[i] = argument(*p, round, i, &func_ref);
            }
            let null_for_non_null = ty
                .params()
                .iter()
                .zip(&values)
                .any(|(p, v)| matches!(p, ValType::Ref(r) if !r.is_nullable()) && *v == 0);
            if null_for_non_null {
                // No value of the parameter's type to pass: the host could not call it either.
                continue;
            }
            let began = Instant::now();
            // SAFETY: `values` has max(params, results, 1) slots holding arguments of the
            // parameter types (references are null where nullable, functions of the live
            // instance for `func`, opaque handles for `extern`: see `argument`), and the
            // trampolines are those of the function's signature.
            let result = unsafe { function.call(&trampolines, &mut values) };
            let took = began.elapsed();
            stats.calls += 1;
            let result = match result {
                Ok(()) => {
                    for (t, v) in ty.results().iter().zip(&values) {
                        if *t == ValType::Ref(RefType::FUNCREF) {
                            check_func_ref(*v as usize, "a result", stats, events)?;
                        }
                    }
                    Ok(ty
                        .results()
                        .iter()
                        .zip(&values)
                        .map(|(t, v)| observable(*t, *v))
                        .collect())
                }
                Err(trap) => {
                    stats.call_traps += 1;
                    stats.trap(trap.kind);
                    check_trap(&trap)?;
                    Err(trap.kind)
                }
            };
            if log {
                eprintln!(
                    "call {:?} round {round}: {result:x?} ({took:?})",
                    export.name
                );
            }
            events.push(Event::Call(export.name.clone(), round, result));
        }
    }
    Ok(())
}

/// A non-null funcref that wasm handed to the host must resolve to a live function (whose
/// owner the host can then keep alive), and calling it must work like calling any function.
fn check_func_ref(
    value: usize,
    from: &str,
    stats: &mut Stats,
    events: &mut Vec<Event>,
) -> Result<(), Finding> {
    if value == 0 {
        return Ok(());
    }
    let Some(function) = Function::from_func_ref(value as *const VMFuncRef) else {
        return Err(finding(
            "funcref of no live function",
            format!("{from} is {value:#x}, which no live instance or host function owns"),
        ));
    };
    stats.ref_calls += 1;
    let depth = REENTRY_DEPTH.with(Cell::get);
    REENTRY_DEPTH.with(|d| d.set(2)); // no re-entry from host functions during these calls
    let ok = call_with_zeros(&function);
    REENTRY_DEPTH.with(|d| d.set(depth));
    events.push(Event::CallRef(ok));
    Ok(())
}

/// Records the observable state of `instance` (globals, memory) and checks the funcrefs it
/// holds in exported tables and globals.
fn inspect(
    instance: &Arc<Instance>,
    stats: &mut Stats,
    events: &mut Vec<Event>,
) -> Result<(), Finding> {
    let module = instance.module().clone();
    for index in 0..module.num_globals() {
        let global = instance.global(index);
        let ty = global.ty.content_type;
        events.push(Event::Global(index, observable(ty, global.get())));
    }
    for index in 0..module.num_memories() {
        let Some(memory) = instance.memory(index) else { continue };
        if memory.byte_length() <= 64 << 20 {
            // SAFETY: no wasm runs while the slice lives, and nothing else views the memory.
            let bytes = unsafe { memory.bytes_mut() };
            events.push(Event::MemoryHash(fnv1a(bytes)));
        }
    }
    for export in &module.exports {
        match export.kind {
            ExternKind::Table => {
                let table = instance.table(export.index);
                if table.element_type() != RefType::FUNCREF {
                    continue;
                }
                let elements: Vec<usize> = (0..table.len().min(64))
                    .filter_map(|i| table.get(i))
                    .collect();
                for element in elements {
                    check_func_ref(element, "a table element", stats, events)?;
                }
            }
            ExternKind::Global => {
                let global = instance.global(export.index);
                if global.ty.content_type == ValType::Ref(RefType::FUNCREF) {
                    check_func_ref(global.get() as usize, "a global", stats, events)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Runs a compiled module: one instance (A) with dummy imports; when the module has imports,
/// a second one (B), compiled again for `other`, importing what it can from A. Then B is
/// dropped and A runs again (nothing A holds may point into B any more). Once both are
/// dropped, neither may still be alive.
fn run_module(
    compiled: Arc<CompiledModule>,
    bytes: &[u8],
    other: Tier,
    execute: bool,
    stats: &mut Stats,
    log: bool,
) -> Result<Vec<Event>, Finding> {
    // Owners of stored funcrefs live until the end of the run (cycles included), so that every
    // instance must be gone once the store is; a store the runtime did not record frees an owner
    // too early, which the survivor check below catches.
    let store = ScopedStore::new();
    let module = compiled.module.clone();
    let mut events = Vec::new();
    let none = module.imports.iter().map(|_| None).collect();
    let first = instantiate(compiled, none, execute, stats, &mut events, log)?;
    let Some(first) = first else {
        return Ok(events);
    };
    let mut weak = vec![Arc::downgrade(&first)];
    if execute {
        exercise(&first, 0..2, stats, &mut events, log)?;
        inspect(&first, stats, &mut events)?;
        let imports = linked_imports(&module, &first);
        if imports.iter().any(Option::is_some) {
            // B gets code of its own, so that what it leaves behind points to freed code.
            let compiled = compile_module(bytes, other)
                .map_err(|e| finding("second compilation failed", e.to_string()))?;
            stats.linked += 1;
            if log {
                eprintln!("second instance, linked to the first");
            }
            let second = instantiate(compiled, imports, execute, stats, &mut events, log)?;
            if let Some(second) = second {
                weak.push(Arc::downgrade(&second));
                exercise(&second, 0..2, stats, &mut events, log)?;
                inspect(&second, stats, &mut events)?;
            }
            events.push(Event::Survivor);
            let survived = exercise(&first, 1..2, stats, &mut events, log)
                .and_then(|()| inspect(&first, stats, &mut events));
            survived?;
        }
    }
    drop(first);
    drop(store);
    if weak.iter().any(|w| w.strong_count() > 0) {
        return Err(finding(
            "instance still alive after its last handle was dropped",
            format!(
                "{} of {} instances leaked",
                weak.iter().filter(|w| w.strong_count() > 0).count(),
                weak.len()
            ),
        ));
    }
    Ok(events)
}

fn tier_name(tier: Tier) -> &'static str {
    tier.as_str()
}

/// The tier a module's results are compared with: the single-pass and baseline tiers against
/// the optimizing one, the optimizing tier against the baseline.
fn other_tier(tier: Tier) -> Tier {
    match tier {
        Tier::Singlepass | Tier::Baseline => Tier::Optimized,
        Tier::Optimized => Tier::Baseline,
    }
}

/// Compiles `bytes` for `tier`, checking the result against `valid`. Ok(None) when the module
/// is invalid or uses something the engine does not support.
fn compile_checked(
    bytes: &[u8],
    tier: Tier,
    valid: bool,
    stats: &mut Stats,
    log: bool,
) -> Result<Option<Arc<CompiledModule>>, Finding> {
    let began = Instant::now();
    // The baseline runs go through lazy compilation (every function compiled by its first
    // call, through the lazy stubs) with baseline code that charges tier-up budgets; half of
    // them also tier up eagerly in the background, so code is swapped while it runs.
    let result = match tier {
        // The single-pass tier likewise (what it does not cover falls back to the baseline).
        Tier::Singlepass | Tier::Baseline => {
            let options = compiler::CompileOptions {
                lazy: true,
                first_tier: tier,
                tier_up: if bytes.len() % 2 == 0 { compiler::TierUp::Dynamic } else { compiler::TierUp::Eager },
                threads: 1,
                interrupt_checks: true,
                fuel: false,
                bounds_checks: false,
            };
            compiler::compile_with_options(bytes, options).and_then(|c| c.code)
        }
        Tier::Optimized => compile_module(bytes, tier),
    };
    if log {
        eprintln!("compile ({}): {:?}", tier_name(tier), began.elapsed());
    }
    match result {
        Ok(compiled) => {
            if !valid {
                return Err(finding(
                    "compile_module accepted an invalid module",
                    tier_name(tier),
                ));
            }
            stats.compiled += 1;
            Ok(Some(compiled))
        }
        Err(e) => {
            if log {
                eprintln!("compile ({}): {e}", tier_name(tier));
            }
            if !valid {
                return Ok(None);
            }
            // Every other kind is a finding: an engine bug (`Internal`), or validation and
            // compilation disagreeing on the module (`Invalid`).
            let what = match e.kind {
                ErrorKind::Unsupported => {
                    stats.unsupported += 1;
                    return Ok(None);
                }
                ErrorKind::Internal => "compile_module failed on a valid module (engine bug)",
                ErrorKind::Invalid => "compile_module rejected a valid module as invalid",
            };
            Err(finding(what, format!("{}: {e}", tier_name(tier))))
        }
    }
}

/// Runs the checks on one input. Panics propagate to the caller.
pub fn run_one(
    bytes: &[u8],
    tier: Tier,
    execute: bool,
    differential: bool,
    stats: &mut Stats,
    log: bool,
) -> Result<(), Finding> {
    let engine_valid = cranewasm_engine::validate(bytes);
    let validate_with = |features| {
        wasmparser::Validator::new_with_features(features)
            .validate_all(bytes)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let parser_valid = validate_with(compiler::features());
    // The engine validates with wasmparser's GC feature for recursion groups and subtyping, but
    // refuses what needs a GC runtime: a module valid without GC must be accepted, one invalid
    // with it refused, and one that only GC makes valid may go either way.
    let needs_gc = parser_valid.is_ok()
        && validate_with(compiler::features().difference(wasmparser::WasmFeatures::GC)).is_err();
    if log {
        eprintln!("validate: engine {engine_valid}, wasmparser {parser_valid:?}, needs GC {needs_gc}");
    }
    if engine_valid != parser_valid.is_ok() && !(needs_gc && !engine_valid) {
        return Err(finding(
            "validate disagrees with wasmparser",
            format!("engine {engine_valid}, wasmparser {parser_valid:?}"),
        ));
    }
    if engine_valid {
        stats.valid += 1;
    } else {
        stats.invalid += 1;
    }
    let Some(compiled) = compile_checked(bytes, tier, engine_valid, stats, log)? else {
        return Ok(());
    };
    let other = other_tier(tier);
    let events = run_module(compiled, bytes, other, execute, stats, log)?;
    if differential && execute {
        let Some(compiled) = compile_checked(bytes, other, engine_valid, stats, log)? else {
            return Err(finding(
                "compiles for one tier only",
                tier_name(tier).to_string(),
            ));
        };
        let other_events = run_module(compiled, bytes, tier, execute, stats, log)?;
        stats.differential += 1;
        // Stack overflow happens at different depths on the two tiers (frame sizes differ), and
        // what follows depends on where it happened: compare up to the first one.
        let overflow = |e: &Event| {
            matches!(
                e,
                Event::Start(Err(TrapKind::StackOverflow))
                    | Event::Call(_, _, Err(TrapKind::StackOverflow))
            )
        };
        let comparable =
            |events: &[Event]| events.iter().position(overflow).unwrap_or(events.len());
        let n = comparable(&events).min(comparable(&other_events));
        let overflowed = n < events.len() || n < other_events.len();
        let (a, b) = if overflowed {
            (&events[..n], &other_events[..n])
        } else {
            (&events[..], &other_events[..])
        };
        if a != b {
            let first = a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(n);
            return Err(finding(
                "tiers disagree",
                format!(
                    "event #{first}: {}: {:x?}\n{}: {:x?}",
                    tier_name(tier),
                    a.get(first),
                    tier_name(other),
                    b.get(first)
                ),
            ));
        }
    }
    Ok(())
}

// ---- Crash handling -------------------------------------------------------------------------

/// What the watchdog and the panic hook know about the input being run.
struct Current {
    /// Milliseconds since `EPOCH` when the input started, plus one; 0 when idle.
    started: AtomicU64,
    /// The process's CPU time in milliseconds when the input started.
    cpu_started: AtomicU64,
    path: Mutex<PathBuf>,
    /// The message of the last panic (set by the hook, taken by the loop).
    panic: Mutex<Option<String>>,
    quiet_panics: AtomicBool,
}

fn current() -> &'static Current {
    static CURRENT: OnceLock<Current> = OnceLock::new();
    CURRENT.get_or_init(|| Current {
        started: AtomicU64::new(0),
        cpu_started: AtomicU64::new(0),
        path: Mutex::new(PathBuf::new()),
        panic: Mutex::new(None),
        quiet_panics: AtomicBool::new(true),
    })
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    epoch().elapsed().as_millis() as u64 + 1
}

/// The process's CPU time (user and system, every thread) in milliseconds, from
/// /proc/self/stat (clock ticks of 10 ms, x86-64 Linux's USER_HZ); 0 where it cannot be read.
fn cpu_ms() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0 };
    // The fields after the command name, which is in parentheses and may hold spaces: state is
    // the first of them, utime the 12th and stime the 13th.
    let Some(rest) = stat.rsplit_once(") ").map(|(_, rest)| rest) else { return 0 };
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    (ticks(11) + ticks(12)) * 10
}

/// Marks the start of an input for the watchdog.
fn input_started() {
    current().cpu_started.store(cpu_ms(), Ordering::Relaxed);
    current().started.store(now_ms(), Ordering::Relaxed);
}

fn unix_time() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn install_hooks() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        epoch();
        let default_hook = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let message = format!(
                "{} at {}",
                info.payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(non-string payload)".into()),
                info.location()
                    .map(|l| l.to_string())
                    .unwrap_or_else(|| "?".into())
            );
            let state = current();
            let path = state.path.lock().unwrap_or_else(|e| e.into_inner()).clone();
            // One line always: a panic in an `extern "C"` frame aborts right after this hook.
            eprintln!("panic: {message} (input: {})", path.display());
            if !state.quiet_panics.load(Ordering::Relaxed) {
                default_hook(info);
            }
            *state.panic.lock().unwrap_or_else(|e| e.into_inner()) = Some(message);
        }));
        std::thread::Builder::new()
            .name("fuzz-watchdog".into())
            .spawn(|| loop {
                std::thread::sleep(Duration::from_millis(250));
                let state = current();
                let started = state.started.load(Ordering::Relaxed);
                let hung = started != 0 && {
                    let wall = now_ms().saturating_sub(started);
                    let cpu = cpu_ms().saturating_sub(state.cpu_started.load(Ordering::Relaxed));
                    // A late read of `started` may pair with an older `cpu_started`: only
                    // inputs that have run a second in wall time are judged by CPU time.
                    (wall > 1000 && cpu > HANG_LIMIT.as_millis() as u64)
                        || wall > HANG_WALL_LIMIT.as_millis() as u64
                };
                if hung {
                    let path = state.path.lock().unwrap_or_else(|e| e.into_inner()).clone();
                    let saved = path.with_file_name(format!("hang-{}.wasm", unix_time()));
                    let _ = std::fs::copy(&path, &saved);
                    eprintln!(
                        "watchdog: one input took more than {} s of CPU time or {} s in all; it is saved as {} (and {})",
                        HANG_LIMIT.as_secs(),
                        HANG_WALL_LIMIT.as_secs(),
                        saved.display(),
                        path.display()
                    );
                    std::process::abort();
                }
            })
            .expect("spawn the watchdog");
    });
}

// ---- The loop -------------------------------------------------------------------------------

pub struct Options {
    pub seconds: f64,
    pub seed: u64,
    pub crash_dir: PathBuf,
    /// Print a summary every this often (None: only at the end).
    pub report_every: Option<Duration>,
    /// Keep the extreme shapes small: for the quick test, which may run unoptimized.
    pub light: bool,
    /// Compile every input for this tier (compared with `other_tier`'s results), instead of
    /// the tiers in turn.
    pub tier: Option<Tier>,
}

/// Saves `bytes` as `<dir>/<prefix>-<n>.wasm` with a `.txt` note; returns the path.
fn save(dir: &Path, prefix: &str, bytes: &[u8], note: &str) -> PathBuf {
    let mut n = 0;
    loop {
        let path = dir.join(format!("{prefix}-{n}.wasm"));
        if !path.exists() {
            let _ = std::fs::write(&path, bytes);
            let _ = std::fs::write(path.with_extension("txt"), note);
            return path;
        }
        n += 1;
    }
}

/// Runs the driver until `options.seconds` have passed; returns the statistics.
pub fn run(options: &Options) -> Stats {
    install_hooks();
    let dir = &options.crash_dir;
    std::fs::create_dir_all(dir).expect("create the crash directory");
    let current_path = dir.join("current.wasm");
    if current_path.exists() {
        let died = dir.join(format!("died-{}.wasm", unix_time()));
        let _ = std::fs::rename(&current_path, &died);
        eprintln!(
            "note: {} was left by a run that died; renamed to {}",
            current_path.display(),
            died.display()
        );
    }
    *current().path.lock().unwrap_or_else(|e| e.into_inner()) = current_path.clone();

    let mut stats = Stats::default();
    let mut rng = Rng::new(options.seed);
    let start = Instant::now();
    let deadline = Duration::from_secs_f64(options.seconds);
    let mut last_report = Instant::now();
    let mut last_written: Vec<u8> = Vec::new();
    // Findings and panics already saved, by key, so a frequent one does not fill the disk.
    let mut seen: HashMap<String, u32> = HashMap::new();
    while start.elapsed() < deadline {
        let generated = panic::catch_unwind(AssertUnwindSafe(|| generate(&mut rng, options.light)));
        let Ok((input, generated)) = generated else {
            // wasm-smith itself panicked (not the engine): note it and go on.
            stats.smith_failed += 1;
            eprintln!(
                "generator panicked (seed {}, input #{})",
                options.seed,
                stats.inputs + 1
            );
            continue;
        };
        if !generated {
            stats.smith_failed += 1;
        }
        stats.inputs += 1;
        stats.input_bytes += input.bytes.len() as u64;
        *stats.by_kind.entry(input.kind.name()).or_default() += 1;
        let tier = options.tier.unwrap_or(Tier::ALL[stats.inputs as usize % Tier::COUNT]);
        if input.bytes != last_written {
            std::fs::write(&current_path, &input.bytes).expect("write current.wasm");
            last_written.clone_from(&input.bytes);
        }
        input_started();
        let began = Instant::now();
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
            run_one(
                &input.bytes,
                tier,
                input.execute,
                input.differential,
                &mut stats,
                false,
            )
        }));
        current().started.store(0, Ordering::Relaxed);
        let took = began.elapsed().as_secs_f64();
        if took > stats.slowest.0 {
            stats.slowest = (took, input.kind.name(), stats.inputs);
        }
        let note = |what: &str| {
            format!(
                "{what}\nkind {}, tier {}, execute {}, differential {}, seed {}, input #{}\n",
                input.kind.name(),
                tier_name(tier),
                input.execute,
                input.differential,
                options.seed,
                stats.inputs
            )
        };
        let (key, prefix, text) = match outcome {
            Ok(Ok(())) => (None, "", String::new()),
            Ok(Err(f)) if f.known => {
                stats.known += 1;
                let text = note(&format!("known: {}\n{}", f.key, f.detail));
                (Some(f.key), "known", text)
            }
            Ok(Err(f)) => {
                stats.findings += 1;
                let text = note(&format!("{}\n{}", f.key, f.detail));
                (Some(f.key), "finding", text)
            }
            Err(_) => {
                stats.panics += 1;
                stats.findings += 1;
                let message = current()
                    .panic
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take()
                    .unwrap_or_default();
                let text = note(&format!("panic: {message}"));
                (Some(message), "panic", text)
            }
        };
        if let Some(key) = key {
            let count = seen.entry(key).or_default();
            *count += 1;
            if *count <= 3 {
                let path = save(dir, prefix, &input.bytes, &text);
                eprintln!(
                    "{prefix}: {} -> {}",
                    text.lines().next().unwrap_or(""),
                    path.display()
                );
            }
        }
        if let Some(every) = options.report_every {
            if last_report.elapsed() >= every {
                eprintln!("{}", stats.summary(start.elapsed()));
                last_report = Instant::now();
            }
        }
    }
    let _ = std::fs::remove_file(&current_path);
    stats
}

/// Reruns one saved input on both tiers, executing it, with a log of what happened.
pub fn replay(path: &Path) -> Result<Stats, String> {
    install_hooks();
    current().quiet_panics.store(false, Ordering::Relaxed);
    *current().path.lock().unwrap_or_else(|e| e.into_inner()) = path.to_path_buf();
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut stats = Stats::default();
    let mut failed = Vec::new();
    for tier in Tier::ALL {
        eprintln!("== {} ==", tier_name(tier));
        input_started();
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
            run_one(
                &bytes,
                tier,
                true,
                tier == Tier::Optimized,
                &mut stats,
                true,
            )
        }));
        current().started.store(0, Ordering::Relaxed);
        match outcome {
            Ok(Ok(())) => eprintln!("ok"),
            Ok(Err(f)) => {
                let known = if f.known { " (known)" } else { "" };
                eprintln!("FINDING{known}: {}\n{}", f.key, f.detail);
                failed.push(f.key);
            }
            Err(_) => {
                eprintln!("PANIC");
                failed.push("panic".into());
            }
        }
    }
    if failed.is_empty() {
        Ok(stats)
    } else {
        Err(failed.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_runs_clean_for_five_seconds() {
        let dir = std::env::temp_dir().join(format!("cranewasm-fuzz-test-{}", std::process::id()));
        let stats = run(&Options {
            seconds: 5.0,
            seed: 0x5eed,
            crash_dir: dir.clone(),
            report_every: None,
            light: true,
            tier: None,
        });
        eprintln!("{}", stats.summary(Duration::from_secs(5)));
        if stats.findings == 0 {
            let _ = std::fs::remove_dir_all(&dir);
        }
        assert!(stats.inputs > 0);
        assert!(stats.compiled > 0, "some inputs compiled");
        assert_eq!(stats.findings, 0, "see the saved inputs named above");
    }

    #[test]
    fn shapes_are_valid() {
        let mut rng = Rng::new(11);
        for _ in 0..100 {
            let bytes = shapes_module(&mut rng, false);
            wasmparser::Validator::new_with_features(compiler::features())
                .validate_all(&bytes)
                .unwrap();
        }
    }

    #[test]
    fn generation_is_reproducible() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..20 {
            assert_eq!(
                generate(&mut a, false).0.bytes,
                generate(&mut b, false).0.bytes
            );
        }
    }
}

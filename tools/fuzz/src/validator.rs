//! `cranewasm-fuzz --validator`: the engine's validation fast path (compiler/fast_validation.rs)
//! against wasmparser's validator, body by body. The modules are wasm-smith's, mostly of the
//! operators the fast path covers (numbers, locals, globals, memory 0, blocks and branches,
//! calls) and now and then of others (reference types, SIMD, memory64, tail calls,
//! exceptions), with LEBs of every width; each is checked as generated and then with edits:
//! random bytes, and opcodes and immediates the fast path reads written over the code. A body
//! the fast path finds valid and wasmparser does not is a finding (saved as
//! `validator-<n>.wasm` in the crash directory). Thousands of modules a second.

use std::path::Path;
use std::time::{Duration, Instant};

use super::{mutate, save, Rng};

#[derive(Default, Debug)]
pub struct ValidatorStats {
    pub modules: u64,
    pub bodies: u64,
    /// Bodies wasmparser finds valid, and those of them the fast path took.
    pub valid: u64,
    pub fast_valid: u64,
    pub invalid: u64,
    pub findings: u64,
}

impl ValidatorStats {
    pub fn summary(&self, elapsed: Duration) -> String {
        format!(
            "{:.0} s: {} modules, {} bodies: {} valid ({} taken by the fast path), {} invalid; {} findings",
            elapsed.as_secs_f64(),
            self.modules,
            self.bodies,
            self.valid,
            self.fast_valid,
            self.invalid,
            self.findings
        )
    }
}

fn config(rng: &mut Rng) -> wasm_smith::Config {
    let others = rng.one_in(4);
    wasm_smith::Config {
        multi_value_enabled: true,
        // Bulk memory brings table and segment operators the fast path leaves to wasmparser.
        bulk_memory_enabled: others || rng.one_in(2),
        reference_types_enabled: others && rng.one_in(2),
        sign_extension_ops_enabled: true,
        saturating_float_to_int_enabled: true,
        simd_enabled: others && rng.one_in(3),
        relaxed_simd_enabled: false,
        threads_enabled: false,
        shared_everything_threads_enabled: false,
        exceptions_enabled: others && rng.one_in(3),
        gc_enabled: false,
        memory64_enabled: others && rng.one_in(3),
        tail_call_enabled: others && rng.one_in(3),
        wide_arithmetic_enabled: false,
        extended_const_enabled: false,
        custom_page_sizes_enabled: false,
        compact_imports_enabled: false,
        custom_descriptors_enabled: false,
        max_memories: if others && rng.one_in(2) { 2 } else { 1 },
        max_tables: rng.range(1, 3) as usize,
        min_funcs: 2,
        max_funcs: rng.range(2, 12) as usize,
        max_imports: rng.range(0, 6) as usize,
        max_instructions: rng.range(5, 400) as usize,
        max_nesting_depth: rng.range(1, 10) as usize,
        max_data_segments: 2,
        max_element_segments: 2,
        min_uleb_size: if rng.one_in(6) { rng.range(1, 5) as u8 } else { 1 },
        ..wasm_smith::Config::default()
    }
}

/// Opcodes (and a few immediates) the fast path reads, to write over code bytes.
const OPCODES: [u8; 30] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x1a, 0x1b,
    0x20, 0x21, 0x22, 0x23, 0x24, 0x28, 0x36, 0x3f, 0x40, 0x41, 0x42, 0x7f, 0x7e, 0xfc, 0x80,
];

/// The offset of the code section's contents in `bytes`, when it has one.
fn code_section(bytes: &[u8]) -> Option<std::ops::Range<usize>> {
    wasmparser::Parser::new(0).parse_all(bytes).find_map(|payload| match payload {
        Ok(wasmparser::Payload::CodeSectionStart { unchecked_range, .. }) => {
            let end = (unchecked_range.end as usize).min(bytes.len());
            Some(unchecked_range.start as usize..end)
        }
        _ => None,
    })
}

/// Writes over one to three bytes of the code section: opcodes, or numeric operators.
fn mutate_code(rng: &mut Rng, bytes: &mut [u8], code: &std::ops::Range<usize>) {
    if code.len() < 2 {
        return;
    }
    for _ in 0..rng.range(1, 4) {
        let at = rng.range(code.start as u64 + 1, code.end as u64 - 1) as usize;
        bytes[at] = if rng.one_in(3) {
            rng.range(0x45, 0xc4) as u8
        } else {
            OPCODES[rng.below(OPCODES.len() as u64) as usize]
        };
    }
}

fn check(bytes: &[u8], stats: &mut ValidatorStats, crash_dir: &Path) {
    stats.modules += 1;
    for (i, (quick, full)) in cranewasm_engine::compiler::fast_validation_verdicts(bytes).into_iter().enumerate() {
        stats.bodies += 1;
        stats.valid += full as u64;
        stats.invalid += !full as u64;
        stats.fast_valid += quick as u64;
        if quick && !full {
            stats.findings += 1;
            let note = format!("body #{i}: the fast path found it valid, wasmparser did not");
            let path = save(crash_dir, "validator", bytes, &note);
            eprintln!("finding: {note}: {}", path.display());
        }
    }
}

/// Runs for `seconds`; returns the statistics.
pub fn run_validator(seconds: f64, seed: u64, crash_dir: &Path, report_every: Option<Duration>) -> ValidatorStats {
    std::fs::create_dir_all(crash_dir).expect("create the crash directory");
    let mut rng = Rng::new(seed);
    let mut stats = ValidatorStats::default();
    let start = Instant::now();
    let mut last_report = Instant::now();
    let deadline = Duration::from_secs_f64(seconds);
    while start.elapsed() < deadline {
        let config = config(&mut rng);
        let len = rng.range(1024, 32 * 1024) as usize;
        let data = rng.bytes(len);
        let mut u = arbitrary::Unstructured::new(&data);
        let Ok(module) = wasm_smith::Module::new(config, &mut u) else {
            continue;
        };
        let bytes = module.to_bytes();
        check(&bytes, &mut stats, crash_dir);
        // Edits are for function bodies: a module without any gets none.
        let Some(code) = code_section(&bytes) else {
            continue;
        };
        let code = Some(code);
        for _ in 0..8 {
            let mut edited = bytes.clone();
            match &code {
                Some(code) if !rng.one_in(4) => mutate_code(&mut rng, &mut edited, code),
                _ => mutate(&mut rng, &mut edited),
            }
            check(&edited, &mut stats, crash_dir);
        }
        if report_every.is_some_and(|every| last_report.elapsed() >= every) {
            eprintln!("{}", stats.summary(start.elapsed()));
            last_report = Instant::now();
        }
    }
    stats
}

#[cfg(test)]
mod tests {
    /// A second of the driver: bodies of both verdicts, the fast path taking some, no finding.
    #[test]
    fn a_short_run_finds_nothing() {
        let dir = std::env::temp_dir().join(format!("cranewasm-fuzz-validator-{}", std::process::id()));
        let stats = super::run_validator(1.0, 7, &dir, None);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(stats.findings, 0, "{stats:?}");
        assert!(stats.fast_valid > 100 && stats.invalid > 100, "{stats:?}");
    }
}

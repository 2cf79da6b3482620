//! From tools/: `cargo run --release -p cranewasm-fuzz -- --seconds N [--seed S] [--crash-dir DIR] [--tier T]`
//! (`--tier singlepass|baseline|optimized`: every input at that tier, compared with the
//! optimized tier, or with the baseline for `optimized`; without it the tiers take turns)
//! From tools/: `cargo run --release -p cranewasm-fuzz -- --validator --seconds N [--seed S]`: the
//! validation fast path against wasmparser's validator, body by body (src/validator.rs)
//! From tools/: `cargo run --release -p cranewasm-fuzz -- --replay FILE`
//! `cranewasm-fuzz --emit-v8 N --seed S`: writes N modules for the differential fuzzer against
//! V8 (tools/fuzz-v8.js) to stdout, each as its length (u32, little-endian) and its bytes, then
//! the length and text of its JSON description (`cranewasm_fuzz::describe`).
//!
//! See the library's documentation for what is checked.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

fn usage() -> ExitCode {
    eprintln!(
        "usage: cranewasm-fuzz --seconds N [--seed S] [--crash-dir DIR] [--tier T | --validator]\n       \
         cranewasm-fuzz --replay FILE\n       \
         cranewasm-fuzz --emit-v8 N [--seed S]"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut seconds = None;
    let mut seed = None;
    let mut crash_dir = PathBuf::from("fuzz-crashes");
    let mut replay = None;
    let mut emit = None;
    let mut tier = None;
    let mut validator = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next();
        match arg.as_str() {
            "--seconds" => match value().and_then(|v| v.parse::<f64>().ok()) {
                Some(v) if v >= 0.0 => seconds = Some(v),
                _ => return usage(),
            },
            "--seed" => match value().and_then(|v| parse_u64(&v)) {
                Some(v) => seed = Some(v),
                None => return usage(),
            },
            "--crash-dir" => match value() {
                Some(v) => crash_dir = PathBuf::from(v),
                None => return usage(),
            },
            "--emit-v8" => match value().and_then(|v| v.parse::<u64>().ok()) {
                Some(v) => emit = Some(v),
                None => return usage(),
            },
            "--tier" => match value().as_deref().and_then(cranewasm_engine::compiler::codegen::Tier::parse) {
                Some(t) => tier = Some(t),
                None => return usage(),
            },
            "--validator" => validator = true,
            "--replay" => match value() {
                Some(v) => replay = Some(PathBuf::from(v)),
                None => return usage(),
            },
            "-h" | "--help" => {
                usage();
                return ExitCode::SUCCESS;
            }
            _ => return usage(),
        }
    }
    if let Some(count) = emit {
        return emit_v8(count, seed.unwrap_or(1));
    }
    if let Some(path) = replay {
        return match cranewasm_fuzz::replay(&path) {
            Ok(stats) => {
                eprintln!("{}", stats.summary(Duration::from_secs(1)));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("replay found: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let Some(seconds) = seconds else {
        return usage();
    };
    let seed = seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    if validator {
        eprintln!("cranewasm-fuzz --validator: seed {seed}, {seconds} s, crash dir {}", crash_dir.display());
        let start = Instant::now();
        let stats = cranewasm_fuzz::run_validator(seconds, seed, &crash_dir, Some(Duration::from_secs(30)));
        eprintln!("done (seed {seed})\n{}", stats.summary(start.elapsed()));
        return if stats.findings == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    }
    eprintln!(
        "cranewasm-fuzz: seed {seed}, {seconds} s, crash dir {}, tier {}",
        crash_dir.display(),
        tier.map_or("each in turn", |t| t.as_str())
    );
    let start = Instant::now();
    let stats = cranewasm_fuzz::run(&cranewasm_fuzz::Options {
        seconds,
        seed,
        crash_dir,
        report_every: Some(Duration::from_secs(10)),
        light: false,
        tier,
    });
    eprintln!("done (seed {seed})\n{}", stats.summary(start.elapsed()));
    if stats.findings == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `--emit-v8`: `count` modules, framed, on stdout (a closed pipe ends the stream quietly).
fn emit_v8(count: u64, seed: u64) -> ExitCode {
    use std::io::Write;
    let mut rng = cranewasm_fuzz::Rng::new(seed);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut written = 0;
    while written < count {
        let Some(bytes) = cranewasm_fuzz::v8_module(&mut rng, 2_000) else {
            continue;
        };
        let Some(description) = cranewasm_fuzz::describe(&bytes) else {
            continue;
        };
        let mut frame = Vec::with_capacity(bytes.len() + description.len() + 8);
        frame.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        frame.extend_from_slice(&bytes);
        frame.extend_from_slice(&(description.len() as u32).to_le_bytes());
        frame.extend_from_slice(description.as_bytes());
        if out.write_all(&frame).and_then(|_| out.flush()).is_err() {
            break;
        }
        written += 1;
    }
    ExitCode::SUCCESS
}

fn parse_u64(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

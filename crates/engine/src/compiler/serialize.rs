//! A module's machine code as bytes, and back (`cranewasm/engine`'s `serialize` and
//! `deserialize`, and the persistent code cache): the module's wasm bytes and the code each
//! compiled function runs now, at whatever tier it has reached.
//!
//! **What in generated code depends on where it runs.** Nothing that placement changes:
//! `codegen::compile_function` refuses any relocation Cranelift reports (none is ever produced:
//! `is_pic` is off and the translator emits no symbol references). Calls between functions go
//! through the code table whose address the callee's vmctx holds, libcalls through the builtins
//! table in the vmctx, imports through `(code, vmctx)` pairs in the vmctx; the only absolute
//! address baked into code (`ThrowHost`'s, in exit trampolines) is in trampolines, which are
//! never serialized (they are generated per signature in each process). What code does depend
//! on is fixed by the engine build (vmctx offsets, libcall slots, trap codes, the translator,
//! Cranelift's version and flags), by the CPU features Cranelift was allowed to use, by the
//! compile options that change code generation, and by the module itself (its index spaces and
//! types: canonical type ids are read from the vmctx). The format carries each of them and
//! refuses a mismatch; the module is re-decoded and validated from the wasm bytes it carries
//! (validation is much cheaper than compiling), so its metadata is this process's own. (The
//! persistent cache decodes without validating: see [`deserialize_cached`].)
//!
//! **Reading fast** (a warm start of a large module): the cache maps its entry rather than
//! reading it; trap sites and source ranges are decoded in bulk; the code is one image laid out
//! as code memory places it, which the cache maps from the entry's file as executable pages
//! (`code_memory::publish_mapped`: no allocation, zeroing or copy of tens of MB) and other
//! inputs copy once, into code memory; the source ranges move there without a copy; the
//! checksum is BLAKE3, whose SIMD code hashes a 50 MB entry in ~10 ms (SHA-256 with the CPU's
//! SHA extensions took ~40 ms).
//!
//! **Format** (little-endian):
//!
//! | field            | contents                                                            |
//! |------------------|---------------------------------------------------------------------|
//! | magic            | `\0cranewc` (8 bytes)                                               |
//! | version          | u32, [`VERSION`]                                                    |
//! | build id         | 32 bytes: `ENGINE_BUILD_ID` (build.rs)                           |
//! | CPU features     | u32 length + the ISA flags the code may use (`has_avx,has_sse41,…`) |
//! | options          | 5 bytes: first tier, tier-up policy, interrupt checks, fuel, bounds checks |
//! | wasm features    | u64: `compiler::features()` bits                                    |
//! | wasm             | u64 length, the BLAKE3 of the module's bytes (32 bytes), the bytes   |
//! | functions        | u32: defined function count; u32: entries; per entry: defined index (u32), tier (u8), code length (u32), trap sites (u32 count; offset u32, kind u8), source ranges (u32 count; start u32, wasm offset u32), exception sites (u32 count; return offset u32, frame offset u32, u32 handlers; kind u8, two u32) |
//! | code image       | u64 length; zeros up to the next multiple of 64 KiB of the bytes when the image is 256 KiB or more; the entries' code in entry order, each at the next multiple of 16 bytes (`code_memory::layout`), zeros between |
//! | checksum         | 32 bytes: BLAKE3 of everything before it but the module's bytes (what is before them, then what is after them) |
//!
//! Reading checks the magic and the version, then the checksum and the hash of the wasm bytes
//! (a truncated or damaged input fails here, and that error wins; the persistent cache compares
//! the wasm bytes with those it compiles instead of hashing them, a third of a large entry),
//! while, at the same time on the compile pool, it checks the
//! build id, the CPU features, the options and the wasm features, decodes every field with
//! bounds checks (a well-formed checksum over bad fields is still an error, never a panic) and
//! decodes the module; code is placed only after all of it held. The bytes are code: the checksum detects damage, not malice, so
//! serialized modules must come from a trusted place (as Wasmtime says of its `.cwasm` files).

use std::sync::Arc;

use super::codegen::isa;
use super::options::{CompileOptions, TierUp};
use super::tier::Tier;
use super::tiering::{CachedCode, CompiledModule};
use super::Compilation;
use crate::code_info::{ExceptionHandler, ExceptionSite, SourceRange, TrapSite};
use crate::runtime::code_memory;
use crate::runtime::mapped_file::MappedFile;
use crate::trap::TrapKind;

/// The first bytes of every serialized module.
pub const MAGIC: [u8; 8] = *b"\0cranewc";
/// The layout's version: changed whenever the layout changes.
pub const VERSION: u32 = 3;
const CHECKSUM: usize = 32;

/// The engine build's id: a SHA-256 of its sources, lock file, target and profile (build.rs).
pub fn build_id() -> [u8; 32] {
    let hex = env!("ENGINE_BUILD_ID").as_bytes();
    let mut id = [0u8; 32];
    for (i, byte) in id.iter_mut().enumerate() {
        let digit = |c: u8| (c as char).to_digit(16).expect("build.rs writes hex digits") as u8;
        *byte = digit(hex[2 * i]) << 4 | digit(hex[2 * i + 1]);
    }
    id
}

/// [`build_id`] as hex (for messages and cache keys).
pub fn build_id_hex() -> &'static str {
    env!("ENGINE_BUILD_ID")
}

/// A BLAKE3 hash of `parts`, each prefixed by its length.
pub fn hash(parts: &[&[u8]]) -> [u8; 32] {
    let mut hash = blake3::Hasher::new();
    for part in parts {
        hash.update(&(part.len() as u64).to_le_bytes());
        hash.update(part);
    }
    hash.finalize().into()
}

/// The ISA flags generated code may rely on in this process (every boolean flag Cranelift
/// detected on this CPU and enabled), sorted, comma-separated.
pub fn cpu_features() -> String {
    let mut enabled: Vec<&str> = isa(Tier::Baseline)
        .isa_flags()
        .iter()
        .filter(|v| v.as_bool() == Some(true))
        .map(|v| v.name)
        .collect();
    enabled.sort_unstable();
    enabled.join(",")
}

/// The compile options that change generated code, as the format stores them. Laziness and
/// the thread count do not change code; the first tier and the tier-up policy do (baseline
/// code that will be replaced keeps locals in stack slots and counts its calls).
pub fn codegen_options(options: &CompileOptions) -> [u8; 5] {
    [
        options.first_tier as u8,
        match options.tier_up {
            TierUp::Off => 0,
            TierUp::Eager => 1,
            TierUp::Dynamic => 2,
        },
        options.interrupt_checks as u8,
        options.fuel as u8,
        options.bounds_checks as u8,
    ]
}

fn describe_options(o: &[u8]) -> String {
    let tier = Tier::ALL.get(o[0] as usize).map_or("?", |t| t.as_str());
    let policy = ["off", "eager", "dynamic"].get(o[1] as usize).copied().unwrap_or("?");
    format!(
        "firstTier '{tier}', tierUp '{policy}', interruptChecks {}, fuel {}, boundsChecks {}",
        o[2] != 0,
        o[3] != 0,
        o[4] != 0
    )
}

/// Why serialized bytes were refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Not a serialized cranewasm module (no magic) or of another format version.
    Format,
    /// Truncated or damaged: the checksum or a field does not check out.
    Corrupt,
    /// Made by another build of the engine.
    Build,
    /// Relies on CPU features this machine lacks.
    Cpu,
    /// Compiled with compile options (or wasm features) other than this process's.
    Options,
}

impl ErrorKind {
    /// Its name in `DeserializeError.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Format => "format",
            ErrorKind::Corrupt => "corrupt",
            ErrorKind::Build => "build",
            ErrorKind::Cpu => "cpu",
            ErrorKind::Options => "options",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeserializeError {
    pub kind: ErrorKind,
    pub message: String,
}

impl std::fmt::Display for DeserializeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn error(kind: ErrorKind, message: impl Into<String>) -> DeserializeError {
    DeserializeError { kind, message: message.into() }
}

fn corrupt(what: &str) -> DeserializeError {
    error(ErrorKind::Corrupt, format!("the serialized module is damaged ({what})"))
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }
}

/// `compiled`'s module and the code each of its functions runs now: the best code so far, by
/// function (functions not compiled yet are left out).
pub fn serialize(compiled: &CompiledModule) -> Vec<u8> {
    let module = &compiled.module;
    let snapshot = compiled.snapshot();
    let functions: Vec<(u32, Tier, code_memory::PlacedFunction)> = snapshot
        .iter()
        .enumerate()
        .filter_map(|(i, entry)| {
            let (tier, address) = (*entry)?;
            Some((i as u32, tier, code_memory::placed_function(address)?))
        })
        .collect();
    let (offsets, image_len) = code_memory::layout(functions.iter().map(|(_, _, f)| f.code.len()));
    let records: usize = functions.iter().map(|(_, _, f)| 64 + 5 * f.traps.len() + 8 * f.sources.len()).sum();
    let mut w = Writer(Vec::with_capacity(module.bytes.len() + records + image_len + code_memory::MAP_ALIGN + 256));
    w.bytes(&MAGIC);
    w.u32(VERSION);
    w.bytes(&build_id());
    let cpu = cpu_features();
    w.u32(cpu.len() as u32);
    w.bytes(cpu.as_bytes());
    w.bytes(&codegen_options(&compiled.options));
    w.u64(super::features().bits() as u64);
    w.u64(module.bytes.len() as u64);
    w.bytes(blake3::hash(&module.bytes).as_bytes());
    let wasm_start = w.0.len();
    w.bytes(&module.bytes);
    let wasm_end = w.0.len();
    w.u32(snapshot.len() as u32);
    w.u32(functions.len() as u32);
    for (defined, tier, f) in &functions {
        w.u32(*defined);
        w.u8(*tier as u8);
        w.u32(f.code.len() as u32);
        w.u32(f.traps.len() as u32);
        for t in &f.traps {
            w.u32(t.offset);
            w.u8(trap_index(t.kind));
        }
        w.u32(f.sources.len() as u32);
        for s in &f.sources {
            w.u32(s.start);
            w.u32(s.wasm_offset);
        }
        w.u32(f.exception_sites.len() as u32);
        for site in &f.exception_sites {
            w.u32(site.return_offset);
            w.u32(site.frame_offset);
            w.u32(site.handlers.len() as u32);
            for h in site.handlers.iter() {
                let (kind, a, b) = match *h {
                    ExceptionHandler::Tag { tag, target } => (0, tag, target),
                    ExceptionHandler::Default { target } => (1, target, 0),
                    ExceptionHandler::Context { sp_offset } => (2, sp_offset, 0),
                };
                w.u8(kind);
                w.u32(a);
                w.u32(b);
            }
        }
    }
    // The code image: every function's code where `code_memory::publish` would place it; a
    // large one at an offset of the output that is a multiple of `MAP_ALIGN` (a file holding
    // these bytes can be mapped as code: `code_memory::publish_mapped`).
    w.u64(image_len as u64);
    w.0.resize(image_start(w.0.len(), image_len), 0);
    let image = w.0.len();
    w.0.resize(image + image_len, 0);
    for ((_, _, f), offset) in functions.iter().zip(&offsets) {
        w.0[image + offset..image + offset + f.code.len()].copy_from_slice(&f.code);
    }
    let checksum = content_checksum(&w.0, wasm_start..wasm_end);
    w.bytes(checksum.as_bytes());
    w.0
}

/// Where a code image of `len` bytes starts when what precedes it ends at `at`: at the next
/// multiple of `MAP_ALIGN` if the image is large enough to be mapped, else at once.
fn image_start(at: usize, len: usize) -> usize {
    if len >= code_memory::MAP_AT_LEAST {
        at.next_multiple_of(code_memory::MAP_ALIGN)
    } else {
        at
    }
}

fn trap_index(kind: TrapKind) -> u8 {
    TrapKind::ALL.iter().position(|k| *k == kind).expect("every trap kind is in ALL") as u8
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], DeserializeError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or_else(|| corrupt(what))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }
    fn u8(&mut self, what: &str) -> Result<u8, DeserializeError> {
        Ok(self.take(1, what)?[0])
    }
    fn u32(&mut self, what: &str) -> Result<u32, DeserializeError> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into().expect("4 bytes")))
    }
    fn u64(&mut self, what: &str) -> Result<u64, DeserializeError> {
        Ok(u64::from_le_bytes(self.take(8, what)?.try_into().expect("8 bytes")))
    }
    /// A count of items of at least `item` bytes each, checked against what is left.
    fn count(&mut self, item: usize, what: &str) -> Result<usize, DeserializeError> {
        let n = self.u32(what)? as usize;
        if n.saturating_mul(item) > self.bytes.len() - self.at {
            return Err(corrupt(what));
        }
        Ok(n)
    }
}

/// What the header of serialized bytes says, checked against this process.
struct Header<'a> {
    wasm: &'a [u8],
    body: Reader<'a>,
}

/// Checks the magic, version, checksum, build, CPU, options and features of `bytes` against
/// this process compiling with `options`, and returns the wasm bytes and the reader at the
/// function table.
/// Checks the magic and the version: what can be told before the checksum.
fn check_format(bytes: &[u8]) -> Result<(), DeserializeError> {
    if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
        return Err(error(
            ErrorKind::Format,
            "the bytes are not a serialized cranewasm module (no cranewasm magic at their start)",
        ));
    }
    if bytes.len() < MAGIC.len() + 4 + CHECKSUM {
        return Err(corrupt("truncated"));
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != VERSION {
        return Err(error(
            ErrorKind::Format,
            format!("the serialized module has format version {version}; this build of cranewasm reads version {VERSION}"),
        ));
    }
    Ok(())
}

/// The checksum of `content` (all that precedes it) without the wasm bytes at `wasm`: BLAKE3
/// of what is before them and what is after them, one after the other. On the compile pool's
/// threads when the caller is on it: each takes chunks of the tree as it is free.
fn content_checksum(content: &[u8], wasm: std::ops::Range<usize>) -> blake3::Hash {
    let mut hash = blake3::Hasher::new();
    hash.update_rayon(&content[..wasm.start]);
    hash.update_rayon(&content[wasm.end..]);
    hash.finalize()
}

/// Where the BLAKE3 of the wasm bytes and the wasm bytes are in `content` (bounds-checked).
fn wasm_span(content: &[u8]) -> Result<(usize, std::ops::Range<usize>), DeserializeError> {
    let mut r = Reader { bytes: content, at: MAGIC.len() + 4 + 32 };
    let cpu = r.count(1, "CPU features")?;
    r.take(cpu + 5, "CPU features")?;
    r.u64("wasm features")?;
    let len = usize::try_from(r.u64("wasm length")?).map_err(|_| corrupt("wasm length"))?;
    let hash = r.at;
    r.take(CHECKSUM, "wasm hash")?;
    let start = r.at;
    r.take(len, "wasm bytes")?;
    Ok((hash, start..start + len))
}

/// Checks the checksum of `bytes` (whose format [`check_format`] accepted), and the hash of the
/// wasm bytes if `wasm_too` (the checksum leaves them out: the persistent cache compares them
/// with the bytes being compiled instead, which costs less than hashing them).
fn check_checksum(bytes: &[u8], wasm_too: bool) -> Result<(), DeserializeError> {
    let (content, checksum) = bytes.split_at(bytes.len() - CHECKSUM);
    let damaged = || corrupt("its checksum does not match: truncated or altered");
    let (hash, wasm) = wasm_span(content).map_err(|_| damaged())?;
    // `blake3::Hash`'s comparison is constant-time; speed, not secrecy, matters here.
    if content_checksum(content, wasm.clone()).as_bytes() != checksum {
        return Err(damaged());
    }
    if wasm_too && blake3::Hasher::new().update_rayon(&content[wasm]).finalize().as_bytes() != &content[hash..hash + CHECKSUM] {
        return Err(damaged());
    }
    Ok(())
}

/// Checks the build, CPU, options and features recorded in `bytes` (format checked; the
/// checksum is checked apart, maybe at the same time: every read here is bounds-checked) and
/// returns the wasm bytes and the reader at the function records.
fn header<'a>(bytes: &'a [u8], options: &CompileOptions) -> Result<Header<'a>, DeserializeError> {
    let content = &bytes[..bytes.len() - CHECKSUM];
    let mut r = Reader { bytes: content, at: 12 };
    let build = r.take(32, "build id")?;
    if build != build_id() {
        let hex: String = build.iter().map(|b| format!("{b:02x}")).collect();
        return Err(error(
            ErrorKind::Build,
            format!(
                "the module was serialized by another build of cranewasm (build {}…, this is build {}…)",
                &hex[..12],
                &build_id_hex()[..12]
            ),
        ));
    }
    let cpu_len = r.count(1, "CPU features")?;
    let cpu = std::str::from_utf8(r.take(cpu_len, "CPU features")?).map_err(|_| corrupt("CPU features"))?;
    let here = cpu_features();
    let missing: Vec<&str> = cpu
        .split(',')
        .filter(|f| !f.is_empty() && !here.split(',').any(|h| h == *f))
        .collect();
    if !missing.is_empty() {
        return Err(error(
            ErrorKind::Cpu,
            format!(
                "the module's code relies on CPU features this machine lacks: {}",
                missing.join(", ")
            ),
        ));
    }
    let stored = r.take(5, "options")?;
    let wanted = codegen_options(options);
    if stored != wanted {
        return Err(error(
            ErrorKind::Options,
            format!(
                "the module was serialized with compile options {{ {} }}; this process compiles with {{ {} }}",
                describe_options(stored),
                describe_options(&wanted)
            ),
        ));
    }
    let features = r.u64("wasm features")?;
    if features != super::features().bits() as u64 {
        return Err(error(
            ErrorKind::Options,
            format!(
                "the module was serialized with wasm features {features:#x}; this build enables {:#x}",
                super::features().bits()
            ),
        ));
    }
    let wasm_len = r.u64("wasm length")?;
    let wasm_len = usize::try_from(wasm_len).map_err(|_| corrupt("wasm length"))?;
    r.take(CHECKSUM, "wasm hash")?;
    let wasm = r.take(wasm_len, "wasm bytes")?;
    Ok(Header { wasm, body: r })
}

/// Where the wasm bytes of serialized `bytes` are, if they have the format of this build
/// (nothing else is checked: the persistent cache compares these bytes with those being
/// compiled, on the JS thread, before reading further on a worker thread).
pub fn wasm_range(bytes: &[u8]) -> Result<std::ops::Range<usize>, DeserializeError> {
    check_format(bytes)?;
    Ok(wasm_span(&bytes[..bytes.len() - CHECKSUM])?.1)
}

/// The module serialized in `bytes`, with its cached code installed, for a process compiling
/// with `options` (its laziness applies to the functions not in `bytes`; the options that
/// change code must be those the code was compiled with). Decodes and validates the module's
/// wasm bytes; compiles nothing that was cached.
pub fn deserialize(bytes: &[u8], options: CompileOptions) -> Result<Compilation, DeserializeError> {
    deserialize_with(bytes, None, options, None)
}

/// The persistent cache's [`deserialize`]: the entry must hold exactly `wasm` (the bytes being
/// compiled; anything else is an error of kind `Corrupt`), and their function bodies are not
/// validated again. That is sound for the cache alone: an entry is written only for a module
/// that compiled (so validated) in a process of this very build (the build id), its checksum
/// proves it unchanged since, and the directory is trusted as the code in it is. The sections
/// are decoded without wasmparser's validator (`decode::decode_module_trusted`) to rebuild the
/// module's metadata; every read is still bounds-checked. The entry's code image is mapped
/// from its file as code (`code_memory::publish_mapped`), not copied, where it can be.
pub fn deserialize_cached(entry: &MappedFile, options: CompileOptions, wasm: &[u8]) -> Result<Compilation, DeserializeError> {
    deserialize_with(entry, Some(entry.file()), options, Some(wasm))
}

/// `file`: the file whose bytes `bytes` are (mapped), to map the code image from.
fn deserialize_with(
    bytes: &[u8],
    file: Option<&std::fs::File>,
    options: CompileOptions,
    expected: Option<&[u8]>,
) -> Result<Compilation, DeserializeError> {
    check_format(bytes)?;
    // The checksum (BLAKE3 of the whole: ~0.2 ms per MB) is checked while the rest is read and
    // the module decoded; that work is bounds-checked throughout, and nothing read is used
    // (no code is placed) before the checksum has held. A checksum failure is the error
    // reported, whatever else went wrong.
    let (checked, read) = super::options::on_pool(|| {
        rayon::join(|| check_checksum(bytes, expected.is_none()), || read_module(bytes, &options, expected))
    });
    checked?;
    let (module, cached, image, count) = read?;
    if module.bodies.len() != count {
        return Err(corrupt("function count"));
    }
    // A function at the top tier never gets other code; below it only with tier-up on. The
    // single-pass tier's fallback is baseline code.
    let fallback = |tier: Tier| tier == Tier::Baseline && options.first_tier == Tier::Singlepass;
    for function in cached.iter().flatten() {
        if function.tier != Tier::TOP && function.tier != options.first_tier && !fallback(function.tier) {
            return Err(corrupt("tier"));
        }
    }
    let image = file.map(|file| code_memory::FileImage {
        file,
        // Within `bytes`: `image` was taken from it.
        offset: (image.as_ptr() as usize - bytes.as_ptr() as usize) as u64,
        len: image.len(),
    });
    let code = CompiledModule::build_with_code(module.clone(), Vec::new(), cached, image, options);
    Ok(Compilation { module, code })
}

type Cached<'a> = Vec<Option<CachedCode<'a>>>;

/// What [`read_module`] read: the module, its cached functions, their code image, and the
/// defined function count the records give.
type ReadModule<'a> = (Arc<crate::module::Module>, Cached<'a>, &'a [u8], usize);

/// The header's checks, the module decoded from the wasm bytes, and the function records.
fn read_module<'a>(
    bytes: &'a [u8],
    options: &CompileOptions,
    expected: Option<&[u8]>,
) -> Result<ReadModule<'a>, DeserializeError> {
    let Header { wasm, mut body } = header(bytes, options)?;
    // (Not compared when they are the very bytes: the cache found the entry by comparing them.)
    if expected.is_some_and(|e| !std::ptr::eq(e, wasm) && e != wasm) {
        return Err(corrupt("it holds another module"));
    }
    let count = body.u32("function count")? as usize;
    // Every function has a body of at least one byte.
    if count > wasm.len() {
        return Err(corrupt("function count"));
    }
    // The code is this engine's (checked above), but the module's metadata is made anew here:
    // decoding (and validating) the wasm bytes gives the same module the code was compiled for.
    // Both halves run at once on the compile pool.
    let decode = || match expected {
        None => super::options::on_pool(|| super::decode_and_validate(wasm, super::features())),
        Some(_) => super::decode_trusted(wasm, super::features()),
    };
    let (module, cached) = rayon::join(decode, || read_functions(wasm, body, count));
    let (cached, image) = cached?;
    let module = module.map_err(|e| corrupt(&format!("its wasm bytes do not compile: {e}")))?;
    Ok((module, cached, image, count))
}

/// The function records that follow the header: `count` defined functions' code by index.
fn read_functions<'a>(wasm: &[u8], mut body: Reader<'a>, count: usize) -> Result<(Cached<'a>, &'a [u8]), DeserializeError> {
    let entries = body.count(9, "function entries")?;
    let mut cached: Cached<'a> = (0..count).map(|_| None).collect();
    // The code lengths in record order (the image's order), by defined index.
    let mut lens: Vec<(usize, usize)> = Vec::with_capacity(entries);
    for _ in 0..entries {
        let defined = body.u32("function index")? as usize;
        if defined >= count || cached[defined].is_some() {
            return Err(corrupt("function index"));
        }
        let tier = *Tier::ALL.get(body.u8("tier")? as usize).ok_or_else(|| corrupt("tier"))?;
        let len = body.count(1, "code length")?;
        lens.push((defined, len));
        let within = |offset: u32| (offset as usize) < len;
        // Trap sites and source ranges (most of the records: millions for a large module) are
        // taken as one slice each and decoded in bulk.
        let n = body.count(5, "trap sites")?;
        let raw = body.take(n * 5, "trap sites")?;
        let mut traps = Vec::with_capacity(n);
        for record in raw.chunks_exact(5) {
            let offset = u32::from_le_bytes(record[..4].try_into().expect("4 bytes"));
            let kind = *TrapKind::ALL.get(record[4] as usize).ok_or_else(|| corrupt("trap kind"))?;
            if !within(offset) || traps.last().is_some_and(|t: &TrapSite| t.offset >= offset) {
                return Err(corrupt("trap site"));
            }
            traps.push(TrapSite { offset, kind });
        }
        let n = body.count(8, "source ranges")?;
        let raw = body.take(n * 8, "source ranges")?;
        let mut sources = Vec::with_capacity(n);
        for record in raw.chunks_exact(8) {
            let start = u32::from_le_bytes(record[..4].try_into().expect("4 bytes"));
            let wasm_offset = u32::from_le_bytes(record[4..].try_into().expect("4 bytes"));
            if !within(start) || wasm_offset as usize >= wasm.len() || sources.last().is_some_and(|s: &SourceRange| s.start > start) {
                return Err(corrupt("source range"));
            }
            sources.push(SourceRange { start, wasm_offset });
        }
        let n = body.count(12, "exception sites")?;
        let mut exception_sites = Vec::with_capacity(n);
        for _ in 0..n {
            let return_offset = body.u32("exception site")?;
            let frame_offset = body.u32("exception site")?;
            let h = body.count(9, "exception handlers")?;
            let mut handlers = Vec::with_capacity(h);
            for _ in 0..h {
                let kind = body.u8("exception handler")?;
                let a = body.u32("exception handler")?;
                let b = body.u32("exception handler")?;
                handlers.push(match kind {
                    0 if within(b) => ExceptionHandler::Tag { tag: a, target: b },
                    1 if within(a) => ExceptionHandler::Default { target: a },
                    2 => ExceptionHandler::Context { sp_offset: a },
                    _ => return Err(corrupt("exception handler")),
                });
            }
            if return_offset as usize > len
                || exception_sites.last().is_some_and(|s: &ExceptionSite| s.return_offset >= return_offset)
            {
                return Err(corrupt("exception site"));
            }
            exception_sites.push(ExceptionSite { return_offset, frame_offset, handlers: handlers.into() });
        }
        // Which settings made the code is not in the format (yet): cached code reports none
        // cheaper. The code is borrowed from the image below, then mapped or copied once.
        cached[defined] = Some(CachedCode { tier, code: &[], traps, sources, exception_sites });
    }
    let image_len = usize::try_from(body.u64("code image length")?).map_err(|_| corrupt("code image length"))?;
    let (offsets, laid_out) = code_memory::layout(lens.iter().map(|&(_, len)| len));
    if image_len != laid_out {
        return Err(corrupt("code image length"));
    }
    // Where the image starts (`serialize`): the padding is in `body`'s bytes, which start
    // where the serialized bytes do.
    body.take(image_start(body.at, image_len) - body.at, "code image")?;
    let image = body.take(image_len, "code image")?;
    for (&(defined, len), offset) in lens.iter().zip(offsets) {
        if let Some(c) = cached[defined].as_mut() {
            c.code = &image[offset..offset + len];
        }
    }
    if body.at != body.bytes.len() {
        return Err(corrupt("trailing bytes"));
    }
    Ok((cached, image))
}

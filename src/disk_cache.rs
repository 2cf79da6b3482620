//! The persistent code cache (`CRANEWASM_CACHE=<dir>`, `cranewasm/engine`'s
//! `setCacheDirectory(dir, { maxSize })`; off by default, as Node's compile cache).
//!
//! - **Entries** are `compiler::serialize`'s format, one file per module and codegen key:
//!   `<dir>/<blake3(build id, codegen options, wasm features, wasm bytes)>.cwasm` (the first
//!   40 hex digits). Engine builds sharing a directory use different names, so they never read
//!   each other's entries; a hit is confirmed by comparing the wasm bytes the entry carries.
//! - **Reading**: a compile of bytes that missed the in-process cache (`module_cache`) maps
//!   the entry (`MappedFile`: no copy) and deserializes it (checksum, build, CPU, options; the
//!   wasm bytes are decoded, not validated again): its functions start with the code they had,
//!   top-tier code included. A damaged or
//!   unusable entry is ignored (counted as `damaged`) and rewritten by this process.
//! - **Writing**: every module compiled or loaded with the cache on is tracked (weakly). A
//!   writer thread looks every [`TICK`] and rewrites a module's entry once its code changed and
//!   then stayed unchanged for a tick (tier-up, debounced), or after [`MAX_DIRTY`] of continuous
//!   change; [`flush`] (process exit) writes what is left, synchronously and bounded by
//!   [`FLUSH_BUDGET`]. A write goes to a temporary file in the directory and is renamed over
//!   the entry (atomic), so concurrent processes never see a partial entry; the last writer wins.
//! - **Size**: after each write, entries (oldest modification time first; a hit touches its
//!   entry) are removed until the directory's entries fit `maxSize` (default 1 GiB): an LRU.
//! - **Failures**: a directory that cannot be created or written (read-only, full, no
//!   permission) stops writing for the process with one warning (`take_warning`); compiles go
//!   on, reading what entries there are.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::{Duration, Instant, SystemTime};

use cranewasm_engine as engine;
use engine::compiler::serialize;
use engine::compiler::{Compilation, CompileOptions, CompiledModule};

/// How often the writer thread looks at the tracked modules.
const TICK: Duration = Duration::from_millis(500);
/// A module whose code keeps changing is written at least this often.
const MAX_DIRTY: Duration = Duration::from_secs(5);
/// What the exit flush may take in all.
const FLUSH_BUDGET: Duration = Duration::from_secs(2);
/// The default size bound of a cache directory.
pub const DEFAULT_MAX_SIZE: u64 = 1 << 30;
const EXTENSION: &str = "cwasm";
const TEMP_PREFIX: &str = ".tmp-";

#[derive(Clone)]
struct Config {
    dir: PathBuf,
    max_size: u64,
}

fn config() -> &'static RwLock<Option<Config>> {
    static CONFIG: OnceLock<RwLock<Option<Config>>> = OnceLock::new();
    CONFIG.get_or_init(|| {
        // The environment's setting (index.js has checked the variables when it was loaded).
        let dir = std::env::var("CRANEWASM_CACHE").ok().filter(|d| !d.trim().is_empty());
        let max_size = std::env::var("CRANEWASM_CACHE_SIZE")
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .filter(|&n| n > 0)
            .unwrap_or(DEFAULT_MAX_SIZE);
        RwLock::new(dir.map(|d| Config { dir: PathBuf::from(d.trim()), max_size }))
    })
}

fn current() -> Option<Config> {
    config().read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Sets the cache directory (`None`: off) and its size bound.
pub(crate) fn set_directory(dir: Option<String>, max_size: u64) {
    *config().write().unwrap_or_else(|e| e.into_inner()) = dir.map(|d| Config { dir: PathBuf::from(d), max_size });
    // A new directory gets its own chance to be writable.
    WRITES_OFF.store(false, Ordering::Release);
}

/// The directory and size bound in use, if the cache is on.
pub(crate) fn directory() -> Option<(String, u64)> {
    current().map(|c| (c.dir.to_string_lossy().into_owned(), c.max_size))
}

#[derive(Default)]
pub(crate) struct Stats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub damaged: AtomicU64,
    pub writes: AtomicU64,
    pub evictions: AtomicU64,
    pub failures: AtomicU64,
}

pub(crate) fn stats() -> &'static Stats {
    static STATS: OnceLock<Stats> = OnceLock::new();
    STATS.get_or_init(Default::default)
}

/// Writing stopped after a failure (until the directory is set again).
static WRITES_OFF: AtomicBool = AtomicBool::new(false);
static WARNED: AtomicBool = AtomicBool::new(false);
static WARNING: Mutex<Option<String>> = Mutex::new(None);

fn fail(dir: &Path, what: &str, error: &std::io::Error) {
    stats().failures.fetch_add(1, Ordering::Relaxed);
    WRITES_OFF.store(true, Ordering::Release);
    if !WARNED.swap(true, Ordering::AcqRel) {
        *WARNING.lock().unwrap_or_else(|e| e.into_inner()) = Some(format!(
            "cranewasm: the code cache directory {} cannot be used ({what}: {error}); modules compile without it",
            dir.display()
        ));
    }
}

/// The warning of the first failure, once per process.
pub(crate) fn take_warning() -> Option<String> {
    WARNING.lock().unwrap_or_else(|e| e.into_inner()).take()
}

/// The hash of a module's bytes that names its entry, and that the in-process module cache
/// keys on too (`module_cache`: one pass over the bytes serves both): a fixed-seed foldhash (a
/// cryptographic hash of a large module takes several times longer). It only picks the entry
/// (or the bucket), and a hit is confirmed by comparing the bytes, so a collision costs a miss
/// or a comparison, never wrong code.
pub(crate) fn content_hash(bytes: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    foldhash::quality::FixedState::with_seed(0x6372_616e_6577_6173).hash_one(bytes)
}

/// Where the entry of `bytes` (whose [`content_hash`] is `content`) compiled with `options` lives.
fn entry_path(dir: &Path, bytes: &[u8], content: u64, options: &CompileOptions) -> PathBuf {
    let key = serialize::hash(&[
        &serialize::build_id(),
        &serialize::codegen_options(options),
        &(engine::compiler::features().bits() as u64).to_le_bytes(),
        &(bytes.len() as u64).to_le_bytes(),
        &content.to_le_bytes(),
    ]);
    let hex: String = key[..20].iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("{hex}.{EXTENSION}"))
}

/// The cache's entry for a compile: where it is written.
pub(crate) struct Entry {
    path: PathBuf,
}

/// Looks `bytes` up in the cache directory, if the cache is on. `Some((entry, Some(code)))` on a
/// hit; `Some((entry, None))` when the module must be compiled (and tracked for writing).
/// `content` is the bytes' [`content_hash`].
pub(crate) fn load(bytes: &[u8], content: u64, options: CompileOptions) -> Option<(Entry, Option<Compilation>)> {
    let config = current()?;
    let path = entry_path(&config.dir, bytes, content, &options);
    // Mapped, not read: see `MappedFile`.
    let data = match engine::runtime::mapped_file::MappedFile::open(&path) {
        Ok(data) => data,
        Err(_) => {
            stats().misses.fetch_add(1, Ordering::Relaxed);
            return Some((Entry { path }, None));
        }
    };
    let compilation = loaded(&path, serialize::deserialize_cached(&data, options, bytes).ok());
    Some((Entry { path }, compilation))
}

/// An entry found for bytes being compiled (mapped; the wasm bytes it holds are equal to
/// them, compared when it was found), not read further yet: [`load_probe`] does that.
pub(crate) struct Probe {
    path: PathBuf,
    data: engine::runtime::mapped_file::MappedFile,
    wasm: std::ops::Range<usize>,
}

impl Probe {
    /// The wasm bytes the entry holds: those it was found for.
    pub(crate) fn wasm(&self) -> &[u8] {
        &self.data[self.wasm.clone()]
    }
}

/// The entry for `bytes` (whose [`content_hash`] is `content`), if the cache is on and has
/// one holding exactly these bytes. Cheap next to copying the bytes (one mapping and one
/// comparison of the bytes; the checksum and the rest are [`load_probe`]'s, on a worker
/// thread): for `compile()` on the JS thread. Counts nothing; a compile that finds no entry
/// here goes through [`load`], which counts it.
pub(crate) fn probe(bytes: &[u8], content: u64, options: CompileOptions) -> Option<Probe> {
    let config = current()?;
    let path = entry_path(&config.dir, bytes, content, &options);
    // Not populated: this thread reads only the wasm bytes; the rest is read on a worker.
    let data = engine::runtime::mapped_file::MappedFile::open_lazily(&path).ok()?;
    // Where the header says the wasm bytes are (bounds-checked; the rest is checked later).
    let wasm = serialize::wasm_range(&data).ok()?;
    (data[wasm.clone()] == *bytes).then_some(Probe { path, data, wasm })
}

/// [`load`] from a probed entry: its module with the entry's code, or `None` when the entry
/// is damaged or unusable (counted as such; the bytes must then be compiled).
pub(crate) fn load_probe(probe: &Probe, options: CompileOptions) -> (Entry, Option<Compilation>) {
    let compilation = serialize::deserialize_cached(&probe.data, options, probe.wasm()).ok();
    (Entry { path: probe.path.clone() }, loaded(&probe.path, compilation))
}

/// Counts a read of the entry at `path` as a hit (touching it) or as damaged.
fn loaded(path: &Path, compilation: Option<Compilation>) -> Option<Compilation> {
    match compilation {
        Some(c) if c.code.is_ok() => {
            stats().hits.fetch_add(1, Ordering::Relaxed);
            // Recently used: last to be evicted.
            if let Ok(file) = fs::File::options().append(true).open(path) {
                let _ = file.set_modified(SystemTime::now());
            }
            Some(c)
        }
        _ => {
            // Damaged or unusable: ignored, and rewritten once this process has code for it.
            stats().damaged.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

struct Tracked {
    module: Weak<CompiledModule>,
    path: PathBuf,
    /// The code generation last written (`None`: the entry is missing or stale).
    written: Option<u64>,
    /// The generation seen at the last tick, and since when the code is unwritten.
    seen: u64,
    dirty_since: Option<Instant>,
}

fn tracked() -> &'static Mutex<Vec<Tracked>> {
    static TRACKED: Mutex<Vec<Tracked>> = Mutex::new(Vec::new());
    &TRACKED
}

/// Keeps `module`'s entry current from now on. `loaded`: it was just read from the entry.
pub(crate) fn track(module: &Arc<CompiledModule>, entry: Entry, loaded: bool) {
    let generation = module.generation();
    {
        let mut list = tracked().lock().unwrap_or_else(|e| e.into_inner());
        list.retain(|t| t.module.strong_count() > 0);
        if list.iter().any(|t| std::ptr::eq(t.module.as_ptr(), Arc::as_ptr(module))) {
            return;
        }
        list.push(Tracked {
            module: Arc::downgrade(module),
            path: entry.path,
            written: loaded.then_some(generation),
            seen: generation,
            dirty_since: None,
        });
    }
    start_writer();
}

fn start_writer() {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        let _ = std::thread::Builder::new()
            .name("cranewasm-cache".into())
            .spawn(|| {
                // Below the JS thread, as the compile threads are.
                engine::runtime::lower_thread_priority();
                loop {
                    std::thread::sleep(TICK);
                    if EXITING.load(Ordering::Acquire) {
                        return;
                    }
                    tick(false);
                }
            });
    });
}

/// Whether `module` has code worth writing (some function is compiled).
fn has_code(module: &CompiledModule) -> bool {
    let status = module.status();
    status.uncompiled < status.functions
}

/// Writes the entries whose modules changed: those quiet for a tick or dirty for too long, or
/// every changed one (`all`, at exit, within [`FLUSH_BUDGET`]).
fn tick(all: bool) {
    // One tick at a time: the exit flush waits for a write the writer thread has under way
    // (it marked that generation written; were the flush to skip it and the process exit
    // mid-write, the entry would keep older code).
    static TICKING: Mutex<()> = Mutex::new(());
    let _ticking = TICKING.lock().unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let due: Vec<(Arc<CompiledModule>, PathBuf)> = {
        let mut list = tracked().lock().unwrap_or_else(|e| e.into_inner());
        list.retain(|t| t.module.strong_count() > 0);
        let now = Instant::now();
        let mut due = Vec::new();
        for t in list.iter_mut() {
            let Some(module) = t.module.upgrade() else { continue };
            let generation = module.generation();
            if t.written == Some(generation) || !has_code(&module) {
                t.seen = generation;
                continue;
            }
            let since = *t.dirty_since.get_or_insert(now);
            let quiet = generation == t.seen;
            t.seen = generation;
            if all || quiet || now.duration_since(since) >= MAX_DIRTY {
                // Marked written before writing: a failure turns writing off altogether.
                t.written = Some(generation);
                t.dirty_since = None;
                due.push((module, t.path.clone()));
            }
        }
        due
    };
    for (module, path) in due {
        if all && started.elapsed() > FLUSH_BUDGET {
            break;
        }
        write(&module, &path);
    }
}

/// The process is exiting: the writer thread stops, [`flush`] writes what is left.
static EXITING: AtomicBool = AtomicBool::new(false);

/// Writes what is left to write (process exit: synchronous, bounded).
pub(crate) fn flush() {
    EXITING.store(true, Ordering::Release);
    if current().is_some() {
        tick(true);
    }
}

fn write(module: &CompiledModule, path: &Path) {
    if WRITES_OFF.load(Ordering::Acquire) {
        return;
    }
    let Some(config) = current() else { return };
    let dir = &config.dir;
    // The directory may have been changed since the module was tracked.
    if path.parent() != Some(dir.as_path()) {
        return;
    }
    if let Err(e) = fs::create_dir_all(dir) {
        return fail(dir, "cannot create it", &e);
    }
    let bytes = serialize::serialize(module);
    static SERIAL: AtomicU64 = AtomicU64::new(0);
    let temp = dir.join(format!(
        "{TEMP_PREFIX}{}-{}",
        std::process::id(),
        SERIAL.fetch_add(1, Ordering::Relaxed)
    ));
    let written = fs::File::create_new(&temp).and_then(|mut file| file.write_all(&bytes));
    if let Err(e) = written.and_then(|_| fs::rename(&temp, path)) {
        let _ = fs::remove_file(&temp);
        return fail(dir, "cannot write an entry", &e);
    }
    stats().writes.fetch_add(1, Ordering::Relaxed);
    evict(dir, config.max_size, path);
}

/// Removes the least recently used entries until the directory's entries fit `max_size`
/// (`keep`, just written, goes last), and temporary files that writers left behind long ago.
fn evict(dir: &Path, max_size: u64, keep: &Path) {
    let Ok(listing) = fs::read_dir(dir) else { return };
    let now = SystemTime::now();
    let mut entries: Vec<(SystemTime, u64, PathBuf)> = Vec::new();
    for item in listing.flatten() {
        let path = item.path();
        let Ok(meta) = item.metadata() else { continue };
        let modified = meta.modified().unwrap_or(now);
        let name = item.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(TEMP_PREFIX) {
            if now.duration_since(modified).unwrap_or_default() > Duration::from_secs(3600) {
                let _ = fs::remove_file(&path);
            }
            continue;
        }
        if path.extension().is_some_and(|e| e == EXTENSION) && meta.is_file() {
            entries.push((modified, meta.len(), path));
        }
    }
    let mut total: u64 = entries.iter().map(|e| e.1).sum();
    if total <= max_size {
        return;
    }
    entries.sort_by_key(|(modified, _, path)| (path == keep, *modified));
    for (_, len, path) in entries {
        if total <= max_size {
            break;
        }
        if fs::remove_file(&path).is_ok() {
            stats().evictions.fetch_add(1, Ordering::Relaxed);
        }
        total = total.saturating_sub(len);
    }
}

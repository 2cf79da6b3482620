//! Executable memory for generated code. All code lives in one address range reserved at first
//! use, so the trap handler can tell "this PC is ours" with two compares and no lock (it runs in
//! a signal handler).
//!
//! The range is a shared memory object (`memfd`) mapped twice: read-execute where code runs, and
//! read-write at another address where the compiler writes. No page is ever writable and
//! executable in the same mapping, and no page's protection ever changes, so code can be placed
//! beside code that other threads are running: functions compiled lazily or by a later tier
//! are published one at a time, packed at 16-byte granularity, without flipping protections
//! (which would fault a thread executing on the same page).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::code_info::{ExceptionHandler, ExceptionSite, SourceRange, TrapSite};
use crate::tier::Tier;
use crate::module::Module;
use crate::trap::TrapKind;

/// Address space reserved for code (twice: both views). Only what is used is ever committed.
const CODE_REGION_SIZE: usize = 1 << 30;

/// Blocks at least this large have their pages populated at once when allocated.
const POPULATE_AT_LEAST: usize = 1 << 20;

/// Granularity and alignment of code allocations.
const ALIGN: usize = 16;

/// Start and end of the code region's executable view, read by the signal handler.
static REGION_START: AtomicUsize = AtomicUsize::new(0);
static REGION_END: AtomicUsize = AtomicUsize::new(0);

struct Region {
    /// Start of the executable view.
    start: usize,
    /// Distance from an executable address to the writable address of the same byte.
    write_delta: usize,
    /// Free ranges (executable start -> length), coalesced on free.
    free: BTreeMap<usize, usize>,
    /// Published code blocks by start address, with their trap tables.
    published: BTreeMap<usize, Arc<CodeInfo>>,
    /// The shared memory object behind both views (`None` for [`map_anonymous_views`]): kept
    /// to map it back where a block mapped from a file was ([`publish_mapped`]).
    memfd: Option<std::os::fd::OwnedFd>,
}

/// What the trap handler needs to know about one block of code after a fault in it.
#[derive(Debug)]
struct CodeInfo {
    len: usize,
    /// Trap sites with offsets relative to the block's start, sorted.
    traps: Vec<TrapSite>,
    /// Where each function of the block starts (offsets, sorted); empty for blocks that hold
    /// no compiled functions (dispatch blocks).
    functions: Vec<u32>,
    /// Each function's length in bytes, parallel to `functions`.
    lens: Vec<u32>,
    /// What each function is, parallel to `functions`: for stack traces.
    symbols: Vec<Option<WasmSymbol>>,
    /// Call sites with exception handlers, offsets relative to the block's start, sorted by
    /// return offset: for the unwinder (`runtime::exceptions`).
    exception_sites: Vec<ExceptionSite>,
}

/// Which wasm function a placed function is, with its map from code to wasm offsets.
#[derive(Debug)]
struct WasmSymbol {
    module: Arc<Module>,
    index: u32,
    /// Offsets relative to the function's start, sorted.
    sources: Vec<SourceRange>,
}

/// What a function placed in code memory is, for stack traces and profilers.
#[derive(Clone)]
pub enum Symbol {
    /// Function `index` (of the function index space) of `module`, compiled for `tier`.
    Wasm { module: Arc<Module>, index: u32, tier: Tier },
    /// Code of the engine's own (trampolines).
    Engine(&'static str),
}

/// A wasm frame: function `index` of `module`, at byte `offset` of the module.
#[derive(Clone, Debug)]
pub struct WasmFrame {
    pub module: Arc<Module>,
    pub index: u32,
    pub offset: u32,
}

/// The wasm frame of `pc`, if `pc` lies in a published wasm function. `return_address` says
/// that `pc` is where a call returns to, so the frame is at the call (the byte before it).
/// Not for signal handlers (it locks).
pub fn wasm_frame(pc: usize, return_address: bool) -> Option<WasmFrame> {
    let pc = if return_address { pc.checked_sub(1)? } else { pc };
    let region = lock().ok()?;
    let (start, info) = region.published.range(..=pc).next_back()?;
    let offset = u32::try_from(pc - start).ok()?;
    if offset as usize >= info.len {
        return None;
    }
    let function = info.functions.partition_point(|&f| f <= offset).checked_sub(1)?;
    let symbol = info.symbols.get(function)?.as_ref()?;
    let within = offset - info.functions[function];
    let sources = &symbol.sources;
    // The range holding `within`; code outside every range (the prologue, spills between
    // instructions) belongs to the range before it, or to the first one.
    let at = sources.partition_point(|r| r.start <= within);
    let range = at.checked_sub(1).map_or(sources.first(), |i| sources.get(i));
    let mut wasm_offset = range.map_or(0, |r| r.wasm_offset);
    // The prologue's stack check is at no instruction of the body: V8 reports the start of
    // the function's body (its local declarations) for it.
    let stack_check = !return_address
        && info
            .traps
            .binary_search_by_key(&offset, |t| t.offset)
            .is_ok_and(|i| info.traps[i].kind == TrapKind::StackOverflow);
    if stack_check {
        let module = &symbol.module;
        let first = symbol
            .index
            .checked_sub(module.num_imported_functions)
            .and_then(|defined| module.bodies.get(defined as usize))
            .map(|body| body.start);
        if let Some(first) = first {
            wasm_offset = u32::try_from(first).unwrap_or(wasm_offset);
        }
    }
    Some(WasmFrame {
        module: symbol.module.clone(),
        index: symbol.index,
        offset: wasm_offset,
    })
}

fn region() -> Result<&'static Mutex<Region>, String> {
    static REGION: OnceLock<Result<Mutex<Region>, String>> = OnceLock::new();
    REGION
        .get_or_init(|| {
            let (start, write, memfd) = map_views()?;
            REGION_START.store(start, Ordering::Release);
            REGION_END.store(start + CODE_REGION_SIZE, Ordering::Release);
            let mut free = BTreeMap::new();
            free.insert(start, CODE_REGION_SIZE);
            Ok(Mutex::new(Region {
                start,
                write_delta: write.wrapping_sub(start),
                free,
                published: BTreeMap::new(),
                memfd,
            }))
        })
        .as_ref()
        .map_err(Clone::clone)
}

fn lock() -> Result<std::sync::MutexGuard<'static, Region>, String> {
    Ok(region()?.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Creates the shared memory object and maps it twice: (executable view, writable view, the
/// object's descriptor).
fn map_views() -> Result<(usize, usize, Option<std::os::fd::OwnedFd>), String> {
    use std::os::fd::FromRawFd;
    let error = |what: &str| format!("cannot set up code memory ({what}: {})", std::io::Error::last_os_error());
    if super::frames::perf_map_enabled() {
        return map_anonymous_views().map(|(exec, write)| (exec, write, None)).map_err(error);
    }
    // SAFETY: plain system calls on a file descriptor we create and own; the name is a valid
    // NUL-terminated string; every result is checked.
    unsafe {
        let fd = libc::memfd_create(c"cranewasm-code".as_ptr(), libc::MFD_CLOEXEC);
        if fd < 0 {
            return Err(error("memfd_create"));
        }
        if libc::ftruncate(fd, CODE_REGION_SIZE as libc::off_t) != 0 {
            libc::close(fd);
            return Err(error("ftruncate"));
        }
        let map = |protection| {
            libc::mmap(
                std::ptr::null_mut(),
                CODE_REGION_SIZE,
                protection,
                libc::MAP_SHARED | libc::MAP_NORESERVE,
                fd,
                0,
            )
        };
        let exec = map(libc::PROT_READ | libc::PROT_EXEC);
        let write = map(libc::PROT_READ | libc::PROT_WRITE);
        // The descriptor is kept (the mappings alone would keep the object alive): blocks
        // mapped from files are given back by mapping the object there again.
        let fd = std::os::fd::OwnedFd::from_raw_fd(fd);
        if exec == libc::MAP_FAILED || write == libc::MAP_FAILED {
            return Err(error("mmap"));
        }
        // Both views live as long as the process: code may run until exit.
        Ok((exec as usize, write as usize, Some(fd)))
    }
}

/// [`map_views`] for profiling: Linux `perf` names code from `/tmp/perf-<pid>.map` only in
/// mappings it takes for anonymous memory, and a memfd mapping is a file to it. Shared
/// anonymous memory is (it shows as `/dev/zero (deleted)`), and `mremap` with an old size of 0
/// maps the same pages a second time.
fn map_anonymous_views() -> Result<(usize, usize), &'static str> {
    // SAFETY: plain system calls creating new mappings; every result is checked, and the exec
    // view's protection is set before any code exists.
    unsafe {
        let write = libc::mmap(
            std::ptr::null_mut(),
            CODE_REGION_SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        );
        if write == libc::MAP_FAILED {
            return Err("mmap");
        }
        let exec = libc::mremap(write, 0, CODE_REGION_SIZE, libc::MREMAP_MAYMOVE);
        if exec == libc::MAP_FAILED {
            libc::munmap(write, CODE_REGION_SIZE);
            return Err("mremap");
        }
        if libc::mprotect(exec, CODE_REGION_SIZE, libc::PROT_READ | libc::PROT_EXEC) != 0 {
            libc::munmap(write, CODE_REGION_SIZE);
            libc::munmap(exec, CODE_REGION_SIZE);
            return Err("mprotect");
        }
        Ok((exec as usize, write as usize))
    }
}

/// Whether `pc` lies in the code region. Lock-free and allocation-free: safe in a signal
/// handler.
pub fn is_code_address(pc: usize) -> bool {
    let start = REGION_START.load(Ordering::Acquire);
    start != 0 && pc >= start && pc < REGION_END.load(Ordering::Acquire)
}

/// The trap raised at `pc`, if `pc` is a trap site of published code. Not for signal handlers
/// (it locks); called after unwinding.
pub fn trap_at(pc: usize) -> Option<TrapKind> {
    let region = lock().ok()?;
    let (start, info) = region.published.range(..=pc).next_back()?;
    let offset = pc - start;
    if offset >= info.len {
        return None;
    }
    let index = info
        .traps
        .binary_search_by_key(&(offset as u32), |t| t.offset)
        .ok()?;
    Some(info.traps[index].kind)
}

/// The exception handlers of the call site that returns to `pc`, if it has any, with the
/// block's start address (handler targets are relative to it). Not for signal handlers (it
/// locks).
pub(crate) fn exception_site(pc: usize) -> Option<(usize, ExceptionSite)> {
    let region = lock().ok()?;
    let (start, info) = region.published.range(..pc).next_back()?;
    let offset = u32::try_from(pc - start).ok()?;
    if offset as usize > info.len {
        return None;
    }
    let index = info
        .exception_sites
        .binary_search_by_key(&offset, |s| s.return_offset)
        .ok()?;
    Some((*start, info.exception_sites[index].clone()))
}

/// If `pc` is the STACK_OVERFLOW trap of a function's prologue check, the start address of
/// that function.
///
/// Called from the trap handler for a fault raised by generated code on this thread. It locks
/// the region, which is sound there: the fault is synchronous (a trap instruction of our
/// code), so the interrupted code is generated code, which never holds the lock; another
/// thread holding it releases it without waiting for this one.
pub(crate) fn prologue_trap_function(pc: usize) -> Option<usize> {
    let region = lock().ok()?;
    let (start, info) = region.published.range(..=pc).next_back()?;
    let offset = u32::try_from(pc - start).ok()?;
    if offset as usize >= info.len {
        return None;
    }
    let index = info
        .traps
        .binary_search_by_key(&offset, |t| t.offset)
        .ok()?;
    if info.traps[index].kind != TrapKind::StackOverflow {
        return None;
    }
    let function = info.functions.partition_point(|&f| f <= offset).checked_sub(1)?;
    Some(start + info.functions[function] as usize)
}

/// A published wasm function as it was placed: its machine code and what the runtime knows of
/// it, with offsets relative to the function's start (as the compiler produced them). What
/// serialization (`compiler::serialize`) reads back of a module's code.
#[derive(Debug)]
pub struct PlacedFunction {
    pub code: Vec<u8>,
    pub traps: Vec<TrapSite>,
    pub sources: Vec<SourceRange>,
    pub exception_sites: Vec<ExceptionSite>,
}

/// The published wasm function that starts at `address`, copied out of code memory. `None`
/// when no published function starts there (a lazy stub, or engine code).
pub fn placed_function(address: usize) -> Option<PlacedFunction> {
    let region = lock().ok()?;
    let (&start, info) = region.published.range(..=address).next_back()?;
    let offset = u32::try_from(address - start).ok()?;
    let index = info.functions.binary_search(&offset).ok()?;
    let symbol = info.symbols.get(index)?.as_ref()?;
    let len = *info.lens.get(index)?;
    let end = offset.checked_add(len)?;
    if end as usize > info.len {
        return None;
    }
    // SAFETY: [address, address + len) lies inside a published block (checked above), which
    // stays mapped and unchanged while it is in `published`: a block leaves `published` only
    // in its `Drop`, under the region lock this function holds. Published code is never
    // written again, and the executable view is readable.
    let code = unsafe { std::slice::from_raw_parts(address as *const u8, len as usize) }.to_vec();
    let within = |o: u32| o >= offset && o < end;
    let traps = info
        .traps
        .iter()
        .filter(|t| within(t.offset))
        .map(|t| TrapSite { offset: t.offset - offset, kind: t.kind })
        .collect();
    let exception_sites = info
        .exception_sites
        .iter()
        .filter(|s| s.return_offset > offset && s.return_offset <= end)
        .map(|s| ExceptionSite {
            return_offset: s.return_offset - offset,
            frame_offset: s.frame_offset,
            handlers: s
                .handlers
                .iter()
                .map(|h| match *h {
                    ExceptionHandler::Tag { tag, target } => ExceptionHandler::Tag { tag, target: target - offset },
                    ExceptionHandler::Default { target } => ExceptionHandler::Default { target: target - offset },
                    context => context,
                })
                .collect(),
        })
        .collect();
    Some(PlacedFunction { code, traps, sources: symbol.sources.clone(), exception_sites })
}

/// A block of code memory. Freed on drop, so it must outlive every activation running it;
/// owners keep it in an `Arc`.
#[derive(Debug)]
pub struct CodeBlock {
    start: usize,
    len: usize,
    write_delta: usize,
    /// Its executable view maps a file's pages ([`publish_mapped`]), not the region's object.
    mapped: bool,
}

impl CodeBlock {
    /// The block's executable address.
    pub fn start(&self) -> *const u8 {
        self.start as *const u8
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Copies `bytes` into the block at `offset`. For blocks handed out by [`allocate_data`],
    /// whose contents the owner manages; published code is never written again.
    pub fn write(&self, offset: usize, bytes: &[u8]) {
        assert!(offset + bytes.len() <= self.len, "write outside the code block");
        // SAFETY: the destination is inside this block's range of the writable view (checked
        // above), which belongs to this block alone while it lives; the source is a Rust slice,
        // not in the code region.
        unsafe {
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                (self.start + offset).wrapping_add(self.write_delta) as *mut u8,
                bytes.len(),
            )
        };
    }

    /// The 8-byte word at `offset` (8-aligned), as an atomic through the writable view: how
    /// code pointers that generated code reads through the executable view are updated.
    pub fn word(&self, offset: usize) -> &std::sync::atomic::AtomicUsize {
        assert!(offset % 8 == 0 && offset + 8 <= self.len, "word outside the code block");
        // SAFETY: in bounds and aligned (checked above; blocks start 16-aligned); the writable
        // view maps the same pages as the executable view for the block's whole life, and all
        // writes to this word go through atomics.
        unsafe { &*((self.start + offset).wrapping_add(self.write_delta) as *const AtomicUsize) }
    }
}

/// One function's code to place, with its trap sites and source ranges (offsets relative to
/// `code`) and what it is.
pub struct Placement<'a> {
    pub code: &'a [u8],
    pub traps: &'a [TrapSite],
    /// Kept for stack traces as long as the code: moved there when owned, else copied.
    pub sources: std::borrow::Cow<'a, [SourceRange]>,
    /// Call sites with exception handlers (offsets relative to `code`).
    pub exception_sites: &'a [ExceptionSite],
    pub symbol: Symbol,
}

/// Where [`publish`] places functions of lengths `lens`, one after another at [`ALIGN`]ed
/// offsets, and the length of the whole: also the layout of a serialized module's code image,
/// so that [`publish_mapped`] can map it as it is.
pub fn layout(lens: impl IntoIterator<Item = usize>) -> (Vec<usize>, usize) {
    let mut offsets = Vec::new();
    let mut len = 0usize;
    for l in lens {
        len = len.next_multiple_of(ALIGN);
        offsets.push(len);
        len += l;
    }
    (offsets, len)
}

/// Copies `functions` into fresh code memory, one after another (16-byte aligned: [`layout`]),
/// registers their trap sites, and returns the block with each function's offset in it. The
/// code is executable once this returns. Source ranges given owned are kept without a copy.
pub fn publish(functions: Vec<Placement<'_>>) -> Result<(Arc<CodeBlock>, Vec<usize>), String> {
    let (offsets, len) = layout(functions.iter().map(|f| f.code.len()));
    // Every byte is written below (code, and zeros in the alignment gaps): no need to zero the
    // block first, which for a large module (a deserialized one: tens of MB) doubles the cost.
    let block = allocate(len, false)?;
    let mut end = 0;
    for (f, offset) in functions.iter().zip(&offsets) {
        block.write(end, &[0u8; ALIGN][..*offset - end]);
        block.write(*offset, f.code);
        end = *offset + f.code.len();
    }
    block.write(end, &vec![0u8; block.len - end]);
    finish(&block, functions, &offsets)?;
    Ok((block, offsets))
}

/// A published block and each function's offset in it.
pub type Published = (Arc<CodeBlock>, Vec<usize>);

/// Code already laid out as [`publish`] would place it ([`layout`]), in a file: `len` bytes at
/// `offset`, a multiple of [`MAP_ALIGN`].
pub struct FileImage<'a> {
    pub file: &'a std::fs::File,
    pub offset: u64,
    pub len: usize,
}

/// The alignment of a [`FileImage`] in its file: a multiple of every page size Linux uses.
pub const MAP_ALIGN: usize = 1 << 16;

/// Images smaller than this are copied, not mapped (copying them is cheap; aligning them in
/// their file would pad small files by up to [`MAP_ALIGN`]).
pub const MAP_AT_LEAST: usize = 1 << 18;

/// [`publish`] without the copy: maps `image` (whose bytes are the functions' code, laid out by
/// [`layout`]; `functions[i].code` is `image`'s bytes at `layout`'s offset `i`) into code
/// memory, private and read-execute, on whole pages of its own. For a large module from the
/// persistent code cache this replaces allocating, zeroing and filling tens of MB of the
/// region's shared pages by mapping the page cache's pages (shared with other processes
/// running the same entry). `Ok(Err(functions))`, handing the functions back, where mapping
/// cannot be done (no memory object behind the region: profiling with a perf map; a file
/// system mounted `noexec`; an image out of line): the caller copies instead.
///
/// The file must not change while mapped: it is a persistent cache entry, which writers
/// replace by renaming and never modify in place (see `MappedFile`).
pub fn publish_mapped<'a>(
    functions: Vec<Placement<'a>>,
    image: FileImage<'_>,
) -> Result<Result<Published, Vec<Placement<'a>>>, String> {
    use std::os::fd::AsRawFd;
    let (offsets, len) = layout(functions.iter().map(|f| f.code.len()));
    let page = region::page::size();
    if len != image.len || len < MAP_AT_LEAST || !image.offset.is_multiple_of(page as u64) || !MAP_ALIGN.is_multiple_of(page) {
        return Ok(Err(functions));
    }
    let mapped_len = len.next_multiple_of(page);
    let mut region = lock()?;
    if region.memfd.is_none() {
        return Ok(Err(functions));
    }
    // A free range holding `mapped_len` bytes from a page boundary.
    let found = region.free.iter().find_map(|(&start, &free_len)| {
        let aligned = start.next_multiple_of(page);
        (aligned + mapped_len <= start + free_len).then_some((start, free_len, aligned))
    });
    let (free_start, free_len, start) = found.ok_or("out of code memory")?;
    region.free.remove(&free_start);
    if start > free_start {
        region.free.insert(free_start, start - free_start);
    }
    if free_start + free_len > start + mapped_len {
        region.free.insert(start + mapped_len, free_start + free_len - start - mapped_len);
    }
    let block = CodeBlock {
        start,
        len: mapped_len,
        write_delta: region.write_delta,
        mapped: true,
    };
    drop(region);
    // SAFETY: [start, start + mapped_len) is a range of the region's executable view just
    // taken from the free list (no code there runs or is published); MAP_FIXED replaces just
    // those pages of the view with a private read-execute mapping of the file's pages (the
    // file is open, and the range of it mapped is at a page-aligned offset; every page holds
    // image bytes, so none lies past the file's end). The result is checked.
    let mapped = unsafe {
        libc::mmap(
            start as *mut libc::c_void,
            mapped_len,
            libc::PROT_READ | libc::PROT_EXEC,
            libc::MAP_PRIVATE | libc::MAP_FIXED | libc::MAP_POPULATE,
            image.file.as_raw_fd(),
            image.offset as libc::off_t,
        )
    };
    if mapped == libc::MAP_FAILED {
        // Dropping the block maps the region's object back over the range and frees it.
        drop(block);
        return Ok(Err(functions));
    }
    let block = Arc::new(block);
    finish(&block, functions, &offsets)?;
    Ok(Ok((block, offsets)))
}

/// Registers what [`publish`] or [`publish_mapped`] placed at `offsets` in `block`.
fn finish(block: &CodeBlock, functions: Vec<Placement<'_>>, offsets: &[usize]) -> Result<(), String> {
    let mut traps = Vec::with_capacity(functions.iter().map(|f| f.traps.len()).sum());
    let mut exception_sites = Vec::new();
    for (f, &offset) in functions.iter().zip(offsets) {
        let at = offset as u32;
        exception_sites.extend(f.exception_sites.iter().map(|site| ExceptionSite {
            return_offset: site.return_offset + at,
            frame_offset: site.frame_offset,
            handlers: site
                .handlers
                .iter()
                .map(|h| match *h {
                    ExceptionHandler::Tag { tag, target } => ExceptionHandler::Tag { tag, target: target + at },
                    ExceptionHandler::Default { target } => ExceptionHandler::Default { target: target + at },
                    context => context,
                })
                .collect(),
        }));
        traps.extend(f.traps.iter().map(|t| TrapSite {
            offset: t.offset + at,
            kind: t.kind,
        }));
    }
    let starts = offsets.iter().map(|&o| o as u32).collect();
    let lens = functions.iter().map(|f| f.code.len() as u32).collect();
    super::frames::perf_map_add(functions.iter().zip(offsets).map(|(f, &offset)| {
        (block.start() as usize + offset, f.code.len(), &f.symbol)
    }));
    let symbols = functions
        .into_iter()
        .map(|f| match f.symbol {
            Symbol::Wasm { module, index, .. } => Some(WasmSymbol {
                module,
                index,
                sources: f.sources.into_owned(),
            }),
            Symbol::Engine(_) => None,
        })
        .collect();
    register(block, traps, starts, lens, symbols, exception_sites)
}

/// Registers the trap sites of `block` (offsets relative to its start) for [`trap_at`].
pub fn register_traps(block: &CodeBlock, traps: Vec<TrapSite>) -> Result<(), String> {
    register(block, traps, Vec::new(), Vec::new(), Vec::new(), Vec::new())
}

fn register(
    block: &CodeBlock,
    traps: Vec<TrapSite>,
    functions: Vec<u32>,
    lens: Vec<u32>,
    symbols: Vec<Option<WasmSymbol>>,
    exception_sites: Vec<ExceptionSite>,
) -> Result<(), String> {
    let info = Arc::new(CodeInfo {
        len: block.len,
        traps,
        functions,
        lens,
        symbols,
        exception_sites,
    });
    lock()?.published.insert(block.start, info);
    Ok(())
}

/// A zeroed block of `len` bytes of code memory (at least one allocation unit), 16-aligned.
pub fn allocate_data(len: usize) -> Result<Arc<CodeBlock>, String> {
    allocate(len, true)
}

/// A block of `len` bytes of code memory, 16-aligned; zeroed if `zeroed`, else holding whatever
/// freed code was there (the caller writes every byte).
fn allocate(len: usize, zeroed: bool) -> Result<Arc<CodeBlock>, String> {
    let len = len.max(1).next_multiple_of(ALIGN);
    let mut region = lock()?;
    let (&start, &free_len) = region
        .free
        .iter()
        .find(|(_, &l)| l >= len)
        .ok_or("out of code memory")?;
    region.free.remove(&start);
    if free_len > len {
        region.free.insert(start + len, free_len - len);
    }
    let block = CodeBlock {
        start,
        len,
        write_delta: region.write_delta,
        mapped: false,
    };
    drop(region);
    // A large block (a module's code placed at once: tens of MB for a deserialized one) is
    // about to be written in full: its pages are made present in one system call rather than
    // by a page fault per 4 KB as the copy reaches them, which costs several times more.
    // Best effort: kernels before 5.14 refuse the advice, and the copy then faults them in.
    if len >= POPULATE_AT_LEAST {
        // SAFETY: the range is the block just taken from the free list, which no one else
        // uses; populating its writable view only allocates the shared pages behind both views
        // (their contents stay what they were).
        unsafe { advise_whole_pages(start, len, block.write_delta, libc::MADV_POPULATE_WRITE) };
    }
    // Freed memory is zeroed when whole pages are returned; the rest may hold old code.
    if zeroed {
        block.write(0, &vec![0u8; len]);
    }
    Ok(Arc::new(block))
}

impl Drop for CodeBlock {
    fn drop(&mut self) {
        let Ok(mut region) = lock() else { return };
        region.published.remove(&self.start);
        if self.mapped {
            let Some(memfd) = &region.memfd else { return };
            // SAFETY: the block's range of the executable view (whole pages: see
            // `publish_mapped`), whose code no longer runs (the block is dropped when nothing
            // uses it); MAP_FIXED maps the region's object back at its own offset there, as
            // `map_views` mapped it, so the range is ordinary code memory again.
            let back = unsafe {
                libc::mmap(
                    self.start as *mut libc::c_void,
                    self.len,
                    libc::PROT_READ | libc::PROT_EXEC,
                    libc::MAP_SHARED | libc::MAP_FIXED | libc::MAP_NORESERVE,
                    std::os::fd::AsRawFd::as_raw_fd(memfd),
                    (self.start - region.start) as libc::off_t,
                )
            };
            if back == libc::MAP_FAILED {
                // The range keeps the file's pages: it is never handed out again.
                return;
            }
        }
        let (mut start, mut len) = (self.start, self.len);
        if let Some((&prev, &prev_len)) = region.free.range(..start).next_back() {
            if prev + prev_len == start {
                region.free.remove(&prev);
                start = prev;
                len += prev_len;
            }
        }
        if let Some(&next_len) = region.free.get(&(start + len)) {
            region.free.remove(&(start + len));
            len += next_len;
        }
        region.free.insert(start, len);
        debug_assert!(start >= region.start);
        // Return the whole pages of the free range to the system.
        // SAFETY: the range is free code memory (no block owns it, so no code there can run);
        // MADV_REMOVE on the writable view frees the shared pages behind both views, which read
        // as zeros afterwards. Both views stay mapped.
        unsafe { advise_whole_pages(start, len, region.write_delta, libc::MADV_REMOVE) };
    }
}

/// `madvise(advice)` on the writable view (`write_delta` from the executable one) of the whole
/// pages inside [start, start + len); nothing when the range holds no whole page. Best effort:
/// the result is ignored.
///
/// # Safety
/// The range must be code memory of the region that `advice` may act on: no code in it may
/// run or be read meanwhile unless `advice` leaves contents as they are.
unsafe fn advise_whole_pages(start: usize, len: usize, write_delta: usize, advice: libc::c_int) {
    let page = region::page::size();
    let first = start.next_multiple_of(page);
    let end = (start + len) & !(page - 1);
    if end > first {
        // SAFETY: [first, end) is inside [start, start + len), which the caller vouches for;
        // madvise neither unmaps nor moves it.
        unsafe { libc::madvise(first.wrapping_add(write_delta) as *mut libc::c_void, end - first, advice) };
    }
}

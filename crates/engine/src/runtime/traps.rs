//! The trap handler. One process-wide handler for SIGSEGV, SIGBUS, SIGILL and SIGFPE, installed
//! once, owns the faults whose program counter lies in our generated code while a wasm call is
//! active on the faulting thread, and passes every other fault to the handler installed before it
//! (Node's and V8's: V8's own wasm trap handling must keep working beside ours).
//!
//! Owning a fault means recording where it happened and jumping back to the innermost entry
//! from the host (`guarded_call.c`), which turns the record into a [`Trap`]. Generated code has
//! no destructors, and no Rust frame lies between an entry and the faulting code: libcalls
//! report failures by status instead of trapping.

use std::cell::{Cell, UnsafeCell};
use std::ffi::c_void;
use std::mem::MaybeUninit;
use std::ptr;
use std::sync::{Once, OnceLock};

use super::code_memory;
use super::frames;
use super::interrupts::{self, VMRuntimeLimits};
use crate::trap::TrapKind;

extern "C" {
    fn cranewasm_jump_layout(size: *mut usize, align: *mut usize);
    fn cranewasm_guarded_call(
        trampoline: EntryTrampoline,
        vmctx: *mut u8,
        code: *const u8,
        values: *mut u128,
        current: *mut *mut JumpRecord,
        record: *mut JumpRecord,
    ) -> i32;
    fn cranewasm_unwind(record: *mut JumpRecord) -> !;
}

/// The head of a recovery record (`struct cranewasm_jump` of guarded_call.c, whose call and jump
/// buffer follow, written by C only; C gives the whole size): where a trap of one entry into
/// wasm jumps back to. Records live off the stack (a
/// `sigjmp_buf` is 200 bytes, and recursion through imports nests one entry per level), one per
/// nesting level of entries on a thread, each holding the next one in, reused from call to call.
#[repr(C)]
struct JumpRecord {
    /// An address on the entry's frame, above every frame of the activation it guards.
    top: usize,
    /// The record of the next entry nested inside this one, or null (not allocated yet).
    inner: *mut JumpRecord,
}

/// This thread's recovery records. No destructor: the signal handler reads it (see
/// [`JumpPool`] for the records' release).
struct Jumps {
    /// The record of the innermost active entry into wasm, or null.
    current: Cell<*mut JumpRecord>,
    /// The record of the outermost entry, the first of the chain, or null.
    first: Cell<*mut JumpRecord>,
    /// How many records the chain holds.
    count: Cell<usize>,
}

/// How many records a thread keeps once no wasm runs on it; deeper recursions allocate theirs
/// again (one allocation per level, beside a level's cost of a call out to JS and back).
const KEPT_RECORDS: usize = 32;

/// Frees this thread's records when the thread ends (registered with its first record).
struct JumpPool;

impl Drop for JumpPool {
    fn drop(&mut self) {
        JUMPS.with(|jumps| {
            // SAFETY: the thread is ending: no entry into wasm is active on it, so no record is
            // in use, and the chain's records were allocated by `new_record`.
            unsafe { free_records(jumps.first.replace(ptr::null_mut())) };
            jumps.count.set(0);
        });
    }
}

fn record_layout() -> std::alloc::Layout {
    static LAYOUT: OnceLock<std::alloc::Layout> = OnceLock::new();
    *LAYOUT.get_or_init(|| {
        let (mut size, mut align) = (0usize, 0usize);
        // SAFETY: writes the two sizes, nothing else.
        unsafe { cranewasm_jump_layout(&mut size, &mut align) };
        assert!(size >= std::mem::size_of::<JumpRecord>());
        std::alloc::Layout::from_size_align(size, align.max(std::mem::align_of::<JumpRecord>()))
            .expect("sigjmp_buf has a valid layout")
    })
}

/// A new record, linked after `outer` (or first when `outer` is null).
///
/// # Safety
/// `outer` is null or a record of this thread's chain whose `inner` is null.
#[cold]
#[inline(never)]
unsafe fn new_record(jumps: &Jumps, outer: *mut JumpRecord) -> *mut JumpRecord {
    // Registers the release at thread exit; should wasm run while the thread's destructors do
    // (too late to register), its records are left to the process instead.
    let _ = JUMP_POOL.try_with(|_| ());
    let layout = record_layout();
    // SAFETY: the layout has a non-zero size (at least the head).
    let record = unsafe { std::alloc::alloc_zeroed(layout) } as *mut JumpRecord;
    if record.is_null() {
        std::alloc::handle_alloc_error(layout);
    }
    if outer.is_null() {
        jumps.first.set(record);
    } else {
        // SAFETY: `outer` is a live record of this thread (the contract).
        unsafe { (*outer).inner = record };
    }
    jumps.count.set(jumps.count.get() + 1);
    record
}

/// Frees the records of the chain that starts at `record`.
///
/// # Safety
/// No entry uses them, and nothing else points to `record` afterwards.
unsafe fn free_records(mut record: *mut JumpRecord) {
    let layout = record_layout();
    while !record.is_null() {
        // SAFETY: allocated by `new_record` with this layout, and no longer used (the contract).
        unsafe {
            let inner = (*record).inner;
            std::alloc::dealloc(record as *mut u8, layout);
            record = inner;
        }
    }
}

/// Keeps [`KEPT_RECORDS`] records after the outermost entry returned.
#[cold]
#[inline(never)]
fn trim_records(jumps: &Jumps) {
    let mut last = jumps.first.get();
    // SAFETY: no entry into wasm is active on this thread (the outermost one returned), so no
    // record is in use; the chain holds more than KEPT_RECORDS records.
    unsafe {
        for _ in 1..KEPT_RECORDS {
            last = (*last).inner;
        }
        free_records(std::mem::replace(&mut (*last).inner, ptr::null_mut()));
    }
    jumps.count.set(KEPT_RECORDS);
}

/// Where a fault handled by us happened.
#[derive(Clone, Copy, Debug)]
struct FaultRecord {
    pc: usize,
    signal: i32,
    /// The trap, when it is known without looking up `pc` (an interrupt leaving through the
    /// interrupt trampoline).
    kind: Option<TrapKind>,
}

/// The most frames a trap records (V8 shows 10 by default, `Error.stackTraceLimit`).
const MAX_FRAMES: usize = 200;

/// The code addresses of the frames of a trapping activation, innermost first: the faulting
/// PC, then return addresses. Filled by the signal handler (no allocation, no lock).
struct FrameWalk {
    pcs: [usize; MAX_FRAMES],
    len: usize,
}

thread_local! {
    static JUMPS: Jumps = const {
        Jumps { current: Cell::new(ptr::null_mut()), first: Cell::new(ptr::null_mut()), count: Cell::new(0) }
    };
    static JUMP_POOL: JumpPool = const { JumpPool };
    static LAST_FAULT: Cell<Option<FaultRecord>> = const { Cell::new(None) };
    static WALK: UnsafeCell<FrameWalk> = const {
        UnsafeCell::new(FrameWalk { pcs: [0; MAX_FRAMES], len: 0 })
    };
    /// The wasm frames of the last trap on this thread, for [`take_trap_frames`].
    static TRAP_FRAMES: Cell<Vec<frames::WasmFrame>> = const { Cell::new(Vec::new()) };
}

/// The wasm frames of the last trap of this thread (innermost first), taken: empty when the
/// trap left none (an interrupt) or they were taken already.
pub fn take_trap_frames() -> Vec<frames::WasmFrame> {
    TRAP_FRAMES.with(|f| f.take())
}

/// Records the frames of the activation that faulted at `pc` with frame pointer `fp`: walks
/// the frame-pointer chain of generated code (every function keeps it, see
/// `compiler::codegen`) up to the first return address outside generated code, which is
/// where the entry trampoline returns to the host. Reads only addresses between `sp` and
/// `top` (an address on the frame of the host's entry), each frame above the last.
///
/// # Safety
/// `sp` and `fp` must be the faulting thread's registers, `top` an address in its stack above
/// every frame of the active wasm activation.
unsafe fn walk_frames(pc: usize, sp: usize, mut fp: usize, top: usize) {
    WALK.with(|walk| {
        // SAFETY: only this thread touches its WALK, and the code it interrupted (generated
        // code) never does.
        let walk = unsafe { &mut *walk.get() };
        walk.pcs[0] = pc;
        walk.len = 1;
        let mut low = sp;
        while walk.len < MAX_FRAMES && fp.is_multiple_of(8) && fp >= low && fp.saturating_add(16) <= top {
            // SAFETY: [fp, fp + 16) lies in this thread's stack between the faulting frame and
            // the entry's frame (checked above): the saved frame pointer and return address
            // of a frame of generated code.
            let (next, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
            if !code_memory::is_code_address(ret) {
                break;
            }
            walk.pcs[walk.len] = ret;
            walk.len += 1;
            low = fp + 16;
            fp = next;
        }
    });
}

/// Looks the walked addresses up: the wasm frames among them (trampolines and stubs have
/// none).
fn symbolize_walk() -> Vec<frames::WasmFrame> {
    WALK.with(|walk| {
        // SAFETY: no signal handler runs on this thread now (the trap was handled); the
        // buffer is read once and reset.
        let walk = unsafe { &mut *walk.get() };
        let len = std::mem::take(&mut walk.len);
        walk.pcs[..len]
            .iter()
            .enumerate()
            .filter_map(|(i, &pc)| code_memory::wasm_frame(pc, i > 0))
            .collect()
    })
}

/// How much stack to leave below the wasm stack limit for host code (libcalls, calls out to JS,
/// the signal handler itself).
const HOST_STACK_RESERVE: usize = 256 * 1024;

/// The runtime limits of the current thread (see [`interrupts::runtime_limits`]).
pub fn runtime_limits() -> *const VMRuntimeLimits {
    interrupts::runtime_limits()
}

/// A trap that ended a wasm activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trap {
    pub kind: TrapKind,
    /// The faulting program counter (for diagnostics).
    pub pc: usize,
}

/// Signature of an entry trampoline: `(callee_vmctx, callee_code, values)`. See
/// `runtime::trampolines`.
pub type EntryTrampoline = unsafe extern "C" fn(*mut u8, *const u8, *mut u128);

/// Calls wasm code through an entry trampoline, catching traps.
///
/// # Safety
/// `trampoline` must be the entry trampoline for the signature of `code`; `vmctx` must be the
/// vmctx `code` expects, alive for the call; `values` must point to at least
/// max(params, results) 16-byte slots holding the arguments. On `Ok`, the slots hold the results.
// SAFETY: the contract above is the caller's; the body documents each unsafe step.
//
// Every level of recursion through imports (wasm -> JS -> wasm) has this frame on the stack:
// it is inlined into the host's entry (one frame fewer), keeps only what the call needs, and
// the trap's bookkeeping is out of line (`trap_taken`).
#[inline(always)]
pub unsafe fn call_wasm(
    trampoline: EntryTrampoline,
    vmctx: *mut u8,
    code: *const u8,
    values: *mut u128,
) -> Result<(), Trap> {
    install_handler();
    let jumps = JUMPS.with(|j| j as *const Jumps);
    // SAFETY: this thread's records, which live as long as the thread.
    let jumps = unsafe { &*jumps };
    let outer = jumps.current.get();
    // SAFETY: `outer` is this thread's innermost active record (or null); its `inner` is a
    // record of the chain or null.
    let next = if outer.is_null() { jumps.first.get() } else { unsafe { (*outer).inner } };
    // SAFETY: `outer` is the end of the chain when `next` is null.
    let record = if next.is_null() { unsafe { new_record(jumps, outer) } } else { next };
    let outermost = outer.is_null().then(interrupts::enter_outermost);
    // SAFETY: the trampoline's contract is the caller's; `record` is a record of this thread
    // that no active entry uses (the one after the innermost), and `current` is this thread's
    // slot. No Rust frame with pending drops lies between the guarded call and the generated
    // code a trap unwinds from.
    let trapped = unsafe {
        cranewasm_guarded_call(trampoline, vmctx, code, values, jumps.current.as_ptr(), record)
    };
    if let Some(outermost) = outermost {
        interrupts::leave_outermost(outermost);
        super::exceptions::activation_ended();
        if jumps.count.get() > KEPT_RECORDS {
            trim_records(jumps);
        }
    }
    if trapped == 0 {
        return Ok(());
    }
    Err(trap_taken())
}

/// The trap that a fault (or an unwind) recorded before jumping back to its entry.
#[cold]
#[inline(never)]
fn trap_taken() -> Trap {
    let fault = LAST_FAULT
        .with(|f| f.take())
        .expect("a trap records its fault before unwinding");
    let walked = symbolize_walk();
    TRAP_FRAMES.with(|f| f.set(walked));
    if let Some(kind) = fault.kind {
        return Trap { kind, pc: fault.pc };
    }
    let kind = code_memory::trap_at(fault.pc).unwrap_or(match fault.signal {
        // A fault without a trap site is an access outside linear memory that Cranelift did not
        // label (it labels every wasm load and store); say so rather than guess.
        libc::SIGSEGV | libc::SIGBUS => TrapKind::MemoryOutOfBounds,
        libc::SIGFPE => TrapKind::DivideByZero,
        _ => TrapKind::Unreachable,
    });
    Trap { kind, pc: fault.pc }
}

/// Whether the calling thread is the process's main thread.
pub fn on_main_thread() -> bool {
    // SAFETY: getpid and gettid have no preconditions.
    unsafe { libc::getpid() == libc::gettid() }
}

/// Bytes of stack left below the caller's frame on this thread before the thread's stack
/// ends (an estimate of at least 1 MiB when the thread's bounds are unknown).
pub fn remaining_stack() -> usize {
    let here = 0u8;
    (&here as *const u8 as usize).saturating_sub(stack_low())
}

/// The lowest address of this thread's stack (cached per thread).
fn stack_low() -> usize {
    thread_local! {
        static STACK_LOW: Cell<usize> = const { Cell::new(0) };
    }
    STACK_LOW.with(|low| {
        if low.get() == 0 {
            low.set(thread_stack_low().unwrap_or_else(|| {
                // Without the thread's bounds, allow 1 MiB below the current frame, as V8 does.
                let here = 0u8;
                (&here as *const u8 as usize).saturating_sub(1 << 20)
            }));
        }
        low.get()
    })
}

/// The lowest address wasm frames may reach on this thread: the bottom of the thread's stack plus
/// [`HOST_STACK_RESERVE`].
pub fn stack_limit() -> usize {
    stack_low() + HOST_STACK_RESERVE
}

#[cfg(target_os = "linux")]
fn thread_stack_low() -> Option<usize> {
    // SAFETY: pthread_getattr_np fills `attr` for the calling thread; it is destroyed after use.
    unsafe {
        let mut attr = MaybeUninit::<libc::pthread_attr_t>::uninit();
        if libc::pthread_getattr_np(libc::pthread_self(), attr.as_mut_ptr()) != 0 {
            return None;
        }
        let mut addr: *mut c_void = ptr::null_mut();
        let mut size: libc::size_t = 0;
        let ok = libc::pthread_attr_getstack(attr.as_ptr(), &mut addr, &mut size) == 0;
        libc::pthread_attr_destroy(attr.as_mut_ptr());
        ok.then_some(addr as usize)
    }
}

#[cfg(not(target_os = "linux"))]
fn thread_stack_low() -> Option<usize> {
    None
}

const SIGNALS: [i32; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

/// The handlers that were installed before ours, by position in [`SIGNALS`]. Written once,
/// before our handler is installed; read only by the handler afterwards.
static mut PREVIOUS: [MaybeUninit<libc::sigaction>; 4] = [const { MaybeUninit::uninit() }; 4];

/// Installs the trap handler, once per process.
pub fn install_handler() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        for (i, &signal) in SIGNALS.iter().enumerate() {
            // SAFETY: runs once, before any fault can reach our handler for this signal, so no
            // one reads PREVIOUS[i] concurrently; the sigaction structs are fully initialized.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = handle_fault as *const () as usize;
                // SA_SIGINFO: we need the faulting context (its PC). SA_NODEFER: we leave the
                // handler by siglongjmp without restoring the mask, so the signal must not be
                // blocked while it runs. SA_ONSTACK: use the alternate stack if the thread has
                // one (a fault from stack exhaustion cannot run the handler on its own stack).
                action.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                let previous = &raw mut PREVIOUS;
                if libc::sigaction(signal, &action, (*previous)[i].as_mut_ptr()) != 0 {
                    panic!("cannot install the trap handler for signal {signal}");
                }
            }
        }
    });
}

unsafe extern "C" fn handle_fault(signal: i32, info: *mut libc::siginfo_t, context: *mut c_void) {
    // SAFETY: the kernel passes a valid ucontext for SA_SIGINFO handlers.
    let pc = unsafe { context_pc(context) };
    let record = JUMPS.with(|j| j.current.get());
    if !record.is_null() && code_memory::is_code_address(pc) {
        // SAFETY: the kernel's context of a fault at `pc`, raised by our code on this thread.
        if signal == libc::SIGILL && unsafe { resume_interrupted_prologue(pc, context) } {
            return;
        }
        LAST_FAULT.with(|f| f.set(Some(FaultRecord { pc, signal, kind: None })));
        // SAFETY: as above; the record's top lies on the entry's frame, above every frame of
        // the activation.
        unsafe {
            let (sp, fp) = context_sp_fp(context);
            walk_frames(pc, sp, fp, (*record).top);
        }
        // SAFETY: `record` is the record of a guarded call still active on this thread (it is
        // uninstalled before that call returns), and the frames in between are generated
        // code, which holds no resources.
        unsafe { cranewasm_unwind(record) }
    }
    // SAFETY: not ours: hand the fault to whoever was there before, as they expect to get it.
    unsafe { chain(signal, info, context) }
}

/// The frame setup Cranelift's x86-64 prologue starts every function with that checks the
/// stack: `push rbp; mov rbp, rsp`. The prologue's stack check runs right after it.
const FRAME_SETUP: [u8; 4] = [0x55, 0x48, 0x89, 0xe5];

/// If the fault at `pc` is a prologue's stack check that failed because an interrupt is pending
/// (see `runtime::interrupts`), rewrites `context` so that the thread resumes in the interrupt
/// trampoline as if the function's caller had called the trampoline, and returns true.
///
/// The check runs after the frame setup and before anything else of the prologue, so undoing
/// the setup (rbp = the saved rbp, rsp = the address of the return address) gives back the
/// state at the call. Both facts are verified here rather than assumed: the function's first
/// bytes must be the setup, and rbp must equal rsp (nothing else pushed yet).
///
/// # Safety
/// `context` must be the `ucontext_t` of a synchronous fault raised by generated code on this
/// thread at `pc`.
unsafe fn resume_interrupted_prologue(pc: usize, context: *mut c_void) -> bool {
    if !interrupts::pending_in_signal_handler() {
        return false;
    }
    let Some(function) = code_memory::prologue_trap_function(pc) else {
        return false;
    };
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    // SAFETY: `function` is the start of a published function (at least the setup's four bytes
    // long: it contains the check); `context` is the fault's context (the contract); rsp points
    // into this thread's stack, where the setup pushed the caller's rbp.
    unsafe {
        if *(function as *const [u8; 4]) != FRAME_SETUP {
            return false;
        }
        let gregs = &mut (*(context as *mut libc::ucontext_t)).uc_mcontext.gregs;
        let rsp = gregs[libc::REG_RSP as usize] as usize;
        if gregs[libc::REG_RBP as usize] as usize != rsp {
            return false;
        }
        gregs[libc::REG_RBP as usize] = *(rsp as *const i64);
        gregs[libc::REG_RSP as usize] = (rsp + 8) as i64;
        gregs[libc::REG_R11 as usize] = function as i64;
        gregs[libc::REG_RIP as usize] = interrupts::interrupt_trampoline() as i64;
        true
    }
    #[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
    false
}

/// Unwinds to the innermost entry from the host with an `Interrupted` trap: for the interrupt
/// trampoline, which has no trap site of its own. `return_address` is where the interrupted
/// function would have returned to (the trap's reported PC).
pub(crate) fn unwind_interrupted(return_address: usize) -> ! {
    let record = JUMPS.with(|j| j.current.get());
    assert!(!record.is_null(), "an interrupt outside any wasm call");
    LAST_FAULT.with(|f| {
        f.set(Some(FaultRecord {
            pc: return_address,
            signal: 0,
            kind: Some(TrapKind::Interrupted),
        }))
    });
    // SAFETY: `record` is the record of the guarded call active on this thread; the frames in
    // between are generated code and the interrupt trampoline, which hold no resources.
    unsafe { cranewasm_unwind(record) }
}

/// An address on the host frame of the innermost entry on this thread (0 outside wasm), above
/// every frame of the activation.
pub(crate) fn activation_top() -> usize {
    let record = JUMPS.with(|j| j.current.get());
    if record.is_null() {
        return 0;
    }
    // SAFETY: the record of an entry active on this thread.
    unsafe { (*record).top }
}

/// Unwinds to the innermost entry from the host with trap `kind` (an exception that no wasm
/// handler caught). `pc` is reported as the trap's PC.
pub(crate) fn unwind_with(kind: TrapKind, pc: usize) -> ! {
    unwind_with_frames(kind, pc, 0)
}

/// [`unwind_with`], recording the wasm frames of the activation for the error's stack (as a
/// fault does) from `pc` in the frame whose frame pointer is `fp` (0: none).
pub(crate) fn unwind_with_frames(kind: TrapKind, pc: usize, fp: usize) -> ! {
    let record = JUMPS.with(|j| j.current.get());
    assert!(!record.is_null(), "an exception thrown outside any wasm call");
    if fp != 0 {
        // SAFETY: `fp` is a frame pointer of generated code of this activation, below the
        // entry's frame (the record's top); the walk reads only between the two.
        unsafe { walk_frames(pc, fp, fp, (*record).top) };
    }
    LAST_FAULT.with(|f| f.set(Some(FaultRecord { pc, signal: 0, kind: Some(kind) })));
    // SAFETY: `record` is the record of the guarded call active on this thread; the frames in
    // between are generated code and the throw stub's runtime function, which holds no
    // resources when it calls this.
    unsafe { cranewasm_unwind(record) }
}

/// Hands a fault that is not ours to the handler installed before ours.
///
/// # Safety
/// Must be called from our signal handler with the arguments the kernel passed to it.
unsafe fn chain(signal: i32, info: *mut libc::siginfo_t, context: *mut c_void) {
    let Some(index) = SIGNALS.iter().position(|&s| s == signal) else {
        return;
    };
    // SAFETY: PREVIOUS[index] was initialized before our handler was installed.
    let previous = unsafe { (*(&raw const PREVIOUS))[index].assume_init_ref() };
    let handler = previous.sa_sigaction;
    if previous.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: the previous handler was installed as a three-argument handler.
        let f: unsafe extern "C" fn(i32, *mut libc::siginfo_t, *mut c_void) =
            unsafe { std::mem::transmute(handler) };
        unsafe { f(signal, info, context) };
    } else if handler == libc::SIG_DFL || handler == libc::SIG_IGN {
        // Restore the default action and return: the faulting instruction runs again and the
        // process dies the way it would have without us.
        // SAFETY: plain sigaction call with a zeroed (SIG_DFL) action.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(signal, &action, ptr::null_mut());
        }
    } else {
        // SAFETY: a one-argument handler, installed without SA_SIGINFO.
        let f: unsafe extern "C" fn(i32) = unsafe { std::mem::transmute(handler) };
        unsafe { f(signal) };
    }
}

/// The stack and frame pointers of a signal context.
///
/// # Safety
/// `context` must be the `ucontext_t` the kernel passed to an SA_SIGINFO handler.
unsafe fn context_sp_fp(context: *mut c_void) -> (usize, usize) {
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    // SAFETY: per the function's contract.
    unsafe {
        let gregs = &(*(context as *const libc::ucontext_t)).uc_mcontext.gregs;
        (gregs[libc::REG_RSP as usize] as usize, gregs[libc::REG_RBP as usize] as usize)
    }
    #[cfg(all(target_os = "linux", target_arch = "aarch64"))]
    // SAFETY: per the function's contract.
    unsafe {
        let mcontext = &(*(context as *const libc::ucontext_t)).uc_mcontext;
        (mcontext.sp as usize, mcontext.regs[29] as usize)
    }
}

/// The program counter of a signal context.
///
/// # Safety
/// `context` must be the `ucontext_t` the kernel passed to an SA_SIGINFO handler.
unsafe fn context_pc(context: *mut c_void) -> usize {
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    // SAFETY: per the function's contract.
    unsafe {
        (*(context as *const libc::ucontext_t)).uc_mcontext.gregs[libc::REG_RIP as usize] as usize
    }
    #[cfg(all(target_os = "linux", target_arch = "aarch64"))]
    // SAFETY: per the function's contract.
    unsafe {
        (*(context as *const libc::ucontext_t)).uc_mcontext.pc as usize
    }
}

//! Exceptions: tags, exception objects, and the unwinder that throws them.
//!
//! - A [`Tag`] is an identity with a type (its parameters); tags compare by address. Every
//!   instance has its defined tags made anew; imported tags are the exporter's own.
//! - An exception is a [`VMException`]: its tag, its payload (one 16-byte slot per tag
//!   parameter, the layout `vmoffsets::exception` gives generated code) and, when it came from
//!   the host, the host's handle for the object it was (so that it leaves wasm unchanged). An
//!   `exnref` is the exception's address. The exceptions wasm code can reach live in a
//!   per-thread arena until the outermost activation ends ([`activation_ended`]); one stored in
//!   a table or a global is kept for the thread's lifetime instead (see [`note_stored`]).
//! - Throwing: generated code calls `throw`, `throw_ref` (and the exit trampoline
//!   `throw_host`) through a small stub that links a frame and hands its frame pointer to the
//!   runtime function. That walks the frame-pointer chain of generated code from there, looking
//!   each return address up among the call sites with exception handlers (Cranelift's
//!   `try_call`, `code_info::ExceptionSite`); the first handler whose tag is the
//!   exception's (tags are resolved in the frame's instance, whose vmctx the call site spilled)
//!   or that catches all wins, and the thread resumes there with the stack and frame pointers
//!   of its frame and the `exnref` in the first payload register. Every register is clobbered
//!   at a `try_call`, so nothing else needs restoring. The walk stops at the first return
//!   address outside generated code (the host's entry into wasm): no wasm handler, and the
//!   activation unwinds to that entry as traps do (`traps::unwind_with`), which surfaces the
//!   exception in the host. Traps never come here: wasm cannot catch them.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use wasmparser::{FuncType, RefType, ValType};

use super::code_memory;
use super::instance::Instance;
use super::traps;
use crate::code_info::ExceptionHandler;
use crate::trap::TrapKind;

/// An exception tag. Identity is the allocation's address.
#[derive(Debug)]
pub struct Tag {
    ty: FuncType,
    /// The canonical id of the tag's type (`runtime::signatures`): what a tag import is
    /// matched by (type equality, iso-recursive across modules).
    type_id: u32,
}

impl Tag {
    /// A tag of type `ty`, whose canonical id is `type_id`.
    pub fn new(ty: FuncType, type_id: u32) -> Arc<Tag> {
        Arc::new(Tag { ty, type_id })
    }

    /// A tag whose type is `ty` as a plain function type, final and alone in its recursion
    /// group (`new WebAssembly.Tag`, `JSTag`).
    pub fn with_plain_type(ty: FuncType) -> Arc<Tag> {
        let type_id = super::signatures::canonical_ids(std::slice::from_ref(&ty), &[], &Default::default())[0];
        Tag::new(ty, type_id)
    }

    /// The canonical id of the tag's type.
    pub fn type_id(&self) -> u32 {
        self.type_id
    }

    /// The tag's type: its parameters are the payload's types; it has no results.
    pub fn ty(&self) -> &FuncType {
        &self.ty
    }

    /// `WebAssembly.JSTag`: the tag of JS values thrown through wasm, one externref.
    pub fn js_tag() -> &'static Arc<Tag> {
        static JS_TAG: OnceLock<Arc<Tag>> = OnceLock::new();
        JS_TAG.get_or_init(|| Tag::with_plain_type(FuncType::new([ValType::Ref(RefType::EXTERNREF)], [])))
    }
}

/// An exception object. `payload_ptr` comes first: generated code reads it
/// (`vmoffsets::exception::PAYLOAD`).
#[repr(C)]
#[derive(Debug)]
pub struct VMException {
    payload_ptr: *const u128,
    payload: Box<[u128]>,
    tag: Arc<Tag>,
    /// The host's handle for the object this exception is (0: none yet).
    host: AtomicUsize,
}

// SAFETY: `payload_ptr` points into `payload`, owned and never mutated after construction.
unsafe impl Send for VMException {}
// SAFETY: as above; `host` is atomic.
unsafe impl Sync for VMException {}

impl VMException {
    /// An exception of `tag` with `payload` (one slot per tag parameter).
    pub fn new(tag: Arc<Tag>, payload: Vec<u128>) -> Arc<VMException> {
        let payload = payload.into_boxed_slice();
        Arc::new(VMException {
            payload_ptr: payload.as_ptr(),
            payload,
            tag,
            host: AtomicUsize::new(0),
        })
    }

    pub fn tag(&self) -> &Arc<Tag> {
        &self.tag
    }

    pub fn payload(&self) -> &[u128] {
        &self.payload
    }

    /// The host's handle for the object this exception is, 0 if none.
    pub fn host_handle(&self) -> usize {
        self.host.load(Ordering::Relaxed)
    }

    pub fn set_host_handle(&self, handle: usize) {
        self.host.store(handle, Ordering::Relaxed);
    }
}

thread_local! {
    /// The exceptions generated code may hold `exnref`s to, in this thread's activation.
    /// With, in the same thread-local (one lookup when the activation ends), whether an arena
    /// exception was stored in a table or global during the activation.
    static ARENA: RefCell<Arena> = const { RefCell::new(Arena { items: Vec::new(), pinned: false }) };
    /// Exceptions stored in tables or globals: kept for the thread's lifetime.
    static KEPT: RefCell<Vec<Arc<VMException>>> = const { RefCell::new(Vec::new()) };
    /// The exception that left the activation last (`TrapKind::Exception`).
    static UNCAUGHT: RefCell<Option<Arc<VMException>>> = const { RefCell::new(None) };
    /// The host exception an import threw, for `throw_host`.
    static PENDING_HOST: RefCell<Option<Arc<VMException>>> = const { RefCell::new(None) };
    /// Called when a wasm handler catches the pending host exception.
    static HOST_CAUGHT: Cell<Option<fn()>> = const { Cell::new(None) };
}

struct Arena {
    items: Vec<Arc<VMException>>,
    pinned: bool,
}

/// `exception` as an `exnref` value: valid while the activation runs (or longer, see
/// [`note_stored`]).
pub fn to_wasm(exception: Arc<VMException>) -> usize {
    let address = Arc::as_ptr(&exception) as usize;
    ARENA.with(|a| a.borrow_mut().items.push(exception));
    address
}

/// The exception an `exnref` (non-null) points to.
///
/// # Safety
/// `exnref` must be an `exnref` value generated code holds, made by [`to_wasm`] in this
/// thread's current activation or kept since (so the exception is alive).
pub unsafe fn from_wasm(exnref: usize) -> Arc<VMException> {
    let ptr = exnref as *const VMException;
    // SAFETY: per the contract, the arena (or KEPT) holds a strong count of this `Arc`.
    unsafe {
        Arc::increment_strong_count(ptr);
        Arc::from_raw(ptr)
    }
}

/// A reference `value` was stored in a table or a global: if it is an exception of the current
/// activation, the activation's exceptions outlive it.
pub(crate) fn note_stored(value: usize) {
    if value == 0 {
        return;
    }
    ARENA.with(|a| {
        let mut arena = a.borrow_mut();
        if arena.items.iter().any(|e| Arc::as_ptr(e) as usize == value) {
            arena.pinned = true;
        }
    });
}

/// The outermost activation on this thread ended: no generated code holds an `exnref` now,
/// except in tables and globals.
pub(crate) fn activation_ended() {
    let (arena, pinned) = ARENA.with(|a| {
        let mut arena = a.borrow_mut();
        // Most activations caught nothing: no arena to hand over.
        if arena.items.is_empty() {
            arena.pinned = false;
            return (Vec::new(), false);
        }
        (std::mem::take(&mut arena.items), std::mem::replace(&mut arena.pinned, false))
    });
    if pinned {
        KEPT.with(|k| k.borrow_mut().extend(arena));
    }
}

/// The exception the last `TrapKind::Exception` on this thread carried out, taken.
pub fn take_uncaught() -> Option<Arc<VMException>> {
    UNCAUGHT.with(|u| u.borrow_mut().take())
}

/// Sets the exception the import that is about to report failure threw (the exit trampoline
/// then throws it into wasm), or clears it.
pub fn set_pending_host(exception: Option<Arc<VMException>>) {
    PENDING_HOST.with(|p| *p.borrow_mut() = exception);
}

/// Installs the function called when a wasm handler catches the pending host exception (the
/// host forgets the JS exception it kept for rethrowing).
pub fn set_host_caught_hook(hook: fn()) {
    HOST_CAUGHT.with(|h| h.set(Some(hook)));
}

/// Where a handler resumes.
struct Handler {
    pc: usize,
    sp: usize,
    fp: usize,
}

/// Finds the innermost handler for `tag` among the wasm frames above the stub frame at
/// `stub_fp`.
///
/// # Safety
/// `stub_fp` must be the frame pointer of a throw stub called by generated code on this
/// thread, inside a wasm activation.
unsafe fn find_handler(tag: &Arc<Tag>, stub_fp: usize) -> Option<Handler> {
    let top = traps::activation_top();
    let readable = |fp: usize, low: usize| fp.is_multiple_of(8) && fp >= low && fp.saturating_add(16) <= top;
    if !readable(stub_fp, 0) {
        return None;
    }
    // SAFETY: the stub pushed the caller's frame pointer and return address at [fp, fp + 16).
    let (mut fp, mut pc) = unsafe { (*(stub_fp as *const usize), *((stub_fp + 8) as *const usize)) };
    let mut low = stub_fp + 16;
    loop {
        if !code_memory::is_code_address(pc) || !readable(fp, low) {
            return None;
        }
        if let Some((start, site)) = code_memory::exception_site(pc) {
            let sp = fp - site.frame_offset as usize;
            let mut context = 0usize;
            for handler in site.handlers.iter() {
                match *handler {
                    ExceptionHandler::Context { sp_offset } => {
                        // SAFETY: the call site spilled its vmctx there, in its own frame
                        // (between its stack pointer and its frame pointer).
                        context = unsafe { *((sp + sp_offset as usize) as *const usize) };
                    }
                    ExceptionHandler::Default { target } => {
                        return Some(Handler { pc: start + target as usize, sp, fp });
                    }
                    ExceptionHandler::Tag { tag: index, target } => {
                        if context == 0 {
                            continue;
                        }
                        // SAFETY: the context is the vmctx of the instance the frame's code
                        // runs for, alive while the frame is.
                        let instance = unsafe { Instance::from_vmctx(context as *mut u8) };
                        if instance.tag(index).is_some_and(|t| Arc::ptr_eq(t, tag)) {
                            return Some(Handler { pc: start + target as usize, sp, fp });
                        }
                    }
                }
            }
        }
        // SAFETY: `fp` is a frame pointer of generated code inside the activation (checked).
        let (next, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
        low = fp + 16;
        fp = next;
        pc = ret;
    }
}

/// Throws `exception` from the stub frame at `stub_fp`: resumes at the innermost handler, or
/// unwinds to the host's entry with `TrapKind::Exception`.
///
/// # Safety
/// As [`find_handler`]; the caller holds nothing that needs dropping (this never returns).
unsafe fn throw(exception: Arc<VMException>, stub_fp: usize) -> ! {
    // SAFETY: per the contract.
    let handler = unsafe { find_handler(&exception.tag, stub_fp) };
    match handler {
        Some(Handler { pc, sp, fp }) => {
            let exnref = to_wasm(exception);
            // SAFETY: `pc`, `sp`, `fp` are a landing pad of a live frame of this activation
            // with that frame's stack and frame pointers; nothing on the frames in between
            // needs dropping (generated code, the stub, and this function, which has moved
            // everything it owned).
            unsafe { resume(pc, sp, fp, exnref) }
        }
        None => {
            let pc = stub_return_address(stub_fp);
            UNCAUGHT.with(|u| *u.borrow_mut() = Some(exception));
            traps::unwind_with(TrapKind::Exception, pc)
        }
    }
}

/// The return address into the stub's caller and the caller's frame pointer.
fn stub_caller(stub_fp: usize) -> (usize, usize) {
    if stub_fp == 0 || traps::activation_top() < stub_fp + 16 {
        return (0, 0);
    }
    // SAFETY: the stub's frame holds the caller's frame pointer and the return address.
    unsafe { (*((stub_fp + 8) as *const usize), *(stub_fp as *const usize)) }
}

fn stub_return_address(stub_fp: usize) -> usize {
    if stub_fp == 0 {
        return 0;
    }
    // SAFETY: the stub's frame holds its return address at fp + 8 (checked non-null).
    unsafe { *((stub_fp + 8) as *const usize) }
}

/// `throw tag`: the payload is in `values`, one slot per tag parameter.
unsafe extern "C" fn throw_tag(vmctx: *mut u8, tag: usize, values: *const u128, stub_fp: usize) -> ! {
    let exception = {
        // SAFETY: generated code passes its vmctx, of a live instance.
        let instance = unsafe { Instance::from_vmctx(vmctx) };
        // Validation proved the index; an absent tag is an engine bug, reported as a trap.
        let Some(tag) = instance.tag(tag as u32).cloned() else {
            traps::unwind_with(TrapKind::Unreachable, stub_return_address(stub_fp))
        };
        let count = tag.ty().params().len();
        // SAFETY: the caller stored one slot per tag parameter at `values`.
        let payload = unsafe { std::slice::from_raw_parts(values, count) }.to_vec();
        VMException::new(tag, payload)
    };
    // SAFETY: called by the stub, from generated code.
    unsafe { throw(exception, stub_fp) }
}

/// `throw_ref exnref` (non-null: generated code checked).
unsafe extern "C" fn throw_ref(_vmctx: *mut u8, exnref: usize, _unused: usize, stub_fp: usize) -> ! {
    // SAFETY: generated code passes an exnref it holds.
    let exception = unsafe { from_wasm(exnref) };
    // SAFETY: called by the stub, from generated code.
    unsafe { throw(exception, stub_fp) }
}

/// The exit trampoline's import reported failure: throw the pending host exception into wasm,
/// or unwind to the host as before when there is none (or no wasm handler catches it; the host
/// then rethrows its own exception unchanged).
unsafe extern "C" fn throw_host(_vmctx: *mut u8, _unused: usize, _unused2: usize, stub_fp: usize) -> ! {
    // A host function that blocked (a WASI sleep) and was interrupted: the activation stops as
    // an interrupt does, with the reason it recorded; no wasm handler sees it.
    if super::interrupts::take_host_call_interrupted() {
        let (pc, fp) = stub_caller(stub_fp);
        traps::unwind_with_frames(TrapKind::Interrupted, pc, fp)
    }
    let Some(exception) = PENDING_HOST.with(|p| p.borrow_mut().take()) else {
        let (pc, fp) = stub_caller(stub_fp);
        traps::unwind_with_frames(TrapKind::HostException, pc, fp)
    };
    // SAFETY: called by the stub, from generated code.
    let handler = unsafe { find_handler(&exception.tag, stub_fp) };
    match handler {
        Some(Handler { pc, sp, fp }) => {
            if let Some(hook) = HOST_CAUGHT.with(|h| h.get()) {
                hook();
            }
            let exnref = to_wasm(exception);
            // SAFETY: as in `throw`.
            unsafe { resume(pc, sp, fp, exnref) }
        }
        None => {
            drop(exception);
            // The JS exception's stack gets the wasm frames it passed, as a trap's does.
            let (pc, fp) = stub_caller(stub_fp);
            traps::unwind_with_frames(TrapKind::HostException, pc, fp)
        }
    }
}

/// A landing's `exnref` is dead: drops the arena reference its landing pushed (`throw` pushes
/// one per landing, `to_wasm`). Any one entry for the same exception is as good as another
/// (they are clones of one `Arc`); the exception lives on while other landings, a table or a
/// global hold it. Without this, a loop that throws and catches inside one call would keep
/// every exception until the call returns.
pub(super) extern "C" fn exception_release(_vmctx: *mut u8, exnref: usize) {
    let released = ARENA.with(|a| {
        let mut arena = a.borrow_mut();
        let at = arena.items.iter().rposition(|e| Arc::as_ptr(e) as usize == exnref)?;
        Some(arena.items.swap_remove(at))
    });
    // Dropped outside the arena's borrow.
    drop(released);
}

/// Whether the exception `exnref` points to has tag `tag` of the caller's instance (1) or not
/// (0): a legacy `catch` clause.
pub(super) unsafe extern "C" fn exception_matches(vmctx: *mut u8, exnref: usize, tag: u32) -> u32 {
    // SAFETY: generated code passes its vmctx and an exnref it holds (non-null: a landing pad's).
    let (instance, exception) = unsafe { (Instance::from_vmctx(vmctx), &*(exnref as *const VMException)) };
    instance.tag(tag).is_some_and(|t| Arc::ptr_eq(t, &exception.tag)) as u32
}

/// Jumps to a landing pad: restores the stack and frame pointers of its frame and passes the
/// `exnref` in the first exception payload register (Cranelift's: rax on x86-64, x0 on
/// aarch64).
///
/// # Safety
/// `pc` must be a landing pad of a live frame on this thread's stack, `sp` and `fp` that
/// frame's pointers at the call site, and every frame below it abandonable.
unsafe fn resume(pc: usize, sp: usize, fp: usize, exnref: usize) -> ! {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: per the function's contract.
    unsafe {
        std::arch::asm!(
            "mov rsp, rcx",
            "mov rbp, rsi",
            "jmp rdi",
            in("rax") exnref,
            in("rdx") 0usize,
            in("rcx") sp,
            in("rsi") fp,
            in("rdi") pc,
            options(noreturn),
        )
    }
    #[cfg(target_arch = "aarch64")]
    // SAFETY: per the function's contract.
    unsafe {
        std::arch::asm!(
            "mov sp, x2",
            "mov x29, x3",
            "br x4",
            in("x0") exnref,
            in("x1") 0usize,
            in("x2") sp,
            in("x3") fp,
            in("x4") pc,
            options(noreturn),
        )
    }
}

// The stubs generated code calls to throw: each links a frame (so the runtime function knows
// where the wasm frames start: the stub's frame pointer, passed as the fourth argument) and
// calls its runtime function, which never returns.
macro_rules! throw_stub {
    ($stub:literal, $target:ident) => {
        #[cfg(target_arch = "x86_64")]
        std::arch::global_asm!(
            ".text",
            ".p2align 4",
            concat!(".globl ", $stub),
            concat!(".hidden ", $stub),
            concat!($stub, ":"),
            "push rbp",
            "mov rbp, rsp",
            "mov rcx, rbp",
            "call {target}",
            "ud2",
            target = sym $target,
        );
        #[cfg(target_arch = "aarch64")]
        std::arch::global_asm!(
            ".text",
            ".p2align 4",
            concat!(".globl ", $stub),
            concat!(".hidden ", $stub),
            concat!($stub, ":"),
            "stp x29, x30, [sp, #-16]!",
            "mov x29, sp",
            "mov x3, x29",
            "bl {target}",
            "brk #1",
            target = sym $target,
        );
    };
}

throw_stub!("cranewasm_throw_tag_stub", throw_tag);
throw_stub!("cranewasm_throw_ref_stub", throw_ref);
throw_stub!("cranewasm_throw_host_stub", throw_host);

extern "C" {
    fn cranewasm_throw_tag_stub();
    fn cranewasm_throw_ref_stub();
    fn cranewasm_throw_host_stub();
}

/// The addresses generated code calls for `throw`, `throw_ref` and the exit trampoline's
/// host exception.
pub(crate) fn throw_tag_address() -> usize {
    cranewasm_throw_tag_stub as *const () as usize
}

pub(crate) fn throw_ref_address() -> usize {
    cranewasm_throw_ref_stub as *const () as usize
}

pub(crate) fn throw_host_address() -> usize {
    cranewasm_throw_host_stub as *const () as usize
}

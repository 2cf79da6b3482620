//! Interrupting running wasm: termination, deadlines and process exit.
//!
//! One word per thread decides, V8's way: generated code compares the stack pointer with
//! `VMRuntimeLimits::stack_limit` in every function prologue (Cranelift's stack check) and at
//! every loop header (the translator's loop check). To interrupt a thread, another thread (the
//! ticker, the exit hook) sets a reason bit in [`ThreadState::pending`] and then lowers the
//! thread's stack limit to the sentinel `INTERRUPT_LIMIT`, so that the next check fails whatever the
//! stack depth. The failed check leads to [`handle_interrupt`], which takes the reasons, restores
//! the real limit and decides: carry on (a poll that found nothing), or stop the wasm activation
//! with a reason that the entry from the host reports.
//!
//! - A loop check that fails calls the `Interrupt` libcall and carries on unless it returns a
//!   non-zero status, in which case the code traps with [`TrapKind::Interrupted`].
//! - A prologue check that fails raises a STACK_OVERFLOW trap (Cranelift's check cannot call).
//!   The trap handler, seeing a reason pending, does not unwind: it undoes the two instructions
//!   of frame setup that ran (`push rbp; mov rbp, rsp`) and resumes the thread at
//!   [`interrupt_trampoline`] as if the caller had called it, with the function's start address
//!   in r11. The trampoline saves the argument registers, calls [`handle_interrupt`], and either
//!   jumps back to the start of the function (which checks the stack again, now against the real
//!   limit) or unwinds with `Interrupted`. This is the safepoint technique of JVMs (a poll that
//!   faults, a handler that redirects), and it keeps the prologue of every function as cheap as
//!   it was: interrupts cost nothing until they happen.
//!
//! Reasons:
//! - **Poll**: Node stops JS (`worker.terminate()`, `process.exit()` joining workers, `vm`
//!   timeouts, `breakOnSigint`) with V8's TerminateExecution, which generated code never sees.
//!   The ticker thread raises `POLL` on every thread that has been inside the same outermost wasm
//!   call for a tick or more; the handler then asks the host ([`set_host_poll`]) whether execution
//!   is terminating, and if so unwinds so that the host can return to V8.
//! - **Deadline**: an entry with a timeout sets the thread's deadline ([`DeadlineScope`]); the
//!   ticker raises `DEADLINE` when it passes, and the handler stops the call as timed out.
//! - **Exit**: when the process exits ([`shutdown`]), every other thread's wasm stops.

use std::cell::{Cell, RefCell, UnsafeCell};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use crate::vmoffsets::runtime_limits;

/// Per-thread state that generated code reads and writes through `vmctx.runtime_limits`. Its
/// layout is `vmoffsets::runtime_limits`.
#[repr(C)]
pub struct VMRuntimeLimits {
    /// The lowest stack address wasm may use, or `INTERRUPT_LIMIT` while an interrupt is pending.
    pub stack_limit: AtomicUsize,
    /// Fuel consumed, minus the fuel available: metered code stops when it is no longer
    /// negative. Only this thread's code touches it.
    pub fuel_consumed: UnsafeCell<i64>,
}

const _: () = assert!(std::mem::size_of::<VMRuntimeLimits>() == runtime_limits::SIZE as usize);
const _: () =
    assert!(std::mem::offset_of!(VMRuntimeLimits, stack_limit) == runtime_limits::STACK_LIMIT as usize);
const _: () = assert!(
    std::mem::offset_of!(VMRuntimeLimits, fuel_consumed) == runtime_limits::FUEL_CONSUMED as usize
);

/// The stack limit while an interrupt is pending: above every stack address (user space ends
/// below 2^57 even with five-level paging), yet far enough from the top of the address space
/// that Cranelift's prologue check, which adds the frame size to the limit, cannot overflow.
pub const INTERRUPT_LIMIT: usize = 1 << 62;

/// Reason bits of [`ThreadState::pending`].
const POLL: u32 = 1;
const DEADLINE: u32 = 2;
const EXIT: u32 = 4;

/// Why a wasm activation was stopped (what [`TrapKind::Interrupted`] means this time).
///
/// [`TrapKind::Interrupted`]: crate::trap::TrapKind::Interrupted
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum InterruptReason {
    /// The host is terminating execution (V8's TerminateExecution) or the process is exiting:
    /// the host must return to it without raising anything of its own.
    Terminated,
    /// The deadline of an entry passed; `timeout` is that entry's limit.
    TimedOut { timeout: Duration },
    /// Metered code ran out of fuel.
    OutOfFuel,
}

/// How often the ticker looks at the threads running wasm: a thread inside the same outermost
/// call on two ticks in a row is asked to poll the host. Termination is therefore noticed
/// 5–10 ms after it is requested, well within the 100 ms Node users expect; a tick costs the
/// ticker a few microseconds, and the polled thread one call of an empty JS function.
const TICK: Duration = Duration::from_millis(5);

/// Ticks without any wasm activity after which the ticker sleeps until an entry wakes it.
const IDLE_TICKS: u32 = 200;

/// One thread's interrupt state, shared with the ticker and the exit hook.
pub struct ThreadState {
    limits: VMRuntimeLimits,
    /// The real stack limit: the bottom of the thread's stack plus the host's reserve.
    real_stack_limit: usize,
    /// Reason bits raised and not yet handled.
    pending: AtomicU32,
    /// Twice the number of outermost entries into wasm, plus one while one is running. Written
    /// only by the owning thread (plain stores), read by the ticker.
    activity: AtomicU64,
    /// The activity the ticker saw on its last tick (the ticker's own).
    seen_activity: AtomicU64,
    /// The earliest deadline of the entries running on this thread (nanoseconds since
    /// [`epoch`]), or `u64::MAX`. Written by the owning thread, read by the ticker.
    deadline: AtomicU64,
    is_main: bool,
    /// Owner-only: the timeout of each deadline scope, innermost last.
    timeouts: RefCell<Vec<(u64, Duration)>>,
    /// Owner-only: why the last `Interrupted` trap happened.
    reason: Cell<Option<InterruptReason>>,
}

// SAFETY: the fields other threads touch are atomics; `timeouts`, `reason` and the fuel cell
// are used only by the owning thread (the functions that touch them run on it: `current()`).
unsafe impl Sync for ThreadState {}
// SAFETY: as above; the state is shared through `Arc` and only its atomics cross threads.
unsafe impl Send for ThreadState {}

thread_local! {
    static CURRENT: Arc<ThreadState> = ThreadState::register();
    /// A raw pointer to `CURRENT`, readable from a signal handler (const-initialized).
    static CURRENT_PTR: Cell<*const ThreadState> = const { Cell::new(std::ptr::null()) };
    static HOST_POLL: Cell<Option<HostPoll>> = const { Cell::new(None) };
}

/// Asks the host whether execution may go on (`true`), or is terminating (`false`).
pub type HostPoll = fn() -> bool;

/// Sets the calling thread's host poll (the binding's check of V8's termination state).
pub fn set_host_poll(poll: HostPoll) {
    HOST_POLL.with(|p| p.set(Some(poll)));
}

/// Nanoseconds since the first call, on the monotonic clock.
fn now_ns() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

impl ThreadState {
    fn register() -> Arc<ThreadState> {
        let state = Arc::new(ThreadState {
            limits: VMRuntimeLimits {
                stack_limit: AtomicUsize::new(0),
                fuel_consumed: UnsafeCell::new(0),
            },
            real_stack_limit: super::traps::stack_limit(),
            pending: AtomicU32::new(0),
            activity: AtomicU64::new(0),
            seen_activity: AtomicU64::new(0),
            deadline: AtomicU64::new(u64::MAX),
            is_main: super::traps::on_main_thread(),
            timeouts: RefCell::new(Vec::new()),
            reason: Cell::new(None),
        });
        state.reset_stack_limit();
        CURRENT_PTR.with(|p| p.set(Arc::as_ptr(&state)));
        ticker().add(Arc::downgrade(&state));
        if SHUTDOWN.load(Ordering::SeqCst) && !state.is_main {
            state.raise(EXIT);
        }
        state
    }

    /// Raises `bits` for this thread: its next check in generated code fails. Any thread.
    fn raise(&self, bits: u32) {
        // The bits first, then the sentinel: a thread that finds the sentinel finds the bits.
        self.pending.fetch_or(bits, Ordering::SeqCst);
        self.limits.stack_limit.store(INTERRUPT_LIMIT, Ordering::SeqCst);
    }

    /// Restores the real stack limit, unless a reason is (or has just been) raised. Owner only.
    fn reset_stack_limit(&self) {
        self.limits
            .stack_limit
            .store(self.real_stack_limit, Ordering::SeqCst);
        // A raise between the swap of the bits and the store above would be lost otherwise.
        if self.pending.load(Ordering::SeqCst) != 0 {
            self.limits.stack_limit.store(INTERRUPT_LIMIT, Ordering::SeqCst);
        }
    }
}

/// The calling thread's state.
fn current<R>(f: impl FnOnce(&ThreadState) -> R) -> R {
    CURRENT.with(|state| f(state))
}

/// The runtime limits of the calling thread, for the vmctx of instances created on it. An
/// instance is only ever run on the thread that created it (JS objects cannot cross threads),
/// and that thread's state outlives every call into it.
pub fn runtime_limits() -> *const VMRuntimeLimits {
    current(|state| &state.limits as *const VMRuntimeLimits)
}

/// The fuel cell of the calling thread (see [`VMRuntimeLimits::fuel_consumed`]).
pub fn fuel_consumed() -> i64 {
    // SAFETY: only this thread reads or writes its fuel cell, and no wasm is running on it
    // while host code reads it (generated code stores its count before calling out).
    current(|state| unsafe { *state.limits.fuel_consumed.get() })
}

/// Sets the calling thread's fuel cell.
pub fn set_fuel_consumed(value: i64) {
    // SAFETY: as in `fuel_consumed`.
    current(|state| unsafe { *state.limits.fuel_consumed.get() = value });
}

/// This thread's state, for the outermost call that [`enter_outermost`] starts and
/// [`leave_outermost`] ends (one thread-local lookup per call rather than one each).
#[derive(Clone, Copy)]
pub(crate) struct Outermost(*const ThreadState);

/// Marks the start of an outermost call into wasm on this thread (for the ticker's polls).
pub(crate) fn enter_outermost() -> Outermost {
    let state = current(|state| {
        let activity = state.activity.load(Ordering::Relaxed);
        state.activity.store(activity + 1, Ordering::Relaxed);
        state as *const ThreadState
    });
    let ticker = ticker();
    if ticker.parked.load(Ordering::Relaxed) {
        ticker.wake();
    }
    Outermost(state)
}

/// Marks the end of an outermost call into wasm on this thread.
pub(crate) fn leave_outermost(outermost: Outermost) {
    // SAFETY: the pointer is this thread's `CURRENT`, which lives as long as the thread, and
    // the call it was taken for is returning on this thread.
    let state = unsafe { &*outermost.0 };
    {
        let activity = state.activity.load(Ordering::Relaxed);
        state.activity.store(activity + 1, Ordering::Relaxed);
        // A poll raised for the call that ended has nothing left to stop. Most calls end with
        // none raised: a plain load then spares every call a locked read-modify-write (a poll
        // raised just after the load is as one raised just after the clear, a spurious poll at
        // the next call's first check).
        if state.pending.load(Ordering::Relaxed) & POLL != 0
            && state.pending.fetch_and(!POLL, Ordering::SeqCst) & !POLL == 0
        {
            state.reset_stack_limit();
        }
    }
}

/// Decides what a failed check means, on the thread that failed it: `Ok` to carry on, or the
/// reason to stop the activation (also kept for [`take_reason`]).
pub fn handle_interrupt() -> Result<(), InterruptReason> {
    let result = current(|state| {
        let bits = state.pending.swap(0, Ordering::SeqCst);
        state.reset_stack_limit();
        if bits & EXIT != 0 || (SHUTDOWN.load(Ordering::SeqCst) && !state.is_main) {
            // Stay stopped: every later check fails too.
            state.raise(EXIT);
            return Err(InterruptReason::Terminated);
        }
        if let Some(timeout) = expired_timeout(state) {
            return Err(InterruptReason::TimedOut { timeout });
        }
        if bits & POLL != 0 {
            let poll = HOST_POLL.with(|p| p.get());
            IN_HOST_POLL.with(|p| p.set(true));
            let terminating = poll.is_some_and(|poll| !poll());
            IN_HOST_POLL.with(|p| p.set(false));
            if terminating {
                return Err(InterruptReason::Terminated);
            }
        }
        Ok(())
    });
    if let Err(reason) = result {
        record_reason(reason);
    }
    result
}

thread_local! {
    /// Whether this thread is in the host poll of an interrupt check, where the wasm code that
    /// checked keeps its memory's base in registers (`runtime::memory` then grows memories in
    /// place only).
    static IN_HOST_POLL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread is polling the host from an interrupt check: JS that runs then (a
/// debugger's, say) must not move a memory.
pub fn in_host_poll() -> bool {
    IN_HOST_POLL.with(|p| p.get())
}

/// Records why the next `Interrupted` trap happens (fuel exhaustion is decided elsewhere).
pub fn record_reason(reason: InterruptReason) {
    current(|state| state.reason.set(Some(reason)));
}

/// Why the last `Interrupted` trap on this thread happened.
pub fn take_reason() -> InterruptReason {
    current(|state| state.reason.take()).unwrap_or(InterruptReason::Terminated)
}

/// The timeout of the outermost entry whose deadline has passed, if any.
fn expired_timeout(state: &ThreadState) -> Option<Duration> {
    let deadline = state.deadline.load(Ordering::Relaxed);
    let now = now_ns();
    if deadline == u64::MAX || now < deadline {
        return None;
    }
    let timeouts = state.timeouts.borrow();
    timeouts
        .iter()
        .find(|(d, _)| *d <= now)
        .map(|(_, timeout)| *timeout)
}

/// Whether an interrupt is pending on this thread: for host loops that run long on wasm's
/// behalf (bulk memory and table operations), which then call [`handle_interrupt`].
pub fn interrupt_pending() -> bool {
    current(|state| state.pending.load(Ordering::Relaxed) != 0)
}

/// Bytes (or table elements) a bulk operation handles between two interrupt checks: a few
/// milliseconds of work at most.
pub const BULK_CHUNK: usize = 4 << 20;

/// Runs `step(offset, len)` over `[0, total)` in chunks of [`BULK_CHUNK`], from the end when
/// `descending` (an overlapping copy to higher addresses), checking for interrupts between
/// chunks: a bulk operation of gigabytes stops as quickly as a loop does.
pub fn in_chunks(
    total: usize,
    descending: bool,
    mut step: impl FnMut(usize, usize),
) -> Result<(), crate::trap::TrapKind> {
    let chunks = total.div_ceil(BULK_CHUNK);
    for i in 0..chunks {
        let i = if descending { chunks - 1 - i } else { i };
        let offset = i * BULK_CHUNK;
        step(offset, BULK_CHUNK.min(total - offset));
        if i + 1 < chunks && interrupt_pending() && handle_interrupt().is_err() {
            return Err(crate::trap::TrapKind::Interrupted);
        }
    }
    Ok(())
}

// ---- host calls that block ------------------------------------------------------------------

/// How long a blocking host call (a WASI sleep, a read from a pipe) waits before it looks for
/// interrupts again: a stopped thread leaves such a call within this time (or at its deadline,
/// which the wait does not sleep past).
pub const BLOCKING_SLICE: Duration = Duration::from_millis(10);

thread_local! {
    /// Set by a host function's callback that stops its call because of an interrupt: the exit
    /// trampoline's failure path then unwinds as `Interrupted`, not as a host exception.
    static HOST_CALL_INTERRUPTED: Cell<bool> = const { Cell::new(false) };
}

/// For a host function that blocks on wasm's behalf: handles any interrupt pending on this
/// thread, and says how long the caller may block before it calls this again (at most
/// [`BLOCKING_SLICE`], never past the thread's deadline). `Err`: the call must stop; the
/// reason is recorded, and the callback reports failure after [`host_call_interrupted`].
pub fn blocking_check() -> Result<Duration, InterruptReason> {
    if interrupt_pending() {
        handle_interrupt()?;
    }
    current(|state| {
        if let Some(timeout) = expired_timeout(state) {
            let reason = InterruptReason::TimedOut { timeout };
            state.reason.set(Some(reason));
            return Err(reason);
        }
        let deadline = state.deadline.load(Ordering::Relaxed);
        let slice = if deadline == u64::MAX {
            BLOCKING_SLICE
        } else {
            // Wake just after the deadline, so that the next check finds it expired.
            BLOCKING_SLICE.min(Duration::from_nanos(deadline.saturating_sub(now_ns()) + 1))
        };
        Ok(slice)
    })
}

/// Called by a host function's callback that stops its call because [`blocking_check`] said
/// so, just before it returns failure: the call unwinds the activation as
/// `Interrupted` (a deadline's RuntimeError, or V8's termination) instead of as an exception.
pub fn host_call_interrupted() {
    HOST_CALL_INTERRUPTED.with(|f| f.set(true));
}

/// Whether the failing host call stopped because of an interrupt (once).
pub(crate) fn take_host_call_interrupted() -> bool {
    HOST_CALL_INTERRUPTED.with(|f| f.replace(false))
}

/// The deadline of one entry into wasm with a timeout. While it lives, the thread's wasm is
/// stopped when the earliest deadline of its scopes passes.
pub struct DeadlineScope {
    previous: u64,
}

impl DeadlineScope {
    /// Starts a deadline `timeout` from now for the calling thread.
    pub fn new(timeout: Duration) -> DeadlineScope {
        let deadline = now_ns().saturating_add(timeout.as_nanos().min(u64::MAX as u128) as u64);
        let previous = current(|state| {
            let previous = state.deadline.load(Ordering::Relaxed);
            state.timeouts.borrow_mut().push((deadline, timeout));
            state.deadline.store(previous.min(deadline), Ordering::SeqCst);
            previous
        });
        ticker().deadline_set(deadline);
        DeadlineScope { previous }
    }
}

impl Drop for DeadlineScope {
    fn drop(&mut self) {
        current(|state| {
            state.timeouts.borrow_mut().pop();
            state.deadline.store(self.previous, Ordering::SeqCst);
            // An outer call whose own deadline has passed meanwhile stops at its next check.
            if self.previous != u64::MAX && now_ns() >= self.previous {
                state.raise(DEADLINE);
            } else if state.pending.fetch_and(!DEADLINE, Ordering::SeqCst) & !DEADLINE == 0 {
                state.reset_stack_limit();
            }
        });
    }
}

// ---- process exit ----------------------------------------------------------------------------

static SHUTDOWN: AtomicBool = AtomicBool::new(false);

/// The process is exiting: stops the wasm of every thread but the main one (which is running
/// the exit), now and in every later call, so that Node can join its worker threads.
pub fn shutdown() {
    SHUTDOWN.store(true, Ordering::SeqCst);
    ticker().for_each(|state| {
        if !state.is_main {
            state.raise(EXIT);
        }
    });
}

// ---- the ticker ------------------------------------------------------------------------------

struct Ticker {
    threads: Mutex<Vec<Weak<ThreadState>>>,
    /// Set while the ticker sleeps without a timeout; an entry then wakes it.
    parked: AtomicBool,
    /// When the ticker wakes next (nanoseconds since the epoch).
    next_wake: AtomicU64,
    lock: Mutex<()>,
    wakeup: Condvar,
}

fn ticker() -> &'static Ticker {
    static TICKER: OnceLock<&'static Ticker> = OnceLock::new();
    TICKER.get_or_init(|| {
        let ticker: &'static Ticker = Box::leak(Box::new(Ticker {
            threads: Mutex::new(Vec::new()),
            parked: AtomicBool::new(false),
            next_wake: AtomicU64::new(0),
            lock: Mutex::new(()),
            wakeup: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("cranewasm-ticker".into())
            .spawn(move || ticker.run())
            .expect("cannot start the cranewasm ticker thread");
        ticker
    })
}

impl Ticker {
    fn add(&self, state: Weak<ThreadState>) {
        let mut threads = self.threads.lock().unwrap_or_else(|e| e.into_inner());
        threads.retain(|t| t.strong_count() > 0);
        threads.push(state);
    }

    fn for_each(&self, mut f: impl FnMut(&ThreadState)) {
        let threads: Vec<Arc<ThreadState>> = {
            let threads = self.threads.lock().unwrap_or_else(|e| e.into_inner());
            threads.iter().filter_map(Weak::upgrade).collect()
        };
        for state in &threads {
            f(state);
        }
    }

    fn wake(&self) {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.parked.store(false, Ordering::SeqCst);
        self.wakeup.notify_one();
    }

    /// A deadline was set: wake the ticker if it would sleep past it.
    fn deadline_set(&self, deadline: u64) {
        if self.parked.load(Ordering::SeqCst) || deadline < self.next_wake.load(Ordering::SeqCst) {
            self.wake();
        }
    }

    fn run(&self) {
        let mut idle = 0u32;
        let mut guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let now = now_ns();
            let mut next = now + TICK.as_nanos() as u64;
            let mut active = false;
            drop(guard);
            self.for_each(|state| {
                let activity = state.activity.load(Ordering::Relaxed);
                if activity & 1 == 1 {
                    active = true;
                    // In the same outermost call as on the last tick: ask it to poll.
                    if state.seen_activity.swap(activity, Ordering::Relaxed) == activity {
                        state.raise(POLL);
                    }
                }
                let deadline = state.deadline.load(Ordering::SeqCst);
                if deadline != u64::MAX {
                    active = true;
                    if deadline <= now {
                        state.raise(DEADLINE);
                    } else {
                        next = next.min(deadline);
                    }
                }
            });
            guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            idle = if active { 0 } else { idle + 1 };
            if idle >= IDLE_TICKS {
                self.parked.store(true, Ordering::SeqCst);
                self.next_wake.store(u64::MAX, Ordering::SeqCst);
                while self.parked.load(Ordering::SeqCst) {
                    guard = self.wakeup.wait(guard).unwrap_or_else(|e| e.into_inner());
                }
                idle = 0;
                continue;
            }
            self.next_wake.store(next, Ordering::SeqCst);
            let wait = Duration::from_nanos(next.saturating_sub(now_ns()));
            guard = self
                .wakeup
                .wait_timeout(guard, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

// ---- the prologue path -----------------------------------------------------------------------

/// Whether the calling thread (in a signal handler for a prologue's STACK_OVERFLOW trap) has an
/// interrupt pending, which makes the failed check an interrupt rather than an overflow.
/// Signal-safe: reads a const thread-local and an atomic.
pub(crate) fn pending_in_signal_handler() -> bool {
    let state = CURRENT_PTR.with(|p| p.get());
    // SAFETY: CURRENT_PTR points to this thread's state while it is registered: the Arc is
    // held by `CURRENT`, which lives until the thread exits, after any wasm ran on it.
    !state.is_null() && unsafe { (*state).pending.load(Ordering::SeqCst) } != 0
}

/// Called by the interrupt trampoline and the interrupt stub: 0 to carry on, 1 to unwind.
extern "C" fn interrupt_from_prologue() -> u32 {
    // A panic must not unwind into generated code.
    match std::panic::catch_unwind(handle_interrupt) {
        Ok(Ok(())) => 0,
        Ok(Err(_)) => 1,
        Err(_) => {
            record_reason(InterruptReason::Terminated);
            1
        }
    }
}

/// The address loop checks call when they fail: [`interrupt_stub`].
pub fn interrupt_stub_address() -> usize {
    extern "C" {
        fn cranewasm_interrupt_stub();
    }
    cranewasm_interrupt_stub as *const () as usize
}

/// The address the trap handler resumes an interrupted prologue at.
pub(crate) fn interrupt_trampoline() -> usize {
    extern "C" {
        fn cranewasm_interrupt_trampoline();
    }
    cranewasm_interrupt_trampoline as *const () as usize
}

/// Called by [`interrupt_trampoline`] when the activation must stop: unwinds to the innermost
/// entry with an `Interrupted` trap.
extern "C" fn interrupt_unwind(return_address: usize) -> ! {
    super::traps::unwind_interrupted(return_address)
}

// The interrupt stub, called by a loop header's failed check with Cranelift's `preserve_all`
// convention (no argument, no result, no register clobbered): the check's slow path then
// costs the loop nothing in register allocation. Saves every register the System V convention
// lets `interrupt_from_prologue` clobber (rax, rcx, rdx, rsi, rdi, r8–r11, xmm0–xmm15), calls
// it, and either restores them and returns, or unwinds.
#[cfg(target_arch = "x86_64")]
std::arch::global_asm!(
    ".globl cranewasm_interrupt_stub",
    ".type cranewasm_interrupt_stub,@function",
    "cranewasm_interrupt_stub:",
    "push rbp",
    "mov rbp, rsp",
    // rsp is now 16-aligned; 336 = 10 × 8 (9 registers and padding) + 16 × 16.
    "sub rsp, 336",
    "mov [rsp], rax",
    "mov [rsp + 8], rcx",
    "mov [rsp + 16], rdx",
    "mov [rsp + 24], rsi",
    "mov [rsp + 32], rdi",
    "mov [rsp + 40], r8",
    "mov [rsp + 48], r9",
    "mov [rsp + 56], r10",
    "mov [rsp + 64], r11",
    "movdqu [rsp + 80], xmm0",
    "movdqu [rsp + 96], xmm1",
    "movdqu [rsp + 112], xmm2",
    "movdqu [rsp + 128], xmm3",
    "movdqu [rsp + 144], xmm4",
    "movdqu [rsp + 160], xmm5",
    "movdqu [rsp + 176], xmm6",
    "movdqu [rsp + 192], xmm7",
    "movdqu [rsp + 208], xmm8",
    "movdqu [rsp + 224], xmm9",
    "movdqu [rsp + 240], xmm10",
    "movdqu [rsp + 256], xmm11",
    "movdqu [rsp + 272], xmm12",
    "movdqu [rsp + 288], xmm13",
    "movdqu [rsp + 304], xmm14",
    "movdqu [rsp + 320], xmm15",
    "call {handle}",
    "test eax, eax",
    "jnz 2f",
    "mov rax, [rsp]",
    "mov rcx, [rsp + 8]",
    "mov rdx, [rsp + 16]",
    "mov rsi, [rsp + 24]",
    "mov rdi, [rsp + 32]",
    "mov r8, [rsp + 40]",
    "mov r9, [rsp + 48]",
    "mov r10, [rsp + 56]",
    "mov r11, [rsp + 64]",
    "movdqu xmm0, [rsp + 80]",
    "movdqu xmm1, [rsp + 96]",
    "movdqu xmm2, [rsp + 112]",
    "movdqu xmm3, [rsp + 128]",
    "movdqu xmm4, [rsp + 144]",
    "movdqu xmm5, [rsp + 160]",
    "movdqu xmm6, [rsp + 176]",
    "movdqu xmm7, [rsp + 192]",
    "movdqu xmm8, [rsp + 208]",
    "movdqu xmm9, [rsp + 224]",
    "movdqu xmm10, [rsp + 240]",
    "movdqu xmm11, [rsp + 256]",
    "movdqu xmm12, [rsp + 272]",
    "movdqu xmm13, [rsp + 288]",
    "movdqu xmm14, [rsp + 304]",
    "movdqu xmm15, [rsp + 320]",
    "mov rsp, rbp",
    "pop rbp",
    "ret",
    "2:",
    "mov rdi, [rbp + 8]",
    "call {unwind}",
    "ud2",
    ".size cranewasm_interrupt_stub, . - cranewasm_interrupt_stub",
    handle = sym interrupt_from_prologue,
    unwind = sym interrupt_unwind,
);

// The interrupt trampoline, entered (by the trap handler's redirection) as if the wasm caller
// had called it instead of the function: the return address on top of the stack, the
// arguments in rdi, rsi, rdx, rcx, r8, r9, xmm0–xmm7 and on the stack, and r11 = the function's
// start. Saves the argument registers, calls `interrupt_from_prologue`, and then either
// restores them and jumps to the function's start (stack exactly as the caller left it), or
// unwinds.
#[cfg(target_arch = "x86_64")]
std::arch::global_asm!(
    ".globl cranewasm_interrupt_trampoline",
    ".type cranewasm_interrupt_trampoline,@function",
    "cranewasm_interrupt_trampoline:",
    "push rbp",
    "mov rbp, rsp",
    // rsp is now 16-aligned; 192 = 7 × 8 + 8 (padding) + 8 × 16 keeps it so for the call.
    "sub rsp, 192",
    "mov [rsp], rdi",
    "mov [rsp + 8], rsi",
    "mov [rsp + 16], rdx",
    "mov [rsp + 24], rcx",
    "mov [rsp + 32], r8",
    "mov [rsp + 40], r9",
    "mov [rsp + 48], r11",
    "movdqu [rsp + 64], xmm0",
    "movdqu [rsp + 80], xmm1",
    "movdqu [rsp + 96], xmm2",
    "movdqu [rsp + 112], xmm3",
    "movdqu [rsp + 128], xmm4",
    "movdqu [rsp + 144], xmm5",
    "movdqu [rsp + 160], xmm6",
    "movdqu [rsp + 176], xmm7",
    "call {handle}",
    "test eax, eax",
    "jnz 2f",
    "mov rdi, [rsp]",
    "mov rsi, [rsp + 8]",
    "mov rdx, [rsp + 16]",
    "mov rcx, [rsp + 24]",
    "mov r8, [rsp + 32]",
    "mov r9, [rsp + 40]",
    "mov r11, [rsp + 48]",
    "movdqu xmm0, [rsp + 64]",
    "movdqu xmm1, [rsp + 80]",
    "movdqu xmm2, [rsp + 96]",
    "movdqu xmm3, [rsp + 112]",
    "movdqu xmm4, [rsp + 128]",
    "movdqu xmm5, [rsp + 144]",
    "movdqu xmm6, [rsp + 160]",
    "movdqu xmm7, [rsp + 176]",
    "mov rsp, rbp",
    "pop rbp",
    "jmp r11",
    "2:",
    "mov rdi, [rbp + 8]",
    "call {unwind}",
    "ud2",
    ".size cranewasm_interrupt_trampoline, . - cranewasm_interrupt_trampoline",
    handle = sym interrupt_from_prologue,
    unwind = sym interrupt_unwind,
);

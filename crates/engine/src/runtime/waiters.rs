//! `memory.atomic.wait32/64` and `memory.atomic.notify` on shared memories: the engine's wait
//! queue, one FIFO of waiters per native address, all under one lock.
//!
//! A waiter checks the value and enqueues itself under the lock; a notifier takes the same lock
//! to dequeue, so a store followed by a notify can never slip between a waiter's check and its
//! sleep (the futex protocol). Addresses are native: a shared memory never moves (it reserves
//! its maximum up front, see `runtime::memory`), so every thread sees one address per cell.
//!
//! JS's `Atomics.wait`/`Atomics.notify` on the memory's SharedArrayBuffer use V8's own waiter
//! list, which V8 does not expose. The binding bridges the two (under cranewasm/register): a
//! wasm notify then also calls the host's ([`set_host_notify`]), and JS's notify also calls
//! [`notify`].
//!
//! A waiting thread wakes every [`SLICE`] to look for interrupts (a Worker's `terminate()`, a
//! deadline, process exit), so that a wait never keeps a thread that is being stopped.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub use crate::libcall::WAIT_INTERRUPTED;

/// How long a waiter sleeps before it looks for interrupts.
const SLICE: Duration = Duration::from_millis(50);

struct Waiter {
    /// Set (under the queue lock) by the notify that dequeued this waiter.
    woken: AtomicBool,
    condvar: Condvar,
}

type Queues = HashMap<usize, VecDeque<Arc<Waiter>>>;

static QUEUES: LazyLock<Mutex<Queues>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// The queues, locked. A poisoned lock (a panic while holding it, which no code here does)
/// still holds a consistent map.
fn queues() -> MutexGuard<'static, Queues> {
    QUEUES.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reads the cell of `width` bytes (4 or 8) at `address`, sequentially consistent.
///
/// # Safety
/// `address` is aligned to `width` and lies inside a live shared memory.
unsafe fn read(address: usize, width: u32) -> u64 {
    // SAFETY: per the contract; memory cells are accessed atomically by every party.
    unsafe {
        if width == 8 {
            (*(address as *const AtomicU64)).load(Ordering::SeqCst)
        } else {
            u64::from((*(address as *const AtomicU32)).load(Ordering::SeqCst))
        }
    }
}

/// Waits under way in the process (entered [`wait`] and not returned).
static WAITING: AtomicU32 = AtomicU32::new(0);

/// Uncounts a wait when it returns, whichever way.
struct Counted;

impl Drop for Counted {
    fn drop(&mut self) {
        WAITING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The count of waits under way, for a host that reads it without a call (zero: a notify would
/// wake nobody here).
pub fn waiting_word() -> &'static AtomicU32 {
    &WAITING
}

/// Waits on the cell of `width` bytes at native `address` while it holds `expected`, at most
/// `timeout_ns` nanoseconds (forever when negative): 0 woken by a notify, 1 the cell did not
/// hold `expected`, 2 timed out, [`WAIT_INTERRUPTED`] the thread is being stopped.
///
/// # Safety
/// As [`read`].
pub unsafe fn wait(address: usize, expected: u64, timeout_ns: i64, width: u32) -> u32 {
    let deadline = u64::try_from(timeout_ns)
        .ok()
        .map(|ns| Instant::now().checked_add(Duration::from_nanos(ns)));
    let mut queues = queues();
    // Counted before the value is read: a notifier that stores, then finds no wait under way
    // ([`waiting_word`]), stored before this read.
    WAITING.fetch_add(1, Ordering::SeqCst);
    let _counted = Counted;
    // SAFETY: per the contract.
    let current = unsafe { read(address, width) };
    let expected = if width == 8 { expected } else { expected & 0xffff_ffff };
    if current != expected {
        return 1;
    }
    let waiter = Arc::new(Waiter {
        woken: AtomicBool::new(false),
        condvar: Condvar::new(),
    });
    queues.entry(address).or_default().push_back(waiter.clone());
    loop {
        let now = Instant::now();
        // A deadline too far to represent is no deadline.
        let remaining = match deadline {
            Some(Some(at)) => Some(at.saturating_duration_since(now)),
            _ => None,
        };
        if remaining == Some(Duration::ZERO) {
            dequeue(&mut queues, address, &waiter);
            return 2;
        }
        let slice = remaining.map_or(SLICE, |r| r.min(SLICE));
        queues = waiter
            .condvar
            .wait_timeout(queues, slice)
            .unwrap_or_else(|e| e.into_inner())
            .0;
        if waiter.woken.load(Ordering::SeqCst) {
            return 0;
        }
        if super::interrupts::interrupt_pending() {
            // The interrupt is handled without the lock held (it may call into the host).
            dequeue(&mut queues, address, &waiter);
            drop(queues);
            if super::interrupts::handle_interrupt().is_err() {
                return WAIT_INTERRUPTED;
            }
            queues = self::queues();
            if waiter.woken.load(Ordering::SeqCst) {
                return 0;
            }
            queues.entry(address).or_default().push_back(waiter.clone());
        }
    }
}

fn dequeue(queues: &mut Queues, address: usize, waiter: &Arc<Waiter>) {
    if let Some(queue) = queues.get_mut(&address) {
        queue.retain(|w| !Arc::ptr_eq(w, waiter));
        if queue.is_empty() {
            queues.remove(&address);
        }
    }
}

/// Wakes at most `count` waiters of `address`, oldest first; how many it woke.
pub fn notify(address: usize, count: u32) -> u32 {
    let mut queues = queues();
    let Some(queue) = queues.get_mut(&address) else {
        return 0;
    };
    let mut woken = 0;
    while woken < count {
        let Some(waiter) = queue.pop_front() else { break };
        waiter.woken.store(true, Ordering::SeqCst);
        waiter.condvar.notify_one();
        woken += 1;
    }
    if queue.is_empty() {
        queues.remove(&address);
    }
    woken
}

/// The `AtomicWait` libcall.
///
/// # Safety
/// Called by generated code, which checked that `address` is in bounds of a shared memory and
/// aligned to `width`.
pub(super) unsafe extern "C" fn atomic_wait(
    _vmctx: *mut u8,
    address: u64,
    expected: u64,
    timeout_ns: i64,
    width: u32,
) -> u32 {
    // A panic must not unwind into generated code: it counts as an interrupt.
    std::panic::catch_unwind(|| {
        // SAFETY: per the function's contract.
        unsafe { wait(address as usize, expected, timeout_ns, width) }
    })
    .unwrap_or(WAIT_INTERRUPTED)
}

/// Wakes at most `count` waiters of the host's own at a native address (JS's `Atomics.wait`,
/// whose list V8 keeps); how many it woke.
pub type HostNotify = fn(address: usize, count: u32) -> u32;

static HOST_NOTIFY: std::sync::OnceLock<HostNotify> = std::sync::OnceLock::new();

/// Makes wasm's notify also wake the host's waiters (once per process; later calls are
/// ignored): after the engine's own queue, up to the count left.
pub fn set_host_notify(notify: HostNotify) {
    let _ = HOST_NOTIFY.set(notify);
}

/// The `AtomicNotify` libcall.
pub(super) extern "C" fn atomic_notify(_vmctx: *mut u8, address: u64, count: u32) -> u32 {
    std::panic::catch_unwind(|| {
        let woken = notify(address as usize, count);
        match HOST_NOTIFY.get() {
            Some(host) if woken < count => woken + host(address as usize, count - woken),
            _ => woken,
        }
    })
    .unwrap_or(0)
}

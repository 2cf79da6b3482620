//! Sandboxes: the limits that govern the instances made through one (`cranewasm/engine`'s
//! `Sandbox`). An instance belongs to at most one sandbox; every call from the host into code of
//! such an instance runs inside [`Sandbox::enter`], which applies the sandbox's deadline and fuel:
//!
//! - **Deadline**: each outermost call into the sandbox (not a re-entry from one of its own
//!   imports) runs under a [`DeadlineScope`] of the sandbox's timeout.
//! - **Fuel**: code of a metered sandbox's instances is compiled with fuel checks
//!   (`CompileOptions::fuel`): it counts its operators into the thread's fuel cell
//!   (`VMRuntimeLimits::fuel_consumed`, "consumed minus available") and stops when the count
//!   passes zero. While a sandbox's code runs on the thread, its fuel lives in that cell; when
//!   the call returns (or calls into another sandbox) the remainder goes back to the sandbox.
//!
//! Sandboxes, like instances, are used on the thread that created them.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::interrupts::{self, DeadlineScope};

/// The limits of one sandbox.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SandboxLimits {
    /// Bound on each outermost call into the sandbox's code.
    pub timeout: Option<Duration>,
    /// Fuel to start with; `None`: the code is not metered.
    pub fuel: Option<u64>,
    /// How many instances the sandbox may make.
    pub instances: Option<u64>,
    /// Whether each outermost call starts with the whole `fuel` again (the defaults that
    /// `CRANEWASM_FUEL` gives the standard namespace) rather than drawing from one pool.
    pub fuel_per_call: bool,
}

pub struct Sandbox {
    limits: SandboxLimits,
    /// Fuel left while no code of the sandbox runs on the thread.
    fuel: Cell<u64>,
    /// Calls into the sandbox's code on the thread's stack.
    depth: Cell<u32>,
    instances: AtomicU64,
}

// SAFETY: the cells are only used on the thread that owns the sandbox (instances, and hence
// calls into them, never leave it); `Sync` is needed only because instances, which are `Sync`
// for their own reasons, hold an `Arc<Sandbox>`.
unsafe impl Sync for Sandbox {}
// SAFETY: as above.
unsafe impl Send for Sandbox {}

thread_local! {
    /// The sandbox whose code is running innermost on this thread, if any.
    static CURRENT: RefCell<Option<Arc<Sandbox>>> = const { RefCell::new(None) };
}

impl Sandbox {
    pub fn new(limits: SandboxLimits) -> Arc<Sandbox> {
        Arc::new(Sandbox {
            limits,
            fuel: Cell::new(limits.fuel.unwrap_or(0)),
            depth: Cell::new(0),
            instances: AtomicU64::new(0),
        })
    }

    pub fn limits(&self) -> &SandboxLimits {
        &self.limits
    }

    /// Whether the sandbox's code counts fuel.
    pub fn metered(&self) -> bool {
        self.limits.fuel.is_some()
    }

    fn is_current(self: &Arc<Self>) -> bool {
        CURRENT.with(|c| c.borrow().as_ref().is_some_and(|s| Arc::ptr_eq(s, self)))
    }

    /// Fuel left now (also while the sandbox's code is running, from one of its imports).
    pub fn fuel(self: &Arc<Self>) -> u64 {
        if self.is_current() {
            remaining(interrupts::fuel_consumed())
        } else {
            self.fuel.get()
        }
    }

    /// Sets the fuel left; code of the sandbox that is running (below an import) carries on
    /// with it when the import returns.
    pub fn set_fuel(self: &Arc<Self>, fuel: u64) {
        if self.is_current() {
            interrupts::set_fuel_consumed(consumed_for(fuel));
        }
        self.fuel.set(fuel);
    }

    /// Counts one more instance; false when that would pass the instance limit.
    pub fn add_instance(&self) -> bool {
        let limit = self.limits.instances.unwrap_or(u64::MAX);
        self.instances
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < limit).then_some(n + 1))
            .is_ok()
    }

    /// An instance of the sandbox was dropped.
    pub fn remove_instance(&self) {
        self.instances.fetch_sub(1, Ordering::SeqCst);
    }

    /// Enters the sandbox for one call from the host into its code.
    pub fn enter(self: &Arc<Self>) -> SandboxCall {
        let previous = CURRENT.with(|c| c.replace(Some(self.clone())));
        let switched = !previous.as_ref().is_some_and(|p| Arc::ptr_eq(p, self));
        if switched {
            // The fuel cell belongs to the sandbox running innermost: hand it over.
            if let Some(p) = previous.as_ref().filter(|p| p.metered()) {
                p.fuel.set(remaining(interrupts::fuel_consumed()));
            }
            if self.metered() {
                interrupts::set_fuel_consumed(consumed_for(self.fuel.get()));
            }
        }
        let outermost = self.depth.get() == 0;
        if outermost && self.limits.fuel_per_call {
            let fuel = self.limits.fuel.unwrap_or(0);
            self.fuel.set(fuel);
            if self.metered() {
                interrupts::set_fuel_consumed(consumed_for(fuel));
            }
        }
        self.depth.set(self.depth.get() + 1);
        let deadline = match self.limits.timeout {
            Some(timeout) if outermost => Some(DeadlineScope::new(timeout)),
            _ => None,
        };
        SandboxCall {
            sandbox: self.clone(),
            previous,
            switched,
            _deadline: deadline,
        }
    }
}

/// The fuel cell's value for `fuel` left.
fn consumed_for(fuel: u64) -> i64 {
    -(fuel.min(i64::MAX as u64) as i64)
}

/// The fuel left for a fuel cell's value (none once it passed zero).
fn remaining(consumed: i64) -> u64 {
    if consumed >= 0 {
        0
    } else {
        consumed.unsigned_abs()
    }
}

/// One call into a sandbox's code; leaving it hands the fuel back and ends the deadline.
pub struct SandboxCall {
    sandbox: Arc<Sandbox>,
    previous: Option<Arc<Sandbox>>,
    switched: bool,
    _deadline: Option<DeadlineScope>,
}

impl Drop for SandboxCall {
    fn drop(&mut self) {
        let sandbox = &self.sandbox;
        sandbox.depth.set(sandbox.depth.get() - 1);
        if self.switched {
            if sandbox.metered() {
                sandbox.fuel.set(remaining(interrupts::fuel_consumed()));
            }
            if let Some(p) = self.previous.as_ref().filter(|p| p.metered()) {
                interrupts::set_fuel_consumed(consumed_for(p.fuel.get()));
            }
        }
        let previous = self.previous.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

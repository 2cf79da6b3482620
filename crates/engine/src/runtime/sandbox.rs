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
    /// Bytes over all memories the sandbox's instances define.
    pub memory_bytes: Option<u64>,
    /// Elements over all tables the sandbox's instances define.
    pub table_elements: Option<u64>,
    /// Whether each outermost call starts with the whole `fuel` again, and each instance has
    /// `memory_bytes` and `table_elements` to itself (the defaults that `CRANEWASM_FUEL` and
    /// `CRANEWASM_MEMORY_LIMIT` give the standard namespace), rather than all drawing from one
    /// pool.
    pub per_call_and_instance: bool,
}

/// A budget of memory bytes or table elements, shared by what it governs: each memory (table)
/// takes its size from it when created or grown and gives it back when dropped.
#[derive(Debug)]
pub struct Budget {
    limit: u64,
    used: AtomicU64,
}

impl Budget {
    pub fn new(limit: u64) -> Arc<Budget> {
        Arc::new(Budget { limit, used: AtomicU64::new(0) })
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Takes `amount` from the budget; false (and nothing taken) when it would pass the limit.
    pub fn take(&self, amount: u64) -> bool {
        let limit = self.limit;
        self.used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                used.checked_add(amount).filter(|&n| n <= limit)
            })
            .is_ok()
    }

    /// Gives back `amount` taken before.
    pub fn give_back(&self, amount: u64) {
        self.used.fetch_sub(amount, Ordering::SeqCst);
    }

    /// Whether `amount` more would fit now.
    pub fn fits(&self, amount: u64) -> bool {
        self.used
            .load(Ordering::SeqCst)
            .checked_add(amount)
            .is_some_and(|n| n <= self.limit)
    }
}

/// The budgets an instance's own memories and tables draw from.
#[derive(Clone, Debug, Default)]
pub struct Budgets {
    pub memory: Option<Arc<Budget>>,
    pub tables: Option<Arc<Budget>>,
}

pub struct Sandbox {
    limits: SandboxLimits,
    /// Fuel left while no code of the sandbox runs on the thread.
    fuel: Cell<u64>,
    /// Calls into the sandbox's code on the thread's stack.
    depth: Cell<u32>,
    instances: AtomicU64,
    /// The shared budgets (when not per instance).
    budgets: Budgets,
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
            budgets: if limits.per_call_and_instance {
                Budgets::default()
            } else {
                Budgets {
                    memory: limits.memory_bytes.map(Budget::new),
                    tables: limits.table_elements.map(Budget::new),
                }
            },
        })
    }

    /// The budgets a new instance of the sandbox draws its memories and tables from.
    pub fn budgets_for_instance(&self) -> Budgets {
        if self.limits.per_call_and_instance {
            Budgets {
                memory: self.limits.memory_bytes.map(Budget::new),
                tables: self.limits.table_elements.map(Budget::new),
            }
        } else {
            self.budgets.clone()
        }
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
        if outermost && self.limits.per_call_and_instance {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::memory::{LinearMemory, PAGE_SIZE};
    use crate::runtime::table::Table;

    #[test]
    fn memories_take_from_and_give_back_to_their_budget() {
        let budget = Budget::new(3 * PAGE_SIZE);
        let a = LinearMemory::with_options(1, None, true, Some(budget.clone())).unwrap();
        let b = LinearMemory::with_options(1, None, true, Some(budget.clone())).unwrap();
        assert_eq!(a.grow(2), None, "4 pages would pass the budget");
        assert_eq!(a.grow(1), Some(1));
        assert_eq!(b.grow(1), None);
        assert!(LinearMemory::with_options(1, None, true, Some(budget.clone())).is_err());
        drop(a);
        assert_eq!(b.grow(2), Some(1));
        assert!(!budget.fits(1));
        drop(b);
        assert!(budget.fits(3 * PAGE_SIZE));
    }

    #[test]
    fn tables_take_from_and_give_back_to_their_budget() {
        let budget = Budget::new(5);
        let ty = wasmparser::RefType::FUNCREF;
        let a = Table::with_budget(ty, 2, None, 0, Some(budget.clone())).unwrap();
        assert!(Table::with_budget(ty, 4, None, 0, Some(budget.clone())).is_err());
        assert_eq!(a.grow(4, 0), None);
        assert_eq!(a.grow(3, 0), Some(2));
        drop(a);
        assert!(budget.fits(5));
    }

    #[test]
    fn per_instance_budgets_are_fresh_for_each_instance() {
        let limits = SandboxLimits { memory_bytes: Some(PAGE_SIZE), per_call_and_instance: true, ..Default::default() };
        let sandbox = Sandbox::new(limits);
        let (a, b) = (sandbox.budgets_for_instance(), sandbox.budgets_for_instance());
        assert!(!Arc::ptr_eq(a.memory.as_ref().unwrap(), b.memory.as_ref().unwrap()));
        let shared = Sandbox::new(SandboxLimits { per_call_and_instance: false, ..limits });
        let (a, b) = (shared.budgets_for_instance(), shared.budgets_for_instance());
        assert!(Arc::ptr_eq(a.memory.as_ref().unwrap(), b.memory.as_ref().unwrap()));
        assert!(a.tables.is_none());
    }
}

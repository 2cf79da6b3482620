//! How the compiler realizes each execution tier ([`Tier`], defined below the compiler and
//! the runtime in `crate::tier`): the code generator a compile unit of the tier runs and its
//! settings, and the per-function tier state of a module's code ([`TierCell`]).

use std::sync::atomic::{AtomicU8, Ordering};

pub use crate::tier::Tier;

/// The code generator that compiles a tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Cranelift, with the flags [`Tier::cranelift_settings`] gives.
    Cranelift,
}

impl Tier {
    /// The code generator a compile unit of this tier runs.
    pub fn backend(self) -> Backend {
        match self {
            Tier::Baseline | Tier::Optimized => Backend::Cranelift,
        }
    }

    /// Cranelift's `opt_level` and `regalloc_algorithm` for this tier.
    pub fn cranelift_settings(self) -> (&'static str, &'static str) {
        match self {
            Tier::Baseline => ("none", "single_pass"),
            Tier::Optimized => ("speed", "backtracking"),
        }
    }
}

/// A function's current tier, or none yet (lazy compilation), shared between threads.
pub struct TierCell(AtomicU8);

impl TierCell {
    const NONE: u8 = 0;

    pub fn new(tier: Option<Tier>) -> TierCell {
        TierCell(AtomicU8::new(Self::encode(tier)))
    }

    fn encode(tier: Option<Tier>) -> u8 {
        tier.map_or(Self::NONE, |t| t as u8 + 1)
    }

    pub fn get(&self) -> Option<Tier> {
        match self.0.load(Ordering::Acquire) {
            Self::NONE => None,
            code => Some(Tier::ALL[usize::from(code - 1)]),
        }
    }

    pub fn set(&self, tier: Tier) {
        self.0.store(Self::encode(Some(tier)), Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tier_cell_holds_every_tier() {
        for tier in Tier::ALL {
            let cell = TierCell::new(None);
            assert_eq!(cell.get(), None);
            cell.set(tier);
            assert_eq!(cell.get(), Some(tier));
        }
    }
}

//! The execution tier: the seam every compile unit, status, option and code record goes
//! through (V8's `ExecutionTier`).
//!
//! Tiers are ordered from the fastest to compile to the fastest to run. Everything that names
//! or counts tiers derives from this one type: the compile options (`firstTier`,
//! `CRANEWASM_FIRST_TIER`, the list `cranewasm/engine` accepts), the per-function tier state of
//! a module's code ([`TierCell`]) and its counts ([`super::CompileStatus`]), the frames of a
//! stack trace, and the code generator a compile unit dispatches to ([`Tier::backend`]).
//! Adding a tier (the single-pass baseline compiler) is adding a variant here; the compiler
//! then lists every place that must handle it.

use std::sync::atomic::{AtomicU8, Ordering};

/// Which code quality a function is compiled for. Ordered: code only ever moves up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Tier {
    /// Compile speed first: Cranelift without optimizations, single-pass register allocation.
    Baseline = 0,
    /// Code speed first: Cranelift with full optimizations, backtracking register allocation.
    Optimized = 1,
}

/// The code generator that compiles a tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Cranelift, with the flags [`Tier::cranelift_settings`] gives.
    Cranelift,
}

impl Tier {
    /// Every tier, in order.
    pub const ALL: [Tier; 2] = [Tier::Baseline, Tier::Optimized];
    /// How many tiers there are.
    pub const COUNT: usize = Tier::ALL.len();
    /// The tier that tier-up moves code to: the last one.
    pub const TOP: Tier = Tier::ALL[Tier::COUNT - 1];

    /// The tier's position in [`Tier::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Its name in options, statuses and stack traces.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Baseline => "baseline",
            Tier::Optimized => "optimized",
        }
    }

    pub fn parse(s: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.as_str() == s)
    }

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
    fn tiers_are_ordered_and_named_once() {
        for (i, tier) in Tier::ALL.into_iter().enumerate() {
            assert_eq!(tier.index(), i);
            assert_eq!(Tier::parse(tier.as_str()), Some(tier));
            let cell = TierCell::new(None);
            assert_eq!(cell.get(), None);
            cell.set(tier);
            assert_eq!(cell.get(), Some(tier));
        }
        assert!(Tier::ALL.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(Tier::TOP, Tier::Optimized);
        assert_eq!(Tier::parse("fast"), None);
    }
}

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
    /// The single-pass compiler, falling back to Cranelift's baseline per function.
    Singlepass,
}

impl Tier {
    /// The code generator a compile unit of this tier runs.
    pub fn backend(self) -> Backend {
        match self {
            Tier::Singlepass => Backend::Singlepass,
            Tier::Baseline | Tier::Optimized => Backend::Cranelift,
        }
    }

    /// The Cranelift configuration this tier compiles with, for functions of ordinary shape
    /// (`codegen::profile_for` may pick a cheaper one for the others).
    pub fn profile(self) -> Profile {
        match self {
            // Its fallback: the baseline's configuration.
            Tier::Singlepass | Tier::Baseline => Profile::Fast,
            Tier::Optimized => Profile::Full,
        }
    }
}

/// A Cranelift configuration. A tier has its own ([`Tier::profile`]); a function whose shape
/// would make the optimizer blow up (time or memory far past its baseline compile) gets a
/// cheaper one at the optimizing tier, chosen per function in `codegen`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Profile {
    /// The baseline's: no mid-end optimization, single-pass register allocation.
    Fast = 0,
    /// No e-graph (the mid-end: GVN, LICM, algebraic rewrites), but backtracking register
    /// allocation: most of the optimizing tier's gain on straight-line code, in time and space
    /// linear in the function's size.
    Allocated = 1,
    /// The optimizing tier's: `opt_level=speed`, backtracking register allocation.
    Full = 2,
}

impl Profile {
    pub const COUNT: usize = 3;

    /// Cranelift's `opt_level` and `regalloc_algorithm`.
    pub fn cranelift_settings(self) -> (&'static str, &'static str) {
        match self {
            Profile::Fast => ("none", "single_pass"),
            Profile::Allocated => ("none", "backtracking"),
            Profile::Full => ("speed", "backtracking"),
        }
    }

    /// The tier whose code this profile's code counts as: only the baseline's own profile
    /// makes baseline code (a function kept at it is tiered up no further).
    pub fn tier(self) -> Tier {
        match self {
            Profile::Fast => Tier::Baseline,
            Profile::Allocated | Profile::Full => Tier::Optimized,
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

//! The execution tier: the seam every compile unit, status, option and code record goes
//! through (V8's `ExecutionTier`).
//!
//! Tiers are ordered from the fastest to compile to the fastest to run. Everything that names
//! or counts tiers derives from this one type: the compile options (`firstTier`,
//! `CRANEWASM_FIRST_TIER`, the list `cranewasm/engine` accepts), the per-function tier state of
//! a module's code (`compiler::tier::TierCell`) and its counts (`compiler::CompileStatus`), the
//! frames of a stack trace (`runtime::code_memory`), and the code generator a compile unit
//! dispatches to (`compiler::tier`, `Tier::backend`). It lives below both the compiler and the
//! runtime, which both name it. Adding a tier (the single-pass baseline compiler) is adding a
//! variant here; the compiler then lists every place that must handle it.

/// Which code quality a function is compiled for. Ordered: code only ever moves up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Tier {
    /// Compile speed above all: the single-pass compiler (`crate::singlepass`), wasm straight to
    /// machine code. Functions it does not cover get the baseline tier's code instead.
    Singlepass = 0,
    /// Compile speed first: Cranelift without optimizations, single-pass register allocation.
    Baseline = 1,
    /// Code speed first: Cranelift with full optimizations, backtracking register allocation.
    Optimized = 2,
}

impl Tier {
    /// Every tier, in order.
    pub const ALL: [Tier; 3] = [Tier::Singlepass, Tier::Baseline, Tier::Optimized];
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
            Tier::Singlepass => "singlepass",
            Tier::Baseline => "baseline",
            Tier::Optimized => "optimized",
        }
    }

    pub fn parse(s: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.as_str() == s)
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
        }
        assert!(Tier::ALL.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(Tier::TOP, Tier::Optimized);
        assert_eq!(Tier::parse("fast"), None);
    }
}

//! A module's code and the tier of each function's code (V8's `NativeModule`): what instances
//! and callers reach, apart from how the code gets there (`tiering`'s compilation state, V8's
//! `CompilationState`, which depends on this and not the other way).
//!
//! Every defined function's code is reached through the module's [`Dispatch`] entry, so one
//! atomic store moves every instance and every caller to new code. Code only ever moves up the
//! tiers ([`Tier`] is ordered): an install that would move down (a late first-tier compile
//! racing an early tier-up) is dropped. Code that was replaced stays in memory until the module
//! is dropped, so calls in flight finish on it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::codegen::CompiledFunction;
use super::options::CompileOptions;
use super::tier::{Tier, TierCell};
use crate::module::Module;
use crate::runtime::code_memory::{self, CodeBlock, Placement, Symbol};
use crate::runtime::dispatch::Dispatch;

/// Per-function counts of a module's code, by the tier of what runs now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CompileStatus {
    pub functions: usize,
    pub uncompiled: usize,
    /// Indexed by [`Tier::index`].
    pub by_tier: [usize; Tier::COUNT],
    /// Functions whose optimizing-tier code was compiled with cheaper settings than the tier's
    /// own, their shape being one that makes the optimizer blow up (`codegen::profile_for`).
    pub cheaper_settings: usize,
    /// Functions the single-pass tier did not cover, compiled by the baseline tier instead
    /// (counted once compiled, whatever their tier now).
    pub fallbacks: usize,
}

impl CompileStatus {
    /// How many functions run code of `tier` now.
    pub fn count(&self, tier: Tier) -> usize {
        self.by_tier[tier.index()]
    }
}

pub struct ModuleCode {
    pub module: Arc<Module>,
    pub options: CompileOptions,
    dispatch: Dispatch,
    /// Canonical signature id of each type index.
    type_ids: Box<[u32]>,
    /// Every block of code published for this module, freed with it.
    blocks: Mutex<Vec<Arc<CodeBlock>>>,
    /// Tier of each defined function's current code.
    tiers: Box<[TierCell]>,
    /// Whether each defined function's optimizing-tier code was compiled with cheaper settings
    /// (see [`CompileStatus::cheaper_settings`]).
    cheaper: Box<[AtomicBool]>,
    /// Whether each defined function's first-tier compile fell back from the single-pass tier
    /// to the baseline tier (see [`CompileStatus::fallbacks`]).
    fallbacks: Box<[AtomicBool]>,
    /// Serializes installs (the check-then-store of a tier).
    install: Mutex<()>,
    /// Signalled whenever a function's code moves up a tier, and by [`ModuleCode::wake`].
    installed: Condvar,
    /// How many times a function's code moved up: what a persistent cache compares to know
    /// whether its entry is current.
    generation: AtomicU64,
}

impl ModuleCode {
    /// `module`'s code as `dispatch` holds it: function `i` at `tier(i)` (`None`: its lazy
    /// stub), in the already published `blocks`.
    pub fn new(
        module: Arc<Module>,
        options: CompileOptions,
        dispatch: Dispatch,
        blocks: Vec<Arc<CodeBlock>>,
        tier: impl Fn(usize) -> Option<Tier>,
    ) -> ModuleCode {
        let count = module.bodies.len();
        // Baseline code a module starts with (deserialized code) where the first tier is the
        // single-pass one is a fallback, as `note_settings` counts compiled code.
        let fallback = |i: usize| options.first_tier == Tier::Singlepass && tier(i) == Some(Tier::Baseline);
        ModuleCode {
            type_ids: module.type_ids().into(),
            dispatch,
            blocks: Mutex::new(blocks),
            tiers: (0..count).map(|i| TierCell::new(tier(i))).collect(),
            cheaper: (0..count).map(|_| AtomicBool::new(false)).collect(),
            fallbacks: (0..count).map(|i| AtomicBool::new(fallback(i))).collect(),
            install: Mutex::new(()),
            installed: Condvar::new(),
            generation: AtomicU64::new(0),
            module,
            options,
        }
    }

    /// How many defined functions the module has.
    pub fn len(&self) -> usize {
        self.tiers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tiers.is_empty()
    }

    /// Entry point of defined function `defined`: what funcrefs and imports call.
    pub fn entry(&self, defined: u32) -> *const u8 {
        self.dispatch.entry(defined as usize) as *const u8
    }

    /// The code table generated code reads (`vmctx.code_table`).
    pub fn code_table(&self) -> *const *const u8 {
        self.dispatch.code_table() as *const *const u8
    }

    /// The code defined function `defined` runs now (its lazy stub if it has none yet).
    pub fn code(&self, defined: u32) -> usize {
        self.dispatch.code(defined as usize)
    }

    /// Canonical signature ids by type index (`vmctx.type_ids`).
    pub fn type_ids(&self) -> &[u32] {
        &self.type_ids
    }

    /// The tier of defined function `defined`'s current code (`None`: not compiled yet).
    pub fn tier(&self, defined: u32) -> Option<Tier> {
        self.tiers[defined as usize].get()
    }

    pub fn status(&self) -> CompileStatus {
        let mut status = CompileStatus {
            functions: self.tiers.len(),
            ..CompileStatus::default()
        };
        for tier in self.tiers.iter() {
            match tier.get() {
                None => status.uncompiled += 1,
                Some(tier) => status.by_tier[tier.index()] += 1,
            }
        }
        status.cheaper_settings = self.cheaper.iter().filter(|c| c.load(Ordering::Relaxed)).count();
        status.fallbacks = self.fallbacks.iter().filter(|c| c.load(Ordering::Relaxed)).count();
        status
    }

    /// Records that `function`, code of defined function `defined`, was compiled with cheaper
    /// settings than its tier's, if it was.
    pub fn note_settings(&self, defined: u32, function: &CompiledFunction) {
        // The only baseline code of a module whose first tier is the single-pass one.
        if function.tier == Tier::Baseline && self.options.first_tier == Tier::Singlepass {
            if let Some(cell) = self.fallbacks.get(defined as usize) {
                cell.store(true, Ordering::Relaxed);
            }
        }
        if function.cheaper_settings {
            if let Some(cell) = self.cheaper.get(defined as usize) {
                cell.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Places `function` in code memory for good (its block lives as long as the module).
    pub fn publish(&self, defined: u32, function: &CompiledFunction) -> Result<usize, String> {
        self.note_settings(defined, function);
        let (block, offsets) = code_memory::publish(vec![Placement {
            code: &function.code,
            traps: &function.traps,
            sources: (&function.sources[..]).into(),
            exception_sites: &function.exception_sites,
            symbol: Symbol::Wasm {
                module: self.module.clone(),
                index: self.module.num_imported_functions + defined,
                tier: function.tier,
            },
        }])?;
        let code = block.start() as usize + offsets[0];
        self.blocks.lock().unwrap_or_else(|e| e.into_inner()).push(block);
        Ok(code)
    }

    /// Bytes of code memory published for this module so far (every tier's code, replaced
    /// code included: it stays published while the module lives).
    pub fn code_bytes(&self) -> usize {
        self.blocks.lock().unwrap_or_else(|e| e.into_inner()).iter().map(|b| b.len()).sum()
    }

    /// Makes published `code` of `tier` defined function `defined`'s code, unless its code is
    /// already of `tier` or better.
    pub fn set_code(&self, defined: u32, tier: Tier, code: usize) {
        let i = defined as usize;
        let _guard = self.install.lock().unwrap_or_else(|e| e.into_inner());
        if self.tiers[i].get() >= Some(tier) {
            return;
        }
        self.dispatch.set_code(i, code);
        self.tiers[i].set(tier);
        self.generation.fetch_add(1, Ordering::Release);
        self.installed.notify_all();
    }

    /// Each defined function's current code and its tier (`None`: not compiled), read together
    /// under the install lock, so that every pair is consistent.
    pub fn snapshot(&self) -> Vec<Option<(Tier, usize)>> {
        let _guard = self.install.lock().unwrap_or_else(|e| e.into_inner());
        (0..self.tiers.len())
            .map(|i| self.tiers[i].get().map(|tier| (tier, self.dispatch.code(i))))
            .collect()
    }

    /// How many times some function's code moved up a tier since the module was built.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Publishes `function` and makes it `defined`'s code (see [`ModuleCode::set_code`]).
    pub fn install(&self, defined: u32, tier: Tier, function: &CompiledFunction) -> Result<(), String> {
        let code = self.publish(defined, function)?;
        self.set_code(defined, tier, code);
        Ok(())
    }

    /// Blocks until every function runs code of `tier` or better (true), or until `give_up`
    /// says no more code is coming (false). `give_up` is asked after every install and
    /// [`ModuleCode::wake`], and at least every 50 ms.
    pub fn wait_all_at(&self, tier: Tier, give_up: impl Fn() -> bool) -> bool {
        let mut guard = self.install.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if self.tiers.iter().all(|t| t.get() >= Some(tier)) {
                return true;
            }
            if give_up() {
                return false;
            }
            guard = self
                .installed
                .wait_timeout(guard, Duration::from_millis(50))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Wakes [`ModuleCode::wait_all_at`] waiters to ask their `give_up` again.
    pub fn wake(&self) {
        self.installed.notify_all();
    }
}

//! Locals cached in registers: a write-through cache, so that a `local.get` after a
//! `local.set` (or a second `local.get`) of the same local copies a register instead of
//! reloading the frame slot (whose store a reload would wait for).
//!
//! The slot always holds the local's value; a cached register is only a copy of it, owned by
//! the cache (neither free nor on the value stack). So dropping the cache costs nothing: it is
//! dropped when a label is bound or a call made (`Asm::epoch` changes: another path joins, or
//! the callee clobbers the registers), by `spill_all` (after which code may use any pool
//! register), and register by register when `alloc`/`alloc_xmm` run dry.

use super::asm::Size;
use super::{Compiler, Val};

const NONE: u32 = u32::MAX;

/// Which local each register holds a copy of (`NONE`: none), by register number.
#[derive(Clone, Copy, Debug)]
pub(super) struct LocalCache {
    gpr: [u32; 16],
    xmm: [u32; 16],
    /// The `Asm::epoch` the cache is valid in.
    epoch: u32,
    /// Whether some register is cached (a fast path for `cache_clear`).
    any: bool,
}

impl LocalCache {
    pub(super) fn new() -> LocalCache {
        LocalCache { gpr: [NONE; 16], xmm: [NONE; 16], epoch: 0, any: false }
    }
}

impl Compiler<'_> {
    /// Drops the cache if a label was bound or a call made since it was filled.
    pub(super) fn cache_sync(&mut self) {
        if self.cache.epoch != self.a.epoch {
            self.cache_clear();
        }
    }

    /// Drops every cached register (back to the free pools).
    pub(super) fn cache_clear(&mut self) {
        self.cache.epoch = self.a.epoch;
        if !self.cache.any {
            return;
        }
        for r in 0..16 {
            if self.cache.gpr[r] != NONE {
                self.cache.gpr[r] = NONE;
                self.free |= 1 << r;
            }
            if self.cache.xmm[r] != NONE {
                self.cache.xmm[r] = NONE;
                self.free_xmm |= 1 << r;
            }
        }
        self.cache.any = false;
    }

    /// Frees one cached general register, if any is: whether a register is free now.
    pub(super) fn cache_evict_gpr(&mut self) -> bool {
        self.cache_sync();
        if self.free != 0 {
            return true;
        }
        match self.cache.gpr.iter().position(|&l| l != NONE) {
            Some(r) => {
                self.cache.gpr[r] = NONE;
                self.free |= 1 << r;
                true
            }
            None => false,
        }
    }

    /// Frees one cached xmm register, if any is: whether one is free now.
    pub(super) fn cache_evict_xmm(&mut self) -> bool {
        self.cache_sync();
        if self.free_xmm != 0 {
            return true;
        }
        match self.cache.xmm.iter().position(|&l| l != NONE) {
            Some(x) => {
                self.cache.xmm[x] = NONE;
                self.free_xmm |= 1 << x;
                true
            }
            None => false,
        }
    }

    /// Forgets the copies of local `index` (about to change).
    fn cache_forget(&mut self, index: u32) {
        if !self.cache.any {
            return;
        }
        for r in 0..16 {
            if self.cache.gpr[r] == index {
                self.cache.gpr[r] = NONE;
                self.free |= 1 << r;
            }
            if self.cache.xmm[r] == index {
                self.cache.xmm[r] = NONE;
                self.free_xmm |= 1 << r;
            }
        }
    }

    /// `local.get`: a copy of the cached register, else a load from the slot (also cached
    /// when a register is free).
    pub(super) fn local_get(&mut self, index: u32) {
        self.cache_sync();
        let i = index as usize;
        let size = self.locals[i];
        let slot = self.local_slot(i);
        if self.float_locals[i] {
            if let Some(c) = self.cache.xmm.iter().position(|&l| l == index) {
                // If the allocation evicts `c` itself, it hands out `c`: the move is a no-op.
                let x = self.alloc_xmm();
                if x != c as u8 {
                    self.a.mov_xmm(x, c as u8);
                }
                self.push(Val::Xmm(x), size);
                return;
            }
            let x = self.alloc_xmm();
            self.a.load_xmm(size, x, slot);
            if self.free_xmm != 0 {
                let c = self.free_xmm.trailing_zeros() as usize;
                self.free_xmm &= !(1 << c);
                self.a.mov_xmm(c as u8, x);
                self.cache.xmm[c] = index;
                self.cache.any = true;
            }
            self.push(Val::Xmm(x), size);
        } else {
            if let Some(c) = self.cache.gpr.iter().position(|&l| l == index) {
                let r = self.alloc();
                // A 32-bit move zero-extends, as the 32-bit load would.
                self.a.mov_rr(size, r, c as u8);
                self.push(Val::Reg(r), size);
                return;
            }
            let r = self.alloc();
            self.a.load(size, r, slot);
            if self.free != 0 {
                let c = self.free.trailing_zeros() as usize;
                self.free &= !(1 << c);
                self.a.mov_rr(Size::S64, c as u8, r);
                self.cache.gpr[c] = index;
                self.cache.any = true;
            }
            self.push(Val::Reg(r), size);
        }
    }

    /// `local.set`/`local.tee`: stores the value to the slot; `local.set` keeps its register as
    /// the local's cached copy (when it is of the local's class).
    pub(super) fn local_set(&mut self, index: u32, tee: bool) {
        self.cache_sync();
        self.cache_forget(index);
        let i = index as usize;
        let size = self.locals[i];
        let slot = self.local_slot(i);
        if self.top_is_xmm() {
            let (x, _) = self.pop_xmm();
            self.a.store_xmm(Size::S64, slot, x);
            if tee {
                self.push(Val::Xmm(x), size);
            } else if self.float_locals[i] {
                self.cache.xmm[x as usize] = index;
                self.cache.any = true;
            } else {
                self.release_xmm(x);
            }
            return;
        }
        let (r, _) = self.pop_reg();
        self.a.store(Size::S64, slot, r);
        if tee {
            self.push(Val::Reg(r), size);
        } else if !self.float_locals[i] {
            self.cache.gpr[r as usize] = index;
            self.cache.any = true;
        } else {
            self.release(r);
        }
    }
}

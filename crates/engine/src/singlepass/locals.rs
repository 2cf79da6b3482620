//! Locals cached in registers: a write-through cache, so that a `local.get` after a
//! `local.set` (or a second `local.get`) of the same local copies a register instead of
//! reloading the frame slot (whose store a reload would wait for).
//!
//! The slot always holds the local's value; a cached register is only a copy of it, owned by
//! the cache (neither free nor on the value stack). So dropping the cache costs nothing: it is
//! dropped when a label is bound or a call made (`Asm::epoch` changes: another path joins, or
//! the callee clobbers the registers), by `spill_all` (after which code may use any pool
//! register), and register by register when `alloc`/`alloc_xmm` run dry.
//!
//! v128 locals are cached in xmm registers too (16-byte loads and stores: `v128_local_get`,
//! `v128_local_set`). A loop header also loads v128 locals not cached yet into free xmm
//! registers (`preload_locals`), so that its register state holds them and a value carried
//! around the loop in a v128 local (an accumulator) never goes through its slot on the way
//! (the write-through store is off the dependency chain).

use super::asm::{Label, Size};
use super::{Compiler, Fallback, Val};

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
    /// The last copy `local.get` made of a cached register, which a consumer reading it only
    /// may retract (`take_local_operand`) to read the cached register itself.
    last_copy: Option<LocalCopy>,
    /// The copy just before `last_copy`, when the code has nothing between them (so that
    /// both operands of a comparison may be read in place).
    prev_copy: Option<LocalCopy>,
}

/// A `local.get`'s copy `mov reg, cached` at code offsets `start..end`, pushed at `depth`.
#[derive(Clone, Copy, Debug)]
struct LocalCopy {
    start: u32,
    end: u32,
    reg: u8,
    cached: u8,
    index: u32,
    depth: usize,
    epoch: u32,
}

/// A cached register a consumer reads in place of a retracted copy (`take_local_operand`);
/// out of the cache (so nothing evicts or reuses it) until `end_local_operand`.
#[derive(Clone, Copy, Debug)]
pub(super) struct LocalOperand {
    pub(super) reg: u8,
    index: u32,
    epoch: u32,
}

impl LocalCache {
    pub(super) fn new() -> LocalCache {
        LocalCache { gpr: [NONE; 16], xmm: [NONE; 16], epoch: 0, any: false, last_copy: None, prev_copy: None }
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
                let start = self.a.offset();
                self.a.mov_rr(size, r, c as u8);
                if self.cache.gpr[c] == index {
                    self.cache.prev_copy = self.cache.last_copy.filter(|p| p.end == start);
                    self.cache.last_copy = Some(LocalCopy {
                        start,
                        end: self.a.offset(),
                        reg: r,
                        cached: c as u8,
                        index,
                        depth: self.stack.len(),
                        epoch: self.a.epoch,
                    });
                }
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

    /// If the top of the stack is the copy of a cached local the last code emitted made, pops
    /// it and retracts that copy: the consumer then reads the cached register (`reg`) in
    /// place, without writing it, and calls `end_local_operand` when done.
    pub(super) fn take_local_operand(&mut self) -> Option<LocalOperand> {
        // The one before becomes the last, for a second call (checked as the last is).
        let copy = std::mem::replace(&mut self.cache.last_copy, self.cache.prev_copy.take())?;
        let top = self.stack.last()?;
        let valid = matches!(top.val, Val::Reg(r) if r == copy.reg)
            && self.stack.len() == copy.depth + 1
            && self.a.offset() == copy.end
            && self.a.epoch == copy.epoch
            && self.cache.epoch == copy.epoch
            && self.cache.gpr[copy.cached as usize] == copy.index;
        if !valid {
            self.cache.last_copy = None;
            return None;
        }
        self.pop();
        self.release(copy.reg);
        self.a.retract(copy.start);
        // Out of the cache, not free: an allocation cannot evict or reuse it meanwhile.
        self.cache.gpr[copy.cached as usize] = NONE;
        Some(LocalOperand { reg: copy.cached, index: copy.index, epoch: copy.epoch })
    }

    /// Puts a `take_local_operand` register back in the cache (if no label was bound or call
    /// made meanwhile; else frees it).
    pub(super) fn end_local_operand(&mut self, operand: LocalOperand) {
        // The consumer emitted code: no earlier copy is retractable.
        self.cache.last_copy = None;
        self.cache.prev_copy = None;
        if self.a.epoch == operand.epoch && self.cache.epoch == operand.epoch {
            self.cache.gpr[operand.reg as usize] = operand.index;
            self.cache.any = true;
        } else {
            self.release(operand.reg);
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
        if self.top_is_xmm() || self.float_locals[i] {
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

/// How many xmm registers of the pool stay free when a loop header loads v128 locals into the
/// cache (`preload_locals`): the loop's own values need them.
const PRELOAD_KEEP_FREE: u32 = 8;
/// How many locals (from index 0) a loop header considers: compile time stays linear in
/// functions with thousands of locals and loops.
const PRELOAD_SCAN: usize = 64;

impl Compiler<'_> {
    /// xmm `x` = local `l` from its slot (16 bytes for a v128, else its float's size).
    fn load_local_xmm(&mut self, l: usize, x: u8) {
        let slot = self.local_slot(l);
        if self.is_v128_local(l as u32) {
            self.a.load_v128(x, slot);
        } else {
            self.a.load_xmm(self.locals[l], x, slot);
        }
    }

    /// The cached register holding a copy of local `index`, if any.
    fn cached_xmm(&self, index: u32) -> Option<u8> {
        self.cache.xmm.iter().position(|&l| l == index).map(|x| x as u8)
    }

    /// `local.get` of a v128 local: a copy of its cached register into one of the value stack's,
    /// else a load from the slot (also kept in the cache when a register is free).
    pub(super) fn v128_local_get(&mut self, index: u32) -> Result<(), Fallback> {
        self.need_wide()?;
        self.cache_sync();
        if let Some(c) = self.cached_xmm(index) {
            // If the allocation evicts `c` itself, it hands out `c`: the move is a no-op.
            let x = self.alloc_xmm();
            if x != c {
                self.a.mov_xmm(x, c);
            }
            self.push(Val::V128Reg(x), Size::S64);
            return Ok(());
        }
        let x = self.alloc_xmm();
        self.load_local_xmm(index as usize, x);
        if self.free_xmm != 0 {
            let c = self.free_xmm.trailing_zeros() as u8;
            self.free_xmm &= !(1 << c);
            self.a.mov_xmm(c, x);
            self.cache_xmm(c, index);
        }
        self.push(Val::V128Reg(x), Size::S64);
        Ok(())
    }

    /// `local.set`/`local.tee` of a v128 local: the value's register is stored to the slot and
    /// (`local.set`) kept as the local's cached copy.
    pub(super) fn v128_local_set(&mut self, index: u32, tee: bool) -> Result<(), Fallback> {
        self.need_wide()?;
        self.cache_sync();
        self.cache_forget(index);
        let x = self.pop_v128();
        let slot = self.local_slot(index as usize);
        self.a.store_v128(slot, x);
        if tee {
            self.push(Val::V128Reg(x), Size::S64);
        } else {
            self.cache_xmm(x, index);
        }
        Ok(())
    }

    /// Records xmm `x` (owned by the caller, now by the cache) as a copy of local `index`.
    fn cache_xmm(&mut self, x: u8, index: u32) {
        self.cache.xmm[x as usize] = index;
        self.cache.any = true;
    }

    /// At a loop header: loads v128 locals not cached yet into free xmm registers (lowest index
    /// first, among the first `PRELOAD_SCAN`, while more than `PRELOAD_KEEP_FREE` are free), so
    /// that the header's state holds them and values carried around the loop in them
    /// (accumulators) stay in registers instead of going through their slots (a store-to-load
    /// round trip per iteration). A local the loop does not use costs one load on entry, and
    /// one per iteration when the loop's own values evict it or a label inside the loop drops
    /// the cache (every back edge re-establishes the header's state).
    fn preload_locals(&mut self) {
        if !self.wide {
            return;
        }
        for i in 0..self.locals.len().min(PRELOAD_SCAN) {
            if self.free_xmm.count_ones() <= PRELOAD_KEEP_FREE {
                break;
            }
            let index = i as u32;
            if !self.is_v128_local(index) || self.cached_xmm(index).is_some() {
                continue;
            }
            let c = self.free_xmm.trailing_zeros() as u8;
            self.free_xmm &= !(1 << c);
            self.load_local_xmm(i, c);
            self.cache_xmm(c, index);
        }
    }
}

/// A loop header's register state: the locals cached in registers when the loop was entered,
/// which every branch back to the header re-establishes (`establish_head`), so that values
/// carried around the loop need not go through their slots. A branch that does not (the
/// generic `branch`) jumps to `reload`, just before the header, which loads them.
#[derive(Clone, Copy, Debug)]
pub(super) struct LoopHead {
    header: Label,
    reload: Label,
    gpr: [u32; 16],
    xmm: [u32; 16],
}

impl Compiler<'_> {
    /// Binds a loop's header (`header`) with the cached locals as its register state: a
    /// `reload` block that loads them (jumped over on entry) comes first.
    pub(super) fn bind_loop_header(&mut self, header: Label) {
        self.cache_sync();
        self.preload_locals();
        if !self.cache.any {
            self.a.bind(header);
            return;
        }
        let reload = self.a.label();
        self.a.jmp(header);
        self.a.bind(reload);
        let head = LoopHead { header, reload, gpr: self.cache.gpr, xmm: self.cache.xmm };
        self.load_head(&head);
        self.a.bind(header);
        self.loop_heads.push(head);
        // The registers hold the same locals on every path into the header.
        self.cache.epoch = self.a.epoch;
    }

    /// Loads every local of the innermost loop header's state being bound into its register
    /// (after a call at the header clobbered them), and keeps the cache valid.
    pub(super) fn reload_loop_head(&mut self, header: Label) {
        if let Some(head) = self.loop_heads.iter().rev().find(|h| h.header == header).copied() {
            self.load_head(&head);
        }
    }

    /// After the code at a loop's header (calls included): the cache holds the header's state.
    pub(super) fn loop_header_done(&mut self, header: Label) {
        if self.loop_heads.iter().rev().any(|h| h.header == header) {
            self.cache.epoch = self.a.epoch;
        }
    }

    fn load_head(&mut self, head: &LoopHead) {
        for r in 0..16 {
            if head.gpr[r] != NONE {
                let l = head.gpr[r] as usize;
                let slot = self.local_slot(l);
                self.a.load(self.locals[l], r as u8, slot);
            }
            if head.xmm[r] != NONE {
                self.load_local_xmm(head.xmm[r] as usize, r as u8);
            }
        }
    }

    /// Where a generic branch to loop header `header` jumps: its reload block.
    pub(super) fn loop_entry_for_branch(&self, header: Label) -> Label {
        self.loop_heads.iter().rev().find(|h| h.header == header).map_or(header, |h| h.reload)
    }

    /// Puts the loop header's locals into its registers (moves from other cached registers,
    /// else loads) with the stack spilled and no register owned outside the cache, and leaves
    /// the cache holding exactly that state; the flags stay as they are. Returns the header.
    pub(super) fn establish_head(&mut self, header: Label) -> Label {
        let Some(head) = self.loop_heads.iter().rev().find(|h| h.header == header).copied() else {
            return header;
        };
        self.cache_sync();
        for xmm in [false, true] {
            let target = if xmm { head.xmm } else { head.gpr };
            let mut cur = if xmm { self.cache.xmm } else { self.cache.gpr };
            let mut pending: Vec<usize> = (0..16).filter(|&t| target[t] != NONE && cur[t] != target[t]).collect();
            while !pending.is_empty() {
                let source = |cur: &[u32; 16], l: u32| cur.iter().position(|&c| c == l);
                // A register no other pending move reads; in a cycle, the first (loaded).
                let pick = pending
                    .iter()
                    .position(|&t| pending.iter().all(|&o| o == t || source(&cur, target[o]) != Some(t)))
                    .unwrap_or(0);
                let t = pending.swap_remove(pick);
                let l = target[t];
                match source(&cur, l) {
                    // A register another pending move read from is overwritten only when no
                    // order avoids it: that move then finds no copy and loads from the slot.
                    Some(x) => {
                        if xmm {
                            self.a.mov_xmm(t as u8, x as u8);
                        } else {
                            self.a.mov_rr(Size::S64, t as u8, x as u8);
                        }
                    }
                    _ if xmm => self.load_local_xmm(l as usize, t as u8),
                    _ => {
                        let slot = self.local_slot(l as usize);
                        self.a.load(self.locals[l as usize], t as u8, slot);
                    }
                }
                cur[t] = l;
            }
        }
        // The cache is now the header's state.
        for r in 0..16 {
            if self.cache.gpr[r] != NONE {
                self.free |= 1 << r;
            }
            if self.cache.xmm[r] != NONE {
                self.free_xmm |= 1 << r;
            }
            if head.gpr[r] != NONE {
                self.free &= !(1 << r);
            }
            if head.xmm[r] != NONE {
                self.free_xmm &= !(1 << r);
            }
        }
        self.cache.gpr = head.gpr;
        self.cache.xmm = head.xmm;
        self.cache.any = true;
        head.header
    }
}

//! Exception handling at the single-pass tier: the legacy form (`try`, `catch`, `catch_all`,
//! `rethrow`, `delegate`) and `try_table` with `catch`/`catch_all` clauses, and `throw`.
//!
//! The runtime's unwinder (`runtime::exceptions`) is the one the Cranelift tiers use: it walks
//! the frame-pointer chain and looks every return address up among the function's exception
//! sites (`code_info::ExceptionSite`). Every call this compiler makes inside an open handler
//! scope (wasm calls, `throw`, `rethrow`, and the rethrow at the end of a legacy `try` whose
//! clauses did not match) records such a site: its handlers are those of every open scope,
//! innermost first, as `translate::exceptions` lists them for a `try_call`, after a `Context`
//! entry for the frame's vmctx.
//!
//! The frame makes that easy. Every call spills the whole value stack, so at a handler every
//! value is in its home slot; and the frame has a fixed size, so a handler resumes with rsp at
//! `rbp - frame size` (the site's `frame_offset`), whatever stack-argument area the call had
//! reserved below it. A function with exception handling has, at the bottom of its frame
//! (`[rsp]` in its body), a slot for its vmctx, stored when a `try` or `try_table` starts (the
//! unwinder resolves tags in it, and a landing pad reloads r15 from it: the unwinder restores no
//! register), and above it one slot per nesting level of legacy `try`s for the caught `exnref`
//! while a `catch` body runs (what `rethrow` throws again and the body's end releases).
//!
//! The `exnref` reaches a landing pad in rax (Cranelift's first exception payload register).
//! Payloads are read from the exception object (`vmoffsets::exception`, one 16-byte slot per tag
//! parameter) into home slots; `throw` writes them to a 16-byte-per-value area below rsp. The
//! `exnref` a landing does not pass on is released (`LibCall::ExceptionRelease`) where the
//! Cranelift tiers release it: after a `try_table` clause took the payload, when a `catch` body
//! falls through to its end, and on a `br`/`return` out of a `catch` body.
//!
//! `exnref` values are the exception's address (64 bits): `catch_ref`/`catch_all_ref` pass the
//! landing's `exnref` on (unreleased), `throw_ref` throws one (null traps with NullException).
//! Storing one in a global or table must be recorded (`runtime::exceptions::note_stored`): not
//! covered, as other reference stores. A v128 parameter takes a whole payload slot, copied
//! through xmm1 (the function has 16-byte slots).

use wasmparser::{BlockType, Catch, Operator, TryTable, ValType};

use super::asm::{Label, Mem, Size};
use super::asm::{RAX, RDI, RDX, RSI, RSP, R11, R15};
use super::{fallback, size_of, Compiler, Fallback, Kind, Val};
use crate::code_info::{ExceptionHandler, ExceptionSite};
use crate::libcall::LibCall;
use crate::vmoffsets::{exception, vmctx, VALUE_SLOT};

/// The exception-handling state of one function's compilation.
#[derive(Default)]
pub(super) struct State {
    /// Open handler scopes, innermost last.
    scopes: Vec<Scope>,
    /// Open `try` and `try_table` frames, innermost last.
    tries: Vec<TryFrame>,
    /// Call sites with handlers, in code order.
    sites: Vec<Site>,
    /// Whether the function has exception handling (its frame has the slots above).
    used: bool,
    /// The most legacy `try`s open at once: `exnref` slots.
    exn_slots: u32,
}

struct Scope {
    /// The control-stack index of the frame the scope belongs to.
    owner: usize,
    kind: ScopeKind,
}

enum ScopeKind {
    /// A legacy `try` in its `do` part: its landing catches everything (the `catch` clauses
    /// test the tag).
    Legacy { landing: Label, used: bool },
    TryTable { clauses: Vec<Clause> },
}

struct Clause {
    /// The tag caught, or `None` for `catch_all`.
    tag: Option<u32>,
    /// Whether the clause passes the `exnref` on (`catch_ref`, `catch_all_ref`).
    with_ref: bool,
    /// The control-stack index of the clause's label.
    target: usize,
    landing: Label,
    used: bool,
}

struct TryFrame {
    /// Its control-stack index.
    index: usize,
    legacy: bool,
    /// A legacy `try` in its `catch` clauses.
    catching: bool,
    /// Its `catch` clauses are reached (the landing was used): the `exnref` is in its slot.
    caught: bool,
    /// The `exnref` slot (legacy `try`s).
    slot: u32,
    /// Where the test of the next `catch` clause goes (the previous tests failed).
    next_test: Option<Label>,
}

struct Site {
    return_offset: u32,
    /// `(tag or catch-all, landing)`, in the order tried.
    handlers: Vec<(Option<u32>, Label)>,
}

/// The vmctx slot, at the bottom of the frame.
const VMCTX_SLOT: i32 = 0;

fn exn_slot(slot: u32) -> Mem {
    Mem::at(RSP, 8 * (slot as i32 + 1))
}

impl Compiler<'_> {
    /// The bytes the frame reserves below its values for exception handling.
    pub(super) fn exception_frame_bytes(&self) -> usize {
        if self.exc.used {
            8 * (1 + self.exc.exn_slots as usize)
        } else {
            0
        }
    }

    /// The call sites with handlers, for a frame of `frame_size` bytes (the code's labels
    /// resolved by `label_offset`).
    pub(super) fn exception_sites(&self, frame_size: u32) -> Result<Vec<ExceptionSite>, Fallback> {
        let mut sites = Vec::with_capacity(self.exc.sites.len());
        for site in &self.exc.sites {
            let mut handlers = Vec::with_capacity(site.handlers.len() + 1);
            handlers.push(ExceptionHandler::Context { sp_offset: VMCTX_SLOT as u32 });
            for &(tag, landing) in &site.handlers {
                let target = self
                    .a
                    .label_offset(landing)
                    .ok_or_else(|| Fallback("single-pass: unbound landing pad".into()))?;
                handlers.push(match tag {
                    Some(tag) => ExceptionHandler::Tag { tag, target },
                    None => ExceptionHandler::Default { target },
                });
            }
            sites.push(ExceptionSite {
                return_offset: site.return_offset,
                frame_offset: frame_size,
                handlers: handlers.into(),
            });
        }
        Ok(sites)
    }

    /// Right after a call instruction that may throw: records the handlers of the open scopes
    /// (of frames at control index `max_owner` or below) for its return address.
    pub(super) fn note_call_site(&mut self) {
        self.note_call_site_to(usize::MAX);
    }

    fn note_call_site_to(&mut self, max_owner: usize) {
        let mut handlers = Vec::new();
        'scopes: for scope in self.exc.scopes.iter_mut().rev() {
            if scope.owner > max_owner {
                continue;
            }
            match &mut scope.kind {
                ScopeKind::Legacy { landing, used } => {
                    *used = true;
                    handlers.push((None, *landing));
                    break 'scopes;
                }
                ScopeKind::TryTable { clauses } => {
                    for clause in clauses {
                        clause.used = true;
                        handlers.push((clause.tag, clause.landing));
                        if clause.tag.is_none() {
                            // Nothing passes a catch-all.
                            break 'scopes;
                        }
                    }
                }
            }
        }
        if handlers.is_empty() {
            return;
        }
        let return_offset = self.a.offset();
        self.exc.sites.push(Site { return_offset, handlers });
    }

    /// Exception operators in reachable code.
    pub(super) fn exception_operator(&mut self, op: &Operator<'_>) -> Result<(), Fallback> {
        match *op {
            Operator::Try { blockty } => self.begin_try(blockty),
            Operator::TryTable { ref try_table } => self.begin_try_table(try_table),
            Operator::Catch { tag_index } => self.catch(Some(tag_index)),
            Operator::CatchAll => self.catch(None),
            Operator::Delegate { relative_depth } => self.delegate(relative_depth),
            Operator::Rethrow { relative_depth } => self.rethrow(relative_depth),
            Operator::Throw { tag_index } => self.throw(tag_index),
            Operator::ThrowRef => {
                // ThrowRef(vmctx, exnref), non-null.
                self.spill_all();
                self.pop_into(RSI);
                self.a.test_rr(Size::S64, RSI, RSI);
                self.a.trap_if(super::asm::Cond::E, crate::trap::TrapKind::NullException);
                self.throw_ref_in_rsi(usize::MAX);
                Ok(())
            }
            ref other => fallback(format!("{other:?}")),
        }
    }

    /// Exception operators in unreachable code (`None`: not one of them, or only nesting).
    pub(super) fn exception_dead_operator(&mut self, op: &Operator<'_>) -> Option<Result<(), Fallback>> {
        match *op {
            Operator::Try { .. } | Operator::TryTable { .. } => {
                self.dead_depth += 1;
                Some(Ok(()))
            }
            Operator::Catch { tag_index } if self.dead_depth == 0 => Some(self.catch(Some(tag_index))),
            Operator::CatchAll if self.dead_depth == 0 => Some(self.catch(None)),
            Operator::Delegate { relative_depth } if self.dead_depth == 0 => Some(self.delegate(relative_depth)),
            Operator::Delegate { .. } => {
                self.dead_depth -= 1;
                Some(Ok(()))
            }
            Operator::End if self.dead_depth == 0 => Some(self.before_end()),
            _ => None,
        }
    }

    /// The tag's parameters as this compiler carries them: a scalar's size, or `None` for a
    /// v128 (all 16 bytes of a wide slot; the function is compiled with 16-byte slots).
    fn tag_sizes(&self, tag: u32) -> Result<Vec<Option<Size>>, Fallback> {
        let ty = self
            .module
            .tag_type(tag)
            .ok_or_else(|| Fallback(format!("tag #{tag} is not in the module")))?;
        ty.params()
            .iter()
            .map(|&t| match t {
                ValType::V128 => self.need_wide().map(|()| None),
                t => size_of(t).map(Some),
            })
            .collect()
    }

    /// The function has exception handling: its vmctx goes to its slot (again: r15 never
    /// changes, and this is cheaper than a pre-scan).
    fn store_vmctx(&mut self) {
        self.exc.used = true;
        self.a.store(Size::S64, Mem::at(RSP, VMCTX_SLOT), R15);
    }

    fn begin_try(&mut self, blockty: BlockType) -> Result<(), Fallback> {
        self.store_vmctx();
        let slot = self.exc.tries.iter().filter(|t| t.legacy).count() as u32;
        self.exc.exn_slots = self.exc.exn_slots.max(slot + 1);
        let landing = self.a.label();
        let index = self.control.len();
        self.exc.scopes.push(Scope { owner: index, kind: ScopeKind::Legacy { landing, used: false } });
        self.open(Kind::Block, blockty)?;
        self.exc.tries.push(TryFrame { index, legacy: true, catching: false, caught: false, slot, next_test: None });
        Ok(())
    }

    fn begin_try_table(&mut self, try_table: &TryTable) -> Result<(), Fallback> {
        let mut clauses = Vec::with_capacity(try_table.catches.len());
        for catch in &try_table.catches {
            let (tag, with_ref, label) = match *catch {
                Catch::One { tag, label } => (Some(tag), false, label),
                Catch::OneRef { tag, label } => (Some(tag), true, label),
                Catch::All { label } => (None, false, label),
                Catch::AllRef { label } => (None, true, label),
            };
            if let Some(tag) = tag {
                self.tag_sizes(tag)?;
            }
            let target = self
                .control
                .len()
                .checked_sub(1 + label as usize)
                .ok_or_else(|| Fallback(format!("catch label {label} outside the function")))?;
            let landing = self.a.label();
            clauses.push(Clause { tag, with_ref, target, landing, used: false });
        }
        self.store_vmctx();
        let index = self.control.len();
        self.exc.scopes.push(Scope { owner: index, kind: ScopeKind::TryTable { clauses } });
        self.open(Kind::Block, try_table.ty)?;
        self.exc.tries.push(TryFrame { index, legacy: false, catching: false, caught: false, slot: 0, next_test: None });
        Ok(())
    }

    /// The innermost open `try` frame, if it is the innermost control frame.
    fn innermost_try(&self) -> Option<usize> {
        let last = self.exc.tries.len().checked_sub(1)?;
        (self.exc.tries[last].index + 1 == self.control.len()).then_some(last)
    }

    /// At a landing pad: r15 again (the unwinder restores no register).
    fn reload_vmctx(&mut self) {
        self.a.load(Size::S64, R15, Mem::at(RSP, VMCTX_SLOT));
    }

    /// Calls a System V libcall with (vmctx, rsi, edx) already in place but rdi.
    fn exception_libcall(&mut self, call: LibCall) {
        self.a.mov_rr(Size::S64, RDI, R15);
        self.a.load(Size::S64, RAX, Mem::at(R15, vmctx::BUILTINS as i32));
        self.a.call_m(Mem::at(RAX, (call.slot() * 8) as i32));
    }

    /// Releases the `exnref` of legacy `try` slot `slot` (its `catch` body is left).
    fn release_slot(&mut self, slot: u32) {
        self.a.load(Size::S64, RSI, exn_slot(slot));
        self.exception_libcall(LibCall::ExceptionRelease);
    }

    /// Throws the `exnref` in rsi (non-null) to the handlers of frames at control index
    /// `max_owner` or below. The code after it is unreachable.
    fn throw_ref_in_rsi(&mut self, max_owner: usize) {
        // Control leaves the function: its fuel delta goes to the cell first, as the
        // translator's `throw_call` hands it over (rax, rcx, r11 only: rsi is kept).
        self.fuel_exit();
        self.a.mov_rr(Size::S64, RDI, R15);
        self.a.load(Size::S64, RAX, Mem::at(R15, vmctx::BUILTINS as i32));
        self.a.call_m(Mem::at(RAX, (LibCall::ThrowRef.slot() * 8) as i32));
        self.note_call_site_to(max_owner);
        self.reachable = false;
    }

    /// Before a `br` (to the frame at control index `first`) or a `return` (`first` 0), with
    /// the stack spilled: the `exnref` of each legacy `catch` body it leaves is dead.
    pub(super) fn release_catches(&mut self, first: usize) {
        let slots: Vec<u32> = self
            .exc
            .tries
            .iter()
            .filter(|t| t.index >= first && t.catching && t.caught)
            .map(|t| t.slot)
            .collect();
        for slot in slots {
            self.release_slot(slot);
        }
    }

    /// A legacy `catch tag` (`Some`) or `catch_all` clause starts.
    fn catch(&mut self, tag: Option<u32>) -> Result<(), Fallback> {
        let Some(at) = self.innermost_try().filter(|&at| self.exc.tries[at].legacy) else {
            return fallback("catch outside a try");
        };
        let sizes = match tag {
            Some(tag) => self.tag_sizes(tag)?,
            None => Vec::new(),
        };
        let index = self.exc.tries[at].index;
        let frame = self.control[index];
        let (catching, caught, slot) = {
            let t = &self.exc.tries[at];
            (t.catching, t.caught, t.slot)
        };
        if self.reachable {
            self.spill_all();
            if catching && caught {
                // The previous clause's body falls through: its `exnref` is dead.
                self.release_slot(slot);
            }
            self.a.jmp(frame.label);
            self.control[index].branched = true;
        }
        self.truncate(frame.base);
        self.dead_depth = 0;
        let at_test = if !catching {
            // The `do` part ends: its handlers close.
            let Some(Scope { kind: ScopeKind::Legacy { landing, used }, .. }) = self.exc.scopes.pop() else {
                return fallback("a legacy try without its scope");
            };
            self.exc.tries[at].catching = true;
            if used {
                // As at a `try_table`'s landing (see there): every value is in its home slot.
                if self.stack.iter().any(|e| !matches!(e.val, Val::Spilled)) {
                    return fallback("single-pass: values held in registers at a landing pad");
                }
                self.a.bind(landing);
                self.a.store(Size::S64, exn_slot(slot), RAX);
                self.reload_vmctx();
                self.exc.tries[at].caught = true;
            }
            used
        } else {
            match self.exc.tries[at].next_test.take() {
                Some(test) => {
                    self.a.bind(test);
                    true
                }
                None => false,
            }
        };
        if !at_test {
            // No exception reaches this clause (nothing in the `do` part throws, or a
            // catch_all came first).
            self.reachable = false;
            return Ok(());
        }
        self.reachable = true;
        if let Some(tag) = tag {
            // ExceptionMatches(vmctx, exnref, tag) -> i32
            self.a.load(Size::S64, RSI, exn_slot(slot));
            self.a.mov_ri(Size::S32, RDX, i64::from(tag));
            self.exception_libcall(LibCall::ExceptionMatches);
            let next = self.a.label();
            self.a.test_rr(Size::S32, RAX, RAX);
            self.a.jcc(super::asm::Cond::E, next);
            self.exc.tries[at].next_test = Some(next);
            if !sizes.is_empty() {
                self.a.load(Size::S64, RAX, exn_slot(slot));
                self.a.load(Size::S64, RAX, Mem::at(RAX, exception::PAYLOAD as i32));
                self.load_payload(&sizes);
            }
        }
        Ok(())
    }

    /// Pushes the payload the exception whose payload pointer is in rax carries (`sizes`), to
    /// home slots. Uses r11 and xmm1.
    fn load_payload(&mut self, sizes: &[Option<Size>]) {
        for (i, &size) in sizes.iter().enumerate() {
            let from = Mem::at(RAX, (i as u32 * VALUE_SLOT) as i32);
            let home = self.home(self.stack.len());
            match size {
                Some(size) => {
                    self.a.load(size, R11, from);
                    self.a.store(Size::S64, home, R11);
                    self.push(Val::Spilled, size);
                }
                None => {
                    self.a.load_v128(1, from);
                    self.a.store_v128(home, 1);
                    self.push(Val::V128, Size::S64);
                }
            }
        }
    }

    /// `end` (with the innermost control frame still open): what a `try` or `try_table` frame
    /// needs besides a block's end, then the block's end.
    pub(super) fn before_end(&mut self) -> Result<(), Fallback> {
        if let Some(at) = self.innermost_try() {
            if self.exc.tries[at].legacy {
                self.end_try(at, usize::MAX)?;
            } else {
                self.end_try_table(at)?;
            }
        }
        self.end()
    }

    /// `delegate label`: the `try` ends; what its `do` part threw goes to the handlers of the
    /// frame `label` names (relative to the frames outside the `try`) and those outside it.
    fn delegate(&mut self, label: u32) -> Result<(), Fallback> {
        let Some(at) = self.innermost_try().filter(|&at| self.exc.tries[at].legacy) else {
            return fallback("delegate outside a try");
        };
        let max_owner = (self.control.len() - 1)
            .checked_sub(1 + label as usize)
            .ok_or_else(|| Fallback(format!("delegate label {label} outside the function")))?;
        self.end_try(at, max_owner)?;
        self.end()
    }

    /// The end of the legacy `try` `self.exc.tries[at]` (the innermost frame): a `do` part's
    /// landing throws again to the handlers of frames at index `max_owner` or below; a
    /// `catch` body's end releases its `exnref`, and an exception no clause matched goes on.
    fn end_try(&mut self, at: usize, max_owner: usize) -> Result<(), Fallback> {
        let t = self.exc.tries.remove(at);
        let frame = self.control[t.index];
        if self.reachable {
            self.spill_all();
            if t.catching && t.caught {
                self.release_slot(t.slot);
            }
            self.a.jmp(frame.label);
            self.control[t.index].branched = true;
            self.reachable = false;
        }
        self.truncate(frame.base);
        if !t.catching {
            let Some(Scope { kind: ScopeKind::Legacy { landing, used }, .. }) = self.exc.scopes.pop() else {
                return fallback("a legacy try without its scope");
            };
            if used {
                self.a.bind(landing);
                self.reload_vmctx();
                self.a.mov_rr(Size::S64, RSI, RAX);
                self.throw_ref_in_rsi(max_owner);
            }
        } else if let Some(test) = t.next_test {
            // No clause caught it: it goes on.
            self.a.bind(test);
            self.a.load(Size::S64, RSI, exn_slot(t.slot));
            self.throw_ref_in_rsi(usize::MAX);
        }
        self.reachable = false;
        Ok(())
    }

    /// The end of the `try_table` `self.exc.tries[at]` (the innermost frame): the landing pads
    /// its call sites list, each taking the payload and branching to its clause's label.
    fn end_try_table(&mut self, at: usize) -> Result<(), Fallback> {
        let t = self.exc.tries.remove(at);
        let frame = self.control[t.index];
        if self.reachable {
            self.spill_all();
            self.a.jmp(frame.label);
            self.control[t.index].branched = true;
            self.reachable = false;
        }
        self.truncate(frame.base);
        let Some(Scope { kind: ScopeKind::TryTable { clauses }, .. }) = self.exc.scopes.pop() else {
            return fallback("a try_table without its scope");
        };
        // A landing is reached from a call site in the body, which spilled every value below
        // the frame: they are all in their home slots.
        if self.stack.iter().any(|e| !matches!(e.val, Val::Spilled)) && clauses.iter().any(|c| c.used) {
            return fallback("single-pass: values held in registers at a landing pad");
        }
        let saved = self.stack.clone();
        for clause in clauses.into_iter().filter(|c| c.used) {
            self.a.bind(clause.landing);
            self.reload_vmctx();
            self.a.mov_rr(Size::S64, RSI, RAX);
            if let Some(tag) = clause.tag {
                let sizes = self.tag_sizes(tag)?;
                if !sizes.is_empty() {
                    self.a.load(Size::S64, RAX, Mem::at(RSI, exception::PAYLOAD as i32));
                    self.load_payload(&sizes);
                }
            }
            if clause.with_ref {
                let home = self.home(self.stack.len());
                self.a.store(Size::S64, home, RSI);
                self.push(Val::Spilled, Size::S64);
            } else {
                // Wasm never sees this `exnref`: the exception is dead here unless held
                // elsewhere.
                self.exception_libcall(LibCall::ExceptionRelease);
            }
            let depth = self.control.len() - 1 - clause.target;
            self.branch(depth as u32);
            self.stack.clone_from(&saved);
        }
        self.reachable = false;
        Ok(())
    }

    /// `rethrow depth`: throws the `exnref` of the `catch` body `depth` names again.
    fn rethrow(&mut self, depth: u32) -> Result<(), Fallback> {
        let index = (self.control.len() - 1)
            .checked_sub(depth as usize)
            .ok_or_else(|| Fallback("rethrow outside the function".into()))?;
        let Some(t) = self.exc.tries.iter().find(|t| t.index == index && t.legacy && t.catching && t.caught)
        else {
            return fallback("rethrow outside a catch clause");
        };
        let slot = t.slot;
        self.spill_all();
        self.a.load(Size::S64, RSI, exn_slot(slot));
        self.throw_ref_in_rsi(usize::MAX);
        Ok(())
    }

    /// `throw tag`: the payload goes to a 16-byte-per-value area below rsp; the stub never
    /// returns.
    fn throw(&mut self, tag: u32) -> Result<(), Fallback> {
        let sizes = self.tag_sizes(tag)?;
        self.spill_all();
        self.fuel_exit();
        let first = self.stack.len() - sizes.len();
        let bytes = (VALUE_SLOT * sizes.len().max(1) as u32).next_multiple_of(16);
        self.max_outgoing = self.max_outgoing.max(bytes);
        self.a.alu_ri(super::asm::Alu::Sub, Size::S64, RSP, bytes as i32);
        for (k, &size) in sizes.iter().enumerate() {
            let (home, to) = (self.home(first + k), Mem::at(RSP, (k as u32 * VALUE_SLOT) as i32));
            match size {
                Some(size) => {
                    self.a.load(size, RAX, home);
                    self.a.store(Size::S64, to, RAX);
                }
                None => {
                    self.a.load_v128(1, home);
                    self.a.store_v128(to, 1);
                }
            }
        }
        self.stack.truncate(first);
        // Throw(vmctx, tag, values): the stub takes System V's argument registers.
        self.a.mov_rr(Size::S64, RDI, R15);
        self.a.mov_ri(Size::S32, RSI, i64::from(tag));
        self.a.mov_rr(Size::S64, RDX, RSP);
        self.a.load(Size::S64, RAX, Mem::at(R15, vmctx::BUILTINS as i32));
        self.a.call_m(Mem::at(RAX, (LibCall::Throw.slot() * 8) as i32));
        self.note_call_site();
        self.reachable = false;
        Ok(())
    }
}

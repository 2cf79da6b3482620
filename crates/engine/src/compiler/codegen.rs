//! Cranelift configuration and the last step of a compile unit: IR to machine code, with the
//! trap sites that the trap handler needs to turn a fault into the right `RuntimeError`.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::dominator_tree::DominatorTree;
use cranelift_codegen::flowgraph::ControlFlowGraph;
use cranelift_codegen::ir::{Function, UserFuncName};
use cranelift_codegen::isa::{OwnedTargetIsa, TargetIsa};
use cranelift_codegen::loop_analysis::{Loop, LoopAnalysis};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{Context, ExceptionContextLoc, FinalizedMachExceptionHandler};

use crate::trap::TrapKind;

// What the runtime reads of generated code is plain data it defines (`code_info`); the code
// generator produces it.
pub use crate::code_info::{ExceptionHandler, ExceptionSite, SourceRange, TrapSite};
pub use super::tier::{Profile, Tier};

/// The host ISA configured for `tier` (its own profile), built once per process.
pub fn isa(tier: Tier) -> &'static dyn TargetIsa {
    profile_isa(tier.profile())
}

/// The host ISA configured with `profile`, built once per process.
fn profile_isa(profile: Profile) -> &'static dyn TargetIsa {
    static ISAS: [OnceLock<OwnedTargetIsa>; Profile::COUNT] = [const { OnceLock::new() }; Profile::COUNT];
    let cell = &ISAS[profile as usize];
    &**cell.get_or_init(|| build_isa(profile))
}

fn build_isa(profile: Profile) -> OwnedTargetIsa {
    let mut flags = settings::builder();
    let set = |flags: &mut settings::Builder, name: &str, value: &str| {
        flags
            .set(name, value)
            .unwrap_or_else(|e| panic!("cranelift setting {name}={value}: {e}"));
    };
    let (opt_level, regalloc) = profile.cranelift_settings();
    set(&mut flags, "opt_level", opt_level);
    // The IR verifier checks the translator's output; it costs compile time, so only debug
    // builds (and tests) run it.
    set(&mut flags, "enable_verifier", if cfg!(debug_assertions) { "true" } else { "false" });
    set(&mut flags, "regalloc_algorithm", regalloc);
    // Wasm functions may return more values than there are return registers.
    set(&mut flags, "enable_multi_ret_implicit_sret", "true");
    // Stack overflow is caught by the limit checked in every prologue (`stack_limit`), not by
    // probing: the stack of a Node thread is not ours to probe.
    set(&mut flags, "enable_probestack", "false");
    // Generated code is only ever run in this process, at the address it was compiled for; it
    // reaches libcalls through the vmctx's builtins table (the exit trampoline, whose vmctx is a
    // host context, through an absolute address), so no relocation is needed.
    set(&mut flags, "is_pic", "false");
    // Every function, leaf or not, links its frame into the frame-pointer chain: the trap
    // handler walks that chain to name the wasm frames of a trap (`runtime::frames`), and
    // Cranelift's tail calls (`return_call`) rely on it.
    set(&mut flags, "preserve_frame_pointers", "true");
    // The NaN bit patterns wasm computes are observable; keep them deterministic.
    set(&mut flags, "enable_nan_canonicalization", "false");
    let isa_builder = cranelift_native::builder().expect("cranelift supports the host machine");
    isa_builder
        .finish(settings::Flags::new(flags))
        .expect("the host ISA accepts these settings")
}

/// Machine code of one function, position-independent within itself, not yet placed.
#[derive(Debug)]
pub struct CompiledFunction {
    pub code: Vec<u8>,
    /// Sorted by offset.
    pub traps: Vec<TrapSite>,
    /// Sorted by start, one entry per change of wasm offset (code before the first entry,
    /// the prologue, has none). 8 bytes per entry: kept for as long as the code.
    pub sources: Vec<SourceRange>,
    /// Sorted by return offset: the call sites with exception handlers.
    pub exception_sites: Vec<ExceptionSite>,
    /// The tier the code was compiled for (after any fallback to the baseline settings).
    pub tier: Tier,
    /// Whether it was compiled with cheaper settings than its tier's own ([`profile_for`]).
    pub cheaper_settings: bool,
}

/// The marks the translator gives functions in their name's namespace: whether the optimizing
/// tier may optimize them.
pub use crate::translate::{NOT_OPTIMIZED, OPTIMIZABLE};

/// The largest [`loop_weight`] the optimizing tier takes on. The weight counts every
/// instruction at its full depth, as if each could be hoisted out of every loop around it:
/// the pathological case; ordinary code is far cheaper per unit, so the limit is generous
/// (a million instructions at an average loop depth of 8).
const OPTIMIZATION_LOOP_WEIGHT_LIMIT: u64 = 1 << 23;

/// The largest average loop depth (the [`loop_weight`] per instruction) the optimizing tier
/// takes on: the e-graph's time per instruction grows with it, the baseline's does not (nested
/// loops at an average depth of 100 took 5× the baseline's compile, at 150 20×, at 300 80×).
/// Real code stays far below.
const OPTIMIZATION_AVERAGE_LOOP_DEPTH: u64 = 64;

/// Σ over blocks of (instructions × loop nesting depth): what the optimizer's cost grows with.
///
/// Cranelift's e-graph pass hoists each value out of loops by walking the loop nest from the
/// value's block outwards, so its time grows with every instruction's loop depth: 40,000
/// instructions in 4,096 nested loops (a 300 KB module) took a minute at the optimizing tier,
/// 8,192 loops almost three, and a body may nest hundreds of thousands. The baseline tier
/// compiles the same function in a fifth of a second.
pub(crate) fn loop_weight(func: &Function) -> u64 {
    let num_insts = func.dfg.num_insts() as u64;
    let num_blocks = func.layout.blocks().count() as u64;
    // No block is nested deeper than there are blocks: skip the analysis when even that bound
    // is harmless (every ordinary function).
    if num_blocks <= OPTIMIZATION_AVERAGE_LOOP_DEPTH
        && num_insts.saturating_mul(num_blocks) <= OPTIMIZATION_LOOP_WEIGHT_LIMIT
    {
        return 0;
    }
    let cfg = ControlFlowGraph::with_function(func);
    let domtree = DominatorTree::with_function(func, &cfg);
    let mut loops = LoopAnalysis::new();
    loops.compute(func, &cfg, &domtree);
    // The depth of every loop (Cranelift's own loop levels stop counting at 254), memoized
    // along each walk up the loop tree so that the whole takes linear time.
    let mut depth: HashMap<Loop, u64> = HashMap::new();
    let mut path = Vec::new();
    for lp in loops.loops() {
        let mut at = Some(lp);
        let mut base = 0;
        while let Some(l) = at {
            if let Some(&d) = depth.get(&l) {
                base = d;
                break;
            }
            path.push(l);
            at = loops.loop_parent(l);
        }
        for l in path.drain(..).rev() {
            base += 1;
            depth.insert(l, base);
        }
    }
    func.layout
        .blocks()
        .map(|block| {
            let insts = func.layout.block_insts(block).count() as u64;
            let d = loops
                .innermost_loop(block)
                .map_or(0, |lp| depth.get(&lp).copied().unwrap_or(0));
            insts.saturating_mul(d)
        })
        .fold(0u64, u64::saturating_add)
}

/// Whether the optimizing tier may optimize `func` in reasonable time and space.
pub(crate) fn optimizable(func: &Function) -> bool {
    let marked = matches!(&func.name, UserFuncName::User(name) if name.namespace == NOT_OPTIMIZED);
    let weight = loop_weight(func);
    let insts = func.dfg.num_insts() as u64;
    !marked
        && weight <= OPTIMIZATION_LOOP_WEIGHT_LIMIT
        && weight <= OPTIMIZATION_AVERAGE_LOOP_DEPTH.saturating_mul(insts)
}

/// The largest average depth in the dominator tree (of each instruction's block) the e-graph
/// takes on. Its GVN map is a stack of scopes, one per dominator-tree level, and every pure
/// instruction looks up the scope of the block where it becomes available by walking down
/// that stack: a constant, available at the root, walks all of it. A chain of thousands of
/// blocks each dominating the next (sequential `if`s and blocks, loops without back edges)
/// made it quadratic: 3,000 levels took 12× the baseline's compile, 5,000 25×.
const E_GRAPH_AVERAGE_DOMINATOR_DEPTH: u64 = 256;

/// Σ over blocks of (instructions × depth of the block in the dominator tree).
pub(crate) fn dominator_weight(func: &Function) -> u64 {
    use cranelift_codegen::entity::SecondaryMap;
    let cfg = ControlFlowGraph::with_function(func);
    let domtree = DominatorTree::with_function(func, &cfg);
    let mut depth = SecondaryMap::<cranelift_codegen::ir::Block, u64>::new();
    let mut total = 0u64;
    // Reverse post-order: every block's immediate dominator comes before it.
    for &block in domtree.cfg_rpo() {
        let d = domtree.idom(block).map_or(0, |idom| depth[idom] + 1);
        depth[block] = d;
        total = total.saturating_add(d.saturating_mul(func.layout.block_insts(block).count() as u64));
    }
    total
}

/// Functions of more instructions than this are not given to the e-graph: its memory grows by
/// kilobytes per instruction it rewrites, and a function this large gains little from it
/// against what backtracking register allocation alone gives.
const FULL_PROFILE_INSTRUCTIONS: usize = 200_000;

/// Functions of more instructions than this keep the baseline's settings at the optimizing
/// tier: backtracking register allocation takes about 700 bytes per instruction (a function of
/// 1M `i32.add` took 720 MB), which would pass the 1 GB a compile of one function may take.
const ALLOCATED_PROFILE_INSTRUCTIONS: usize = 1_000_000;

/// A function with more than 1 in this many instructions deep in a constant-operand chain
/// ([`reassociation_links`]) is not given to the e-graph.
const REASSOCIATION_SHARE: usize = 16;

/// The instructions of `func` that extend a chain of the same associative operation with
/// constant operands, `((x + 1) + 2) + 3 …`, at depth 3 or more.
///
/// Cranelift's e-graph reassociates such a chain: `(x + k1) + k2` becomes `x + (k1 + k2)`, and
/// each new node is itself simplified again, up to five levels deep, against every form its
/// operand's e-class already holds. Each link of a long chain then costs about 35 µs and 5 KB
/// (the baseline compiles it in under 1 µs): a function of 1,000 such adds took 12× its
/// baseline compile time at the optimizing tier, 1M of them 188 s and 3.8 GB.
pub(crate) fn reassociation_links(func: &Function) -> usize {
    use cranelift_codegen::ir::{InstructionData, Opcode, ValueDef};
    // Chains of one family: the rules pair iadd with isub, and every other operation with
    // itself.
    let family = |op: Opcode| -> Option<u8> {
        Some(match op {
            Opcode::Iadd | Opcode::Isub => 0,
            Opcode::Imul => 1,
            Opcode::Band => 2,
            Opcode::Bor => 3,
            Opcode::Bxor => 4,
            Opcode::Umin => 5,
            Opcode::Umax => 6,
            Opcode::Smin => 7,
            Opcode::Smax => 8,
            _ => return None,
        })
    };
    let dfg = &func.dfg;
    let is_const = |v| matches!(dfg.value_def(v), ValueDef::Result(i, _) if dfg.insts[i].opcode() == Opcode::Iconst);
    // The depth of the chain each value ends, by value (0: none), saturating at 255.
    let mut depth = cranelift_codegen::entity::SecondaryMap::<cranelift_codegen::ir::Value, u8>::new();
    let mut deep = 0;
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            let InstructionData::Binary { opcode, args: [a, b] } = dfg.insts[inst] else { continue };
            let Some(f) = family(opcode) else { continue };
            let other = match (is_const(a), is_const(b)) {
                (false, true) => a,
                (true, false) => b,
                _ => continue,
            };
            let below = match dfg.value_def(other) {
                ValueDef::Result(def, _) if family(dfg.insts[def].opcode()) == Some(f) => depth[other],
                _ => 0,
            };
            let d = below.saturating_add(1);
            depth[dfg.first_result(inst)] = d;
            if d >= 3 {
                deep += 1;
            }
        }
    }
    deep
}

/// Functions of fewer instructions than this are never crowded ([`crowded`]): their register
/// allocation is cheap whatever their pressure.
const CROWDED_MIN_INSTRUCTIONS: usize = 1_000;

/// The average number of values live across an instruction above which backtracking register
/// allocation costs more than the baseline's whole compile many times over: its work grows with
/// the live values each allocation must get past (measured: a function at an average of 700
/// took 54× its baseline compile; ordinary code stays under 20).
const CROWDED_PRESSURE: u64 = 48;

/// The sum over instructions of the values live across each (block by block: a value used in a
/// block counts from the block's start, one defined there and used in another block to its
/// end; values live through a block without a use there are not counted).
pub(crate) fn register_pressure(func: &Function) -> u64 {
    use cranelift_codegen::entity::SecondaryMap;
    use cranelift_codegen::ir::{Block, Value, ValueDef};
    let dfg = &func.dfg;
    let def_block = |v: Value| -> Option<Block> {
        match dfg.value_def(v) {
            ValueDef::Result(inst, _) => func.layout.inst_block(inst),
            ValueDef::Param(block, _) => Some(block),
            _ => None,
        }
    };
    // Values used in a block other than the one defining them.
    let mut escapes = SecondaryMap::<Value, bool>::new();
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            for arg in dfg.inst_values(inst) {
                let arg = dfg.resolve_aliases(arg);
                if def_block(arg) != Some(block) {
                    escapes[arg] = true;
                }
            }
        }
    }
    // Live sets by marking each value with the block (1-based) it is live in.
    let mut live_in = SecondaryMap::<Value, u32>::new();
    let mut total = 0u64;
    for (n, block) in func.layout.blocks().enumerate() {
        let mark = n as u32 + 1;
        let mut live = 0u64;
        for inst in func.layout.block_insts(block) {
            for &result in dfg.inst_results(inst) {
                if escapes[result] {
                    live += 1;
                    live_in[result] = mark;
                }
            }
        }
        for inst in func.layout.block_insts(block).rev() {
            for &result in dfg.inst_results(inst) {
                if live_in[result] == mark {
                    live_in[result] = 0;
                    live -= 1;
                }
            }
            for arg in dfg.inst_values(inst) {
                let arg = dfg.resolve_aliases(arg);
                if live_in[arg] != mark {
                    live_in[arg] = mark;
                    live += 1;
                }
            }
            total = total.saturating_add(live);
        }
    }
    total
}

/// Whether so many values are live at once in `func` that backtracking register allocation
/// would blow up ([`CROWDED_PRESSURE`]). Cranelift's e-graph can make a function so: it
/// computes each pure value where its first use needs it, so in `s ^= x + k` repeated, every
/// `x + k` is computed first and all are live to the end (10,000 such statements: 2.2 s at the
/// optimizing tier, 41 ms at the baseline).
pub(crate) fn crowded(func: &Function) -> bool {
    let insts = func.dfg.num_insts();
    insts >= CROWDED_MIN_INSTRUCTIONS && register_pressure(func) > CROWDED_PRESSURE * insts as u64
}

/// The Cranelift configuration `func` is compiled with at `tier`: the tier's own, unless the
/// function's shape would make the optimizing tier take more than about 10× its baseline
/// compile time or 1 GB. Then it gets backtracking register allocation without the e-graph
/// ([`Profile::Allocated`]: huge bodies, long constant chains, deep dominator trees), or keeps
/// the baseline's settings ([`Profile::Fast`]: the largest bodies, deep loop and `if` nests).
pub fn profile_for(func: &Function, tier: Tier) -> Profile {
    if tier != Tier::Optimized {
        return tier.profile();
    }
    let insts = func.dfg.num_insts();
    if insts > ALLOCATED_PROFILE_INSTRUCTIONS || !optimizable(func) {
        return Profile::Fast;
    }
    if insts > FULL_PROFILE_INSTRUCTIONS {
        return Profile::Allocated;
    }
    let links = reassociation_links(func);
    if links >= 64 && links * REASSOCIATION_SHARE > insts {
        return Profile::Allocated;
    }
    // No block is deeper than there are blocks.
    let blocks = func.layout.blocks().count() as u64;
    if blocks > E_GRAPH_AVERAGE_DOMINATOR_DEPTH
        && dominator_weight(func) > E_GRAPH_AVERAGE_DOMINATOR_DEPTH.saturating_mul(insts as u64)
    {
        return Profile::Allocated;
    }
    Profile::Full
}

/// Compiles `func` for `tier`. Errors are engine bugs (validated wasm always compiles), so they
/// are reported as strings for the CompileError message rather than panicking.
///
/// At the optimizing tier, a function whose shape would make the optimizer blow up gets
/// cheaper settings ([`profile_for`]).
pub fn compile_function(func: Function, tier: Tier) -> Result<Arc<CompiledFunction>, String> {
    let requested = profile_for(&func, tier);
    let mut context = Context::for_function(func);
    // A panic in Cranelift (a bug, ours or its) must not cross into the host: on a compile
    // thread it would abort the process. It fails this function's compilation instead.
    let profile = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // The profile is settled after the mid-end has run: its output is what the register
        // allocator gets (see `register_pressure`).
        let profile = match requested {
            Profile::Full => {
                context
                    .optimize(profile_isa(Profile::Full), &mut ControlPlane::default())
                    .map_err(|e| format!("code generation failed: {e:?}"))?;
                if crowded(&context.func) { Profile::Fast } else { Profile::Full }
            }
            Profile::Allocated if crowded(&context.func) => Profile::Fast,
            profile => profile,
        };
        // The e-graph has run already (compiling runs the mid-end of the ISA's opt_level): the
        // rest of the full profile is the no-e-graph one's.
        let isa = profile_isa(if profile == Profile::Full { Profile::Allocated } else { profile });
        context
            .compile(isa, &mut ControlPlane::default())
            .map(|_| profile)
            .map_err(|e| format!("code generation failed: {:?}", e.inner))
    }))
    .unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(format!("code generation failed: internal compiler error: {message}"))
    })?;
    let cheaper_settings = profile != tier.profile();
    let tier = profile.tier();
    let compiled = context
        .compiled_code()
        .ok_or("code generation failed: no code")?;
    if let Some(reloc) = compiled.buffer.relocs().first() {
        return Err(format!(
            "code generation produced an unexpected relocation: {reloc:?}"
        ));
    }
    let mut traps: Vec<TrapSite> = compiled
        .buffer
        .traps()
        .iter()
        .filter_map(|t| {
            TrapKind::from_code(t.code).map(|kind| TrapSite {
                offset: t.offset,
                kind,
            })
        })
        .collect();
    traps.sort_by_key(|t| t.offset);
    let mut ranges: Vec<(u32, u32)> = compiled
        .buffer
        .get_srclocs_sorted()
        .iter()
        .filter(|s| !s.loc.is_default() && s.end > s.start)
        .map(|s| (s.start, s.loc.bits()))
        .collect();
    ranges.sort_by_key(|&(start, _)| start);
    let mut sources: Vec<SourceRange> = Vec::with_capacity(ranges.len());
    for (start, wasm_offset) in ranges {
        if sources.last().is_none_or(|last| last.wasm_offset != wasm_offset) {
            sources.push(SourceRange { start, wasm_offset });
        }
    }
    sources.shrink_to_fit();
    let mut exception_sites = Vec::new();
    for site in compiled.buffer.call_sites() {
        if site.exception_handlers.is_empty() {
            continue;
        }
        let frame_offset = site
            .frame_offset
            .ok_or("code generation failed: a call site with handlers has no frame offset")?;
        let mut handlers = Vec::with_capacity(site.exception_handlers.len());
        for handler in site.exception_handlers {
            handlers.push(match *handler {
                FinalizedMachExceptionHandler::Tag(tag, target) => ExceptionHandler::Tag {
                    tag: tag.as_u32(),
                    target,
                },
                FinalizedMachExceptionHandler::Default(target) => ExceptionHandler::Default { target },
                FinalizedMachExceptionHandler::Context(ExceptionContextLoc::SPOffset(sp_offset)) => {
                    ExceptionHandler::Context { sp_offset }
                }
                // At a `try_call` every register is clobbered, so the context is spilled.
                FinalizedMachExceptionHandler::Context(ExceptionContextLoc::GPR(_)) => {
                    return Err("code generation failed: an exception context in a register".into())
                }
            });
        }
        exception_sites.push(ExceptionSite {
            return_offset: site.ret_addr,
            frame_offset,
            handlers: handlers.into(),
        });
    }
    exception_sites.sort_by_key(|s| s.return_offset);
    Ok(Arc::new(CompiledFunction {
        code: compiled.code_buffer().to_vec(),
        traps,
        sources,
        exception_sites,
        tier,
        cheaper_settings,
    }))
}

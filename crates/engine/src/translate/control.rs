//! Structured control flow: `block`, `loop`, `if`/`else`, `end`, the branches, `return` and
//! `unreachable`, and the skipping of dead code.
//!
//! Each wasm block becomes a frame with a Cranelift `next` block (the code after `end`) whose
//! parameters are the block's results; a loop also has a `header` block taking the loop's
//! parameters, which is where branches to the loop go. Values flowing into a block stay on the
//! operand stack; values flowing out of one travel as block arguments. An `if` jumps to a fresh
//! `else` block when false, even without an `else`, and that block passes the `if`'s
//! parameters through to `next`; the machine-code emitter folds the extra jump away.

use std::collections::HashMap;

use cranelift_codegen::ir::{Block, BlockArg, InstBuilder, JumpTableData, Type, Value};
use cranelift_frontend::FunctionBuilder;
use wasmparser::{BlockType, BrTable, FuncType, Operator};

use super::{value_type, FuncTranslator};
use crate::trap::TrapKind;

pub(crate) struct ControlFrame {
    kind: FrameKind,
    /// The code after the frame's `end`; its parameters are the frame's results.
    next: Block,
    /// Operand stack height below the frame's parameters.
    base: usize,
    num_params: usize,
    num_results: usize,
    /// Whether a branch (or an `if` without `else`) goes to `next`.
    exit_reached: bool,
}

enum FrameKind {
    /// The function body: `next` returns its parameters.
    Function,
    Block,
    /// A `try_table`: its handler scope is the innermost of `FuncTranslator::handlers`.
    TryTable,
    /// A legacy `try`: in its `do` part (its scope is the innermost), then in its `catch`
    /// clauses, which the dispatch block's chain of tag tests (`test`, the next test) reaches
    /// with the caught `exnref`.
    LegacyTry {
        catching: bool,
        exnref: Option<Value>,
        test: Option<Block>,
    },
    Loop {
        header: Block,
    },
    If {
        /// Where the `if` goes when its condition is false.
        else_block: Block,
        /// The `if`'s parameters, which the `else` arm starts with again.
        params: Vec<Value>,
        else_seen: bool,
    },
}

impl ControlFrame {
    /// Where a branch to this frame goes, and how many values it carries.
    fn branch_target(&self) -> (Block, usize) {
        match self.kind {
            FrameKind::Loop { header } => (header, self.num_params),
            _ => (self.next, self.num_results),
        }
    }
}

/// Pushes the frame of the function body.
pub(super) fn enter_function(t: &mut FuncTranslator<'_, '_>, ty: &FuncType) {
    let results: Vec<Type> = ty.results().iter().map(|t| value_type(*t)).collect();
    let next = block_with_params(&mut t.builder, &results);
    t.control.push(ControlFrame {
        kind: FrameKind::Function,
        next,
        base: 0,
        num_params: 0,
        num_results: results.len(),
        exit_reached: false,
    });
}

pub(super) fn translate(t: &mut FuncTranslator<'_, '_>, op: &Operator<'_>) -> Result<bool, String> {
    match op {
        Operator::Nop => {}
        Operator::Unreachable => {
            t.builder.ins().trap(TrapKind::Unreachable.code());
            t.reachable = false;
        }
        Operator::Block { blockty } => {
            let (params, results) = block_type(t, *blockty)?;
            let next = block_with_params(&mut t.builder, &results);
            let base = t
                .stack
                .len()
                .checked_sub(params.len())
                .ok_or("operand stack underflow")?;
            t.control.push(ControlFrame {
                kind: FrameKind::Block,
                next,
                base,
                num_params: params.len(),
                num_results: results.len(),
                exit_reached: false,
            });
        }
        Operator::TryTable { try_table } => {
            let (params, results) = block_type(t, try_table.ty)?;
            // The catch clauses' labels are those around the `try_table`.
            super::exceptions::begin_try_table(t, &try_table.catches)?;
            let next = block_with_params(&mut t.builder, &results);
            let base = t
                .stack
                .len()
                .checked_sub(params.len())
                .ok_or("operand stack underflow")?;
            t.control.push(ControlFrame {
                kind: FrameKind::TryTable,
                next,
                base,
                num_params: params.len(),
                num_results: results.len(),
                exit_reached: false,
            });
        }
        Operator::Try { blockty } => {
            let (params, results) = block_type(t, *blockty)?;
            super::exceptions::begin_legacy_try(t);
            let next = block_with_params(&mut t.builder, &results);
            let base = t
                .stack
                .len()
                .checked_sub(params.len())
                .ok_or("operand stack underflow")?;
            t.control.push(ControlFrame {
                kind: FrameKind::LegacyTry { catching: false, exnref: None, test: None },
                next,
                base,
                num_params: params.len(),
                num_results: results.len(),
                exit_reached: false,
            });
        }
        Operator::Catch { tag_index } => translate_catch(t, Some(*tag_index))?,
        Operator::CatchAll => translate_catch(t, None)?,
        Operator::Delegate { relative_depth } => translate_end_with(t, Some(*relative_depth))?,
        Operator::Rethrow { relative_depth } => {
            let frame = frame_at(t, *relative_depth)?;
            let FrameKind::LegacyTry { exnref: Some(exnref), .. } = frame.kind else {
                return Err("rethrow outside a catch clause".into());
            };
            super::exceptions::rethrow(t, exnref, usize::MAX);
        }
        Operator::Loop { blockty } => {
            let (params, results) = block_type(t, *blockty)?;
            let header = block_with_params(&mut t.builder, &params);
            let next = block_with_params(&mut t.builder, &results);
            let args = t.popn(params.len())?;
            jump(&mut t.builder, header, &args);
            t.builder.switch_to_block(header);
            // Sealed at `end`, once every branch back to it is known.
            let base = t.stack.len();
            t.stack.extend_from_slice(t.builder.block_params(header));
            t.env.loop_header(&mut t.builder);
            t.control.push(ControlFrame {
                kind: FrameKind::Loop { header },
                next,
                base,
                num_params: params.len(),
                num_results: results.len(),
                exit_reached: false,
            });
        }
        Operator::If { blockty } => {
            let condition = t.pop()?;
            let (params, results) = block_type(t, *blockty)?;
            let then_block = t.builder.create_block();
            let else_block = t.builder.create_block();
            let next = block_with_params(&mut t.builder, &results);
            t.builder
                .ins()
                .brif(condition, then_block, &[], else_block, &[]);
            // Both arms are entered from here only; the arms use the parameters where they are
            // on the stack, which dominates both.
            t.builder.seal_block(then_block);
            t.builder.seal_block(else_block);
            t.builder.switch_to_block(then_block);
            let params_values = t.peekn(params.len())?.to_vec();
            t.control.push(ControlFrame {
                kind: FrameKind::If {
                    else_block,
                    params: params_values,
                    else_seen: false,
                },
                next,
                base: t.stack.len() - params.len(),
                num_params: params.len(),
                num_results: results.len(),
                exit_reached: false,
            });
        }
        Operator::Else => translate_else(t)?,
        Operator::End => translate_end(t)?,
        Operator::Br { relative_depth } => {
            let (target, args) = branch(t, *relative_depth)?;
            let exited = t.control.len().saturating_sub(1 + *relative_depth as usize);
            release_catches(t, exited);
            jump(&mut t.builder, target, &args);
            t.reachable = false;
        }
        Operator::BrIf { relative_depth } => {
            let condition = t.pop()?;
            let (target, args) = branch(t, *relative_depth)?;
            let fallthrough = t.builder.create_block();
            let args: Vec<BlockArg> = args.iter().map(|v| BlockArg::Value(*v)).collect();
            t.builder
                .ins()
                .brif(condition, target, &args, fallthrough, &[]);
            t.builder.seal_block(fallthrough);
            t.builder.switch_to_block(fallthrough);
        }
        Operator::BrTable { targets } => translate_br_table(t, targets)?,
        Operator::BrOnNull { relative_depth } => {
            // Null: branch without the reference; else go on with it.
            let reference = t.pop()?;
            let (target, args) = branch(t, *relative_depth)?;
            let fallthrough = t.builder.create_block();
            let args: Vec<BlockArg> = args.iter().map(|v| BlockArg::Value(*v)).collect();
            t.builder
                .ins()
                .brif(reference, fallthrough, &[], target, &args);
            t.builder.seal_block(fallthrough);
            t.builder.switch_to_block(fallthrough);
            t.push(reference);
        }
        Operator::BrOnNonNull { relative_depth } => {
            // Not null: branch with the reference (the target's last value); else drop it.
            let reference = *t.peekn(1)?.first().ok_or("operand stack underflow")?;
            let (target, args) = branch(t, *relative_depth)?;
            let fallthrough = t.builder.create_block();
            let args: Vec<BlockArg> = args.iter().map(|v| BlockArg::Value(*v)).collect();
            t.builder
                .ins()
                .brif(reference, target, &args, fallthrough, &[]);
            t.builder.seal_block(fallthrough);
            t.builder.switch_to_block(fallthrough);
            t.pop()?;
        }
        Operator::Return => {
            let count = t.control.first().ok_or("no function frame")?.num_results;
            let results = t.peekn(count)?.to_vec();
            release_catches(t, 0);
            t.env.fuel_function_exit(&mut t.builder);
            t.builder.ins().return_(&results);
            t.reachable = false;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Dead code: only the nesting matters, until the `else` or `end` that makes code reachable
/// again.
pub(super) fn translate_unreachable(
    t: &mut FuncTranslator<'_, '_>,
    op: &Operator<'_>,
) -> Result<(), String> {
    match op {
        Operator::Block { .. }
        | Operator::Loop { .. }
        | Operator::If { .. }
        | Operator::TryTable { .. }
        | Operator::Try { .. } => t.dead_depth += 1,
        Operator::Catch { tag_index } if t.dead_depth == 0 => translate_catch(t, Some(*tag_index))?,
        Operator::CatchAll if t.dead_depth == 0 => translate_catch(t, None)?,
        Operator::Delegate { relative_depth } if t.dead_depth == 0 => {
            translate_end_with(t, Some(*relative_depth))?
        }
        Operator::Delegate { .. } => t.dead_depth -= 1,
        Operator::Else if t.dead_depth == 0 => translate_else(t)?,
        Operator::End if t.dead_depth == 0 => translate_end(t)?,
        Operator::End => t.dead_depth -= 1,
        _ => {}
    }
    Ok(())
}

fn translate_else(t: &mut FuncTranslator<'_, '_>) -> Result<(), String> {
    let frame = t.control.last_mut().ok_or("else outside any block")?;
    let FrameKind::If {
        else_block,
        ref params,
        ref mut else_seen,
    } = frame.kind
    else {
        return Err("else outside an if".into());
    };
    if t.reachable {
        let start = t
            .stack
            .len()
            .checked_sub(frame.num_results)
            .ok_or("operand stack underflow")?;
        jump(&mut t.builder, frame.next, &t.stack[start..]);
        frame.exit_reached = true;
    }
    *else_seen = true;
    t.stack.truncate(frame.base);
    t.stack.extend_from_slice(params);
    t.builder.switch_to_block(else_block);
    // The `if` head is reachable (else the `if` would have been skipped), so the else arm is.
    t.reachable = true;
    Ok(())
}

/// A legacy `catch tag` (`Some`) or `catch_all` (`None`) clause starts.
fn translate_catch(t: &mut FuncTranslator<'_, '_>, tag: Option<u32>) -> Result<(), String> {
    let frame = t.control.last_mut().ok_or("catch outside any block")?;
    let FrameKind::LegacyTry { catching, .. } = frame.kind else {
        return Err("catch outside a try".into());
    };
    let base = frame.base;
    if catching && t.reachable {
        // The previous clause's body falls through to the `end`: its `exnref` is dead.
        if let FrameKind::LegacyTry { exnref: Some(exnref), .. } = frame.kind {
            super::exceptions::release(t, exnref);
        }
    }
    let frame = t.control.last_mut().ok_or("catch outside any block")?;
    if t.reachable {
        let start = t
            .stack
            .len()
            .checked_sub(frame.num_results)
            .ok_or("operand stack underflow")?;
        jump(&mut t.builder, frame.next, &t.stack[start..]);
        frame.exit_reached = true;
    }
    if !catching {
        // The `do` part ends: its handlers close; the dispatch block starts the tests.
        let exnref = super::exceptions::end_legacy_do(t)?;
        let test = exnref.and_then(|_| t.builder.current_block());
        let frame = t.control.last_mut().ok_or("catch outside any block")?;
        frame.kind = FrameKind::LegacyTry { catching: true, exnref, test };
    }
    t.stack.truncate(base);
    let frame = t.control.last_mut().ok_or("catch outside any block")?;
    let FrameKind::LegacyTry { exnref, test, .. } = frame.kind else {
        return Err("catch outside a try".into());
    };
    let (Some(exnref), Some(test)) = (exnref, test) else {
        // No exception reaches this clause (nothing in the `do` part throws, or a catch_all
        // came first).
        t.reachable = false;
        return Ok(());
    };
    t.builder.switch_to_block(test);
    match tag {
        Some(tag) => {
            let matches = super::exceptions::exception_matches(t, exnref, tag)?;
            let body = t.builder.create_block();
            let next_test = t.builder.create_block();
            t.builder.ins().brif(matches, body, &[], next_test, &[]);
            t.builder.seal_block(body);
            t.builder.seal_block(next_test);
            if let Some(frame) = t.control.last_mut() {
                frame.kind = FrameKind::LegacyTry { catching: true, exnref: Some(exnref), test: Some(next_test) };
            }
            t.builder.switch_to_block(body);
            let payload = super::exceptions::payload(t, tag, exnref)?;
            t.stack.extend(payload);
        }
        None => {
            if let Some(frame) = t.control.last_mut() {
                frame.kind = FrameKind::LegacyTry { catching: true, exnref: Some(exnref), test: None };
            }
        }
    }
    t.reachable = true;
    Ok(())
}

fn translate_end(t: &mut FuncTranslator<'_, '_>) -> Result<(), String> {
    translate_end_with(t, None)
}

/// `end`, or a legacy `delegate` (`Some` label) that ends a `try`.
fn translate_end_with(t: &mut FuncTranslator<'_, '_>, delegate: Option<u32>) -> Result<(), String> {
    let mut frame = t.control.pop().ok_or("end outside any block")?;
    if t.reachable {
        if let FrameKind::LegacyTry { catching: true, exnref: Some(exnref), .. } = frame.kind {
            // A catch body falls through: its `exnref` is dead.
            super::exceptions::release(t, exnref);
        }
        let results = t.popn(frame.num_results)?;
        jump(&mut t.builder, frame.next, &results);
        frame.exit_reached = true;
    }
    match &frame.kind {
        FrameKind::Loop { header } => t.builder.seal_block(*header),
        FrameKind::If {
            else_block,
            params,
            else_seen: false,
        } => {
            // No `else`: the false arm passes the parameters through (validation made the
            // parameter and result types equal).
            t.builder.switch_to_block(*else_block);
            jump(&mut t.builder, frame.next, params);
            frame.exit_reached = true;
        }
        FrameKind::TryTable => super::exceptions::end_try_table(t)?,
        FrameKind::LegacyTry { catching: false, .. } => {
            // `try … end` or `try … delegate`: what the `do` part threw goes on, past the
            // handlers of frames a `delegate` skips.
            if let Some(exnref) = super::exceptions::end_legacy_do(t)? {
                let max_owner = match delegate {
                    Some(label) => t
                        .control
                        .len()
                        .checked_sub(1 + label as usize)
                        .ok_or_else(|| format!("delegate label {label} outside the function"))?,
                    None => usize::MAX,
                };
                super::exceptions::rethrow(t, exnref, max_owner);
            }
        }
        FrameKind::LegacyTry { catching: true, exnref: Some(exnref), test: Some(test) } => {
            // No clause caught it: it goes on.
            t.builder.switch_to_block(*test);
            super::exceptions::rethrow(t, *exnref, usize::MAX);
        }
        _ => {}
    }
    t.stack.truncate(frame.base);
    if !frame.exit_reached {
        t.reachable = false;
        return Ok(());
    }
    t.builder.switch_to_block(frame.next);
    t.builder.seal_block(frame.next);
    let results = t.builder.block_params(frame.next).to_vec();
    if let FrameKind::Function = frame.kind {
        t.env.fuel_function_exit(&mut t.builder);
        t.builder.ins().return_(&results);
        t.reachable = false;
    } else {
        t.stack.extend_from_slice(&results);
        t.reachable = true;
    }
    Ok(())
}

/// Before a branch or return that leaves the frames from index `first` up: the `exnref` of each
/// legacy catch body it leaves is dead. (Conditional branches out of a catch body do not
/// release: their exceptions stay in the arena until the outermost call returns.)
fn release_catches(t: &mut FuncTranslator<'_, '_>, first: usize) {
    let caught: Vec<Value> = t.control[first.min(t.control.len())..]
        .iter()
        .filter_map(|frame| match frame.kind {
            FrameKind::LegacyTry { catching: true, exnref: Some(exnref), .. } => Some(exnref),
            _ => None,
        })
        .collect();
    for exnref in caught {
        super::exceptions::release(t, exnref);
    }
}

/// The target of a branch to `relative_depth` and the values it carries (left on the stack),
/// noting that the target's `next` is reached.
fn branch(
    t: &mut FuncTranslator<'_, '_>,
    relative_depth: u32,
) -> Result<(Block, Vec<Value>), String> {
    let frame = frame_at(t, relative_depth)?;
    let (target, count) = frame.branch_target();
    if !matches!(frame.kind, FrameKind::Loop { .. }) {
        frame.exit_reached = true;
    }
    let args = t.peekn(count)?.to_vec();
    Ok((target, args))
}

/// Jumps to where a branch to the frame at `index` (from the bottom of the control stack)
/// goes, with `args`, noting that the frame's `next` is reached.
pub(super) fn jump_to_frame(
    t: &mut FuncTranslator<'_, '_>,
    index: usize,
    args: &[Value],
) -> Result<(), String> {
    let frame = t
        .control
        .get_mut(index)
        .ok_or("a handler's target is not on the control stack")?;
    let (target, _) = frame.branch_target();
    if !matches!(frame.kind, FrameKind::Loop { .. }) {
        frame.exit_reached = true;
    }
    jump(&mut t.builder, target, args);
    Ok(())
}

fn frame_at<'a>(
    t: &'a mut FuncTranslator<'_, '_>,
    relative_depth: u32,
) -> Result<&'a mut ControlFrame, String> {
    let len = t.control.len();
    let index = len
        .checked_sub(1 + relative_depth as usize)
        .ok_or_else(|| format!("branch depth {relative_depth} outside the function"))?;
    Ok(&mut t.control[index])
}

/// `br_table`: Cranelift jump tables carry no arguments, so when the targets take values each
/// distinct target gets a small block that forwards them.
fn translate_br_table(t: &mut FuncTranslator<'_, '_>, table: &BrTable<'_>) -> Result<(), String> {
    let index = t.pop()?;
    let mut depths = Vec::with_capacity(table.len() as usize);
    for depth in table.targets() {
        depths.push(depth.map_err(|e| e.to_string())?);
    }
    let default_depth = table.default();
    let count = frame_at(t, default_depth)?.branch_target().1;
    let args = t.peekn(count)?.to_vec();

    // One destination per distinct depth: the target itself, or a forwarding block. The order
    // of first use is kept so that the generated code does not depend on hashing.
    let mut destinations: HashMap<u32, Block> = HashMap::new();
    let mut in_order: Vec<(u32, Block)> = Vec::new();
    let mut destination = |t: &mut FuncTranslator<'_, '_>, depth: u32| -> Result<Block, String> {
        if let Some(block) = destinations.get(&depth) {
            return Ok(*block);
        }
        let (target, _) = branch(t, depth)?;
        let block = if count == 0 {
            target
        } else {
            t.builder.create_block()
        };
        destinations.insert(depth, block);
        in_order.push((depth, block));
        Ok(block)
    };
    let default_block = destination(t, default_depth)?;
    let mut entries = Vec::with_capacity(depths.len());
    for depth in depths {
        let block = destination(t, depth)?;
        entries.push(t.builder.func.dfg.block_call(block, &[]));
    }
    let default_call = t.builder.func.dfg.block_call(default_block, &[]);
    let jump_table = t
        .builder
        .create_jump_table(JumpTableData::new(default_call, &entries));
    t.builder.ins().br_table(index, jump_table);

    if count > 0 {
        for (depth, block) in in_order {
            let (target, _) = frame_at(t, depth)?.branch_target();
            t.builder.seal_block(block);
            t.builder.switch_to_block(block);
            jump(&mut t.builder, target, &args);
        }
    }
    t.reachable = false;
    Ok(())
}

/// Parameter and result types of a block type.
fn block_type(
    t: &FuncTranslator<'_, '_>,
    blockty: BlockType,
) -> Result<(Vec<Type>, Vec<Type>), String> {
    Ok(match blockty {
        BlockType::Empty => (Vec::new(), Vec::new()),
        BlockType::Type(ty) => (Vec::new(), vec![value_type(ty)]),
        BlockType::FuncType(index) => {
            let ty = t
                .env
                .module
                .types
                .get(index as usize)
                .ok_or_else(|| format!("unknown type #{index}"))?;
            (
                ty.params().iter().map(|t| value_type(*t)).collect(),
                ty.results().iter().map(|t| value_type(*t)).collect(),
            )
        }
    })
}

fn block_with_params(builder: &mut FunctionBuilder<'_>, types: &[Type]) -> Block {
    let block = builder.create_block();
    for ty in types {
        builder.append_block_param(block, *ty);
    }
    block
}

fn jump(builder: &mut FunctionBuilder<'_>, target: Block, args: &[Value]) {
    let args: Vec<BlockArg> = args.iter().map(|v| BlockArg::Value(*v)).collect();
    builder.ins().jump(target, &args);
}

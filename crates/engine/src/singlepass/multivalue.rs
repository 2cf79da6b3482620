//! Multi-value blocks (`BlockType::FuncType`: `block`/`loop`/`if` with parameters and any number
//! of results). Since every label has all values in their home slots (one per stack depth),
//! this is bookkeeping: a block's base height is below its parameters, a branch copies the
//! values it carries (a loop's parameters, another block's results) to the homes from the
//! base up, and the values after a label are `Spilled` entries of the right sizes. An `if`'s
//! `else` arm starts from the parameters the condition's false edge left in their homes.
//!
//! The block types of such frames are kept apart (`Compiler::multi`, keyed by the frame's
//! label), so that single-result frames stay as they are.

use wasmparser::BlockType;

use super::asm::{Label, Size, RAX};
use super::{size_of, Compiler, Fallback, Frame, Kind, Val};

/// A multi-value frame's parameter and result sizes.
#[derive(Clone, Debug)]
pub(super) struct BlockSig {
    label: Label,
    params: Vec<Size>,
    results: Vec<Size>,
}

impl Compiler<'_> {
    /// For a `FuncType` block type, records the frame's parameter and result sizes under its
    /// label and returns how many parameters it takes from the stack; 0 for the other types.
    pub(super) fn open_multi(&mut self, blockty: BlockType, label: Label) -> Result<usize, Fallback> {
        let BlockType::FuncType(index) = blockty else { return Ok(0) };
        let ty = self
            .module
            .types
            .get(index as usize)
            .ok_or_else(|| Fallback("no such type".into()))?;
        let params = ty.params().iter().map(|&t| size_of(t)).collect::<Result<Vec<_>, _>>()?;
        let results = ty.results().iter().map(|&t| size_of(t)).collect::<Result<Vec<_>, _>>()?;
        let n = params.len();
        self.multi.push(BlockSig { label, params, results });
        Ok(n)
    }

    fn block_sig(&self, frame: &Frame) -> Option<&BlockSig> {
        if frame.kind == Kind::Function {
            return None;
        }
        self.multi.iter().rev().find(|sig| sig.label == frame.label)
    }

    /// How many values a branch to `frame` carries, if it is a multi-value frame.
    pub(super) fn multi_arity(&self, frame: &Frame) -> Option<usize> {
        let sig = self.block_sig(frame)?;
        Some(if frame.kind == Kind::Loop { sig.params.len() } else { sig.results.len() })
    }

    /// Copies the top `arity` values (spilled, the stack `len` high) to the homes from `base` up.
    pub(super) fn copy_branch_values(&mut self, len: usize, arity: usize, base: usize) {
        let first = len - arity;
        if first == base {
            return;
        }
        for k in 0..arity {
            let (from, to) = (self.home(first + k), self.home(base + k));
            self.a.load(Size::S64, RAX, from);
            self.a.store(Size::S64, to, RAX);
        }
    }

    /// Pushes the values a frame's end label holds (spilled): its results.
    pub(super) fn push_frame_results(&mut self, frame: &Frame) {
        if let Some(sig) = self.block_sig(frame) {
            for size in sig.results.clone() {
                self.push(Val::Spilled, size);
            }
        } else if let Some(size) = frame.result {
            self.push(if frame.v128 { Val::V128 } else { Val::Spilled }, size);
        }
    }

    /// Pushes an `if` frame's parameters (spilled) for its `else` arm.
    pub(super) fn push_frame_params(&mut self, frame: &Frame) {
        if let Some(sig) = self.block_sig(frame) {
            for size in sig.params.clone() {
                self.push(Val::Spilled, size);
            }
        }
    }
}

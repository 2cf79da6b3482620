//! Cranelift configuration and the last step of a compile unit: IR to machine code, with the
//! trap sites that the trap handler needs to turn a fault into the right `RuntimeError`.

use std::sync::{Arc, OnceLock};

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::Function;
use cranelift_codegen::isa::{OwnedTargetIsa, TargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::Context;

use crate::trap::TrapKind;

/// Which code quality to compile for. Both tiers are Cranelift, configured differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tier {
    /// Compile speed first: no optimizations, single-pass register allocation.
    Baseline,
    /// Code speed first: full optimizations, backtracking register allocation.
    Optimized,
}

/// The host ISA configured for `tier`, built once per process.
pub fn isa(tier: Tier) -> &'static dyn TargetIsa {
    static BASELINE: OnceLock<OwnedTargetIsa> = OnceLock::new();
    static OPTIMIZED: OnceLock<OwnedTargetIsa> = OnceLock::new();
    let cell = match tier {
        Tier::Baseline => &BASELINE,
        Tier::Optimized => &OPTIMIZED,
    };
    &**cell.get_or_init(|| build_isa(tier))
}

fn build_isa(tier: Tier) -> OwnedTargetIsa {
    let mut flags = settings::builder();
    let set = |flags: &mut settings::Builder, name: &str, value: &str| {
        flags
            .set(name, value)
            .unwrap_or_else(|e| panic!("cranelift setting {name}={value}: {e}"));
    };
    let (opt_level, regalloc) = match tier {
        Tier::Baseline => ("none", "single_pass"),
        Tier::Optimized => ("speed", "backtracking"),
    };
    set(&mut flags, "opt_level", opt_level);
    set(&mut flags, "regalloc_algorithm", regalloc);
    // Wasm functions may return more values than there are return registers.
    set(&mut flags, "enable_multi_ret_implicit_sret", "true");
    // Stack overflow is caught by the limit checked in every prologue (`stack_limit`), not by
    // probing: the stack of a Node thread is not ours to probe.
    set(&mut flags, "enable_probestack", "false");
    // Generated code is only ever run in this process, at the address it was compiled for; it
    // calls libcalls through absolute addresses, so no relocation is needed.
    set(&mut flags, "is_pic", "false");
    // The NaN bit patterns wasm computes are observable; keep them deterministic.
    set(&mut flags, "enable_nan_canonicalization", "false");
    let isa_builder = cranelift_native::builder().expect("cranelift supports the host machine");
    isa_builder
        .finish(settings::Flags::new(flags))
        .expect("the host ISA accepts these settings")
}

/// A trap site: a code offset and the trap raised there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrapSite {
    pub offset: u32,
    pub kind: TrapKind,
}

/// Machine code of one function, position-independent within itself, not yet placed.
#[derive(Debug)]
pub struct CompiledFunction {
    pub code: Vec<u8>,
    /// Sorted by offset.
    pub traps: Vec<TrapSite>,
}

/// Compiles `func` for `tier`. Errors are engine bugs (validated wasm always compiles), so they
/// are reported as strings for the CompileError message rather than panicking.
pub fn compile_function(func: Function, tier: Tier) -> Result<Arc<CompiledFunction>, String> {
    let isa = isa(tier);
    let mut context = Context::for_function(func);
    let compiled = context
        .compile(isa, &mut ControlPlane::default())
        .map_err(|e| format!("code generation failed: {:?}", e.inner))?;
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
    Ok(Arc::new(CompiledFunction {
        code: compiled.code_buffer().to_vec(),
        traps,
    }))
}

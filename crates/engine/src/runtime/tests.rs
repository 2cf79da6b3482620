//! Tests of the trap machinery on hand-built Cranelift functions (no translator involved).

use cranelift_codegen::ir::{types, AbiParam, Function, InstBuilder, MemFlagsData, Signature};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::FunctionBuilder;

use super::code_memory::{self, Placement};
use super::memory::LinearMemory;
use crate::compiler::trampolines::build_function;
use super::traps::{call_wasm, EntryTrampoline};
use crate::compiler::codegen::{compile_function, Tier};
use crate::trap::TrapKind;

/// Builds a function with the entry-trampoline signature `(vmctx, code, values)` whose body is
/// produced by `body(builder, vmctx, code, values)`.
fn entry_like(
    body: impl FnOnce(&mut FunctionBuilder, [cranelift_codegen::ir::Value; 3]),
) -> Function {
    let mut sig = Signature::new(CallConv::SystemV);
    sig.params.extend([AbiParam::new(types::I64); 3]);
    build_function(sig, |b, p| body(b, [p[0], p[1], p[2]]))
}

fn publish(func: Function) -> (std::sync::Arc<code_memory::CodeBlock>, EntryTrampoline) {
    let compiled = compile_function(func, Tier::Optimized).unwrap();
    let (block, offsets) = code_memory::publish(vec![Placement {
        code: &compiled.code,
        traps: &compiled.traps,
        sources: (&compiled.sources[..]).into(),
        exception_sites: &compiled.exception_sites,
        symbol: code_memory::Symbol::Engine("test"),
    }])
    .unwrap();
    // SAFETY: the code was compiled with the entry signature and stays alive with `block`.
    let f =
        unsafe { std::mem::transmute::<*const u8, EntryTrampoline>(block.start().add(offsets[0])) };
    (block, f)
}

#[test]
fn explicit_trap_unwinds_with_its_kind_and_repeats() {
    let (_code, f) = publish(entry_like(|b, _| {
        b.ins().trap(TrapKind::Unreachable.code());
    }));
    for _ in 0..1000 {
        let mut values = [0u128; 1];
        // SAFETY: `f` takes (vmctx, code, values) and only traps.
        let result = unsafe {
            call_wasm(
                f,
                std::ptr::null_mut(),
                std::ptr::null(),
                values.as_mut_ptr(),
            )
        };
        assert_eq!(result.unwrap_err().kind, TrapKind::Unreachable);
    }
}

#[test]
fn returning_code_writes_results() {
    let (_code, f) = publish(entry_like(|b, [_, _, values]| {
        let v = b.ins().iconst(types::I32, 42);
        b.ins().store(MemFlagsData::trusted(), v, values, 0);
        b.ins().return_(&[]);
    }));
    let mut values = [0u128; 1];
    // SAFETY: `f` writes one i32 to values[0].
    unsafe {
        call_wasm(
            f,
            std::ptr::null_mut(),
            std::ptr::null(),
            values.as_mut_ptr(),
        )
    }
    .unwrap();
    assert_eq!(values[0] as u32, 42);
}

#[test]
fn guard_page_fault_is_a_memory_trap_and_memory_grows() {
    let memory = LinearMemory::new(1, Some(3)).unwrap();
    // Loads 4 bytes at base + values[0] (an address the test chooses).
    let (_code, f) = publish(entry_like(|b, [vmctx, _, values]| {
        let offset = b.ins().load(types::I64, MemFlagsData::trusted(), values, 0);
        let addr = b.ins().iadd(vmctx, offset);
        let flags = MemFlagsData::new().with_trap_code(Some(TrapKind::MemoryOutOfBounds.code()));
        let v = b.ins().load(types::I32, flags, addr, 0);
        b.ins().store(MemFlagsData::trusted(), v, values, 0);
        b.ins().return_(&[]);
    }));
    let base = memory.base();
    // SAFETY: the first page is committed.
    unsafe { *(base.add(65532) as *mut u32) = 0xdead_beef };
    let mut values = [65532u128];
    // SAFETY: `f` reads values[0] as an offset from vmctx (the memory base) and loads there.
    unsafe { call_wasm(f, base, std::ptr::null(), values.as_mut_ptr()) }.unwrap();
    assert_eq!(values[0] as u32, 0xdead_beef);
    let mut values = [65536u128];
    // SAFETY: as above; the page at 65536 is reserved but not committed, so the load faults.
    let err = unsafe { call_wasm(f, base, std::ptr::null(), values.as_mut_ptr()) }.unwrap_err();
    assert_eq!(err.kind, TrapKind::MemoryOutOfBounds);
    assert_eq!(memory.grow(1), Some(1));
    let mut values = [65536u128];
    // SAFETY: the second page is committed now.
    unsafe { call_wasm(f, base, std::ptr::null(), values.as_mut_ptr()) }.unwrap();
    assert_eq!(values[0] as u32, 0);
    assert_eq!(memory.grow(2), None, "beyond the maximum");
}

/// `copy_bytes` gives the same bytes on both of its paths (a plain copy below 1 MB, two
/// threads' copy into memory advised for huge pages above), at sizes around the thresholds and
/// unaligned.
#[test]
fn copy_bytes_copies_every_byte() {
    for len in [0, 1, 4095, (1 << 20) - 1, 1 << 20, (1 << 20) + 4097, (4 << 20) + 4097, (9 << 20) + 13] {
        let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + i / 4099) as u8).collect();
        let copy = super::copy_bytes(&bytes);
        assert_eq!(copy.len(), len);
        assert!(*copy == *bytes, "copy of {len} bytes differs");
        let shifted = super::copy_bytes(&bytes[len.min(3)..]);
        assert!(*shifted == bytes[len.min(3)..], "copy of {len} bytes from an offset differs");
        // On a pool thread (one thread copies there).
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let pooled = pool.install(|| super::copy_bytes(&bytes[len.min(3)..]));
        assert!(*pooled == bytes[len.min(3)..], "copy of {len} bytes on a pool thread differs");
    }
}

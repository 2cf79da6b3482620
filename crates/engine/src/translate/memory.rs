//! Memory instructions. Loads and stores compute `base + zext64(address) + offset` and access
//! it with no bounds check: memory 0 is a 4 GiB reservation followed by a 4 GiB guard, and a
//! 32-bit address plus a 32-bit offset stays inside both, so an out-of-bounds access faults and
//! the trap handler finds its PC in the trap table. `memory.size` reads the current length;
//! growing and the bulk operations are libcalls.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::immediates::Offset32;
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Value};
use cranelift_frontend::FunctionBuilder;
use wasmparser::{MemArg, MemArgTarget, Operator};

use super::environ::heap_flags;
use super::FuncTranslator;
use crate::libcall::LibCall;
use crate::trap::TrapKind;

use types::{F32, F64, I32, I64};

/// Bytes per wasm page, as a shift.
const PAGE_SHIFT: i64 = 16;

pub(super) fn translate(t: &mut FuncTranslator<'_, '_>, op: &Operator<'_>) -> Result<bool, String> {
    use Operator::*;
    match *op {
        I32Load { memarg } => load(t, memarg, |b, f, p, o| b.ins().load(I32, f, p, o))?,
        I64Load { memarg } => load(t, memarg, |b, f, p, o| b.ins().load(I64, f, p, o))?,
        F32Load { memarg } => load(t, memarg, |b, f, p, o| b.ins().load(F32, f, p, o))?,
        F64Load { memarg } => load(t, memarg, |b, f, p, o| b.ins().load(F64, f, p, o))?,
        I32Load8S { memarg } => load(t, memarg, |b, f, p, o| b.ins().sload8(I32, f, p, o))?,
        I32Load8U { memarg } => load(t, memarg, |b, f, p, o| b.ins().uload8(I32, f, p, o))?,
        I32Load16S { memarg } => load(t, memarg, |b, f, p, o| b.ins().sload16(I32, f, p, o))?,
        I32Load16U { memarg } => load(t, memarg, |b, f, p, o| b.ins().uload16(I32, f, p, o))?,
        I64Load8S { memarg } => load(t, memarg, |b, f, p, o| b.ins().sload8(I64, f, p, o))?,
        I64Load8U { memarg } => load(t, memarg, |b, f, p, o| b.ins().uload8(I64, f, p, o))?,
        I64Load16S { memarg } => load(t, memarg, |b, f, p, o| b.ins().sload16(I64, f, p, o))?,
        I64Load16U { memarg } => load(t, memarg, |b, f, p, o| b.ins().uload16(I64, f, p, o))?,
        I64Load32S { memarg } => load(t, memarg, |b, f, p, o| b.ins().sload32(f, p, o))?,
        I64Load32U { memarg } => load(t, memarg, |b, f, p, o| b.ins().uload32(f, p, o))?,
        I32Store { memarg } | I64Store { memarg } | F32Store { memarg } | F64Store { memarg } => {
            store(t, memarg, |b, f, v, p, o| {
                b.ins().store(f, v, p, o);
            })?
        }
        I32Store8 { memarg } | I64Store8 { memarg } => store(t, memarg, |b, f, v, p, o| {
            b.ins().istore8(f, v, p, o);
        })?,
        I32Store16 { memarg } | I64Store16 { memarg } => store(t, memarg, |b, f, v, p, o| {
            b.ins().istore16(f, v, p, o);
        })?,
        I64Store32 { memarg } => store(t, memarg, |b, f, v, p, o| {
            b.ins().istore32(f, v, p, o);
        })?,

        MemorySize { mem } => {
            memory_zero(mem)?;
            let length = t.env.memory_length(&mut t.builder);
            let pages = t.builder.ins().ushr_imm_u(length, PAGE_SHIFT);
            let pages = t.builder.ins().ireduce(I32, pages);
            t.push(pages);
        }
        MemoryGrow { mem } => {
            memory_zero(mem)?;
            let delta = t.pop()?;
            let old = t
                .env
                .call_libcall(&mut t.builder, LibCall::MemoryGrow, &[delta])
                .ok_or("memory.grow without result")?;
            t.push(old);
        }
        // V8 reports every failing bulk memory operation, memory.init included, as
        // "memory access out of bounds".
        MemoryFill { mem } => {
            memory_zero(mem)?;
            let (dst, value, len) = t.pop3()?;
            t.env.call_libcall_checked(
                &mut t.builder,
                LibCall::MemoryFill,
                &[dst, value, len],
                TrapKind::MemoryOutOfBounds,
            )?;
        }
        MemoryCopy { dst_mem, src_mem } => {
            memory_zero(dst_mem)?;
            memory_zero(src_mem)?;
            let (dst, src, len) = t.pop3()?;
            t.env.call_libcall_checked(
                &mut t.builder,
                LibCall::MemoryCopy,
                &[dst, src, len],
                TrapKind::MemoryOutOfBounds,
            )?;
        }
        MemoryInit { data_index, mem } => {
            memory_zero(mem)?;
            let (dst, src, len) = t.pop3()?;
            let segment = t.builder.ins().iconst(I32, i64::from(data_index));
            t.env.call_libcall_checked(
                &mut t.builder,
                LibCall::MemoryInit,
                &[segment, dst, src, len],
                TrapKind::MemoryOutOfBounds,
            )?;
        }
        DataDrop { data_index } => {
            let segment = t.builder.ins().iconst(I32, i64::from(data_index));
            t.env
                .call_libcall(&mut t.builder, LibCall::DataDrop, &[segment]);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Wasm 2.0 has one memory; anything else is a validation bug.
fn memory_zero(index: u32) -> Result<(), String> {
    if index == 0 {
        Ok(())
    } else {
        Err(format!("memory #{index}: only memory 0 is supported"))
    }
}

/// The native address of a wasm access at `address` (i32) with `memarg`, split into a base
/// value and an immediate offset. SIMD accesses use it too, so that all accesses fault alike.
pub(super) fn effective_address(
    t: &mut FuncTranslator<'_, '_>,
    memarg: MemArg,
    address: Value,
) -> Result<(Value, Offset32), String> {
    match memarg.target {
        MemArgTarget::Memory(index) => memory_zero(index)?,
        MemArgTarget::Array(_) => return Err("GC array accesses are not wasm 2.0".into()),
    }
    let address = t.builder.ins().uextend(I64, address);
    let base = if t.env.bounds_checks() {
        // Explicit check: address + offset + access size ≤ length (no overflow in 64 bits: at
        // most 2^33 + 16). The access size is the natural alignment (`max_align`) of every
        // load and store, lane accesses included.
        let (base, length) = t.env.memory_bounds(&mut t.builder)?;
        let size = 1i64 << memarg.max_align;
        let end = i64::try_from(memarg.offset)
            .ok()
            .and_then(|o| o.checked_add(size))
            .ok_or("memory offset beyond 64 bits")?;
        let last = t.builder.ins().iadd_imm_u(address, end);
        let out_of_bounds = t
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThan, last, length);
        t.builder
            .ins()
            .trapnz(out_of_bounds, TrapKind::MemoryOutOfBounds.code());
        base
    } else {
        t.env.memory_base()?
    };
    let pointer = t.builder.ins().iadd(base, address);
    // The offset is at most u32::MAX; the immediate is signed 32-bit, so large ones are added.
    Ok(match i32::try_from(memarg.offset) {
        Ok(offset) => (pointer, Offset32::new(offset)),
        Err(_) => {
            let offset =
                i64::try_from(memarg.offset).map_err(|_| "memory offset beyond 64 bits")?;
            (
                t.builder.ins().iadd_imm_u(pointer, offset),
                Offset32::new(0),
            )
        }
    })
}

/// Pops an address and pushes what `emit` loads from it (SIMD loads use it too).
pub(super) fn load(
    t: &mut FuncTranslator<'_, '_>,
    memarg: MemArg,
    emit: impl FnOnce(&mut FunctionBuilder<'_>, MemFlagsData, Value, Offset32) -> Value,
) -> Result<(), String> {
    let address = t.pop()?;
    let (pointer, offset) = effective_address(t, memarg, address)?;
    let flags = heap_flags(&mut t.builder);
    let value = emit(&mut t.builder, flags, pointer, offset);
    t.push(value);
    Ok(())
}

/// Pops an address and a value and lets `emit` store the value there (SIMD stores use it too).
pub(super) fn store(
    t: &mut FuncTranslator<'_, '_>,
    memarg: MemArg,
    emit: impl FnOnce(&mut FunctionBuilder<'_>, MemFlagsData, Value, Value, Offset32),
) -> Result<(), String> {
    let (address, value) = t.pop2()?;
    let (pointer, offset) = effective_address(t, memarg, address)?;
    let flags = heap_flags(&mut t.builder);
    emit(&mut t.builder, flags, value, pointer, offset);
    Ok(())
}

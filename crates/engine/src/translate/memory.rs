//! Memory instructions, on any memory of the module (each carries its memory index). Loads and
//! stores of a guarded 32-bit memory compute `base + zext64(address) + offset` and access it with
//! no bounds check: the memory is a 4 GiB reservation followed by a 4 GiB guard, and a 32-bit
//! address plus a 32-bit offset stays inside both, so an out-of-bounds access faults and the
//! trap handler finds its PC in the trap table. Accesses to 64-bit memories (no guard can cover
//! a 64-bit address space) and every access of bounds-checked code compare `address + offset +
//! size` with the length first, with overflow-safe arithmetic. `memory.size` reads the current
//! length; growing and the bulk operations are libcalls, which take every address and length as
//! an i64 (32-bit ones zero-extended) and the memory's index.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::immediates::Offset32;
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Value};
use cranelift_frontend::FunctionBuilder;
use wasmparser::{MemArg, MemArgTarget, Operator};

use super::environ::{heap_flags, MemoryBounds};
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
            let length = t.env.memory_length(&mut t.builder, mem)?;
            let pages = t.builder.ins().ushr_imm_u(length, PAGE_SHIFT);
            let pages = narrow(t, mem, pages)?;
            t.push(pages);
        }
        MemoryGrow { mem } => {
            let delta = t.pop()?;
            let delta = widen(t, mem, delta)?;
            let index = t.builder.ins().iconst(I32, i64::from(mem));
            let old = t
                .env
                .call_libcall(&mut t.builder, LibCall::MemoryGrow, &[index, delta])
                .ok_or("memory.grow without result")?;
            let old = narrow(t, mem, old)?;
            t.push(old);
        }
        // V8 reports every failing bulk memory operation, memory.init included, as
        // "memory access out of bounds".
        MemoryFill { mem } => {
            let (dst, value, len) = t.pop3()?;
            let dst = widen(t, mem, dst)?;
            let len = widen(t, mem, len)?;
            let index = t.builder.ins().iconst(I32, i64::from(mem));
            t.env.call_libcall_checked(
                &mut t.builder,
                LibCall::MemoryFill,
                &[index, dst, value, len],
                TrapKind::MemoryOutOfBounds,
            )?;
        }
        MemoryCopy { dst_mem, src_mem } => {
            // The length is 64-bit only when both memories are.
            let (dst, src, len) = t.pop3()?;
            let len_64 = is_64(t, dst_mem)? && is_64(t, src_mem)?;
            let dst = widen(t, dst_mem, dst)?;
            let src = widen(t, src_mem, src)?;
            let len = if len_64 { len } else { t.builder.ins().uextend(I64, len) };
            let dst_index = t.builder.ins().iconst(I32, i64::from(dst_mem));
            let src_index = t.builder.ins().iconst(I32, i64::from(src_mem));
            t.env.call_libcall_checked(
                &mut t.builder,
                LibCall::MemoryCopy,
                &[dst_index, src_index, dst, src, len],
                TrapKind::MemoryOutOfBounds,
            )?;
        }
        MemoryInit { data_index, mem } => {
            let (dst, src, len) = t.pop3()?;
            let dst = widen(t, mem, dst)?;
            let index = t.builder.ins().iconst(I32, i64::from(mem));
            let segment = t.builder.ins().iconst(I32, i64::from(data_index));
            t.env.call_libcall_checked(
                &mut t.builder,
                LibCall::MemoryInit,
                &[index, segment, dst, src, len],
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

/// The memory `op` loads from or stores to, if it is an access (what goes through
/// [`effective_address`]).
pub(super) fn accessed_memory(op: &Operator<'_>) -> Option<u32> {
    use Operator::*;
    let memarg = match *op {
        I32Load { memarg } | I64Load { memarg } | F32Load { memarg } | F64Load { memarg }
        | I32Load8S { memarg } | I32Load8U { memarg } | I32Load16S { memarg } | I32Load16U { memarg }
        | I64Load8S { memarg } | I64Load8U { memarg } | I64Load16S { memarg } | I64Load16U { memarg }
        | I64Load32S { memarg } | I64Load32U { memarg }
        | I32Store { memarg } | I64Store { memarg } | F32Store { memarg } | F64Store { memarg }
        | I32Store8 { memarg } | I32Store16 { memarg } | I64Store8 { memarg } | I64Store16 { memarg }
        | I64Store32 { memarg }
        | V128Load { memarg } | V128Store { memarg }
        | V128Load8x8S { memarg } | V128Load8x8U { memarg } | V128Load16x4S { memarg } | V128Load16x4U { memarg }
        | V128Load32x2S { memarg } | V128Load32x2U { memarg }
        | V128Load8Splat { memarg } | V128Load16Splat { memarg } | V128Load32Splat { memarg } | V128Load64Splat { memarg }
        | V128Load32Zero { memarg } | V128Load64Zero { memarg }
        | V128Load8Lane { memarg, .. } | V128Load16Lane { memarg, .. } | V128Load32Lane { memarg, .. } | V128Load64Lane { memarg, .. }
        | V128Store8Lane { memarg, .. } | V128Store16Lane { memarg, .. } | V128Store32Lane { memarg, .. } | V128Store64Lane { memarg, .. } => memarg,
        _ => return super::atomics::accessed_memory(op),
    };
    match memarg.target {
        MemArgTarget::Memory(index) => Some(index),
        MemArgTarget::Array(_) => None,
    }
}

/// Whether memory `index` is a 64-bit memory.
fn is_64(t: &FuncTranslator<'_, '_>, index: u32) -> Result<bool, String> {
    Ok(t.env.memory_type(index)?.memory64)
}

/// An address or length of memory `index` as the i64 libcalls take.
fn widen(t: &mut FuncTranslator<'_, '_>, index: u32, value: Value) -> Result<Value, String> {
    Ok(if is_64(t, index)? { value } else { t.builder.ins().uextend(I64, value) })
}

/// An i64 page count as memory `index`'s address type (-1 stays -1).
fn narrow(t: &mut FuncTranslator<'_, '_>, index: u32, value: Value) -> Result<Value, String> {
    Ok(if is_64(t, index)? { value } else { t.builder.ins().ireduce(I32, value) })
}

/// The native address of a wasm access at `address` (of the memory's address type) with
/// `memarg`, split into a base value and an immediate offset. SIMD accesses use it too, so that
/// all accesses fault alike.
pub(super) fn effective_address(
    t: &mut FuncTranslator<'_, '_>,
    memarg: MemArg,
    address: Value,
) -> Result<(Value, Offset32), String> {
    let index = match memarg.target {
        MemArgTarget::Memory(index) => index,
        MemArgTarget::Array(_) => return Err("GC array accesses are not supported".into()),
    };
    let address = widen(t, index, address)?;
    let base = match t.env.memory_reach(&mut t.builder, index)? {
        MemoryBounds::Guarded { base } => base,
        MemoryBounds::Checked { base, length } => {
            // Explicit check: address + offset + access size ≤ length. The access size is the
            // natural alignment (`max_align`) of every load and store, lane accesses included.
            // A 64-bit address plus the offset may wrap: that traps too (never reaches memory).
            let size = 1u64 << memarg.max_align;
            let out = TrapKind::MemoryOutOfBounds.code();
            match memarg.offset.checked_add(size) {
                // An offset this close to 2^64 is out of bounds of every memory.
                None => {
                    let always = t.builder.ins().iconst(types::I8, 1);
                    t.builder.ins().trapnz(always, out);
                }
                Some(end) => {
                    let last = if is_64(t, index)? {
                        let end = t.builder.ins().iconst(I64, end as i64);
                        t.builder.ins().uadd_overflow_trap(address, end, out)
                    } else {
                        // At most 2^32 + 2^32 + 16: no overflow in 64 bits.
                        t.builder.ins().iadd_imm_u(address, end as i64)
                    };
                    let out_of_bounds = t
                        .builder
                        .ins()
                        .icmp(IntCC::UnsignedGreaterThan, last, length);
                    if t.env.memory_type(index)?.shared {
                        // Another thread may have grown a shared memory since the length was
                        // read (at entry or after a call): before trapping, read it again (a
                        // cold path) and keep that. An access inside the memory as it is now
                        // never traps, and one after this thread saw the growth (memory.size,
                        // an atomic that synchronized with the growing thread) sees it too.
                        let recheck = t.builder.create_block();
                        let next = t.builder.create_block();
                        t.builder.set_cold_block(recheck);
                        t.builder.ins().brif(out_of_bounds, recheck, &[], next, &[]);
                        t.builder.switch_to_block(recheck);
                        t.builder.seal_block(recheck);
                        let length = t.env.reload_memory_length(&mut t.builder, index)?;
                        let still_out = t
                            .builder
                            .ins()
                            .icmp(IntCC::UnsignedGreaterThan, last, length);
                        t.builder.ins().trapnz(still_out, out);
                        t.builder.ins().jump(next, &[]);
                        t.builder.switch_to_block(next);
                        t.builder.seal_block(next);
                    } else {
                        t.builder.ins().trapnz(out_of_bounds, out);
                    }
                }
            }
            base
        }
    };
    let pointer = t.builder.ins().iadd(base, address);
    // The immediate is signed 32-bit, so larger offsets are added (checked accesses proved
    // that no sum wraps; unchecked ones have offsets below 2^32).
    Ok(match i32::try_from(memarg.offset) {
        Ok(offset) => (pointer, Offset32::new(offset)),
        Err(_) => (
            t.builder.ins().iadd_imm_u(pointer, memarg.offset as i64),
            Offset32::new(0),
        ),
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

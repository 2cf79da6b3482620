//! The threads proposal's operators: atomic loads, stores, read-modify-writes and
//! compare-exchanges, `memory.atomic.wait32/64`, `memory.atomic.notify` and `atomic.fence`, on
//! any memory of the module (shared or not: atomics on unshared memories are valid), 32- or
//! 64-bit.
//!
//! An access reaches memory as ordinary loads and stores do ([`memory::effective_address`]:
//! guarded memories fault out of bounds, checked ones compare first), then checks its natural
//! alignment (after the bounds, as V8 does): a misaligned address traps with V8's "operation does not support unaligned
//! accesses" (the base of every memory is page-aligned, so the native address's low bits are the
//! wasm address's). Cranelift's atomic instructions are sequentially consistent (x86-64: `lock`
//! prefixed read-modify-writes and `xchg` stores), which is what the proposal asks of every
//! atomic access.
//!
//! `wait` and `notify` first probe the address (a plain load, so that an out-of-bounds address
//! traps as any access does) and check alignment; `notify` on an unshared memory then returns 0
//! (no one can wait there) and `wait` on one traps, both decided at translation (the memory type
//! says whether it is shared). On a shared memory they are libcalls into `runtime::waiters`, the
//! engine's wait queue keyed by native address.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, AtomicRmwOp, InstBuilder, MemFlagsData, Type, Value};
use wasmparser::{MemArg, MemArgTarget, Operator};

use super::environ::heap_flags;
use super::memory::effective_address;
use super::FuncTranslator;
use crate::libcall::LibCall;
use crate::trap::TrapKind;

use types::{I16, I32, I64, I8};

/// Translates `op` if it is one of the threads proposal's; false when it is not.
pub(super) fn translate(t: &mut FuncTranslator<'_, '_>, op: &Operator<'_>) -> Result<bool, String> {
    use AtomicRmwOp::{Add, And, Or, Sub, Xchg, Xor};
    use Operator::*;
    match *op {
        AtomicFence { .. } => {
            t.builder.ins().fence();
        }
        I32AtomicLoad { memarg } => load(t, memarg, I32, I32)?,
        I64AtomicLoad { memarg } => load(t, memarg, I64, I64)?,
        I32AtomicLoad8U { memarg } => load(t, memarg, I8, I32)?,
        I32AtomicLoad16U { memarg } => load(t, memarg, I16, I32)?,
        I64AtomicLoad8U { memarg } => load(t, memarg, I8, I64)?,
        I64AtomicLoad16U { memarg } => load(t, memarg, I16, I64)?,
        I64AtomicLoad32U { memarg } => load(t, memarg, I32, I64)?,

        I32AtomicStore { memarg } => store(t, memarg, I32)?,
        I64AtomicStore { memarg } => store(t, memarg, I64)?,
        I32AtomicStore8 { memarg } | I64AtomicStore8 { memarg } => store(t, memarg, I8)?,
        I32AtomicStore16 { memarg } | I64AtomicStore16 { memarg } => store(t, memarg, I16)?,
        I64AtomicStore32 { memarg } => store(t, memarg, I32)?,

        I32AtomicRmwAdd { memarg } => rmw(t, memarg, Add, I32, I32)?,
        I64AtomicRmwAdd { memarg } => rmw(t, memarg, Add, I64, I64)?,
        I32AtomicRmw8AddU { memarg } => rmw(t, memarg, Add, I8, I32)?,
        I32AtomicRmw16AddU { memarg } => rmw(t, memarg, Add, I16, I32)?,
        I64AtomicRmw8AddU { memarg } => rmw(t, memarg, Add, I8, I64)?,
        I64AtomicRmw16AddU { memarg } => rmw(t, memarg, Add, I16, I64)?,
        I64AtomicRmw32AddU { memarg } => rmw(t, memarg, Add, I32, I64)?,

        I32AtomicRmwSub { memarg } => rmw(t, memarg, Sub, I32, I32)?,
        I64AtomicRmwSub { memarg } => rmw(t, memarg, Sub, I64, I64)?,
        I32AtomicRmw8SubU { memarg } => rmw(t, memarg, Sub, I8, I32)?,
        I32AtomicRmw16SubU { memarg } => rmw(t, memarg, Sub, I16, I32)?,
        I64AtomicRmw8SubU { memarg } => rmw(t, memarg, Sub, I8, I64)?,
        I64AtomicRmw16SubU { memarg } => rmw(t, memarg, Sub, I16, I64)?,
        I64AtomicRmw32SubU { memarg } => rmw(t, memarg, Sub, I32, I64)?,

        I32AtomicRmwAnd { memarg } => rmw(t, memarg, And, I32, I32)?,
        I64AtomicRmwAnd { memarg } => rmw(t, memarg, And, I64, I64)?,
        I32AtomicRmw8AndU { memarg } => rmw(t, memarg, And, I8, I32)?,
        I32AtomicRmw16AndU { memarg } => rmw(t, memarg, And, I16, I32)?,
        I64AtomicRmw8AndU { memarg } => rmw(t, memarg, And, I8, I64)?,
        I64AtomicRmw16AndU { memarg } => rmw(t, memarg, And, I16, I64)?,
        I64AtomicRmw32AndU { memarg } => rmw(t, memarg, And, I32, I64)?,

        I32AtomicRmwOr { memarg } => rmw(t, memarg, Or, I32, I32)?,
        I64AtomicRmwOr { memarg } => rmw(t, memarg, Or, I64, I64)?,
        I32AtomicRmw8OrU { memarg } => rmw(t, memarg, Or, I8, I32)?,
        I32AtomicRmw16OrU { memarg } => rmw(t, memarg, Or, I16, I32)?,
        I64AtomicRmw8OrU { memarg } => rmw(t, memarg, Or, I8, I64)?,
        I64AtomicRmw16OrU { memarg } => rmw(t, memarg, Or, I16, I64)?,
        I64AtomicRmw32OrU { memarg } => rmw(t, memarg, Or, I32, I64)?,

        I32AtomicRmwXor { memarg } => rmw(t, memarg, Xor, I32, I32)?,
        I64AtomicRmwXor { memarg } => rmw(t, memarg, Xor, I64, I64)?,
        I32AtomicRmw8XorU { memarg } => rmw(t, memarg, Xor, I8, I32)?,
        I32AtomicRmw16XorU { memarg } => rmw(t, memarg, Xor, I16, I32)?,
        I64AtomicRmw8XorU { memarg } => rmw(t, memarg, Xor, I8, I64)?,
        I64AtomicRmw16XorU { memarg } => rmw(t, memarg, Xor, I16, I64)?,
        I64AtomicRmw32XorU { memarg } => rmw(t, memarg, Xor, I32, I64)?,

        I32AtomicRmwXchg { memarg } => rmw(t, memarg, Xchg, I32, I32)?,
        I64AtomicRmwXchg { memarg } => rmw(t, memarg, Xchg, I64, I64)?,
        I32AtomicRmw8XchgU { memarg } => rmw(t, memarg, Xchg, I8, I32)?,
        I32AtomicRmw16XchgU { memarg } => rmw(t, memarg, Xchg, I16, I32)?,
        I64AtomicRmw8XchgU { memarg } => rmw(t, memarg, Xchg, I8, I64)?,
        I64AtomicRmw16XchgU { memarg } => rmw(t, memarg, Xchg, I16, I64)?,
        I64AtomicRmw32XchgU { memarg } => rmw(t, memarg, Xchg, I32, I64)?,

        I32AtomicRmwCmpxchg { memarg } => cmpxchg(t, memarg, I32, I32)?,
        I64AtomicRmwCmpxchg { memarg } => cmpxchg(t, memarg, I64, I64)?,
        I32AtomicRmw8CmpxchgU { memarg } => cmpxchg(t, memarg, I8, I32)?,
        I32AtomicRmw16CmpxchgU { memarg } => cmpxchg(t, memarg, I16, I32)?,
        I64AtomicRmw8CmpxchgU { memarg } => cmpxchg(t, memarg, I8, I64)?,
        I64AtomicRmw16CmpxchgU { memarg } => cmpxchg(t, memarg, I16, I64)?,
        I64AtomicRmw32CmpxchgU { memarg } => cmpxchg(t, memarg, I32, I64)?,

        MemoryAtomicNotify { memarg } => notify(t, memarg)?,
        MemoryAtomicWait32 { memarg } => wait(t, memarg, I32)?,
        MemoryAtomicWait64 { memarg } => wait(t, memarg, I64)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// The memory `op` accesses, if it is an atomic access (for `Shape::accessed_memories`).
pub(super) fn accessed_memory(op: &Operator<'_>) -> Option<u32> {
    use Operator::*;
    #[rustfmt::skip]
    let memarg = match *op {
        I32AtomicLoad { memarg } | I64AtomicLoad { memarg } | I32AtomicLoad8U { memarg } | I32AtomicLoad16U { memarg } | I64AtomicLoad8U { memarg } | I64AtomicLoad16U { memarg } | I64AtomicLoad32U { memarg } | I32AtomicStore { memarg } | I64AtomicStore { memarg } | I32AtomicStore8 { memarg } | I32AtomicStore16 { memarg } | I64AtomicStore32 { memarg } | I32AtomicRmwAdd { memarg } | I64AtomicRmwAdd { memarg } | I32AtomicRmw8AddU { memarg } | I32AtomicRmw16AddU { memarg } | I64AtomicRmw8AddU { memarg } | I64AtomicRmw16AddU { memarg } | I64AtomicRmw32AddU { memarg } | I32AtomicRmwSub { memarg } | I64AtomicRmwSub { memarg } | I32AtomicRmw8SubU { memarg } | I32AtomicRmw16SubU { memarg } | I64AtomicRmw8SubU { memarg } | I64AtomicRmw16SubU { memarg } | I64AtomicRmw32SubU { memarg } | I32AtomicRmwAnd { memarg } | I64AtomicRmwAnd { memarg } | I32AtomicRmw8AndU { memarg } | I32AtomicRmw16AndU { memarg } | I64AtomicRmw8AndU { memarg } | I64AtomicRmw16AndU { memarg } | I64AtomicRmw32AndU { memarg } | I32AtomicRmwOr { memarg } | I64AtomicRmwOr { memarg } | I32AtomicRmw8OrU { memarg } | I32AtomicRmw16OrU { memarg } | I64AtomicRmw8OrU { memarg } | I64AtomicRmw16OrU { memarg } | I64AtomicRmw32OrU { memarg } | I32AtomicRmwXor { memarg } | I64AtomicRmwXor { memarg } | I32AtomicRmw8XorU { memarg } | I32AtomicRmw16XorU { memarg } | I64AtomicRmw8XorU { memarg } | I64AtomicRmw16XorU { memarg } | I64AtomicRmw32XorU { memarg } | I32AtomicRmwXchg { memarg } | I64AtomicRmwXchg { memarg } | I32AtomicRmw8XchgU { memarg } | I32AtomicRmw16XchgU { memarg } | I64AtomicRmw8XchgU { memarg } | I64AtomicRmw16XchgU { memarg } | I64AtomicRmw32XchgU { memarg } | I32AtomicRmwCmpxchg { memarg } | I64AtomicRmwCmpxchg { memarg } | I32AtomicRmw8CmpxchgU { memarg } | I32AtomicRmw16CmpxchgU { memarg } | I64AtomicRmw8CmpxchgU { memarg } | I64AtomicRmw16CmpxchgU { memarg } | I64AtomicRmw32CmpxchgU { memarg } | MemoryAtomicNotify { memarg } | MemoryAtomicWait32 { memarg } | MemoryAtomicWait64 { memarg } | I64AtomicStore8 { memarg } | I64AtomicStore16 { memarg } => memarg,
        _ => return None,
    };
    match memarg.target {
        MemArgTarget::Memory(index) => Some(index),
        MemArgTarget::Array(_) => None,
    }
}

/// The native address of an atomic access of `size` (the access type's) bytes at wasm address
/// `address`, after the bounds and alignment checks.
fn checked_address(
    t: &mut FuncTranslator<'_, '_>,
    memarg: MemArg,
    address: Value,
    size: u32,
) -> Result<Value, String> {
    let (pointer, offset) = effective_address(t, memarg, address)?;
    let offset = i64::from(offset);
    let pointer = if offset == 0 {
        pointer
    } else {
        t.builder.ins().iadd_imm_u(pointer, offset)
    };
    if size > 1 {
        // V8 checks bounds before alignment: the (cold) misaligned path first touches the
        // access's last byte, which faults when the access is out of bounds of a guarded memory
        // (checked ones were checked above), then traps as misaligned.
        let low = t.builder.ins().band_imm_u(pointer, i64::from(size - 1));
        let misaligned = t.builder.create_block();
        let next = t.builder.create_block();
        t.builder.set_cold_block(misaligned);
        t.builder.ins().brif(low, misaligned, &[], next, &[]);
        t.builder.switch_to_block(misaligned);
        t.builder.seal_block(misaligned);
        let flags = heap_flags(&mut t.builder);
        let last = i32::try_from(size - 1).map_err(|_| "atomic access too wide")?;
        t.builder.ins().uload8(I32, flags, pointer, last);
        t.builder.ins().trap(TrapKind::UnalignedAccess.code());
        t.builder.switch_to_block(next);
        t.builder.seal_block(next);
    }
    Ok(pointer)
}

/// Sequentially consistent access flags: the heap's (trap code, alias region), never merged
/// with or reordered around other heap accesses.
fn flags(t: &mut FuncTranslator<'_, '_>) -> MemFlagsData {
    heap_flags(&mut t.builder)
}

/// `access` bytes loaded, zero-extended to `result`.
fn load(t: &mut FuncTranslator<'_, '_>, memarg: MemArg, access: Type, result: Type) -> Result<(), String> {
    let address = t.pop()?;
    let pointer = checked_address(t, memarg, address, access.bytes())?;
    let flags = flags(t);
    let value = t.builder.ins().atomic_load(access, flags, pointer);
    let value = extend(t, value, access, result);
    t.push(value);
    Ok(())
}

/// The low `access` bytes of the operand stored.
fn store(t: &mut FuncTranslator<'_, '_>, memarg: MemArg, access: Type) -> Result<(), String> {
    let (address, value) = t.pop2()?;
    let pointer = checked_address(t, memarg, address, access.bytes())?;
    let value = narrow(t, value, access);
    let flags = flags(t);
    t.builder.ins().atomic_store(flags, value, pointer);
    Ok(())
}

fn rmw(
    t: &mut FuncTranslator<'_, '_>,
    memarg: MemArg,
    op: AtomicRmwOp,
    access: Type,
    result: Type,
) -> Result<(), String> {
    let (address, operand) = t.pop2()?;
    let pointer = checked_address(t, memarg, address, access.bytes())?;
    let operand = narrow(t, operand, access);
    let flags = flags(t);
    let old = t.builder.ins().atomic_rmw(access, flags, op, pointer, operand);
    let old = extend(t, old, access, result);
    t.push(old);
    Ok(())
}

fn cmpxchg(t: &mut FuncTranslator<'_, '_>, memarg: MemArg, access: Type, result: Type) -> Result<(), String> {
    let (address, expected, replacement) = t.pop3()?;
    let pointer = checked_address(t, memarg, address, access.bytes())?;
    let expected = narrow(t, expected, access);
    let replacement = narrow(t, replacement, access);
    let flags = flags(t);
    let old = t.builder.ins().atomic_cas(flags, pointer, expected, replacement);
    let old = extend(t, old, access, result);
    t.push(old);
    Ok(())
}

fn extend(t: &mut FuncTranslator<'_, '_>, value: Value, access: Type, result: Type) -> Value {
    if access == result {
        value
    } else {
        t.builder.ins().uextend(result, value)
    }
}

fn narrow(t: &mut FuncTranslator<'_, '_>, value: Value, access: Type) -> Value {
    if t.builder.func.dfg.value_type(value) == access {
        value
    } else {
        t.builder.ins().ireduce(access, value)
    }
}

/// Whether the memory of `memarg` is shared.
fn is_shared(t: &FuncTranslator<'_, '_>, memarg: MemArg) -> Result<bool, String> {
    match memarg.target {
        MemArgTarget::Memory(index) => Ok(t.env.memory_type(index)?.shared),
        MemArgTarget::Array(_) => Err("GC array accesses are not supported".into()),
    }
}

/// The native address of a `wait`/`notify` operand of `size` bytes: bounds-checked (a probing
/// load, which faults on a guarded memory as any access does) and aligned.
fn probed_address(t: &mut FuncTranslator<'_, '_>, memarg: MemArg, address: Value, size: Type) -> Result<Value, String> {
    let pointer = checked_address(t, memarg, address, size.bytes())?;
    let flags = flags(t);
    // The value is not used; the load is kept for its trap (Cranelift keeps trapping loads).
    t.builder.ins().load(size, flags, pointer, 0);
    Ok(pointer)
}

/// `memory.atomic.notify`: wakes at most `count` waiters of the address; how many it woke.
fn notify(t: &mut FuncTranslator<'_, '_>, memarg: MemArg) -> Result<(), String> {
    let (address, count) = t.pop2()?;
    let pointer = probed_address(t, memarg, address, I32)?;
    let woken = if is_shared(t, memarg)? {
        t.env
            .call_libcall(&mut t.builder, LibCall::AtomicNotify, &[pointer, count])
            .ok_or("memory.atomic.notify without result")?
    } else {
        t.builder.ins().iconst(I32, 0)
    };
    t.push(woken);
    Ok(())
}

/// `memory.atomic.wait32/64`: 0 woken, 1 the value was not `expected`, 2 timed out.
fn wait(t: &mut FuncTranslator<'_, '_>, memarg: MemArg, access: Type) -> Result<(), String> {
    let (address, expected, timeout) = t.pop3()?;
    let pointer = probed_address(t, memarg, address, access)?;
    if !is_shared(t, memarg)? {
        // A trap that does not end the block: the operators after it still translate.
        let always = t.builder.ins().iconst(I8, 1);
        t.builder
            .ins()
            .trapnz(always, TrapKind::WaitOnUnsharedMemory.code());
        let zero = t.builder.ins().iconst(I32, 0);
        t.push(zero);
        return Ok(());
    }
    let expected = if access == I64 {
        expected
    } else {
        t.builder.ins().uextend(I64, expected)
    };
    let width = t.builder.ins().iconst(I32, i64::from(access.bytes()));
    let result = t
        .env
        .call_libcall(
            &mut t.builder,
            LibCall::AtomicWait,
            &[pointer, expected, timeout, width],
        )
        .ok_or("memory.atomic.wait without result")?;
    // The thread was stopped while it waited (termination, a deadline, exit).
    let interrupted = t.builder.ins().icmp_imm_u(
        IntCC::Equal,
        result,
        i64::from(crate::libcall::WAIT_INTERRUPTED),
    );
    t.builder
        .ins()
        .trapnz(interrupted, TrapKind::Interrupted.code());
    t.push(result);
    Ok(())
}

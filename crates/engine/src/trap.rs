//! The traps wasm code can raise, how generated code encodes them (Cranelift trap codes) and
//! the message each one carries, worded as V8 words it so that programs see the same
//! `RuntimeError` messages on either engine.

use cranelift_codegen::ir::TrapCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrapKind {
    Unreachable,
    MemoryOutOfBounds,
    DivideByZero,
    DivideUnrepresentable,
    RemainderByZero,
    FloatUnrepresentable,
    TableOutOfBounds,
    /// `call_indirect` on a null entry or an entry of another signature.
    IndirectCallMismatch,
    DataSegmentOutOfBounds,
    ElementSegmentOutOfBounds,
    /// The stack limit was reached: surfaces as a `RangeError`, not a `RuntimeError`.
    StackOverflow,
    /// A host (JS) function called from wasm threw; the exception is rethrown unchanged.
    HostException,
    /// A function compiled on its first call (lazy compilation) could not be compiled: the
    /// engine ran out of code memory.
    CompilationFailed,
    /// The activation was stopped from outside: termination, a deadline, fuel. Why is kept by
    /// `runtime::interrupts` (`take_reason`).
    Interrupted,
    /// Metered code ran out of fuel (`runtime::sandbox`).
    OutOfFuel,
    /// `ref.as_non_null` or `call_ref` on a null reference.
    NullDereference,
    /// A wasm exception that no wasm handler caught left the activation; the exception is
    /// `runtime::exceptions::take_uncaught`'s.
    Exception,
    /// `throw_ref` (or a legacy `rethrow`) of a null exception reference.
    NullException,
    /// An atomic access at an address that is not a multiple of its size (threads).
    UnalignedAccess,
    /// `memory.atomic.wait32/64` on an unshared memory (threads).
    WaitOnUnsharedMemory,
}

impl TrapKind {
    pub const ALL: [TrapKind; 20] = [
        TrapKind::Unreachable,
        TrapKind::MemoryOutOfBounds,
        TrapKind::DivideByZero,
        TrapKind::DivideUnrepresentable,
        TrapKind::RemainderByZero,
        TrapKind::FloatUnrepresentable,
        TrapKind::TableOutOfBounds,
        TrapKind::IndirectCallMismatch,
        TrapKind::DataSegmentOutOfBounds,
        TrapKind::ElementSegmentOutOfBounds,
        TrapKind::StackOverflow,
        TrapKind::HostException,
        TrapKind::CompilationFailed,
        TrapKind::Interrupted,
        TrapKind::OutOfFuel,
        TrapKind::NullDereference,
        TrapKind::Exception,
        TrapKind::NullException,
        TrapKind::UnalignedAccess,
        TrapKind::WaitOnUnsharedMemory,
    ];

    /// The message of the `RuntimeError` (V8's wording).
    pub fn message(self) -> &'static str {
        match self {
            TrapKind::Unreachable => "unreachable",
            TrapKind::MemoryOutOfBounds => "memory access out of bounds",
            TrapKind::DivideByZero => "divide by zero",
            TrapKind::DivideUnrepresentable => "divide result unrepresentable",
            TrapKind::RemainderByZero => "remainder by zero",
            TrapKind::FloatUnrepresentable => "float unrepresentable in integer range",
            TrapKind::TableOutOfBounds => "table index is out of bounds",
            TrapKind::IndirectCallMismatch => "null function or function signature mismatch",
            TrapKind::DataSegmentOutOfBounds => "data segment is out of bounds",
            TrapKind::ElementSegmentOutOfBounds => "element segment out of bounds",
            TrapKind::StackOverflow => "Maximum call stack size exceeded",
            TrapKind::HostException => "exception thrown by an imported function",
            TrapKind::CompilationFailed => "cranewasm: lazy compilation failed (out of code memory)",
            TrapKind::Interrupted => "cranewasm: execution interrupted",
            TrapKind::OutOfFuel => "cranewasm: all fuel consumed (fuel exhausted)",
            TrapKind::NullDereference => "dereferencing a null pointer",
            TrapKind::Exception => "uncaught wasm exception",
            TrapKind::NullException => "rethrowing null value",
            TrapKind::UnalignedAccess => "operation does not support unaligned accesses",
            // V8's wording for a wait on an unshared memory.
            TrapKind::WaitOnUnsharedMemory => "Atomics.wait cannot be called in this context",
        }
    }

    /// The trap code generated code uses for this trap. Explicit checks emitted by the
    /// translator use user codes, so that e.g. a division by zero and a remainder by zero stay
    /// apart; faulting loads and stores, stack checks and float-to-int conversions use
    /// Cranelift's own codes (see [`TrapKind::from_code`]).
    pub fn code(self) -> TrapCode {
        match self {
            TrapKind::MemoryOutOfBounds => TrapCode::HEAP_OUT_OF_BOUNDS,
            TrapKind::StackOverflow => TrapCode::STACK_OVERFLOW,
            TrapKind::FloatUnrepresentable => TrapCode::BAD_CONVERSION_TO_INTEGER,
            other => {
                let index = TrapKind::ALL
                    .iter()
                    .position(|k| *k == other)
                    .expect("listed in ALL");
                TrapCode::user(1 + index as u8).expect("user trap codes are non-zero")
            }
        }
    }

    /// The trap a trap code of generated code stands for. Cranelift's float-to-int
    /// conversions trap with INTEGER_OVERFLOW for out-of-range values; the translator never
    /// uses that code for divisions (it checks them explicitly), so it means a conversion.
    pub fn from_code(code: TrapCode) -> Option<TrapKind> {
        if code == TrapCode::INTEGER_OVERFLOW || code == TrapCode::BAD_CONVERSION_TO_INTEGER {
            return Some(TrapKind::FloatUnrepresentable);
        }
        if code == TrapCode::INTEGER_DIVISION_BY_ZERO {
            return Some(TrapKind::DivideByZero);
        }
        TrapKind::ALL.iter().copied().find(|k| k.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for kind in TrapKind::ALL {
            assert_eq!(TrapKind::from_code(kind.code()), Some(kind), "{kind:?}");
        }
    }
}

//! The layout of the VM structures that generated code and the runtime share, computed in one
//! place. Generated code reaches everything through the `vmctx` pointer it receives as its first
//! argument; the runtime builds the same structures with the same offsets.
//!
//! `VMContext` (one per instance, 16-byte aligned, all fields 8 bytes unless noted):
//!
//! | offset                  | field                | meaning                                          |
//! |-------------------------|----------------------|--------------------------------------------------|
//! | 0                       | `runtime_limits`     | `*const VMRuntimeLimits` of the instance's thread |
//! | 8                       | `code_table`         | `*const *const u8`: current code of each defined function (the module's dispatch table) |
//! | 16                      | `type_ids`           | `*const u32`: canonical id of each type index     |
//! | 24                      | `instance`           | `*const Instance`, for libcalls                   |
//! | 32                      | `tiering_budgets`    | `*const i32`: dynamic tier-up budget per defined function |
//! | `imported_functions`    | `[VMFunctionImport]` | one per imported function                         |
//! | `memories`              | `[VMMemoryImport]`   | one per memory, imported ones first               |
//! | `tables`                | `[*mut VMTableDefinition]` | one per table, imported ones first           |
//! | `globals`               | `[*mut VMGlobal]`    | one per global, imported ones first               |
//! | `func_refs`             | `[VMFuncRef]`        | one per function in the function index space      |
//!
//! Every global lives in its own 16-byte `VMGlobal` cell reached through a pointer, so an
//! exported global and every instance importing it share one cell.

/// Size of a pointer on the targets we support.
pub const PTR: u32 = 8;

/// `VMRuntimeLimits`: per-thread state that generated code reads (`runtime::interrupts`).
pub mod runtime_limits {
    /// The lowest stack address wasm may use, or `INTERRUPT_LIMIT` while an interrupt is pending;
    /// checked in every function prologue and at every loop header.
    pub const STACK_LIMIT: u32 = 0;
    /// Fuel consumed minus fuel available (i64): metered code stops when it is not negative.
    pub const FUEL_CONSUMED: u32 = 8;
    pub const SIZE: u32 = 16;
}

/// `VMMemoryDefinition`: a linear memory's current size, shared by the instances using it.
pub mod memory_definition {
    pub const BASE: u32 = 0;
    /// Current length in bytes (u64).
    pub const LENGTH: u32 = 8;
    pub const SIZE: u32 = 16;
}

/// `VMMemoryImport`: how generated code reaches one memory of the instance (defined or imported:
/// the same shape either way, inline in the vmctx).
pub mod memory_import {
    /// `*const VMMemoryDefinition` of the memory (shared by every instance using it).
    pub const DEFINITION: u32 = 0;
    /// The memory's base when it has a guard reservation (it never moves then), else null:
    /// code without bounds checks loads it once per function.
    pub const BASE: u32 = 8;
    pub const SIZE: u32 = 16;
}

/// `VMTableDefinition`: a table's element storage. Elements are pointer-sized: a
/// `*const VMFuncRef` (null for ref.null) for funcref tables, an opaque non-zero host handle
/// (zero for ref.null) for externref tables.
pub mod table_definition {
    pub const ELEMENTS: u32 = 0;
    /// Current number of elements (u64, at most `MAX_TABLE_ELEMENTS`: 32-bit code reads its low
    /// half).
    pub const LENGTH: u32 = 8;
    pub const SIZE: u32 = 16;
}

/// `VMFunctionImport`: how to call an imported function.
pub mod function_import {
    /// Code with the wasm calling convention of the import's signature.
    pub const CODE: u32 = 0;
    /// The `vmctx` to pass to it (the exporting instance's, or a host function's context).
    pub const VMCTX: u32 = 8;
    pub const SIZE: u32 = 16;
}

/// `VMFuncRef`: a function reference, what funcref values and table elements point to.
pub mod func_ref {
    pub const CODE: u32 = 0;
    pub const VMCTX: u32 = 8;
    /// Canonical signature id (u32), compared by `call_indirect`.
    pub const TYPE_ID: u32 = 16;
    pub const SIZE: u32 = 24;
}

/// `VMGlobal`: one global's value, 16 bytes so that v128 fits; smaller types live at offset 0
/// (little-endian).
pub mod global {
    pub const SIZE: u32 = 16;
}

/// `VMHostFuncContext`: the `vmctx` of a host (JS) function called from wasm through an exit
/// trampoline. The trampoline spills the arguments into an array of 16-byte slots and calls
/// `CALLBACK(host_vmctx, values)`; results come back in the same array. A non-zero return means
/// the call did not complete (a JS exception is pending) and the trampoline traps.
pub mod host_func_context {
    /// `extern "C" fn(*mut VMHostFuncContext, *mut [u8; 16]) -> u32`.
    pub const CALLBACK: u32 = 0;
    /// The host's data for the callback (opaque to generated code).
    pub const DATA: u32 = 8;
    pub const SIZE: u32 = 16;
}

/// An exception object (`runtime::exceptions::VMException`), which an `exnref` points to:
/// catch handlers read its payload, one [`VALUE_SLOT`] per tag parameter.
pub mod exception {
    /// `*const u128`: the payload's first slot.
    pub const PAYLOAD: u32 = 0;
}

/// Size of one value slot in the arrays of entry and exit trampolines.
pub const VALUE_SLOT: u32 = 16;

/// Fixed fields of `VMContext`.
pub mod vmctx {
    pub const RUNTIME_LIMITS: u32 = 0;
    pub const CODE_TABLE: u32 = 8;
    pub const TYPE_IDS: u32 = 16;
    pub const INSTANCE: u32 = 24;
    pub const TIERING_BUDGETS: u32 = 32;
    /// The process's builtins table (`libcall::BUILTINS` addresses).
    pub const BUILTINS: u32 = 40;
    /// Rounded up to 16 so that the variable parts start 16-aligned.
    pub const FIXED_SIZE: u32 = 48;
}

/// Offsets of the variable-length parts of one module's `VMContext`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VMOffsets {
    pub num_imported_functions: u32,
    pub num_memories: u32,
    pub num_tables: u32,
    pub num_globals: u32,
    pub num_functions: u32,
}

impl VMOffsets {
    pub fn imported_functions(&self) -> u32 {
        vmctx::FIXED_SIZE
    }

    pub fn imported_function(&self, index: u32) -> u32 {
        debug_assert!(index < self.num_imported_functions);
        self.imported_functions() + index * function_import::SIZE
    }

    pub fn memories(&self) -> u32 {
        self.imported_functions() + self.num_imported_functions * function_import::SIZE
    }

    /// Offset of memory `index`'s `VMMemoryImport`, inline in the vmctx.
    pub fn memory(&self, index: u32) -> u32 {
        debug_assert!(index < self.num_memories);
        self.memories() + index * memory_import::SIZE
    }

    pub fn tables(&self) -> u32 {
        self.memories() + self.num_memories * memory_import::SIZE
    }

    /// Offset of the pointer to table `index`'s `VMTableDefinition`.
    pub fn table(&self, index: u32) -> u32 {
        debug_assert!(index < self.num_tables);
        self.tables() + index * PTR
    }

    pub fn globals(&self) -> u32 {
        self.tables() + self.num_tables * PTR
    }

    /// Offset of the pointer to global `index`'s `VMGlobal` cell.
    pub fn global(&self, index: u32) -> u32 {
        debug_assert!(index < self.num_globals);
        self.globals() + index * PTR
    }

    pub fn func_refs(&self) -> u32 {
        self.globals() + self.num_globals * PTR
    }

    /// Offset of function `index`'s `VMFuncRef`, inline in the vmctx.
    pub fn func_ref(&self, index: u32) -> u32 {
        debug_assert!(index < self.num_functions);
        self.func_refs() + index * func_ref::SIZE
    }

    /// Total size of the `VMContext`.
    pub fn size(&self) -> u32 {
        self.func_refs() + self.num_functions * func_ref::SIZE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_follow_each_other_without_overlap() {
        let o = VMOffsets {
            num_imported_functions: 2,
            num_memories: 2,
            num_tables: 3,
            num_globals: 4,
            num_functions: 5,
        };
        assert_eq!(o.imported_function(1), vmctx::FIXED_SIZE + 16);
        assert_eq!(o.memories(), vmctx::FIXED_SIZE + 32);
        assert_eq!(o.memory(1), o.memories() + 16);
        assert_eq!(o.tables(), o.memories() + 32);
        assert_eq!(o.globals(), o.tables() + 24);
        assert_eq!(o.func_refs(), o.globals() + 32);
        assert_eq!(o.size(), o.func_refs() + 5 * func_ref::SIZE);
        assert_eq!(o.size() % 8, 0);
    }
}

//! A module's dispatch block, after V8's jump table: the one place that says where each
//! defined function's code is now. Lazy compilation and tier-up change an entry, once, for
//! every instance and every caller at the same time.
//!
//! Layout (in code memory, x86-64):
//!
//! | part    | size      | contents                                                         |
//! |---------|-----------|------------------------------------------------------------------|
//! | header  | 32        | the lazy trampoline's address, the hook and its data              |
//! | slots   | 8 × n     | `jmp [rip → table[i]]`: function `i`'s stable entry point         |
//! | table   | 8 × n     | the code table: current code of function `i` (atomic)             |
//! | stubs   | 24 × n    | lazy stubs: `lea r10, header; mov r11d, i; jmp [header.trampoline]` |
//! | trap    | 16        | `ud2`: where a failed lazy compilation goes                       |
//!
//! Direct calls load the table entry through `vmctx.code_table` and call it; funcrefs
//! (`VMFuncRef.code`) and imports of other modules point at the slot, which jumps through the
//! same entry. An uncompiled function's entry is its stub: the stub calls the module's hook
//! (through [`lazy_trampoline`], which saves and restores every argument register), the hook
//! compiles the function, stores its code in the table and returns it, and the trampoline
//! jumps there with the caller's arguments untouched, so the call proceeds as if it had gone
//! straight to the code. Code replaced in the table stays valid until the module is dropped
//! (calls in flight finish on it).

use std::ffi::c_void;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::code_memory::{self, CodeBlock};
use crate::code_info::TrapSite;
use crate::trap::TrapKind;

const HEADER: usize = 32;
const SLOT: usize = 8;
const STUB: usize = 24;
const TRAP: usize = 16;

/// What a lazy stub asks for: the code of defined function `index`, compiled now if need be.
/// Returns the code's address, or `None` when compilation failed (the call then traps).
pub type LazyHook = Box<dyn Fn(u32) -> Option<usize> + Send + Sync>;

pub struct Dispatch {
    block: Arc<CodeBlock>,
    count: usize,
    /// Keeps the hook the header points to alive (boxed twice: the header holds a thin pointer).
    _hook: Option<Box<LazyHook>>,
}

impl Dispatch {
    /// A dispatch block for `count` functions. With a hook, every entry starts at its lazy
    /// stub; without one, `initial(i)` gives function `i`'s code.
    pub fn new(
        count: usize,
        hook: Option<LazyHook>,
        initial: impl Fn(usize) -> usize,
    ) -> Result<Dispatch, String> {
        let len = HEADER + count * (SLOT + 8 + STUB) + TRAP;
        let block = code_memory::allocate_data(len)?;
        let hook = hook.map(Box::new);
        let dispatch = Dispatch {
            block,
            count,
            _hook: hook,
        };
        let base = dispatch.block.start() as usize;
        let hook_data = dispatch
            ._hook
            .as_ref()
            .map_or(0, |h| &**h as *const LazyHook as usize);
        let mut header = [0u8; HEADER];
        header[0..8].copy_from_slice(&(lazy_trampoline_address() as u64).to_le_bytes());
        header[8..16].copy_from_slice(&(call_hook as *const () as usize as u64).to_le_bytes());
        header[16..24].copy_from_slice(&(hook_data as u64).to_le_bytes());
        header[24..32].copy_from_slice(&(dispatch.trap_address() as u64).to_le_bytes());
        dispatch.block.write(0, &header);
        let rel = |from_next: usize, to: usize| (to as i64 - from_next as i64) as i32;
        let mut slots = Vec::with_capacity(count * SLOT);
        let mut stubs = Vec::with_capacity(count * STUB);
        for i in 0..count {
            // jmp qword ptr [rip + disp32] → table[i]
            let at = base + dispatch.slots() + i * SLOT;
            slots.extend_from_slice(&[0xff, 0x25]);
            slots.extend_from_slice(&rel(at + 6, base + dispatch.table() + i * 8).to_le_bytes());
            slots.extend_from_slice(&[0xcc, 0xcc]);
            // lea r10, [rip + disp32] → header
            let at = base + dispatch.stubs() + i * STUB;
            stubs.extend_from_slice(&[0x4c, 0x8d, 0x15]);
            stubs.extend_from_slice(&rel(at + 7, base).to_le_bytes());
            // mov r11d, imm32
            stubs.extend_from_slice(&[0x41, 0xbb]);
            stubs.extend_from_slice(&(i as u32).to_le_bytes());
            // jmp qword ptr [rip + disp32] → header.trampoline
            stubs.extend_from_slice(&[0xff, 0x25]);
            stubs.extend_from_slice(&rel(at + 19, base).to_le_bytes());
            stubs.extend_from_slice(&[0xcc; STUB - 19]);
        }
        dispatch.block.write(dispatch.slots(), &slots);
        dispatch.block.write(dispatch.stubs(), &stubs);
        // ud2
        dispatch.block.write(dispatch.trap_offset(), &[0x0f, 0x0b]);
        for i in 0..count {
            let code = if dispatch._hook.is_some() {
                dispatch.stub(i)
            } else {
                initial(i)
            };
            dispatch.block.word(dispatch.table() + i * 8).store(code, Ordering::Relaxed);
        }
        code_memory::register_traps(
            &dispatch.block,
            vec![TrapSite {
                offset: dispatch.trap_offset() as u32,
                kind: TrapKind::CompilationFailed,
            }],
        )?;
        Ok(dispatch)
    }

    fn slots(&self) -> usize {
        HEADER
    }

    fn table(&self) -> usize {
        HEADER + self.count * SLOT
    }

    fn stubs(&self) -> usize {
        self.table() + self.count * 8
    }

    fn trap_offset(&self) -> usize {
        self.stubs() + self.count * STUB
    }

    fn trap_address(&self) -> usize {
        self.block.start() as usize + self.trap_offset()
    }

    /// The stable entry point of function `i`: what funcrefs and imports call.
    pub fn entry(&self, i: usize) -> usize {
        assert!(i < self.count);
        self.block.start() as usize + self.slots() + i * SLOT
    }

    /// The code table (`vmctx.code_table`): `count` code addresses, read by generated code.
    pub fn code_table(&self) -> usize {
        self.block.start() as usize + self.table()
    }

    /// Function `i`'s lazy stub.
    pub fn stub(&self, i: usize) -> usize {
        assert!(i < self.count);
        self.block.start() as usize + self.stubs() + i * STUB
    }

    /// The current code of function `i` (its stub until compiled).
    pub fn code(&self, i: usize) -> usize {
        assert!(i < self.count);
        self.block.word(self.table() + i * 8).load(Ordering::Acquire)
    }

    /// Makes `code` function `i`'s code for every call that starts from now on. `code` must be
    /// a function of the right signature in code memory that lives as long as this dispatch.
    pub fn set_code(&self, i: usize, code: usize) {
        assert!(i < self.count);
        self.block.word(self.table() + i * 8).store(code, Ordering::Release);
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// Called by [`lazy_trampoline`] with the header's hook data and the stub's function index;
/// returns the address to jump to (the function's code, or the block's trap).
// SAFETY: only the trampoline calls it, with `header` = the start of a live dispatch block (the
// stub that jumped there belongs to it, and stubs only run while an instance holds the module).
unsafe extern "C" fn call_hook(header: *const u8, index: u32) -> usize {
    // Words 2 and 3 of the header are the hook pointer (non-null: stubs are only installed
    // with a hook) and the trap address, written at construction and never changed.
    // SAFETY: `header` is a live dispatch block's header (see above).
    let (hook, trap) = unsafe {
        let words = header as *const usize;
        (
            &*(*words.add(2) as *const LazyHook),
            *words.add(3),
        )
    };
    // A panic must not unwind into generated code: it becomes a trap.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(index)))
        .ok()
        .flatten()
        .unwrap_or(trap)
}

#[cfg(not(target_arch = "x86_64"))]
compile_error!("the dispatch block's slots and stubs are x86-64 machine code");

#[cfg(target_arch = "x86_64")]
fn lazy_trampoline_address() -> usize {
    extern "C" {
        fn cranewasm_lazy_trampoline();
    }
    cranewasm_lazy_trampoline as *const c_void as usize
}

// The lazy trampoline: entered by a jump from a lazy stub with r10 = the dispatch header and
// r11d = the function's index, and the wasm caller's arguments in place (System V: rdi, rsi,
// rdx, rcx, r8, r9, xmm0–xmm7, then the stack). Saves those registers, calls
// `header.hook_fn(header, index)`, restores them and jumps to the address it returned, with the
// stack exactly as the caller left it (the return address on top), so the function returns
// straight to the caller.
#[cfg(target_arch = "x86_64")]
std::arch::global_asm!(
    ".globl cranewasm_lazy_trampoline",
    ".type cranewasm_lazy_trampoline,@function",
    "cranewasm_lazy_trampoline:",
    "push rbp",
    "mov rbp, rsp",
    // rsp is now 16-aligned; 176 = 6 × 8 + 8 × 16 keeps it so for the call.
    "sub rsp, 176",
    "mov [rsp], rdi",
    "mov [rsp + 8], rsi",
    "mov [rsp + 16], rdx",
    "mov [rsp + 24], rcx",
    "mov [rsp + 32], r8",
    "mov [rsp + 40], r9",
    "movdqu [rsp + 48], xmm0",
    "movdqu [rsp + 64], xmm1",
    "movdqu [rsp + 80], xmm2",
    "movdqu [rsp + 96], xmm3",
    "movdqu [rsp + 112], xmm4",
    "movdqu [rsp + 128], xmm5",
    "movdqu [rsp + 144], xmm6",
    "movdqu [rsp + 160], xmm7",
    "mov rdi, r10",
    "mov esi, r11d",
    "call qword ptr [r10 + 8]",
    "mov rdi, [rsp]",
    "mov rsi, [rsp + 8]",
    "mov rdx, [rsp + 16]",
    "mov rcx, [rsp + 24]",
    "mov r8, [rsp + 32]",
    "mov r9, [rsp + 40]",
    "movdqu xmm0, [rsp + 48]",
    "movdqu xmm1, [rsp + 64]",
    "movdqu xmm2, [rsp + 80]",
    "movdqu xmm3, [rsp + 96]",
    "movdqu xmm4, [rsp + 112]",
    "movdqu xmm5, [rsp + 128]",
    "movdqu xmm6, [rsp + 144]",
    "movdqu xmm7, [rsp + 160]",
    "mov rsp, rbp",
    "pop rbp",
    "jmp rax",
    ".size cranewasm_lazy_trampoline, . - cranewasm_lazy_trampoline",
);

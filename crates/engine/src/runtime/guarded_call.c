/*
 * The two operations of trap handling that Rust cannot express soundly: taking a sigsetjmp
 * (which "returns twice") around a call into wasm, and jumping back to it. Everything else of
 * the trap handler is Rust (runtime/traps.rs).
 */
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A recovery record: where a trap jumps back to, for one entry into wasm. Records live off the
 * stack, one per nesting level of entries on a thread, reused from call to call (runtime/traps.rs
 * owns and allocates them; it knows the layout through cranewasm_jump_layout). Keeping the
 * 200-byte sigjmp_buf off the stack matters for recursion through imports, which nests one entry
 * per level: wasm -> JS -> wasm ... stops when the thread's stack runs out.
 */
struct cranewasm_jump {
  /* The first two fields are the head Rust reads (JumpRecord): keep them first, in this order. */
  /* An address on the entry's frame: above every frame of the activation it guards. */
  uintptr_t top;
  /* The record of the next entry nested inside this one, or NULL (not allocated yet). */
  struct cranewasm_jump *inner;
  /*
   * The call, kept here rather than on the entry's frame: after sigsetjmp, the compiler must
   * keep every value it still needs in memory, and the record is where it costs no stack.
   */
  void (*trampoline)(void *, const void *, void *);
  void *vmctx;
  const void *code;
  void *values;
  /* The thread's slot of the innermost record, and what it held before this entry. */
  struct cranewasm_jump **current;
  struct cranewasm_jump *outer;
  sigjmp_buf buf;
};

/* The size and alignment of a record, for the Rust side's allocations. */
void cranewasm_jump_layout(size_t *size, size_t *align) {
  *size = sizeof(struct cranewasm_jump);
  *align = _Alignof(struct cranewasm_jump);
}

/*
 * Calls trampoline(vmctx, code, values) with `record` installed in *current (a thread-local slot
 * owned by Rust), restoring the previous record afterwards so that nested wasm activations
 * unwind only to the innermost entry. Returns 0 when the trampoline returned, 1 when a trap
 * jumped back here.
 *
 * The signal mask is not saved (savemask 0): saving it costs a system call on every entry,
 * and the handler is installed with SA_NODEFER so the signal is never blocked when we jump.
 */
int cranewasm_guarded_call(void (*trampoline)(void *, const void *, void *), void *vmctx,
                           const void *code, void *values, struct cranewasm_jump **current,
                           struct cranewasm_jump *record) {
  /* The one value read after sigsetjmp returns (volatile: it may return twice). */
  struct cranewasm_jump *volatile self = record;
  record->trampoline = trampoline;
  record->vmctx = vmctx;
  record->code = code;
  record->values = values;
  record->current = current;
  record->outer = *current;
  record->top = (uintptr_t)&self;
  if (sigsetjmp(record->buf, 0) == 0) {
    struct cranewasm_jump *entry = self;
    *entry->current = entry;
    entry->trampoline(entry->vmctx, entry->code, entry->values);
    entry = self;
    *entry->current = entry->outer;
    return 0;
  }
  struct cranewasm_jump *entry = self;
  *entry->current = entry->outer;
  return 1;
}

/* Unwinds to the sigsetjmp of the cranewasm_guarded_call whose record is `record`. */
void cranewasm_unwind(struct cranewasm_jump *record) {
  siglongjmp(record->buf, 1);
}

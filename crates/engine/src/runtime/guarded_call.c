/*
 * The two operations of trap handling that Rust cannot express soundly: taking a sigsetjmp
 * (which "returns twice") around a call into wasm, and jumping back to it. Everything else of
 * the trap handler is Rust (runtime/traps.rs).
 */
#include <setjmp.h>
#include <stddef.h>

/*
 * Calls body(data) with a jump buffer installed in *current (a thread-local slot owned by
 * Rust), restoring the previous buffer afterwards so that nested wasm activations unwind only to
 * the innermost entry. Returns 0 when body returned, 1 when a trap jumped back here.
 *
 * The signal mask is not saved (savemask 0): saving it costs a system call on every entry,
 * and the handler is installed with SA_NODEFER so the signal is never blocked when we jump.
 */
int cranewasm_guarded_call(void (*body)(void *), void *data, void **current) {
  sigjmp_buf buf;
  void *volatile prev = *current;
  if (sigsetjmp(buf, 0) == 0) {
    *current = &buf;
    body(data);
    *current = prev;
    return 0;
  }
  *current = prev;
  return 1;
}

/* Unwinds to the sigsetjmp of cranewasm_guarded_call whose buffer is `buf`. */
void cranewasm_unwind(void *buf) {
  siglongjmp(*(sigjmp_buf *)buf, 1);
}

// V8's JS stack limit, which Node-API cannot move: cranewasm lowers it while wasm recurses
// through JS imports (src/stack_limit.rs). Built by build.rs against the running Node's headers,
// like shared_buffer.cc.
#include <v8.h>

#include <cstdint>

extern "C" {

// Sets the current thread's isolate's stack limit (the lowest address JS frames may reach).
// Returns 0 when there is no current isolate.
int cranewasm_set_stack_limit(uintptr_t limit) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (isolate == nullptr) return 0;
  // V8 keeps a pending interrupt's limit in place and only moves the real one.
  isolate->SetStackLimit(limit);
  return 1;
}

}  // extern "C"

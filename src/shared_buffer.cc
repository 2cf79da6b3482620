// The one thing cranewasm needs beyond Node-API: a SharedArrayBuffer over memory the addon owns
// (a shared WebAssembly.Memory's bytes). Node-API can create an ArrayBuffer over external memory
// (napi_create_external_arraybuffer) but no SharedArrayBuffer, so this uses V8's C++ API:
// SharedArrayBuffer::NewBackingStore with a custom deleter, then SharedArrayBuffer::New.
// Everything else in the addon is Node-API. Built by build.rs against the running Node's headers.
#include <v8.h>

#include <cstddef>
#include <cstring>
#include <memory>
#include <utility>

extern "C" {

// Called by V8 when the last SharedArrayBuffer (of any thread) over the bytes is collected.
typedef void (*cranewasm_release)(void* data, size_t length, void* hint);

// A new SharedArrayBuffer of `length` bytes at `data`, in the calling thread's isolate, as a
// napi_value (a handle in the current handle scope, which is how Node-API represents values).
// `release(data, length, hint)` runs once V8 no longer needs the bytes. Returns nullptr when
// there is no current isolate (then `release` is not called).
void* cranewasm_new_shared_array_buffer(void* data, size_t length, cranewasm_release release,
                                        void* hint) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (isolate == nullptr) return nullptr;
  std::unique_ptr<v8::BackingStore> store =
      v8::SharedArrayBuffer::NewBackingStore(data, length, release, hint);
  v8::Local<v8::SharedArrayBuffer> buffer =
      v8::SharedArrayBuffer::New(isolate, std::shared_ptr<v8::BackingStore>(std::move(store)));
  // Node-API's napi_value is the address of a Local's slot (v8impl::JsValueFromV8LocalValue).
  v8::Local<v8::Value> value = buffer;
  return reinterpret_cast<void*>(*value);
}

}  // extern "C"

extern "C" {

// The bytes of `value` if it is a SharedArrayBuffer (a napi_value: the address of a handle's
// slot): its data address and length, and 1; 0 (and nothing written) otherwise.
int cranewasm_shared_array_buffer_data(void* value, void** data, size_t* length) {
  v8::Local<v8::Value> local;
  static_assert(sizeof(local) == sizeof(void*), "a Local is one slot pointer");
  memcpy(static_cast<void*>(&local), &value, sizeof(void*));
  if (local.IsEmpty() || !local->IsSharedArrayBuffer()) return 0;
  std::shared_ptr<v8::BackingStore> store = local.As<v8::SharedArrayBuffer>()->GetBackingStore();
  *data = store->Data();
  *length = store->ByteLength();
  return 1;
}

}  // extern "C"

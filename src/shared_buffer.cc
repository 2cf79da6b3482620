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
// `slot`, when not null, is a std::weak_ptr<v8::BackingStore> (cranewasm_store_slot_new) set
// to the new buffer's backing store, for cranewasm_shared_array_buffer_from_slot.
void* cranewasm_new_shared_array_buffer(void* data, size_t length, cranewasm_release release,
                                        void* hint, void* slot) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (isolate == nullptr) return nullptr;
  std::shared_ptr<v8::BackingStore> store =
      v8::SharedArrayBuffer::NewBackingStore(data, length, release, hint);
  if (slot != nullptr) *static_cast<std::weak_ptr<v8::BackingStore>*>(slot) = store;
  v8::Local<v8::SharedArrayBuffer> buffer = v8::SharedArrayBuffer::New(isolate, store);
  // Node-API's napi_value is the address of a Local's slot (v8impl::JsValueFromV8LocalValue).
  v8::Local<v8::Value> value = buffer;
  return reinterpret_cast<void*>(*value);
}

// One backing store per shared memory and length for every SharedArrayBuffer of it, in every
// thread (a growth makes buffers of a new length, over a new store): V8's Atomics.notify wakes only the waiters whose buffer has the notifier's backing
// store, and one that finds a waiter at the same address on another live backing store takes it
// for a dead async waiter and frees it (a synchronous waiter's node is on its stack: the process
// aborts). A slot is a weak reference: the buffers, not the slot, keep the store alive.
void* cranewasm_store_slot_new() { return new std::weak_ptr<v8::BackingStore>(); }

void cranewasm_store_slot_free(void* slot) {
  delete static_cast<std::weak_ptr<v8::BackingStore>*>(slot);
}

// A new SharedArrayBuffer (a napi_value) over the backing store `slot` refers to, if it is alive
// and `length` bytes long; nullptr otherwise, or when there is no current isolate.
void* cranewasm_shared_array_buffer_from_slot(void* slot, size_t length) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (isolate == nullptr) return nullptr;
  std::shared_ptr<v8::BackingStore> store =
      static_cast<std::weak_ptr<v8::BackingStore>*>(slot)->lock();
  if (!store || store->ByteLength() != length) return nullptr;
  v8::Local<v8::SharedArrayBuffer> buffer = v8::SharedArrayBuffer::New(isolate, store);
  v8::Local<v8::Value> value = buffer;
  return reinterpret_cast<void*>(*value);
}

// Whether the slot's backing store is alive (1, its length written) or not (0).
int cranewasm_store_slot_length(void* slot, size_t* length) {
  std::shared_ptr<v8::BackingStore> store =
      static_cast<std::weak_ptr<v8::BackingStore>*>(slot)->lock();
  if (!store) return 0;
  *length = store->ByteLength();
  return 1;
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

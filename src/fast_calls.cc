// The two hot crossings of the JS<->wasm boundary on V8's C++ API (src/fast_calls.rs):
//
// - JS -> wasm: the native function behind every exported wasm function. Through Node-API each
//   call runs Node's callback wrapper (napi_env bookkeeping, napi_get_cb_info's copies) before
//   ours; here V8 calls `ExportedCallback` directly, which reads numeric arguments with V8's
//   inline type checks and hands raw bits to one Rust entry (`cranewasm_exported_raw`).
// - wasm -> JS: an import call. Through Node-API it costs a heap-allocated handle scope
//   (napi_open_handle_scope), a napi_call_function (its own TryCatch, context lookup, status
//   bookkeeping) and a napi value per argument; here it is one stack HandleScope, one TryCatch
//   and v8::Function::Call with arguments made from raw bits.
//
// Node-API offers neither a callback without its wrapper nor calls without its per-call
// bookkeeping, hence V8's API. Everything that is not a plain number (conversions that may run
// user code, references, traps and exceptions, results to convert) goes back to the Rust code
// shared with the Node-API path, with values as napi_values: a napi_value is the address of a
// Local's slot (v8impl::JsValueFromV8LocalValue), as in shared_buffer.cc. The Node-API path
// stays the fallback (CRANEWASM_V8_CALLS=0, or Node without headers at build time). Built by
// build.rs against the running Node's headers.
#include <v8.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace {

// Value kinds, as src/fast_calls.rs numbers them.
enum Kind : uint8_t { kI32 = 0, kI64 = 1, kF32 = 2, kF64 = 3, kNone = 0xfe, kOther = 0xff };

constexpr uint32_t kMaxFast = 8;

// The head of the Rust `ExportedFunction` (#[repr(C)] `FastSignature`): its parameter count,
// whether the signature is all numbers (at most kMaxFast parameters, at most one result), and
// then their kinds.
struct FastSignature {
  uint32_t params;
  uint8_t fast;
  uint8_t result;  // a Kind, or kNone
  uint8_t kinds[kMaxFast];
};

inline void* ToNapi(v8::Local<v8::Value> value) {
  return reinterpret_cast<void*>(*value);
}

inline v8::Local<v8::Value> FromNapi(void* value) {
  v8::Local<v8::Value> local;
  static_assert(sizeof(local) == sizeof(void*), "a Local is one slot pointer");
  memcpy(static_cast<void*>(&local), &value, sizeof(void*));
  return local;
}

// ECMAScript ToInt32 of a Number's value.
inline uint32_t DoubleToInt32(double d) {
  if (!std::isfinite(d)) return 0;
  double t = std::trunc(d);
  double m = std::fmod(t, 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return static_cast<uint32_t>(m);
}

// The raw bits of `value` as a `kind`, when that needs no user code: true and *bits set, or
// false (the caller converts through Rust).
inline bool ToRaw(v8::Local<v8::Value> value, uint8_t kind, uint64_t* bits) {
  switch (kind) {
    case kI32:
      if (value->IsInt32()) {
        *bits = static_cast<uint32_t>(value.As<v8::Int32>()->Value());
        return true;
      }
      if (value->IsNumber()) {
        *bits = DoubleToInt32(value.As<v8::Number>()->Value());
        return true;
      }
      return false;
    case kI64:
      if (value->IsBigInt()) {
        // Int64Value wraps modulo 2^64: BigInt.asIntN(64, v), which is ToBigInt64.
        *bits = static_cast<uint64_t>(value.As<v8::BigInt>()->Int64Value());
        return true;
      }
      return false;
    case kF32:
      if (value->IsNumber()) {
        double d = value.As<v8::Number>()->Value();
        // A finite double beyond float's range has no defined conversion in C++: Rust does it.
        if (std::isfinite(d) && std::fabs(d) > FLT_MAX) return false;
        float f = static_cast<float>(d);
        uint32_t b;
        memcpy(&b, &f, sizeof(b));
        *bits = b;
        return true;
      }
      return false;
    case kF64:
      if (value->IsNumber()) {
        double d = value.As<v8::Number>()->Value();
        memcpy(bits, &d, sizeof(d));
        return true;
      }
      return false;
    default:
      return false;
  }
}

inline v8::Local<v8::Value> FromRaw(v8::Isolate* isolate, uint64_t bits, uint8_t kind) {
  switch (kind) {
    case kI32:
      return v8::Integer::New(isolate, static_cast<int32_t>(static_cast<uint32_t>(bits)));
    case kI64:
      return v8::BigInt::New(isolate, static_cast<int64_t>(bits));
    case kF32: {
      float f;
      uint32_t b = static_cast<uint32_t>(bits);
      memcpy(&f, &b, sizeof(f));
      return v8::Number::New(isolate, static_cast<double>(f));
    }
    default: {
      double d;
      memcpy(&d, &bits, sizeof(d));
      return v8::Number::New(isolate, d);
    }
  }
}

}  // namespace

extern "C" {

// Rust (src/fast_calls.rs). Statuses: 0 the call returned (a result in raw[0] or *value), 1 it
// threw (*value is the exception), 2 it ended without an exception to throw (V8 terminating).
// `raw`: max(parameters, 1) 16-byte slots, 16-byte aligned; cranewasm_exported_raw returns its
// result in raw[0], or the exception of status 1 (a napi_value) in raw[0].
uint32_t cranewasm_exported_raw(void* function, uint64_t* raw);
uint32_t cranewasm_exported_values(void* function, void* const* args, void** value);
// Before an import call: 0 to go on, 1 when an exception was kept for the entry to rethrow.
uint32_t cranewasm_import_before(void* host);
// After an import call: `how` 0, it returned `value`, which the fast path does not convert; 1,
// it threw `value` (null when V8 is terminating); 2, the function was collected. Returns the
// import call's status.
uint32_t cranewasm_import_settle(void* host, void* value, uint32_t how, void* values);

}  // extern "C"

namespace {

void SetResult(const v8::FunctionCallbackInfo<v8::Value>& info, uint32_t status, void* value) {
  v8::Isolate* isolate = info.GetIsolate();
  if (status == 0) {
    if (value != nullptr) info.GetReturnValue().Set(FromNapi(value));
  } else if (status == 1 && !isolate->IsExecutionTerminating()) {
    isolate->ThrowException(FromNapi(value));
  }
}

// Any argument or signature that is not all numbers: the conversions of the Node-API path, on
// napi_values. Rust reads as many arguments as the function has parameters: missing ones are
// undefined.
__attribute__((noinline)) void CallValues(const v8::FunctionCallbackInfo<v8::Value>& info,
                                          void* function, const FastSignature* sig) {
  uint32_t params = sig->params;
  uint32_t count = params > static_cast<uint32_t>(info.Length()) ? params : info.Length();
  void* inline_args[kMaxFast];
  std::vector<void*> heap_args;
  void** args = inline_args;
  if (count > kMaxFast) {
    heap_args.resize(count);
    args = heap_args.data();
  }
  for (uint32_t i = 0; i < count; i++) {
    // info[i] is undefined past the given arguments.
    args[i] = ToNapi(info[static_cast<int>(i)]);
  }
  void* value = nullptr;
  uint32_t status = cranewasm_exported_values(function, args, &value);
  SetResult(info, status, value);
}

// A call with a fast signature (numbers only) whose parameters fit in kSlots 16-byte slots:
// the trampoline's value slots (a number in the low 8 bytes of each), passed on as they are.
// This frame stays on the stack while wasm runs, once per level of recursion through imports
// (wasm -> JS -> wasm ...), so it holds only as many slots as the signature needs.
template <uint32_t kSlots>
__attribute__((noinline)) void CallFast(const v8::FunctionCallbackInfo<v8::Value>& info,
                                        void* function, const FastSignature* sig) {
  alignas(16) uint64_t raw[2 * kSlots] = {};
  int argc = info.Length();
  for (uint32_t i = 0; i < sig->params; i++) {
    if (static_cast<int>(i) >= argc || !ToRaw(info[i], sig->kinds[i], &raw[2 * i])) {
      return CallValues(info, function, sig);
    }
  }
  uint32_t status = cranewasm_exported_raw(function, raw);
  if (status == 0) {
    if (sig->result == kI32) {
      info.GetReturnValue().Set(static_cast<int32_t>(static_cast<uint32_t>(raw[0])));
    } else if (sig->result != kNone) {
      info.GetReturnValue().Set(FromRaw(info.GetIsolate(), raw[0], sig->result));
    }
    return;
  }
  void* value;
  memcpy(&value, &raw[0], sizeof(value));
  SetResult(info, status, value);
}

void ExportedCallback(const v8::FunctionCallbackInfo<v8::Value>& info) {
  void* function = info.Data().As<v8::External>()->Value();
  const FastSignature* sig = static_cast<const FastSignature*>(function);
  if (!sig->fast) return CallValues(info, function, sig);
  // Slots for the parameters, and at least one for the result.
  if (sig->params <= 1) return CallFast<1>(info, function, sig);
  if (sig->params <= 2) return CallFast<2>(info, function, sig);
  if (sig->params <= 4) return CallFast<4>(info, function, sig);
  return CallFast<kMaxFast>(info, function, sig);
}

// What an imported JS function is called with: the function (weak: the importing instance's
// anchor keeps it alive, as the Node-API path's reference) and the context of the env that
// imported it (napi_call_function calls in the env's context).
struct Import {
  v8::Isolate* isolate;
  v8::Global<v8::Function> function;
  v8::Global<v8::Context> context;
};

}  // namespace

extern "C" {

// A new native function calling ExportedCallback with `function` (a Rust ExportedFunction,
// starting with its FastSignature), named `name` (UTF-8, NUL-terminated), as a napi_value in
// the current handle scope; nullptr when there is no isolate or creation failed (an exception
// may then be pending in V8).
void* cranewasm_exported_function_new(void* function, const char* name) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (isolate == nullptr) return nullptr;
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  if (context.IsEmpty()) return nullptr;
  v8::Local<v8::Function> created;
  if (!v8::Function::New(context, ExportedCallback, v8::External::New(isolate, function), 0,
                         v8::ConstructorBehavior::kThrow)
           .ToLocal(&created)) {
    return nullptr;
  }
  v8::Local<v8::String> text;
  if (v8::String::NewFromUtf8(isolate, name).ToLocal(&text)) created->SetName(text);
  return ToNapi(created);
}

// An import record for the JS function `function` (a napi_value), or nullptr when it is not a
// function or there is no isolate. Freed by cranewasm_import_free on the same thread.
void* cranewasm_import_new(void* function) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (isolate == nullptr) return nullptr;
  v8::Local<v8::Value> value = FromNapi(function);
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  if (value.IsEmpty() || !value->IsFunction() || context.IsEmpty()) return nullptr;
  Import* import = new Import();
  import->isolate = isolate;
  import->function.Reset(isolate, value.As<v8::Function>());
  import->function.SetWeak();
  import->context.Reset(isolate, context);
  return import;
}

void cranewasm_import_free(void* import) {
  delete static_cast<Import*>(import);
}

}  // extern "C"

namespace {

// An import call with at most kArgs parameters: see cranewasm_import_call. Like CallFast, this
// frame is on the stack once per level of recursion through imports, so its argument array is
// as long as the signature needs.
template <uint32_t kArgs>
__attribute__((noinline)) uint32_t CallImport(Import* import, void* host, const FastSignature* sig,
                                              void* values) {
  v8::Isolate* isolate = import->isolate;
  v8::HandleScope scope(isolate);
  uint32_t before = cranewasm_import_before(host);
  if (before != 0) return before;
  uint64_t* slots = static_cast<uint64_t*>(values);
  v8::Local<v8::Function> function = import->function.Get(isolate);
  if (function.IsEmpty()) return cranewasm_import_settle(host, nullptr, 2, values);
  uint32_t params = sig->params;
  v8::Local<v8::Value> args[kArgs];
  for (uint32_t i = 0; i < params; i++) args[i] = FromRaw(isolate, slots[2 * i], sig->kinds[i]);
  v8::Local<v8::Value> returned;
  v8::Local<v8::Value> exception;
  bool threw;
  {
    v8::TryCatch try_catch(isolate);
    threw = !function->Call(import->context.Get(isolate), v8::Undefined(isolate), params, args)
                 .ToLocal(&returned);
    if (threw && !try_catch.HasTerminated()) exception = try_catch.Exception();
  }
  if (threw) {
    return cranewasm_import_settle(host, exception.IsEmpty() ? nullptr : ToNapi(exception), 1,
                                   values);
  }
  if (sig->result == kNone) return 0;
  // ToRaw writes slots[0] only when it succeeds.
  if (ToRaw(returned, sig->result, &slots[0])) {
    slots[1] = 0;
    return 0;
  }
  return cranewasm_import_settle(host, ToNapi(returned), 0, values);
}

}  // namespace

extern "C" {

// Calls the import with the arguments of its signature `sig` (a fast one: numbers only) from
// the 16-byte slots at `values` (each number in its low 8 bytes), and leaves its result (if
// any) in values[0]. `host` is the Rust HostData, for the cases Rust handles
// (cranewasm_import_before / _settle). Returns what the exit trampoline's callback returns:
// 0 done, 1 an exception was kept for the entry.
uint32_t cranewasm_import_call(void* import_ptr, void* host, const void* signature, void* values) {
  Import* import = static_cast<Import*>(import_ptr);
  const FastSignature* sig = static_cast<const FastSignature*>(signature);
  if (sig->params <= 1) return CallImport<1>(import, host, sig, values);
  if (sig->params <= 2) return CallImport<2>(import, host, sig, values);
  if (sig->params <= 4) return CallImport<4>(import, host, sig, values);
  return CallImport<kMaxFast>(import, host, sig, values);
}

}  // extern "C"

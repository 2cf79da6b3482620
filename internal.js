// Shared between index.js and engine.js, and nothing else: index.js records here what the
// non-standard controls of engine.js need (the NativeModule behind each Module object), so that
// the WebAssembly namespace itself carries no non-standard property.
'use strict';

module.exports = {
  /** @type {WeakMap<object, object> | undefined} Module object → NativeModule */
  moduleBrand: undefined,
  /** instantiate()'s overloads, for a Sandbox: (source, importObject, thrower, nativeSandbox) */
  instantiateSource: undefined,
  /** (name, constructor) → a new object of constructor.prototype that structuredClone() refuses */
  platformObject: undefined,
  /** (nativeModule) → a WebAssembly.Module object over it */
  newModuleObject: undefined,
  /** (nativeMemory) → a WebAssembly.Memory object over it */
  newMemoryObject: undefined,
  /** index.js's builder of V8-worded errors */
  ErrorThrower: undefined,
  /** @type {WeakMap<object, object> | undefined} Memory object → NativeMemory (for wasi.js) */
  memoryBrand: undefined,
  /** the NativeRealm of index.js (for wasi.js) */
  realm: undefined,
};

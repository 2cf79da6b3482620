// The public face of cranewasm: the standard `WebAssembly` namespace (JS API + WebIDL shape), written
// to match Node 20's built-in object by object, descriptor by descriptor, message by message. The
// native addon (binding.js) only validates, compiles and describes modules; every argument check,
// conversion, error class and promise lives here. Sections, in order: errors, value conversions
// (the only place that turns JS values into engine inputs and engine results into JS values), the
// interface plumbing, the interfaces, the namespace functions, streaming, and the namespace itself.
'use strict';

const util = require('util');
const environment = require('./environment.js');

// Every CRANEWASM_* variable is checked before anything else: a bad value stops the load with an
// error naming the variable and its allowed values.
environment.check();

const native = require('./binding.js');
// Compile options (`builtins`, `importedStringConstants`) and the JS String Builtins.
const builtins = require('./builtins.js');

const { isArrayBuffer, isTypedArray, isUint8Array, isDataView, isProxy } = util.types;

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

// CompileError, LinkError and RuntimeError behave like the NativeError constructors (callable
// without `new`, `options.cause`, own `stack` and `message`), so they construct a real Error with
// the subclass as new.target; V8 then also leaves this function's frame out of the stack.
function defineErrorClass(name) {
  const ErrorClass = {
    [name]: function (message) { // `length` is 1; options.cause goes through `arguments`
      return Reflect.construct(Error, arguments, new.target === undefined ? ErrorClass : new.target);
    },
  }[name];
  Object.setPrototypeOf(ErrorClass, Error);
  const prototype = Object.create(Error.prototype, {
    constructor: { value: ErrorClass, writable: true, enumerable: false, configurable: true },
    name: { value: name, writable: true, enumerable: false, configurable: true },
    message: { value: '', writable: true, enumerable: false, configurable: true },
  });
  Object.defineProperty(ErrorClass, 'prototype', { value: prototype, writable: false });
  return ErrorClass;
}

const CompileError = defineErrorClass('CompileError');
const LinkError = defineErrorClass('LinkError');
const RuntimeError = defineErrorClass('RuntimeError');

// IterableToList for the results of an import returning several values. Like V8 (and unlike the
// JS API's text, which requires an Object), any iterable is accepted, a string too; a value that
// is not iterable is a TypeError of GetIterator.
function iterableToList(value) {
  return [...value];
}

// The binding creates the errors wasm code raises (traps, conversion failures) and the arrays of
// multi-value results with this realm's classes, so that `instanceof` works in the caller's realm.
// Exported functions: the binding makes a native function per wasm function, and this wraps it
// in an arrow function of this realm with the function's arity, so that, as the JS API says, it
// is no constructor and has no `prototype`; its own properties are V8's: `length`, `name` (the
// function index), and `arguments` and `caller` (null). Arity-specific wrappers pass arguments
// without an array. (Unlike V8's, its source text is the wrapper's, not "[native code]".)
const WRAPPERS = [
  (f) => () => f(),
  (f) => (a) => f(a),
  (f) => (a, b) => f(a, b),
  (f) => (a, b, c) => f(a, b, c),
  (f) => (a, b, c, d) => f(a, b, c, d),
  (f) => (a, b, c, d, e) => f(a, b, c, d, e),
  (f) => (a, b, c, d, e, g) => f(a, b, c, d, e, g),
  (f) => (a, b, c, d, e, g, h) => f(a, b, c, d, e, g, h),
  (f) => (a, b, c, d, e, g, h, i) => f(a, b, c, d, e, g, h, i),
];

function exportFunction(target, name, length) {
  let wrapper;
  if (length < WRAPPERS.length) {
    wrapper = WRAPPERS[length](target);
  } else {
    wrapper = (...args) => Reflect.apply(target, undefined, args);
    Object.defineProperty(wrapper, 'length', { value: length });
  }
  Object.defineProperty(wrapper, 'name', { value: name });
  for (const key of ['arguments', 'caller']) {
    Object.defineProperty(wrapper, key, { value: null, writable: false, enumerable: false, configurable: false });
  }
  return wrapper;
}

// Stack traces. When a trap ends a wasm activation, or a JS exception passes out of one, the
// binding calls attachWasmFrames with the activation's wasm frames, innermost first, already in
// V8's format ("    at name (wasm://wasm/hash:wasm-function[i]:0xoffset)"). V8 shows no frame for
// the JS function that entered the activation (an exported function is native to V8), so the
// frames take the place of the frame of that function: the outermost wrapper above is ours,
// and an exception that passes several activations on its way out gets each one's frames in
// place of each one's wrapper frame, innermost first, as V8 orders them. An error made for the
// trap (`fresh`) with no wrapper frame in its stack (a start function) gets the frames on top.
// As in V8, the stack keeps Error.stackTraceLimit frames.
let wrapperLocations = null;

// Where the wrapper of each arity calls the binding, as stack frames print it (after any
// source mapping the host applies, e.g. jest's), found by calling each wrapper once.
function findWrapperLocations() {
  const locations = new Set();
  const limit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 10;
    for (let arity = 0; arity <= WRAPPERS.length; arity++) {
      const probe = exportFunction(function probe() { return new Error().stack; }, 'probe', arity);
      const stack = probe();
      if (typeof stack !== 'string') return null;
      const line = stack.split('\n')[2];
      if (line === undefined) return null;
      locations.add(frameLocation(line));
    }
  } finally {
    Error.stackTraceLimit = limit;
  }
  return locations;
}

// "    at name (location)" or "    at location" -> location.
function frameLocation(line) {
  const trimmed = line.trimEnd();
  if (trimmed.endsWith(')')) {
    const open = trimmed.lastIndexOf(' (');
    if (open >= 0) return trimmed.slice(open + 2, -1);
  }
  return trimmed.replace(/^\s*at /, '');
}

// The frames of errors made for a trap are put in lazily, as V8 formats a stack only when it is
// first read: the JS frames are captured (unformatted) on a holder, and `stack` becomes an
// accessor that formats them, puts in the frames of every activation the error passed, and
// then holds the text. Errors from elsewhere (an import's) are edited as they pass.
// { holder, frames: [text, ...], limit }, on the error until its stack is read (a property
// rather than a WeakMap entry: 10,000 traps' entries made RSS grow by half as much again).
const LAZY_RECORD = Symbol('cranewasm wasm frames');

function attachWasmFrames(error, frames, fresh) {
  if ((typeof error !== 'object' && typeof error !== 'function') || error === null) return;
  const lazy = error[LAZY_RECORD];
  if (lazy !== undefined) {
    lazy.frames.push(frames);
    return;
  }
  if (fresh) {
    const holder = {};
    Error.captureStackTrace(holder, typeof fresh === 'function' ? fresh : attachWasmFrames);
    try {
      // One getter and setter for all errors (their state is under LAZY_RECORD): errors keep
      // sharing their hidden classes.
      Object.defineProperty(error, 'stack', LAZY_STACK);
      Object.defineProperty(error, LAZY_RECORD, { value: { holder, frames: [frames], limit: Error.stackTraceLimit }, configurable: true });
    } catch {
      // A frozen or otherwise locked error keeps its stack.
    }
    return;
  }
  let stack;
  try {
    stack = error.stack;
  } catch {
    return;
  }
  if (typeof stack !== 'string') return;
  const text = spliceFrames(stack, frames, false, Error.stackTraceLimit);
  if (text === undefined) return;
  try {
    Object.defineProperty(error, 'stack', { value: text, writable: true, enumerable: false, configurable: true });
  } catch {
    // A frozen or otherwise locked error keeps its stack.
  }
}

// A new error of ErrorClass for a trap with `frames`: made without a stack capture of its own
// (its stack comes from the one attachWasmFrames takes), so that a trap captures JS frames once.
function makeTrapError(ErrorClass, message, frames) {
  const limit = Error.stackTraceLimit;
  let error;
  try {
    Error.stackTraceLimit = 0;
    error = new ErrorClass(message);
  } catch {
    error = new ErrorClass(message);
  } finally {
    try {
      Error.stackTraceLimit = limit;
    } catch {
      // A non-writable limit was never changed.
    }
  }
  attachWasmFrames(error, frames, makeTrapError);
  return error;
}

function settleStack(error, value) {
  delete error[LAZY_RECORD];
  Object.defineProperty(error, 'stack', { value, writable: true, enumerable: false, configurable: true });
}

const LAZY_STACK = {
  get() {
    const record = this[LAZY_RECORD];
    if (record === undefined) return undefined;
    let stack = record.holder.stack;
    if (typeof stack === 'string') {
      // The holder's header is not the error's: put the error's (as V8 writes it).
      const lines = stack.split('\n');
      const first = lines.findIndex(isFrame);
      stack = [Error.prototype.toString.call(this), ...(first < 0 ? [] : lines.slice(first))].join('\n');
      // The trap's own frames go on top if no wrapper frame is left; those of the activations
      // it passed afterwards only replace theirs.
      record.frames.forEach((text, i) => {
        stack = spliceFrames(stack, text, i === 0, record.limit) ?? stack;
      });
    }
    settleStack(this, stack);
    return stack;
  },
  set(value) {
    settleStack(this, value);
  },
  enumerable: false,
  configurable: true,
};

const isFrame = (line) => /^\s+at /.test(line);

// `stack` with `frames` in place of its topmost wrapper frame (or, if `fresh`, on top when it
// has none), cut to `limit` frames; undefined when there is nothing to replace.
function spliceFrames(stack, frames, fresh, limit) {
  if (wrapperLocations === null) wrapperLocations = findWrapperLocations();
  const lines = stack.split('\n');
  let first = lines.findIndex(isFrame);
  if (first < 0) first = lines.length;
  let wrapper = -1;
  if (wrapperLocations !== null) {
    for (let i = first; i < lines.length; i++) {
      if (isFrame(lines[i]) && wrapperLocations.has(frameLocation(lines[i]))) {
        wrapper = i;
        break;
      }
    }
  }
  if (wrapper >= 0) {
    lines.splice(wrapper, 1, frames);
  } else if (fresh) {
    lines.splice(first, 0, frames);
  } else {
    return undefined;
  }
  let text = lines.join('\n');
  if (typeof limit === 'number' && limit >= 0) {
    const all = text.split('\n');
    const start = all.findIndex(isFrame);
    if (start >= 0 && all.length - start > limit) text = all.slice(0, start + limit).join('\n');
  }
  return text;
}

const realm = native.init({
  exportFunction,
  RuntimeError,
  TypeError,
  RangeError,
  Array,
  toBigInt64: (value) => BigInt.asIntN(64, value),
  toNumber: (value) => +value,
  iterableToList,
  // Sweeps of the externref store run on a later turn of the event loop, never keeping it alive.
  scheduleSweep: (callback) => { setImmediate(callback).unref(); },
  // Called by running wasm to let V8 notice a pending termination (worker.terminate(), vm
  // timeouts, process.exit()): entering any JS function runs V8's interrupt check.
  poll: function poll() {},
  attachWasmFrames,
  makeTrapError,
  // Exceptions across the boundary (see "Exception handling" below).
  makeException: (nativeTag, payload) => makeException(nativeTag, payload),
  exceptionPayload: (value) => exceptionPayload(value),
  markTrap: (error) => {
    trapErrors.add(error);
  },
});

// Builds the errors of one API entry point with V8's "<context>: <message>" wording, e.g.
// "WebAssembly.Module(): Argument 0 must be a buffer source". Named after V8's ErrorThrower.
class ErrorThrower {
  constructor(context) {
    this.context = context;
  }

  typeError(message) {
    return new TypeError(`${this.context}: ${message}`);
  }

  rangeError(message) {
    return new RangeError(`${this.context}: ${message}`);
  }

  compileError(message) {
    return new CompileError(`${this.context}: ${message}`);
  }

  linkError(message) {
    return new LinkError(`${this.context}: ${message}`);
  }

  // WebIDL brand check failure of a method or attribute.
  receiverError(interfaceName) {
    return this.typeError(`Receiver is not a WebAssembly.${interfaceName}`);
  }
}

// What this foundation does not do yet (the execution core comes in a later issue). A plain
// Error, so that no caller mistakes it for a wasm failure.
function notImplemented(what) {
  return new Error(`cranewasm: ${what} is not implemented yet`);
}

// The errors Node's streaming glue (lib/internal/wasm_web_api.js) throws: TypeErrors with a
// Node error `code`.
function nodeTypeError(code, message) {
  const err = new TypeError(message);
  err.code = code;
  return err;
}

// Node's determineSpecificType (lib/internal/errors.js, as of Node 20.20), which ends
// ERR_INVALID_ARG_TYPE messages.
function describeReceived(value) {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'bigint': return `type bigint (${value}n)`;
    case 'number':
      // Template literals would print -0 as "0".
      if (Object.is(value, -0)) return 'type number (-0)';
      return `type number (${value})`;
    case 'boolean': return `type boolean (${value})`;
    case 'symbol': return `type symbol (${String(value)})`;
    case 'function': return `function ${value.name}`;
    case 'string': {
      const text = value.length > 28 ? `${value.slice(0, 25)}...` : value;
      return text.includes("'") ? `type string (${JSON.stringify(text)})` : `type string ('${text}')`;
    }
    default:
      if (value.constructor && 'name' in value.constructor) return `an instance of ${value.constructor.name}`;
      return util.inspect(value, { depth: -1 });
  }
}

// ---------------------------------------------------------------------------------------------
// Value conversions at the JS boundary
// ---------------------------------------------------------------------------------------------

// WebIDL: Type(value) is Object.
function isObject(value) {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}

// WebIDL DOMString: ToString, which (unlike String()) throws for Symbols.
function toDOMString(value) {
  return `${value}`;
}

// The built-in accessors, taken once: they read internal slots, so they work on buffers of any
// realm (the addon's and jest's are not this file's) and ignore user overrides of `byteLength`.
const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);
const accessor = (prototype, name) => Object.getOwnPropertyDescriptor(prototype, name).get;
const arrayBufferByteLength = accessor(ArrayBuffer.prototype, 'byteLength');
const typedArrayBuffer = accessor(typedArrayPrototype, 'buffer');
const typedArrayByteOffset = accessor(typedArrayPrototype, 'byteOffset');
const typedArrayByteLength = accessor(typedArrayPrototype, 'byteLength');
const dataViewBuffer = accessor(DataView.prototype, 'buffer');
const dataViewByteOffset = accessor(DataView.prototype, 'byteOffset');
const dataViewByteLength = accessor(DataView.prototype, 'byteLength');

// A fresh Uint8Array of this realm holding a copy of `length` bytes of `buffer` from `offset`;
// with `view`, a view of them instead, unless the buffer is shared (another thread could write
// to it meanwhile).
function copyBytes(buffer, offset, length, view = false) {
  if (view && length > 0 && isArrayBuffer(buffer)) return new Uint8Array(buffer, offset, length);
  const copy = new Uint8Array(length);
  if (length > 0) copy.set(new Uint8Array(buffer, offset, length));
  return copy;
}

// WebIDL "get a copy of the bytes held by the buffer source", taken when the call is made so that
// later writes by the caller (also during an async compile) do not reach the module. Returns
// undefined when `value` is no BufferSource. Detached buffers hold no bytes. Like Node, a bare
// SharedArrayBuffer is refused but a view on one is accepted; unlike Node 20 (and as the spec
// says), so is a DataView. `view`: a view of the bytes rather than a copy where that is safe, for
// a caller that uses them before any JS runs again (a synchronous compile, which copies what it
// keeps); this saves a copy of the whole module, most of the time of a compile that reuses a
// live module's code.
function bufferSourceBytes(value, view = false) {
  if (isArrayBuffer(value)) {
    return copyBytes(value, 0, Reflect.apply(arrayBufferByteLength, value, []), view);
  }
  if (isTypedArray(value)) {
    // Reads 0 for a detached or out-of-bounds view.
    const length = Reflect.apply(typedArrayByteLength, value, []);
    return copyBytes(Reflect.apply(typedArrayBuffer, value, []), Reflect.apply(typedArrayByteOffset, value, []), length, view);
  }
  if (isDataView(value)) {
    let offset;
    let length;
    try {
      offset = Reflect.apply(dataViewByteOffset, value, []);
      length = Reflect.apply(dataViewByteLength, value, []);
    } catch {
      // The DataView accessors throw where the TypedArray ones read 0: a detached or
      // out-of-bounds view, which holds no bytes.
      return new Uint8Array(0);
    }
    return copyBytes(Reflect.apply(dataViewBuffer, value, []), offset, length, view);
  }
  return undefined;
}

// An [EnforceRange] unsigned long member of a Memory or Table descriptor, read as V8 reads it:
// the checks run on the number before truncation (so -0.5 is "negative"), then the bounds.
// Returns undefined for an absent optional member.
function descriptorInteger(descriptor, property, thrower, { required, lower, upper }) {
  const value = descriptor[property];
  if (value === undefined) {
    if (required) throw thrower.typeError(`Property '${property}' is required`);
    return undefined;
  }
  const number = +value; // ToNumber: throws for BigInt and Symbol, like V8
  if (!Number.isFinite(number)) {
    throw thrower.typeError(`Property '${property}' must be convertible to a valid number`);
  }
  if (number < 0) throw thrower.typeError(`Property '${property}' must be non-negative`);
  if (number > 0xffffffff) throw thrower.typeError(`Property '${property}' must be in the unsigned long range`);
  const integer = Math.trunc(number);
  if (integer < lower) {
    throw thrower.rangeError(`Property '${property}': value ${integer} is below the lower bound ${lower}`);
  }
  if (integer > upper) {
    throw thrower.rangeError(`Property '${property}': value ${integer} is above the upper bound ${upper}`);
  }
  return integer;
}

// The JS API's AddressType of a Memory or Table descriptor: "i32" unless `address` says "i64"
// (memory64, table64).
function descriptorAddress(descriptor, thrower) {
  const value = descriptor.address;
  if (value === undefined) return 'i32';
  const type = toDOMString(value);
  if (type !== 'i32' && type !== 'i64') throw thrower.typeError("Descriptor property 'address' must be 'i32' or 'i64'");
  return type;
}

// AddressValueToU64 for the "i64" address type: ToBigInt, then a TypeError outside [0, 2^64 - 1]
// (the JS API's emulation of [EnforceRange]). BigInt.asIntN to a width no BigInt reaches is
// ToBigInt itself (a TypeError for Numbers, a SyntaxError for malformed strings).
function toU64(value, thrower, what) {
  const n = BigInt.asIntN(Number.MAX_SAFE_INTEGER, value);
  if (n < 0n || n > 0xffffffffffffffffn) throw thrower.typeError(`${what} must be in the range of an unsigned 64-bit integer`);
  return n;
}

// A u64 descriptor member of an "i64" Memory or Table (BigInt), checked against the address
// type's limits (a RangeError, as for an invalid memory or table type).
function descriptorU64(descriptor, property, thrower, { required, lower, upper }) {
  const value = descriptor[property];
  if (value === undefined) {
    if (required) throw thrower.typeError(`Property '${property}' is required`);
    return undefined;
  }
  const n = toU64(value, thrower, `Property '${property}'`);
  if (n < lower) throw thrower.rangeError(`Property '${property}': value ${n} is below the lower bound ${lower}`);
  if (n > upper) throw thrower.rangeError(`Property '${property}': value ${n} is above the upper bound ${upper}`);
  return n;
}

// An AddressValue argument of a method (index, delta) as a Number: [EnforceRange] unsigned long
// for "i32", AddressValueToU64 for "i64" (Numbers are exact up to 2^53, far beyond any size).
function addressArgument(value, is64, thrower, what) {
  return is64 ? Number(toU64(value, thrower, what)) : enforceUint32(value, thrower, what);
}

// The JS API's ValueType and TableKind enumerations as Node 20 spells them ("funcref" and
// "v128" are not accepted by the constructors).
const VALUE_TYPES = new Set(['i32', 'i64', 'f32', 'f64', 'anyfunc', 'externref']);
const TABLE_KINDS = new Set(['anyfunc', 'externref']);

// Functions exported by instances ("Exported Function" exotic objects) are created by the
// binding, which recognizes them by a type tag.
function isExportedFunction(value) {
  return typeof value === 'function' && native.isExportedFunction(value);
}

const FUNCREF_ERROR = 'function-typed object must be null (if nullable) or a Wasm function object';

// ToWebAssemblyValue for a value the caller did pass. Returns the converted value or throws the
// JS-level conversion error; a funcref mismatch is reported through `funcrefError(detail)`.
function toWebAssemblyValue(value, type, funcrefError) {
  switch (type) {
    case 'i32': return +value | 0;
    case 'i64': return BigInt.asIntN(64, value); // ToBigInt, then wrap: throws for Numbers like V8
    case 'f32': return Math.fround(+value);
    case 'f64': return +value;
    case 'externref': return value;
    case 'anyfunc':
      if (value !== null && !isExportedFunction(value)) throw funcrefError(engineMixMessage(FUNCREF_ERROR, value, 'Function'));
      return value;
    default: throw new Error(`cranewasm: unknown value type ${type}`);
  }
}

// V8 takes a missing or undefined number argument as the type's default value, but only a
// missing reference argument.
function defaultValue(type) {
  switch (type) {
    case 'i64': return 0n;
    case 'i32': case 'f32': case 'f64': return 0;
    default: return null;
  }
}

// The addon's values and errors belong to Node's main realm, not necessarily to this file's (jest
// runs tests in vm contexts): every call goes through here, its errors are replaced by errors of
// this realm, and every result is rebuilt below.
function addonError(err) {
  return new Error(`cranewasm: internal error in the native addon: ${err && err.message}`);
}

function callNative(method, ...args) {
  try {
    return method(...args);
  } catch (err) {
    throw addonError(err);
  }
}

// callNative for a store of a value into a typed reference slot (a table element, a global):
// the addon's TypeError (a value the type does not admit, e.g. null for a non-nullable
// reference type) reaches the caller as `thrower`'s TypeError.
function callNativeStore(thrower, method) {
  try {
    return method();
  } catch (err) {
    if (err instanceof TypeError) throw thrower.typeError(err.message);
    throw addonError(err);
  }
}

// `ModuleImportDescriptor`s and `ModuleExportDescriptor`s of this realm, in module order.
function importDescriptors(nativeModule) {
  const list = callNative(() => nativeModule.imports());
  const result = [];
  for (let i = 0; i < list.length; i++) {
    result[i] = { module: `${list[i].module}`, name: `${list[i].name}`, kind: `${list[i].kind}` };
  }
  return result;
}

function exportDescriptors(nativeModule) {
  const list = callNative(() => nativeModule.exports());
  const result = [];
  for (let i = 0; i < list.length; i++) {
    result[i] = { name: `${list[i].name}`, kind: `${list[i].kind}` };
  }
  return result;
}

// A lone surrogate: a DOMString holding one is no string that UTF-8 can encode.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const regExpTest = RegExp.prototype.test;

// Fresh ArrayBuffers of this realm, one per custom section called `name`, in module order.
// `name` is a DOMString: one with a lone surrogate equals no section's name (names are valid
// UTF-8), although passing it to the binding as UTF-8 would turn the surrogate into U+FFFD and
// find sections whose name has a U+FFFD there (Node finds none, as the spec says).
function customSectionBuffers(nativeModule, name) {
  if (Reflect.apply(regExpTest, LONE_SURROGATE, [name])) return [];
  const list = callNative(() => nativeModule.customSections(name));
  const result = [];
  for (let i = 0; i < list.length; i++) {
    const buffer = list[i];
    result[i] = copyBytes(buffer, 0, Reflect.apply(arrayBufferByteLength, buffer, [])).buffer;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Interface plumbing
// ---------------------------------------------------------------------------------------------

function defineDataProperty(object, key, value, { writable = true, enumerable = false } = {}) {
  Object.defineProperty(object, key, { value, writable, enumerable, configurable: true });
}

// Copies the methods and accessors of `source` (an object literal) onto `target`, enumerable as
// WebIDL operations and attributes are. Literal methods have no `prototype` and cannot be
// constructed, and their getters are called "get x", as the built-ins.
function defineOperations(target, source) {
  for (const key of Reflect.ownKeys(source)) {
    Object.defineProperty(target, key, { ...Object.getOwnPropertyDescriptor(source, key), enumerable: true });
  }
}

// The inner constructors of the interfaces (below), with names written out: V8 names an object
// that cannot be cloned after its constructor ("#<bound Memory> could not be cloned."), by the
// function's source name, which a computed key would leave empty.
const interfaceConstructors = new Map(); // name → construct(object, ...args)
function constructInterface(name, newTarget, args) {
  const qualified = `WebAssembly.${name}`;
  if (newTarget === undefined) throw new TypeError(`${qualified}(): ${qualified} must be invoked with 'new'`);
  const object = platformObject(name, newTarget);
  interfaceConstructors.get(name)(object, ...args);
  return object;
}
const INNER_CONSTRUCTORS = {
  Module: function () { return constructInterface('Module', new.target, arguments); },
  Instance: function () { return constructInterface('Instance', new.target, arguments); },
  Memory: function () { return constructInterface('Memory', new.target, arguments); },
  Table: function () { return constructInterface('Table', new.target, arguments); },
  Global: function () { return constructInterface('Global', new.target, arguments); },
  Tag: function () { return constructInterface('Tag', new.target, arguments); },
  Exception: function () { return constructInterface('Exception', new.target, arguments); },
};

// A WebIDL interface object whose [[Construct]] runs `construct(object, ...args)` on the new object.
//
// V8 builds its API constructors from FunctionTemplates, whose own properties are `length`,
// `name`, `arguments` and `caller` (both null) and a read-only `prototype`, in that order. A
// bound function starts out with just `length` and `name`, so it is the shell; constructing it
// forwards new.target to the inner function, which makes subclassing work.
function defineInterface(name, construct, { statics = {}, members = {} } = {}) {
  const qualified = `WebAssembly.${name}`;
  const prototype = {};
  interfaceConstructors.set(name, construct);
  const inner = INNER_CONSTRUCTORS[name];
  inner.prototype = prototype;

  const constructor = inner.bind(undefined);
  Object.defineProperty(constructor, 'length', { value: 1 });
  Object.defineProperty(constructor, 'name', { value: name });
  for (const key of ['arguments', 'caller']) {
    Object.defineProperty(constructor, key, { value: null, writable: false, enumerable: false, configurable: false });
  }
  Object.defineProperty(constructor, 'prototype', {
    value: prototype, writable: false, enumerable: false, configurable: false,
  });
  defineOperations(constructor, statics);

  defineDataProperty(prototype, 'constructor', constructor);
  defineOperations(prototype, members);
  defineDataProperty(prototype, Symbol.toStringTag, qualified, { writable: false });
  return constructor;
}

// The objects of the interfaces (and cranewasm/engine's Sandbox), of `constructor.prototype`
// (new.target's). Like V8's, they cannot be cloned: structuredClone() and postMessage() throw a
// DataCloneError, where an ordinary object would silently become `{}` (cloning comes with
// threads). So they are made by the WeakRef constructor, whose objects the serializer refuses:
// nothing of a WeakRef is reachable from them (WeakRef.prototype is not on their chain), they
// have no own properties, and util.inspect shows them as ordinary objects. The WeakRef's target
// is one permanent object. (`name` is for the error message, which V8 takes from the prototype's
// constructor: "#<bound Memory> could not be cloned.", where V8's own objects say "#<Memory>".)
const UNCLONEABLE_TARGET = Object.freeze(Object.create(null));
function platformObject(name, constructor) {
  return Reflect.construct(WeakRef, [UNCLONEABLE_TARGET], constructor);
}

// Brand checks: an object is a Module (Instance, …) exactly when it is a key of its map, which
// only the constructors below fill, so no user object can pass for one.
const moduleBrand = new WeakMap(); // Module → NativeModule
// engine.js (the non-standard controls) finds the NativeModule of a Module object here.
const internal = require('./internal.js');
internal.moduleBrand = moduleBrand;
internal.platformObject = platformObject;
internal.newMemoryObject = (nativeMemory) => newMemoryObject(nativeMemory);
internal.newModuleObject = (nativeModule) => newModuleObject(nativeModule);
const instanceBrand = new WeakMap();
const memoryBrand = new WeakMap();
// wasi.js binds a WASI program to the native memory behind its Memory, in this realm.
internal.memoryBrand = memoryBrand;
internal.realm = realm;
// clone.js: what a Module or shared Memory needs to cross threads (undefined for any other value),
// and a Module object over a NativeModule received from another thread.
internal.cloneState = (object) => {
  if (moduleBrand.has(object)) return { kind: 'Module', native: moduleBrand.get(object), options: builtins.remembered(object) };
  const memory = memoryBrand.get(object);
  if (memory === undefined || !callNative(() => memory.isShared())) return undefined;
  return { kind: 'Memory', buffer: Reflect.apply(Object.getOwnPropertyDescriptor(Memory.prototype, 'buffer').get, object, []) };
};
internal.newModuleObject = (nativeModule, options) => newModuleObject(nativeModule, options);
const tableBrand = new WeakMap();
// Table.get/set are hot paths: per Table object, what never changes (its address type, its
// element kind) and the addon's one-call get and set bound to its table, made on first use.
// Only branded objects get an entry, so a hit is also the receiver check.
const tableShapes = new WeakMap();
function tableShape(object, thrower) {
  let shape = tableShapes.get(object);
  if (shape === undefined) {
    const table = receiver(tableBrand, object, thrower, 'Table');
    shape = {
      is64: callNative(() => table.is64()),
      element: callNative(() => table.element()),
      get: callNative(() => native.tableAccessor(table, false)),
      set: callNative(() => native.tableAccessor(table, true)),
    };
    tableShapes.set(object, shape);
  }
  return shape;
}
// Table.get/set's throwers (an ErrorThrower only holds the method name).
const TABLE_GET = new ErrorThrower('WebAssembly.Table.get()');
const TABLE_SET = new ErrorThrower('WebAssembly.Table.set()');
// A table getter's answer for an index out of range: an object no wasm value can be.
const OUT_OF_RANGE = Object.freeze({});
const globalBrand = new WeakMap();

// Objects of Node's own engine (V8's WebAssembly) passed where cranewasm's are required: the error
// says so, rather than that a WebAssembly.Memory "must be a WebAssembly.Memory". Node's namespace
// is the one register.js kept, or the global if cranewasm is not registered. Brand checks through
// its built-in accessors, which work on objects of any realm and cannot be fooled by a
// lookalike. Only called on error paths.
function nodeWebAssembly() {
  const original = globalThis[Symbol.for('cranewasm.originalWebAssembly')];
  if (isObject(original)) return original;
  const current = globalThis.WebAssembly;
  return isObject(current) && current !== module.exports ? current : undefined;
}

function isNodeEngineObject(value, interfaceName) {
  const node = nodeWebAssembly();
  const brandInterface = interfaceName === 'Function' ? 'Table' : interfaceName;
  if (!isObject(value) || node === undefined || !isObject(node[brandInterface])) return false;
  const prototype = node[brandInterface].prototype;
  try {
    switch (interfaceName) {
      case 'Module': node.Module.exports(value); return true;
      case 'Instance': Reflect.apply(accessor(prototype, 'exports'), value, []); return true;
      case 'Memory': Reflect.apply(accessor(prototype, 'buffer'), value, []); return true;
      case 'Table': Reflect.apply(accessor(prototype, 'length'), value, []); return true;
      case 'Global':
        try {
          Reflect.apply(prototype.valueOf, value, []);
        } catch (err) {
          // A v128 global is a Global whose value cannot be read.
          return !`${err && err.message}`.includes('Receiver');
        }
        return true;
      case 'Function': {
        // An exported function of Node's engine is what a funcref Table of that engine takes.
        if (typeof value !== 'function') return false;
        new node.Table({ element: 'anyfunc', initial: 1 }).set(0, value);
        return true;
      }
      default: return false;
    }
  } catch {
    return false;
  }
}

// `message` completed for a value of Node's engine, else as it is.
function engineMixMessage(message, value, interfaceName) {
  if (!isNodeEngineObject(value, interfaceName)) return message;
  const what = interfaceName === 'Function' ? 'wasm function' : `WebAssembly.${interfaceName}`;
  return `${message}: this ${what} comes from Node's built-in engine, ` +
    'and objects of Node\'s engine cannot be mixed with cranewasm\'s';
}

function receiver(brand, object, thrower, interfaceName) {
  if (!brand.has(object)) {
    if (isNodeEngineObject(object, interfaceName)) {
      throw thrower.typeError(engineMixMessage(`Receiver is not a WebAssembly.${interfaceName}`, object, interfaceName));
    }
    throw thrower.receiverError(interfaceName);
  }
  return brand.get(object);
}

// ---------------------------------------------------------------------------------------------
// WebAssembly.Module
// ---------------------------------------------------------------------------------------------

// Argument 0 of new Module, compile and instantiate: a private copy of the bytes of a BufferSource.
// V8 reports an empty one before decoding; the streaming APIs leave that to the decoder.
function moduleBytes(source, thrower, view = false) {
  const copy = bufferSourceBytes(source, view);
  if (copy === undefined) throw thrower.typeError('Argument 0 must be a buffer source');
  if (copy.length === 0) throw thrower.compileError('BufferSource argument is empty');
  return copy;
}

// Compiles a private copy of the module's bytes. Returns the NativeModule or throws CompileError.
// `options` (converted compile options) are checked against the module's imports.
function compileSync(bytes, thrower, options = builtins.NO_OPTIONS) {
  const outcome = callNative(native.compileSync, bytes);
  reportCacheWarning();
  if (typeof outcome === 'string') throw thrower.compileError(outcome);
  checkCompileOptions(outcome, thrower, options);
  return outcome;
}

// The spec's "validate builtins and imported string" step, after a successful compile.
function checkCompileOptions(nativeModule, thrower, options) {
  const message = callNative(() => builtins.checkCompiled(native, nativeModule, options));
  if (message !== undefined) throw thrower.compileError(message);
}

// The same on a worker thread: a promise of this realm for a new Module object. The addon copies
// `bytes` before it returns.
function compileAsync(bytes, thrower, options = builtins.NO_OPTIONS) {
  return moduleFromOutcome(new Promise((resolve, reject) => {
    callNative(native.compileAsync, bytes).then(resolve, (err) => reject(addonError(err)));
  }), thrower, options);
}

// A promise of this realm for a new Module object, from a promise of the addon's outcome.
function moduleFromOutcome(promise, thrower, options = builtins.NO_OPTIONS) {
  return promise.then((outcome) => {
    if (typeof outcome === 'string') throw thrower.compileError(outcome);
    checkCompileOptions(outcome, thrower, options);
    return newModuleObject(outcome, options);
  });
}

// compileAsync of argument 0 of compile() or instantiate(): without compile options, bytes
// identical to those of a live module are looked up at once on a view of them (no copy: copying
// a large module is most of the time such a compile takes), and so are those of a persistent
// code cache entry (compiled from the entry on a worker thread: no copy either); else the addon
// copies them, synchronously, and compiles the copy on a worker thread with the lookup's hash.
function compileSourceAsync(source, thrower, options, index) {
  if (options !== undefined) {
    const copy = moduleBytes(source, thrower);
    return compileAsync(copy, thrower, builtins.compileOptions(options, thrower, index));
  }
  const view = moduleBytes(source, thrower, true);
  const found = callNative(native.compileAsyncCached, view);
  if (found instanceof native.NativeModule) return Promise.resolve(found).then((nativeModule) => newModuleObject(nativeModule));
  return moduleFromOutcome(new Promise((resolve, reject) => {
    found.then(resolve, (err) => reject(addonError(err)));
  }), thrower);
}

// The persistent code cache's warning (its directory cannot be written), once per process.
function reportCacheWarning() {
  const warning = native.takeCacheWarning();
  if (warning) process.emitWarning(warning, 'CranewasmCacheWarning');
}

function newModuleObject(nativeModule, options = builtins.NO_OPTIONS) {
  reportCacheWarning();
  const module = platformObject('Module', Module);
  moduleBrand.set(module, nativeModule);
  builtins.remember(module, options);
  return module;
}

const Module = defineInterface('Module', (object, bytes, options) => {
  const thrower = new ErrorThrower('WebAssembly.Module()');
  // A view, not a copy, where no JS (an options getter) can run before the compile reads it.
  const copy = moduleBytes(bytes, thrower, options === undefined);
  const compileOptions = builtins.compileOptions(options, thrower, 1);
  moduleBrand.set(object, compileSync(copy, thrower, compileOptions));
  builtins.remember(object, compileOptions);
}, {
  statics: {
    imports(moduleObject) {
      const thrower = new ErrorThrower('WebAssembly.Module.imports()');
      if (!moduleBrand.has(moduleObject)) throw thrower.typeError(engineMixMessage('Argument 0 must be a WebAssembly.Module', moduleObject, 'Module'));
      // Builtins and string constants are no imports to provide: left out, as the spec says.
      return importDescriptors(moduleBrand.get(moduleObject))
        .filter(({ module, name }) => !builtins.isCompileTimeImport(moduleObject, module, name));
    },
    exports(moduleObject) {
      const thrower = new ErrorThrower('WebAssembly.Module.exports()');
      if (!moduleBrand.has(moduleObject)) throw thrower.typeError(engineMixMessage('Argument 0 must be a WebAssembly.Module', moduleObject, 'Module'));
      return exportDescriptors(moduleBrand.get(moduleObject));
    },
    customSections(moduleObject, sectionName) {
      const thrower = new ErrorThrower('WebAssembly.Module.customSections()');
      if (!moduleBrand.has(moduleObject)) throw thrower.typeError(engineMixMessage('Argument 0 must be a WebAssembly.Module', moduleObject, 'Module'));
      // V8 takes an undefined name as a missing one rather than as "undefined".
      if (sectionName === undefined) throw thrower.typeError('Argument 1 is required');
      return customSectionBuffers(moduleBrand.get(moduleObject), toDOMString(sectionName));
    },
  },
});

// ---------------------------------------------------------------------------------------------
// WebAssembly.Instance
// ---------------------------------------------------------------------------------------------

// The importObject argument of Instance / instantiate / instantiateStreaming: undefined or an object.
function checkImportObject(importObject, thrower) {
  if (importObject !== undefined && !isObject(importObject)) throw thrower.typeError('Argument 1 must be an object');
}

// The JS API's "read the imports", in V8's order and wording: per import, Get the module object,
// then the value, then check the value against the import's kind. Returns, by import index, what
// the binding links (callables, exported functions, the native objects behind Memory, Table and
// Global) and the JS objects of memory, table and global imports (for re-exports).
// Builtins and string constants (`compileTime`, from builtins.instantiation) are not looked up:
// when they are all the module imports, the import object may be left out.
function readImports(nativeModule, importObject, thrower, compileTime = undefined) {
  const imports = callNative(() => nativeModule.imports());
  const looksUp = (i) => compileTime === undefined || !compileTime.isProvided(i.module, i.name);
  if (importObject === undefined && imports.some(looksUp)) {
    throw thrower.typeError('Imports argument must be present and must be an object');
  }
  const values = [];
  const objects = [];
  for (let index = 0; index < imports.length; index++) {
    const { module: moduleName, name, kind } = imports[index];
    if (!looksUp(imports[index])) {
      values[index] = callNative(() => compileTime.value(moduleName, name));
      continue;
    }
    const moduleObject = importObject[moduleName];
    if (!isObject(moduleObject)) {
      throw thrower.typeError(`Import #${index} module="${moduleName}" error: module is not an object or function`);
    }
    const value = moduleObject[name];
    const linkError = (reason) => thrower.linkError(
      `Import #${index} module="${moduleName}" function="${name}" error: ${reason}`);
    switch (kind) {
      case 'function':
        if (typeof value !== 'function') throw linkError('function import requires a callable');
        values[index] = value;
        break;
      case 'table':
        if (!tableBrand.has(value)) throw linkError(engineMixMessage('table import requires a WebAssembly.Table', value, 'Table'));
        values[index] = tableBrand.get(value);
        objects[index] = value;
        break;
      case 'memory':
        if (!memoryBrand.has(value)) throw linkError(engineMixMessage('memory import must be a WebAssembly.Memory object', value, 'Memory'));
        values[index] = memoryBrand.get(value);
        objects[index] = value;
        break;
      case 'global': {
        const { valueType, mutable } = imports[index];
        if (globalBrand.has(value)) {
          const nativeGlobal = globalBrand.get(value);
          // V8 checks the mutability first.
          if (nativeGlobal.mutable() !== mutable) throw linkError('imported global does not match the expected mutability');
          if (nativeGlobal.valueType() !== valueType) throw linkError('imported global does not match the expected type');
          values[index] = nativeGlobal;
          objects[index] = value;
          break;
        }
        if (isNodeEngineObject(value, 'Global')) {
          throw linkError(engineMixMessage('imported global must be a WebAssembly.Global object', value, 'Global'));
        }
        if (valueType === 'v128') throw linkError('global import of type v128 must be a WebAssembly.Global');
        if (mutable) throw linkError('imported mutable global must be a WebAssembly.Global object');
        let converted;
        if (valueType === 'externref') {
          converted = value;
        } else if (valueType === 'anyfunc') {
          if (value !== null && !isExportedFunction(value)) {
            throw linkError(engineMixMessage(FUNCREF_ERROR, value, 'Function'));
          }
          converted = value;
        } else if ((typeof value === 'number' && valueType !== 'i64') || (typeof value === 'bigint' && valueType === 'i64')) {
          converted = toWebAssemblyValue(value, valueType);
        } else {
          throw linkError('global import must be a number, valid Wasm reference, or WebAssembly.Global object');
        }
        values[index] = callNative(native.createGlobal, valueType, false, converted);
        break;
      }
      case 'tag':
        if (!tagBrand.has(value)) throw linkError('tag import requires a WebAssembly.Tag');
        values[index] = tagBrand.get(value);
        objects[index] = value;
        break;
      default:
        throw linkError(`${kind} imports are not supported`);
    }
  }
  return { values, objects };
}

// The JS object of an exported memory, table or global: the imported object for a re-export,
// else one new object per defined memory or table. Like V8 (InstanceBuilder::ProcessExports),
// and unlike the JS API's global object cache, a global that was not imported as a Global object
// gets a new Global object for each of its exports (all of them share the one global).
function exportObject(entry, imported, created) {
  if (entry.importIndex !== undefined && entry.importIndex !== null) {
    const object = imported.objects[entry.importIndex];
    if (object !== undefined) return object;
    // A global imported as a plain value.
    return newGlobalObject(imported.values[entry.importIndex]);
  }
  if (entry.kind === 'global') return newGlobalObject(entry.value);
  // One Tag object per engine tag, whichever instance exports it.
  if (entry.kind === 'tag') return tagObject(entry.value);
  const key = `${entry.kind}:${entry.index}`;
  if (!created.has(key)) {
    switch (entry.kind) {
      case 'memory': created.set(key, newMemoryObject(entry.value)); break;
      default: created.set(key, newTableObject(entry.value)); break;
    }
  }
  return created.get(key);
}

// Limits for every instance made through the standard namespace, from the environment, so that
// unmodified programs run under them (`node -r cranewasm/register app.js`):
// CRANEWASM_TIMEOUT (ms) bounds each outermost call from JS into wasm, CRANEWASM_FUEL gives
// each such call that much fuel, and CRANEWASM_MEMORY_LIMIT (bytes) caps the memories each
// instance defines (environment.js has checked them when this file was loaded).
const defaultSandbox = (() => {
  const timeout = environment.read('CRANEWASM_TIMEOUT');
  const fuel = environment.read('CRANEWASM_FUEL');
  const memoryLimit = environment.read('CRANEWASM_MEMORY_LIMIT');
  if (timeout === undefined && fuel === undefined && memoryLimit === undefined) return undefined;
  return new native.NativeSandbox({ timeout, fuel, memoryLimit, perCallAndInstance: true });
})();

// "Instantiate a core module", in the order of V8's InstanceBuilder: read and link the imports,
// build the instance (memories, globals, tables, segments), the exports object, the start
// function. `object` is the Instance object to initialize.
//
// `sandbox` is the NativeSandbox of cranewasm/engine's Sandbox that the instance belongs to, if
// any.
function instantiateModule(moduleObject, importObject, thrower, object = platformObject('Instance', Instance), sandbox = undefined) {
  const nativeModule = moduleBrand.get(moduleObject);
  const compileTime = builtins.instantiation(moduleObject, native, RuntimeError, () => callNative(() => nativeModule.imports()));
  const imported = readImports(nativeModule, importObject, thrower, compileTime);
  const outcome = callNative(() => nativeModule.instantiate(realm, imported.values, sandbox ?? defaultSandbox));
  if (!(outcome instanceof native.NativeInstance)) {
    const message = `${outcome.message}`;
    switch (outcome.kind) {
      case 'link': {
        const { module: moduleName, name } = callNative(() => nativeModule.imports())[outcome.index];
        throw thrower.linkError(`Import #${outcome.index} module="${moduleName}" function="${name}" error: ${message}`);
      }
      case 'limits': throw thrower.linkError(message); // V8 names the import in the message
      case 'trap': throw new RuntimeError(`${thrower.context}: ${message}`);
      case 'resource': throw thrower.rangeError(message);
      default: throw new Error(`${thrower.context}: ${message}`);
    }
  }
  const exportsObject = Object.create(null);
  const created = new Map();
  for (const entry of callNative(() => outcome.exports())) {
    exportsObject[entry.name] = entry.kind === 'function' ? entry.value : exportObject(entry, imported, created);
    const builtinName = entry.kind === 'function' && compileTime !== undefined ? compileTime.builtinName(entry.index) : undefined;
    if (builtinName !== undefined) Object.defineProperty(entry.value, 'name', { value: builtinName });
  }
  Object.freeze(exportsObject);
  instanceBrand.set(object, { native: outcome, exports: exportsObject });
  // Traps and import exceptions of the start function reach the caller as they are.
  outcome.start();
  return object;
}

const Instance = defineInterface('Instance', (object, moduleObject, importObject) => {
  const thrower = new ErrorThrower('WebAssembly.Instance()');
  if (!moduleBrand.has(moduleObject)) throw thrower.typeError(engineMixMessage('Argument 0 must be a WebAssembly.Module', moduleObject, 'Module'));
  checkImportObject(importObject, thrower);
  instantiateModule(moduleObject, importObject, thrower, object);
}, {
  members: {
    get exports() {
      return receiver(instanceBrand, this, new ErrorThrower('WebAssembly.Instance.exports()'), 'Instance').exports;
    },
  },
});

// ---------------------------------------------------------------------------------------------
// WebAssembly.Memory, WebAssembly.Table, WebAssembly.Global
// ---------------------------------------------------------------------------------------------

// V8's limits: 65536 pages of 64 KiB for a 32-bit memory, 10^7 initial table entries.
const MAX_MEMORY_PAGES = 65536;
const MAX_TABLE_INITIAL = 10000000;
// The core spec's limit on a 64-bit memory type (2^48 pages): beyond it the type is invalid (a
// RangeError); below it, sizes past the JS API's 262,144 pages fail to allocate (a RangeError).
const MAX_MEMORY64_TYPE_PAGES = 2n ** 48n;

// V8 says "Maximum memory size exceeded" only for a grow past a declared maximum, and "Unable
// to grow instance memory" for any other failure (no maximum declared and past 65536 pages).
function memoryMaximum(memory) {
  const maximum = callNative(() => memory.maximum());
  return maximum === null ? undefined : maximum;
}

// An [EnforceRange] unsigned long argument of a method, with V8's messages.
function enforceUint32(value, thrower, what) {
  const number = +value;
  if (!Number.isFinite(number)) throw thrower.typeError(`${what} must be convertible to a valid number`);
  if (number < 0) throw thrower.typeError(`${what} must be non-negative`);
  if (number > 0xffffffff) throw thrower.typeError(`${what} must be in the unsigned long range`);
  return Math.trunc(number);
}

function newMemoryObject(nativeMemory) {
  const object = platformObject('Memory', Memory);
  memoryBrand.set(object, nativeMemory);
  return object;
}

function newTableObject(nativeTable) {
  const object = platformObject('Table', Table);
  tableBrand.set(object, nativeTable);
  return object;
}

function newGlobalObject(nativeGlobal) {
  const object = platformObject('Global', Global);
  globalBrand.set(object, nativeGlobal);
  return object;
}

// Memory.prototype.buffer is a hot path (wasm-bindgen's glue and Go's wasm_exec.js read it on
// every access): per Memory object, the buffer the addon gave and the grow epoch it was given
// at. The engine advances the epoch on every growth of any memory (by JS or wasm, on any
// thread, a delta of 0 too), the only thing that replaces a buffer, so while the epoch stands
// the addon would return the same buffer, and the getter is two compares. Only branded objects
// get an entry, so a hit is also the receiver check.
const memoryBuffers = new WeakMap();
const growEpoch = new Uint32Array(native.growEpochView()); // [low word, high word]
function memoryBuffer(object) {
  const memory = receiver(memoryBrand, object, new ErrorThrower('WebAssembly.Memory.buffer'), 'Memory');
  // Read before the call: a growth racing with it (another thread's) leaves the entry stale.
  const low = growEpoch[0];
  const high = growEpoch[1];
  const buffer = callNative(() => memory.buffer());
  if (typeof buffer === 'string') throw new RangeError(buffer);
  // A shared memory's SharedArrayBuffer is frozen, as V8 makes it.
  if (!Object.isFrozen(buffer) && callNative(() => memory.isShared())) Object.freeze(buffer);
  memoryBuffers.set(object, { buffer, low, high });
  return buffer;
}

const Memory = defineInterface('Memory', (object, descriptor) => {
  const thrower = new ErrorThrower('WebAssembly.Memory()');
  if (!isObject(descriptor)) throw thrower.typeError('Argument 0 must be a memory descriptor');
  const address = descriptorAddress(descriptor, thrower);
  let initial;
  let maximum;
  if (address === 'i64') {
    const initial64 = descriptorU64(descriptor, 'initial', thrower, { required: true, lower: 0n, upper: MAX_MEMORY64_TYPE_PAGES });
    const maximum64 = descriptorU64(descriptor, 'maximum', thrower, { required: false, lower: initial64, upper: MAX_MEMORY64_TYPE_PAGES });
    initial = Number(initial64);
    maximum = maximum64 === undefined ? undefined : Number(maximum64);
  } else {
    initial = descriptorInteger(descriptor, 'initial', thrower, { required: true, lower: 0, upper: MAX_MEMORY_PAGES });
    maximum = descriptorInteger(descriptor, 'maximum', thrower, { required: false, lower: initial, upper: MAX_MEMORY_PAGES });
  }
  const shared = Boolean(descriptor.shared);
  if (shared && maximum === undefined) throw thrower.typeError('If shared is true, maximum property should be defined.');
  const created = callNative(native.createMemory, initial, maximum, address === 'i64', shared);
  if (typeof created === 'string') throw thrower.rangeError('could not allocate memory');
  memoryBrand.set(object, created);
}, {
  members: {
    grow(delta) {
      const thrower = new ErrorThrower('WebAssembly.Memory.grow()');
      const memory = receiver(memoryBrand, this, thrower, 'Memory');
      const is64 = callNative(() => memory.is64());
      const pages = addressArgument(delta, is64, thrower, 'Argument 0');
      const maximum = memoryMaximum(memory);
      if (maximum !== undefined && callNative(() => memory.pages()) + pages > maximum) {
        throw thrower.rangeError('Maximum memory size exceeded');
      }
      // The buffer of the old size is detached, even for a delta of 0.
      const old = callNative(() => memory.grow(pages));
      if (old < 0) throw thrower.rangeError('Unable to grow instance memory');
      return is64 ? BigInt(old) : old;
    },
    get buffer() {
      const cached = memoryBuffers.get(this);
      if (cached !== undefined && cached.low === growEpoch[0] && cached.high === growEpoch[1]) return cached.buffer;
      return memoryBuffer(this);
    },
  },
});

// DefaultValue of a table's element type when no value is given: null for anyfunc, undefined
// for externref (the JS API's ToWebAssemblyValue(undefined)).
function tableDefault(element) {
  return element === 'anyfunc' ? null : undefined;
}

const Table = defineInterface('Table', (object, descriptor, value) => {
  const thrower = new ErrorThrower('WebAssembly.Table()');
  if (!isObject(descriptor)) throw thrower.typeError('Argument 0 must be a table descriptor');
  const element = toDOMString(descriptor.element);
  if (!TABLE_KINDS.has(element)) throw thrower.typeError("Descriptor property 'element' must be a WebAssembly reference type");
  const address = descriptorAddress(descriptor, thrower);
  let initial;
  let maximum;
  if (address === 'i64') {
    // Every u64 limit is a valid table64 type; past 10^7 elements the allocation fails.
    const initial64 = descriptorU64(descriptor, 'initial', thrower, { required: true, lower: 0n, upper: BigInt(MAX_TABLE_INITIAL) });
    const maximum64 = descriptorU64(descriptor, 'maximum', thrower, { required: false, lower: initial64, upper: 0xffffffffffffffffn });
    initial = Number(initial64);
    maximum = maximum64 === undefined ? undefined : Number(maximum64);
  } else {
    initial = descriptorInteger(descriptor, 'initial', thrower, { required: true, lower: 0, upper: MAX_TABLE_INITIAL });
    maximum = descriptorInteger(descriptor, 'maximum', thrower, { required: false, lower: initial, upper: 0xffffffff });
  }
  // V8 takes undefined as "not given", converts the value only if the table has room for it, and
  // numbers this argument 2 in its message.
  let init = tableDefault(element);
  if (initial > 0 && value !== undefined) {
    init = toWebAssemblyValue(value, element, (detail) => thrower.typeError(
      `Argument 2 must be undefined or a value of type compatible with the type of the new table: ${detail}.`));
  }
  const created = callNative(native.createTable, element, initial, maximum, init, address === 'i64');
  if (typeof created === 'string') throw thrower.rangeError(created);
  tableBrand.set(object, created);
}, {
  members: {
    get length() {
      const table = receiver(tableBrand, this, new ErrorThrower('WebAssembly.Table.length()'), 'Table');
      const length = callNative(() => table.length());
      return callNative(() => table.is64()) ? BigInt(length) : length;
    },
    grow(delta) {
      const thrower = new ErrorThrower('WebAssembly.Table.grow()');
      const table = receiver(tableBrand, this, thrower, 'Table');
      const is64 = callNative(() => table.is64());
      const count = addressArgument(delta, is64, thrower, 'Argument 0');
      const element = callNative(() => table.element());
      let init = tableDefault(element);
      if (arguments.length > 1 && arguments[1] !== undefined) {
        init = toWebAssemblyValue(arguments[1], element, (detail) => thrower.typeError(
          `Argument 1 is invalid: ${detail}`));
      }
      const old = callNativeStore(thrower, () => table.grow(count, init));
      if (old < 0) throw thrower.rangeError(`failed to grow table by ${count}`);
      return is64 ? BigInt(old) : old;
    },
    set(index) { // `length` is 1: the value is optional
      const thrower = TABLE_SET;
      const shape = tableShape(this, thrower);
      const i = shape.is64 ? addressArgument(index, true, thrower, 'Argument 0') : enforceUint32(index, thrower, 'Argument 0');
      // ToWebAssemblyValue: externref takes any value; for funcref, null or an exported function
      // of the table's type, which the addon checks as it stores.
      const value = arguments.length > 1 ? arguments[1] : shape.element === 'anyfunc' ? null : undefined;
      // One call: the addon checks the index against the length (false when out of range),
      // then converts and stores the value; null goes as no value (the addon then stores null
      // without asking the value's type).
      let stored;
      try {
        stored = value === null ? shape.set(i) : shape.set(i, value);
      } catch (err) {
        if (err instanceof TypeError && shape.element === 'anyfunc' && value !== null && !isExportedFunction(value)) {
          throw thrower.typeError(`Argument 1 is invalid for table: ${engineMixMessage(FUNCREF_ERROR, value, 'Function')}`);
        }
        if (err instanceof TypeError) throw thrower.typeError(err.message);
        throw addonError(err);
      }
      if (!stored) throw thrower.rangeError(`invalid index ${i} into function table`);
    },
    get(index) {
      const thrower = TABLE_GET;
      const shape = tableShape(this, thrower);
      const i = shape.is64 ? addressArgument(index, true, thrower, 'Argument 0') : enforceUint32(index, thrower, 'Argument 0');
      // One call: the addon's answer for an index out of range is a marker, not a value.
      let value;
      try {
        value = shape.get(i, OUT_OF_RANGE);
      } catch (err) {
        throw addonError(err);
      }
      if (value === OUT_OF_RANGE) throw thrower.rangeError(`invalid index ${i} into function table`);
      return value;
    },
  },
});

// GetGlobalValue: V8 has no JS value for a v128.
function globalValue(global, thrower) {
  if (callNative(() => global.valueType()) === 'v128') throw thrower.typeError("Can't get the value of s128 WebAssembly.Global");
  return callNative(() => global.getValue());
}

const Global = defineInterface('Global', (object, descriptor, ...rest) => {
  const thrower = new ErrorThrower('WebAssembly.Global()');
  if (!isObject(descriptor)) throw thrower.typeError('Argument 0 must be a global descriptor');
  // V8 reads `mutable` before `value`.
  const mutable = Boolean(descriptor.mutable);
  const type = toDOMString(descriptor.value);
  if (!VALUE_TYPES.has(type)) throw thrower.typeError("Descriptor property 'value' must be a WebAssembly type");
  const isNumeric = type !== 'anyfunc' && type !== 'externref';
  const given = rest.length > 0 && !(isNumeric && rest[0] === undefined);
  const value = given ? toWebAssemblyValue(rest[0], type, (detail) => thrower.typeError(detail)) : defaultValue(type);
  globalBrand.set(object, callNative(native.createGlobal, type, mutable, value));
}, {
  members: {
    valueOf() {
      const thrower = new ErrorThrower('WebAssembly.Global.valueOf()');
      return globalValue(receiver(globalBrand, this, thrower, 'Global'), thrower);
    },
    get value() {
      const thrower = new ErrorThrower('get WebAssembly.Global.value');
      return globalValue(receiver(globalBrand, this, thrower, 'Global'), thrower);
    },
    set value(v) {
      const thrower = new ErrorThrower('set WebAssembly.Global.value');
      const global = receiver(globalBrand, this, thrower, 'Global');
      if (!callNative(() => global.mutable())) throw thrower.typeError("Can't set the value of an immutable global.");
      const type = callNative(() => global.valueType());
      if (arguments.length === 0) throw thrower.typeError('Argument 0 is required');
      if (type === 'v128') throw thrower.typeError("Can't set the value of s128 WebAssembly.Global");
      const converted = toWebAssemblyValue(v, type, (detail) => thrower.typeError(detail));
      callNativeStore(thrower, () => global.setValue(converted));
    },
  },
});

// ---------------------------------------------------------------------------------------------
// Exception handling: WebAssembly.Tag, WebAssembly.Exception, WebAssembly.JSTag
// ---------------------------------------------------------------------------------------------

// A Tag is its engine tag (NativeTag); the engine's tag has the identity, and one Tag object
// stands for it while the object lives, so an exported or re-imported tag is the same object.
const tagBrand = new WeakMap(); // Tag → NativeTag
const tagObjects = new Map(); // NativeTag id → WeakRef(Tag)
const tagObjectsCleanup = new FinalizationRegistry((id) => {
  const ref = tagObjects.get(id);
  if (ref !== undefined && ref.deref() === undefined) tagObjects.delete(id);
});
function tagObject(nativeTag) {
  const id = nativeTag.id();
  const cached = tagObjects.get(id)?.deref();
  if (cached !== undefined) return cached;
  const object = platformObject('Tag', Tag);
  tagBrand.set(object, nativeTag);
  tagObjects.set(id, new WeakRef(object));
  tagObjectsCleanup.register(object, id);
  return object;
}

// The value types a tag's parameters may have (the JS API's ValueType).
const TAG_VALUE_TYPES = new Set(['i32', 'i64', 'f32', 'f64', 'v128', 'externref', 'anyfunc', 'funcref']);

const Tag = defineInterface('Tag', (object, descriptor) => {
  const thrower = new ErrorThrower('WebAssembly.Tag()');
  if (!isObject(descriptor)) throw thrower.typeError('Argument 0 must be a tag type');
  const parameters = descriptor.parameters;
  if (!isObject(parameters)) throw thrower.typeError("Argument 0 must be a tag type with 'parameters'");
  const names = iterableToList(parameters).map((type, index) => {
    const name = toDOMString(type);
    if (!TAG_VALUE_TYPES.has(name)) throw thrower.typeError(`Argument 0 parameter type at index #${index} must be a value type`);
    return name;
  });
  const nativeTag = callNative(native.createTag, names);
  tagBrand.set(object, nativeTag);
  tagObjects.set(nativeTag.id(), new WeakRef(object));
  tagObjectsCleanup.register(object, nativeTag.id());
}, {
  members: {
    // The type reflection proposal's Tag.type() (Node 20 has none): { parameters }.
    type() {
      const thrower = new ErrorThrower('WebAssembly.Tag.type()');
      const nativeTag = receiver(tagBrand, this, thrower, 'Tag');
      return { parameters: callNative(() => nativeTag.parameters()) };
    },
  },
});

// An Exception's tag, payload (JS values, converted by the tag's parameter types) and the
// engine tag; `payload` holds `undefined` for values that have no JS value (v128, exnref).
const exceptionBrand = new WeakMap(); // Exception → { tag, nativeTag, types, payload }

const Exception = defineInterface('Exception', (object, tag, payload, options) => {
  const thrower = new ErrorThrower('WebAssembly.Exception()');
  const nativeTag = tagBrand.get(tag);
  if (nativeTag === undefined) throw thrower.typeError('Argument 0 must be a WebAssembly tag');
  if (!isObject(payload)) throw thrower.typeError('Exception values must be an iterable object');
  const values = iterableToList(payload);
  const types = callNative(() => nativeTag.parameters());
  // The JS API: a payload of another length is a TypeError (Node 20's V8 accepts it).
  if (values.length !== types.length) throw thrower.typeError('Number of exception values does not match signature length');
  const converted = values.map((value, index) => {
    const type = types[index];
    if (type === 'v128' || type === 'ref') throw thrower.typeError('type incompatibility when transforming from/to JS');
    return toWebAssemblyValue(value, type, (detail) => thrower.typeError(detail));
  });
  exceptionBrand.set(object, { tag, nativeTag, types, payload: converted });
  if (isObject(options) && Boolean(options.traceStack)) {
    // V8's own `stack` property, of the constructor's caller.
    Error.captureStackTrace(object, INNER_CONSTRUCTORS.Exception);
  }
}, {
  members: {
    getArg(tag, index) {
      const thrower = new ErrorThrower('WebAssembly.Exception.getArg()');
      const data = receiver(exceptionBrand, this, thrower, 'Exception');
      if (!tagBrand.has(tag)) throw thrower.typeError('Argument 0 must be a WebAssembly.Tag');
      if (data.tag !== tag) throw thrower.typeError('First argument does not match the exception tag');
      const i = enforceUint32(index, thrower, 'Index');
      if (i >= data.payload.length) throw thrower.rangeError('Index out of range');
      const type = data.types[i];
      if (type === 'v128' || type === 'ref') throw thrower.typeError('type incompatibility when transforming from/to JS');
      return data.payload[i];
    },
    is(tag) {
      const thrower = new ErrorThrower('WebAssembly.Exception.is()');
      const data = receiver(exceptionBrand, this, thrower, 'Exception');
      if (!tagBrand.has(tag)) throw thrower.typeError('Argument 0 must be a WebAssembly.Tag');
      return data.tag === tag;
    },
  },
});

// A wasm exception that left wasm (the binding converted its payload).
function makeException(nativeTag, payload) {
  const object = platformObject('Exception', Exception);
  const types = nativeTag.parameters();
  exceptionBrand.set(object, { tag: tagObject(nativeTag), nativeTag, types, payload });
  return object;
}

// The errors the engine made for traps, deadlines and fuel running out (`markTrap`), and the
// builtins' traps: thrown back into wasm through an import, no wasm handler catches them (as
// V8 keeps a trap uncatchable across JS frames).
const trapErrors = new WeakSet();

// What a WebAssembly.Exception thrown into wasm carries, for the binding; undefined for any
// other value (it crosses with JSTag), null for a trap's error (it is not catchable).
function exceptionPayload(value) {
  if ((typeof value === 'object' && value !== null) && (trapErrors.has(value) || builtins.isTrap(value))) return null;
  const data = exceptionBrand.get(value);
  return data === undefined ? undefined : [data.nativeTag, data.payload];
}

// ---------------------------------------------------------------------------------------------
// Streaming: Node's checks on the Response, then the body, chunk by chunk
// ---------------------------------------------------------------------------------------------

// The fetch Response class, looked up when first needed because Node loads it lazily.
let ResponseClass;
function responseClass() {
  if (ResponseClass === undefined) ResponseClass = globalThis.Response;
  return ResponseClass;
}

// Node's wasmStreamingCallback (lib/internal/wasm_web_api.js): the same checks, order and errors.
// Returns the Response's body (null when it has none).
async function checkedResponseBody(source) {
  const response = await source;
  const Response = responseClass();
  if (typeof Response !== 'function' || !(response instanceof Response)) {
    throw nodeTypeError('ERR_INVALID_ARG_TYPE', 'The "source" argument must be an instance of Response or an Promise ' +
      `resolving to Response. Received ${describeReceived(response)}`);
  }
  const contentType = response.headers.get('Content-Type');
  if (contentType !== 'application/wasm') {
    throw nodeTypeError('ERR_WEBASSEMBLY_RESPONSE', `WebAssembly response has unsupported MIME type '${contentType}'`);
  }
  if (!response.ok) {
    throw nodeTypeError('ERR_WEBASSEMBLY_RESPONSE', `WebAssembly response has status code ${response.status}`);
  }
  if (response.bodyUsed !== false) {
    throw nodeTypeError('ERR_WEBASSEMBLY_RESPONSE', 'WebAssembly response body has already been used');
  }
  return response.body;
}

// The bytes of one body chunk, as Node's streamState.push takes them (an ArrayBufferView or an
// ArrayBuffer): a Uint8Array as it is (the addon copies it), any other view or buffer copied here.
function chunkBytes(chunk) {
  if (isUint8Array(chunk)) return chunk;
  const bytes = bufferSourceBytes(chunk);
  if (bytes === undefined) throw nodeTypeError('ERR_INVALID_ARG_TYPE', 'chunk must be an ArrayBufferView or an ArrayBuffer');
  return bytes;
}

// Compiles a Response's body as it arrives, to a new Module object: each chunk goes to a native
// streaming job, which decodes, validates and compiles on the compile threads while the rest
// downloads. The promise rejects with the CompileError as soon as the job is certain of it (then the
// rest of the body is not read), or with the body's own error (a network error, an aborted fetch)
// after aborting the job, as Node does.
function compileStreamingSource(source, thrower, options = builtins.NO_OPTIONS) {
  return new Promise((resolve, reject) => {
    let job;
    let reader;
    let settled = false;
    const fail = (err) => {
      if (settled) return;
      settled = true;
      if (job !== undefined) job.abort();
      if (reader !== undefined) reader.cancel().catch(() => {});
      reject(err);
    };
    const onFailure = (message) => {
      try {
        fail(thrower.compileError(message));
      } catch (err) {
        // Called by the addon from the event loop: nothing may escape.
        reject(err);
      }
    };
    (async () => {
      const body = await checkedResponseBody(source);
      job = callNative(() => new native.NativeStreaming(onFailure));
      if (body != null) {
        reader = body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done || settled) break;
          const bytes = chunkBytes(value);
          if (Reflect.apply(typedArrayByteLength, bytes, []) !== 0) callNative(() => job.push(bytes));
        }
      }
      if (settled) return;
      const finished = callNative(() => job.finish());
      const outcome = await finished.then(undefined, (err) => { throw addonError(err); });
      if (typeof outcome === 'string') throw thrower.compileError(outcome);
      if (settled) return;
      checkCompileOptions(outcome, thrower, options);
      settled = true;
      resolve(newModuleObject(outcome, options));
    })().catch(fail);
  });
}

// ---------------------------------------------------------------------------------------------
// The namespace functions
// ---------------------------------------------------------------------------------------------

// Runs `steps` now and returns its promise, or a promise rejected with what it threw: the
// promise-returning API functions never throw.
function promiseFrom(steps) {
  try {
    return Promise.resolve(steps());
  } catch (err) {
    return Promise.reject(err);
  }
}

// Methods of an object literal, so that, like the built-ins, they have no `prototype` and
// `new WebAssembly.compile()` is a TypeError.
const namespaceFunctions = {
  // Compile options (argument 1 here, 2 for the instantiate functions) are converted after the
  // bytes, as WebIDL converts arguments in order.
  compile(bytes) { // `length` is 1: options are optional
    const options = arguments[1];
    const thrower = new ErrorThrower('WebAssembly.compile()');
    return promiseFrom(() => compileSourceAsync(bytes, thrower, options, 1));
  },

  // With builtins or string constants, the module is compiled to check its imports (feature
  // detection validates a module that imports a builtin with a wrong type).
  validate(bytes) { // `length` is 1: options are optional
    const thrower = new ErrorThrower('WebAssembly.validate()');
    const copy = bufferSourceBytes(bytes);
    if (copy === undefined) throw thrower.typeError('Argument 0 must be a buffer source');
    const options = builtins.compileOptions(arguments[1], thrower, 1);
    if (options === builtins.NO_OPTIONS) return callNative(native.validate, copy) === true;
    const outcome = callNative(native.compileSync, copy);
    if (typeof outcome === 'string') return false;
    return callNative(() => builtins.checkCompiled(native, outcome, options)) === undefined;
  },

  // instantiate(bytes, importObject) → {module, instance}; instantiate(module, importObject) → instance.
  // V8's order: a source that is no plain object (V8's IsJSObject, false for a Proxy), then the
  // importObject, then the overload. The Module overload reads the imports during the call, as V8.
  instantiate(source) { // `length` is 1: importObject and options are optional
    const importObject = arguments[1];
    const options = arguments[2];
    const thrower = new ErrorThrower('WebAssembly.instantiate()');
    return promiseFrom(() => {
      if (!isObject(source) || isProxy(source)) {
        throw thrower.typeError('Argument 0 must be a buffer source or a WebAssembly.Module object');
      }
      return instantiateSource(source, importObject, thrower, undefined, options);
    });
  },

  // V8 does not single out an empty body here: it reaches the decoder.
  compileStreaming(source) { // `length` is 1: options are optional
    const options = arguments[1];
    const thrower = new ErrorThrower('WebAssembly.compileStreaming()');
    return promiseFrom(() => compileStreamingSource(source, thrower, builtins.compileOptions(options, thrower, 1)));
  },

  // V8 words the import errors of this one as instantiate()'s.
  instantiateStreaming(source) { // `length` is 1: importObject is optional
    const importObject = arguments[1];
    const thrower = new ErrorThrower('WebAssembly.instantiateStreaming()');
    const options = arguments[2];
    return promiseFrom(() => {
      checkImportObject(importObject, thrower);
      return compileStreamingSource(source, thrower, builtins.compileOptions(options, thrower, 2))
        .then((module) => {
          const instance = instantiateModule(module, importObject, new ErrorThrower('WebAssembly.instantiate()'));
          return { module, instance };
        });
    });
  },
};

// instantiate()'s overloads after its first check: a Module gives an Instance, bytes give
// { module, instance }; for `sandbox` (a NativeSandbox) when given. Only the bytes overload takes
// compile options (`options`, unconverted; the Module overload ignores them, as the spec's).
function instantiateSource(source, importObject, thrower, sandbox = undefined, options = undefined) {
  checkImportObject(importObject, thrower);
  if (moduleBrand.has(source)) return instantiateModule(source, importObject, thrower, undefined, sandbox);
  if (isNodeEngineObject(source, 'Module')) {
    throw thrower.typeError(engineMixMessage('Argument 0 must be a buffer source or a WebAssembly.Module object', source, 'Module'));
  }
  return compileSourceAsync(source, thrower, options, 2).then((module) => {
    const instance = instantiateModule(module, importObject, thrower, undefined, sandbox);
    return { module, instance };
  });
}
internal.instantiateSource = instantiateSource;
internal.ErrorThrower = ErrorThrower;

// ---------------------------------------------------------------------------------------------
// The namespace object, in Node's property order and with its attributes
// ---------------------------------------------------------------------------------------------

const WebAssembly = {};
for (const name of ['compile', 'validate', 'instantiate', 'compileStreaming', 'instantiateStreaming']) {
  defineDataProperty(WebAssembly, name, namespaceFunctions[name], { enumerable: true });
}
const interfaces = { Module, Instance, Table, Memory, Global, Tag, Exception, CompileError, LinkError, RuntimeError };
for (const name of Object.keys(interfaces)) {
  defineDataProperty(WebAssembly, name, interfaces[name]);
}
// The tag of JS values thrown through wasm (newer than Node 20's V8): one externref parameter.
defineDataProperty(WebAssembly, 'JSTag', tagObject(callNative(native.jsTag)), { writable: false });
defineDataProperty(WebAssembly, Symbol.toStringTag, 'WebAssembly', { writable: false });

module.exports = WebAssembly;

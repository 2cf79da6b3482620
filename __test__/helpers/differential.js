// Runs the same call through cranewasm and Node's built-in WebAssembly and reduces each result to
// a plain description (value or error class and message) that jest can compare, so that every
// differential test reads "cranewasm's outcome equals Node's".
'use strict';

const cranewasm = require('../../index.js');

// Node's namespace of this test file's realm (jest gives each file its own vm context).
const node = globalThis.WebAssembly;

// Tag and Exception (exception handling) are Node-only on purpose: see index.js.
// Members of one namespace only: none of Node 20's; cranewasm has WebAssembly.JSTag, newer than
// Node 20's V8.
const NODE_ONLY = [];
const CRANEWASM_ONLY = ['JSTag'];

// cranewasm's Error for what it deliberately does not do (shared memories: threads are not
// WebAssembly 2.0).
function notImplemented(what) {
  return { threw: 'Error', message: `cranewasm: ${what} is not implemented yet` };
}

// Errors of any realm: Node's streaming glue throws errors of its main realm.
function errorOutcome(err) {
  if ((typeof err !== 'object' || err === null) && typeof err !== 'function') return { threw: typeof err, value: err };
  return { threw: err.constructor.name, message: err.message, ...(err.code === undefined ? {} : { code: err.code }) };
}

// The outcome of a synchronous call: { value } or { threw: <constructor name>, message }.
function outcome(fn, describe = (value) => value) {
  try {
    return { value: describe(fn()) };
  } catch (err) {
    return errorOutcome(err);
  }
}

// The same for a call that must return a promise (and must not throw synchronously).
async function asyncOutcome(fn, describe = (value) => value) {
  const promise = fn();
  if (!(promise instanceof Promise)) throw new Error('expected the call to return a promise of this realm');
  try {
    return { value: describe(await promise) };
  } catch (err) {
    return errorOutcome(err);
  }
}

// --- Shape descriptions: what Object.getOwnPropertyDescriptors and friends see ---

function isConstructor(value) {
  try {
    Reflect.construct(function () {}, [], value);
    return true;
  } catch {
    return false;
  }
}

// Names the objects a shape may point at, so that prototype links compare across namespaces.
function objectNames(namespace) {
  const names = new Map([
    [Object.prototype, 'Object.prototype'],
    [Function.prototype, 'Function.prototype'],
    [Error, 'Error'],
    [Error.prototype, 'Error.prototype'],
    [namespace, 'WebAssembly'],
  ]);
  for (const key of Reflect.ownKeys(namespace)) {
    const value = namespace[key];
    if (typeof value !== 'function') continue;
    names.set(value, `WebAssembly.${String(key)}`);
    if (value.prototype) names.set(value.prototype, `WebAssembly.${String(key)}.prototype`);
  }
  return names;
}

function describeValue(value, names, depth) {
  if (names.has(value) && depth > 0) return { ref: names.get(value) };
  if (typeof value === 'function') return describeFunction(value, names, depth);
  if (typeof value === 'object' && value !== null) return describeObject(value, names, depth);
  return { primitive: typeof value, value: typeof value === 'symbol' ? String(value) : value };
}

function describeDescriptor(descriptor, names, depth) {
  const attributes = { enumerable: descriptor.enumerable, configurable: descriptor.configurable };
  if ('value' in descriptor) {
    return { ...attributes, writable: descriptor.writable, value: describeValue(descriptor.value, names, depth + 1) };
  }
  return {
    ...attributes,
    get: descriptor.get && describeFunction(descriptor.get, names, depth + 1),
    set: descriptor.set && describeFunction(descriptor.set, names, depth + 1),
  };
}

// Own keys in order, every descriptor, and the [[Prototype]] by name.
function describeObject(object, names, depth = 0) {
  const prototype = Object.getPrototypeOf(object);
  const properties = {};
  for (const key of Reflect.ownKeys(object)) {
    properties[String(key)] = describeDescriptor(Object.getOwnPropertyDescriptor(object, key), names, depth);
  }
  return {
    type: typeof object,
    prototype: prototype === null ? null : names.get(prototype) || 'unnamed object',
    extensible: Object.isExtensible(object),
    keys: Reflect.ownKeys(object).map(String),
    properties,
  };
}

function describeFunction(fn, names, depth = 0) {
  return { ...describeObject(fn, names, depth), constructor: isConstructor(fn) };
}

// The shape of namespace member `name`: the member, and its prototype object if it has one.
function memberShape(namespace, name) {
  const names = objectNames(namespace);
  const member = namespace[name];
  return {
    member: describeValue(member, names, 0),
    prototype: typeof member === 'function' && member.prototype ? describeObject(member.prototype, names) : null,
  };
}

// The namespace object's own shape (its members by name), without Node's extra members.
function namespaceShape(namespace) {
  const shape = describeObject(namespace, objectNames(namespace));
  const only = [...NODE_ONLY, ...CRANEWASM_ONLY];
  shape.keys = shape.keys.filter((key) => !only.includes(key));
  for (const key of only) delete shape.properties[key];
  return shape;
}

// --- What instantiation hands out, described comparably across the two namespaces ---
//
// Values cross from wasm to JS as primitives (BigInt for i64, -0 and NaN kept: jest's toEqual tells
// them apart), null, undefined, or objects. Objects are described by identity: `known` maps the
// objects a test handed in (imports, table values) and the exports to labels. Native objects of
// cranewasm (exported functions, Memory buffers) belong to Node's main realm, not to the test's
// vm context, so nothing here relies on instanceof ArrayBuffer or Function.

const toStringTag = (value) => Object.prototype.toString.call(value);
const isReference = (value) => (typeof value === 'object' && value !== null) || typeof value === 'function' || typeof value === 'symbol';

// Labels for the objects, functions and symbols of `values` (an object of label → value).
function labels(values = {}) {
  const known = new Map();
  for (const [label, value] of Object.entries(values)) if (isReference(value) && !known.has(value)) known.set(value, label);
  return known;
}

// A value wasm handed to JS; an Array (the results of a multi-value function) element by element,
// and a plain object of this realm (a test's own summary) member by member.
function wasmValue(value, known = new Map()) {
  if (known.has(value)) return { ref: known.get(value) };
  if (Array.isArray(value)) {
    return { array: value.map((item) => wasmValue(item, known)), prototype: Object.getPrototypeOf(value) === Array.prototype };
  }
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    const members = {};
    for (const key of Object.keys(value)) members[key] = wasmValue(value[key], known);
    return { members };
  }
  if (typeof value === 'function') return { function: value.name, length: value.length };
  if (typeof value === 'object' && value !== null) return { object: toStringTag(value) };
  return value;
}

function describeMemory(memory) {
  const buffer = memory.buffer;
  return {
    tag: toStringTag(memory),
    buffer: toStringTag(buffer),
    byteLength: buffer.byteLength,
    resizable: buffer.resizable,
    maxByteLength: buffer.maxByteLength,
    extensible: Object.isExtensible(buffer),
    sameBuffer: memory.buffer === buffer,
  };
}

// Every element of a short table, the first and last two of a long one.
function describeTable(table, known = new Map()) {
  const length = table.length;
  const indices = length <= 16 ? [...Array(length).keys()] : [0, 1, length - 2, length - 1];
  const elements = {};
  for (const i of indices) elements[i] = wasmValue(table.get(i), known);
  return { tag: toStringTag(table), length, elements };
}

// The value through both readers, and whether it can be set (to the value it has).
function describeGlobal(global, known = new Map()) {
  return {
    tag: toStringTag(global),
    value: wasmValue(global.value, known),
    valueOf: wasmValue(global.valueOf(), known),
    setToItself: outcome(() => { global.value = global.value; }, () => 'ok'),
  };
}

// An export (or any value that may be a Memory, Table, Global or function) of namespace `W`.
function describeExternal(W, value, known = new Map()) {
  if (value instanceof W.Memory) return { Memory: describeMemory(value) };
  if (value instanceof W.Table) return { Table: describeTable(value, known) };
  if (value instanceof W.Global) return { Global: describeGlobal(value, known) };
  // Own keys and [[Construct]] of exported functions are compared on their own in
  // instantiate.test.js.
  if (typeof value === 'function') return { function: value.name, length: value.length, tag: toStringTag(value) };
  return { other: typeof value };
}

// An Instance's exports object: its own shape, and each export; an export that is an imported
// object (`imports`: label → value) or an earlier export is named by that label.
function describeExports(W, exportsObject, imports = {}) {
  const known = labels(imports);
  const keys = Reflect.ownKeys(exportsObject);
  for (const key of keys) {
    const value = exportsObject[key];
    if (isReference(value) && !known.has(value)) known.set(value, `exports[${JSON.stringify(key)}]`);
  }
  const properties = {};
  for (const key of keys) {
    const { value, writable, enumerable, configurable } = Object.getOwnPropertyDescriptor(exportsObject, key);
    const label = known.get(value);
    properties[key] = {
      writable,
      enumerable,
      configurable,
      typeof: typeof value,
      ...(label === `exports[${JSON.stringify(key)}]` ? {} : { same: label }),
      value: describeExternal(W, value, known),
    };
  }
  const prototype = Object.getPrototypeOf(exportsObject);
  return {
    prototype: prototype === null ? null : toStringTag(prototype),
    frozen: Object.isFrozen(exportsObject),
    extensible: Object.isExtensible(exportsObject),
    keys: keys.map(String),
    properties,
  };
}

function describeInstance(W, instance, imports = {}) {
  return {
    tag: toStringTag(instance),
    isInstance: instance instanceof W.Instance,
    prototype: Object.getPrototypeOf(instance) === W.Instance.prototype,
    ownKeys: Reflect.ownKeys(instance).map(String),
    sameExportsObject: instance.exports === instance.exports,
    exports: describeExports(W, instance.exports, imports),
  };
}

// instantiate(bytes) and instantiateStreaming() resolve to { module, instance }.
function describeInstantiated(W, result, imports = {}) {
  return {
    prototype: Object.getPrototypeOf(result) === Object.prototype,
    keys: Reflect.ownKeys(result).map(String),
    module: result.module instanceof W.Module && {
      imports: W.Module.imports(result.module),
      exports: W.Module.exports(result.module),
    },
    instance: describeInstance(W, result.instance, imports),
  };
}

module.exports = {
  cranewasm, node, NODE_ONLY, notImplemented, outcome, asyncOutcome, errorOutcome, memberShape, namespaceShape,
  toStringTag, labels, wasmValue, describeMemory, describeTable, describeGlobal, describeExternal, describeExports,
  describeInstance, describeInstantiated,
};

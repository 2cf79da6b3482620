// Runs the same call through cranewasm and Node's built-in WebAssembly and reduces each result to
// a plain description (value or error class and message) that jest can compare, so that every
// differential test reads "cranewasm's outcome equals Node's".
'use strict';

const cranewasm = require('../../index.js');

// Node's namespace of this test file's realm (jest gives each file its own vm context).
const node = globalThis.WebAssembly;

// Tag and Exception (exception handling) are Node-only on purpose: see index.js.
const NODE_ONLY = ['Tag', 'Exception'];

// The error of "not implemented yet" paths, until the execution core lands.
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
  shape.keys = shape.keys.filter((key) => !NODE_ONLY.includes(key));
  for (const key of NODE_ONLY) delete shape.properties[key];
  return shape;
}

module.exports = {
  cranewasm, node, NODE_ONLY, notImplemented, outcome, asyncOutcome, errorOutcome, memberShape, namespaceShape,
};

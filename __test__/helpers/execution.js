// Differential execution: the same module (written in the text format, assembled by the `wabt`
// package) is instantiated and run on cranewasm and on Node's built-in WebAssembly, and each run is
// reduced to a plain description (values, or the error's class and message) that jest compares.
//
// Realms: jest runs every test file in its own vm context. Errors must be of this realm (both
// engines create them with the context's classes), but the functions and ArrayBuffers the addon
// creates belong to Node's main realm, so descriptions never use `instanceof Function` or
// `instanceof ArrayBuffer`.
'use strict';

const { cranewasm, node } = require('./differential.js');

// Every non-SIMD Wasm 2.0 feature; SIMD only so that v128 can appear in a signature.
const FEATURES = {
  mutable_globals: true,
  sat_float_to_int: true,
  sign_extension: true,
  multi_value: true,
  bulk_memory: true,
  reference_types: true,
  simd: true,
};

let wabt;

// Call in beforeAll: the wabt module is compiled asynchronously.
async function loadWabt() {
  if (wabt === undefined) wabt = await require('wabt')();
  return wabt;
}

// The binary of a module in the text format (`features`: wabt features beyond FEATURES, such as
// tail_call). wabt's own error would print its whole source, so only its first lines are kept.
function wat(text, features = {}) {
  if (wabt === undefined) throw new Error('call loadWabt() in beforeAll first');
  let parsed;
  try {
    parsed = wabt.parseWat('test.wat', text, { ...FEATURES, ...features });
    parsed.resolveNames();
    parsed.validate();
    return parsed.toBinary({}).buffer;
  } catch (err) {
    throw new Error(`wabt: ${String(err && err.message).split('\n').slice(0, 4).join('\n')}`);
  } finally {
    if (parsed) parsed.destroy();
  }
}

// new Instance(new Module(bytes), imports).exports on namespace W.
function instantiate(W, bytes, imports) {
  return new W.Instance(new W.Module(bytes), imports).exports;
}

// The class of an error as a name that means the same on both engines: one of the namespace's
// error classes, one of this realm's built-in error classes, or (a realm bug) a foreign class.
function errorClass(W, err) {
  if ((typeof err !== 'object' || err === null) && typeof err !== 'function') return `primitive ${typeof err}`;
  for (const name of ['CompileError', 'LinkError', 'RuntimeError']) {
    if (err.constructor === W[name]) return `WebAssembly.${name}`;
  }
  for (const ErrorClass of [TypeError, RangeError, SyntaxError, ReferenceError, Error]) {
    if (err.constructor === ErrorClass) return ErrorClass.name;
  }
  return `foreign ${err.constructor && err.constructor.name}`;
}

function errorOutcome(W, err) {
  const threw = errorClass(W, err);
  if (threw.startsWith('primitive')) return { threw, value: describe(err) };
  return { threw, message: err.message };
}

// A plain description of a value returned to JS: numbers, BigInts and other primitives stay as
// they are (jest's toEqual tells NaN and -0 apart from other numbers), functions become their
// name and length, arrays and plain objects (such as the outcomes of `run`) are described member by
// member, other objects by their class.
function describe(value) {
  if (typeof value === 'function') return { function: value.name, length: value.length };
  if (typeof value === 'symbol') return { symbol: value.description };
  if (Array.isArray(value)) return value.map(describe);
  if (typeof value === 'object' && value !== null) {
    const prototype = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) return { object: Object.prototype.toString.call(value) };
    const result = {};
    for (const key of Object.keys(value)) result[key] = describe(value[key]);
    return result;
  }
  return value;
}

// Runs body(W) and describes what happened.
function run(W, body) {
  try {
    return { value: describe(body(W)) };
  } catch (err) {
    return errorOutcome(W, err);
  }
}

async function runAsync(W, body) {
  try {
    return { value: describe(await body(W)) };
  } catch (err) {
    return errorOutcome(W, err);
  }
}

// { ours, theirs }: body run on cranewasm and on Node.
function both(body) {
  return { ours: run(cranewasm, body), theirs: run(node, body) };
}

async function bothAsync(body) {
  return { ours: await runAsync(cranewasm, body), theirs: await runAsync(node, body) };
}

// Calls exports[name](...args) for every argument list and describes each outcome; a trap in one
// call does not stop the others.
function callAll(W, exports, name, argLists) {
  return argLists.map((args) => [args, run(W, () => exports[name](...args))]);
}

// Every pair of the given values.
function pairs(values) {
  const result = [];
  for (const a of values) for (const b of values) result.push([a, b]);
  return result;
}

// A snapshot of `length` bytes of a memory from `offset` as a plain array.
function bytesOf(memory, offset, length) {
  return Array.from(new Uint8Array(memory.buffer, offset, length));
}

module.exports = {
  cranewasm, node, FEATURES, loadWabt, wat, instantiate, errorClass, errorOutcome, describe, run, runAsync,
  both, bothAsync, callAll, pairs, bytesOf,
};

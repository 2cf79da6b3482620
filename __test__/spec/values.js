// Script values on the JS side of the harness: manifest values to JS arguments, checking JS
// results against expectations, and describing values in failure messages. Only values JS can
// carry exactly come through here; NaNs and v128s are checked inside wasm (wrapper modules).
'use strict';

const scratch = new DataView(new ArrayBuffer(16));

function f32FromBits(bits) {
  scratch.setUint32(0, Number(bits));
  return scratch.getFloat32(0);
}

function f64FromBits(bits) {
  scratch.setBigUint64(0, BigInt(bits));
  return scratch.getFloat64(0);
}

function hex(value, digits) {
  return `0x${BigInt.asUintN(digits * 4, BigInt(value)).toString(16).padStart(digits, '0')}`;
}

/**
 * Host values for `ref.extern N`: one object per N and per script, so that identity (===) is
 * what a round trip through wasm must preserve.
 */
class HostRefs {
  constructor() {
    this.refs = new Map();
  }

  get(n) {
    const key = String(n);
    if (!this.refs.has(key)) this.refs.set(key, Object.freeze({ externref: Number(n) }));
    return this.refs.get(key);
  }
}

/** The JS argument for a manifest value, per the JS API's ToWebAssemblyValue. */
function toJs(value, hostRefs) {
  switch (value.type) {
    case 'i32':
      return Number(value.value) | 0;
    case 'i64':
      return BigInt.asIntN(64, BigInt(value.value));
    case 'f32':
      return f32FromBits(value.value);
    case 'f64':
      return f64FromBits(value.value);
    case 'externref':
      return value.value === null ? null : hostRefs.get(value.value);
    case 'funcref':
      return null;
    default:
      throw new Error(`cannot pass a ${value.type} from JS`);
  }
}

/** Whether a JS result matches an expectation (exact bits for floats; Object.is tells ±0). */
function matches(actual, expected, hostRefs) {
  switch (expected.type) {
    case 'i32':
      return typeof actual === 'number' && actual === (Number(expected.value) | 0);
    case 'i64':
      return typeof actual === 'bigint' && actual === BigInt.asIntN(64, BigInt(expected.value));
    case 'f32':
    case 'f64': {
      if (typeof actual !== 'number') return false;
      if (expected.value.startsWith('nan:')) return Number.isNaN(actual);
      if (expected.type === 'f32' && !Object.is(Math.fround(actual), actual)) return false;
      const want = expected.type === 'f32' ? f32FromBits(expected.value) : f64FromBits(expected.value);
      return Object.is(actual, want);
    }
    case 'ref.null':
      return actual === null;
    case 'externref':
      if (!('value' in expected)) return actual !== null && actual !== undefined;
      return expected.value === null ? actual === null : actual === hostRefs.get(expected.value);
    case 'funcref':
      return 'value' in expected ? actual === null : typeof actual === 'function';
    case 'either':
      return expected.value.some((e) => matches(actual, e, hostRefs));
    default:
      return false;
  }
}

/** A manifest value (argument or expectation) for messages. */
function describeExpected(value) {
  switch (value.type) {
    case 'i32':
    case 'i64':
      return `${value.type}:${value.value}`;
    case 'f32':
    case 'f64': {
      if (value.value.startsWith('nan:')) return `${value.type}:${value.value}`;
      const n = value.type === 'f32' ? f32FromBits(value.value) : f64FromBits(value.value);
      if (Number.isNaN(n)) return `${value.type}:nan (${hex(value.value, value.type === 'f32' ? 8 : 16)})`;
      return `${value.type}:${Object.is(n, -0) ? '-0' : n} (${hex(value.value, value.type === 'f32' ? 8 : 16)})`;
    }
    case 'v128':
      return `v128:${value.shape} ${value.value.join(' ')}`;
    case 'externref':
    case 'funcref':
      if (!('value' in value)) return `non-null ${value.type}`;
      return value.value === null ? `${value.type}:null` : `${value.type}:${value.value}`;
    case 'ref.null':
      return 'ref.null';
    case 'either':
      return `either(${value.value.map(describeExpected).join(', ')})`;
    default:
      return JSON.stringify(value);
  }
}

/** A JS result for messages. */
function describeActual(actual) {
  if (typeof actual === 'bigint') return `${actual}n`;
  if (typeof actual === 'number') return Object.is(actual, -0) ? '-0' : String(actual);
  if (typeof actual === 'function') return `function ${actual.name || '(anonymous)'}`;
  if (actual && typeof actual === 'object' && 'externref' in actual) return `externref:${actual.externref}`;
  if (Array.isArray(actual)) return `[${actual.map(describeActual).join(', ')}]`;
  try {
    return JSON.stringify(actual) ?? String(actual);
  } catch {
    return String(actual);
  }
}

/**
 * The raw bits a wrapper module stored for a result (at 16 * index in its memory), for messages.
 */
function describeStoredBits(view, offset, type) {
  switch (type) {
    case 'i32':
    case 'f32':
      return `${type} ${hex(view.getUint32(offset, true), 8)}`;
    case 'i64':
    case 'f64':
      return `${type} ${hex(view.getBigUint64(offset, true), 16)}`;
    case 'v128': {
      const lanes = [0, 4, 8, 12].map((i) => hex(view.getUint32(offset + i, true), 8));
      return `v128 i32x4 ${lanes.join(' ')}`;
    }
    default:
      return type;
  }
}

module.exports = { HostRefs, toJs, matches, describeExpected, describeActual, describeStoredBits };

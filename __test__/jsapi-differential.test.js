// The JS API, case by case, against Node's built-in WebAssembly: every constructor (Memory, Table,
// Global, Module, Instance) with good and bad descriptors and arguments, the order in which
// descriptor members are read and converted, every method, getter and setter with good and bad
// arguments, the prototypes' property descriptors, and every link check of instantiation (each
// import kind given each wrong kind of value, global types and mutability, memory and table
// limits and element types), then the exports object and the identity of re-exported imports.
//
// Each case is a function of a namespace W, run once on cranewasm and once on Node. Its outcome
// is reduced to plain data: the value it returned (objects of W by kind, functions by name and
// length), or the error it threw: the constructor's name, whether it is an instance of that class
// of the namespace (CompileError, LinkError, RuntimeError) or of this realm (the built-in
// errors), and the message. cranewasm's outcome must equal Node's. Each case also states what
// Node does ('ok' or an error class), so that a case that breaks on both (a typo in the test)
// cannot pass.
'use strict';

const { cranewasm, node } = require('./helpers/differential.js');
const { loadWabt, wat: assemble } = require('./helpers/execution.js');

beforeAll(loadWabt);

// The binary of a module in the text format, assembled once per text.
const binaries = new Map();
function wat(text) {
  if (!binaries.has(text)) binaries.set(text, assemble(text));
  return binaries.get(text);
}

function instantiate(W, text, imports) {
  return new W.Instance(new W.Module(wat(text)), imports).exports;
}

// ---------------------------------------------------------------------------------------------
// Outcomes
// ---------------------------------------------------------------------------------------------

const WASM_ERRORS = ['CompileError', 'LinkError', 'RuntimeError'];
const toStringTag = (value) => Object.prototype.toString.call(value);
const arrayBufferByteLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength').get;

// A value as plain data that jest compares (it tells -0 from 0 and compares NaN and BigInts).
// Objects of the namespace are described by kind, buffers by their length (they may belong to
// another realm, so no instanceof), other objects by their toStringTag.
function describeValue(W, value) {
  if (typeof value === 'symbol') return { symbol: value.description };
  if (typeof value === 'function') return { function: value.name, length: value.length };
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => describeValue(W, item));
  for (const kind of ['Module', 'Instance', 'Memory', 'Table', 'Global']) {
    if (value instanceof W[kind]) return { [kind]: toStringTag(value) };
  }
  if (toStringTag(value) === '[object ArrayBuffer]') {
    return { ArrayBuffer: Reflect.apply(arrayBufferByteLength, value, []) };
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype === Object.prototype || prototype === null) {
    const members = {};
    for (const key of Object.keys(value)) members[key] = describeValue(W, value[key]);
    return prototype === null ? { nullPrototype: members } : members;
  }
  return { object: toStringTag(value) };
}

// The class of an error, and whether it is an instance of the namespace's class of that name
// (WebAssembly errors) or of this realm's (the built-in errors), and its message. A message that
// quotes an exported function's source text names it "<exported function>": V8 prints
// "function 0() { [native code] }", cranewasm's exported functions are arrow-function wrappers
// (a known difference, see README.md).
function thrown(W, err) {
  if ((typeof err !== 'object' || err === null) && typeof err !== 'function') return { threw: `primitive ${typeof err}`, value: err };
  const name = err.constructor && err.constructor.name;
  let ownClass = false;
  if (WASM_ERRORS.includes(name)) ownClass = err instanceof W[name];
  else if (typeof globalThis[name] === 'function') ownClass = err instanceof globalThis[name];
  const message = typeof err.message === 'string'
    ? err.message.replace(/^Cannot convert (function \d+\(\) \{ \[native code\] \}|\(.*\) => f\(.*\)) to/, 'Cannot convert <exported function> to')
    : err.message;
  return { threw: name, ownClass, message };
}

function outcomeOf(W, body) {
  try {
    return { value: describeValue(W, body(W)) };
  } catch (err) {
    return thrown(W, err);
  }
}

async function asyncOutcomeOf(W, body) {
  try {
    return { value: describeValue(W, await body(W)) };
  } catch (err) {
    return thrown(W, err);
  }
}

// Runs a case on both namespaces. `expected` is what Node does: 'ok' or the error's class.
function expectSame(expected, body) {
  const theirs = outcomeOf(node, body);
  const ours = outcomeOf(cranewasm, body);
  expect(theirs.threw || 'ok').toBe(expected);
  if (theirs.threw) expect(theirs.ownClass).toBe(true);
  expect(ours).toEqual(theirs);
}

async function expectSameAsync(expected, body) {
  const theirs = await asyncOutcomeOf(node, body);
  const ours = await asyncOutcomeOf(cranewasm, body);
  expect(theirs.threw || 'ok').toBe(expected);
  if (theirs.threw) expect(theirs.ownClass).toBe(true);
  expect(ours).toEqual(theirs);
}

// `body(log)` with a log of side effects: returns the log and the outcome, whichever it is.
function traced(W, body) {
  const log = [];
  let result;
  try {
    result = { value: describeValue(W, body(log)) };
  } catch (err) {
    result = thrown(W, err);
  }
  return { log, result };
}

// A value whose conversions (valueOf, toString) are logged as `label`.
function convertible(log, label, value) {
  return {
    valueOf() { log.push(`valueOf ${label}`); return value; },
    toString() { log.push(`toString ${label}`); return String(value); },
  };
}

// A descriptor whose every Get is logged (and whose members are `members`). Memory and Table
// descriptors' `address` (memory64's AddressType: cranewasm reads it before the sizes, whose
// conversion it decides) is not logged: Node 20 has no memory64 and never reads it.
function loggedDescriptor(log, members) {
  return new Proxy(members, {
    get(target, key, receiver) {
      if (key !== 'address') log.push(`get ${String(key)}`);
      return Reflect.get(target, key, receiver);
    },
    has(target, key) {
      log.push(`has ${String(key)}`);
      return Reflect.has(target, key);
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Interface objects and prototypes
// ---------------------------------------------------------------------------------------------

const INTERFACES = ['Module', 'Instance', 'Memory', 'Table', 'Global'];

function describeFunctionShape(fn) {
  if (typeof fn !== 'function') return fn === undefined ? undefined : { notAFunction: typeof fn };
  let constructor = true;
  try {
    Reflect.construct(function () {}, [], fn);
  } catch {
    constructor = false;
  }
  return { name: fn.name, length: fn.length, ownKeys: Reflect.ownKeys(fn).map(String), constructor, hasPrototype: 'prototype' in fn };
}

function describeProperty(W, object, key) {
  const d = Object.getOwnPropertyDescriptor(object, key);
  if (d === undefined) return undefined;
  const attributes = { enumerable: d.enumerable, configurable: d.configurable };
  if ('value' in d) {
    const value = d.value === W[key] || (key === 'constructor' && INTERFACES.some((name) => d.value === W[name]))
      ? { interface: d.value.name } : typeof d.value === 'function' ? describeFunctionShape(d.value) : d.value;
    return { ...attributes, writable: d.writable, value };
  }
  return { ...attributes, get: describeFunctionShape(d.get), set: describeFunctionShape(d.set) };
}

const PROTOTYPE_CASES = [];
for (const name of INTERFACES) {
  for (const key of Reflect.ownKeys(node[name].prototype)) {
    PROTOTYPE_CASES.push([`${name}.prototype[${String(key)}]`, name, key, 'prototype']);
  }
  PROTOTYPE_CASES.push([`${name}.prototype own keys`, name, 'own keys', 'prototype']);
}
for (const name of ['Module']) {
  for (const key of ['imports', 'exports', 'customSections']) PROTOTYPE_CASES.push([`${name}.${key}`, name, key, 'static']);
}

describe('interface objects and prototypes', () => {
  test.each(PROTOTYPE_CASES)('%s: the descriptor of Node', (_, name, key, where) => {
    expectSame('ok', (W) => {
      if (where === 'static') return describeProperty(W, W[name], key);
      if (key === 'own keys') return Reflect.ownKeys(W[name].prototype).map(String);
      return describeProperty(W, W[name].prototype, key);
    });
  });

  test.each(INTERFACES)('%s: the interface object\'s own properties', (name) => {
    expectSame('ok', (W) => [describeFunctionShape(W[name]), ...['length', 'name', 'prototype', 'arguments', 'caller']
      .map((key) => [key, Object.getOwnPropertyDescriptor(W[name], key) && describeProperty(W, W[name], key).writable])]);
  });

  test.each(INTERFACES)('%s: called without new', (name) => {
    expectSame('TypeError', (W) => W[name]({ initial: 1, element: 'anyfunc', value: 'i32' }));
  });

  test.each(INTERFACES)('%s: toStringTag of the prototype and of Object.prototype.toString', (name) => {
    expectSame('ok', (W) => [W[name].prototype[Symbol.toStringTag], toStringTag(W[name].prototype)]);
  });
});

// ---------------------------------------------------------------------------------------------
// WebAssembly.Memory
// ---------------------------------------------------------------------------------------------

// What a Memory is after construction: its buffer, and what a grow by 1 does.
function memorySummary(memory) {
  const buffer = memory.buffer;
  const summary = { tag: toStringTag(memory), byteLength: buffer.byteLength, sameBuffer: memory.buffer === buffer };
  let grow;
  try {
    grow = memory.grow(1);
  } catch (err) {
    grow = `${err.constructor.name}: ${err.message}`;
  }
  return { ...summary, grow, oldByteLength: buffer.byteLength, newByteLength: memory.buffer.byteLength };
}

const throwing = (ErrorClass, message) => ({ valueOf() { throw new ErrorClass(message); } });

describe('new Memory(descriptor)', () => {
  test.each([
    ['no argument', 'TypeError', []],
    ['undefined', 'TypeError', [undefined]],
    ['null', 'TypeError', [null]],
    ['a number', 'TypeError', [1]],
    ['a string', 'TypeError', ['initial']],
    ['a boolean', 'TypeError', [true]],
    ['a Symbol', 'TypeError', [Symbol('descriptor')]],
    ['a BigInt', 'TypeError', [1n]],
    ['an empty object', 'TypeError', [{}]],
    ['an array', 'TypeError', [[1]]],
    ['a function with initial', 'ok', [Object.assign(function descriptor() {}, { initial: 1 })]],
    ['initial 0', 'ok', [{ initial: 0 }]],
    ['initial 1', 'ok', [{ initial: 1 }]],
    ['initial 1, extra arguments', 'ok', [{ initial: 1 }, 'extra', 5]],
    ['initial undefined', 'TypeError', [{ initial: undefined }]],
    ['initial null', 'ok', [{ initial: null }]],
    ['initial false', 'ok', [{ initial: false }]],
    ['initial "3"', 'ok', [{ initial: '3' }]],
    ['initial " 0x2 "', 'ok', [{ initial: ' 0x2 ' }]],
    ['initial "one"', 'TypeError', [{ initial: 'one' }]],
    ['initial [2]', 'ok', [{ initial: [2] }]],
    ['initial [1, 2]', 'TypeError', [{ initial: [1, 2] }]],
    ['initial 2.999', 'ok', [{ initial: 2.999 }]],
    ['initial -0', 'ok', [{ initial: -0 }]],
    ['initial -0.1', 'TypeError', [{ initial: -0.1 }]],
    ['initial -1', 'TypeError', [{ initial: -1 }]],
    ['initial NaN', 'TypeError', [{ initial: NaN }]],
    ['initial Infinity', 'TypeError', [{ initial: Infinity }]],
    ['initial 1n', 'TypeError', [{ initial: 1n }]],
    ['initial a Symbol', 'TypeError', [{ initial: Symbol('initial') }]],
    ['initial 65536', 'ok', [{ initial: 65536 }]],
    ['initial 65536.5', 'ok', [{ initial: 65536.5 }]],
    ['initial 65537', 'RangeError', [{ initial: 65537 }]],
    ['initial 2^31', 'RangeError', [{ initial: 2 ** 31 }]],
    ['initial 2^32 - 1', 'RangeError', [{ initial: 2 ** 32 - 1 }]],
    ['initial 2^32', 'TypeError', [{ initial: 2 ** 32 }]],
    ['initial 2^53', 'TypeError', [{ initial: 2 ** 53 }]],
    ['initial an object with valueOf', 'ok', [{ initial: { valueOf: () => 2 } }]],
    ['initial an object with toString only', 'ok', [{ initial: { toString: () => '2' } }]],
    ['initial a valueOf returning an object', 'TypeError', [{ initial: { valueOf: () => ({}), toString: () => ({}) } }]],
    ['initial a throwing valueOf', 'EvalError', [{ initial: throwing(EvalError, 'initial') }]],
    ['initial inherited', 'ok', [Object.create({ initial: 1 })]],
    ['maximum only', 'TypeError', [{ maximum: 1 }]],
    ['minimum only (not read by Node 20)', 'TypeError', [{ minimum: 1 }]],
    ['maximum equal to initial', 'ok', [{ initial: 2, maximum: 2 }]],
    ['maximum above initial', 'ok', [{ initial: 1, maximum: 3 }]],
    ['maximum below initial', 'RangeError', [{ initial: 2, maximum: 1 }]],
    ['maximum 1.5, initial 1.9 (both truncate to 1)', 'ok', [{ initial: 1.9, maximum: 1.5 }]],
    ['maximum 0, initial 0', 'ok', [{ initial: 0, maximum: 0 }]],
    ['maximum undefined', 'ok', [{ initial: 1, maximum: undefined }]],
    ['maximum null', 'RangeError', [{ initial: 1, maximum: null }]],
    ['maximum "4"', 'ok', [{ initial: 1, maximum: '4' }]],
    ['maximum -1', 'TypeError', [{ initial: 1, maximum: -1 }]],
    ['maximum NaN', 'TypeError', [{ initial: 1, maximum: NaN }]],
    ['maximum 65536', 'ok', [{ initial: 0, maximum: 65536 }]],
    ['maximum 65537', 'RangeError', [{ initial: 0, maximum: 65537 }]],
    ['maximum 2^32', 'TypeError', [{ initial: 0, maximum: 2 ** 32 }]],
    ['maximum 1n', 'TypeError', [{ initial: 0, maximum: 1n }]],
    ['maximum below initial, both out of range', 'RangeError', [{ initial: 70000, maximum: 1 }]],
    ['a bad initial and a throwing maximum (initial first)', 'TypeError', [{ initial: -1, maximum: throwing(URIError, 'maximum') }]],
    ['a good initial and a throwing maximum', 'URIError', [{ initial: 1, maximum: throwing(URIError, 'maximum') }]],
    ['shared without maximum', 'TypeError', [{ initial: 1, shared: true }]],
    ['shared "yes" without maximum (ToBoolean)', 'TypeError', [{ initial: 1, shared: 'yes' }]],
    ['shared false', 'ok', [{ initial: 1, maximum: 2, shared: false }]],
    ['shared 0', 'ok', [{ initial: 1, shared: 0 }]],
    ['shared "" with maximum', 'ok', [{ initial: 1, maximum: 1, shared: '' }]],
    ['shared without maximum, initial out of range (initial first)', 'RangeError', [{ initial: 70000, shared: true }]],
    ['index "i64" (not read by Node 20)', 'ok', [{ initial: 1, index: 'i64' }]],
    ['index "i32"', 'ok', [{ initial: 1, index: 'i32' }]],
    ['index only', 'TypeError', [{ index: 'i32' }]],
    ['a throwing initial getter', 'SyntaxError', [{ get initial() { throw new SyntaxError('initial'); } }]],
    ['a throwing shared getter', 'URIError', [{ initial: 1, get shared() { throw new URIError('shared'); } }]],
  ])('%s (%s in Node)', (_, expected, args) => {
    expectSame(expected, (W) => memorySummary(new W.Memory(...args)));
  });

  test('shared with maximum: a shared memory (a SharedArrayBuffer that stays valid after growth)', () => {
    expectSame('ok', (W) => memorySummary(new W.Memory({ initial: 1, maximum: 2, shared: true })));
  });

  test.each([
    ['initial, maximum, shared', { initial: 1, maximum: 2, shared: false }],
    ['an initial that is out of range stops the reads', { initial: 70000, maximum: 2, shared: false }],
    ['no initial stops the reads', { maximum: 2 }],
    ['maximum below initial', { initial: 3, maximum: 2 }],
    ['extra members', { initial: 1, minimum: 1, index: 'i32', element: 'anyfunc', value: 'i32' }],
  ])('members are read and converted in Node\'s order: %s', (_, members) => {
    const run = (W) => traced(W, (log) => {
      const converted = {};
      for (const [key, value] of Object.entries(members)) {
        converted[key] = typeof value === 'number' ? convertible(log, key, value) : value;
      }
      return memorySummary(new W.Memory(loggedDescriptor(log, converted)));
    });
    const ours = run(cranewasm);
    const theirs = run(node);
    expect(theirs.log.length).toBeGreaterThan(0);
    expect(ours).toEqual(theirs);
  });

  test('getters of the descriptor run once each, in Node\'s order', () => {
    const run = (W) => traced(W, (log) => {
      const descriptor = {};
      for (const key of ['shared', 'maximum', 'initial', 'index', 'minimum']) {
        Object.defineProperty(descriptor, key, {
          get() { log.push(key); return key === 'initial' ? 1 : key === 'maximum' ? 2 : undefined; },
          enumerable: true,
        });
      }
      return memorySummary(new W.Memory(descriptor));
    });
    const theirs = run(node);
    expect(theirs.log).toContain('initial');
    expect(run(cranewasm)).toEqual(theirs);
  });
});

describe('Memory.prototype.grow and buffer', () => {
  test.each([
    ['grow(0) returns the size', 'ok', { initial: 1 }, (m) => m.grow(0)],
    ['grow(1) returns the old size', 'ok', { initial: 2, maximum: 4 }, (m) => [m.grow(1), m.grow(1), m.buffer.byteLength]],
    ['grow() (undefined is NaN)', 'TypeError', { initial: 1 }, (m) => m.grow()],
    ['grow(-1)', 'TypeError', { initial: 1 }, (m) => m.grow(-1)],
    ['grow(-0)', 'ok', { initial: 1 }, (m) => m.grow(-0)],
    ['grow(0.9)', 'ok', { initial: 1 }, (m) => [m.grow(0.9), m.buffer.byteLength]],
    ['grow(NaN)', 'TypeError', { initial: 1 }, (m) => m.grow(NaN)],
    ['grow(Infinity)', 'TypeError', { initial: 1 }, (m) => m.grow(Infinity)],
    ['grow("1")', 'ok', { initial: 1 }, (m) => m.grow('1')],
    ['grow(1n)', 'TypeError', { initial: 1 }, (m) => m.grow(1n)],
    ['grow(a Symbol)', 'TypeError', { initial: 1 }, (m) => m.grow(Symbol('delta'))],
    ['grow(2^32)', 'TypeError', { initial: 1 }, (m) => m.grow(2 ** 32)],
    ['grow(2^32 - 1)', 'RangeError', { initial: 1 }, (m) => m.grow(2 ** 32 - 1)],
    ['grow(a throwing valueOf)', 'SyntaxError', { initial: 1 }, (m) => m.grow(throwing(SyntaxError, 'delta'))],
    ['grow past the maximum', 'RangeError', { initial: 1, maximum: 2 }, (m) => m.grow(2)],
    ['grow to the maximum, then past it', 'RangeError', { initial: 1, maximum: 2 }, (m) => [m.grow(1), m.grow(1)]],
    ['grow past 65536 pages without a maximum', 'RangeError', { initial: 1 }, (m) => m.grow(65536)],
    ['grow of a memory with maximum 0', 'RangeError', { initial: 0, maximum: 0 }, (m) => m.grow(1)],
    ['a failed grow keeps the buffer and its size', 'ok', { initial: 1, maximum: 1 }, (m) => {
      const old = m.buffer;
      let error;
      try {
        m.grow(1);
      } catch (err) {
        error = err.constructor.name;
      }
      return [error, old === m.buffer, old.byteLength, m.buffer.byteLength];
    }],
    ['grow(1) detaches the old buffer', 'ok', { initial: 1, maximum: 3 }, (m) => {
      const old = m.buffer;
      const result = m.grow(1);
      return [result, old.byteLength, old === m.buffer, m.buffer.byteLength, m.buffer === m.buffer];
    }],
    ['grow(0) detaches the old buffer too', 'ok', { initial: 1 }, (m) => {
      const old = m.buffer;
      const result = m.grow(0);
      return [result, old.byteLength, old === m.buffer, m.buffer.byteLength];
    }],
    ['grow(0) of an empty memory', 'ok', { initial: 0 }, (m) => {
      const old = m.buffer;
      return [m.grow(0), old.byteLength, old === m.buffer, m.buffer.byteLength];
    }],
    ['a view of a detached buffer is empty', 'ok', { initial: 1 }, (m) => {
      const view = new Uint8Array(m.buffer);
      m.grow(1);
      return [view.length, view.byteLength, new Uint8Array(m.buffer).length];
    }],
    ['the buffer is the same object until a grow', 'ok', { initial: 1 }, (m) => [m.buffer === m.buffer, m.buffer.byteLength]],
    ['bytes survive a grow', 'ok', { initial: 1, maximum: 2 }, (m) => {
      new Uint8Array(m.buffer).set([1, 2, 3], 65533);
      m.grow(1);
      return [...new Uint8Array(m.buffer, 65533, 5)];
    }],
    // (Which realm's ArrayBuffer.prototype it has depends on jest's vm context: not compared.)
    ['the buffer is an ArrayBuffer', 'ok', { initial: 1 }, (m) => [toStringTag(m.buffer), ArrayBuffer.isView(m.buffer)]],
    ['the buffer is not resizable', 'ok', { initial: 1 }, (m) => [m.buffer.resizable, m.buffer.maxByteLength]],
    ['structuredClone with transfer copies the buffer and leaves it attached', 'ok', { initial: 1 }, (m) => {
      const old = m.buffer;
      new Uint8Array(old)[3] = 5;
      const copy = structuredClone(old, { transfer: [old] });
      new Uint8Array(old)[3] = 6;
      return [copy === old, copy.byteLength, new Uint8Array(copy)[3], old.byteLength, m.buffer === old, new Uint8Array(m.buffer)[3]];
    }],
    ['the buffer is extensible and has no own properties', 'ok', { initial: 1 }, (m) => [
      Object.isExtensible(m.buffer), Object.isFrozen(m.buffer), Reflect.ownKeys(m.buffer),
    ]],
    ['slice copies', 'ok', { initial: 1 }, (m) => {
      new Uint8Array(m.buffer)[1] = 7;
      return [...new Uint8Array(m.buffer.slice(0, 3))];
    }],
    ['buffer cannot be assigned', 'ok', { initial: 1 }, (m) => [Reflect.set(m, 'buffer', 1), m.buffer.byteLength]],
    ['buffer cannot be assigned (strict mode)', 'TypeError', { initial: 1 }, (m) => {
      m.buffer = 1;
    }],
    ['the grow argument is converted once', 'ok', { initial: 1 }, (m) => {
      let calls = 0;
      m.grow({ valueOf: () => { calls += 1; return 1; } });
      return calls;
    }],
  ])('%s (%s in Node)', (label, expected, descriptor, body) => {
    // V8 names the receiver by its constructor in the message of an assignment to a getter-only
    // property; see the failing test below.
    const check = label === 'buffer cannot be assigned (strict mode)' ? (W) => {
      try {
        body(new W.Memory(descriptor));
      } catch (err) {
        if (!(err instanceof TypeError)) throw err;
        throw new TypeError('assignment to a getter-only property');
      }
    } : (W) => body(new W.Memory(descriptor));
    expectSame(expected, check);
  });

  // The interface objects are bound functions (so that their own properties come in V8's
  // order), and V8 names an object by its prototype's `constructor` in this message: for a
  // bound function "bound <target name>". Only a sloppy-mode constructor made from a string
  // (new Function) would be named "Memory".
  test.failing('the message of an assignment to buffer in strict mode names the Memory', () => {
    expectSame('TypeError', (W) => {
      new W.Memory({ initial: 1 }).buffer = 1;
    });
  });
});

// ---------------------------------------------------------------------------------------------
// WebAssembly.Table
// ---------------------------------------------------------------------------------------------

// Two exported wasm functions, f (returns 7) and g (returns 8), of a new instance.
const FUNCTIONS = `(module
  (func (export "f") (result i32) (i32.const 7))
  (func (export "g") (param i32) (result i32) (i32.const 8)))`;
const wasmFunctions = (W) => instantiate(W, FUNCTIONS);

// The length and every element of a table (functions are called, to tell them apart).
function tableState(table) {
  const elements = [];
  for (let i = 0; i < table.length; i++) {
    const element = table.get(i);
    elements.push(typeof element === 'function' ? { wasm: element.name, result: element(0) } : element);
  }
  return { length: table.length, elements };
}

const TABLE_VALUES = {
  'no value': () => [],
  undefined: () => [undefined],
  null: () => [null],
  0: () => [0],
  'a string': () => ['anyfunc'],
  'an object': () => [{ an: 'object' }],
  'a Symbol': () => [Symbol.for('table value')],
  'a JS function': () => [function notWasm() { return 1; }],
  'an arrow function': () => [() => 1],
  'a bound wasm function': (W) => [wasmFunctions(W).f.bind(null)],
  'a wasm function': (W) => [wasmFunctions(W).f],
  'a WebAssembly.Global': (W) => [new W.Global({ value: 'i32' }, 1)],
};

describe('new Table(descriptor, value)', () => {
  test.each([
    ['no argument', 'TypeError', []],
    ['undefined', 'TypeError', [undefined]],
    ['null', 'TypeError', [null]],
    ['a number', 'TypeError', [1]],
    ['a string', 'TypeError', ['anyfunc']],
    ['an empty object', 'TypeError', [{}]],
    ['element anyfunc', 'ok', [{ element: 'anyfunc', initial: 2 }]],
    ['element funcref (not accepted by Node 20)', 'TypeError', [{ element: 'funcref', initial: 2 }]],
    ['element externref', 'ok', [{ element: 'externref', initial: 2 }]],
    ['element anyref', 'TypeError', [{ element: 'anyref', initial: 1 }]],
    ['element i32', 'TypeError', [{ element: 'i32', initial: 1 }]],
    ['element "ANYFUNC"', 'TypeError', [{ element: 'ANYFUNC', initial: 1 }]],
    ['element " anyfunc"', 'TypeError', [{ element: ' anyfunc', initial: 1 }]],
    ['element undefined', 'TypeError', [{ initial: 1 }]],
    ['element null', 'TypeError', [{ element: null, initial: 1 }]],
    ['element an object converting to "externref"', 'ok', [{ element: { toString: () => 'externref' }, initial: 1 }]],
    ['element ["anyfunc"]', 'ok', [{ element: ['anyfunc'], initial: 1 }]],
    ['element a Symbol', 'TypeError', [{ element: Symbol('anyfunc'), initial: 1 }]],
    ['element a throwing toString', 'RangeError', [{ element: { toString() { throw new RangeError('element'); } }, initial: 1 }]],
    ['a bad element and a bad initial (element first)', 'TypeError', [{ element: 'x', initial: -1 }]],
    ['no initial', 'TypeError', [{ element: 'anyfunc' }]],
    ['initial undefined', 'TypeError', [{ element: 'anyfunc', initial: undefined }]],
    ['minimum only (not read by Node 20)', 'TypeError', [{ element: 'anyfunc', minimum: 1 }]],
    ['initial 0', 'ok', [{ element: 'anyfunc', initial: 0 }]],
    ['initial "2"', 'ok', [{ element: 'anyfunc', initial: '2' }]],
    ['initial 1.7', 'ok', [{ element: 'anyfunc', initial: 1.7 }]],
    ['initial -1', 'TypeError', [{ element: 'anyfunc', initial: -1 }]],
    ['initial -0.5', 'TypeError', [{ element: 'anyfunc', initial: -0.5 }]],
    ['initial NaN', 'TypeError', [{ element: 'anyfunc', initial: NaN }]],
    ['initial Infinity', 'TypeError', [{ element: 'anyfunc', initial: Infinity }]],
    ['initial 1n', 'TypeError', [{ element: 'anyfunc', initial: 1n }]],
    ['initial 10000001', 'RangeError', [{ element: 'anyfunc', initial: 10000001 }]],
    ['initial 2^32 - 1', 'RangeError', [{ element: 'externref', initial: 2 ** 32 - 1 }]],
    ['initial 2^32', 'TypeError', [{ element: 'anyfunc', initial: 2 ** 32 }]],
    ['maximum equal to initial', 'ok', [{ element: 'anyfunc', initial: 2, maximum: 2 }]],
    ['maximum below initial', 'RangeError', [{ element: 'anyfunc', initial: 2, maximum: 1 }]],
    ['maximum null (0) below initial 1', 'RangeError', [{ element: 'anyfunc', initial: 1, maximum: null }]],
    ['maximum undefined', 'ok', [{ element: 'anyfunc', initial: 1, maximum: undefined }]],
    ['maximum 2^32 - 1', 'ok', [{ element: 'anyfunc', initial: 1, maximum: 2 ** 32 - 1 }]],
    ['maximum 2^32', 'TypeError', [{ element: 'anyfunc', initial: 1, maximum: 2 ** 32 }]],
    ['maximum -1', 'TypeError', [{ element: 'anyfunc', initial: 1, maximum: -1 }]],
    ['maximum NaN', 'TypeError', [{ element: 'anyfunc', initial: 1, maximum: NaN }]],
    ['initial and maximum objects with valueOf', 'ok', [{ element: 'anyfunc', initial: { valueOf: () => 1 }, maximum: { valueOf: () => 3 } }]],
    ['a throwing initial getter', 'EvalError', [{ element: 'anyfunc', get initial() { throw new EvalError('initial'); } }]],
    ['index "i64" (not read by Node 20)', 'ok', [{ element: 'anyfunc', initial: 1, index: 'i64' }]],
  ])('%s (%s in Node)', (_, expected, args) => {
    expectSame(expected, (W) => tableState(new W.Table(...args)));
  });

  const valueCases = [];
  for (const element of ['anyfunc', 'externref']) {
    for (const value of Object.keys(TABLE_VALUES)) {
      const ok = element === 'externref' || ['no value', 'undefined', 'null', 'a wasm function'].includes(value);
      valueCases.push([element, value, ok ? 'ok' : 'TypeError']);
    }
  }

  test.each(valueCases)('an %s table of 2 with %s (%s in Node)', (element, value, expected) => {
    expectSame(expected, (W) => {
      const args = TABLE_VALUES[value](W);
      const table = new W.Table({ element, initial: 2, maximum: 5 }, ...args);
      return [tableState(table), args.length > 0 && table.get(0) === args[0], table.get(0) === table.get(1)];
    });
  });

  test.each(['anyfunc', 'externref'])('an empty %s table does not convert its value argument', (element) => {
    expectSame('ok', (W) => {
      const log = [];
      const table = new W.Table({ element, initial: 0 }, { valueOf() { log.push('valueOf'); return 1; } });
      return [tableState(table), log];
    });
  });

  test.each([
    ['element, initial, maximum', { element: 'anyfunc', initial: 1, maximum: 2 }],
    ['externref', { element: 'externref', initial: 1 }],
    ['a bad element stops the reads', { element: 'x', initial: 1, maximum: 2 }],
    ['a bad initial stops the reads', { element: 'anyfunc', initial: 2 ** 33, maximum: 2 }],
    ['maximum below initial', { element: 'anyfunc', initial: 3, maximum: 2 }],
  ])('members and the value are read and converted in Node\'s order: %s', (_, members) => {
    const run = (W) => traced(W, (log) => {
      const converted = {};
      for (const [key, value] of Object.entries(members)) converted[key] = convertible(log, key, value);
      return tableState(new W.Table(loggedDescriptor(log, converted), convertible(log, 'value', 1)));
    });
    const theirs = run(node);
    expect(theirs.log.length).toBeGreaterThan(0);
    expect(run(cranewasm)).toEqual(theirs);
  });
});

// Table methods: `[label, expected in Node, element, body(table, W)]` on a table of 3 elements
// with maximum 5; the externref table is full of `REF`, the anyfunc table of f.
const REF = { the: 'reference' };
const newTable = (W, element) => (element === 'anyfunc'
  ? new W.Table({ element, initial: 3, maximum: 5 }, wasmFunctions(W).f)
  : new W.Table({ element, initial: 3, maximum: 5 }, REF));

const INDICES = [
  ['0', 0, 'ok'], ['2 (the last)', 2, 'ok'], ['3 (the length)', 3, 'RangeError'], ['-1', -1, 'TypeError'],
  ['-0', -0, 'ok'], ['-0.5', -0.5, 'TypeError'], ['1.9', 1.9, 'ok'], ['NaN', NaN, 'TypeError'],
  ['Infinity', Infinity, 'TypeError'], ['"1"', '1', 'ok'], ['"x"', 'x', 'TypeError'], ['null', null, 'ok'],
  ['undefined', undefined, 'TypeError'], ['true', true, 'ok'], ['1n', 1n, 'TypeError'], ['a Symbol', Symbol('i'), 'TypeError'],
  ['{ valueOf: 1 }', { valueOf: () => 1 }, 'ok'], ['2^32 - 1', 2 ** 32 - 1, 'RangeError'], ['2^32', 2 ** 32, 'TypeError'],
  ['2^53', 2 ** 53, 'TypeError'], ['a throwing valueOf', { valueOf() { throw new SyntaxError('index'); } }, 'SyntaxError'],
];

describe('Table.prototype.get, set, grow and length', () => {
  const cases = [];
  for (const element of ['anyfunc', 'externref']) {
    for (const [label, index, expected] of INDICES) {
      cases.push([`get(${label})`, expected, element, (t) => t.get(index)]);
      cases.push([`set(${label}, null)`, expected, element, (t) => [t.set(index, null), tableState(t)]]);
      const growExpected = { 3: 'ok', '2^32 - 1': 'RangeError' }[label.split(' ')[0]] || expected;
      cases.push([`grow(${label})`, label.startsWith('3 ') ? 'RangeError' : growExpected, element, (t) => [t.grow(index), tableState(t)]]);
    }
    cases.push(
      ['get() without an argument', 'TypeError', element, (t) => t.get()],
      ['set() without an argument', 'TypeError', element, (t) => t.set()],
      ['set(0) without a value: the default', 'ok', element, (t) => [t.set(0), tableState(t)]],
      ['set(0, undefined)', element === 'anyfunc' ? 'TypeError' : 'ok', element, (t) => [t.set(0, undefined), tableState(t)]],
      ['grow() without an argument', 'TypeError', element, (t) => t.grow()],
      ['grow(1) without a value: the default', 'ok', element, (t) => [t.grow(1), tableState(t)]],
      ['grow(1, undefined)', 'ok', element, (t) => [t.grow(1, undefined), tableState(t)]],
      ['grow(1, null)', 'ok', element, (t) => [t.grow(1, null), tableState(t)]],
      ['grow(2) to the maximum', 'ok', element, (t) => [t.grow(2), tableState(t)]],
      ['grow(3) past the maximum', 'RangeError', element, (t) => t.grow(3)],
      ['grow(0)', 'ok', element, (t) => [t.grow(0), tableState(t)]],
      ['grow(0, a JS function)', element === 'anyfunc' ? 'TypeError' : 'ok', element, (t) => [t.grow(0, () => 1), tableState(t)]],
      // V8 converts the value before it tries to grow.
      ['grow past the maximum with a bad value', element === 'anyfunc' ? 'TypeError' : 'RangeError', element, (t) => t.grow(9, () => 1)],
      ['set out of range with a bad value (the index first)', 'RangeError', element, (t) => t.set(9, () => 1)],
      ['grow(1, a wasm function of another instance)', 'ok', element, (t, W) => {
        const { g } = wasmFunctions(W);
        return [t.grow(1, g), t.get(3) === g, tableState(t)];
      }],
      ['set(1, a wasm function)', 'ok', element, (t, W) => {
        const { g } = wasmFunctions(W);
        t.set(1, g);
        return [t.get(1) === g, tableState(t)];
      }],
      ['length is a getter of the prototype', 'ok', element, (t) => [t.length, Object.getOwnPropertyNames(t)]],
      ['length cannot be assigned', 'ok', element, (t) => [Reflect.set(t, 'length', 10), t.length]],
      ['the index is converted before the value', 'ok', element, (t) => {
        const log = [];
        t.set(convertible(log, 'index', 1), element === 'externref' ? convertible(log, 'value', 1) : null);
        return log;
      }],
      ['the delta is converted once, then the value checked', 'TypeError', element, (t) => {
        const log = [];
        try {
          t.grow(convertible(log, 'delta', 1), 'not a function');
        } finally {
          if (element === 'externref') throw new TypeError(log.join());
        }
      }],
    );
    for (const value of Object.keys(TABLE_VALUES)) {
      if (value === 'no value') continue;
      const ok = element === 'externref' || ['null', 'a wasm function'].includes(value);
      cases.push([`set(1, ${value})`, ok ? 'ok' : 'TypeError', element, (t, W) => {
        const [v] = TABLE_VALUES[value](W);
        t.set(1, v);
        return [t.get(1) === v, tableState(t)];
      }]);
      const growOk = ok || value === 'undefined';
      cases.push([`grow(1, ${value})`, growOk ? 'ok' : 'TypeError', element, (t, W) => {
        const [v] = TABLE_VALUES[value](W);
        return [t.grow(1, v), t.get(3) === v, tableState(t)];
      }]);
    }
  }

  test.each(cases)('%s (%s in Node) on an %s table', (_, expected, element, body) => {
    expectSame(expected, (W) => body(newTable(W, element), W));
  });

  test.each(['anyfunc', 'externref'])('a %s table grown past 10,000,000 elements', (element) => {
    expectSame('RangeError', (W) => new W.Table({ element, initial: 1 }).grow(10000000));
  });

  test.each(['anyfunc', 'externref'])('a %s table grown to 10,000,000 elements', (element) => {
    expectSame('ok', (W) => {
      const table = new W.Table({ element, initial: 0 });
      return [table.grow(10000000), table.length, table.get(9999999)];
    });
  });
});

// ---------------------------------------------------------------------------------------------
// WebAssembly.Global
// ---------------------------------------------------------------------------------------------

// What a Global is: its value through the getter and valueOf (wasm functions are called).
function globalState(global) {
  const read = (value) => (typeof value === 'function' ? { wasm: value.name, result: value(0) } : value);
  return { tag: toStringTag(global), value: read(global.value), valueOf: read(global.valueOf()) };
}

const TYPES = ['i32', 'i64', 'f32', 'f64', 'externref', 'anyfunc'];

// Values for a Global's value argument and setter, with what Node does with each for each type
// (ok, or the error class). `undefined` as a constructor argument is the default of a numeric
// type but is converted for a reference type; the setter always converts.
const T = 'TypeError';
const GLOBAL_VALUES = [
  ['0', () => 0, { i64: T, anyfunc: T }],
  ['-0', () => -0, { i64: T, anyfunc: T }],
  ['1.5', () => 1.5, { i64: T, anyfunc: T }],
  ['-1.5', () => -1.5, { i64: T, anyfunc: T }],
  ['2^31', () => 2 ** 31, { i64: T, anyfunc: T }],
  ['2^32 + 3', () => 2 ** 32 + 3, { i64: T, anyfunc: T }],
  ['-(2^31) - 1', () => -(2 ** 31) - 1, { i64: T, anyfunc: T }],
  ['0.1 (rounds as an f32)', () => 0.1, { i64: T, anyfunc: T }],
  ['16777217 (not an f32)', () => 16777217, { i64: T, anyfunc: T }],
  ['2^128 (Infinity as an f32)', () => 2 ** 128, { i64: T, anyfunc: T }],
  ['3.4028235677973366e38 (rounds down to the largest f32)', () => 3.4028235677973366e38, { i64: T, anyfunc: T }],
  ['2^-149 (the smallest f32 subnormal)', () => 2 ** -149, { i64: T, anyfunc: T }],
  ['2^-150 (rounds to 0 as an f32)', () => 2 ** -150, { i64: T, anyfunc: T }],
  ['-(2^-150) (rounds to -0 as an f32)', () => -(2 ** -150), { i64: T, anyfunc: T }],
  ['Number.MAX_VALUE', () => Number.MAX_VALUE, { i64: T, anyfunc: T }],
  ['NaN', () => NaN, { i64: T, anyfunc: T }],
  ['-Infinity', () => -Infinity, { i64: T, anyfunc: T }],
  ['5n', () => 5n, { i32: T, f32: T, f64: T, anyfunc: T }],
  ['-1n', () => -1n, { i32: T, f32: T, f64: T, anyfunc: T }],
  ['2^63 as a BigInt (wraps)', () => 2n ** 63n, { i32: T, f32: T, f64: T, anyfunc: T }],
  ['2^64 + 7 as a BigInt (wraps)', () => 2n ** 64n + 7n, { i32: T, f32: T, f64: T, anyfunc: T }],
  ['-(2^64) - 1 as a BigInt (wraps)', () => -(2n ** 64n) - 1n, { i32: T, f32: T, f64: T, anyfunc: T }],
  ['"12"', () => '12', { anyfunc: T }],
  ['" 0x1F "', () => ' 0x1F ', { anyfunc: T }],
  ['"1.5"', () => '1.5', { i64: 'SyntaxError', anyfunc: T }],
  ['"x"', () => 'x', { i64: 'SyntaxError', anyfunc: T }],
  ['""', () => '', { anyfunc: T }],
  ['true', () => true, { anyfunc: T }],
  ['false', () => false, { anyfunc: T }],
  ['null', () => null, { i64: T }],
  ['undefined', () => undefined, { i64: 'default', anyfunc: T }],
  ['a Symbol', () => Symbol('v'), { i32: T, i64: T, f32: T, f64: T, anyfunc: T }],
  ['an object', () => ({ an: 'object' }), { i64: 'SyntaxError', anyfunc: T }],
  ['an object with valueOf 3', () => ({ valueOf: () => 3 }), { i64: T, anyfunc: T }],
  ['an object with valueOf 3n', () => ({ valueOf: () => 3n }), { i32: T, f32: T, f64: T, anyfunc: T }],
  ['an object with a throwing valueOf', () => ({ valueOf() { throw new URIError('valueOf'); } }), {
    i32: 'URIError', i64: 'URIError', f32: 'URIError', f64: 'URIError', anyfunc: T,
  }],
  ['a JS function', () => function js() { return 1; }, { i64: 'SyntaxError', anyfunc: T }],
  ['a wasm function', (W) => wasmFunctions(W).f, { i64: 'SyntaxError', anyfunc: 'ok' }],
  ['a WebAssembly.Global (valueOf gives a Number)', (W) => new W.Global({ value: 'i32' }, 4), { i64: T, anyfunc: T }],
];

describe('new Global(descriptor, value)', () => {
  test.each([
    ['no argument', 'TypeError', []],
    ['undefined', 'TypeError', [undefined]],
    ['null', 'TypeError', [null]],
    ['a string', 'TypeError', ['i32']],
    ['a number', 'TypeError', [1]],
    ['an empty object', 'TypeError', [{}]],
    ['mutable only', 'TypeError', [{ mutable: true }]],
    ['value v128', 'TypeError', [{ value: 'v128' }]],
    ['value v128, mutable', 'TypeError', [{ value: 'v128', mutable: true }, 0]],
    ['value funcref (not accepted by Node 20)', 'TypeError', [{ value: 'funcref' }]],
    ['value anyref', 'TypeError', [{ value: 'anyref' }]],
    ['value "I32"', 'TypeError', [{ value: 'I32' }]],
    ['value "i32 "', 'TypeError', [{ value: 'i32 ' }]],
    ['value null', 'TypeError', [{ value: null }]],
    ['value a Symbol', 'TypeError', [{ value: Symbol('i32') }]],
    ['value an object converting to "f64"', 'ok', [{ value: { toString: () => 'f64' } }, 2.5]],
    ['value ["i64"]', 'ok', [{ value: ['i64'] }, 3n]],
    ['a function descriptor', 'ok', [Object.assign(function descriptor() {}, { value: 'i32' }), 5]],
    ['an inherited value', 'ok', [Object.create({ value: 'f32' }), 1.1]],
    ['mutable "yes" (ToBoolean)', 'ok', [{ value: 'i32', mutable: 'yes' }, 1]],
    ['mutable 0 (ToBoolean)', 'ok', [{ value: 'i32', mutable: 0 }, 1]],
    ['a bad type and a throwing value (the type first)', 'TypeError', [{ value: 'x' }, { valueOf() { throw new URIError('x'); } }]],
    ['a throwing mutable getter before a bad type', 'EvalError', [{ get mutable() { throw new EvalError('mutable'); }, value: 'x' }]],
    ['extra arguments', 'ok', [{ value: 'i32' }, 1, 2, 3]],
  ])('%s (%s in Node)', (_, expected, args) => {
    expectSame(expected, (W) => globalState(new W.Global(...args)));
  });

  test.each(TYPES)('a %s global without a value: the default', (type) => {
    expectSame('ok', (W) => globalState(new W.Global({ value: type })));
  });

  const cases = [];
  for (const type of TYPES) {
    for (const [label, make, expectations] of GLOBAL_VALUES) {
      const expected = expectations[type] === 'default' ? 'ok' : expectations[type] || 'ok';
      cases.push([type, label, expected, make]);
    }
  }

  test.each(cases)('an immutable %s global of %s (%s in Node)', (type, _, expected, make) => {
    expectSame(expected, (W) => {
      const value = make(W);
      const global = new W.Global({ value: type }, value);
      return [globalState(global), global.value === value];
    });
  });

  test.each(cases)('a mutable %s global set to %s (%s in Node)', (type, label, expected, make) => {
    const setterExpected = label === 'undefined' && type === 'i64' ? 'TypeError' : expected;
    expectSame(setterExpected, (W) => {
      const value = make(W);
      const global = new W.Global({ value: type, mutable: true });
      global.value = value;
      return [globalState(global), global.value === value];
    });
  });

  test.each([
    ['i32', { value: 'i32', mutable: true }],
    ['i64', { value: 'i64', mutable: false }],
    ['externref', { value: 'externref', mutable: 1 }],
    ['a bad type stops the reads', { value: 'x', mutable: true }],
  ])('members and the value are read and converted in Node\'s order: %s', (_, members) => {
    const run = (W) => traced(W, (log) => {
      const converted = { mutable: members.mutable, value: convertible(log, 'value type', members.value) };
      const value = members.value === 'i64' ? { valueOf() { log.push('valueOf value'); return 1n; } } : convertible(log, 'value', 1);
      return globalState(new W.Global(loggedDescriptor(log, converted), value));
    });
    const theirs = run(node);
    expect(theirs.log.length).toBeGreaterThan(0);
    expect(run(cranewasm)).toEqual(theirs);
  });
});

describe('Global.prototype.value and valueOf', () => {
  const setter = (W) => Object.getOwnPropertyDescriptor(W.Global.prototype, 'value').set;
  const getter = (W) => Object.getOwnPropertyDescriptor(W.Global.prototype, 'value').get;

  test.each(TYPES)('setting an immutable %s global is a TypeError, before converting the value', (type) => {
    expectSame('TypeError', (W) => {
      const log = [];
      const global = new W.Global({ value: type });
      try {
        global.value = convertible(log, 'value', 1);
      } finally {
        if (log.length > 0) throw new Error(`converted: ${log}`);
      }
    });
  });

  test.each(TYPES)('the setter of a mutable %s global called without an argument', (type) => {
    expectSame('TypeError', (W) => Reflect.apply(setter(W), new W.Global({ value: type, mutable: true }), []));
  });

  test.each(TYPES)('the setter of an immutable %s global called without an argument (mutability first)', (type) => {
    expectSame('TypeError', (W) => Reflect.apply(setter(W), new W.Global({ value: type }), []));
  });

  test.each(TYPES)('a mutable %s global: the setter converts once and returns undefined; getter and valueOf agree', (type) => {
    expectSame('ok', (W) => {
      const log = [];
      const global = new W.Global({ value: type, mutable: true });
      const value = type === 'anyfunc' ? null : type === 'i64'
        ? { valueOf() { log.push('valueOf'); return 9n; } } : convertible(log, 'value', 9);
      const result = Reflect.apply(setter(W), global, [value, 'extra']);
      return [result, log, globalState(global), Reflect.apply(getter(W), global, ['ignored']), global.valueOf('ignored')];
    });
  });

  test('valueOf and + on a global (valueOf is the value)', () => {
    expectSame('ok', (W) => [+new W.Global({ value: 'f64' }, 1.25), `${new W.Global({ value: 'i32' }, 3)}`,
      new W.Global({ value: 'i32' }, 3) + 1]);
  });

  test('+ on an i64 global mixes a BigInt with a Number: TypeError', () => {
    expectSame('TypeError', (W) => new W.Global({ value: 'i64' }, 3n) + 1);
  });

  test('value cannot be assigned on the prototype itself', () => {
    expectSame('TypeError', (W) => { W.Global.prototype.value = 1; });
  });

  test('the value of a global is shared by its object and the wasm code that uses it', () => {
    expectSame('ok', (W) => {
      const global = new W.Global({ value: 'i64', mutable: true }, 1n);
      const e = instantiate(W, `(module (import "m" "g" (global $g (mut i64)))
        (func (export "get") (result i64) (global.get $g))
        (func (export "set") (param i64) (global.set $g (local.get 0))))`, { m: { g: global } });
      global.value = 2n ** 63n;
      const seen = e.get();
      e.set(-5n);
      return [seen, global.value, global.valueOf()];
    });
  });
});

// v128 globals cannot be created from JS, but a module can export one.
describe('v128 globals', () => {
  const V128 = `(module
    (global (export "immutable") v128 (v128.const i32x4 1 2 3 4))
    (global (export "mutable") (mut v128) (v128.const i32x4 0 0 0 0)))`;

  test.each([
    ['value of an immutable one', 'TypeError', (e) => e.immutable.value],
    ['valueOf of an immutable one', 'TypeError', (e) => e.immutable.valueOf()],
    ['value of a mutable one', 'TypeError', (e) => e.mutable.value],
    ['setting an immutable one (mutability first)', 'TypeError', (e) => { e.immutable.value = 1; }],
    ['setting a mutable one', 'TypeError', (e) => { e.mutable.value = 1; }],
    ['the setter without an argument', 'TypeError', (e, W) => Reflect.apply(Object.getOwnPropertyDescriptor(W.Global.prototype, 'value').set, e.mutable, [])],
    ['they are Globals', 'ok', (e, W) => [e.mutable instanceof W.Global, toStringTag(e.immutable)]],
    ['imported as Globals', 'ok', (e, W) => Object.keys(instantiate(W, `(module
      (import "m" "a" (global v128)) (import "m" "b" (global (mut v128))))`, { m: { a: e.immutable, b: e.mutable } }))],
  ])('%s (%s in Node)', (_, expected, body) => {
    expectSame(expected, (W) => body(instantiate(W, V128), W));
  });

  test('the module compiles on both engines', () => {
    expect(outcomeOf(cranewasm, (W) => new W.Module(wat(V128))).threw).toBeUndefined();
    expect(outcomeOf(node, (W) => new W.Module(wat(V128))).threw).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// WebAssembly.Module
// ---------------------------------------------------------------------------------------------

const KINDS_MODULE = `(module
  (import "env" "f" (func (param i32)))
  (import "env" "t" (table 1 funcref))
  (import "env" "m" (memory 1 2))
  (import "env" "g" (global (mut i64)))
  (import "other" "x" (global externref))
  (func $own (export "own") (param i32) (call 0 (local.get 0)))
  (table (export "table") 1 externref)
  (global (export "global") f32 (f32.const 1.5))
  (export "memory" (memory 0))
  (export "reexported" (func 0))
  (export "" (global 0)))`;

// KINDS_MODULE with custom sections at its end: "meta" twice, "" once.
const { section, name: sectionName } = require('./helpers/wasm-builder.js');

const utf8 = (text) => [...Buffer.from(text, 'utf8')];
let kindsModuleBytes;
function kindsModule() {
  if (kindsModuleBytes === undefined) {
    kindsModuleBytes = new Uint8Array([
      ...new Uint8Array(wat(KINDS_MODULE)),
      ...section(0, [...sectionName('meta'), ...utf8('abc')]),
      ...section(0, sectionName('meta')),
      ...section(0, [...sectionName(''), ...utf8('empty name')]),
    ]);
  }
  return kindsModuleBytes.slice();
}

// A Module of the namespace, or something else, as the argument of the static methods.
const MODULE_ARGUMENTS = {
  'a Module': (W) => new W.Module(kindsModule()),
  'no argument': null,
  undefined: () => undefined,
  null: () => null,
  'a number': () => 1,
  'a plain object': () => ({}),
  'the bytes of a module': () => kindsModule(),
  'Module.prototype': (W) => W.Module.prototype,
  'an object inheriting Module.prototype': (W) => Object.create(W.Module.prototype),
  'an Instance': (W) => new W.Instance(new W.Module(wat('(module)'))),
  'a Memory': (W) => new W.Memory({ initial: 0 }),
  'a Proxy of a Module': (W) => new Proxy(new W.Module(kindsModule()), {}),
};

describe('new Module(bytes)', () => {
  test.each([
    ['no argument', 'TypeError', () => []],
    ['undefined', 'TypeError', () => [undefined]],
    ['null', 'TypeError', () => [null]],
    ['a number', 'TypeError', () => [8]],
    ['a string', 'TypeError', () => ['\0asm\x01\0\0\0']],
    ['an array of bytes', 'TypeError', () => [[0, 97, 115, 109, 1, 0, 0, 0]]],
    ['an object shaped like an ArrayBuffer', 'TypeError', () => [{ byteLength: 8 }]],
    ['a Module', 'TypeError', (W) => [new W.Module(wat('(module)'))]],
    ['an empty ArrayBuffer', 'CompileError', () => [new ArrayBuffer(0)]],
    ['the bytes of a module', 'ok', () => [kindsModule()]],
    ['a Uint8Array of them', 'ok', () => [new Uint8Array(kindsModule())]],
    ['an ArrayBuffer of them', 'ok', () => [new Uint8Array(kindsModule()).slice().buffer]],
    ['them and extra arguments', 'ok', () => [kindsModule(), {}, 1]],
  ])('%s (%s in Node)', (_, expected, args) => {
    expectSame(expected, (W) => {
      const module = new W.Module(...args(W));
      return [toStringTag(module), Reflect.ownKeys(module), W.Module.exports(module).length];
    });
  });

  // The engine's decoder words its errors differently from V8's: only the class and context.
  test.each([
    ['a bad magic number', () => new Uint8Array([1, 2, 3, 4, 1, 0, 0, 0])],
    ['a bad version', () => new Uint8Array([0, 97, 115, 109, 2, 0, 0, 0])],
    ['a truncated module', () => new Uint8Array([0, 97, 115, 109, 1, 0])],
  ])('%s: a CompileError of the namespace', (_, bytes) => {
    const run = (W) => {
      const result = outcomeOf(W, () => new W.Module(bytes()));
      return { threw: result.threw, ownClass: result.ownClass, context: result.message.split(':')[0] };
    };
    const theirs = run(node);
    expect(theirs.threw).toBe('CompileError');
    expect(run(cranewasm)).toEqual(theirs);
  });
});

describe('Module.imports, Module.exports and Module.customSections', () => {
  const cases = [];
  for (const method of ['imports', 'exports', 'customSections']) {
    for (const [label, make] of Object.entries(MODULE_ARGUMENTS)) {
      cases.push([method, label, label === 'a Module' ? 'ok' : 'TypeError', make]);
    }
  }

  test.each(cases)('Module.%s(%s) (%s in Node)', (method, _, expected, make) => {
    expectSame(expected, (W) => {
      const args = make === null ? [] : [make(W)];
      if (method === 'customSections') args.push('meta');
      return W.Module[method](...args);
    });
  });

  test.each([
    ['no name', 'TypeError', []],
    ['undefined', 'TypeError', [undefined]],
    ['null ("null")', 'ok', [null]],
    ['"meta"', 'ok', ['meta']],
    ['"" (the empty name)', 'ok', ['']],
    ['"META" (case matters)', 'ok', ['META']],
    ['"missing"', 'ok', ['missing']],
    ['an object converting to "meta"', 'ok', [{ toString: () => 'meta' }]],
    ['["meta"]', 'ok', [['meta']]],
    ['a number', 'ok', [1]],
    ['a Symbol', 'TypeError', [Symbol('meta')]],
    ['a throwing toString', 'RangeError', [{ toString() { throw new RangeError('name'); } }]],
    ['"meta" and extra arguments', 'ok', ['meta', 'other']],
  ])('Module.customSections(module, %s) (%s in Node)', (_, expected, args) => {
    expectSame(expected, (W) => {
      const sections = W.Module.customSections(new W.Module(kindsModule()), ...args);
      return [sections, sections.map((buffer) => [...new Uint8Array(buffer)])];
    });
  });

  test('the module is checked before the name is converted', () => {
    expectSame('TypeError', (W) => {
      const log = [];
      try {
        W.Module.customSections({}, convertible(log, 'name', 'meta'));
      } finally {
        if (log.length > 0) throw new Error(`converted: ${log}`);
      }
    });
  });

  test('results are fresh arrays and objects on every call', () => {
    expectSame('ok', (W) => {
      const module = new W.Module(kindsModule());
      const [a, b] = [W.Module.imports(module), W.Module.imports(module)];
      const [c, d] = [W.Module.customSections(module, 'meta'), W.Module.customSections(module, 'meta')];
      return [a === b, a[0] === b[0], c === d, c[0] === d[0], Object.isFrozen(a), Object.isFrozen(a[0]),
        Object.getOwnPropertyNames(a[0]), Object.getOwnPropertyNames(W.Module.exports(module)[0])];
    });
  });

  test('a Module subclass instance is a Module for them', () => {
    expectSame('ok', (W) => {
      class Sub extends W.Module {}
      const module = new Sub(kindsModule());
      return [W.Module.imports(module).length, W.Module.exports(module).length, W.Module.customSections(module, 'meta').length];
    });
  });
});

// ---------------------------------------------------------------------------------------------
// WebAssembly.Instance: arguments, link checks, exports
// ---------------------------------------------------------------------------------------------

// The exports of an instance as data: each export's kind (of W) and what can be read of it.
function exportsState(W, exportsObject) {
  const state = {};
  for (const key of Reflect.ownKeys(exportsObject)) {
    const value = exportsObject[key];
    if (value instanceof W.Global) state[key] = { Global: value.valueOf() };
    else if (value instanceof W.Table) state[key] = { Table: value.length };
    else if (value instanceof W.Memory) state[key] = { Memory: value.buffer.byteLength };
    else state[key] = describeValue(W, value);
  }
  return state;
}

describe('new Instance(module, importObject)', () => {
  const IMPORTING = '(module (import "m" "f" (func)))';
  test.each([
    ['no argument', 'TypeError', () => []],
    ['undefined', 'TypeError', () => [undefined]],
    ['the bytes of a module', 'TypeError', () => [wat('(module)')]],
    ['a plain object', 'TypeError', () => [{}]],
    ['an object inheriting Module.prototype', 'TypeError', (W) => [Object.create(W.Module.prototype)]],
    ['a Proxy of a Module', 'TypeError', (W) => [new Proxy(new W.Module(wat('(module)')), {})]],
    ['an Instance', 'TypeError', (W) => [new W.Instance(new W.Module(wat('(module)')))]],
    ['a bad module and a bad importObject (the module first)', 'TypeError', () => [1, 1]],
    ['a Module without imports', 'ok', (W) => [new W.Module(wat('(module)'))]],
    ['a Module without imports and null', 'TypeError', (W) => [new W.Module(wat('(module)')), null]],
    ['a Module without imports and a number', 'TypeError', (W) => [new W.Module(wat('(module)')), 1]],
    ['a Module without imports and a string', 'TypeError', (W) => [new W.Module(wat('(module)')), 'imports']],
    ['a Module without imports and a Symbol', 'TypeError', (W) => [new W.Module(wat('(module)')), Symbol('imports')]],
    ['a Module without imports and true', 'TypeError', (W) => [new W.Module(wat('(module)')), true]],
    ['a Module without imports and a function', 'ok', (W) => [new W.Module(wat('(module)')), () => {}]],
    ['a Module without imports and a Proxy', 'ok', (W) => [new W.Module(wat('(module)')), new Proxy({}, {})]],
    ['a Module with imports and no importObject', 'TypeError', (W) => [new W.Module(wat(IMPORTING))]],
    ['a Module with imports and undefined', 'TypeError', (W) => [new W.Module(wat(IMPORTING)), undefined]],
    ['a Module with imports and null', 'TypeError', (W) => [new W.Module(wat(IMPORTING)), null]],
    ['a Module with imports and an empty object', 'TypeError', (W) => [new W.Module(wat(IMPORTING)), {}]],
    ['a Module with imports and a function holding them', 'ok', (W) => [new W.Module(wat(IMPORTING)), Object.assign(() => {}, { m: { f() {} } })]],
    ['a Module with imports and extra arguments', 'ok', (W) => [new W.Module(wat(IMPORTING)), { m: { f() {} } }, 'extra']],
  ])('%s (%s in Node)', (_, expected, args) => {
    expectSame(expected, (W) => {
      const instance = new W.Instance(...args(W));
      return [toStringTag(instance), Reflect.ownKeys(instance), exportsState(W, instance.exports)];
    });
  });

  test('the module objects and values are read once each, in import order', () => {
    expectSame('ok', (W) => {
      const log = [];
      const logged = (label, object) => new Proxy(object, {
        get(target, key) { log.push(`${label}.${String(key)}`); return target[key]; },
      });
      const imports = logged('imports', {
        a: logged('a', { f() {}, g: 1 }),
        b: logged('b', { m: new W.Memory({ initial: 1 }) }),
      });
      instantiate(W, `(module (import "a" "f" (func)) (import "b" "m" (memory 1)) (import "a" "g" (global i32))
        (import "a" "f" (func)))`, imports);
      return log;
    });
  });
});

// Link checks: a module importing one thing "m"."x", given each kind of value.
const IMPORT_KINDS = {
  function: '(func (param i32) (result i32))',
  memory: '(memory 1)',
  table: '(table 1 funcref)',
  'externref table': '(table 1 externref)',
  'i32 global': '(global i32)',
  'mutable i32 global': '(global (mut i32))',
  'i64 global': '(global i64)',
  'mutable i64 global': '(global (mut i64))',
  'f32 global': '(global f32)',
  'f64 global': '(global f64)',
  'mutable f64 global': '(global (mut f64))',
  'externref global': '(global externref)',
  'mutable externref global': '(global (mut externref))',
  'funcref global': '(global funcref)',
  'mutable funcref global': '(global (mut funcref))',
};

// What the import object's "m"."x" is, by namespace.
const IMPORT_VALUES = {
  'a missing value': () => undefined,
  null: () => null,
  'a number': () => 1.5,
  'NaN': () => NaN,
  'a BigInt': () => 2n ** 63n + 1n,
  'a string': () => '1',
  'a boolean': () => true,
  'a Symbol': () => Symbol('x'),
  'a plain object': () => ({}),
  'a JS function': () => function x(v) { return v; },
  'a class': () => class X {},
  'a bound function': () => Math.abs.bind(null),
  'a callable Proxy': () => new Proxy(() => 1, {}),
  'a wasm function (i32) -> i32': (W) => wasmFunctions(W).g,
  'a wasm function () -> i32': (W) => wasmFunctions(W).f,
  'a Memory': (W) => new W.Memory({ initial: 1 }),
  'an object inheriting Memory.prototype': (W) => Object.create(W.Memory.prototype),
  'an ArrayBuffer of a page': () => new ArrayBuffer(65536),
  'an anyfunc Table': (W) => new W.Table({ element: 'anyfunc', initial: 1 }),
  'an externref Table': (W) => new W.Table({ element: 'externref', initial: 1 }),
  'an object inheriting Table.prototype': (W) => Object.create(W.Table.prototype),
  'an i32 Global': (W) => new W.Global({ value: 'i32' }, 3),
  'a mutable i32 Global': (W) => new W.Global({ value: 'i32', mutable: true }, 3),
  'an i64 Global': (W) => new W.Global({ value: 'i64' }, 3n),
  'a mutable i64 Global': (W) => new W.Global({ value: 'i64', mutable: true }, 3n),
  'an f32 Global': (W) => new W.Global({ value: 'f32' }, 3),
  'an f64 Global': (W) => new W.Global({ value: 'f64' }, 3),
  'a mutable f64 Global': (W) => new W.Global({ value: 'f64', mutable: true }, 3),
  'an externref Global': (W) => new W.Global({ value: 'externref' }, 'ref'),
  'a mutable externref Global': (W) => new W.Global({ value: 'externref', mutable: true }, 'ref'),
  'an anyfunc Global': (W) => new W.Global({ value: 'anyfunc' }),
  'a mutable anyfunc Global': (W) => new W.Global({ value: 'anyfunc', mutable: true }),
  'an object inheriting Global.prototype': (W) => Object.create(W.Global.prototype),
  'a Module': (W) => new W.Module(wat('(module)')),
};

// Whether Node links `value` for an import of `kind`: computed from the JS API's rules, so that a
// broken case (both engines failing the same way) cannot pass. The rest are LinkErrors.
function linksInNode(kind, value) {
  if (kind === 'function') return /function|class|Proxy/.test(value) && value !== 'a wasm function () -> i32';
  if (kind === 'memory') return value === 'a Memory';
  if (kind === 'table') return value === 'an anyfunc Table';
  if (kind === 'externref table') return value === 'an externref Table';
  const [, mutable, type] = /^(mutable )?(\w+) global$/.exec(kind);
  const article = type === 'i32' || type === 'i64' || type === 'f32' || type === 'f64' || type === 'externref' ? /^an? / : null;
  const global = new RegExp(`^an? ${mutable ? 'mutable ' : ''}${type === 'funcref' ? 'anyfunc' : type} Global$`);
  if (global.test(value)) return true;
  if (mutable || / Global$/.test(value)) return false;
  if (type === 'externref') return true;
  if (type === 'funcref') return value === 'null' || value.startsWith('a wasm function');
  if (type === 'i64') return value === 'a BigInt';
  return article !== null && (value === 'a number' || value === 'NaN');
}

describe('link checks: one import of each kind, given each kind of value', () => {
  const cases = [];
  for (const kind of Object.keys(IMPORT_KINDS)) {
    for (const value of Object.keys(IMPORT_VALUES)) cases.push([kind, value, linksInNode(kind, value) ? 'ok' : 'LinkError']);
  }

  test.each(cases)('a %s import given %s (%s in Node)', (kind, value, expected) => {
    expectSame(expected, (W) => {
      const given = IMPORT_VALUES[value](W);
      const text = `(module (import "m" "x" ${IMPORT_KINDS[kind]}) (export "x" ${IMPORT_KINDS[kind].replace(/ .*/, '')} 0)))`;
      const e = instantiate(W, text, { m: value === 'a missing value' ? {} : { x: given } });
      return [e.x === given, exportsState(W, e)];
    });
  });

  test.each([
    ['a missing module object', 'TypeError', {}],
    ['a module that is undefined', 'TypeError', { m: undefined }],
    ['a module that is null', 'TypeError', { m: null }],
    ['a module that is a number', 'TypeError', { m: 1 }],
    ['a module that is a string', 'TypeError', { m: 'x' }],
    ['a module that is a Symbol', 'TypeError', { m: Symbol('m') }],
    ['a module that is a function', 'ok', { m: Object.assign(() => {}, { x() {} }) }],
    ['a module that is an array', 'LinkError', { m: [] }],
    ['a module inheriting the value', 'ok', { m: Object.create({ x() {} }) }],
    ['an importObject inheriting the module', 'ok', Object.create({ m: { x() {} } })],
  ])('%s (%s in Node)', (_, expected, imports) => {
    expectSame(expected, (W) => Object.keys(instantiate(W, '(module (import "m" "x" (func)))', imports)));
  });

  test('the first failing import is reported, after reading the earlier ones', () => {
    expectSame('LinkError', (W) => instantiate(W, `(module
      (import "m" "f" (func)) (import "m" "g" (global i64)) (import "m" "t" (table 1 funcref)))`,
    { m: { f() {}, g: 1, t: 'not a table' } }));
  });

  test('a wasm function of another signature is a LinkError', () => {
    expectSame('LinkError', (W) => instantiate(W, '(module (import "m" "x" (func (param i64))))', { m: { x: wasmFunctions(W).f } }));
  });

  test.each([
    ['a number', () => 1],
    ['a BigInt', () => 1n],
    ['a missing value', () => undefined],
    ['an i32 Global', (W) => new W.Global({ value: 'i32' })],
  ])('a v128 global import given %s', (_, make) => {
    expectSame('LinkError', (W) => instantiate(W, '(module (import "m" "x" (global v128)))', { m: { x: make(W) } }));
  });
});

// Memory and table imports against the limits the module declares.
describe('link checks: memory and table limits and element types', () => {
  const MEMORY_IMPORTS = ['1', '1 2', '0 0', '2 3'];
  const MEMORIES = {
    'initial 0': { initial: 0 },
    'initial 1': { initial: 1 },
    'initial 2': { initial: 2 },
    'initial 3': { initial: 3 },
    'initial 1, maximum 1': { initial: 1, maximum: 1 },
    'initial 1, maximum 2': { initial: 1, maximum: 2 },
    'initial 2, maximum 3': { initial: 2, maximum: 3 },
    'initial 0, maximum 0': { initial: 0, maximum: 0 },
    'initial 1, maximum 4': { initial: 1, maximum: 4 },
  };
  const fits = (limits, descriptor) => {
    const [min, max] = limits.split(' ').map(Number);
    if (descriptor.initial < min) return false;
    if (max === undefined) return true;
    return descriptor.maximum !== undefined && descriptor.maximum <= max;
  };

  const memoryCases = [];
  for (const limits of MEMORY_IMPORTS) {
    for (const [label, descriptor] of Object.entries(MEMORIES)) {
      memoryCases.push([limits, label, fits(limits, descriptor) ? 'ok' : 'LinkError', descriptor]);
    }
  }

  test.each(memoryCases)('a (memory %s) import given a Memory of %s (%s in Node)', (limits, _, expected, descriptor) => {
    expectSame(expected, (W) => {
      const memory = new W.Memory(descriptor);
      const e = instantiate(W, `(module (import "m" "x" (memory ${limits})) (export "x" (memory 0))
        (func (export "size") (result i32) (memory.size)))`, { m: { x: memory } });
      return [e.x === memory, e.size(), memory.buffer.byteLength];
    });
  });

  test('a memory imported with a larger size than declared keeps it, and grows to its own maximum', () => {
    expectSame('ok', (W) => {
      const memory = new W.Memory({ initial: 2, maximum: 3 });
      const e = instantiate(W, `(module (import "m" "x" (memory 1 3))
        (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`, { m: { x: memory } });
      return [e.grow(1), e.grow(1), memory.buffer.byteLength, (() => { try { return memory.grow(1); } catch (err) { return err.constructor.name; } })()];
    });
  });

  const TABLE_IMPORTS = ['1', '1 2', '2 2', '0'];
  const TABLES = {
    'initial 0': { initial: 0 },
    'initial 1': { initial: 1 },
    'initial 2': { initial: 2 },
    'initial 1, maximum 2': { initial: 1, maximum: 2 },
    'initial 2, maximum 2': { initial: 2, maximum: 2 },
    'initial 1, maximum 3': { initial: 1, maximum: 3 },
  };
  const tableCases = [];
  for (const element of ['funcref', 'externref']) {
    for (const given of ['anyfunc', 'externref']) {
      for (const limits of TABLE_IMPORTS) {
        for (const [label, descriptor] of Object.entries(TABLES)) {
          const sameType = (element === 'funcref') === (given === 'anyfunc');
          const sizeFits = fits(limits, descriptor);
          // When both are wrong, V8 reports the limits (it checks them before the element type).
          tableCases.push([limits, element, given, label, sameType && sizeFits ? 'ok' : 'LinkError', descriptor]);
        }
      }
    }
  }

  const tableCase = (limits, element, given, _, expected, descriptor) => {
    expectSame(expected, (W) => {
      const table = new W.Table({ element: given, ...descriptor });
      const e = instantiate(W, `(module (import "m" "x" (table ${limits} ${element})) (export "x" (table 0))
        (func (export "size") (result i32) (table.size 0)))`, { m: { x: table } });
      return [e.x === table, e.size(), table.length];
    });
  };
  test.each(tableCases)('a (table %s %s) import given an %s Table of %s (%s in Node)', tableCase);
});

describe('link checks: global imports, type and mutability', () => {
  test.each([
    ['a Number for an i64 global', 'LinkError', '(global i64)', () => 1],
    ['a BigInt for an i32 global', 'LinkError', '(global i32)', () => 1n],
    ['a BigInt for an f64 global', 'LinkError', '(global f64)', () => 1n],
    ['a Number for a mutable i32 global', 'LinkError', '(global (mut i32))', () => 1],
    ['a BigInt for a mutable i64 global', 'LinkError', '(global (mut i64))', () => 1n],
    ['an object for a mutable externref global', 'LinkError', '(global (mut externref))', () => ({})],
    ['null for a mutable funcref global', 'LinkError', '(global (mut funcref))', () => null],
    ['a JS function for a funcref global', 'LinkError', '(global funcref)', () => () => 1],
    ['an f64 Global for an f32 global', 'LinkError', '(global f32)', (W) => new W.Global({ value: 'f64' })],
    ['an i32 Global for an i64 global', 'LinkError', '(global i64)', (W) => new W.Global({ value: 'i32' })],
    ['an externref Global for a funcref global', 'LinkError', '(global funcref)', (W) => new W.Global({ value: 'externref' }, null)],
    ['an anyfunc Global for an externref global', 'LinkError', '(global externref)', (W) => new W.Global({ value: 'anyfunc' })],
    ['a mutable Global for an immutable global', 'LinkError', '(global i32)', (W) => new W.Global({ value: 'i32', mutable: true })],
    ['an immutable Global for a mutable global', 'LinkError', '(global (mut i32))', (W) => new W.Global({ value: 'i32' })],
    ['a mutable Global of another type for an immutable global (mutability first)', 'LinkError', '(global i64)',
      (W) => new W.Global({ value: 'f32', mutable: true })],
    ['an immutable Global of another type for a mutable global (mutability first)', 'LinkError', '(global (mut f64))',
      (W) => new W.Global({ value: 'i32' })],
    ['-0 for an f64 global', 'ok', '(global f64)', () => -0],
    ['NaN for an f32 global', 'ok', '(global f32)', () => NaN],
    ['0.1 for an f32 global (rounded)', 'ok', '(global f32)', () => 0.1],
    ['2^32 + 1 for an i32 global (wrapped)', 'ok', '(global i32)', () => 2 ** 32 + 1],
    ['2^64 - 1 for an i64 global (wrapped)', 'ok', '(global i64)', () => 2n ** 64n - 1n],
    ['a wasm function for a funcref global', 'ok', '(global funcref)', (W) => wasmFunctions(W).f],
    ['undefined for an externref global', 'ok', '(global externref)', () => undefined],
    ['a Number object for an i32 global', 'LinkError', '(global i32)', () => Object(1)],
    ['a Global of the same type for a mutable global', 'ok', '(global (mut i64))', (W) => new W.Global({ value: 'i64', mutable: true }, -1n)],
  ])('%s (%s in Node)', (_, expected, type, make) => {
    expectSame(expected, (W) => {
      const value = make(W);
      const e = instantiate(W, `(module (import "m" "x" ${type}) (export "x" (global 0))
        (func (export "get") (result ${type.replace(/[()]|global|mut/g, '').trim()}) (global.get 0)))`, { m: { x: value } });
      return [e.x === value, e.x.value, e.get(), e.get() === value];
    });
  });
});

describe('link checks through instantiate(): the same errors, as rejections', () => {
  test.each([
    ['a missing module object', 'TypeError', '(func)', () => ({})],
    ['a non-callable function import', 'LinkError', '(func)', () => ({ m: { x: 1 } })],
    ['a memory too small', 'LinkError', '(memory 2)', (W) => ({ m: { x: new W.Memory({ initial: 1 }) } })],
    ['a memory without the maximum', 'LinkError', '(memory 1 2)', (W) => ({ m: { x: new W.Memory({ initial: 1 }) } })],
    ['a memory with a larger maximum', 'LinkError', '(memory 1 2)', (W) => ({ m: { x: new W.Memory({ initial: 1, maximum: 3 }) } })],
    ['a table of the other element type', 'LinkError', '(table 1 funcref)', (W) => ({ m: { x: new W.Table({ element: 'externref', initial: 1 }) } })],
    ['a global of another type', 'LinkError', '(global i32)', (W) => ({ m: { x: new W.Global({ value: 'f32' }) } })],
    ['a Number for an i64 global', 'LinkError', '(global i64)', () => ({ m: { x: 1 } })],
  ])('%s (%s in Node)', async (_, expected, type, imports) => {
    for (const source of ['bytes', 'module']) {
      await expectSameAsync(expected, (W) => {
        const bytes = wat(`(module (import "m" "x" ${type}))`);
        return W.instantiate(source === 'bytes' ? bytes : new W.Module(bytes), imports(W))
          .then((result) => Object.keys((result.instance || result).exports));
      });
    }
  });
});

describe('the exports object', () => {
  const TEXT = `(module
    (import "m" "f" (func $f (result i32)))
    (import "m" "memory" (memory 1))
    (import "m" "table" (table 1 funcref))
    (import "m" "global" (global $g (mut i32)))
    (import "m" "immutable" (global $i f64))
    (import "m" "number" (global $n i32))
    (import "m" "wasm" (func $w (result i32)))
    (global $own i32 (i32.const 5))
    (global $ownMutable (mut i64) (i64.const 6))
    (table $ownTable 2 externref)
    (func $h (result i32) (i32.const 9))
    (export "f" (func $f)) (export "f again" (func $f))
    (export "wasm" (func $w)) (export "wasm again" (func $w))
    (export "h" (func $h)) (export "h again" (func $h))
    (export "memory" (memory 0)) (export "memory again" (memory 0))
    (export "table" (table 0)) (export "table again" (table 0))
    (export "ownTable" (table $ownTable)) (export "ownTable again" (table $ownTable))
    (export "global" (global $g)) (export "global again" (global $g))
    (export "immutable" (global $i)) (export "immutable again" (global $i))
    (export "number" (global $n)) (export "number again" (global $n))
    (export "own" (global $own)) (export "own again" (global $own))
    (export "ownMutable" (global $ownMutable)) (export "ownMutable again" (global $ownMutable))
    (elem (i32.const 0) $h))`;

  const make = (W) => {
    const { f: wasm } = wasmFunctions(W);
    const imports = {
      f: () => 1,
      memory: new W.Memory({ initial: 1 }),
      table: new W.Table({ element: 'anyfunc', initial: 1 }),
      global: new W.Global({ value: 'i32', mutable: true }, 2),
      immutable: new W.Global({ value: 'f64' }, 2.5),
      number: 3,
      wasm,
    };
    const instance = new W.Instance(new W.Module(wat(TEXT)), { m: imports });
    return { instance, e: instance.exports, imports };
  };

  test.each([
    ['its shape', 'ok', ({ instance, e }) => [Object.getPrototypeOf(e), Object.isFrozen(e), Object.isExtensible(e),
      Reflect.ownKeys(e), Object.getOwnPropertyDescriptor(e, 'h').writable, Object.getOwnPropertyDescriptor(e, 'h').enumerable,
      Object.getOwnPropertyDescriptor(e, 'h').configurable, instance.exports === e, toStringTag(e)]],
    ['its exports', 'ok', ({ e }, W) => exportsState(W, e)],
    ['assigning an export (strict mode)', 'TypeError', ({ e }) => { e.h = 1; }],
    ['adding an export (strict mode)', 'TypeError', ({ e }) => { e.added = 1; }],
    ['deleting an export (strict mode)', 'TypeError', ({ e }) => { delete e.h; }],
    ['Reflect on it', 'ok', ({ e }) => [Reflect.set(e, 'h', 1), Reflect.deleteProperty(e, 'h'), Reflect.defineProperty(e, 'x', { value: 1 }),
      Reflect.setPrototypeOf(e, {}), Reflect.setPrototypeOf(e, null), 'h' in e, 'toString' in e]],
    ['re-exported imports keep their identity', 'ok', ({ e, imports }) => [
      e.memory === imports.memory, e.table === imports.table, e.global === imports.global, e.immutable === imports.immutable,
      e.wasm === imports.wasm]],
    ['a JS function import is re-exported as a new wasm function, one per import', 'ok', ({ e, imports }) => [
      e.f === imports.f, e.f === e['f again'], typeof e.f, e.f(), e.f.name, e.f.length]],
    ['a function exported twice is one object', 'ok', ({ e }) => [e.h === e['h again'], e.table.get(0) === e.h, e.wasm === e['wasm again']]],
    ['a memory or table exported twice is one object', 'ok', ({ e }) => [
      e.memory === e['memory again'], e.table === e['table again'], e.ownTable === e['ownTable again']]],
    ['a Global imported as an object, exported twice, is that object', 'ok', ({ e }) => [
      e.global === e['global again'], e.immutable === e['immutable again']]],
    // V8 makes a new Global object for each export of a global that was not imported as one
    // (the JS API's global object cache would make one).
    ['a global exported twice otherwise: two Global objects of one global', 'ok', ({ e }) => {
      const before = [e.own === e['own again'], e.number === e['number again'], e.ownMutable === e['ownMutable again']];
      e.ownMutable.value = 60n;
      return [...before, e['ownMutable again'].value, e.number.value, e['number again'].value];
    }],
    ['the imported mutable Global is shared with the instance', 'ok', ({ e, imports }) => {
      imports.global.value = 20;
      return [e.global.value, e['global again'].value];
    }],
    ['two instances of one module have their own exports', 'ok', (_, W) => {
      const a = make(W).e;
      const b = make(W).e;
      return [a === b, a.h === b.h, a.own === b.own, a.ownTable === b.ownTable, a.h(), b.h()];
    }],
  ])('%s (%s in Node)', (_, expected, body) => {
    expectSame(expected, (W) => body(make(W), W));
  });

  test('an Instance subclass gets the exports too', () => {
    expectSame('ok', (W) => {
      class Sub extends W.Instance {}
      const instance = new Sub(new W.Module(wat('(module (func (export "f") (result i32) (i32.const 4)))')));
      return [instance instanceof Sub, Object.getPrototypeOf(instance) === Sub.prototype, instance.exports.f(), Reflect.ownKeys(instance)];
    });
  });
});

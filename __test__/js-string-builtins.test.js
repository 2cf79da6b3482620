'use strict';
// JS String Builtins through the public JS API: the compile options { builtins,
// importedStringConstants } on every function that compiles, the compile-time type checks, what
// Module.imports() lists, and each builtin's results and traps. Ported from the spec's JS API
// tests (WebAssembly/spec test/js-api/js-string/{basic,constants,imports}.any.js): basic.any.js
// compares every builtin with the polyfill of polyfill.js, here a module compiled by cranewasm
// with the builtins against the same module on Node's engine (Node 20 has no builtins) with the
// polyfill as its import object, at each tier. Not ported, and why:
// - fromCharCodeArray and intoCharCodeArray with real arrays: modules may declare
//   (array (mut i16)) and import them, but without GC no array value exists, so they are only
//   called with null (tested: they trap; a wrong type for them is a CompileError).
// (The spec's "Incorrect types", a builtin's signature in a rec group of two types, is ported:
// a CompileError because the builtin's type is alone in its group.)
// - constants.any.js's anyref global types: also GC (CompileError either way, tested).

const W = require('..');
const { Sandbox, setCompileOptions, getCompileOptions } = require('../engine');
const { ModuleBuilder } = require('./helpers/wasm-builder.js');

const NodeWasm = globalThis.WebAssembly;
const JS_STRING = { builtins: ['js-string'] };
const REF_EXTERN = [0x64, 0x6f]; // (ref extern)
const REF_FUNC = [0x64, 0x70]; // (ref func)
const ANYREF = [0x6e]; // GC
const OP = { localGet: 0x20, call: 0x10, globalGet: 0x23 };

// The builtins cranewasm can import (all but the two array ones), with their types.
const BUILTINS = [
  { name: 'test', params: ['externref'], results: ['i32'] },
  { name: 'cast', params: ['externref'], results: [REF_EXTERN] },
  { name: 'fromCharCode', params: ['i32'], results: [REF_EXTERN] },
  { name: 'fromCodePoint', params: ['i32'], results: [REF_EXTERN] },
  { name: 'charCodeAt', params: ['externref', 'i32'], results: ['i32'] },
  { name: 'codePointAt', params: ['externref', 'i32'], results: ['i32'] },
  { name: 'length', params: ['externref'], results: ['i32'] },
  { name: 'concat', params: ['externref', 'externref'], results: [REF_EXTERN] },
  { name: 'substring', params: ['externref', 'i32', 'i32'], results: [REF_EXTERN] },
  { name: 'equals', params: ['externref', 'externref'], results: ['i32'] },
  { name: 'compare', params: ['externref', 'externref'], results: ['i32'] },
];

// basic.any.js's module: an import of each builtin and an exported function calling it (not a
// re-export, so that a direct call from wasm is what is tested).
// `nullableResults`: externref where the builtin returns (ref extern), for Node 20, which has no
// typed references.
function callersModule(nullableResults = false) {
  const b = new ModuleBuilder();
  const signatures = BUILTINS.map(({ name, params, results }) => ({
    name, params, results: nullableResults ? results.map((r) => (r === REF_EXTERN ? 'externref' : r)) : results,
  }));
  const imported = signatures.map(({ name, params, results }) => b.importFunction('wasm:js-string', name, params, results));
  signatures.forEach(({ name, params, results }, i) => {
    const body = [];
    params.forEach((_, p) => body.push(OP.localGet, p));
    body.push(OP.call, imported[i]);
    b.export(name, 'function', b.function(params, results, body));
  });
  return b.toBytes();
}

// polyfill.js's functions (without the array ones), throwing the RuntimeError of `ns`.
function polyfill(ns) {
  const throwIfNotString = (a) => {
    if (typeof a !== 'string') throw new ns.RuntimeError();
  };
  return {
    test: (string) => (string === null || typeof string !== 'string' ? 0 : 1),
    cast: (string) => { throwIfNotString(string); return string; },
    fromCharCode: (charCode) => String.fromCharCode(charCode >>> 0),
    fromCodePoint: (codePoint) => String.fromCodePoint(codePoint >>> 0),
    charCodeAt: (string, index) => {
      index >>>= 0;
      throwIfNotString(string);
      if (index >= string.length) throw new ns.RuntimeError();
      return string.charCodeAt(index);
    },
    codePointAt: (string, index) => {
      index >>>= 0;
      throwIfNotString(string);
      if (index >= string.length) throw new ns.RuntimeError();
      return string.codePointAt(index);
    },
    length: (string) => { throwIfNotString(string); return string.length; },
    concat: (a, b) => { throwIfNotString(a); throwIfNotString(b); return a + b; },
    substring: (string, start, end) => {
      start >>>= 0;
      end >>>= 0;
      throwIfNotString(string);
      if (end < start) return '';
      return string.substring(start, end);
    },
    equals: (a, b) => {
      if (a !== null) throwIfNotString(a);
      if (b !== null) throwIfNotString(b);
      return a === b;
    },
    compare: (a, b) => {
      throwIfNotString(a);
      throwIfNotString(b);
      if (a < b) return -1;
      return a === b ? 0 : 1;
    },
  };
}

// { value } or { error: the error's class name } of a call.
function outcome(fn, args) {
  try {
    return { value: fn(...args) };
  } catch (err) {
    if (err instanceof W.RuntimeError || err instanceof NodeWasm.RuntimeError) return { error: 'RuntimeError' };
    return { error: err && err.constructor && err.constructor.name };
  }
}

// basic.any.js's values.
const testStrings = ['', 'a', '1', 'ab', 'hello, world', '\n', '☺', '☺☺', String.fromCodePoint(0x10000, 0x10001)];
const testCharCodes = [1, 2, 3, 10, 0x7f, 0xff, 0xfffe, 0xffff];
const testCodePoints = [1, 2, 3, 10, 0x7f, 0xff, 0xfffe, 0xffff, 0x10000, 0x10001];
const testExternRefValues = [
  null, undefined, true, false, { x: 1337 }, ['abracadabra'], 13.37, -0, 0x7fffffff + 0.1, -0x7fffffff - 0.1,
  0x80000000 + 0.1, -0x80000000 - 0.1, 0xffffffff + 0.1, -0xffffffff - 0.1, Number.EPSILON,
  Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, Number.MIN_VALUE, Number.MAX_VALUE, Number.NaN, 'hi', 37n,
  new Number(42), new Boolean(true), Symbol('status'), () => 1337,
];

// Every call basic.any.js makes, as [builtin, args].
function basicCalls() {
  const calls = [];
  for (const a of testExternRefValues) {
    calls.push(['test', [a]], ['cast', [a]], ['charCodeAt', [a, 0]], ['codePointAt', [a, 0]], ['length', [a]],
      ['concat', [a, a]], ['substring', [a, 0, 0]], ['equals', [a, a]], ['compare', [a, a]]);
  }
  for (const c of testCharCodes) calls.push(['fromCharCode', [c]]);
  for (const c of testCodePoints) calls.push(['fromCodePoint', [c]]);
  for (const s of testStrings) {
    calls.push(['length', [s]]);
    for (let i = 0; i < s.length; i++) calls.push(['charCodeAt', [s, i]], ['codePointAt', [s, i]]);
    for (let i = 0; i < s.length; i++) for (let j = 0; j < s.length; j++) calls.push(['substring', [s, i, j]]);
    for (const t of testStrings) calls.push(['concat', [s, t]], ['equals', [s, t]], ['compare', [s, t]]);
  }
  // Beyond basic.any.js: the traps and the unsigned reading of i32 arguments.
  calls.push(['charCodeAt', ['abc', 3]], ['charCodeAt', ['abc', -1]], ['codePointAt', ['abc', 3]],
    ['substring', ['abcdef', 4, 2]], ['substring', ['abcdef', 2, 100]], ['substring', ['abcdef', 7, 9]],
    ['substring', ['abcdef', -1, 2]], ['substring', ['abcdef', 1, -1]], ['fromCharCode', [0x10041]],
    ['fromCharCode', [-1]], ['fromCodePoint', [0x10ffff]], ['equals', [null, null]], ['equals', [null, 'a']],
    ['compare', ['a', 'B']], ['compare', ['\uD800', '\uFFFF']], ['charCodeAt', ['\uD83D\uDE00', 1]],
    ['codePointAt', ['\uD83D\uDE00', 0]], ['codePointAt', ['\uD83D\uDE00', 1]]);
  return calls;
}

const CONFIGS = {
  lazy: { lazy: true, firstTier: 'baseline', tierUp: 'dynamic' },
  baseline: { lazy: false, firstTier: 'baseline', tierUp: 'off' },
  optimized: { lazy: false, firstTier: 'optimized', tierUp: 'off' },
};

describe.each(Object.keys(CONFIGS))('builtins called from wasm (%s)', (config) => {
  let saved;
  let builtin;
  let reference;
  beforeAll(() => {
    saved = getCompileOptions();
    setCompileOptions(CONFIGS[config]);
    const bytes = callersModule();
    builtin = new W.Instance(new W.Module(bytes, JS_STRING), {}).exports;
    reference = new NodeWasm.Instance(new NodeWasm.Module(callersModule(true)), { 'wasm:js-string': polyfill(NodeWasm) }).exports;
  });
  afterAll(() => setCompileOptions(saved));

  test('every call of the spec\'s basic.any.js: the results and error classes of the polyfill on Node\'s engine', () => {
    const calls = basicCalls();
    expect(calls.length).toBeGreaterThan(500);
    let traps = 0;
    for (const [name, args] of calls) {
      const expected = outcome(reference[name], args);
      const actual = outcome(builtin[name], args);
      if (expected.error === 'RuntimeError') traps++;
      expect({ name, args, ...actual }).toEqual({ name, args, ...expected });
    }
    // Non-strings, out-of-range indices and too large code points trap.
    expect(traps).toBeGreaterThan(200);
  });

  test('fromCodePoint past 0x10FFFF traps (the polyfill throws a RangeError there; the spec traps)', () => {
    for (const v of [0x110000, -1, 0x7fffffff]) {
      expect(() => builtin.fromCodePoint(v)).toThrow(W.RuntimeError);
      expect(() => builtin.fromCodePoint(v)).toThrow(/Invalid code point/);
    }
  });

  test('a trap is a RuntimeError of cranewasm\'s realm, with the wasm frame in its stack', () => {
    let error;
    try {
      builtin.length(42);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(W.RuntimeError);
    expect(error.message).toBe('illegal cast');
    expect(error.stack).toMatch(/wasm:\/\/wasm\/[0-9a-f]+:wasm-function\[\d+\]/);
    expect(error.stack).not.toMatch(/builtins\.js/);
    let outOfRange;
    try {
      builtin.charCodeAt('abc', 5);
    } catch (e) {
      outOfRange = e;
    }
    expect(outOfRange).toBeInstanceOf(W.RuntimeError);
    expect(outOfRange.message).toBe('string offset out of bounds');
  });
});

describe('compile options', () => {
  const lengthModule = () => {
    const b = new ModuleBuilder();
    const len = b.importFunction('wasm:js-string', 'length', ['externref'], ['i32']);
    b.export('len', 'function', b.function(['externref'], ['i32'], [OP.localGet, 0, OP.call, len]));
    return b.toBytes();
  };

  test('every compiling function takes them; without them the import is an ordinary one (Node 20 too)', async () => {
    const bytes = lengthModule();
    const len = (instance) => instance.exports.len('four');
    expect(len(new W.Instance(new W.Module(bytes, JS_STRING)))).toBe(4);
    expect(len(new W.Instance(await W.compile(bytes, JS_STRING)))).toBe(4);
    expect(len((await W.instantiate(bytes, {}, JS_STRING)).instance)).toBe(4);
    expect(len((await W.instantiate(bytes, undefined, JS_STRING)).instance)).toBe(4);
    const response = () => new Response(bytes, { headers: { 'content-type': 'application/wasm' } });
    expect(len(new W.Instance(await W.compileStreaming(response(), JS_STRING)))).toBe(4);
    expect(len((await W.instantiateStreaming(response(), {}, JS_STRING)).instance)).toBe(4);
    expect(len((await new Sandbox({ fuel: 1e9 }).instantiate(bytes, {}, JS_STRING)).instance)).toBe(4);
    // A Module given to instantiate keeps the options it was compiled with; instantiate's options
    // are for bytes only.
    expect(len(await W.instantiate(new W.Module(bytes, JS_STRING), {}))).toBe(4);
    // Without the options: an import like any other, on either engine.
    for (const ns of [W, NodeWasm]) {
      const plain = new ns.Module(bytes);
      expect(ns.Module.imports(plain)).toEqual([{ module: 'wasm:js-string', name: 'length', kind: 'function' }]);
      expect(() => new ns.Instance(plain, {})).toThrow(TypeError);
      const polyfilled = new ns.Instance(plain, { 'wasm:js-string': { length: (s) => s.length * 10 } });
      expect(polyfilled.exports.len('four')).toBe(40);
    }
    // A Module compiled with builtins does not look in the import object for them.
    const instance = new W.Instance(new W.Module(bytes, JS_STRING), { 'wasm:js-string': { length: () => 99 } });
    expect(len(instance)).toBe(4);
    // The options of instantiate(module, …) are ignored.
    await expect(W.instantiate(new W.Module(bytes), {}, JS_STRING)).rejects.toThrow(TypeError);
  });

  test('the WebIDL dictionary: undefined and null are empty; other primitives are TypeErrors; builtins is any iterable', async () => {
    const bytes = lengthModule();
    for (const options of [undefined, null, {}, { builtins: [] }, { importedStringConstants: null }]) {
      expect(W.Module.imports(new W.Module(bytes, options))).toHaveLength(1);
    }
    for (const options of [1, 'js-string', true, Symbol('x'), 1n]) {
      expect(() => new W.Module(bytes, options)).toThrow(TypeError);
      expect(() => W.validate(bytes, options)).toThrow(TypeError);
      await expect(W.compile(bytes, options)).rejects.toThrow(TypeError);
      await expect(W.instantiate(bytes, {}, options)).rejects.toThrow(TypeError);
    }
    for (const builtins of ['js-string', 1, null, { length: 1, 0: 'js-string' }]) {
      expect(() => new W.Module(bytes, { builtins })).toThrow(/builtins must be a sequence/);
    }
    expect(W.Module.imports(new W.Module(bytes, { builtins: new Set(['js-string']) }))).toEqual([]);
    expect(W.Module.imports(new W.Module(bytes, { builtins: (function* () { yield 'js-string'; })() }))).toEqual([]);
    // Members are converted with ToString; a Symbol cannot be.
    expect(W.Module.imports(new W.Module(bytes, { builtins: [{ toString: () => 'js-string' }] }))).toEqual([]);
    expect(() => new W.Module(bytes, { builtins: [Symbol('js-string')] })).toThrow(TypeError);
    // Getters run, in WebIDL's order (builtins, then importedStringConstants); their errors propagate.
    const order = [];
    const options = {
      get importedStringConstants() { order.push('importedStringConstants'); return null; },
      get builtins() { order.push('builtins'); return ['js-string']; },
    };
    new W.Module(bytes, options);
    expect(order).toEqual(['builtins', 'importedStringConstants']);
    const boom = new Error('boom');
    expect(() => new W.Module(bytes, { get builtins() { throw boom; } })).toThrow(boom);
    await expect(W.compile(bytes, { get builtins() { throw boom; } })).rejects.toBe(boom);
    // The functions keep their lengths (the options are optional).
    expect([W.compile.length, W.validate.length, W.instantiate.length, W.compileStreaming.length,
      W.instantiateStreaming.length, W.Module.length]).toEqual([1, 1, 1, 1, 1, 1]);
  });

  test('builtin set names: unknown ones are ignored, duplicates are a CompileError (validate: false)', async () => {
    const bytes = lengthModule();
    expect(W.Module.imports(new W.Module(bytes, { builtins: ['text-encoder', 'js-string2'] }))).toHaveLength(1);
    expect(W.validate(bytes, { builtins: ['nope'] })).toBe(true);
    expect(() => new W.Module(bytes, { builtins: ['js-string', 'js-string'] })).toThrow(W.CompileError);
    expect(() => new W.Module(bytes, { builtins: ['x', 'x'] })).toThrow(W.CompileError);
    expect(W.validate(bytes, { builtins: ['js-string', 'js-string'] })).toBe(false);
    await expect(W.compile(bytes, { builtins: ['js-string', 'js-string'] })).rejects.toThrow(W.CompileError);
  });

  test('an invalid module is a CompileError before the options are looked at', () => {
    const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1]);
    expect(() => new W.Module(bytes, JS_STRING)).toThrow(W.CompileError);
    expect(W.validate(bytes, JS_STRING)).toBe(false);
  });
});

describe('builtin imports are checked at compile time', () => {
  const importing = (name, params, results) => {
    const b = new ModuleBuilder();
    b.importFunction('wasm:js-string', name, params, results);
    return b.toBytes();
  };

  test('each builtin with its type compiles; with any other type it is a CompileError naming the import, and validate() is false', async () => {
    for (const { name, params, results } of BUILTINS) {
      expect(W.validate(importing(name, params, results), JS_STRING)).toBe(true);
      // A wrong result type: externref for (ref extern) and the other way round, or i64 for i32.
      const otherResults = results.map((r) => (r === 'i32' ? 'i64' : r === 'externref' ? REF_EXTERN : 'externref'));
      const otherParams = [...params, 'i32'];
      for (const bytes of [importing(name, params, otherResults), importing(name, otherParams, results), importing(name, [], [])]) {
        expect(W.validate(bytes)).toBe(true); // as an ordinary import
        expect(W.validate(bytes, JS_STRING)).toBe(false);
        expect(() => new W.Module(bytes, JS_STRING)).toThrow(W.CompileError);
        expect(() => new W.Module(bytes, JS_STRING)).toThrow(`Import #0 "wasm:js-string" "${name}"`);
        await expect(W.compile(bytes, JS_STRING)).rejects.toThrow(W.CompileError);
      }
    }
  });

  test('a builtin imported as another kind is a CompileError', () => {
    const b = new ModuleBuilder();
    b.importGlobal('wasm:js-string', 'length', { type: 'i32' });
    expect(() => new W.Module(b.toBytes(), JS_STRING)).toThrow(/"wasm:js-string" "length": .*cannot be imported as a global/);
  });

  test('fromCharCodeArray and intoCharCodeArray: a module declaring (array (mut i16)) imports them; without GC their array is only ever null, and they trap', () => {
    const section = (id, payload) => [id, payload.length, ...payload];
    const str = (t) => [t.length, ...Buffer.from(t)];
    const NULL_ARRAY = [0x63, 0x00]; // (ref null 0)
    const types = [
      5,
      0x5e, 0x77, 0x01, // 0: (array (mut i16))
      0x60, 3, ...NULL_ARRAY, 0x7f, 0x7f, 1, ...REF_EXTERN, // 1: fromCharCodeArray's type
      0x60, 3, 0x6f, ...NULL_ARRAY, 0x7f, 1, 0x7f, // 2: intoCharCodeArray's type
      0x60, 0, 1, ...REF_EXTERN, // 3: () -> (ref extern)
      0x60, 0, 1, 0x7f, // 4: () -> i32
    ];
    const imports = [2, ...str('wasm:js-string'), ...str('fromCharCodeArray'), 0, 1, ...str('wasm:js-string'), ...str('intoCharCodeArray'), 0, 2];
    const from = [0, 0xd0, 0x00, 0x41, 0, 0x41, 0, 0x10, 0, 0x0b];
    const into = [0, 0xd0, 0x6f, 0xd0, 0x00, 0x41, 0, 0x10, 1, 0x0b];
    const bytes = new Uint8Array([
      0, 97, 115, 109, 1, 0, 0, 0,
      ...section(1, types),
      ...section(2, imports),
      ...section(3, [2, 3, 4]),
      ...section(7, [2, ...str('from'), 0, 2, ...str('into'), 0, 3]),
      ...section(10, [2, from.length, ...from, into.length, ...into]),
    ]);
    // Declaring an array type is WebAssembly 3.0 (Node 20 has no GC and refuses it).
    expect(NodeWasm.validate(bytes)).toBe(false);
    expect(W.validate(bytes, JS_STRING)).toBe(true);
    const { exports } = new W.Instance(new W.Module(bytes, JS_STRING), {});
    expect(() => exports.from()).toThrow(W.RuntimeError);
    expect(() => exports.into()).toThrow(W.RuntimeError);
    // Any other type is a mismatch.
    for (const [name, params, results] of [
      ['fromCharCodeArray', ['externref', 'i32', 'i32'], [REF_EXTERN]],
      ['intoCharCodeArray', ['externref', 'externref', 'i32'], ['i32']],
    ]) {
      const other = importing(name, params, results);
      expect(W.validate(other, JS_STRING)).toBe(false);
      expect(() => new W.Module(other, JS_STRING)).toThrow(/with \$a = \(array \(mut i16\)\) and cannot be imported as/);
    }
  });

  test('a builtin\'s signature in a rec group of two types (the spec\'s "Incorrect types"), or declared with sub, is a CompileError: the builtin\'s type is final and alone in its group', () => {
    // An import of "test" with type 0, the builtin's signature (func (param externref) (result i32))
    // declared in a rec group with a struct (the spec's test), with another function, or as a
    // non-final sub type: valid WebAssembly 3.0 modules, whose import is no builtin's type.
    const signature = [0x60, 0x01, 0x6f, 0x01, 0x7f];
    const typeSections = [
      [0x01, 0x4e, 0x02, ...signature, 0x5f, 0x00], // (rec (type $sig) (type (struct)))
      [0x01, 0x4e, 0x02, ...signature, 0x60, 0x00, 0x00], // (rec (type $sig) (type (func)))
      [0x01, 0x50, 0x00, ...signature], // (type (sub $sig))
    ];
    const imports = [0x01, 0x0e, ...Buffer.from('wasm:js-string'), 0x04, ...Buffer.from('test'), 0x00, 0x00];
    for (const types of typeSections) {
      const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 0x01, types.length, ...types, 0x02, imports.length, ...imports]);
      expect(W.validate(bytes)).toBe(true);
      expect(W.validate(bytes, JS_STRING)).toBe(false);
      expect(() => new W.Module(bytes, JS_STRING)).toThrow(/not a final type alone in its recursion group/);
    }
    // The same signature as a plain type: the builtin.
    const plain = [0x01, ...signature];
    const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 0x01, plain.length, ...plain, 0x02, imports.length, ...imports]);
    expect(W.validate(bytes, JS_STRING)).toBe(true);
  });

  test('names that are no builtin of the set are ordinary imports (looked up in the import object)', () => {
    const b = new ModuleBuilder();
    const other = b.importFunction('wasm:js-string', 'toUpperCase', ['externref'], ['externref']);
    const len = b.importFunction('wasm:js-string', 'length', ['externref'], ['i32']);
    b.export('upper', 'function', b.function(['externref'], ['externref'], [OP.localGet, 0, OP.call, other]));
    b.export('len', 'function', b.function(['externref'], ['i32'], [OP.localGet, 0, OP.call, len]));
    const module = new W.Module(b.toBytes(), JS_STRING);
    expect(W.Module.imports(module)).toEqual([{ module: 'wasm:js-string', name: 'toUpperCase', kind: 'function' }]);
    expect(() => new W.Instance(module)).toThrow(TypeError);
    expect(() => new W.Instance(module, {})).toThrow(/Import #0 module="wasm:js-string" error: module is not an object or function/);
    const { exports } = new W.Instance(module, { 'wasm:js-string': { toUpperCase: (s) => s.toUpperCase() } });
    expect([exports.upper('abc'), exports.len('abc')]).toEqual(['ABC', 3]);
  });
});

describe('builtin functions as values', () => {
  const reexporting = () => {
    const b = new ModuleBuilder();
    const len = b.importFunction('wasm:js-string', 'length', ['externref'], ['i32']);
    const sub = b.importFunction('wasm:js-string', 'substring', ['externref', 'i32', 'i32'], [REF_EXTERN]);
    b.export('length', 'function', len).export('sub', 'function', sub);
    return b.toBytes();
  };

  test('a re-exported builtin is an exported function named after the import, with the builtin\'s behaviour when called from JS', () => {
    const module = new W.Module(reexporting(), JS_STRING);
    const { exports } = new W.Instance(module);
    expect(exports.length.name).toBe('length');
    expect(exports.length.length).toBe(1);
    expect(exports.sub.name).toBe('substring');
    expect(exports.length('hello')).toBe(5);
    expect(() => exports.length(5)).toThrow(W.RuntimeError);
    // i32 parameters are converted as an exported function's (ToInt32), then read as unsigned.
    expect(exports.sub('abcdef', '1', { valueOf: () => 3 })).toBe('bc');
    expect(exports.sub('abcdef', 2 ** 32 + 1, 3)).toBe('bc');
    expect(() => exports.sub('abcdef', 1n, 3)).toThrow(TypeError);
    expect('prototype' in exports.length).toBe(false);
    expect(() => new exports.length('x')).toThrow(TypeError);
  });

  test('each instance has its own instantiation of the builtins', () => {
    const module = new W.Module(reexporting(), JS_STRING);
    const a = new W.Instance(module).exports;
    const b = new W.Instance(module).exports;
    expect(a.length).not.toBe(b.length);
    expect(a.length('abc')).toBe(b.length('abc'));
    // Within one instance, one function: exported twice, the same object.
    const twice = new ModuleBuilder();
    const len = twice.importFunction('wasm:js-string', 'length', ['externref'], ['i32']);
    twice.export('x', 'function', len).export('y', 'function', len);
    const { exports } = new W.Instance(new W.Module(twice.toBytes(), JS_STRING));
    expect(exports.x).toBe(exports.y);
  });

  test('a builtin exported by one instance and imported by another (as an ordinary import) works there', () => {
    const first = new W.Instance(new W.Module(reexporting(), JS_STRING)).exports;
    const b = new ModuleBuilder();
    const len = b.importFunction('env', 'len', ['externref'], ['i32']);
    b.export('f', 'function', b.function(['externref'], ['i32'], [OP.localGet, 0, OP.call, len]));
    const second = new W.Instance(new W.Module(b.toBytes()), { env: { len: first.length } }).exports;
    expect(second.f('abc')).toBe(3);
    expect(() => second.f({})).toThrow(W.RuntimeError);
  });
});

describe('imported string constants (the spec\'s constants.any.js and imports.any.js)', () => {
  // constants.any.js's instantiateImportedGlobal.
  function importedGlobal(moduleName, name, type, mutable, importedStringConstants) {
    const b = new ModuleBuilder();
    b.importGlobal(moduleName, name, { type, mutable });
    b.export('global', 'global', 0);
    const module = new W.Module(b.toBytes(), { importedStringConstants });
    return new W.Instance(module, {}).exports.global;
  }

  test('global types other than an immutable externref or (ref extern) are a CompileError', () => {
    const bad = [
      [ANYREF, false], [ANYREF, true], ['funcref', false], ['funcref', true], [REF_FUNC, false], [REF_FUNC, true],
      ['externref', true], [REF_EXTERN, true], ['i32', false],
    ];
    for (const [type, mutable] of bad) {
      expect(() => importedGlobal("'", 'constant', type, mutable, "'")).toThrow(W.CompileError);
    }
    expect(() => importedGlobal('s', 'x', 'externref', true, 's')).toThrow(/an imported string constant must be an immutable global/);
    // A function from the strings module.
    const b = new ModuleBuilder();
    b.importFunction('s', 'f');
    expect(() => new W.Module(b.toBytes(), { importedStringConstants: 's' })).toThrow(W.CompileError);
    expect(W.validate(b.toBytes(), { importedStringConstants: 's' })).toBe(false);
  });

  test('each constant is the import\'s name, in every namespace, for both types', () => {
    const constants = ['', '\0', '0', '0'.repeat(100000), '\uD83D\uDE00'];
    for (const namespace of ['', "'", 'strings']) {
      for (const constant of constants) {
        for (const type of ['externref', REF_EXTERN]) {
          expect(importedGlobal(namespace, constant, type, false, namespace).value).toBe(constant);
        }
      }
    }
  });

  test('importedStringConstants is a USVString: converted with ToString, lone surrogates replaced', () => {
    expect(importedGlobal('42', 'x', 'externref', false, 42).value).toBe('x');
    expect(importedGlobal('\uFFFD', 'y', 'externref', false, '\uD800').value).toBe('y');
  });

  test('Module.imports() leaves out builtins and string constants, and no import object is needed for them', () => {
    // imports.any.js.
    const b = new ModuleBuilder();
    b.importGlobal('constants', 'constant', { type: 'externref' });
    b.importFunction('wasm:js-string', 'test', ['externref'], ['i32']);
    const bytes = b.toBytes();
    const module = new W.Module(bytes, { builtins: ['js-string'], importedStringConstants: 'constants' });
    expect(W.Module.imports(module)).toEqual([]);
    new W.Instance(module);
    new W.Instance(module, {});
    // With only one of the options, the other import is listed and looked up.
    const onlyStrings = new W.Module(bytes, { importedStringConstants: 'constants' });
    expect(W.Module.imports(onlyStrings)).toEqual([{ module: 'wasm:js-string', name: 'test', kind: 'function' }]);
    expect(W.Module.imports(new W.Module(bytes, JS_STRING))).toEqual([{ module: 'constants', name: 'constant', kind: 'global' }]);
  });

  test('string constants and builtins together: wasm concatenates the constants', () => {
    const b = new ModuleBuilder();
    const concat = b.importFunction('wasm:js-string', 'concat', ['externref', 'externref'], [REF_EXTERN]);
    b.importGlobal('str', 'hello, ', { type: REF_EXTERN });
    b.importGlobal('str', 'world ☺', { type: 'externref' });
    b.export('greet', 'function', b.function([], [REF_EXTERN], [OP.globalGet, 0, OP.globalGet, 1, OP.call, concat]));
    const { instance } = { instance: new W.Instance(new W.Module(b.toBytes(), { builtins: ['js-string'], importedStringConstants: 'str' })) };
    expect(instance.exports.greet()).toBe('hello, world ☺');
  });

  test('the string-constants module wins over a builtin set of the same name (the spec\'s order)', () => {
    const b = new ModuleBuilder();
    b.importGlobal('wasm:js-string', 'length', { type: 'externref' });
    b.export('g', 'global', 0);
    const options = { builtins: ['js-string'], importedStringConstants: 'wasm:js-string' };
    expect(new W.Instance(new W.Module(b.toBytes(), options)).exports.g.value).toBe('length');
    expect(() => new W.Module(b.toBytes(), JS_STRING)).toThrow(W.CompileError);
  });
});

test('feature detection: wasm-feature-detect\'s jsStringBuiltins probe finds them', async () => {
  // Its module imports "wasm:js-string" "test" and is instantiated with an empty import object.
  const probe = Uint8Array.from(atob('AGFzbQEAAAABBgFgAW8BfwIXAQ53YXNtOmpzLXN0cmluZwR0ZXN0AAA='), (c) => c.codePointAt(0));
  await expect(W.instantiate(probe, {}, JS_STRING)).resolves.toHaveProperty('instance');
  // Node 20 has no builtins: it ignores the options and fails to link; so does cranewasm without them.
  await expect(NodeWasm.instantiate(probe, {}, JS_STRING)).rejects.toThrow(TypeError);
  await expect(W.instantiate(probe, {})).rejects.toThrow(TypeError);
});

describe('the binding\'s fast paths (test, cast, length, equals, charCodeAt) agree with the builtins\' definitions', () => {
  // hash(s): length, then charCodeAt of every unit (bench/strings.wat); pair(a, b, i): the units
  // of two strings at i, interleaved; plus each builtin alone.
  let exports;
  beforeAll(() => {
    const b = new ModuleBuilder();
    const len = b.importFunction('wasm:js-string', 'length', ['externref'], ['i32']);
    const at = b.importFunction('wasm:js-string', 'charCodeAt', ['externref', 'i32'], ['i32']);
    const eq = b.importFunction('wasm:js-string', 'equals', ['externref', 'externref'], ['i32']);
    const test = b.importFunction('wasm:js-string', 'test', ['externref'], ['i32']);
    const cast = b.importFunction('wasm:js-string', 'cast', ['externref'], [REF_EXTERN]);
    b.export('length', 'function', b.function(['externref'], ['i32'], [OP.localGet, 0, OP.call, len]));
    b.export('at', 'function', b.function(['externref', 'i32'], ['i32'], [OP.localGet, 0, OP.localGet, 1, OP.call, at]));
    b.export('equals', 'function', b.function(['externref', 'externref'], ['i32'], [OP.localGet, 0, OP.localGet, 1, OP.call, eq]));
    b.export('test', 'function', b.function(['externref'], ['i32'], [OP.localGet, 0, OP.call, test]));
    b.export('cast', 'function', b.function(['externref'], [REF_EXTERN], [OP.localGet, 0, OP.call, cast]));
    // pair(a, b, i) = at(a, i) * 65536 + at(b, i)
    b.export('pair', 'function', b.function(['externref', 'externref', 'i32'], ['i32'], [
      OP.localGet, 0, OP.localGet, 2, OP.call, at, 0x41, 0x80, 0x80, 0x04, 0x6c, // i32.const 65536, i32.mul
      OP.localGet, 1, OP.localGet, 2, OP.call, at, 0x6a, // i32.add
    ]));
    const module = new W.Module(b.toBytes(), JS_STRING);
    const strings = require('fs').readFileSync(require('path').join(__dirname, '..', 'bench', 'strings.wasm'));
    const { hash } = new W.Instance(new W.Module(strings, JS_STRING)).exports;
    exports = { ...new W.Instance(module).exports, hash };
  });

  const jsHash = (s) => {
    let h = 0;
    for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
    return h;
  };

  test('long and short strings, repeated and alternating, and out-of-range indices on the cached string', () => {
    const long = 'é☺ab'.repeat(5000) + '\uD83D\uDE00';
    const other = 'xyz'.repeat(7000);
    for (const s of ['', 'a', 'short string', long, other, long]) expect(exports.hash(s)).toBe(jsHash(s));
    // Two long strings read in turn: each call is a miss for one of them.
    for (let i = 0; i < Math.min(long.length, other.length); i += 97) {
      expect(exports.pair(long, other, i)).toBe((long.charCodeAt(i) * 65536 + other.charCodeAt(i)) | 0);
    }
    // The cached string: its length, and a trap past its end, also with indices read as unsigned.
    expect(exports.at(long, long.length - 1)).toBe(0xde00);
    expect(exports.length(long)).toBe(long.length);
    expect(() => exports.at(long, long.length)).toThrow(W.RuntimeError);
    expect(() => exports.at(long, -1)).toThrow('string offset out of bounds');
    // Strings equal in content but distinct objects are the same string.
    const built = ['é☺ab'.repeat(5000), '\uD83D\uDE00'].join('');
    expect(exports.equals(long, built)).toBe(1);
    expect(exports.at(built, 3)).toBe(98);
  });

  test('values that are not strings still trap (the JS function answers them)', () => {
    for (const value of [null, undefined, 1, {}, Symbol('s'), new String('s')]) {
      expect(exports.test(value)).toBe(0);
      expect(() => exports.cast(value)).toThrow(W.RuntimeError);
      expect(() => exports.length(value)).toThrow(W.RuntimeError);
      expect(() => exports.at(value, 0)).toThrow(W.RuntimeError);
    }
    expect(exports.equals(null, null)).toBe(1);
    expect(exports.equals(null, 'a')).toBe(0);
    expect(exports.equals('a', 'a')).toBe(1);
    expect(() => exports.equals(1, 'a')).toThrow(W.RuntimeError);
    expect(() => exports.equals('a', {})).toThrow(W.RuntimeError);
    expect(exports.cast('kept')).toBe('kept');
  });

  test('a store slot reused for another string after a sweep is not answered from the cache', async () => {
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    await turn();
    await turn(); // a sweep has freed every slot: the next string takes the lowest one
    expect(exports.at('abc', 1)).toBe(98); // copied, cached under its slot
    await turn();
    await turn(); // that slot is freed…
    expect(exports.at('xyz', 1)).toBe(121); // …and taken by this string
    expect(exports.at('xyz', 2)).toBe(122);
    await turn();
    await turn();
    expect(exports.length('four')).toBe(4);
  });

  test('across many calls and sweeps of the externref store (slots reused for other strings), every answer is the string\'s own', async () => {
    // Each call from JS puts its string in a new store slot; sweeps free them and the slots are
    // reused: a cached answer must never outlive the string it was for.
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 3000; i++) {
        const s = `${round}:${i}:${'q'.repeat(i % 130)}`;
        const index = (i * 7) % s.length;
        if (exports.at(s, index) !== s.charCodeAt(index) || exports.length(s) !== s.length) {
          throw new Error(`wrong answer for ${JSON.stringify(s)} at ${index}`);
        }
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  });
});

// The JS <-> wasm boundary against Node's built-in WebAssembly: exported function objects (name,
// length, identity across exports, tables, globals and re-exports), ToWebAssemblyValue of the
// arguments and ToJSValue of the results for every value type, imports returning several values,
// v128 in signatures, and wasm functions linked directly from one instance into another.
'use strict';

const { cranewasm, loadWabt, wat, instantiate, both, run, callAll } = require('./helpers/execution.js');

beforeAll(loadWabt);

function differential(text, body, imports = () => undefined) {
  const bytes = wat(text);
  return both((W) => body(W, instantiate(W, bytes, imports(W))));
}

const TYPE_ERROR = (message) => ({ threw: 'TypeError', message });
const INCOMPATIBLE = TYPE_ERROR('type incompatibility when transforming from/to JS');

// ---------------------------------------------------------------------------------------------
// Exported function objects
// ---------------------------------------------------------------------------------------------

describe('exported functions', () => {
  const TEXT = `(module
    (import "env" "js" (func $js (param i32) (result i32)))
    (func $zero)
    (func $three (param i32 i64 f64) (result i32) (local.get 0))
    (func $hidden (result i32) (i32.const 33))
    (func $many (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
      (i32.add (local.get 0) (local.get 9)))
    (table (export "table") 3 funcref)
    (elem (i32.const 0) $three $hidden $js)
    (global (export "global") funcref (ref.func $three))
    (export "zero" (func $zero))
    (export "three" (func $three))
    (export "again" (func $three))
    (export "many" (func $many))
    (export "js" (func $js))
    (func (export "ref") (result funcref) (ref.func $three))
    (func (export "get") (param i32) (result funcref) (table.get (local.get 0))))`;
  const imports = () => ({ env: { js: (x) => x * 2 } });

  test('name is the function index, length the parameter count, as Node\'s own properties', () => {
    const { ours, theirs } = differential(TEXT, (W, e) => {
      const shape = (f) => Object.getOwnPropertyNames(f).map((key) => [key, Object.getOwnPropertyDescriptor(f, key)]);
      return [e.zero.name, e.zero.length, e.three.name, e.three.length, e.many.name, e.many.length, e.js.name, e.js.length,
        e.table.get(1).name, typeof e.three, shape(e.three), shape(e.table.get(1))];
    }, imports);
    expect(theirs.value.slice(0, 9)).toEqual(['1', 0, '2', 3, '4', 10, '0', 1, '3']);
    expect(ours).toEqual(theirs);
  });

  // The TypeError quotes the function's source text, which differs by design (cranewasm's
  // exported functions are arrow wrappers of a native function, V8's print "[native code]"), so
  // the messages are compared up to it.
  test('exported functions are not constructors', () => {
    const withoutSource = (outcome) => (outcome.message === undefined ? outcome
      : { ...outcome, message: outcome.message.replace(/^.* is not a constructor$/s, '<source> is not a constructor') });
    const { ours, theirs } = differential(TEXT, (W, e) => [
      withoutSource(run(W, () => Reflect.construct(e.three, [1, 2n, 3]))),
      withoutSource(run(W, () => Reflect.construct(function () {}, [], e.zero) && 'a constructor')),
    ], imports);
    expect(theirs.value[0].threw).toBe('TypeError');
    expect(theirs.value[0].message).toBe('<source> is not a constructor');
    expect(ours).toEqual(theirs);
  });

  test('the same function is the same object: exported twice, from a table, a global, ref.func', () => {
    const { ours, theirs } = differential(TEXT, (W, e) => [
      e.three === e.again, e.table.get(0) === e.three, e.get(0) === e.three, e.global.value === e.three, e.ref() === e.three,
      e.table.get(1) === e.table.get(1), e.get(1) === e.table.get(1), e.get(2) === e.js, e.table.get(1)(),
    ], imports);
    expect(theirs.value).toEqual([true, true, true, true, true, true, true, true, 33]);
    expect(ours).toEqual(theirs);
  });

  test('a wasm function re-exported through an instance that imported it is the same object', () => {
    const exporter = wat(TEXT);
    const reexporter = wat(`(module
      (import "a" "three" (func $three (param i32 i64 f64) (result i32)))
      (import "a" "js" (func $js (param i32) (result i32)))
      (table (export "table") 1 funcref)
      (elem (i32.const 0) $three)
      (export "three" (func $three))
      (export "js" (func $js)))`);
    const { ours, theirs } = both((W) => {
      const a = instantiate(W, exporter, imports(W));
      const b = instantiate(W, reexporter, { a });
      const c = instantiate(W, reexporter, { a: b });
      return [b.three === a.three, c.three === a.three, b.table.get(0) === a.three, b.js === a.js, c.js === a.js,
        b.three(7, 0n, 0), c.js(21)];
    });
    expect(theirs.value).toEqual([true, true, true, true, true, 7, 42]);
    expect(ours).toEqual(theirs);
  });

  test('a JS function imported and re-exported becomes an exported function of its own', () => {
    const bytes = wat(`(module (import "env" "f" (func $f (param i32 i32) (result i32))) (export "f" (func $f)) (export "g" (func $f)))`);
    const { ours, theirs } = both((W) => {
      const js = (a, b) => a - b;
      const e = instantiate(W, bytes, { env: { f: js } });
      const e2 = instantiate(W, bytes, { env: { f: js } });
      return [e.f === js, e.f === e.g, e.f === e2.f, e.f.name, e.f.length, e.f(10, '3'), e.f(2 ** 32 + 1)];
    });
    expect(theirs.value[0]).toBe(false);
    expect(ours).toEqual(theirs);
  });
});

// ---------------------------------------------------------------------------------------------
// Argument and result conversions
// ---------------------------------------------------------------------------------------------

describe('conversions', () => {
  const IDENTITY = `(module
    (func (export "i32") (param i32) (result i32) (local.get 0))
    (func (export "i32x3") (param i32 i32 i32) (result i32 i32 i32) (local.get 0) (local.get 1) (local.get 2))
    (func (export "i64") (param i64) (result i64) (local.get 0))
    (func (export "f32") (param f32) (result f32) (local.get 0))
    (func (export "f64") (param f64) (result f64) (local.get 0))
    (func (export "externref") (param externref) (result externref) (local.get 0))
    (func (export "externref is null") (param externref) (result i32) (ref.is_null (local.get 0)))
    (func (export "funcref") (param funcref) (result funcref) (local.get 0))
    (func (export "mixed") (param i32 i64 f32 f64 externref) (result f64 i32 i64 f32 externref)
      (local.get 3) (local.get 0) (local.get 1) (local.get 2) (local.get 4))
    (func (export "i64 constants") (result i64 i64 i64 i64)
      (i64.const -1) (i64.const 0x7fffffffffffffff) (i64.const 0x8000000000000000) (i64.const 4294967296))
    (func (export "i32 constants") (result i32 i32 i32)
      (i32.const -1) (i32.const 0x80000000) (i32.const 0xffffffff))
    (func (export "f32 constants") (result f32 f32 f32 f32)
      (f32.const 0.1) (f32.const -0) (f32.const 0x1p-149) (f32.const nan))
    (func (export "f64 constants") (result f64 f64 f64)
      (f64.const -0) (f64.const inf) (f64.const 0x1.fffffffffffffp+1023)))`;

  const objectWithValueOf = (value) => ({ valueOf: () => value });

  test('i32 arguments: ToInt32', () => {
    const args = [[2 ** 32 + 5], [-0], [NaN], [Infinity], ['7'], [' 0x10 '], ['x'], [true], [null], [undefined], [[]], [[9]],
      [{}], [objectWithValueOf(-3.7)], [2 ** 31], [-(2 ** 31) - 1], [4294967295.9], [1e21], [Symbol('s')], [1n], []];
    const { ours, theirs } = differential(IDENTITY, (W, e) => callAll(W, e, 'i32', args));
    expect(theirs.value[0][1]).toEqual({ value: 5 });
    expect(theirs.value[18][1]).toEqual(TYPE_ERROR('Cannot convert a Symbol value to a number'));
    expect(ours).toEqual(theirs);
  });

  test('valueOf is called once per argument, in order; a throwing valueOf stops the call', () => {
    const { ours, theirs } = differential(IDENTITY, (W, e) => {
      const log = [];
      const tracked = (name, value) => ({ valueOf() { log.push(name); return value; } });
      const results = [
        run(W, () => e.i32x3(tracked('a', 1), tracked('b', 2), tracked('c', 3))),
        run(W, () => e.i32x3(tracked('d', 1), { valueOf() { log.push('e'); throw new RangeError('from valueOf'); } }, tracked('f', 3))),
        run(W, () => e.i32(tracked('g', 1), tracked('extra', 2))),
        run(W, () => e.mixed(tracked('h', 1), { valueOf: () => 1 }, tracked('i', 0.1), tracked('j', 2), tracked('k', 3))),
      ];
      return [results, log];
    });
    expect(theirs.value[1].slice(0, 5)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(ours).toEqual(theirs);
  });

  test('i64 arguments and results are BigInts: ToBigInt64, wrapping, TypeError for Numbers', () => {
    const args = [[5n], [-5n], ['5'], [' -12 '], ['0x10'], [''], ['x'], [true], [false], [2n ** 64n + 3n], [-(2n ** 63n) - 1n],
      [2n ** 63n], [objectWithValueOf(7n)], [5], [0], [null], [undefined], [Symbol('s')], [{}], []];
    const { ours, theirs } = differential(IDENTITY, (W, e) => [callAll(W, e, 'i64', args), e['i64 constants']()]);
    expect(theirs.value[0][2][1]).toEqual({ value: 5n });
    expect(theirs.value[0][13][1]).toEqual(TYPE_ERROR('Cannot convert 5 to a BigInt'));
    expect(theirs.value[0][9][1]).toEqual({ value: 3n });
    expect(ours).toEqual(theirs);
  });

  test('f32 arguments round to single precision; float results keep -0, NaN, Infinity and subnormals', () => {
    const args = [[0.1], [1 / 3], [16777217], [3.4028235677973366e38], [3.4028235677973362e38], [1e-46], [-0], [NaN], ['2.5'],
      [objectWithValueOf(1.1)], [undefined], [null], [1n], []];
    const { ours, theirs } = differential(IDENTITY, (W, e) => [
      callAll(W, e, 'f32', args), callAll(W, e, 'f64', args), e['f32 constants'](), e['f64 constants'](), e['i32 constants'](),
    ]);
    expect(theirs.value[0][0][1]).toEqual({ value: Math.fround(0.1) });
    expect(ours).toEqual(theirs);
  });

  test.each([
    ['an object', () => ({ an: 'object' })],
    ['an array', () => [1, 2]],
    ['a function', () => function f() {}],
    ['a Symbol', () => Symbol('s')],
    ['a string', () => 'string'],
    ['a number', () => 42],
    ['NaN', () => NaN],
    ['-0', () => -0],
    ['a BigInt', () => 10n],
    ['a boolean', () => false],
    ['undefined', () => undefined],
    ['null', () => null],
    ['an exported function', (e) => e.i32],
  ])('externref: %s goes in and comes back unchanged (the same value)', (_, make) => {
    const { ours, theirs } = differential(IDENTITY, (W, e) => {
      const value = make(e);
      const back = run(W, () => e.externref(value));
      return [back.threw === undefined && Object.is(e.externref(value), value), back, run(W, () => e['externref is null'](value))];
    });
    expect(theirs.value[0]).toBe(true);
    expect(ours).toEqual(theirs);
  });

  test('externref: a missing argument is undefined, not null', () => {
    const { ours, theirs } = differential(IDENTITY, (W, e) => [run(W, () => e.externref()), run(W, () => e['externref is null']())]);
    expect(theirs.value).toEqual([{ value: undefined }, { value: 0 }]);
    expect(ours).toEqual(theirs);
  });

  test('externref: any JS value in a Table and a Global, read back by wasm and JS', () => {
    const { ours, theirs } = differential(`(module
      (import "env" "table" (table 2 externref))
      (import "env" "global" (global $g (mut externref)))
      (func (export "get") (param i32) (result externref) (table.get (local.get 0)))
      (func (export "global") (result externref) (global.get $g)))`, (W, e) => [
      e.get(0), e.get(1), e.global(),
    ], (W) => {
      const table = new W.Table({ element: 'externref', initial: 2 });
      table.set(1, 'text');
      return { env: { table, global: new W.Global({ value: 'externref', mutable: true }, 12) } };
    });
    expect(theirs.value).toEqual([undefined, 'text', 12]);
    expect(ours).toEqual(theirs);
  });

  test('funcref: null or an exported wasm function; anything else is a TypeError', () => {
    const other = wat('(module (func (export "f") (param i32) (result i32) (i32.const 5)))');
    const { ours, theirs } = differential(IDENTITY, (W, e) => {
      const foreign = instantiate(W, other).f;
      return [
        e.funcref(null), e.funcref(e.i32) === e.i32, e.funcref(foreign) === foreign, e.funcref(foreign)(0),
        ...[() => 1, function named() {}, {}, 'f', 0, undefined, Math.max, cranewasm.validate].map((v) => run(W, () => e.funcref(v))),
        run(W, () => e.funcref()),
      ];
    });
    expect(theirs.value.slice(0, 4)).toEqual([null, true, true, 5]);
    expect(theirs.value[4]).toEqual(INCOMPATIBLE);
    expect(ours).toEqual(theirs);
  });

  test('missing arguments are undefined: 0 for i32, NaN for floats, a TypeError for i64; extra ones are ignored', () => {
    const { ours, theirs } = differential(IDENTITY, (W, e) => [
      run(W, () => e.i32()), run(W, () => e.f32()), run(W, () => e.f64()), run(W, () => e.i64()), run(W, () => e.i32x3(1)),
      run(W, () => e.mixed()), run(W, () => e.i32(1, 2, 3)),
    ]);
    expect(theirs.value[3]).toEqual(TYPE_ERROR('Cannot convert undefined to a BigInt'));
    expect(theirs.value[1]).toEqual({ value: NaN });
    expect(ours).toEqual(theirs);
  });

  test('several results are a new Array of this realm, every call', () => {
    const { ours, theirs } = differential(IDENTITY, (W, e) => {
      const first = e.i32x3(1, 2, 3);
      const second = e.i32x3(1, 2, 3);
      const object = {};
      return [Array.isArray(first), Object.getPrototypeOf(first) === Array.prototype, first !== second, first.length,
        Object.keys(first), first, e.mixed(-1, 2n, 0.1, -0, object)[4] === object, e.mixed(-1, 2n, 0.1, -0, object)];
    });
    expect(theirs.value.slice(0, 4)).toEqual([true, true, true, 3]);
    expect(ours).toEqual(theirs);
  });
});

// ---------------------------------------------------------------------------------------------
// Imports: arguments to JS, results from JS
// ---------------------------------------------------------------------------------------------

describe('JS imports', () => {
  test('an import gets converted arguments, `this` undefined, and its result is converted', () => {
    const bytes = wat(`(module
      (import "env" "see" (func $see (param i32 i64 f32 f64 externref funcref)))
      (import "env" "i32" (func $i32 (result i32)))
      (import "env" "i64" (func $i64 (result i64)))
      (import "env" "f32" (func $f32 (result f32)))
      (import "env" "externref" (func $externref (result externref)))
      (import "env" "funcref" (func $funcref (result funcref)))
      (table 1 externref)
      (func $self (export "self") (result i32) (i32.const 9))
      (func (export "call_see") (param externref)
        (call $see (i32.const -1) (i64.const -2) (f32.const 0.1) (f64.const -0) (local.get 0) (ref.func $self)))
      (func (export "i32") (result i32) (call $i32))
      (func (export "i64") (result i64) (call $i64))
      (func (export "f32") (result f32) (call $f32))
      (func (export "externref") (result externref) (call $externref))
      (func (export "funcref") (result funcref) (call $funcref)))`);
    const { ours, theirs } = both((W) => {
      const seen = [];
      let next;
      const returns = () => next;
      const e = instantiate(W, bytes, {
        env: {
          see(...args) { seen.push([this === undefined, args.length, ...args.slice(0, 4), args[5] === e.self]); },
          i32: returns, i64: returns, f32: returns, externref: returns, funcref: returns,
        },
      });
      e.call_see({});
      const results = [];
      for (const [name, values] of [
        ['i32', ['7', 2 ** 32 + 1, undefined, { valueOf: () => 12 }, 1n]],
        ['i64', [3n, '4', true, 5, undefined, 2n ** 64n]],
        ['f32', [0.1, '1.5', undefined, 1n]],
        ['externref', [undefined, null, 7, 'str', {}]],
        ['funcref', [null, e.self, () => 1, undefined]],
      ]) {
        for (const value of values) {
          next = value;
          const outcome = run(W, () => e[name]());
          results.push([name, outcome, name === 'externref' && outcome.threw === undefined ? Object.is(e.externref(), value) : null]);
        }
      }
      return [seen, results];
    });
    expect(theirs.value[0]).toEqual([[true, 6, -1, -2n, Math.fround(0.1), -0, true]]);
    expect(ours).toEqual(theirs);
  });

  const MULTI = `(module
    (import "env" "f" (func $f (result i32 i64 f64)))
    (func (export "run") (result i32 i64 f64) (call $f))
    (func (export "sum") (result f64)
      (local $a i32) (local $b i64) (local $c f64)
      (call $f) (local.set $c) (local.set $b) (local.set $a)
      (f64.add (f64.add (f64.convert_i32_s (local.get $a)) (f64.convert_i64_s (local.get $b))) (local.get $c))))`;

  test.each([
    ['an array', [1, 2n, 3.5], () => [1, 2n, 3.5]],
    ['a generator', [1, 2n, 3.5], function* gen() { yield 1; yield 2n; yield 3.5; }],
    ['a Set', [4, 5n, 6], () => new Set([4, 5n, 6])],
    ['an iterable object', [7, 8n, 9], () => ({ * [Symbol.iterator]() { yield '7'; yield '8'; yield '9'; } })],
    ['a string (iterable)', [1, 2n, 3], () => '123'],
    ['an array that is too short', 'TypeError', () => [1, 2n]],
    ['an array that is too long', 'TypeError', () => [1, 2n, 3, 4]],
    ['an array with a Number for the i64', 'TypeError', () => [1, 2, 3]],
    ['an iterator that throws', 'RangeError', () => ({ [Symbol.iterator]() { throw new RangeError('from the iterator'); } })],
  ])('an import returning several values: %s', (_, expected, f) => {
    const { ours, theirs } = differential(MULTI, (W, e) => [run(W, () => e.run()), run(W, () => e.sum())], () => ({ env: { f } }));
    expect(theirs.value[0].threw || theirs.value[0].value).toEqual(expected);
    expect(ours).toEqual(theirs);
  });

  test.each([
    ['a number', () => 5],
    ['undefined', () => undefined],
    ['a plain object', () => ({})],
    ['an array-like object', () => ({ length: 3, 0: 1, 1: 2n, 2: 3 })],
  ])('an import returning several values: %s is not iterable: TypeError', (_, f) => {
    const { ours, theirs } = differential(MULTI, (W, e) => run(W, () => e.run()).threw, () => ({ env: { f } }));
    expect(theirs.value).toBe('TypeError');
    expect(ours).toEqual(theirs);
  });
});

// ---------------------------------------------------------------------------------------------
// v128 in a signature
// ---------------------------------------------------------------------------------------------

describe('v128 at the boundary', () => {
  // The functions only pass v128 values around; they use no SIMD instruction.
  const TEXT = `(module
    (import "env" "takes" (func $takes (param v128)))
    (import "env" "gives" (func $gives (result v128)))
    (func (export "param") (param i32 v128) (result i32) (local.get 0))
    (func (export "result") (param i32) (result v128) (local v128) (local.get 1))
    (func (export "call_takes") (local v128) (call $takes (local.get 0)))
    (func (export "call_gives") (drop (call $gives)))
    (func (export "fine") (param i32) (result i32) (local.get 0)))`;

  test('modules with v128 in a signature compile, as on Node', () => {
    expect(() => new cranewasm.Module(wat(TEXT))).not.toThrow();
    expect(() => new WebAssembly.Module(wat(TEXT))).not.toThrow();
  });

  test('calling a function with v128 in its signature is a TypeError, without converting the arguments', () => {
    const { ours, theirs } = differential(TEXT, (W, e) => {
      const log = [];
      const tracked = { valueOf() { log.push('valueOf'); return 1; } };
      return [run(W, () => e.param(tracked, 0)), run(W, () => e.result(tracked)), log, e.fine(3), e.param.length, e.result.length];
    }, () => ({ env: { takes() {}, gives() {} } }));
    expect(theirs.value[0]).toEqual(INCOMPATIBLE);
    expect(ours).toEqual(theirs);
  });

  test('wasm calling a JS import with v128 in its signature is a TypeError, and the import is not called', () => {
    const { ours, theirs } = both((W) => {
      const calls = [];
      const e = instantiate(W, wat(TEXT), { env: { takes: () => calls.push('takes'), gives: () => calls.push('gives') } });
      return [run(W, () => e.call_takes()), run(W, () => e.call_gives()), calls];
    });
    expect(theirs.value[0]).toEqual(INCOMPATIBLE);
    expect(ours).toEqual(theirs);
  });
});

// ---------------------------------------------------------------------------------------------
// A wasm function exported by one instance and imported by another
// ---------------------------------------------------------------------------------------------

describe('wasm functions imported by another instance', () => {
  const EXPORTER = `(module
    (global $calls (mut i32) (i32.const 0))
    (memory 1)
    (func (export "divmod") (param i64 i64) (result i64 i64 i32)
      (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
      (i64.div_s (local.get 0) (local.get 1))
      (i64.rem_s (local.get 0) (local.get 1))
      (global.get $calls))
    (func (export "refs") (param externref funcref) (result funcref externref) (local.get 1) (local.get 0))
    (func (export "store") (param i32 f32) (f32.store (local.get 0) (local.get 1)))
    (func (export "load") (param i32) (result f32) (f32.load (local.get 0)))
    (func (export "calls") (result i32) (global.get $calls)))`;
  const IMPORTER = `(module
    (type $divmod (func (param i64 i64) (result i64 i64 i32)))
    (import "a" "divmod" (func $divmod (type $divmod)))
    (import "a" "refs" (func $refs (param externref funcref) (result funcref externref)))
    (import "a" "store" (func $store (param i32 f32)))
    (import "a" "load" (func $load (param i32) (result f32)))
    (memory 1)
    (table 1 funcref)
    (elem (i32.const 0) $divmod)
    (export "divmod" (func $divmod))
    (func (export "direct") (param i64 i64) (result i64 i64 i32) (call $divmod (local.get 0) (local.get 1)))
    (func (export "indirect") (param i64 i64) (result i64 i64 i32)
      (call_indirect (type $divmod) (local.get 0) (local.get 1) (i32.const 0)))
    (func (export "swap") (param externref funcref) (result funcref externref) (call $refs (local.get 0) (local.get 1)))
    ;; the callee's memory, not the caller's
    (func (export "roundtrip") (param f32) (result f32)
      (call $store (i32.const 8) (local.get 0))
      (f32.store (i32.const 8) (f32.const 99))
      (call $load (i32.const 8))))`;

  test('re-exported, it is the same object; multi-value calls work directly, through a table and from JS', () => {
    const exporter = wat(EXPORTER);
    const importer = wat(IMPORTER);
    const { ours, theirs } = both((W) => {
      const a = instantiate(W, exporter);
      const b = instantiate(W, importer, { a });
      const object = { external: true };
      const [fn, ext] = b.swap(object, a.calls);
      return [
        b.divmod === a.divmod, b.direct(-7n, 2n), b.indirect(2n ** 63n - 1n, 10n), b.divmod(9n, 4n),
        run(W, () => b.direct(1n, 0n)), fn === a.calls, ext === object, b.roundtrip(0.1), a.calls(),
      ];
    });
    expect(theirs.value[0]).toBe(true);
    expect(theirs.value[1]).toEqual([-3n, -1n, 1]);
    expect(ours).toEqual(theirs);
  });

  // A signalling NaN's bits survive a direct wasm-to-wasm call unchanged.
  const NAN_EXPORTER = `(module (func (export "nan") (result f32) (f32.reinterpret_i32 (i32.const 0x7fa00001))))`;
  const NAN_IMPORTER = `(module
    (import "a" "nan" (func $nan (result f32)))
    (func (export "bits") (result i32) (i32.reinterpret_f32 (call $nan))))`;

  test('a NaN payload crosses the direct call unchanged', () => {
    const exporter = wat(NAN_EXPORTER);
    const importer = wat(NAN_IMPORTER);
    const { ours, theirs } = both((W) => instantiate(W, importer, { a: instantiate(W, exporter) }).bits());
    expect(theirs.value).toBe(0x7fa00001);
    expect(ours).toEqual(theirs);
  });

  // Through JS a NaN's payload is implementation-defined (JS API: ToJSValue gives "the Number
  // value", ToWebAssemblyValue "an implementation-defined NaN"). V8 keeps the (quieted) payload;
  // cranewasm creates numbers through Node-API, whose v8::Number::New canonicalizes every NaN,
  // so the bits come back as the canonical NaN 0x7fc00000. Both are NaNs.
  test('through a JS function in between, the NaN becomes a JS number and back: still a NaN', () => {
    const exporter = wat(NAN_EXPORTER);
    const importer = wat(NAN_IMPORTER);
    const { ours, theirs } = both((W) => {
      const a = instantiate(W, exporter);
      return instantiate(W, importer, { a: { nan: () => a.nan() } }).bits();
    });
    const isF32NaN = (bits) => ((bits >>> 23) & 0xff) === 0xff && (bits & 0x7fffff) !== 0;
    expect(isF32NaN(theirs.value)).toBe(true);
    expect(ours).toEqual({ value: 0x7fc00000 });
  });
});

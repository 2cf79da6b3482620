'use strict';
// WebAssembly 3.0 features beyond 2.0 (issue 14), through the public JS API. Node 20's engine
// lacks them, so the expected results come from the spec text: each test says which rule it
// checks.

const W = require('..');
const { loadWabt } = require('./helpers/execution.js');

let wabt;
beforeAll(async () => {
  wabt = await loadWabt();
});

// The binary of a module in the text format, not validated by wabt (its validator lags the
// 3.0 features): the engine under test is the validator.
function wat(text) {
  const parsed = wabt.parseWat('test.wat', text, { extended_const: true, reference_types: true, bulk_memory: true });
  try {
    parsed.resolveNames();
    return parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
}

function thrown(f) {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
}

describe('extended constant expressions', () => {
  // Spec 3.0, "Constant Expressions": i32/i64 add, sub and mul are constant; global.get of an
  // immutable imported global is constant; arithmetic wraps. (global.get of an earlier defined
  // global came with GC, which wasmparser gates with it; GC is its own issue.)
  const MODULE = `(module
    (import "env" "base" (global $base i32))
    (import "env" "big" (global $big i64))
    (global $a (export "a") i32 (i32.add (global.get $base) (i32.const 16)))
    (global $b (export "b") i32 (i32.mul (global.get $base) (i32.sub (i32.const 3) (i32.const 1))))
    (global (export "wrap32") i32 (i32.add (i32.const 0x7fffffff) (i32.const 2)))
    (global (export "wrap64") i64 (i64.mul (global.get $big) (i64.const 4)))
    (global (export "sub64") i64 (i64.sub (i64.const 0) (global.get $big)))
    (memory (export "memory") 1)
    (data (i32.add (global.get $base) (i32.const 8)) "\\2a")
    (table (export "table") 10 funcref)
    (elem (i32.sub (i32.mul (global.get $base) (i32.const 2)) (i32.const 1)) $f)
    (func $f (result i32) (i32.const 7)))`;

  test('globals, data and element offsets are evaluated with wrapping integer arithmetic', () => {
    const bytes = wat(MODULE);
    expect(W.validate(bytes)).toBe(true);
    const { exports } = new W.Instance(new W.Module(bytes), {
      env: { base: 4, big: new W.Global({ value: 'i64' }, 0x4000000000000001n) },
    });
    expect(exports.a.value).toBe(20);
    expect(exports.b.value).toBe(8);
    expect(exports.wrap32.value).toBe(-0x7fffffff);
    expect(exports.wrap64.value).toBe(4n); // 0x4000000000000001 * 4 wraps to 4
    expect(exports.sub64.value).toBe(-0x4000000000000001n);
    expect(new Uint8Array(exports.memory.buffer)[12]).toBe(42);
    expect(exports.table.get(7)()).toBe(7);
    expect(exports.table.get(6)).toBe(null);
  });

  test('an out-of-bounds offset computed by an expression fails instantiation as usual', () => {
    const bytes = wat('(module (import "env" "n" (global i32)) (memory 1) (data (i32.mul (global.get 0) (i32.const 65536)) "x"))');
    const module = new W.Module(bytes);
    expect(() => new W.Instance(module, { env: { n: 0 } })).not.toThrow();
    expect(thrown(() => new W.Instance(module, { env: { n: 1 } }))).toBeInstanceOf(W.RuntimeError);
  });

  test.each([
    ['a non-constant operator', '(module (global i32 (i32.div_s (i32.const 4) (i32.const 2))))'],
    ['a mutable global', '(module (import "env" "g" (global (mut i32))) (global i32 (i32.add (global.get 0) (i32.const 1))))'],
    ['a type mismatch', '(module (global i32 (i32.add (i64.const 1) (i32.const 1))))'],
    ['an operand missing', '(module (global i32 (i32.add (i32.const 1))))'],
  ])('%s is a CompileError', (_, text) => {
    let bytes;
    try {
      bytes = wat(text);
    } catch {
      return; // wabt already rejects it; the binary is checked in the next test
    }
    expect(W.validate(bytes)).toBe(false);
    expect(thrown(() => new W.Module(bytes))).toBeInstanceOf(W.CompileError);
  });

  test('a non-constant operator in a hand-assembled global initializer is a CompileError naming the offset', () => {
    // (global i32 (i32.div_s (i32.const 4) (i32.const 2)))
    const bytes = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 6, 9, 1, 0x7f, 0, 0x41, 4, 0x41, 2, 0x6d, 0x0b]);
    expect(W.validate(bytes)).toBe(false);
    const err = thrown(() => new W.Module(bytes));
    expect(err).toBeInstanceOf(W.CompileError);
    expect(err.message).toMatch(/@\+1[0-9]/);
  });

  test('the same values at every tier and compile mode', async () => {
    const { setCompileOptions, getCompileOptions } = require('../engine');
    const saved = getCompileOptions();
    const results = [];
    try {
      for (const options of [{ lazy: true, firstTier: 'baseline' }, { lazy: false, firstTier: 'optimized' }]) {
        setCompileOptions(options);
        const bytes = wat('(module (global $g i32 (i32.mul (i32.const 6) (i32.const 7))) (func (export "f") (result i32) (global.get $g)))');
        results.push(new W.Instance(await W.compile(bytes)).exports.f());
      }
    } finally {
      setCompileOptions(saved);
    }
    expect(results).toEqual([42, 42]);
  });
});

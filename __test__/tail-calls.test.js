'use strict';
// Tail calls (WebAssembly 3.0): return_call and return_call_indirect, through the public JS API,
// compared with Node's engine (Node 20 has them). Unbounded tail recursion runs in constant stack
// at every tier, through call_indirect and across instances.

const W = require('..');
const { Sandbox, setCompileOptions, getCompileOptions, compileStatus } = require('../engine');
const { loadWabt } = require('./helpers/execution.js');

let wabt;
beforeAll(async () => {
  wabt = await loadWabt();
});

function wat(text, features = {}) {
  const parsed = wabt.parseWat('test.wat', text, { tail_call: true, reference_types: true, bulk_memory: true, ...features });
  try {
    parsed.resolveNames();
    parsed.validate();
    return parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
}

// Far deeper than any stack holds frames for (each frame takes at least 16 bytes: 10^7 frames
// would need 160 MB; threads have 1–8 MB).
const DEPTH = 10_000_000n;

const EVEN_ODD = `(module
  (type $t (func (param i64) (result i32)))
  (table $tab 2 funcref)
  (elem (i32.const 0) $even_i $odd_i)
  (func $even (export "even") (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0)) (then (i32.const 1))
      (else (return_call $odd (i64.sub (local.get 0) (i64.const 1))))))
  (func $odd (export "odd") (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0)) (then (i32.const 0))
      (else (return_call $even (i64.sub (local.get 0) (i64.const 1))))))
  (func $even_i (export "evenIndirect") (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0)) (then (i32.const 1))
      (else (return_call_indirect (type $t) (i64.sub (local.get 0) (i64.const 1)) (i32.const 1)))))
  (func $odd_i (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0)) (then (i32.const 0))
      (else (return_call_indirect (type $t) (i64.sub (local.get 0) (i64.const 1)) (i32.const 0)))))
  ;; A tail call with more arguments than registers (stack arguments) and mixed types, which
  ;; rotates them on each call.
  (func $many (export "many") (param $n i64) (param $a i32) (param $b f64) (param $c i64) (param $d i32)
      (param $e i32) (param $f i32) (param $g i32) (param $h f32) (param $i i64) (result f64)
    (if (result f64) (i64.eqz (local.get $n))
      (then
        (f64.add
          (f64.add (local.get $b) (f64.convert_i64_s (i64.add (local.get $c) (local.get $i))))
          (f64.add (f64.promote_f32 (local.get $h))
            (f64.convert_i32_s
              (i32.add (i32.mul (local.get $a) (i32.const 1000000))
                (i32.add (i32.mul (local.get $d) (i32.const 10000))
                  (i32.add (i32.mul (local.get $e) (i32.const 100))
                    (i32.add (i32.mul (local.get $f) (i32.const 10)) (local.get $g)))))))))
      (else (return_call $many (i64.sub (local.get $n) (i64.const 1))
        (local.get $g) (f64.add (local.get $b) (f64.const 0.5)) (i64.add (local.get $c) (i64.const 3))
        (local.get $a) (local.get $d) (local.get $e) (local.get $f)
        (f32.add (local.get $h) (f32.const 1)) (i64.sub (local.get $i) (i64.const 1)))))))`;

const MODULE = EVEN_ODD;

function run(namespace, bytes) {
  const { exports } = new namespace.Instance(new namespace.Module(bytes));
  return [
    exports.even(DEPTH), exports.odd(DEPTH + 1n), exports.evenIndirect(DEPTH + 3n),
    exports.many(1_000_001n, 1, 0.25, 5n, 2, 3, 4, 5, 1.5, 9n),
  ];
}

const CONFIGS = {
  lazy: { lazy: true, firstTier: 'baseline', tierUp: 'dynamic' },
  baseline: { lazy: false, firstTier: 'baseline', tierUp: 'off' },
  optimized: { lazy: false, firstTier: 'optimized', tierUp: 'off' },
  singlepass: { lazy: false, firstTier: 'singlepass', tierUp: 'off' },
};

describe.each(Object.keys(CONFIGS))('%s', (config) => {
  let saved;
  beforeAll(() => {
    saved = getCompileOptions();
    setCompileOptions(CONFIGS[config]);
  });
  afterAll(() => setCompileOptions(saved));

  test('mutual tail recursion, direct and through call_indirect, in constant stack: the results of Node\'s engine', () => {
    const bytes = wat(MODULE);
    const expected = run(WebAssembly, bytes);
    expect(expected.slice(0, 3)).toEqual([1, 1, 0]);
    expect(run(W, bytes)).toEqual(expected);
    // At the single-pass tier, every function is its code (none left to the baseline tier).
    if (config === 'singlepass') expect(compileStatus(new W.Module(bytes))).toMatchObject({ fallbacks: 0, baseline: 0 });
  });

  test('across instances: tail calls through an imported function and a shared table', () => {
    // A's ping tail-calls table[1] (B's pong), which tail-calls A's ping (imported by B).
    const a = wat(`(module
      (type $t (func (param i64) (result i64)))
      (table (export "table") 2 funcref)
      (func $ping (export "ping") (param i64) (result i64)
        (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 100))
          (else (return_call_indirect (type $t) (i64.sub (local.get 0) (i64.const 1)) (i32.const 1))))))`);
    const b = wat(`(module
      (import "a" "ping" (func $ping (param i64) (result i64)))
      (func (export "pong") (param i64) (result i64)
        (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 200))
          (else (return_call $ping (i64.sub (local.get 0) (i64.const 1)))))))`);
    const results = [];
    for (const namespace of [WebAssembly, W]) {
      const A = new namespace.Instance(new namespace.Module(a)).exports;
      const B = new namespace.Instance(new namespace.Module(b), { a: { ping: A.ping } }).exports;
      A.table.set(1, B.pong);
      results.push([A.ping(DEPTH), A.ping(DEPTH + 1n), B.pong(7n)]);
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[0]).toEqual([100n, 200n, 100n]);
  });

  test('a tail call to a JS import returns its result; a JS exception and a trap pass through', () => {
    const bytes = wat(`(module
      (import "env" "f" (func $f (param i32) (result i32)))
      (func (export "g") (param i32) (result i32) (return_call $f (i32.add (local.get 0) (i32.const 1))))
      (func $trap (param i32) (result i32) (unreachable))
      (func (export "t") (param i32) (result i32) (return_call $trap (local.get 0))))`);
    for (const namespace of [WebAssembly, W]) {
      const thrown = new Error('from JS');
      let fail = false;
      const { exports } = new namespace.Instance(new namespace.Module(bytes), {
        env: { f: (x) => { if (fail) throw thrown; return x * 2; } },
      });
      expect(exports.g(20)).toBe(42);
      fail = true;
      expect(() => exports.g(1)).toThrow(thrown);
      expect(() => exports.t(1)).toThrow(namespace.RuntimeError);
    }
  });
});

test('an endless tail-call loop (no loop instruction) is stopped by a deadline and by fuel', async () => {
  const bytes = wat('(module (func $f (export "f") (param i32) (result i32) (return_call $f (i32.add (local.get 0) (i32.const 1)))))');
  const { instance } = await new Sandbox({ timeout: 50 }).instantiate(bytes);
  expect(() => instance.exports.f(0)).toThrow(/timed out/);
  const fueled = await new Sandbox({ fuel: 1_000_000 }).instantiate(bytes);
  expect(() => fueled.instance.exports.f(0)).toThrow(/fuel/);
});

// The fuel `run(exports)` consumes in a sandbox at each tier of CONFIGS, with its result.
async function fuelAtEveryTier(bytes, run) {
  const saved = getCompileOptions();
  const used = [];
  try {
    for (const options of Object.values(CONFIGS)) {
      setCompileOptions(options);
      const sandbox = new Sandbox({ fuel: 1e15 });
      const { instance } = await sandbox.instantiate(bytes);
      const result = run(instance.exports);
      used.push([result, 1e15 - sandbox.fuel]);
    }
  } finally {
    setCompileOptions(saved);
  }
  return used;
}

test('fuel consumed by tail calls is the same at every tier', async () => {
  const used = await fuelAtEveryTier(wat(MODULE), (e) => [
    e.even(100_001n), e.evenIndirect(5_000n), e.many(1_000n, 1, 0.25, 5n, 2, 3, 4, 5, 1.5, 9n),
  ]);
  expect(used[0][1]).toBeGreaterThan(100_000 * 5);
  for (const u of used) expect(u).toEqual(used[0]);
});

// Runs `calls(exports)` on Node's engine, then at every tier of CONFIGS (at the single-pass
// tier with no function left to another tier): the same results everywhere, all different.
function sameAtEveryTier(bytes, calls) {
  const expected = calls(new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports);
  expect(new Set(expected.map(String)).size).toBe(expected.length);
  const saved = getCompileOptions();
  try {
    for (const [name, options] of Object.entries(CONFIGS)) {
      setCompileOptions(options);
      const module = new W.Module(bytes);
      if (name === 'singlepass') expect(compileStatus(module)).toMatchObject({ fallbacks: 0, baseline: 0 });
      expect(calls(new W.Instance(module).exports)).toEqual(expected);
    }
  } finally {
    setCompileOptions(saved);
  }
}

test('tail calls with v128 arguments, in registers and on the stack, at every tier: the results of Node\'s engine', () => {
  // $rot takes ten v128s (eight in xmm registers, two on the stack) and rotates them on each
  // tail call to itself; at the end it tail-calls $nine, whose smaller stack-argument area sits
  // at the top of $rot's own.
  const params = (n) => Array.from({ length: n }, () => '(param v128)').join(' ');
  const gets = (order) => order.map((i) => `(local.get ${i})`).join(' ');
  const bytes = wat(`(module
      (func $nine ${params(9)} (result i32)
        (i32x4.extract_lane 0 (i32x4.add (i32x4.add (i32x4.add (local.get 0) (i32x4.shl (local.get 4) (i32.const 4)))
          (i32x4.shl (local.get 7) (i32.const 8))) (i32x4.shl (local.get 8) (i32.const 12)))))
      (func $rot (export "rot") (param $n i32) ${params(10)} (result i32)
        (if (result i32) (i32.eqz (local.get $n))
          (then (return_call $nine ${gets([1, 2, 3, 4, 5, 6, 7, 8, 10])}))
          (else (return_call $rot (i32.sub (local.get $n) (i32.const 1)) ${gets([10, 1, 2, 3, 4, 5, 6, 7, 8, 9])}))))
      (func (export "run") (param $n i32) (result i32)
        (call $rot (local.get $n)
          ${Array.from({ length: 10 }, (_, i) => `(i32x4.splat (i32.const ${i + 1}))`).join(' ')})))`, { simd: true });
  sameAtEveryTier(bytes, (e) => [0, 1, 7, 1_000_003].map((n) => e.run(n)));
});

// $small (no stack arguments) and $big (ten i64s, two f64s and three v128s: several on the
// stack) tail-call each other n times, a seed changing on the way, directly, through
// call_indirect and back: $big's area grows into $small's frame each time, in constant stack.
const LARGER_SOURCE = () => {
  const i64s = Array.from({ length: 10 }, (_, i) => `(param $a${i} i64)`).join(' ');
  const bigParams = `(param $n i32) ${i64s} (param $x f64) (param $y f64) (param $u v128) (param $v v128) (param $w v128)`;
  const weighted = Array.from({ length: 10 }, (_, i) => `(i64.mul (local.get $a${i}) (i64.const ${i * 7 + 1}))`)
    .reduce((acc, term) => `(i64.add ${acc} ${term})`);
  // $big's arguments from $small's k and seed.
  const args = `(local.get 0) ${Array.from({ length: 10 }, (_, i) => `(i64.add (local.get 1) (i64.const ${i * 1000}))`).join(' ')}
    (f64.convert_i64_u (i64.and (local.get 1) (i64.const 0xffffff))) (f64.const 0.5)
    (i64x2.splat (i64.const 3)) (i32x4.splat (i32.wrap_i64 (local.get 1))) (v128.const i32x4 1 2 3 4)`;
  return wat(`(module
    (type $big_t (func ${bigParams} (result i64)))
    (table 1 funcref)
    (elem (i32.const 0) $big)
    (func $small (export "small") (param i32 i64) (result i64)
      (if (result i64) (i32.and (local.get 0) (i32.const 1))
        (then (return_call $big ${args}))
        (else (return_call_indirect (type $big_t) ${args} (i32.const 0)))))
    (func $big (type $big_t) ${bigParams} (result i64)
      (if (result i64) (i32.eqz (local.get $n))
        (then (i64.add (i64.add ${weighted}
            (i64.trunc_f64_s (f64.mul (f64.add (local.get $x) (local.get $y)) (f64.const 16))))
          (i64.add (i64.add (i64x2.extract_lane 1 (local.get $u)) (i64.extend_i32_u (i32x4.extract_lane 2 (local.get $v))))
            (i64.extend_i32_u (i32x4.extract_lane 3 (local.get $w))))))
        (else (return_call $small (i32.sub (local.get $n) (i32.const 1))
          (i64.add (i64.xor (local.get $a0) (i64.shl (local.get $a9) (i64.const 3))) (i64.extend_i32_u (i32x4.extract_lane 1 (local.get $v)))))))))`, { simd: true });
};
let LARGER;
beforeAll(() => {
  LARGER = LARGER_SOURCE();
});

test('tail calls to callees with a larger stack-argument area, at every tier: the results of Node\'s engine', () => {
  sameAtEveryTier(LARGER, (e) => [0, 1, 2, 5, 1_000_001].map((n) => e.small(n, 7n)));
});

test('fuel consumed by tail calls to a larger stack-argument area is the same at every tier', async () => {
  const used = await fuelAtEveryTier(LARGER, (e) => e.small(10_001, 7n));
  expect(used[0][1]).toBeGreaterThan(10_000);
  for (const u of used) expect(u).toEqual(used[0]);
});

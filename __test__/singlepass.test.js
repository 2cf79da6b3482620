// The single-pass tier (firstTier 'singlepass', issue 17) through the public JS API: integer
// kernels and traps give what Node's built-in WebAssembly gives, eagerly and lazily, with and
// without dynamic tier-up; functions the tier does not cover fall back to the baseline tier and
// compileStatus() counts them.
'use strict';

const engine = require('../engine');
const { Sandbox } = engine;
const { cranewasm, node, loadWabt, wat, instantiate, run } = require('./helpers/execution.js');

beforeAll(async () => {
  await loadWabt();
});

const saved = engine.getCompileOptions();
afterEach(() => engine.setCompileOptions(saved));

const KERNELS = `(module
  (import "env" "twice" (func $twice (param i32) (result i32)))
  (import "env" "throws" (func $throws (param i32)))
  (import "env" "fscale" (func $fscale (param f64 i32 f32) (result f64)))
  (memory (export "memory") 1)
  (global $counter (mut i64) (i64.const 0))
  (type $i64toi64 (func (param i64) (result i64)))
  (table $table 5 funcref)
  (type $fff (func (param f64 f64 f32) (result f64)))
  (elem (table $table) (i32.const 0) func $fib $bump $divS)
  (elem (table $table) (i32.const 4) func $fmix)

  (func $fib (export "fib") (param $n i64) (result i64)
    (if (result i64) (i64.lt_u (local.get $n) (i64.const 2))
      (then (local.get $n))
      (else (i64.add (call $fib (i64.sub (local.get $n) (i64.const 1)))
                     (call $fib (i64.sub (local.get $n) (i64.const 2)))))))

  ;; Primes below n (n <= 65536), marking composites in memory bytes.
  (func (export "sieve") (param $n i32) (result i32)
    (local $i i32) (local $j i32) (local $count i32)
    (memory.fill (i32.const 0) (i32.const 0) (local.get $n))
    (local.set $i (i32.const 2))
    (block $done (loop $outer
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (if (i32.eqz (i32.load8_u (local.get $i)))
        (then
          (local.set $count (i32.add (local.get $count) (i32.const 1)))
          (local.set $j (i32.mul (local.get $i) (local.get $i)))
          (block $stop (loop $inner
            (br_if $stop (i32.ge_u (local.get $j) (local.get $n)))
            (i32.store8 (local.get $j) (i32.const 1))
            (local.set $j (i32.add (local.get $j) (local.get $i)))
            (br $inner)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $outer)))
    (local.get $count))

  ;; Bitwise CRC-32 of memory[0..len), after filling it with a pattern.
  (func (export "crc32") (param $len i32) (result i32)
    (local $i i32) (local $crc i32) (local $k i32)
    (loop $fill
      (if (i32.lt_u (local.get $i) (local.get $len))
        (then
          (i32.store8 (local.get $i) (i32.xor (i32.mul (local.get $i) (i32.const 31)) (i32.shr_u (local.get $i) (i32.const 3))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $fill))))
    (local.set $crc (i32.const -1))
    (local.set $i (i32.const 0))
    (block $done (loop $bytes
      (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
      (local.set $crc (i32.xor (local.get $crc) (i32.load8_u (local.get $i))))
      (local.set $k (i32.const 8))
      (loop $bits
        (local.set $crc
          (select
            (i32.xor (i32.shr_u (local.get $crc) (i32.const 1)) (i32.const 0xEDB88320))
            (i32.shr_u (local.get $crc) (i32.const 1))
            (i32.and (local.get $crc) (i32.const 1))))
        (br_if $bits (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $bytes)))
    (i32.xor (local.get $crc) (i32.const -1)))

  ;; The longest Collatz chain start below n, and its length, packed (start << 32 | steps).
  (func (export "collatz") (param $n i64) (result i64)
    (local $start i64) (local $x i64) (local $steps i64) (local $best i64) (local $bestStart i64)
    (local.set $start (i64.const 1))
    (block $done (loop $each
      (br_if $done (i64.ge_u (local.get $start) (local.get $n)))
      (local.set $x (local.get $start))
      (local.set $steps (i64.const 0))
      (block $one (loop $step
        (br_if $one (i64.eq (local.get $x) (i64.const 1)))
        (local.set $x
          (if (result i64) (i64.eqz (i64.rem_u (local.get $x) (i64.const 2)))
            (then (i64.div_u (local.get $x) (i64.const 2)))
            (else (i64.add (i64.mul (local.get $x) (i64.const 3)) (i64.const 1)))))
        (local.set $steps (i64.add (local.get $steps) (i64.const 1)))
        (br $step)))
      (if (i64.gt_u (local.get $steps) (local.get $best))
        (then (local.set $best (local.get $steps)) (local.set $bestStart (local.get $start))))
      (local.set $start (i64.add (local.get $start) (i64.const 1)))
      (br $each)))
    (i64.or (i64.shl (local.get $bestStart) (i64.const 32)) (local.get $best)))

  ;; A state machine over br_table: counts transitions for a sequence of inputs.
  (func (export "machine") (param $steps i32) (result i32)
    (local $state i32) (local $acc i32)
    (loop $next
      (block $s3 (block $s2 (block $s1 (block $s0
        (br_table $s0 $s1 $s2 $s3 (local.get $state)))
        ;; state 0
        (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
        (local.set $state (i32.rem_u (i32.add (local.get $acc) (i32.const 3)) (i32.const 4)))
        (br $s3))
        ;; state 1
        (local.set $acc (i32.mul (local.get $acc) (i32.const 3)))
        (local.set $state (i32.const 2))
        (br $s3))
        ;; state 2
        (local.set $acc (i32.rotl (local.get $acc) (i32.const 5)))
        (local.set $state (i32.and (local.get $acc) (i32.const 3))))
      (local.set $steps (i32.sub (local.get $steps) (i32.const 1)))
      (br_if $next (i32.gt_s (local.get $steps) (i32.const 0))))
    (local.get $acc))

  ;; More live values than registers: a deep expression that spills.
  (func (export "deep") (param $a i64) (param $b i64) (result i64)
    (i64.add (i64.mul (local.get $a) (i64.const 3))
    (i64.add (i64.xor (local.get $b) (i64.const 5))
    (i64.add (i64.sub (local.get $a) (local.get $b))
    (i64.add (i64.shl (local.get $a) (i64.const 7))
    (i64.add (i64.shr_s (local.get $b) (i64.const 2))
    (i64.add (i64.rotr (local.get $a) (local.get $b))
    (i64.add (i64.and (local.get $a) (i64.const 0xff00))
    (i64.add (i64.or (local.get $b) (i64.const 1))
    (i64.add (i64.extend_i32_s (i32.wrap_i64 (local.get $a)))
    (i64.add (i64.extend_i32_u (i32.wrap_i64 (local.get $b)))
    (i64.add (i64.extend8_s (local.get $a))
    (i64.add (i64.extend16_s (local.get $b))
    (i64.add (i64.popcnt (local.get $a))
    (i64.add (i64.clz (local.get $b))
             (i64.ctz (local.get $a)))))))))))))))))

  ;; Globals, imports, and every width of load and store.
  (func $bump (export "bump") (param $by i64) (result i64)
    (global.set $counter (i64.add (global.get $counter) (local.get $by)))
    (global.get $counter))
  (func (export "viaImport") (param $x i32) (result i32)
    (i32.add (call $twice (local.get $x)) (i32.const 1)))
  (func (export "throwThrough") (param $x i32) (call $throws (local.get $x)))
  (func (export "widths") (param $at i32) (param $v i64) (result i64)
    (i64.store (local.get $at) (local.get $v))
    (i64.add (i64.load32_s offset=1 (local.get $at))
    (i64.add (i64.load16_u offset=2 (local.get $at))
    (i64.add (i64.load8_s offset=3 (local.get $at))
             (i64.extend_i32_u (i32.load16_s offset=5 (local.get $at)))))))

  (func (export "indirect") (param $i i32) (param $x i64) (result i64)
    (call_indirect $table (type $i64toi64) (local.get $x) (local.get $i)))

  ;; Floats: arithmetic through xmm registers, comparisons (NaN), conversions, bits, memory,
  ;; and float arguments and results across calls.
  (func $fmix (export "fmix") (param $a f64) (param $b f64) (param $c f32) (result f64)
    (f64.add
      (f64.div (f64.mul (local.get $a) (local.get $b)) (f64.sub (local.get $b) (f64.promote_f32 (local.get $c))))
      (f64.add (f64.sqrt (f64.abs (local.get $a)))
        (f64.add (f64.neg (local.get $b))
          (f64.copysign (f64.promote_f32 (f32.mul (local.get $c) (f32.demote_f64 (local.get $a)))) (local.get $b))))))
  (func (export "fcmp") (param $a f64) (param $b f64) (result i32)
    (i32.or (i32.or (i32.or (f64.eq (local.get $a) (local.get $b)) (i32.shl (f64.ne (local.get $a) (local.get $b)) (i32.const 1)))
                    (i32.or (i32.shl (f64.lt (local.get $a) (local.get $b)) (i32.const 2)) (i32.shl (f64.gt (local.get $a) (local.get $b)) (i32.const 3))))
            (i32.or (i32.or (i32.shl (f64.le (local.get $a) (local.get $b)) (i32.const 4)) (i32.shl (f64.ge (local.get $a) (local.get $b)) (i32.const 5)))
                    (i32.shl (f32.lt (f32.demote_f64 (local.get $a)) (f32.demote_f64 (local.get $b))) (i32.const 6)))))
  (func (export "fconv") (param $i i32) (param $l i64) (result f64)
    (f64.add (f64.add (f64.convert_i32_s (local.get $i)) (f64.convert_i32_u (local.get $i)))
      (f64.add (f64.convert_i64_s (local.get $l))
        (f64.promote_f32 (f32.add (f32.convert_i32_u (local.get $i)) (f32.add (f32.convert_i32_s (local.get $i)) (f32.convert_i64_s (local.get $l))))))))
  (func (export "bits") (param $x f64) (result i64)
    (i64.xor (i64.reinterpret_f64 (f64.neg (local.get $x)))
      (i64.extend_i32_u (i32.reinterpret_f32 (f32.abs (f32.reinterpret_i32 (i32.wrap_i64 (i64.reinterpret_f64 (local.get $x)))))))))
  (func (export "fmem") (param $at i32) (param $x f64) (result f32)
    (f64.store offset=8 (local.get $at) (local.get $x))
    (f32.store (local.get $at) (f32.demote_f64 (f64.load offset=8 (local.get $at))))
    (f32.add (f32.load (local.get $at)) (f32.const 0.5)))
  (func (export "fcall") (param $x f64) (result f64)
    (f64.add (call $fmix (local.get $x) (f64.const 3) (f32.const 1.5))
      (call $fscale (local.get $x) (i32.const 3) (f32.const 0.25))))

  (func (export "findirect") (param $i i32) (param $x f64) (result f64)
    (call_indirect $table (type $fff) (local.get $x) (f64.const 2) (f32.const 0.5) (local.get $i)))

  ;; Traps.
  (func $divS (export "divS") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "divU") (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
  (func (export "remS") (param i64 i64) (result i64) (i64.rem_s (local.get 0) (local.get 1)))
  (func (export "remU") (param i64 i64) (result i64) (i64.rem_u (local.get 0) (local.get 1)))
  (func (export "divS64") (param i64 i64) (result i64) (i64.div_s (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i64) (i64.load offset=8 (local.get 0)))
  (func (export "store") (param i32) (i32.store16 offset=65534 (local.get 0) (i32.const 7)))
  (func $trapDeep (export "trapDeep") (param i32) (result i32)
    (if (result i32) (local.get 0)
      (then (i32.add (call $trapDeep (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))
      (else (unreachable))))
  (func $forever (export "forever") (param i32) (result i32) (call $forever (i32.add (local.get 0) (i32.const 1))))
)`;

function imports(W) {
  return {
    env: {
      twice: (x) => x * 2,
      throws: (x) => {
        throw new Error(`from JS ${x}`);
      },
      fscale: (x, n, y) => x * n + y,
    },
  };
}

const CALLS = [
  ['fib', [25n]],
  ['sieve', [65536]],
  ['crc32', [4096]],
  ['collatz', [3000n]],
  ['machine', [1000]],
  ['deep', [0x123456789n, 13n]],
  ['deep', [-5n, 64n]],
  ['bump', [5n]],
  ['bump', [-7n]],
  ['viaImport', [20]],
  ['throwThrough', [3]],
  ['widths', [100, 0x0102030405060708n]],
  ['widths', [65528, -2n]],
  ['indirect', [0, 12n]],
  ['indirect', [1, 3n]],
  ['indirect', [2, 1n]],
  ['indirect', [3, 1n]],
  ['indirect', [4, 1n]],
  ['indirect', [5, 1n]],
  ['indirect', [-1, 1n]],
  ['fmix', [2.5, -4.25, 0.75]],
  ['fmix', [-0, 1e308, -3.5]],
  ['fmix', [NaN, 1, 2]],
  ['fmix', [Infinity, -Infinity, 0]],
  ['fcmp', [1, 2]],
  ['fcmp', [2, 1]],
  ['fcmp', [1.5, 1.5]],
  ['fcmp', [-0, 0]],
  ['fcmp', [NaN, 1]],
  ['fcmp', [NaN, NaN]],
  ['fconv', [-7, -9007199254740993n]],
  ['fconv', [2147483647, 123456789012345678n]],
  ['bits', [1.5]],
  ['bits', [-2.75e-310]],
  ['fmem', [16, 1.2345678901234567]],
  ['fmem', [65520, 1e40]],
  ['fmem', [65530, 1]],
  ['fcall', [0.5]],
  ['findirect', [4, 3.5]],
  ['findirect', [0, 1]],
  ['findirect', [3, 1]],
  ['findirect', [7, 1]],
  ['divS', [7, -2]],
  ['divS', [1, 0]],
  ['divS', [-2147483648, -1]],
  ['divS', [-2147483647, -1]],
  ['divU', [-1, 3]],
  ['divU', [5, 0]],
  ['remS', [-9223372036854775808n, -1n]],
  ['remS', [-7n, 2n]],
  ['remS', [1n, 0n]],
  ['remU', [-1n, 10n]],
  ['divS64', [-9223372036854775808n, -1n]],
  ['divS64', [-9223372036854775808n, 2n]],
  ['load', [65528]],
  ['load', [65520]],
  ['load', [-1]],
  ['store', [0]],
  ['store', [1]],
  ['trapDeep', [5]],
  ['forever', [0]],
];

// Every call's outcome on namespace W, in order, on one instance.
function runAll(W) {
  const exports = instantiate(W, wat(KERNELS), imports(W));
  return CALLS.map(([name, args]) => [name, args.map(String), run(W, () => exports[name](...args))]);
}

describe.each([
  ['eagerly', { lazy: false, tierUp: 'off' }],
  ['lazily', { lazy: true, tierUp: 'off' }],
  ['lazily with dynamic tier-up', { lazy: true, tierUp: 'dynamic' }],
])('single-pass code, compiled %s', (_, options) => {
  test('kernels and traps give what Node gives', () => {
    engine.setCompileOptions({ firstTier: 'singlepass', ...options });
    const ours = runAll(cranewasm);
    const theirs = runAll(node);
    expect(ours).toEqual(theirs);
    // The traps and the recursion are really exercised.
    const outcomes = ours.map(([, , o]) => o.threw || 'value');
    expect(outcomes).toContain('WebAssembly.RuntimeError');
    expect(outcomes).toContain('RangeError');
  });
});

test('every kernel function is single-pass code; what it does not cover falls back', () => {
  engine.setCompileOptions({ firstTier: 'singlepass', lazy: false, tierUp: 'off' });
  const kernels = new cranewasm.Module(wat(KERNELS));
  const status = engine.compileStatus(kernels);
  expect(status).toMatchObject({ functions: 27, singlepass: 27, baseline: 0, optimized: 0, fallbacks: 0, firstTier: 'singlepass' });

  const mixed = new cranewasm.Module(wat(`(module
    (func (export "int") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
    (func (export "simd") (param i32) (result i32) (i32x4.extract_lane 1 (i32x4.splat (local.get 0))))
    (func (export "pair") (result i32 i32) (block (result i32 i32) (i32.const 1) (i32.const 2)))
    (func (export "nine") (result i32 i32 i32 i32 i32 i32 i32 i32 i32)
      (i32.const 1) (i32.const 2) (i32.const 3) (i32.const 4) (i32.const 5) (i32.const 6) (i32.const 7)
      (i32.const 8) (i32.const 9)))`));
  // SIMD (singlepass-simd.test.js) and multi-value blocks are covered; nine integer results need
  // the stack return area, which the single-pass tier does not use: that function falls back.
  expect(engine.compileStatus(mixed)).toMatchObject({ functions: 4, singlepass: 3, baseline: 1, fallbacks: 1 });
  const e = new cranewasm.Instance(mixed).exports;
  expect([e.int(41), e.simd(7), e.pair(), e.nine()]).toEqual([42, 7, [1, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9]]);
});

test('the default first tier is the single-pass one; other tiers report no fallbacks', () => {
  // (unless the environment of this jest run chose another one)
  if (!process.env.CRANEWASM_FIRST_TIER?.trim()) expect(saved.firstTier).toBe('singlepass');
  engine.setCompileOptions({ lazy: false, tierUp: 'off' });
  if (saved.firstTier === 'singlepass') {
    expect(engine.compileStatus(new cranewasm.Module(wat(KERNELS)))).toMatchObject({ singlepass: 27, baseline: 0, fallbacks: 0 });
  }
  for (const firstTier of ['baseline', 'optimized']) {
    engine.setCompileOptions({ firstTier });
    const status = engine.compileStatus(new cranewasm.Module(wat(KERNELS)));
    expect(status).toMatchObject({ singlepass: 0, [firstTier]: 27, fallbacks: 0 });
  }
});

test('single-pass code tiers up to optimized code', async () => {
  engine.setCompileOptions({ firstTier: 'singlepass', lazy: false, tierUp: 'off' });
  const module = new cranewasm.Module(wat(KERNELS));
  const exports = new cranewasm.Instance(module, imports(cranewasm)).exports;
  expect(exports.fib(20n)).toBe(6765n);
  await engine.tierUp(module);
  expect(engine.compileStatus(module)).toMatchObject({ singlepass: 0, baseline: 0, optimized: 27, fallbacks: 0 });
  expect(exports.fib(20n)).toBe(6765n);
});

// Float rounding, min/max, float->int truncations (trapping and saturating), u64->float and
// memory.size/grow: the same results and traps as Node's, and single-pass code (no fallback).
describe('float conversions, rounding, min/max and memory.size/grow', () => {
  const unary = [];
  for (const t of ['f32', 'f64']) {
    for (const op of ['ceil', 'floor', 'trunc', 'nearest']) unary.push([`${t}.${op}`, t, t]);
    for (const i of ['i32', 'i64']) {
      for (const op of ['trunc', 'trunc_sat']) {
        for (const sign of ['s', 'u']) unary.push([`${i}.${op}_${t}_${sign}`, t, i]);
      }
      for (const sign of ['s', 'u']) unary.push([`${t}.convert_${i}_${sign}`, i, t]);
    }
  }
  const binary = ['f32.min', 'f32.max', 'f64.min', 'f64.max'];
  const name = (op) => op.replace(/\./g, '_');
  const source = `(module
    (memory (export "memory") 1 3)
    ${unary.map(([op, p, r]) => `(func (export "${name(op)}") (param ${p}) (result ${r}) (${op} (local.get 0)))`).join('\n')}
    ${binary.map((op) => `(func (export "${name(op)}") (param ${op.slice(0, 3)} ${op.slice(0, 3)}) (result ${op.slice(0, 3)})
       (${op} (local.get 0) (local.get 1)))`).join('\n')}
    ;; min/max of values kept on the stack across a call-free sequence with other operators.
    (func (export "clamp") (param f64 f64 f64) (result f64)
      (f64.max (local.get 1) (f64.min (local.get 0) (local.get 2))))
    (func (export "size") (result i32) (memory.size))
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
    ;; Grows, then stores and loads at the last byte of the new size (keeping a value live
    ;; across the libcall).
    (func (export "growAndTouch") (param i32) (result i32)
      (local $old i32) (local $end i32)
      (local.set $old (i32.add (i32.const 1000) (memory.grow (local.get 0))))
      (local.set $end (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 1)))
      (i32.store8 (local.get $end) (i32.const 77))
      (i32.add (local.get $old) (i32.load8_u (local.get $end)))))`;

  const floats = [
    0, -0, 0.5, -0.5, 1.5, 2.5, -2.5, 3.5, -0.9999, 0.49999999999999994, -1, -1.5, 1e-300, -5e-324,
    8388609.5, 4503599627370497, 2147483647, 2147483647.9, 2147483648, -2147483648, -2147483648.9, -2147483649,
    -2147483904, 4294967295, 4294967295.5, 4294967296, 9223372036854775807, 9223371487098961920,
    -9223372036854775808, -9223372036854777856, -9223373136366403584, 18446744073709549568, 18446744073709551616,
    1e300, -1e300, Infinity, -Infinity, NaN,
  ];
  const ints = {
    i32: [0, 1, -1, 7, -2147483648, 2147483647, 16777217, -16777217],
    i64: [0n, 1n, -1n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), -(2n ** 63n) + 1n, 0x8000000000000401n - 2n ** 64n,
      0xfffffffffffffbffn - 2n ** 64n, 0xfffffffffffffc00n - 2n ** 64n, 0x10000008000000n, 0x8000008000000001n - 2n ** 64n],
  };

  function runConversions(W) {
    const e = instantiate(W, wat(source), {});
    const out = [];
    for (const [op, p] of unary) out.push([op, (p in ints ? ints[p] : floats).map((x) => run(W, () => e[name(op)](x)))]);
    for (const op of binary) {
      out.push([op, floats.flatMap((x) => [0, -0, 1, NaN, -Infinity, x].map((y) => run(W, () => e[name(op)](x, y))))]);
    }
    out.push(['clamp', floats.map((x) => run(W, () => e.clamp(x, -0, 0)))]);
    const memory = [e.size(), e.grow(1), e.size(), e.grow(0), e.grow(2), e.size(), e.growAndTouch(0), e.grow(-1)];
    out.push(['memory', memory, e.memory.buffer.byteLength, run(W, () => e.growAndTouch(1))]);
    return out;
  }

  test('give what Node gives, as single-pass code', () => {
    engine.setCompileOptions({ firstTier: 'singlepass', lazy: false, tierUp: 'off' });
    const module = new cranewasm.Module(wat(source));
    const count = unary.length + binary.length + 4;
    expect(engine.compileStatus(module)).toMatchObject({ functions: count, singlepass: count, fallbacks: 0 });
    const ours = runConversions(cranewasm);
    expect(ours).toEqual(runConversions(node));
    // The traps are exercised, with their message.
    const traps = ours.flatMap(([, outcomes]) => outcomes).filter((o) => o && o.threw);
    expect(traps.length).toBeGreaterThan(50);
    expect(new Set(traps.map((o) => o.message))).toEqual(new Set(['float unrepresentable in integer range']));
  });
});

// The single-pass tier (the default first tier) and the runtime: deadlines and fuel, stack
// exhaustion, trap messages and code replaced by dynamic tier-up while it runs.
describe('single-pass code and the runtime', () => {
  const SINGLEPASS = { firstTier: 'singlepass', lazy: false, tierUp: 'off' };
  const RUNTIME = `(module
    (import "env" "poll" (func $poll (param i32) (result i32)))
    (global $iterations (mut i32) (i32.const 0))
    (func (export "spin") (loop $l (br $l)))
    (func $fib (export "fib") (param i32) (result i32)
      (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
        (then (local.get 0))
        (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                       (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
    (func $deep (export "deep") (param i32) (result i32)
      (i32.add (call $deep (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
    ;; Mixes x with i until poll(i) says stop; the iteration count is left in a global.
    (func $mix (param $x i32) (param $i i32) (result i32)
      (i32.xor (i32.mul (local.get $x) (i32.const 0x9E3779B1)) (local.get $i)))
    (func (export "mixUntil") (param $x i32) (result i32) (local $i i32)
      (loop $l
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (local.set $x (call $mix (local.get $x) (local.get $i)))
        (br_if $l (call $poll (local.get $i))))
      (global.set $iterations (local.get $i))
      (local.get $x))
    (func (export "iterations") (result i32) (global.get $iterations))
    (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
    (func (export "rem") (param i64 i64) (result i64) (i64.rem_u (local.get 0) (local.get 1)))
    (func (export "load") (param i32) (result i64) (i64.load (local.get 0)))
    (func (export "trunc") (param f64) (result i32) (i32.trunc_f64_s (local.get 0)))
    (func (export "unreachable") (unreachable))
    (memory 1))`;
  const mixReference = (x, n) => {
    for (let i = 1; i <= n; i++) x = (Math.imul(x, 0x9E3779B1) ^ i) | 0;
    return x;
  };

  // Every function of RUNTIME is single-pass code: what follows tests that tier.
  function compileSinglepass(options = SINGLEPASS) {
    engine.setCompileOptions(options);
    const module = new cranewasm.Module(wat(RUNTIME));
    if (!options.lazy) expect(engine.compileStatus(module)).toMatchObject({ functions: 11, singlepass: 11, fallbacks: 0 });
    return module;
  }

  test('a sandbox deadline stops a single-pass loop and loop-free recursion; the instance stays usable', async () => {
    const module = compileSinglepass();
    const sandbox = new Sandbox({ timeout: 50 });
    const instance = await sandbox.instantiate(module, { env: { poll: () => 1 } });
    for (const call of [() => instance.exports.spin(), () => instance.exports.fib(60), () => instance.exports.mixUntil(1)]) {
      const err = thrown(call);
      expect(err).toBeInstanceOf(cranewasm.RuntimeError);
      expect(err.message).toBe('cranewasm: call timed out (timeout: 50 ms)');
    }
    expect(instance.exports.fib(20)).toBe(6765);
  });

  test('fuel: a metered sandbox stops a module compiled single-pass first (its code counts fuel)', async () => {
    const module = compileSinglepass();
    const sandbox = new Sandbox({ fuel: 10000 });
    const instance = await sandbox.instantiate(module, { env: { poll: () => 1 } });
    const err = thrown(() => instance.exports.spin());
    expect(err).toBeInstanceOf(cranewasm.RuntimeError);
    expect(err.message).toBe('cranewasm: all fuel consumed (fuel exhausted)');
    sandbox.fuel = 1e9;
    expect(instance.exports.fib(20)).toBe(6765);
    const used = 1e9 - sandbox.fuel;
    expect(used).toBeGreaterThan(6765); // counted: every call of fib at least
    // The module's own (unmetered) code is still single-pass code.
    expect(engine.compileStatus(module)).toMatchObject({ singlepass: 11, fallbacks: 0 });
  });

  test.each([
    ['eagerly', SINGLEPASS],
    ['lazily', { ...SINGLEPASS, lazy: true }],
  ])('stack exhaustion in single-pass recursion (compiled %s) is a RangeError, as on Node', (_, options) => {
    const ours = new cranewasm.Instance(compileSinglepass(options), { env: { poll: () => 0 } }).exports;
    const theirs = instantiate(node, wat(RUNTIME), { env: { poll: () => 0 } });
    for (let k = 0; k < 3; k++) {
      const outcome = run(cranewasm, () => ours.deep(0));
      expect(outcome.threw).toBe('RangeError');
      expect(outcome.threw).toBe(run(node, () => theirs.deep(0)).threw);
      expect(ours.fib(15)).toBe(610); // and the thread goes on
    }
  });

  test('traps: the same class and message at every tier, and the class Node gives', () => {
    const CALLS = [['div', 1, 0], ['div', -0x80000000, -1], ['rem', 1n, 0n], ['load', 65535], ['trunc', 1e10], ['trunc', NaN], ['unreachable']];
    const outcomes = (firstTier) => {
      engine.setCompileOptions({ ...SINGLEPASS, firstTier });
      const e = new cranewasm.Instance(new cranewasm.Module(wat(RUNTIME)), { env: { poll: () => 0 } }).exports;
      return CALLS.map(([f, ...args]) => run(cranewasm, () => e[f](...args)));
    };
    const singlepass = outcomes('singlepass');
    expect(singlepass.every((o) => o.threw === 'WebAssembly.RuntimeError')).toBe(true);
    expect(outcomes('baseline')).toEqual(singlepass);
    expect(outcomes('optimized')).toEqual(singlepass);
    const theirs = instantiate(node, wat(RUNTIME), { env: { poll: () => 0 } });
    expect(CALLS.map(([f, ...args]) => run(node, () => theirs[f](...args)).threw)).toEqual(singlepass.map((o) => o.threw));
  });

  // mixUntil's own loop makes it (and mix) hot: their optimized code is installed while the
  // single-pass frame of mixUntil is still running; that frame finishes with the right result.
  test('single-pass code replaced by dynamic tier-up while it runs finishes correctly', () => {
    const module = compileSinglepass({ firstTier: 'singlepass', lazy: true, tierUp: 'dynamic' });
    const deadline = Date.now() + 15000;
    let atStart;
    const poll = (i) => {
      if (i === 1) atStart = engine.compileStatus(module);
      return engine.compileStatus(module).optimized >= 2 || Date.now() > deadline ? 0 : 1;
    };
    const e = new cranewasm.Instance(module, { env: { poll } }).exports;
    const result = e.mixUntil(7);
    expect(atStart).toMatchObject({ singlepass: 2, optimized: 0, fallbacks: 0 }); // mixUntil and mix
    expect(engine.compileStatus(module)).toMatchObject({ singlepass: 0, optimized: 2, fallbacks: 0 });
    expect(result).toBe(mixReference(7, e.iterations()));
    // Called again: the optimized code, same results.
    const again = new cranewasm.Instance(module, { env: { poll: (i) => (i < 5000 ? 1 : 0) } }).exports;
    expect(again.mixUntil(11)).toBe(mixReference(11, 5000));
  });
});

function thrown(f) {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

// Parameters beyond the registers of the `tail` convention (five integers after the vmctx, eight
// floats) travel in a stack area that the callee pops. Single-pass code reads them, passes them
// (call and call_indirect) and is called with them by JS, by itself, by baseline and optimized
// code (across instances, through imports and tables) and by baseline code's tail calls: every
// result is the one Node gives for the same bytes.
describe('stack-passed parameters', () => {
  const SIGS = {
    p6: ['i32', 'i64', 'f32', 'f64', 'i32', 'i64'],
    p7: ['i64', 'i32', 'i64', 'i32', 'i64', 'i32', 'i64'], // two integers on the stack
    p10: ['f64', 'f32', 'f64', 'f32', 'f64', 'f32', 'f64', 'f32', 'f64', 'f32'], // two floats on the stack
    // Six integers and ten floats: one integer and two floats on the stack, interleaved.
    p16: ['f64', 'i32', 'f32', 'i64', 'f64', 'f64', 'i32', 'f32', 'f64', 'i64', 'f32', 'f64', 'i32', 'f64', 'f32', 'i64'],
    // Nine integers and nine floats.
    p18: ['i64', 'f64', 'i32', 'f32', 'i64', 'f64', 'i32', 'f32', 'i64', 'f64', 'i32', 'f32', 'i64', 'f64', 'i32', 'f32', 'i64', 'f64'],
  };
  const NAMES = Object.keys(SIGS);
  // Several results (all in the convention's return registers: eight integers, eight floats).
  const RESULTS16 = ['i64', 'f64', 'i32', 'f32', 'i64', 'f64', 'i32', 'f32', 'i64', 'f64', 'i32', 'f32', 'i64', 'f64', 'i32', 'f32'];
  const MULTI = {
    m4: { params: SIGS.p7, hash: 'p7', results: ['i64', 'f64', 'i32', 'f32'] },
    m16: { params: SIGS.p16, hash: 'p16', results: RESULTS16 },
  };
  const MNAMES = Object.keys(MULTI);
  const ALL = [...NAMES, ...MNAMES];
  const sigOf = (n) => MULTI[n] || { params: SIGS[n], results: ['i64'] };
  const params = (sig) => sig.map((t) => `(param ${t})`).join(' ');
  const bits = (t, get) =>
    ({ i32: `(i64.extend_i32_u ${get})`, i64: get, f32: `(i64.extend_i32_u (i32.reinterpret_f32 ${get}))`, f64: `(i64.reinterpret_f64 ${get})` })[t];
  // A value of type t derived from an i64 $seed and the argument's position.
  const derive = (t, i) =>
    ({
      which: '(local.get $which)',
      i32: `(i32.wrap_i64 (i64.add (local.get $seed) (i64.const ${i * 7919})))`,
      i64: `(i64.mul (local.get $seed) (i64.const ${-(i + 3)}))`,
      f32: `(f32.div (f32.convert_i64_s (local.get $seed)) (f32.const ${i + 0.5}))`,
      f64: `(f64.add (f64.convert_i64_s (local.get $seed)) (f64.const ${i}.125))`,
    })[t];
  const gets = (sig) => sig.map((_, i) => `(local.get ${i})`).join(' ');
  const derived = (sig) => sig.map(derive).join(' ');

  // The hash of all arguments in order (any swap changes it); the last parameter is written
  // first, so a callee's copy of a stack argument is its own.
  const hashFunc = (name, sig) => {
    const n = sig.length;
    const last = sig[n - 1];
    const bump = { i32: '(i32.add (local.get LAST) (i32.const 1))', i64: '(i64.add (local.get LAST) (i64.const 1))', f32: '(f32.neg (local.get LAST))', f64: '(f64.neg (local.get LAST))' }[last].replace('LAST', n - 1);
    let body = `(local.set ${n - 1} ${bump}) (local.set $acc (i64.const 17))`;
    sig.forEach((t, i) => {
      body += ` (local.set $acc (i64.xor (i64.mul (local.get $acc) (i64.const 1000003)) ${bits(t, `(local.get ${i})`)}))`;
    });
    return `(func $${name} (export "${name}") ${params(sig)} (result i64) (local $acc i64) ${body} (local.get $acc))`;
  };

  // Results made from the hash h and k, one of each type.
  const resultValues = (results, k) =>
    results
      .map((t, i) =>
        ({
          i64: `(i64.add (local.get $h) (i64.const ${k * 1000 + i}))`,
          f64: `(f64.convert_i64_s (i64.add (local.get $h) (i64.const ${k})))`,
          i32: `(i32.wrap_i64 (i64.rotl (local.get $h) (i64.const ${i + k})))`,
          f32: `(f32.convert_i64_s (i64.shr_s (local.get $h) (i64.const ${i + k})))`,
        })[t]
      )
      .join(' ');
  // Returns its results by `return` inside a block (a value left below them), `br` to the
  // function's label, a taken `br_if` to it, or the fall-through, as parameter 1 says.
  const multiFunc = (name, { params: sig, hash, results }) => `(func $${name} (export "${name}") ${params(sig)} (result ${results.join(' ')}) (local $h i64)
      (local.set $h (call $${hash} ${gets(sig)}))
      (i64.const 99)
      (if (i32.eq (local.get 1) (i32.const 1234567)) (then ${resultValues(results, 1)} (return)))
      (drop)
      (if (i32.eq (local.get 1) (i32.const 7654321)) (then ${resultValues(results, 2)} (br 1)))
      ${resultValues(results, 3)}
      (br_if 0 (i32.eq (local.get 1) (i32.const 42)))
      ${results.map(() => '(drop)').join(' ')}
      ${resultValues(results, 4)})`;

  const MODULE = `(module
    ${ALL.map((n) => `(type $t${n} (func ${params(sigOf(n).params)} (result ${sigOf(n).results.join(' ')})))`).join('\n')}
    ${ALL.map((n) => `(import "other" "${n}" (func $o${n} (type $t${n})))`).join('\n')}
    (import "other" "table" (table $ot ${ALL.length} funcref))
    (table $t (export "table") ${ALL.length} funcref)
    (elem (table $t) (i32.const 0) func ${ALL.map((n) => `$${n}`).join(' ')})
    ${NAMES.map((n) => hashFunc(n, SIGS[n])).join('\n')}
    ${MNAMES.map((n) => multiFunc(n, MULTI[n])).join('\n')}
    ${MNAMES.map((n) => hashFunc(`fold_${n}`, MULTI[n].results)).join('\n')}
    ;; Calls with several results, folded by a function taking them all as parameters.
    ${MNAMES.map(
      (n) => `(func (export "call_${n}") (param $seed i64) (param $which i32) (result i64)
        (local $k i32) (local.set $k (i32.const ${ALL.indexOf(n)}))
        (i64.xor (i64.xor (call $fold_${n} (call $${n} ${derived(MULTI[n].params.map((t, i) => (i === 1 ? 'which' : t)))}))
                          (i64.rotl (call $fold_${n} (call_indirect $t (type $t${n}) ${derived(MULTI[n].params.map((t, i) => (i === 1 ? 'which' : t)))} (local.get $k))) (i64.const 1)))
                 (i64.xor (i64.rotl (call $fold_${n} (call $o${n} ${derived(MULTI[n].params.map((t, i) => (i === 1 ? 'which' : t)))})) (i64.const 2))
                          (i64.rotl (call $fold_${n} (call_indirect $ot (type $t${n}) ${derived(MULTI[n].params.map((t, i) => (i === 1 ? 'which' : t)))} (local.get $k))) (i64.const 3)))))`
    ).join('\n')}
    ;; Forwards its own (partly stack-passed) parameters as another call's.
    ${NAMES.map((n) => `(func (export "fwd_${n}") ${params(SIGS[n])} (result i64) (i64.add (call $${n} ${gets(SIGS[n])}) (i64.const 1)))`).join('\n')}
    ;; Calls with arguments made from a seed: directly, through the table, through the import,
    ;; through the imported table.
    ${NAMES.map(
      (n, k) => `(func (export "call_${n}") (param $seed i64) (result i64)
        (i64.xor (i64.xor (call $${n} ${derived(SIGS[n])})
                          (i64.rotl (call_indirect $t (type $t${n}) ${derived(SIGS[n])} (i32.const ${k})) (i64.const 1)))
                 (i64.xor (i64.rotl (call $o${n} ${derived(SIGS[n])}) (i64.const 2))
                          (i64.rotl (call_indirect $ot (type $t${n}) ${derived(SIGS[n])} (i32.const ${k})) (i64.const 3)))))`
    ).join('\n')}
    ;; A loop of calls (hot: dynamic tier-up replaces code while it runs).
    (func (export "loop") (param $n i32) (result i64) (local $seed i64) (local $acc i64)
      (loop $l
        (local.set $seed (i64.extend_i32_u (local.get $n)))
        (local.set $acc (i64.add (local.get $acc) (i64.add (call $p16 ${derived(SIGS.p16)}) (call $p7 ${derived(SIGS.p7)}))))
        (local.set $acc (i64.add (local.get $acc) (call_indirect $t (type $tp18) ${derived(SIGS.p18)} (i32.const 4))))
        (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
      (local.get $acc))
    ;; Traps with a stack-passed divisor (p7's last parameter).
    (func (export "div7") ${params(SIGS.p7)} (result i64) (i64.div_s (local.get 0) (local.get 6)))
    ;; Recursion with many parameters, some of them changed on the way down.
    (func $rec (export "rec") ${params(SIGS.p18)} (result i64)
      (if (result i64) (i32.eqz (local.get 2))
        (then (call $p18 ${gets(SIGS.p18)}))
        (else (i64.add (i64.const 1)
          (call $rec ${SIGS.p18.map((t, i) => (i === 2 ? '(i32.sub (local.get 2) (i32.const 1))' : i === 17 ? '(f64.add (local.get 17) (f64.const 0.5))' : i === 16 ? '(i64.add (local.get 16) (local.get 0))' : `(local.get ${i})`)).join(' ')})))))
    (func $forever (export "forever") ${params(SIGS.p16)} (result i64)
      (i64.add (call $forever ${gets(SIGS.p16)}) (i64.const 1))))`;

  const ARGS = {
    p6: [[1, 2n, 3.5, 4.25, -5, -6n], [-1, -(2n ** 63n), -0, 5e-324, 0x7fffffff, 2n ** 63n - 1n]],
    p7: [[1n, 2, 3n, 4, 5n, 6, 7n], [-1n, -2, 2n ** 62n, 0, -(2n ** 63n), -2147483648, 123456789012345n]],
    p10: [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [-0, 1.5e-45, 1e308, -3.25, Infinity, -Infinity, 2 ** -1074, 3.4e38, -1e-300, 0.1]],
    p16: [Array.from(SIGS.p16, (t, i) => (t === 'i64' ? BigInt(i * 1000 - 7) : t === 'i32' ? i - 8 : i * 1.25 - 3))],
    p18: [Array.from(SIGS.p18, (t, i) => (t === 'i64' ? -BigInt(i) * 99999999n : t === 'i32' ? i * 65537 : i / 3))],
  };
  const SEEDS = [0n, 1n, -5n, 123456789n, -(2n ** 40n)];
  // Parameter 1 of the multi-value functions: which way they return.
  const WHICH = [5, 1234567, 7654321, 42];

  // Two instances: `first` (its imports plain JS functions that record their arguments, a fresh
  // table) and `second`, whose imports are `first`'s functions and table.
  const hostResult = (t, k) => ({ i32: k, i64: BigInt(k), f32: k + 0.5, f64: k / 4 })[t];
  function pair(W, bytes, recorded) {
    const imports = { table: new W.Table({ initial: ALL.length, element: 'anyfunc' }) };
    for (const n of ALL) {
      imports[n] = (...args) => {
        recorded.push([n, ...args.map(String)]);
        const { results } = sigOf(n);
        return results.length === 1 ? BigInt(args.length) : results.map((t, k) => hostResult(t, args.length + k));
      };
    }
    const fillTable = (exports, table) => ALL.forEach((n, k) => table.set(k, exports[n]));
    const first = instantiate(W, bytes, { other: imports });
    fillTable(first, imports.table);
    const second = instantiate(W, bytes, { other: { ...Object.fromEntries(ALL.map((n) => [n, first[n]])), table: first.table } });
    return { first, second };
  }

  // Every call of the test on instances of `modules` (first, second) on namespace W.
  function outcomes(W, makeModule) {
    const recorded = [];
    const bytes = wat(MODULE);
    const { first, second } = makeModule ? makeModule(bytes, recorded) : pair(W, bytes, recorded);
    const results = [];
    for (const [which, e] of [['first', first], ['second', second]]) {
      for (const n of NAMES) {
        for (const args of ARGS[n]) {
          results.push([which, n, run(W, () => e[n](...args)), run(W, () => e[`fwd_${n}`](...args))]);
        }
        for (const seed of SEEDS) results.push([which, `call_${n}`, run(W, () => e[`call_${n}`](seed))]);
      }
      for (const n of MNAMES) {
        for (const selector of WHICH) {
          const args = ARGS[MULTI[n].hash][0].map((v, i) => (i === 1 ? selector : v));
          results.push([which, n, run(W, () => e[n](...args))]);
          for (const seed of SEEDS.slice(0, 3)) results.push([which, `call_${n}`, run(W, () => e[`call_${n}`](seed, selector))]);
        }
      }
      results.push([which, 'loop', run(W, () => e.loop(50))]);
      for (const args of [[7n, 1, 2n, 3, 4n, 5, 2n], [7n, 1, 2n, 3, 4n, 5, 0n], [-(2n ** 63n), 0, 0n, 0, 0n, 0, -1n]]) {
        results.push([which, 'div7', run(W, () => e.div7(...args))]);
      }
      results.push([which, 'rec', run(W, () => e.rec(...ARGS.p18[0].map((v, i) => (i === 2 ? 2000 : v))))]);
    }
    return { results, recorded };
  }

  const withTiers = (firstTiers, options = {}) => (bytes, recorded) => {
    const saved2 = engine.getCompileOptions();
    try {
      const compile = (firstTier) => {
        engine.setCompileOptions({ lazy: false, tierUp: 'off', ...options, firstTier });
        return new cranewasm.Module(bytes);
      };
      const [m1, m2] = firstTiers.map(compile);
      if (!options.lazy) {
        for (const [m, tier] of [[m1, firstTiers[0]], [m2, firstTiers[1]]]) {
          expect(engine.compileStatus(m)).toMatchObject({ fallbacks: 0, [tier]: engine.compileStatus(m).functions });
        }
      }
      // pair() instantiates through instantiate(W, bytes): hand it the precompiled modules.
      const modules = [m1, m2];
      const W = { Module: function Module() { return modules.shift(); }, Instance: cranewasm.Instance, Table: cranewasm.Table };
      return pair(W, bytes, recorded);
    } finally {
      engine.setCompileOptions(saved2);
    }
  };

  let reference;
  const theirs = () => (reference ??= outcomes(node));

  test.each([
    ['single-pass, both instances', ['singlepass', 'singlepass']],
    ['single-pass calling baseline code', ['baseline', 'singlepass']],
    ['baseline code calling single-pass code', ['singlepass', 'baseline']],
    ['single-pass calling optimized code', ['optimized', 'singlepass']],
    ['optimized code calling single-pass code', ['singlepass', 'optimized']],
  ])('%s: the results Node gives', (_, tiers) => {
    const ours = outcomes(cranewasm, withTiers(tiers));
    expect(ours).toEqual(theirs());
    // The traps are exercised, and the host functions were called with every argument.
    expect(ours.results.filter((r) => r[1] === 'div7' && r[2].threw === 'WebAssembly.RuntimeError')).toHaveLength(4);
    expect(ours.recorded.length).toBe(NAMES.length * SEEDS.length + MNAMES.length * WHICH.length * 3);
  });

  test('single-pass code compiled lazily with dynamic tier-up: the results Node gives', () => {
    const ours = outcomes(cranewasm, withTiers(['singlepass', 'singlepass'], { lazy: true, tierUp: 'dynamic' }));
    expect(ours).toEqual(theirs());
  });

  test('tiered up to optimized code: the same results', async () => {
    engine.setCompileOptions({ firstTier: 'singlepass', lazy: false, tierUp: 'off' });
    const module = new cranewasm.Module(wat(MODULE));
    expect(engine.compileStatus(module)).toMatchObject({ fallbacks: 0, baseline: 0 });
    const e = new cranewasm.Instance(module, { other: { ...Object.fromEntries(ALL.map((n) => [n, () => 0n])), table: new cranewasm.Table({ initial: ALL.length, element: 'anyfunc' }) } }).exports;
    const multi = () => MNAMES.map((n) => WHICH.map((w) => e[n](...ARGS[MULTI[n].hash][0].map((v, i) => (i === 1 ? w : v)))));
    const before = NAMES.map((n) => ARGS[n].map((args) => [e[n](...args), e[`fwd_${n}`](...args)]));
    const multiBefore = multi();
    const loop = e.loop(100);
    await engine.tierUp(module);
    expect(engine.compileStatus(module)).toMatchObject({ singlepass: 0, optimized: engine.compileStatus(module).functions });
    expect(NAMES.map((n) => ARGS[n].map((args) => [e[n](...args), e[`fwd_${n}`](...args)]))).toEqual(before);
    expect(e.loop(100)).toBe(loop);
    expect(multi()).toEqual(multiBefore);
  });

  test('unbounded recursion with stack-passed parameters is a RangeError, as on Node; the thread goes on', () => {
    engine.setCompileOptions({ firstTier: 'singlepass', lazy: false, tierUp: 'off' });
    const module = new cranewasm.Module(wat(MODULE));
    expect(engine.compileStatus(module)).toMatchObject({ fallbacks: 0 });
    const other = (W) => ({ other: { ...Object.fromEntries(ALL.map((n) => [n, () => 0n])), table: new W.Table({ initial: ALL.length, element: 'anyfunc' }) } });
    const ours = new cranewasm.Instance(module, other(cranewasm)).exports;
    const nodes = instantiate(node, wat(MODULE), other(node));
    for (let k = 0; k < 3; k++) {
      const outcome = run(cranewasm, () => ours.forever(...ARGS.p16[0]));
      expect(outcome.threw).toBe('RangeError');
      expect(outcome.threw).toBe(run(node, () => nodes.forever(...ARGS.p16[0])).threw);
      expect(ours.p16(...ARGS.p16[0])).toBe(nodes.p16(...ARGS.p16[0]));
    }
  });

  test('results beyond the return registers (a stack return area) fall back, callers too', () => {
    const nine = Array.from({ length: 9 }, (_, i) => `(i32.const ${i - 4})`).join(' ');
    const sixteen = Array.from({ length: 8 }, (_, i) => `(i64.const ${-i}) (f64.const ${i}.5)`).join(' ');
    const bytes = wat(`(module
      (func $nine (export "nine") (result ${'i32 '.repeat(9)}) ${nine})
      (func $sixteen (export "sixteen") (result ${'i64 f64 '.repeat(8)}) ${sixteen})
      (func (export "useNine") (result i32) (call $nine) ${'(i32.add) '.repeat(8)})
      (func (export "useSixteen") (result f64) (call $sixteen) ${'(drop) '.repeat(14)} (drop) (f64.convert_i64_s)))`);
    engine.setCompileOptions({ firstTier: 'singlepass', lazy: false, tierUp: 'off' });
    const module = new cranewasm.Module(bytes);
    expect(engine.compileStatus(module)).toMatchObject({ functions: 4, singlepass: 2, fallbacks: 2 });
    const calls = (W, e) => [run(W, () => e.nine()), run(W, () => e.sixteen()), run(W, () => e.useNine()), run(W, () => e.useSixteen())];
    const ours = calls(cranewasm, new cranewasm.Instance(module).exports);
    expect(ours).toEqual(calls(node, instantiate(node, bytes)));
  });

  // Tail calls whose callee's stack-argument area is larger than the caller's own (the area
  // grows into the caller's frame), equal or smaller.
  test('tail calls with stack-passed parameters, to larger, equal and smaller areas', () => {
    const text = `(module
      ${NAMES.map((n) => `(type $t${n} (func ${params(SIGS[n])} (result i64)))`).join('\n')}
      (table $t ${NAMES.length} funcref)
      (elem (table $t) (i32.const 0) func ${NAMES.map((n) => `$${n}`).join(' ')})
      ${NAMES.map((n) => hashFunc(n, SIGS[n])).join('\n')}
      (func (export "tc16") (param $seed i64) (result i64) (return_call $p16 ${derived(SIGS.p16)}))
      (func (export "tc18i") (param $seed i64) (result i64) (return_call_indirect $t (type $tp18) ${derived(SIGS.p18)} (i32.const 4)))
      (func (export "same16") ${params(SIGS.p16)} (result i64) (return_call $p16 ${gets(SIGS.p16)}))
      (func (export "shrink") ${params(SIGS.p18)} (result i64) (local $seed i64) (local.set $seed (local.get 0)) (return_call $p7 ${derived(SIGS.p7)}))
      ;; Tail recursion with stack-passed parameters, deeper than any stack.
      (func $count (export "count") ${params(SIGS.p7)} (result i64)
        (if (result i64) (i64.eqz (local.get 6)) (then (call $p7 ${gets(SIGS.p7)}))
          (else (return_call $count ${SIGS.p7.map((t, i) => (i === 6 ? '(i64.sub (local.get 6) (i64.const 1))' : i === 5 ? '(i32.add (local.get 5) (i32.const 3))' : `(local.get ${i})`)).join(' ')})))))`;
    const bytes = wat(text, { tail_call: true });
    const calls = (W, e) => [
      ...SEEDS.map((s) => run(W, () => [e.tc16(s), e.tc18i(s)])),
      run(W, () => e.same16(...ARGS.p16[0])),
      run(W, () => e.shrink(...ARGS.p18[0])),
      run(W, () => e.count(1n, 2, 3n, 4, 5n, 6, 1_000_000n)),
    ];
    engine.setCompileOptions({ firstTier: 'singlepass', lazy: false, tierUp: 'off' });
    const module = new cranewasm.Module(bytes);
    // All single-pass code: the hash functions, the tail calls to an equal or smaller area
    // (same16, shrink, count) and to a larger one (tc16, tc18i).
    expect(engine.compileStatus(module)).toMatchObject({ singlepass: 10, baseline: 0, fallbacks: 0 });
    const ours = calls(cranewasm, new cranewasm.Instance(module).exports);
    expect(ours).toEqual(calls(node, instantiate(node, bytes)));
    expect(ours.every((o) => 'value' in o)).toBe(true);
  });
});

// Floats in xmm registers on the value stack and comparisons fused with br_if/if: NaN payloads
// (as bits) through locals, block merges, select, calls with more float parameters than xmm
// argument registers, f32 values kept across calls, -0.0, and every float comparison as a
// value, as a br_if/if condition and under i32.eqz, against Node, as single-pass code.
describe('floats in xmm registers and fused comparisons', () => {
  const cmps = ['eq', 'ne', 'lt', 'gt', 'le', 'ge'];
  const source = `(module
    (memory (export "memory") 1)
    ;; Thirteen float parameters (xmm0-xmm7, then the stack) mixed with integers; the result
    ;; mixes every one of them so that a lost or misplaced argument shows.
    (func $many (param f64 f32 i32 f64 f32 f64 f32 f64 f32 f64 f32 f64 i64 f32 f64) (result f64)
      (f64.add
        (f64.add (f64.add (local.get 0) (f64.promote_f32 (local.get 1)))
                 (f64.mul (f64.convert_i32_s (local.get 2)) (local.get 3)))
        (f64.sub
          (f64.add (f64.add (f64.promote_f32 (local.get 4)) (local.get 5))
                   (f64.add (f64.promote_f32 (local.get 6)) (f64.mul (local.get 7) (f64.const 3))))
          (f64.add
            (f64.add (f64.promote_f32 (local.get 8)) (f64.mul (local.get 9) (f64.const 5)))
            (f64.add (f64.add (f64.promote_f32 (local.get 10)) (f64.mul (local.get 11) (f64.const 7)))
                     (f64.add (f64.convert_i64_s (local.get 12))
                              (f64.add (f64.promote_f32 (local.get 13)) (f64.mul (local.get 14) (f64.const 11)))))))))
    (func (export "many") (param $x f64) (param $y f32) (result f64)
      (call $many (local.get $x) (local.get $y) (i32.const 3) (f64.neg (local.get $x)) (f32.const -0)
        (f64.const 0.25) (f32.mul (local.get $y) (f32.const 2)) (f64.const -1.5) (f32.const 1e-3)
        (local.get $x) (f32.const 9) (f64.sqrt (local.get $x)) (i64.const -4) (local.get $y) (f64.const 1e10)))
    ;; A NaN's bits through a parameter and a result of a callee with stack-passed floats.
    (func $pick (param f64 f64 f64 f64 f64 f64 f64 f64 f64 f32 f64) (result f64)
      (if (result f64) (f32.ne (local.get 9) (local.get 9)) (then (local.get 10)) (else (local.get 8))))
    (func (export "nanThroughCall") (param $bits i64) (param $f32bits i32) (result i64)
      (i64.reinterpret_f64 (call $pick (f64.const 1) (f64.const 2) (f64.const 3) (f64.const 4) (f64.const 5)
        (f64.const 6) (f64.const 7) (f64.const 8) (f64.reinterpret_i64 (local.get $bits))
        (f32.reinterpret_i32 (local.get $f32bits)) (f64.const -0))))
    ;; Payloads through locals, a block merge, select and a loop, as bits.
    (func (export "nanThroughLocals64") (param $bits i64) (param $c i32) (result i64)
      (local $x f64) (local $y f64) (local $i i32)
      (local.set $x (f64.reinterpret_i64 (local.get $bits)))
      (local.set $y (block (result f64)
        (br_if 0 (local.tee $x (local.get $x)) (local.get $c))
        (drop)
        (select (local.get $x) (f64.const 1) (i32.eqz (local.get $c)))))
      (loop $l
        (local.set $y (select (local.get $y) (local.get $x) (i32.lt_u (local.get $i) (i32.const 3))))
        (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 5))))
      (i64.reinterpret_f64 (local.get $y)))
    (func (export "nanThroughLocals32") (param $bits i32) (param $c i32) (result i32)
      (local $x f32) (local $y f32)
      (local.set $x (f32.reinterpret_i32 (local.get $bits)))
      (local.set $y (if (result f32) (local.get $c) (then (local.get $x)) (else (f32.neg (local.get $x)))))
      (f32.store (i32.const 8) (local.get $y))
      (i32.xor (i32.reinterpret_f32 (f32.load (i32.const 8))) (i32.reinterpret_f32 (f32.abs (local.get $y)))))
    ;; f32 values live across calls and in memory; the f32 result's upper bits must not matter.
    (func $f32id (param f32) (result f32) (local.get 0))
    (func (export "f32AcrossCalls") (param $a f32) (param $b f32) (result f32)
      (f32.add (f32.mul (local.get $a) (call $f32id (local.get $b)))
               (f32.sub (call $f32id (f32.add (local.get $a) (f32.const 1))) (f32.demote_f64 (f64.const 1e-7)))))
    (func (export "f32Bits") (param $a f32) (param $b f32) (result i64)
      (i64.extend_i32_u (i32.reinterpret_f32 (f32.div (local.get $a) (local.get $b)))))
    (func (export "f32StoredBits") (param $a f64) (result i64)
      (f32.store (i32.const 16) (f32.demote_f64 (local.get $a)))
      (i64.load (i32.const 16)))
    ;; Many values held at once: more floats than xmm registers, then folded.
    (func (export "deep") (param $x f64) (result f64)
      ${Array.from({ length: 20 }, (_, i) => `(f64.add (local.get $x) (f64.const ${i}.5))`).join(' ')}
      ${Array.from({ length: 19 }, () => '(f64.mul (f64.const 0.5)) (f64.add)').join(' ')})
    ;; -0.0 through constants, negation, copysign, min and max.
    (func (export "zeros") (param $x f64) (result f64)
      (f64.add (f64.copysign (f64.const 1) (f64.neg (f64.const 0)))
        (f64.add (f64.min (f64.const 0) (f64.const -0)) (f64.max (local.get $x) (f64.const -0)))))
    ${['f32', 'f64'].flatMap((t) => cmps.map((c) => `
    (func (export "${t}_${c}") (param $a ${t}) (param $b ${t}) (result i32)
      (local $r i32)
      ;; As a value, under eqz, as br_if and if conditions, negated, and into select.
      (local.set $r (${t}.${c} (local.get $a) (local.get $b)))
      (block $out
        (br_if $out (${t}.${c} (local.get $a) (local.get $b)))
        (local.set $r (i32.or (local.get $r) (i32.const 2))))
      (block $out
        (br_if $out (i32.eqz (${t}.${c} (local.get $a) (local.get $b))))
        (local.set $r (i32.or (local.get $r) (i32.const 4))))
      (if (${t}.${c} (local.get $a) (local.get $b)) (then (local.set $r (i32.or (local.get $r) (i32.const 8)))))
      (if (i32.eqz (${t}.${c} (local.get $a) (local.get $b)))
        (then (local.set $r (i32.or (local.get $r) (i32.const 16))))
        (else (local.set $r (i32.or (local.get $r) (i32.const 32)))))
      (i32.add (local.get $r)
        (select (i32.const 64) (i32.const 128) (${t}.${c} (local.get $a) (local.get $b)))))`)).join('')})`;

  const nanBits64 = [0x7ff8000000000000n, 0x7ff0000000000001n, 0xfff8000000000123n, 0x7ffc0000deadbeefn, 0x3ff0000000000000n];
  const nanBits32 = [0x7fc00000, 0x7f800001, 0xffc00123 | 0, 0x7fa0beef, 0x3f800000];
  const values = [0, -0, 1, -1, 0.1, 1e-310, -2.5, Infinity, -Infinity, NaN, 3.4028234663852886e38];

  function runFloats(W) {
    const e = instantiate(W, wat(source), {});
    const out = [];
    for (const x of values) out.push(['many', x, run(W, () => e.many(x, Math.fround(x * 0.75)))]);
    for (const bits of nanBits64) {
      for (const f32 of nanBits32) out.push(['nanThroughCall', run(W, () => e.nanThroughCall(bits, f32))]);
      for (const c of [0, 1]) out.push(['nanThroughLocals64', run(W, () => e.nanThroughLocals64(bits, c))]);
    }
    for (const bits of nanBits32) for (const c of [0, 1]) out.push(['nanThroughLocals32', run(W, () => e.nanThroughLocals32(bits, c))]);
    for (const a of values) {
      for (const b of values) {
        out.push(['f32AcrossCalls', run(W, () => e.f32AcrossCalls(a, b))]);
        out.push(['f32Bits', run(W, () => e.f32Bits(a, b))]);
        for (const t of ['f32', 'f64']) for (const c of cmps) out.push([t, c, a, b, e[`${t}_${c}`](a, b)]);
      }
      out.push(['f32StoredBits', run(W, () => e.f32StoredBits(a))]);
      out.push(['deep', run(W, () => e.deep(a))]);
      out.push(['zeros', run(W, () => e.zeros(a))]);
    }
    return out;
  }

  test('give what Node gives, as single-pass code', () => {
    engine.setCompileOptions({ firstTier: 'singlepass', lazy: false, tierUp: 'off' });
    const module = new cranewasm.Module(wat(source));
    expect(engine.compileStatus(module)).toMatchObject({ singlepass: 24, fallbacks: 0 });
    const ours = runFloats(cranewasm);
    expect(ours).toEqual(runFloats(node));
    // The comparisons took every path: each bit of the result was set somewhere and clear elsewhere.
    const cmpResults = ours.filter((o) => o[0] === 'f64' || o[0] === 'f32').map((o) => o[4]);
    for (const bit of [1, 2, 4, 8, 16, 32, 64, 128]) {
      expect(cmpResults.some((r) => r & bit)).toBe(true);
      expect(cmpResults.some((r) => !(r & bit))).toBe(true);
    }
  });
});

// Locals cached in registers (a local.get after a local.set copies the register): more locals
// than registers, sets and gets across br_if, if/else arms, loops, calls and local.tee, with
// i32 locals set from wrapped i64 values, against Node, as single-pass code.
describe('locals cached in registers', () => {
  const n = 20;
  const ints = Array.from({ length: n }, (_, i) => `$i${i}`);
  const flts = Array.from({ length: n }, (_, i) => `$f${i}`);
  const source = `(module
    (func $id (param i32) (result i32) (local.get 0))
    (func (export "mix") (param $seed i32) (param $x f64) (result f64)
      (local $k i32) (local $w i64)
      ${ints.map((l) => `(local ${l} i32)`).join(' ')} ${flts.map((l) => `(local ${l} f64)`).join(' ')}
      ${ints.map((l, i) => `(local.set ${l} (i32.add (local.get $seed) (i32.const ${i * 7})))`).join('\n')}
      ${flts.map((l, i) => `(local.set ${l} (f64.add (local.get $x) (f64.const ${i}.25)))`).join('\n')}
      (block $out (loop $l
        ${ints.map((l, i) => `(local.set ${l} (i32.xor (local.get ${l}) (i32.mul (local.get ${ints[(i + 1) % n]}) (i32.const 3))))
          (br_if $out (i32.eq (local.get ${l}) (i32.const ${i})))`).join('\n')}
        ${flts.map((l, i) => `(local.set ${l} (f64.sub (f64.mul (local.get ${l}) (f64.const 0.5)) (local.get ${flts[(i + 3) % n]})))`).join('\n')}
        (if (i32.and (local.get $k) (i32.const 1))
          (then (local.set $i3 (call $id (local.get $i4))) (local.set $f3 (local.get $f4)))
          (else (local.set $f4 (f64.add (local.tee $f3 (f64.const -0)) (local.get $f5))) (local.set $i4 (local.get $i3))))
        (local.set $w (i64.shl (i64.extend_i32_u (local.get $i5)) (i64.const 32)))
        (local.set $i6 (i32.wrap_i64 (i64.or (local.get $w) (i64.extend_i32_u (local.get $i6)))))
        (local.set $i7 (i32.add (local.get $i7) (local.get $i7)))
        (br_if $l (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (i32.const 13)))))
      ${ints.map((l) => `(local.set $x (f64.add (local.get $x) (f64.convert_i32_u (local.get ${l}))))`).join('\n')}
      ${flts.map((l) => `(local.set $x (f64.add (local.get $x) (local.get ${l})))`).join('\n')}
      (local.get $x)))`;

  test('give what Node gives, as single-pass code', () => {
    engine.setCompileOptions({ firstTier: 'singlepass', lazy: false, tierUp: 'off' });
    const module = new cranewasm.Module(wat(source));
    expect(engine.compileStatus(module)).toMatchObject({ singlepass: 2, fallbacks: 0 });
    const go = (W) => {
      const e = instantiate(W, wat(source), {});
      return [0, 1, 5, -7, 123456789, 2 ** 31 - 1].flatMap((seed) => [0, -0, 1.5, -1e100, NaN].map((x) => e.mix(seed, x)));
    };
    const ours = go(cranewasm);
    expect(ours).toEqual(go(node));
    expect(new Set(ours).size).toBeGreaterThan(10);
  });
});

// Loop headers with locals in registers: back edges by br, br_if, br_table and from nested
// blocks, with integer and float locals changed on different paths, with and without dynamic
// tier-up (whose budget check at the header calls into the runtime), against Node.
describe('loop headers with locals in registers', () => {
  const source = `(module
    (func (export "walk") (param $n i32) (param $x f64) (result f64)
      (local $i i32) (local $a i32) (local $b i64) (local $f f64) (local $g f32)
      (local.set $a (i32.const 7)) (local.set $b (i64.const -3)) (local.set $f (local.get $x)) (local.set $g (f32.const 1.5))
      (loop $top
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (block $b2 (block $b1 (block $b0
          (br_table $b0 $b1 $b2 $top (i32.rem_u (local.get $i) (i32.const 5))))
          ;; $b0: back to the top from a nested block (after changing a float local).
          (local.set $f (f64.add (local.get $f) (f64.const 0.5)))
          (br_if $top (i32.lt_u (local.get $i) (local.get $n)))
          (return (local.get $f)))
          ;; $b1: changes the integers, then a br_if back edge on a float comparison.
          (local.set $a (i32.mul (local.get $a) (i32.const 3)))
          (local.set $b (i64.add (local.get $b) (i64.extend_i32_s (local.get $a))))
          (br_if $top (f64.lt (local.get $f) (f64.convert_i32_u (local.get $n)))))
        ;; $b2 and the fall-through: swaps roles of the locals, then br.
        (local.set $g (f32.add (local.get $g) (f32.demote_f64 (local.get $f))))
        (local.set $f (f64.sub (local.get $f) (f64.promote_f32 (local.get $g))))
        (local.set $a (i32.xor (local.get $a) (i32.wrap_i64 (local.get $b))))
        (br_if $top (i32.lt_u (local.get $i) (local.get $n))))
      (f64.add (local.get $f)
        (f64.add (f64.promote_f32 (local.get $g))
          (f64.add (f64.convert_i32_s (local.get $a)) (f64.convert_i64_s (local.get $b)))))))`;
  test.each(['off', 'dynamic'])('tier-up %s: give what Node gives', (tierUp) => {
    engine.setCompileOptions({ firstTier: 'singlepass', lazy: false, tierUp });
    const module = new cranewasm.Module(wat(source));
    expect(engine.compileStatus(module)).toMatchObject({ fallbacks: 0 });
    const go = (W) => {
      const { walk } = instantiate(W, wat(source), {});
      return [0, 1, 2, 3, 4, 5, 6, 17, 100, 5000, 200000].flatMap((n) => [0, -2.5, 1e6].map((x) => walk(n, x)));
    };
    const ours = go(cranewasm);
    expect(ours).toEqual(go(node));
    expect(new Set(ours).size).toBeGreaterThan(10);
  });
});

// Operands read from a cached local's register in place (its copy retracted): right operands
// of ALU operators and comparisons, compared locals against immediates, load/store addresses,
// and constants stored as immediates (sign-extended for 64-bit stores; wider ones through a
// register). The locals are read again afterwards, so a consumer that wrote the cached
// register would show; out-of-bounds addresses from locals trap as in Node.
describe('cached locals as operands in place, constants stored as immediates', () => {
  const source = `(module
    (memory (export "memory") 1)
    (func (export "run") (param $n i32) (param $seed i32) (result i64)
      (local $i i32) (local $a i32) (local $b i32) (local $p i32) (local $w i64) (local $h i64)
      (local.set $a (local.get $seed))
      (local.set $b (i32.const 3))
      (local.set $w (i64.extend_i32_s (local.get $seed)))
      (block $done (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $p (i32.and (i32.mul (local.get $i) (i32.const 40)) (i32.const 0x7ff8)))
        (local.set $a (i32.sub (local.get $a) (local.get $b)))
        (local.set $b (i32.add (i32.sub (i32.const 100) (local.get $i)) (local.get $b)))
        (if (i32.lt_s (local.get $a) (local.get $b)) (then (local.set $a (i32.xor (local.get $a) (local.get $i)))))
        (if (i32.gt_u (local.get $a) (i32.const 5000)) (then (local.set $a (i32.shr_u (local.get $a) (i32.const 3)))))
        (if (i64.lt_s (local.get $w) (i64.const -1)) (then (local.set $w (i64.sub (i64.const 7) (local.get $w)))))
        (if (i64.gt_s (local.get $w) (local.get $h)) (then (local.set $h (i64.sub (local.get $h) (local.get $w)))))
        (if (i32.ne (local.get $a) (local.get $a)) (then (unreachable)))
        (i32.store16 offset=2 (local.get $p) (i32.const 0xabcd))
        (i64.store offset=8 (local.get $p) (i64.const -5))
        (i64.store offset=16 (local.get $p) (i64.const 0x123456789))
        (f64.store offset=24 (local.get $p) (f64.const -0))
        (f32.store offset=32 (local.get $p) (f32.const 1.5))
        (i64.store32 offset=36 (local.get $p) (i64.const -2))
        (i32.store8 (local.get $p) (local.get $a))
        (local.set $h (i64.add (i64.mul (local.get $h) (i64.const 31))
          (i64.add (i64.load offset=8 (local.get $p))
            (i64.extend_i32_u (i32.add (i32.load8_u (local.get $p)) (i32.load16_s offset=2 (local.get $p)))))))
        (local.set $h (i64.xor (local.get $h) (i64.add (i64.load offset=16 (local.get $p)) (i64.load offset=24 (local.get $p)))))
        (local.set $h (i64.add (local.get $h) (i64.add (i64.load offset=32 (local.get $p)) (local.get $w))))
        (local.set $w (i64.add (local.get $w) (i64.extend_i32_s (local.get $b))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
      (i64.add (local.get $h) (i64.extend_i32_u (i32.add (local.get $a) (local.get $b)))))
    (func (export "peek") (param $p i32) (result i32) (i32.load offset=1 (local.get $p)))
    (func (export "poke") (param $p i32) (i64.store (local.get $p) (i64.const 1)) (i32.store8 (local.get $p) (i32.const 2))))`;
  test.each([false, true])('bounds checks %s: give what Node gives, as single-pass code', (boundsChecks) => {
    engine.setCompileOptions({ firstTier: 'singlepass', lazy: false, tierUp: 'off', boundsChecks });
    const module = new cranewasm.Module(wat(source));
    expect(engine.compileStatus(module)).toMatchObject({ fallbacks: 0 });
    const go = (W) => {
      const e = instantiate(W, wat(source), {});
      const out = [];
      for (const [n, seed] of [[0, 0], [1, 5], [7, -9], [300, 123456], [2000, -2147483648]]) {
        out.push(String(e.run(n, seed)));
        out.push(Buffer.from(e.memory.buffer, 0, 4096).toString('hex'));
      }
      for (const p of [0, 65531, 65532, 65535, 65536, -1]) {
        for (const f of [() => e.peek(p), () => e.poke(p)]) {
          try {
            out.push(String(f()));
          } catch (err) {
            out.push(err.constructor.name);
          }
        }
      }
      return out;
    };
    const ours = go(cranewasm);
    expect(ours).toEqual(go(node));
    expect(new Set(ours).size).toBeGreaterThan(8);
  });
});

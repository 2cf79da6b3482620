'use strict';
// Exception handling at the single-pass tier (issue 17) through the public JS API: throws and
// catches across single-pass frames, Cranelift (baseline and optimized) frames and JS, in both
// directions, with payloads of every scalar type, rethrow and delegate depths, JS exceptions
// and traps (never catchable). The legacy form is compared with Node's own WebAssembly (Node 20
// has it); try_table, which Node 20 lacks, with every function at the optimized tier. Every
// single-pass module here must be single-pass code throughout (compileStatus: no fallback).

const W = require('..');
const engine = require('../engine');
const { loadWabt } = require('./helpers/execution.js');

let wabt;
beforeAll(async () => {
  wabt = await loadWabt();
});

const saved = engine.getCompileOptions();
afterEach(() => engine.setCompileOptions(saved));

function wat(text, features = {}) {
  const parsed = wabt.parseWat('test.wat', text, { exceptions: true, reference_types: true, multi_value: true, ...features });
  try {
    parsed.resolveNames();
    parsed.validate();
    return parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
}

// Two instances A and B of one module call each other directly (wasm to wasm, through a shared
// table: slot 0 is the other's `thr`, slot 1 the other's `catching`) and share the tags.
const LEGACY = `(module
  (import "env" "e" (tag $e (param i32 i64 f32 f64)))
  (import "env" "e0" (tag $e0))
  (import "env" "t" (table $t 4 funcref))
  (import "env" "js" (func $js (param i32)))
  (import "env" "slot" (global $slot i32))
  (type $i_i (func (param i32) (result i32)))
  (memory 1)

  ;; 1: throws $e with a payload of every scalar type; 2: $e0; 3: JS throws; 4: traps;
  ;; k >= 10: the other instance's thr(k - 10), plus one (the throw passes through this frame).
  (func $thr (export "thr") (param $k i32) (result i32)
    (local $x i64)
    (local.set $x (i64.mul (i64.extend_i32_u (local.get $k)) (i64.const 0x100000001)))
    (if (i32.eq (local.get $k) (i32.const 1))
      (then (throw $e (i32.const -7) (i64.const 0x123456789abcdef0) (f32.const 1.5) (f64.const -2.25))))
    (if (i32.eq (local.get $k) (i32.const 2)) (then (throw $e0)))
    (if (i32.eq (local.get $k) (i32.const 3)) (then (call $js (local.get $k))))
    (if (i32.eq (local.get $k) (i32.const 4)) (then unreachable))
    (if (i32.ge_u (local.get $k) (i32.const 10))
      (then (return (i32.add (i32.const 1)
        (call_indirect $t (type $i_i) (i32.sub (local.get $k) (i32.const 10)) (i32.xor (global.get $slot) (i32.const 1)))))))
    (i32.wrap_i64 (local.get $x)))

  ;; Catches with each clause kind; values on the stack below the try survive the landing.
  (func $catching (export "catching") (param $k i32) (result i32)
    (local $f f64) (local $g f32) (local $x i64)
    (i32.const 1000000)
    (try (result i32)
      (do (call $thr (local.get $k)))
      (catch $e
        (local.set $f)
        (local.set $g)
        (local.set $x)
        (i32.add (i32.wrap_i64 (i64.shr_u (local.get $x) (i64.const 36))))
        (i32.add (i32.trunc_f32_s (f32.mul (local.get $g) (f32.const 4))))
        (i32.add (i32.trunc_f64_s (f64.mul (local.get $f) (f64.const 8))))
        (i32.add (i32.const 10000)))
      (catch $e0 (i32.const 200))
      (catch_all (i32.const 300)))
    (i32.add))

  ;; The other instance catches (slot 1 of the other: its catching).
  (func (export "viaPeer") (param $k i32) (result i32)
    (i32.add (i32.const 7)
      (call_indirect $t (type $i_i) (local.get $k) (i32.add (i32.const 2) (i32.xor (global.get $slot) (i32.const 1))))))

  ;; rethrow to outer handlers, from a nested catch body (depth 1), and delegate.
  (func (export "nested") (param $k i32) (result i32)
    (try (result i32)
      (do
        (try (result i32)
          (do (call $thr (local.get $k)))
          (catch $e0
            (try (result i32)
              (do (call $thr (i32.const 2)))
              (catch_all (rethrow 1))))
          (catch_all
            (try (result i32)
              (do (call $thr (i32.const 1)))
              (delegate 1)))))
      (catch $e (drop) (drop) (drop) (i32.add (i32.const 5000)))
      (catch $e0 (i32.const 6000))
      (catch_all (i32.const 7000))))

  ;; try ... end with no clause: the exception goes on; delegate to the function (the caller).
  (func (export "passThrough") (param $k i32) (result i32)
    (i32.add
      (try (result i32) (do (call $thr (local.get $k))))
      (try (result i32) (do (call $thr (i32.add (local.get $k) (i32.const 1)))) (delegate 0))))

  ;; Throws and catches in a loop inside one call; the catch body branches out (br and return).
  (func (export "loop") (param $n i32) (result i32)
    (local $i i32) (local $sum i32)
    (block $done
      (loop $again
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (block $next
          (try
            (do (drop (call $thr (i32.add (i32.const 1) (i32.and (local.get $i) (i32.const 1))))))
            (catch $e (drop) (drop) (drop) (local.set $sum (i32.add (local.get $sum))) (br $next))
            (catch $e0
              (local.set $sum (i32.add (local.get $sum) (i32.const 3)))
              (if (i32.eq (local.get $i) (i32.const 999)) (then (return (i32.const -1)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $again)))
    (local.get $sum))

  ;; A throw caught in the same function, with no call in between.
  (func (export "local") (param $k i32) (result i32)
    (try (result i32)
      (do (if (local.get $k) (then (throw $e (local.get $k) (i64.const -1) (f32.const -0.5) (f64.const 3.75))))
          (i32.const 1))
      (catch $e (drop) (drop) (drop))))
)`;

function setup(W, tiers, transform = (module) => module) {
  const tags = {
    e: new W.Tag({ parameters: ['i32', 'i64', 'f32', 'f64'] }),
    e0: new W.Tag({ parameters: [] }),
  };
  const t = new W.Table({ element: 'anyfunc', initial: 4 });
  const js = () => {
    throw new Error('from JS');
  };
  const instances = tiers.map((tier, slot) => {
    if (tier) engine.setCompileOptions({ firstTier: tier, lazy: false, tierUp: 'off' });
    const module = transform(new W.Module(wat(LEGACY)));
    if (tier === 'singlepass') expect(engine.compileStatus(module)).toMatchObject({ singlepass: 7, fallbacks: 0 });
    return new W.Instance(module, { env: { ...tags, t, js, slot: new W.Global({ value: 'i32' }, slot) } }).exports;
  });
  instances.forEach((e, slot) => {
    t.set(slot, e.thr);
    t.set(2 + slot, e.catching);
  });
  return { tags, instances };
}

// Each call's outcome as plain data: a value, or what was thrown (class, tag, payload).
function outcome(W, tags, f) {
  try {
    return { value: f() };
  } catch (err) {
    if (err instanceof W.Exception) {
      if (err.is(tags.e)) return { exception: 'e', payload: [0, 1, 2, 3].map((i) => err.getArg(tags.e, i)) };
      return { exception: err.is(tags.e0) ? 'e0' : 'other' };
    }
    return { threw: err.constructor.name, message: err.message };
  }
}

function runAll(W, tiers, transform) {
  const { tags, instances } = setup(W, tiers, transform);
  const results = [];
  instances.forEach((e, who) => {
    for (const k of [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 21, 22]) {
      for (const name of ['thr', 'catching', 'viaPeer', 'nested', 'passThrough']) {
        results.push([who, name, k, outcome(W, tags, () => e[name](k))]);
      }
    }
    results.push([who, 'loop', 1000, outcome(W, tags, () => e.loop(1000))]);
    results.push([who, 'loop', 999, outcome(W, tags, () => e.loop(998))]);
    for (const k of [0, 9, -3]) results.push([who, 'local', k, outcome(W, tags, () => e.local(k))]);
  });
  return results;
}

describe('legacy exceptions at the single-pass tier give what Node gives', () => {
  const node = () => runAll(WebAssembly, [null, null]);
  test.each([
    ['single-pass and single-pass', ['singlepass', 'singlepass']],
    ['single-pass and optimized', ['singlepass', 'optimized']],
    ['baseline and single-pass', ['baseline', 'singlepass']],
  ])('%s', (_, tiers) => {
    const ours = runAll(W, tiers);
    expect(ours).toEqual(node());
    // Every kind of outcome is really exercised.
    const kinds = new Set(ours.map(([, , , o]) => Object.keys(o)[0] + (o.exception || o.threw || '')));
    expect([...kinds].sort()).toEqual(['exceptione', 'exceptione0', 'threwError', 'threwRuntimeError', 'value']);
  });
});

test('single-pass code with handlers keeps them through serialize() and deserialize() (the code cache)', () => {
  const roundTrip = (module) => {
    const { singlepass, optimized } = engine.compileStatus(module);
    const copy = engine.deserialize(engine.serialize(module));
    // The cached code is installed as it is: nothing is compiled again.
    expect(engine.compileStatus(copy)).toMatchObject({ uncompiled: 0, singlepass, optimized, fallbacks: 0 });
    return copy;
  };
  expect(runAll(W, ['singlepass', 'optimized'], roundTrip)).toEqual(runAll(WebAssembly, [null, null]));
});

// try_table (with catch_ref, catch_all_ref, throw_ref): single-pass against the optimized tier
// (Node 20 has no try_table).
const STANDARD = `(module
  (import "env" "e" (tag $e (param i32 i64 f32 f64)))
  (import "env" "e0" (tag $e0))
  (import "env" "e1" (tag $e1 (param i64)))
  (import "env" "peer" (func $peer (param i32) (result i32)))
  (import "env" "js" (func $js (param i32)))

  (func $thr (export "thr") (param $k i32) (result i32)
    (if (i32.eq (local.get $k) (i32.const 1))
      (then (throw $e (i32.const -7) (i64.const 0x123456789abcdef0) (f32.const 1.5) (f64.const -2.25))))
    (if (i32.eq (local.get $k) (i32.const 2)) (then (throw $e0)))
    (if (i32.eq (local.get $k) (i32.const 3)) (then (call $js (local.get $k))))
    (if (i32.eq (local.get $k) (i32.const 4)) (then unreachable))
    (if (i32.eq (local.get $k) (i32.const 5)) (then (throw $e1 (i64.const -42))))
    (if (i32.ge_u (local.get $k) (i32.const 10))
      (then (return (i32.add (i32.const 1) (call $peer (i32.sub (local.get $k) (i32.const 10)))))))
    (i32.mul (local.get $k) (i32.const 3)))

  ;; Clauses in order to blocks of the function; one with a payload to a block result.
  (func (export "clauses") (param $k i32) (result i64)
    (local $r i64)
    (block $all
      (block $zero
        (local.set $r
          (block $one (result i64)
            (try_table (catch $e1 $one) (catch $e0 $zero) (catch_all $all)
              (return (i64.extend_i32_s (call $thr (local.get $k)))))
            (unreachable)))
        (return (i64.add (local.get $r) (i64.const 100))))
      (return (i64.const 20)))
    (i64.const 30))

  ;; A catch straight to the function's label with its four results.
  (func (export "all") (param $k i32) (result i32 i64 f32 f64)
    (try_table (catch $e 0)
      (drop (call $thr (local.get $k))))
    (i32.const 0) (i64.const 0) (f32.const 0) (f64.const 0))

  ;; Nested try_tables: the innermost matching clause wins.
  (func (export "nested") (param $k i32) (result i32)
    (block $outer
      (block $inner (result i64)
        (try_table (catch $e0 $outer)
          (try_table (catch $e1 $inner)
            (return (call $thr (local.get $k)))))
        (unreachable))
      (drop)
      (return (i32.const 11)))
    (i32.const 22))

  ;; catch_ref and catch_all_ref pass the exnref on; throw_ref throws the same exception again
  ;; (caught here by its tag, else to the caller: a JS exception leaves as the value thrown).
  (func (export "again") (param $k i32) (result i32)
    (local $x exnref)
    (block $h (result exnref)
      (block $h0 (result exnref)
        (try_table (catch_ref $e0 $h0) (catch_all_ref $h)
          (return (call $thr (local.get $k))))
        (unreachable))
      (drop)
      (return (i32.const 77)))
    (local.set $x)
    (i32.wrap_i64
      (block $one (result i64)
        (try_table (catch $e1 $one)
          (throw_ref (local.get $x)))
        (unreachable))))

  ;; throw_ref of null traps.
  (func (export "nullRef") (param $k i32) (result i32)
    (local $x exnref)
    (if (local.get $k) (then (throw_ref (local.get $x))))
    (i32.const 1))
)`;

function runStandard(tier, peerTier) {
  engine.setCompileOptions({ firstTier: peerTier, lazy: false, tierUp: 'off' });
  const peerModule = new W.Module(wat(STANDARD));
  engine.setCompileOptions({ firstTier: tier, lazy: false, tierUp: 'off' });
  const module = new W.Module(wat(STANDARD));
  if (tier === 'singlepass') expect(engine.compileStatus(module)).toMatchObject({ singlepass: 6, fallbacks: 0 });
  const tags = {
    e: new W.Tag({ parameters: ['i32', 'i64', 'f32', 'f64'] }),
    e0: new W.Tag({ parameters: [] }),
    e1: new W.Tag({ parameters: ['i64'] }),
  };
  const js = () => {
    throw new TypeError('from JS');
  };
  let main;
  const peer = new W.Instance(peerModule, { env: { ...tags, js, peer: (k) => main.thr(k) } }).exports;
  main = new W.Instance(module, { env: { ...tags, js, peer: peer.thr } }).exports;
  const results = [];
  for (const k of [0, 1, 2, 3, 4, 5, 11, 12, 13, 14, 15, 21, 22]) {
    for (const name of ['clauses', 'all', 'nested', 'again', 'nullRef']) {
      results.push([name, k, outcome(W, tags, () => main[name](k))]);
    }
  }
  return results;
}

describe('try_table at the single-pass tier gives what the optimized tier gives', () => {
  test.each([['optimized'], ['singlepass'], ['baseline']])('with a peer instance at the %s tier', (peerTier) => {
    const reference = runStandard('optimized', 'optimized');
    const ours = runStandard('singlepass', peerTier);
    expect(ours).toEqual(reference);
    const values = ours.filter(([, , o]) => 'value' in o).map(([, , o]) => o.value);
    expect(values.length).toBeGreaterThan(10);
    expect(ours.some(([, , o]) => o.threw === 'RuntimeError')).toBe(true);
    // throw_ref's exceptions are caught again and leave again (a wasm one and a JS one).
    const again = ours.filter(([name]) => name === 'again').map(([, , o]) => o.exception || o.threw || 'value');
    expect(new Set(again)).toEqual(new Set(['value', 'e', 'TypeError', 'RuntimeError']));
  });
});

describe('tags with v128 parameters at the single-pass tier', () => {
  // $thr throws $v with an i32, a v128 built from k and an f64; `run` catches it (legacy form)
  // with values live below the try and sums what it caught; `peer` is another instance's
  // thrower (at another tier), so that the payload crosses tiers in both directions.
  const SOURCE = `(module
    (import "env" "v" (tag $v (param i32 v128 f64)))
    (import "env" "peer" (func $peer (param i32)))
    (func $thr (export "thr") (param $k i32)
      (if (i32.eqz (local.get $k)) (then (return)))
      (throw $v (i32.mul (local.get $k) (i32.const 3))
        (i32x4.add (i32x4.splat (local.get $k)) (v128.const i32x4 10 20 30 40))
        (f64.const 2.5)))
    (func (export "run") (param $k i32) (param $viaPeer i32) (result i32)
      (local $x v128) (local $f f64)
      (i32.add (i32.const 1000)
        (try (result i32)
          (do
            (if (local.get $viaPeer) (then (call $peer (local.get $k))) (else (call $thr (local.get $k))))
            (i32.const -1))
          (catch $v
            (local.set $f) (local.set $x)
            (i32.add
              (i32.add (i32x4.extract_lane 0 (local.get $x)) (i32x4.extract_lane 3 (local.get $x)))
              (i32.add (i32.trunc_f64_s (f64.mul (local.get $f) (f64.const 4)))))))))
    (func (export "rethrows") (param $k i32)
      (try (do (call $thr (local.get $k))) (catch $v (drop) (drop) (drop) (rethrow 0)))))`;

  // The JS API has no v128 tag type (WebAssembly.Tag rejects it, as Node's does): the tag is
  // a module's export.
  const TAG = '(module (tag (export "v") (param i32 v128 f64)))';

  const bytes = (source = SOURCE) => wat(source, { simd: true });

  function run(W, tiers) {
    const { v } = new W.Instance(new W.Module(bytes(TAG))).exports;
    const make = (tier, peer) => {
      if (tier) engine.setCompileOptions({ firstTier: tier, lazy: false, tierUp: 'off' });
      const module = new W.Module(bytes());
      if (tier === 'singlepass') expect(engine.compileStatus(module)).toMatchObject({ fallbacks: 0, baseline: 0 });
      return new W.Instance(module, { env: { v, peer } }).exports;
    };
    const other = make(tiers[1], () => {});
    const main = make(tiers[0], other.thr);
    const results = [];
    for (const k of [0, 1, 7, -5]) {
      results.push(['run', k, main.run(k, 0), main.run(k, 1)]);
      // Out to JS: the exception is the tag's; its v128 argument cannot be read (a TypeError).
      try {
        main.rethrows(k);
        results.push(['rethrows', k, 'returned']);
      } catch (err) {
        // (Node 20 aborts the process on getArg of a v128 or of a value after one: only
        // cranewasm's are asked.)
        if (W !== WebAssembly) {
          expect(() => err.getArg(v, 1)).toThrow(TypeError);
          expect(err.getArg(v, 2)).toBe(2.5);
        }
        results.push(['rethrows', k, err.is(v), err.getArg(v, 0)]);
      }
    }
    return results;
  }

  test.each([
    ['single-pass with a single-pass peer', ['singlepass', 'singlepass']],
    ['single-pass with an optimized peer', ['singlepass', 'optimized']],
    ['optimized with a single-pass peer', ['optimized', 'singlepass']],
  ])('%s: what Node gives', (_, tiers) => {
    const ours = run(W, tiers);
    expect(ours).toEqual(run(WebAssembly, [null, null]));
    // k = 1: 3k, the v128's lanes 0 and 3 (11, 41) and 4 × 2.5.
    expect(ours[2]).toEqual(['run', 1, 1000 + 3 + 11 + 41 + 10, 1000 + 3 + 11 + 41 + 10]);
  });
});

// What the single-pass tier covers beyond scalar code (issue 17): atomics, compared with Node's
// WebAssembly, with every function asserted to be single-pass code (compileStatus().fallbacks
// is 0), so that the comparison is about that tier's code.
'use strict';

const engine = require('../engine');
const { cranewasm, node } = require('./helpers/differential.js');
const { outcome } = require('./helpers/differential');

let wabt;
beforeAll(async () => {
  wabt = await require('wabt')();
});

const saved = engine.getCompileOptions();
beforeEach(() => engine.setCompileOptions({ firstTier: 'singlepass', lazy: false, tierUp: 'off' }));
afterEach(() => engine.setCompileOptions(saved));

function wat(text, features = {}) {
  const all = { threads: true, multi_value: true, reference_types: true, bulk_memory: true, ...features };
  const parsed = wabt.parseWat('coverage.wat', text, all);
  try {
    parsed.resolveNames();
    parsed.validate(all);
    return parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
}

// A compiled module on cranewasm, asserted to have no function left to another tier.
function singlepassModule(bytes) {
  const module = new cranewasm.Module(bytes);
  expect(engine.compileStatus(module)).toMatchObject({ singlepass: expect.any(Number), fallbacks: 0 });
  expect(engine.compileStatus(module).singlepass).toBeGreaterThan(0);
  return module;
}

describe('atomics', () => {
  // Each operator with `pad` values live below its operands, so that its operands and result
  // take every register of the pool (byte forms of rsi/rdi/r8+ need a REX prefix).
  const OPS = [
    ['i32.atomic.rmw8.add_u', 'i32'], ['i32.atomic.rmw8.sub_u', 'i32'], ['i32.atomic.rmw8.xchg_u', 'i32'],
    ['i32.atomic.rmw8.and_u', 'i32'], ['i32.atomic.rmw8.or_u', 'i32'], ['i32.atomic.rmw8.xor_u', 'i32'],
    ['i64.atomic.rmw16.add_u', 'i64'], ['i64.atomic.rmw16.xor_u', 'i64'], ['i64.atomic.rmw32.sub_u', 'i64'],
    ['i64.atomic.rmw.and', 'i64'], ['i32.atomic.rmw.or', 'i32'], ['i64.atomic.rmw.xchg', 'i64'],
  ];
  function source() {
    const funcs = [];
    for (let pad = 0; pad <= 9; pad++) {
      const pads = Array.from({ length: pad }, (_, k) => `(i32.add (local.get 0) (i32.const ${k}))`).join(' ');
      const sum = '(i32.add)'.repeat(pad);
      for (const [op, t] of OPS) {
        const wrap = t === 'i64' ? '(i32.wrap_i64)' : '';
        funcs.push(`(func (export "${op}/${pad}") (param i32 ${t}) (result i32)
          ${pads} (${op} (local.get 0) (local.get 1)) ${wrap} ${sum})`);
      }
      funcs.push(`(func (export "cas8/${pad}") (param i32 i32 i32) (result i32)
        ${pads} (i32.atomic.rmw8.cmpxchg_u (local.get 0) (local.get 1) (local.get 2)) ${sum})`);
      funcs.push(`(func (export "store8/${pad}") (param i32 i32) (result i32)
        ${pads} (i32.atomic.store8 offset=1 (local.get 0) (local.get 1)) (i32.atomic.load8_u offset=1 (local.get 0)) ${sum})`);
    }
    return `(module (memory (export "memory") 1 1 shared) ${funcs.join('\n')})`;
  }

  function exercise(W, module) {
    const e = new W.Instance(module).exports;
    const log = [];
    for (const name of Object.keys(e).filter((n) => n !== 'memory').sort()) {
      const t = name.startsWith('i64') ? (x) => BigInt(x) : (x) => x;
      const args = name.startsWith('cas8') ? [[8, 0x1ff, 0x2a5], [8, 0xa5, 0x1ff], [8, 0xff, 3]] : [[8, t(0x1234567f)], [8, t(-1)], [7, t(0x81)]];
      for (const a of args) log.push([name, a.map(String), outcome(() => String(e[name](...a)))]);
    }
    log.push(Array.from(new Uint8Array(e.memory.buffer, 0, 24)));
    return log;
  }

  test('narrow and wide read-modify-writes in every pool register give what Node gives', () => {
    const bytes = wat(source());
    const ours = exercise(cranewasm, singlepassModule(bytes));
    const theirs = exercise(node, new node.Module(bytes));
    expect(ours).toEqual(theirs);
    expect(ours.some((entry) => entry[2] && entry[2].message === 'operation does not support unaligned accesses')).toBe(true);
  });
});

describe('references and tables', () => {
  const REFS = `(module
    (type $ii (func (param i32) (result i32)))
    (table $t 4 10 externref)
    (table $f 3 8 funcref)
    (memory (export "memory") 1)
    (global $g (mut externref) (ref.null extern))
    (global $h (mut funcref) (ref.null func))
    (elem $e func $inc $dbl)
    (elem declare func $three)
    (data $d "\\01\\02\\03\\04\\05")
    (func $inc (type $ii) (i32.add (local.get 0) (i32.const 1)))
    (func $dbl (type $ii) (i32.mul (local.get 0) (i32.const 2)))
    (func $three (type $ii) (i32.const 3))
    (func (export "set") (param i32 externref) (table.set $t (local.get 0) (local.get 1)))
    (func (export "get") (param i32) (result externref) (table.get $t (local.get 0)))
    (func (export "size") (result i32) (table.size $t))
    (func (export "grow") (param externref i32) (result i32) (table.grow $t (local.get 0) (local.get 1)))
    (func (export "fill") (param i32 externref i32) (table.fill $t (local.get 0) (local.get 1) (local.get 2)))
    (func (export "copy") (param i32 i32 i32) (table.copy $t $t (local.get 0) (local.get 1) (local.get 2)))
    (func (export "isNull") (param externref) (result i32) (ref.is_null (local.get 0)))
    (func (export "pick") (param externref externref i32) (result externref)
      (select (result externref) (local.get 0) (local.get 1) (local.get 2)))
    (func (export "keep") (param externref) (result externref) (local $l externref)
      (global.set $g (local.get 0)) (local.set $l (global.get $g)) (local.get $l))
    (func (export "global") (result externref) (global.get $g))
    (func (export "nullLocal") (result externref) (local externref) (local.get 0))
    (func (export "pair") (param externref externref) (result externref externref) (local.get 1) (local.get 0))
    (func (export "init") (param i32 i32 i32) (table.init $f $e (local.get 0) (local.get 1) (local.get 2)))
    (func (export "dropElem") (elem.drop $e))
    (func (export "callAt") (param i32 i32) (result i32) (call_indirect $f (type $ii) (local.get 1) (local.get 0)))
    (func (export "funcAt") (param i32) (result funcref) (table.get $f (local.get 0)))
    (func (export "setThree") (param i32) (table.set $f (local.get 0) (ref.func $three)) (global.set $h (ref.func $three)))
    (func (export "fsize") (result i32) (table.size $f))
    (func (export "fgrow") (param i32) (result i32) (table.grow $f (global.get $h) (local.get 0)))
    (func (export "ffill") (param i32 i32) (table.fill $f (local.get 0) (ref.null func) (local.get 1)))
    (func (export "meminit") (param i32 i32 i32) (memory.init $d (local.get 0) (local.get 1) (local.get 2)))
    (func (export "dropData") (data.drop $d))
    (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))`;

  function exercise(W, module) {
    const e = new W.Instance(module).exports;
    const a = { a: 1 };
    const b = 'b';
    const log = [];
    const step = (name, ...args) => log.push([name, run(() => e[name](...args))]);
    const run = (body) => {
      try {
        const v = body();
        // References keep their identity: the same object comes back.
        if (Array.isArray(v)) return { value: v.map((x) => (x === a ? 'a' : x === b ? 'b' : typeof x === 'function' ? `fn/${x.length}` : x)) };
        return { value: v === a ? 'a' : v === b ? 'b' : typeof v === 'function' ? `fn/${v.length}` : v };
      } catch (err) {
        return { threw: err.constructor.name, message: err.message };
      }
    };
    step('set', 0, a); step('set', 1, b); step('set', 3, null); step('set', 4, a);
    step('get', 0); step('get', 1); step('get', 2); step('get', 3); step('get', 4); step('get', -1);
    step('size'); step('grow', a, 2); step('size'); step('get', 5); step('grow', b, 100); step('size');
    step('fill', 1, b, 3); step('get', 3); step('fill', 5, a, 2); step('fill', 6, a, 1); step('get', 1);
    step('copy', 0, 1, 3); step('get', 0); step('copy', 4, 0, 3);
    step('isNull', null); step('isNull', a); step('isNull', 0);
    step('pick', a, b, 1); step('pick', a, b, 0);
    step('keep', a); step('global'); step('keep', null); step('global'); step('nullLocal'); step('pair', a, b);
    step('callAt', 0, 5); step('init', 0, 0, 2); step('callAt', 0, 5); step('callAt', 1, 5); step('callAt', 2, 5);
    step('init', 2, 0, 2); step('init', 0, 1, 2); step('funcAt', 0); step('funcAt', 2); step('funcAt', 3);
    step('setThree', 2); step('callAt', 2, 5); step('fsize'); step('fgrow', 2); step('fsize'); step('callAt', 4, 0);
    step('ffill', 0, 1); step('callAt', 0, 1); step('ffill', 4, 2); step('dropElem'); step('init', 0, 0, 0); step('init', 0, 0, 1);
    step('meminit', 10, 1, 3); step('load', 10); step('load', 12); step('meminit', 65535, 0, 2); step('meminit', 0, 4, 2);
    step('dropData'); step('meminit', 0, 0, 0); step('meminit', 0, 0, 1);
    return log;
  }

  test('externref and funcref values, tables, segments give what Node gives', () => {
    const bytes = wat(REFS);
    const ours = exercise(cranewasm, singlepassModule(bytes));
    const theirs = exercise(node, new node.Module(bytes));
    expect(ours).toEqual(theirs);
    const messages = new Set(theirs.map(([, o]) => o.message).filter(Boolean));
    expect(messages).toContain('table index is out of bounds');
    expect(messages).toContain('memory access out of bounds');
  });
});

describe('multi-value blocks', () => {
  const MULTI = `(module
    (type $swap (func (param i32 i64) (result i64 i32)))
    (type $two (func (param i32 i32) (result i32 i32)))
    (type $f3 (func (param f64) (result f64 i32 f32)))
    (func (export "swap") (param i32 i64) (result i64 i32)
      (local.get 0) (local.get 1)
      (block (type $swap) (param i32 i64) (result i64 i32)
        (local.set 1) (local.set 0) (local.get 1) (local.get 0)))
    ;; A loop with parameters: (a, b) -> (b, a mod b) until b is 0 (gcd), counting steps.
    (func (export "gcd") (param i32 i32) (result i32 i32) (local $steps i32)
      (local.get 0) (local.get 1)
      (loop $l (type $two) (param i32 i32) (result i32 i32)
        (local.set 1) (local.set 0)
        (local.set $steps (i32.add (local.get $steps) (i32.const 1)))
        (if (i32.eqz (local.get 1)) (then (local.get 0) (local.get $steps) (return)))
        (local.get 1) (i32.rem_u (local.get 0) (local.get 1))
        (br $l))
      (drop) (drop) (i32.const -1) (i32.const -1))
    ;; if/else with parameters; a branch out of the middle with extra values below.
    (func (export "pick") (param i32 i32 i32) (result i32 i32)
      (i32.const 100) (drop)
      (local.get 0) (local.get 1) (local.get 2)
      (if (type $two) (param i32 i32) (result i32 i32)
        (then (i32.add) (i32.const 7))
        (else (i32.sub) (i32.const 9))))
    (func (export "ifNoElse") (param i32 i32 i32) (result i32 i32)
      (local.get 0) (local.get 1) (local.get 2)
      (if (type $two) (param i32 i32) (result i32 i32) (then (drop) (drop) (i32.const 1) (i32.const 2))))
    (func (export "table") (param i32 f64) (result f64 i32 f32)
      (i32.const 5) (drop)
      (block $a (result f64 i32 f32)
        (block $b (result f64 i32 f32)
          (block $c (result f64 i32 f32)
            (local.get 1) (local.get 0) (f32.const 1.5)
            (br_table $a $b $c (local.get 0)))
          (drop) (f32.const 2.5) (br $a))
        (drop) (drop) (i32.const 77) (f32.const 3.5)))
    (func (export "brif") (param i32 i64) (result i64 i32 i64)
      (i64.const 1)
      (block (param i64) (result i64 i32 i64)
        (i32.const 2) (local.get 1)
        (br_if 0 (local.get 0))
        (drop) (drop) (i32.const 3) (i64.const 4)))
    (func (export "nested") (param f64) (result f64 i32 f32)
      (local.get 0)
      (block (type $f3) (param f64) (result f64 i32 f32)
        (f64.mul (f64.const 2))
        (block (param f64) (result f64 i32) (i32.const 11))
        (f32.const 0.25))))`;

  function exercise(W, module) {
    const e = new W.Instance(module).exports;
    const calls = [
      ['swap', 5, 9n], ['swap', -1, -7n], ['gcd', 1071, 462], ['gcd', 17, 5], ['gcd', 4, 0],
      ['pick', 10, 3, 1], ['pick', 10, 3, 0], ['ifNoElse', 10, 3, 1], ['ifNoElse', 10, 3, 0],
      ['table', 0, 1.25], ['table', 1, 2.5], ['table', 2, -3], ['table', 9, 4], ['brif', 1, 5n], ['brif', 0, 5n], ['nested', 1.5],
    ];
    return calls.map(([name, ...args]) => [name, e[name](...args)]);
  }

  test('block, loop and if with parameters and several results give what Node gives', () => {
    const bytes = wat(MULTI);
    const ours = exercise(cranewasm, singlepassModule(bytes));
    const theirs = exercise(node, new node.Module(bytes));
    expect(ours).toEqual(theirs);
  });
});

describe('fuel', () => {
  // Loops, calls (direct, indirect, a tail call), branches of every kind, a multi-value
  // block and traps; each step leaves a mark in memory, so that where the code stopped shows.
  const METERED = `(module
    (type $ii (func (param i32) (result i32)))
    (memory (export "memory") 1)
    (table 2 funcref)
    (elem (i32.const 0) $sq $half)
    (func $sq (type $ii) (i32.mul (local.get 0) (local.get 0)))
    (func $half (type $ii) (i32.shr_u (local.get 0) (i32.const 1)))
    (func $tailsq (type $ii) (return_call $sq (i32.add (local.get 0) (i32.const 0))))
    (func $mark (param i32)
      (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
      (i32.store (i32.shl (i32.and (local.get 0) (i32.const 255)) (i32.const 2)) (local.get 0)))
    (func (export "run") (param $n i32) (param $trap i32) (result i32) (local $i i32) (local $acc i32)
      (loop $l
        (call $mark (local.get $i))
        (local.set $acc (i32.add (local.get $acc) (call_indirect (type $ii) (local.get $i) (i32.and (local.get $i) (i32.const 1)))))
        (block $a (block $b (block $c
          (br_table $a $b $c (i32.rem_u (local.get $i) (i32.const 3))))
          (local.set $acc (i32.xor (local.get $acc) (i32.const 5))) (br $a))
          (nop) (drop (i32.const 1)) (local.set $acc (i32.add (local.get $acc) (call $tailsq (i32.const 3)))))
        (local.set $acc (i32.add (local.get $acc)
          (block (result i32 i32) (local.get $i) (local.get $acc)) (i32.add)))
        (if (i32.and (local.get $trap) (i32.eq (local.get $i) (i32.const 7))) (then (unreachable)))
        (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
      (local.get $acc)))`;

  async function sweep(tier) {
    engine.setCompileOptions({ firstTier: tier, lazy: false, tierUp: 'off' });
    const sandbox = new engine.Sandbox({ fuel: 1 });
    const { module, instance } = await sandbox.instantiate(wat(METERED, { tail_call: true }));
    const log = [];
    for (const trap of [0, 1]) {
      for (let fuel = 0; fuel < 700; fuel += 3) {
        new Uint8Array(instance.exports.memory.buffer).fill(0);
        sandbox.fuel = fuel;
        let result;
        try {
          result = instance.exports.run(12, trap);
        } catch (err) {
          result = err.message;
        }
        log.push([fuel, result, sandbox.fuel, Array.from(new Int32Array(instance.exports.memory.buffer, 0, 16))]);
      }
    }
    // After the runs (a sandbox may compile lazily): every function that ran is single-pass code.
    if (tier === 'singlepass') {
      const status = engine.compileStatus(module);
      expect(status).toMatchObject({ fallbacks: 0, baseline: 0, optimized: 0 });
      expect(status.singlepass).toBeGreaterThan(3);
    }
    return log;
  }

  // A sandbox's metered code is a variant of the module that compileStatus() does not show:
  // a child process reports the single-pass tier's fallbacks (`CRANEWASM_SINGLEPASS_FALLBACKS=1`,
  // panics included) while it runs the metered module, and must report none.
  test('metered code is single-pass code (no fallback, no internal error)', () => {
    const path = require('path');
    const bytes = Buffer.from(wat(METERED, { tail_call: true })).toString('base64');
    const script = `
      const engine = require(${JSON.stringify(path.join(__dirname, '..', 'engine.js'))});
      engine.setCompileOptions({ firstTier: 'singlepass', lazy: false, tierUp: 'off' });
      const sandbox = new engine.Sandbox({ fuel: 1e9 });
      sandbox.instantiate(Buffer.from(${JSON.stringify(bytes)}, 'base64'))
        .then(({ instance }) => console.log(instance.exports.run(12, 0)));`;
    const env = { ...process.env, CRANEWASM_SINGLEPASS_FALLBACKS: '1', RUST_BACKTRACE: '0' };
    const result = require('child_process').spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(Number(result.stdout.trim())).toBeGreaterThan(0);
  });

  test('single-pass code stops after the same operator, with the same fuel left, as optimized code', async () => {
    const ours = await sweep('singlepass');
    const theirs = await sweep('optimized');
    expect(ours).toEqual(theirs);
    // Some runs ran out of fuel, some finished, some trapped.
    const outcomes = new Set(ours.map(([, r]) => (typeof r === 'number' ? 'value' : r)));
    expect(outcomes).toContain('value');
    expect([...outcomes].some((o) => /fuel exhausted/.test(o))).toBe(true);
    expect(outcomes).toContain('unreachable');
  });
});

describe('bounds-checked memories', () => {
  const ACCESSES = `(module
    (memory (export "memory") 1 2)
    (func (export "load") (param i32) (result i64) (i64.load (local.get 0)))
    (func (export "load8") (param i32) (result i32) (i32.load8_u offset=7 (local.get 0)))
    (func (export "loadFar") (param i32) (result i32) (i32.load16_s offset=0x80000000 (local.get 0)))
    (func (export "store") (param i32 i32) (i32.store offset=4 (local.get 0) (local.get 1)))
    (func (export "rmw") (param i32 i32) (result i32) (i32.atomic.rmw.add offset=4 (local.get 0) (local.get 1)))
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`;

  function exercise(W, exports) {
    const calls = [
      ['store', 0, 0x12345678], ['load', 0], ['load', 65528], ['load', 65529], ['load', -1], ['load8', 65528], ['load8', 65529],
      ['loadFar', 0], ['loadFar', -0x80000000], ['store', 65528, 1], ['store', 65532, 1], ['rmw', 65528, 5], ['rmw', 65532, 5], ['rmw', 2, 5],
      ['grow', 1], ['load', 65529], ['store', 131064, 9], ['load', 131064], ['load', 131065], ['rmw', 131068, 1],
    ];
    return calls.map(([name, ...args]) => [name, args, run(W, () => exports[name](...args))]);
  }

  test('explicit checks (a sandbox with boundsChecks) give what Node gives', async () => {
    const bytes = wat(ACCESSES);
    const sandbox = new engine.Sandbox({ boundsChecks: true });
    const { module, instance } = await sandbox.instantiate(bytes);
    expect(engine.compileStatus(module)).toMatchObject({ fallbacks: 0, baseline: 0, optimized: 0 });
    const ours = exercise(cranewasm, instance.exports);
    const theirs = exercise(node, new node.Instance(new node.Module(bytes)).exports);
    expect(ours).toEqual(theirs);
    expect(theirs.filter(([, , o]) => o.message === 'memory access out of bounds').length).toBeGreaterThan(5);
  });
});

function run(W, body) {
  try {
    const v = body();
    return { value: typeof v === 'bigint' ? `${v}n` : v };
  } catch (err) {
    return { threw: err.constructor.name, message: err.message };
  }
}

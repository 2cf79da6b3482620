'use strict';
// Multi-memory (WebAssembly 3.0): every memory instruction with a memory index (loads, stores,
// SIMD loads/stores and lane accesses, memory.size/grow/fill/copy/init), data segments with a
// memory index, memories imported and exported between instances and from JS, at every tier
// (lazy, baseline, optimized, tiered up), with bounds-checked code, and under a sandbox's memory
// limit, fuel and deadline. Node 20's engine lacks the feature (a CompileError), so expectations
// come from the spec text; the modules are assembled by wabt.

const W = require('..');
const { setCompileOptions, getCompileOptions, tierUp, Sandbox } = require('../engine');

let wabt;
beforeAll(async () => {
  wabt = await require('wabt')();
});

function wat(text) {
  const parsed = wabt.parseWat('test.wat', text, { multi_memory: true, simd: true, bulk_memory: true });
  try {
    parsed.resolveNames(); // no wabt validation: it knows one memory only; the engines validate
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

// Memory 0 ($a, imported or defined: 1 page), memory 1 ($b: 2 pages, at most 4), memory 2 ($c:
// 1 page). Each function names the memory it works on; nothing is written to memory 0 unless
// asked, so that a wrong memory index shows.
const BODY = `
  (data $passive "hello")
  (func (export "load_a") (param i32) (result i32) (i32.load8_u $a (local.get 0)))
  (func (export "load_b") (param i32) (result i32) (i32.load8_u $b (local.get 0)))
  (func (export "load_c") (param i32) (result i32) (i32.load8_u $c (local.get 0)))
  (func (export "load32_b") (param i32) (result i32) (i32.load $b offset=4 (local.get 0)))
  (func (export "store_b") (param i32 i32) (i32.store8 $b (local.get 0) (local.get 1)))
  (func (export "store64_c") (param i32 i64) (i64.store $c offset=8 (local.get 0) (local.get 1)))
  (func (export "size") (result i32 i32 i32) (memory.size $a) (memory.size $b) (memory.size $c))
  (func (export "grow_b") (param i32) (result i32) (memory.grow $b (local.get 0)))
  (func (export "fill_c") (param i32 i32 i32) (memory.fill $c (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy_b_to_c") (param i32 i32 i32) (memory.copy $c $b (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy_c_to_a") (param i32 i32 i32) (memory.copy $a $c (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy_within_b") (param i32 i32 i32) (memory.copy $b $b (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init_c") (param i32 i32 i32) (memory.init $c $passive (local.get 0) (local.get 1) (local.get 2)))
  (func (export "drop") (data.drop $passive))
  ;; SIMD: a v128 from memory 1 to memory 2, then lane 3 of it back into memory 2 at 64.
  (func (export "simd_b_to_c") (param i32 i32)
    (v128.store $c (local.get 1) (v128.load $b (local.get 0)))
    (v128.store32_lane $c 3 (i32.const 64) (v128.load32_splat $b (local.get 0))))
  (func (export "lane_from_c") (param i32) (result i32)
    (i32x4.extract_lane 1 (v128.load32_lane $c 1 (local.get 0) (v128.const i64x2 0 0))))
  ;; Sums the bytes of memory 2 in [0, n) in a loop: loads of two memories in one loop.
  (func (export "sum_c") (param i32) (result i32) (local i32 i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get 1) (local.get 0)))
      (local.set 2 (i32.add (local.get 2) (i32.load8_u $c (local.get 1))))
      (local.set 1 (i32.add (local.get 1) (i32.const 1)))
      (br $next)))
    (i32.add (local.get 2) (i32.load8_u $a (i32.const 0))))
  (export "b" (memory $b))
  (export "c" (memory $c))`;

let DEFINED;
// The same, with memory 0 imported.
let IMPORTING;
beforeAll(() => {
  DEFINED = wat(`(module (memory $a 1) (memory $b 2 4) (memory $c 1) ${BODY} (export "a" (memory $a)))`);
  IMPORTING = wat(`(module (import "env" "a" (memory $a 1)) (memory $b 2 4) (memory $c 1) ${BODY})`);
});

// Runs the module's operations on its memories and returns what JS sees of them.
function exercise(exports, a) {
  const bytes = (memory, at, n) => Array.from(new Uint8Array(memory.buffer, at, n));
  const out = {};
  // (wabt drops the memory index of an active data segment: see the test of segments below.)
  new Uint8Array(exports.b.buffer).set([1, 2, 3, 4], 100);
  out.segment = [exports.load_b(100), exports.load_b(103), exports.load_a(100), exports.load_c(100)];
  exports.store_b(200, 7);
  exports.store64_c(0, 0x0102030405060708n);
  out.stores = [exports.load_b(200), exports.load_a(200), exports.load_c(200), bytes(exports.c, 8, 8)];
  out.load32 = exports.load32_b(96); // bytes 100..103 of memory 1
  out.size = exports.size();
  // Past the maximum (4 pages) fails, then growing to it succeeds.
  out.grow = [exports.grow_b(1), exports.grow_b(2), exports.grow_b(1), exports.size()[1], exports.b.buffer.byteLength];
  exports.fill_c(300, 0xab, 3);
  out.fill = [bytes(exports.c, 299, 5), bytes(a, 300, 3)];
  exports.copy_b_to_c(400, 100, 4);
  exports.copy_c_to_a(10, 400, 4);
  exports.copy_within_b(101, 100, 4); // overlapping, within one memory
  out.copy = [bytes(exports.c, 400, 4), bytes(a, 10, 4), bytes(exports.b, 100, 6)];
  exports.init_c(500, 1, 4);
  out.init = bytes(exports.c, 500, 4);
  exports.simd_b_to_c(100, 600);
  out.simd = [bytes(exports.c, 600, 16), bytes(exports.c, 64, 4), exports.lane_from_c(600)];
  out.sum = exports.sum_c(1000);
  // Out of bounds of the memory named, not of another: memory 2 has 1 page, memory 1 has 4 now.
  out.traps = [
    () => exports.load_c(65536), () => exports.load_b(4 * 65536), () => exports.store64_c(65536 - 15, 0n),
    () => exports.fill_c(65535, 0, 2), () => exports.copy_b_to_c(65535, 0, 2), () => exports.copy_c_to_a(0, 65535, 2),
    () => exports.init_c(0, 0, 6), () => exports.simd_b_to_c(0, 65536 - 15),
  ].map((f) => thrown(f) instanceof W.RuntimeError);
  out.inBounds = [exports.load_c(65535), exports.load_b(4 * 65536 - 1)];
  exports.drop();
  out.dropped = thrown(() => exports.init_c(0, 0, 1)) instanceof W.RuntimeError;
  return out;
}

const EXPECTED = {
  segment: [1, 4, 0, 0],
  stores: [7, 0, 0, [8, 7, 6, 5, 4, 3, 2, 1]],
  load32: 0x04030201,
  size: [1, 2, 1],
  grow: [2, -1, 3, 4, 4 * 65536],
  fill: [[0, 0xab, 0xab, 0xab, 0], [0, 0, 0]],
  copy: [[1, 2, 3, 4], [1, 2, 3, 4], [1, 1, 2, 3, 4, 0]],
  init: [...Buffer.from('ello')],
  simd: [[1, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 1, 2, 3], 0x03020101],
  // Bytes of memory 2 below 1000: 8..1 (the i64), 3 x 0xab, 1 2 3 4 (copy), "ello", the v128's
  // 1 1 2 3 4 and its lane 1 1 2 3; plus memory 0's byte 0 (still 0).
  sum: 36 + 3 * 0xab + 10 + [...Buffer.from('ello')].reduce((x, y) => x + y) + 11 + 7,
  traps: [true, true, true, true, true, true, true, true],
  inBounds: [0, 0],
  dropped: true,
};

const CONFIGS = {
  lazy: { lazy: true, firstTier: 'baseline', tierUp: 'dynamic' },
  baseline: { lazy: false, firstTier: 'baseline', tierUp: 'off' },
  optimized: { lazy: false, firstTier: 'optimized', tierUp: 'off' },
  'tiered up': { lazy: true, firstTier: 'baseline', tierUp: 'dynamic', thenTierUp: true },
};

describe.each(Object.keys(CONFIGS))('at the %s tier', (config) => {
  let saved;
  beforeAll(() => {
    saved = getCompileOptions();
    const { thenTierUp, ...options } = CONFIGS[config];
    setCompileOptions(options);
  });
  afterAll(() => setCompileOptions(saved));

  async function instantiate(bytes, imports) {
    const module = new W.Module(bytes);
    if (CONFIGS[config].thenTierUp) await tierUp(module);
    return new W.Instance(module, imports).exports;
  }

  test('every memory instruction works on the memory it names', async () => {
    const exports = await instantiate(DEFINED);
    expect(exercise(exports, exports.a)).toEqual(EXPECTED);
  });

  test('with memory 0 imported from JS', async () => {
    const a = new W.Memory({ initial: 1 });
    const exports = await instantiate(IMPORTING, { env: { a } });
    expect(exercise(exports, a)).toEqual(EXPECTED);
  });

  test('bounds-checked code (a sandbox with boundsChecks) behaves the same', async () => {
    const sandbox = new Sandbox({ boundsChecks: true });
    const { instance } = await sandbox.instantiate(DEFINED);
    expect(exercise(instance.exports, instance.exports.a)).toEqual(EXPECTED);
  });
});

test('memories pass between instances with identity, and each instance sees the others\' writes', () => {
  const first = new W.Instance(new W.Module(DEFINED)).exports;
  // The second instance imports the first's memories 1 and 2 as its memories 0 and 1.
  const second = new W.Instance(new W.Module(wat(`(module
    (import "first" "b" (memory $x 2))
    (import "first" "c" (memory $y 1))
    (memory $z 1)
    (func (export "move") (param i32 i32) (i32.store8 $y (local.get 1) (i32.load8_u $x (local.get 0))))
    (func (export "grow_x") (result i32) (memory.grow $x (i32.const 1)))
    (export "x" (memory $x)) (export "y" (memory $y)) (export "z" (memory $z)))`)), { first }).exports;
  expect(second.x).toBe(first.b);
  expect(second.y).toBe(first.c);
  expect(second.z).not.toBe(first.a);
  new Uint8Array(first.b.buffer)[101] = 2;
  second.move(101, 7);
  expect(first.load_c(7)).toBe(2);
  // A growth by either instance is seen by both, and JS's old buffer is detached.
  const old = first.b.buffer;
  expect(second.grow_x()).toBe(2);
  expect(old.byteLength).toBe(0);
  expect(first.size()[1]).toBe(3);
  expect(first.grow_b(1)).toBe(3);
  expect(second.x.buffer.byteLength).toBe(4 * 65536);
  // Imports are checked one by one: a memory too small for the second import is a LinkError.
  const tooSmall = thrown(() => new W.Instance(new W.Module(wat(`(module (import "m" "a" (memory 1)) (import "m" "b" (memory 3)))`)),
    { m: { a: new W.Memory({ initial: 1 }), b: new W.Memory({ initial: 2 }) } }));
  expect(tooSmall).toBeInstanceOf(W.LinkError);
  expect(tooSmall.message).toMatch(/memory import 1 is smaller than initial 3, got 2/);
});

test('Module.imports() and exports() list every memory', () => {
  const module = new W.Module(IMPORTING);
  expect(W.Module.imports(module)).toEqual([{ module: 'env', name: 'a', kind: 'memory' }]);
  expect(W.Module.exports(module).filter((e) => e.kind === 'memory').map((e) => e.name)).toEqual(['b', 'c']);
});

describe('a sandbox', () => {
  // Two memories of one page each, and grows of memory 1.
  const two = () => wat(`(module (memory 1) (memory $m 1)
    (func (export "grow") (param i32) (result i32) (memory.grow $m (local.get 0)))
    (export "m" (memory $m)))`);

  test('counts every memory against memoryLimit, at instantiation and when growing', async () => {
    const page = 65536;
    const tight = new Sandbox({ memoryLimit: page });
    const refused = await tight.instantiate(two()).catch((err) => err);
    expect(refused).toBeInstanceOf(RangeError);
    expect(refused.message).toMatch(/memory limit \(65536 bytes\)/);
    const sandbox = new Sandbox({ memoryLimit: 3 * page });
    const { instance } = await sandbox.instantiate(two());
    expect(instance.exports.grow(1)).toBe(1); // 3 pages in all
    expect(instance.exports.grow(1)).toBe(-1); // a 4th would pass the limit
    expect(thrown(() => instance.exports.m.grow(1))).toBeInstanceOf(RangeError);
    expect(instance.exports.m.buffer.byteLength).toBe(2 * page);
  });

  test('fuel and deadlines stop loops over any memory', async () => {
    const looping = wat(`(module (memory 1) (memory $m 1)
      (func (export "spin") (loop $l (i32.store $m (i32.const 4) (i32.add (i32.load $m (i32.const 4)) (i32.const 1))) (br $l))))`);
    const fueled = new Sandbox({ fuel: 1_000_000 });
    const { instance } = await fueled.instantiate(looping);
    expect(thrown(() => instance.exports.spin())).toBeInstanceOf(W.RuntimeError);
    const timed = new Sandbox({ timeout: 50 });
    const { instance: other } = await timed.instantiate(looping);
    expect(thrown(() => other.exports.spin())).toBeInstanceOf(W.RuntimeError);
  });
});

test('an invalid memory index is a CompileError naming the function and offset', () => {
  // (func (drop (i32.load 1 (i32.const 0)))) in a module with one memory, hand-assembled:
  // the memarg's alignment byte has bit 6 set, so a memory index (1) follows it.
  const bytes = new Uint8Array([
    0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    1, 4, 1, 0x60, 0, 0, // type: () -> ()
    3, 2, 1, 0, // function 0: type 0
    5, 3, 1, 0, 1, // memory 1 page
    10, 11, 1, 9, 0, 0x41, 0, 0x28, 0x42, 1, 0, 0x1a, 0x0b,
  ]);
  expect(W.validate(bytes)).toBe(false);
  const err = thrown(() => new W.Module(bytes));
  expect(err).toBeInstanceOf(W.CompileError);
  expect(err.message).toMatch(/Compiling function #0 failed: .*memory.* @\+\d+/);
});

test('active data segments go to the memory they name; one past its end fails instantiation', () => {
  // Hand-assembled (wabt drops a data segment's memory index): memories 0 and 1 of one page
  // (memory 1 exported as "b"), segments "\01\02" at 100 of memory 1 and "\03" at 7 of memory 0,
  // then (in a second module) one past the end of memory 1.
  const module = (offset) => new Uint8Array([
    0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    5, 5, 2, 0, 1, 0, 1, // two memories of one page
    7, 9, 2, 1, 0x61, 2, 0, 1, 0x62, 2, 1, // export "a" memory 0, "b" memory 1
    11, 14 + offset.length, 2,
    2, 1, 0x41, ...offset, 0x0b, 2, 1, 2, // memory 1, (i32.const offset), "\01\02"
    0, 0x41, 7, 0x0b, 1, 3, // memory 0, (i32.const 7), "\03"
  ]);
  const ok = module([0xe4, 0x00]); // i32.const 100
  const { exports } = new W.Instance(new W.Module(ok));
  expect(Array.from(new Uint8Array(exports.b.buffer, 99, 4))).toEqual([0, 1, 2, 0]);
  expect(Array.from(new Uint8Array(exports.a.buffer, 99, 4))).toEqual([0, 0, 0, 0]);
  expect(new Uint8Array(exports.a.buffer)[7]).toBe(3);
  // 65535 (3-byte LEB128 i32.const 0xffff): the segment ends one byte past memory 1.
  const outOfBounds = module([0xff, 0xff, 0x03]);
  expect(thrown(() => new W.Instance(new W.Module(outOfBounds)))).toBeInstanceOf(W.RuntimeError);
});

test('CRANEWASM_DISABLE_FEATURES=multi-memory refuses a second memory as Node 20 does (CompileError); unset, it is valid', () => {
  const { spawnSync } = require('child_process');
  const path = require('path');
  const bytes = wat('(module (memory 1) (memory 1) (func (export "f") (result i32) (i32.load 1 (i32.const 0))))');
  const script = `
    const W = require(${JSON.stringify(path.join(__dirname, '..'))});
    const bytes = Buffer.from(${JSON.stringify(Buffer.from(bytes).toString('base64'))}, 'base64');
    const out = (WA) => {
      let error = null;
      try { new WA.Module(bytes); } catch (e) { error = e.constructor.name; }
      return { valid: WA.validate(bytes), error };
    };
    process.stdout.write(JSON.stringify({ cranewasm: out(W), node: out(WebAssembly) }));`;
  const run = (env) => {
    const child = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, ...env }, encoding: 'utf8' });
    expect(child.stderr).toBe('');
    return JSON.parse(child.stdout);
  };
  const off = run({ CRANEWASM_DISABLE_FEATURES: ' Multi-Memory ' });
  expect(off.node).toEqual({ valid: false, error: 'CompileError' });
  expect(off.cranewasm).toEqual(off.node);
  expect(run({ CRANEWASM_DISABLE_FEATURES: '' }).cranewasm).toEqual({ valid: true, error: null });
  // Any other name stops the load with an error naming the variable.
  const bad = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(__dirname, '..'))})`], {
    env: { ...process.env, CRANEWASM_DISABLE_FEATURES: 'simd' }, encoding: 'utf8',
  });
  expect(bad.status).not.toBe(0);
  expect(bad.stderr).toMatch(/CRANEWASM_DISABLE_FEATURES="simd" is invalid/);
});

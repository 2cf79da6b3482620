'use strict';
// Memory64 and table64 (WebAssembly 3.0): i64 addresses and table indices at every tier (lazy,
// baseline, optimized, tiered up) and with bounds-checked code; accesses whose address plus
// offset passes 2^64 trap and never reach memory; and the JS API's `address: 'i64'` Memory and
// Table with BigInt sizes, compared with the JS API spec text (AddressValueToU64,
// U64ToAddressValue). Node 20's engine has neither, so expectations come from the spec text; the
// modules are assembled by wabt.

const W = require('..');
const { setCompileOptions, getCompileOptions, tierUp, Sandbox, compileStatus } = require('../engine');

let wabt;
beforeAll(async () => {
  wabt = await require('wabt')();
});

function wat(text) {
  const parsed = wabt.parseWat('test.wat', text, { memory64: true, multi_memory: true, simd: true, bulk_memory: true, reference_types: true });
  try {
    parsed.resolveNames(); // no wabt validation (it lags the proposals); the engine validates
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

const PAGE = 65536;
const NEAR_2_64 = 0xfffffffffffffff0n; // 2^64 - 16

describe('WebAssembly.Memory with address "i64"', () => {
  test('sizes are BigInts in and out; Numbers are a TypeError (ToBigInt)', () => {
    const memory = new W.Memory({ address: 'i64', initial: 1n, maximum: 3n });
    expect(memory.buffer.byteLength).toBe(PAGE);
    expect(memory.grow(1n)).toBe(1n);
    expect(memory.grow(0n)).toBe(2n);
    expect(memory.buffer.byteLength).toBe(2 * PAGE);
    expect(thrown(() => memory.grow(1))).toBeInstanceOf(TypeError);
    expect(thrown(() => memory.grow(-1n))).toBeInstanceOf(TypeError);
    expect(thrown(() => memory.grow(2n ** 64n))).toBeInstanceOf(TypeError);
    expect(thrown(() => memory.grow(2n))).toBeInstanceOf(RangeError); // past the maximum
    expect(memory.grow(1n)).toBe(2n);
    // ToBigInt converts strings and booleans.
    expect(new W.Memory({ address: 'i64', initial: '2' }).buffer.byteLength).toBe(2 * PAGE);
    expect(new W.Memory({ address: 'i64', initial: true }).buffer.byteLength).toBe(PAGE);
  });

  test('descriptor errors: TypeError out of the u64 range, RangeError for invalid or unallocatable types', () => {
    const make = (descriptor) => thrown(() => new W.Memory(descriptor));
    expect(make({ address: 'i64', initial: 1 })).toBeInstanceOf(TypeError);
    expect(make({ address: 'i64' })).toBeInstanceOf(TypeError);
    expect(make({ address: 'i64', initial: -1n })).toBeInstanceOf(TypeError);
    expect(make({ address: 'i64', initial: 0n, maximum: 2n ** 64n })).toBeInstanceOf(TypeError);
    expect(make({ address: 'i64', initial: 10n, maximum: 9n })).toBeInstanceOf(RangeError);
    expect(make({ address: 'i64', initial: 2n ** 48n + 1n })).toBeInstanceOf(RangeError); // invalid memtype
    expect(make({ address: 'i64', initial: 262145n })).toBeInstanceOf(RangeError); // past 16 GiB
    expect(make({ address: 'i33', initial: 1n })).toBeInstanceOf(TypeError);
    // Without `address` (or with "i32"), sizes stay Numbers.
    const plain = new W.Memory({ address: 'i32', initial: 1 });
    expect(plain.grow(1)).toBe(1);
    expect(make({ initial: 1n })).toBeInstanceOf(TypeError);
  });

  test('imports match by address type (a LinkError otherwise)', () => {
    const i64 = wat('(module (import "m" "x" (memory i64 1)))');
    const i32 = wat('(module (import "m" "x" (memory 1)))');
    const mem64 = new W.Memory({ address: 'i64', initial: 1n });
    const mem32 = new W.Memory({ initial: 1 });
    expect(new W.Instance(new W.Module(i64), { m: { x: mem64 } })).toBeInstanceOf(W.Instance);
    expect(thrown(() => new W.Instance(new W.Module(i64), { m: { x: mem32 } }))).toBeInstanceOf(W.LinkError);
    expect(thrown(() => new W.Instance(new W.Module(i32), { m: { x: mem64 } }))).toBeInstanceOf(W.LinkError);
  });
});

test('a memory longer than an ArrayBuffer Node-API can make: buffer is a RangeError, the memory works on', () => {
  // 65,537 pages is one page past buffer.constants.MAX_LENGTH on Node 20. Making the buffer used
  // to free the memory's keep-alive twice (found by fuzz-v8) and abort the process.
  const memory = new W.Memory({ address: 'i64', initial: 65537n });
  for (let i = 0; i < 3; i++) {
    const err = (() => { try { return memory.buffer; } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(RangeError);
    expect(err.message).toMatch(/4295032832 bytes/);
  }
  expect(memory.grow(0n)).toBe(65537n);
  expect(new W.Memory({ address: 'i64', initial: 65536n }).buffer.byteLength).toBe(2 ** 32);
});

describe('WebAssembly.Table with address "i64"', () => {
  test('length, grow, get and set take and give BigInts', () => {
    const table = new W.Table({ element: 'anyfunc', address: 'i64', initial: 2n, maximum: 5n });
    expect(table.length).toBe(2n);
    expect(table.get(0n)).toBe(null);
    expect(table.grow(1n)).toBe(2n);
    expect(table.length).toBe(3n);
    const { exports } = new W.Instance(new W.Module(wat('(module (func (export "f") (result i32) (i32.const 7)))')));
    table.set(2n, exports.f);
    expect(table.get(2n)).toBe(exports.f);
    expect(thrown(() => table.get(0))).toBeInstanceOf(TypeError);
    expect(thrown(() => table.set(0, null))).toBeInstanceOf(TypeError);
    expect(thrown(() => table.get(3n))).toBeInstanceOf(RangeError);
    expect(thrown(() => table.grow(3n))).toBeInstanceOf(RangeError);
    expect(thrown(() => new W.Table({ element: 'anyfunc', address: 'i64', initial: 10_000_001n }))).toBeInstanceOf(RangeError);
    expect(thrown(() => new W.Table({ element: 'anyfunc', address: 'i64', initial: 1 }))).toBeInstanceOf(TypeError);
    expect(new W.Table({ element: 'anyfunc', initial: 1 }).length).toBe(1);
  });
});

// An imported i64 memory "m" (bytes 0..15 are 1..16, so a wrapped access would read them), an
// i32 memory, and a 64-bit and a 32-bit table.
const MODULE = `(module
  (import "env" "m" (memory $m i64 1))
  (memory $small 1)
  (table $t64 i64 4 funcref)
  (table $t32 4 funcref)
  (elem (table $t64) (i64.const 0) func $seven $eight)
  (elem $passive func $eight)
  (type $r (func (result i32)))
  (func $seven (result i32) (i32.const 7))
  (func $eight (result i32) (i32.const 8))
  (func (export "load8") (param i64) (result i32) (i32.load8_u (local.get 0)))
  (func (export "load64") (param i64) (result i64) (i64.load offset=8 (local.get 0)))
  (func (export "store8") (param i64 i32) (i32.store8 (local.get 0) (local.get 1)))
  ;; Offsets near 2^64: address + offset wraps around 2^64 (or offset + size does).
  (func (export "load_far") (param i64) (result i64) (i64.load offset=${NEAR_2_64} (local.get 0)))
  (func (export "store_far") (param i64) (i64.store offset=${NEAR_2_64} (local.get 0) (i64.const -1)))
  (func (export "load_last") (param i64) (result i32) (i32.load8_u offset=0xffffffffffffffff (local.get 0)))
  (func (export "load_max") (param i64) (result i64) (i64.load offset=0xffffffffffffffff (local.get 0)))
  (func (export "v128_far") (param i64) (v128.store offset=0xfffffffffffffff8 (local.get 0) (v128.const i64x2 -1 -1)))
  (func (export "lane_far") (param i64) (v128.store32_lane offset=${NEAR_2_64} 0 (local.get 0) (v128.const i64x2 -1 -1)))
  (func (export "size") (result i64) (memory.size $m))
  (func (export "grow") (param i64) (result i64) (memory.grow $m (local.get 0)))
  (func (export "fill") (param i64 i32 i64) (memory.fill $m (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy") (param i64 i64 i64) (memory.copy $m $m (local.get 0) (local.get 1) (local.get 2)))
  ;; Between an i64 and an i32 memory the length is an i32.
  (func (export "copy_to_small") (param i32 i64 i32) (memory.copy $small $m (local.get 0) (local.get 1) (local.get 2)))
  (func (export "load_small") (param i32) (result i32) (i32.load8_u $small (local.get 0)))
  (func (export "call") (param i64) (result i32) (call_indirect $t64 (type $r) (local.get 0)))
  (func (export "table_size") (result i64 i32) (table.size $t64) (table.size $t32))
  (func (export "table_grow") (param i64) (result i64) (table.grow $t64 (ref.null func) (local.get 0)))
  (func (export "table_fill") (param i64 i64) (table.fill $t64 (local.get 0) (ref.func $seven) (local.get 1)))
  (func (export "copy_64_to_32") (param i32 i64 i32) (table.copy $t32 $t64 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy_32_to_64") (param i64 i32 i32) (table.copy $t64 $t32 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init") (param i64 i32 i32) (table.init $t64 $passive (local.get 0) (local.get 1) (local.get 2)))
  (func (export "set_null") (param i64) (table.set $t64 (local.get 0) (ref.null func)))
  (func (export "is_null") (param i64) (result i32) (ref.is_null (table.get $t64 (local.get 0))))
  (func (export "call32") (param i32) (result i32) (call_indirect $t32 (type $r) (local.get 0)))
  (export "t64" (table $t64)))`;

function exercise(exports, memory) {
  const bytes = new Uint8Array(memory.buffer);
  const trap = (f) => thrown(f) instanceof W.RuntimeError;
  const out = {};
  out.loads = [exports.load8(0n), exports.load8(65535n), exports.load64(0n)];
  out.inBoundsTraps = [trap(() => exports.load8(65536n)), trap(() => exports.load8(-1n)), trap(() => exports.load64(65536n - 15n))];
  // Near 2^64: a wrapped sum would land on bytes 0..15, which are not zero. Every one traps and
  // neither reads nor writes.
  out.far = [
    trap(() => exports.load_far(0x10n)), trap(() => exports.load_far(0n)), trap(() => exports.load_far(0x18n)),
    trap(() => exports.store_far(0x10n)), trap(() => exports.store_far(0x20n)),
    trap(() => exports.load_last(0n)), trap(() => exports.load_last(1n)), trap(() => exports.load_max(0n)),
    trap(() => exports.v128_far(8n)), trap(() => exports.v128_far(0n)), trap(() => exports.lane_far(0x10n)),
  ];
  out.untouched = Array.from(new Uint8Array(memory.buffer, 0, 32));
  out.size = [exports.size(), exports.grow(1n), exports.size(), exports.grow(2n ** 40n), exports.grow(-1n), memory.buffer.byteLength];
  exports.fill(100n, 0xee, 3n);
  exports.copy(200n, 99n, 5n);
  out.bulk = [Array.from(new Uint8Array(memory.buffer, 200, 5)), trap(() => exports.fill(0n, 0, 2n ** 63n)),
    trap(() => exports.fill(-2n, 0, 4n)), trap(() => exports.copy(1n, 0n, -1n)), trap(() => exports.copy(-1n, 0n, 2n))];
  exports.copy_to_small(10, 100n, 3);
  out.small = [exports.load_small(10), exports.load_small(12), trap(() => exports.copy_to_small(65535, 0n, 2))];
  out.tables = [exports.call(0n), exports.call(1n), trap(() => exports.call(4n)), trap(() => exports.call(-1n)), trap(() => exports.call(2n)), exports.table_size()];
  out.grow = [exports.table_grow(2n), exports.table_grow(2n ** 40n), exports.table_size()[0], exports.t64.length];
  exports.table_fill(4n, 2n);
  out.fill = [exports.call(4n), exports.call(5n), trap(() => exports.table_fill(5n, 2n)), trap(() => exports.table_fill(0n, -1n))];
  exports.copy_64_to_32(1, 0n, 2);
  exports.set_null(0n);
  exports.copy_32_to_64(2n, 1, 2);
  out.copy = [exports.call32(1), exports.call32(2), exports.is_null(0n), exports.call(2n), exports.call(3n),
    trap(() => exports.copy_64_to_32(3, 0n, 2)), trap(() => exports.copy_32_to_64(5n, 0, 2))];
  exports.init(0n, 0, 1);
  out.init = [exports.call(0n), trap(() => exports.init(6n, 0, 1)), trap(() => exports.init(-1n, 0, 1))];
  return out;
}

const EXPECTED = {
  loads: [1, 0, 0x100f0e0d0c0b0a09n],
  inBoundsTraps: [true, true, true],
  far: Array(11).fill(true),
  untouched: [...Array(16).keys()].map((i) => i + 1).concat(Array(16).fill(0)),
  size: [1n, 1n, 2n, -1n, -1n, 2 * PAGE],
  bulk: [[0, 0xee, 0xee, 0xee, 0], true, true, true, true],
  small: [0xee, 0xee, true],
  tables: [7, 8, true, true, true, [4n, 4]],
  grow: [4n, -1n, 6n, 6n],
  fill: [7, 7, true, true],
  copy: [7, 8, 1, 7, 8, true, true],
  init: [8, true, true],
};

const CONFIGS = {
  lazy: { lazy: true, firstTier: 'baseline', tierUp: 'dynamic' },
  baseline: { lazy: false, firstTier: 'baseline', tierUp: 'off' },
  optimized: { lazy: false, firstTier: 'optimized', tierUp: 'off' },
  singlepass: { lazy: false, firstTier: 'singlepass', tierUp: 'off' },
  'tiered up': { lazy: true, firstTier: 'baseline', tierUp: 'dynamic', thenTierUp: true },
};

function freshMemory() {
  const memory = new W.Memory({ address: 'i64', initial: 1n, maximum: 4n });
  new Uint8Array(memory.buffer).set([...Array(16).keys()].map((i) => i + 1));
  return memory;
}

describe.each(Object.keys(CONFIGS))('at the %s tier', (config) => {
  let saved;
  beforeAll(() => {
    saved = getCompileOptions();
    const { thenTierUp, ...options } = CONFIGS[config];
    setCompileOptions(options);
  });
  afterAll(() => setCompileOptions(saved));

  test('i64 addresses and table indices, with checks that no wrap-around escapes', async () => {
    const module = new W.Module(wat(MODULE));
    if (CONFIGS[config].thenTierUp) await tierUp(module);
    if (config === 'singlepass') expect(compileStatus(module)).toMatchObject({ fallbacks: 0, baseline: 0 });
    const memory = freshMemory();
    const { exports } = new W.Instance(module, { env: { m: memory } });
    expect(exercise(exports, memory)).toEqual(EXPECTED);
  });

  test('the same in bounds-checked code (a sandbox with boundsChecks)', async () => {
    const sandbox = new Sandbox({ boundsChecks: true });
    const memory = freshMemory();
    const { instance } = await sandbox.instantiate(wat(MODULE), { env: { m: memory } });
    expect(exercise(instance.exports, memory)).toEqual(EXPECTED);
  });
});

test('a defined i64 memory is exported as one; a sandbox\'s memory limit counts it', async () => {
  const bytes = wat(`(module (memory (export "m") i64 1 8) (memory (export "n") 1)
    (data (memory 0) (i64.const 0x10) "\\2a")
    (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0))))`);
  const { exports } = new W.Instance(new W.Module(bytes));
  expect(new Uint8Array(exports.m.buffer)[0x10]).toBe(0x2a);
  expect(exports.m.grow(1n)).toBe(1n);
  expect(exports.n.grow(1)).toBe(1);
  expect(thrown(() => exports.m.grow(1))).toBeInstanceOf(TypeError);
  const sandbox = new Sandbox({ memoryLimit: 3 * PAGE });
  const { instance } = await sandbox.instantiate(bytes);
  expect(instance.exports.grow(1n)).toBe(1n);
  expect(instance.exports.grow(1n)).toBe(-1n);
  expect(thrown(() => instance.exports.m.grow(1n))).toBeInstanceOf(RangeError);
});

'use strict';
// Relaxed SIMD (WebAssembly 3.0): cranewasm makes one deterministic choice per instruction
// (README, "Relaxed SIMD"), the same at every tier and compile mode. The inputs here are the
// ones where the allowed results differ; expected values are computed in JS from the documented
// choice. (Node 20's engine lacks relaxed SIMD.)

const W = require('..');
const { setCompileOptions, getCompileOptions } = require('../engine');
const { loadWabt } = require('./helpers/execution.js');

let wabt;
beforeAll(async () => {
  wabt = await loadWabt();
});

// Each export computes op(v128 at 0, v128 at 16, v128 at 32) into 48.
const OPS = {
  madd32: 'f32x4.relaxed_madd (v128.load (i32.const 0)) (v128.load (i32.const 16)) (v128.load (i32.const 32))',
  nmadd32: 'f32x4.relaxed_nmadd (v128.load (i32.const 0)) (v128.load (i32.const 16)) (v128.load (i32.const 32))',
  madd64: 'f64x2.relaxed_madd (v128.load (i32.const 0)) (v128.load (i32.const 16)) (v128.load (i32.const 32))',
  min32: 'f32x4.relaxed_min (v128.load (i32.const 0)) (v128.load (i32.const 16))',
  max64: 'f64x2.relaxed_max (v128.load (i32.const 0)) (v128.load (i32.const 16))',
  truncS: 'i32x4.relaxed_trunc_f32x4_s (v128.load (i32.const 0))',
  truncU: 'i32x4.relaxed_trunc_f32x4_u (v128.load (i32.const 0))',
  truncZero: 'i32x4.relaxed_trunc_f64x2_s_zero (v128.load (i32.const 0))',
  swizzle: 'i8x16.relaxed_swizzle (v128.load (i32.const 0)) (v128.load (i32.const 16))',
  laneselect: 'i32x4.relaxed_laneselect (v128.load (i32.const 0)) (v128.load (i32.const 16)) (v128.load (i32.const 32))',
  q15: 'i16x8.relaxed_q15mulr_s (v128.load (i32.const 0)) (v128.load (i32.const 16))',
  dot16: 'i16x8.relaxed_dot_i8x16_i7x16_s (v128.load (i32.const 0)) (v128.load (i32.const 16))',
  dot32: 'i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.load (i32.const 0)) (v128.load (i32.const 16)) (v128.load (i32.const 32))',
};

function moduleBytes() {
  const funcs = Object.entries(OPS).map(([name, expr]) => `(func (export "${name}") (v128.store (i32.const 48) (${expr})))`);
  const parsed = wabt.parseWat('relaxed.wat', `(module (memory (export "memory") 1) ${funcs.join('\n')})`, { simd: true, relaxed_simd: true });
  try {
    return parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
}

const f32 = Math.fround;
const A = 1 + 2 ** -23; // (1 + ε)² = 1 + 2ε + ε²: fused and unfused madd differ
const CASES = {
  madd32: { in: [new Float32Array([A, 2, -0, 3]), new Float32Array([A, 3, 5, NaN]), new Float32Array([-(1 + 2 ** -22), 1, -0, 1])], out: Float32Array,
    expect: [f32(f32(A * A) - f32(1 + 2 ** -22)), 7, -0, NaN] },
  nmadd32: { in: [new Float32Array([A, 2, 1, 0]), new Float32Array([A, 3, 1, 0]), new Float32Array([1 + 2 ** -22, 1, 1, -0])], out: Float32Array,
    expect: [f32(-f32(A * A) + f32(1 + 2 ** -22)), -5, 0, -0 /* -(0 * 0) + -0 */] },
  madd64: { in: [new Float64Array([1 + 2 ** -52, 2]), new Float64Array([1 + 2 ** -52, 3]), new Float64Array([-(1 + 2 ** -51), 1])], out: Float64Array,
    expect: [((1 + 2 ** -52) * (1 + 2 ** -52)) - (1 + 2 ** -51), 7] },
  min32: { in: [new Float32Array([-0, NaN, 1, -Infinity]), new Float32Array([0, 1, NaN, 3])], out: Float32Array, expect: [-0, NaN, NaN, -Infinity] },
  max64: { in: [new Float64Array([-0, NaN]), new Float64Array([0, 1])], out: Float64Array, expect: [0, NaN] },
  truncS: { in: [new Float32Array([NaN, 3e9, -3e9, -1.5])], out: Int32Array, expect: [0, 2147483647, -2147483648, -1] },
  truncU: { in: [new Float32Array([NaN, 5e9, -1, 1.9])], out: Uint32Array, expect: [0, 4294967295, 0, 1] },
  truncZero: { in: [new Float64Array([NaN, -1e10])], out: Int32Array, expect: [0, -2147483648, 0, 0] },
  swizzle: { in: [Uint8Array.from({ length: 16 }, (_, i) => i + 100), Uint8Array.from([0, 15, 16, 127, 128, 200, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9])], out: Uint8Array,
    expect: [100, 115, 0, 0, 0, 0, 0, 101, 102, 103, 104, 105, 106, 107, 108, 109] },
  laneselect: { in: [new Uint32Array([0xffffffff, 0, 0x12345678, 0xaaaaaaaa]), new Uint32Array([0, 0xffffffff, 0x87654321, 0x55555555]), new Uint32Array([0xffff0000, 0x0f0f0f0f, 0, 0xffffffff])], out: Uint32Array,
    expect: [0xffff0000, 0xf0f0f0f0, 0x87654321, 0xaaaaaaaa] },
  q15: { in: [new Int16Array([-32768, 16384, -32768, 1, 0, 0, 0, 0]), new Int16Array([-32768, 16384, 32767, 1, 0, 0, 0, 0])], out: Int16Array, expect: [32767, 8192, -32767, 0, 0, 0, 0, 0] },
  dot16: { in: [new Int8Array([-128, -128, -128, -128, 127, 127, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0]), new Int8Array([-128, -128, -127, -127, 127, 127, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0])], out: Int16Array,
    expect: [-32768 /* 32768 wraps */, 32512, 32258, 11, 0, 0, 0, 0] },
  dot32: { in: [new Int8Array([-128, -128, -128, -128, -128, -128, -128, -128, 1, 2, 3, 4, 0, 0, 0, 0]), new Int8Array([-128, -128, -128, -128, -127, -127, -127, -127, 5, 6, 7, 8, 0, 0, 0, 0]), new Int32Array([1, 2, 3, 4])], out: Int32Array,
    expect: [65537, 65026, 73, 4] },
};

function runAll() {
  const { exports } = new W.Instance(new W.Module(moduleBytes()));
  const bytes = new Uint8Array(exports.memory.buffer);
  const results = {};
  for (const [name, c] of Object.entries(CASES)) {
    bytes.fill(0, 0, 64);
    c.in.forEach((array, i) => bytes.set(new Uint8Array(array.buffer), 16 * i));
    exports[name]();
    results[name] = Array.from(new c.out(exports.memory.buffer, 48, 16 / c.out.BYTES_PER_ELEMENT));
  }
  return results;
}

const CONFIGS = {
  lazy: { lazy: true, firstTier: 'baseline', tierUp: 'dynamic' },
  baseline: { lazy: false, firstTier: 'baseline', tierUp: 'off' },
  optimized: { lazy: false, firstTier: 'optimized', tierUp: 'off' },
};

test('every relaxed instruction gives its documented result, identically at every tier', () => {
  const saved = getCompileOptions();
  const byConfig = {};
  try {
    for (const [config, options] of Object.entries(CONFIGS)) {
      setCompileOptions(options);
      byConfig[config] = runAll();
    }
  } finally {
    setCompileOptions(saved);
  }
  for (const [name, c] of Object.entries(CASES)) {
    expect([name, byConfig.baseline[name]]).toEqual([name, c.expect]);
  }
  expect(byConfig.optimized).toEqual(byConfig.baseline);
  expect(byConfig.lazy).toEqual(byConfig.baseline);
});

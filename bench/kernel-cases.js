// The kernels `npm run bench` runs in its control and tiers sections (bench/kernels.wat and
// bench/simd.wat), shared with bench/node-tiers.js, which runs them on Node's own tiers.
'use strict';

const fs = require('fs');
const path = require('path');

const MiB = 1 << 20;
const kernelBytes = fs.readFileSync(path.join(__dirname, 'kernels.wasm'));
const simdBytes = fs.readFileSync(path.join(__dirname, 'simd.wasm'));

// The SIMD kernels' inputs: two arrays of 1M floats at 0 and 4 MiB, two 1 MiB byte images at 8
// and 9 MiB.
function fillSimdInputs(exports) {
  exports.fill_floats(0, MiB, 1);
  exports.fill_floats(4 * MiB, MiB, 2);
  exports.fill_bytes(8 * MiB, MiB, 3);
  exports.fill_bytes(9 * MiB, MiB, 4);
  return exports;
}

// [name, run(exports)]: `exports` are the kernels' with the SIMD kernels' as `simd`.
const KERNELS = [
  ['integer: collatz(300000)', (e) => e.collatz(300_000)],
  ['floating point: mandelbrot(400)', (e) => e.mandelbrot(400)],
  ['memory: sieve(16 MiB)', (e) => e.sieve(16 * 1024 * 1024)],
  ['memory: strided sum (4M accesses)', (e) => e.strided_sum(4_000_000, 4100)],
  ['calls: fib(30)', (e) => e.fib(30)],
  ['SIMD memory: f32 dot product (1M floats, x8)', (e) => {
    let sum = 0;
    for (let i = 0; i < 8; i++) sum += e.simd.dot(0, 4 * MiB, MiB);
    return sum;
  }],
  ['SIMD memory: 3x3 box blur (1024x1024, x4)', (e) => {
    for (let i = 0; i < 4; i++) e.simd.blur(8 * MiB, 11 * MiB, 1024, 1024);
    return e.simd.checksum(11 * MiB, MiB);
  }],
];

// The kernels' exports on namespace WA (synchronously compiled, as the options of the moment say).
function kernelExports(WA) {
  const exports = { ...new WA.Instance(new WA.Module(kernelBytes), { env: { f() {} } }).exports };
  exports.simd = fillSimdInputs(new WA.Instance(new WA.Module(simdBytes)).exports);
  return exports;
}

module.exports = { MiB, kernelBytes, simdBytes, fillSimdInputs, KERNELS, kernelExports };

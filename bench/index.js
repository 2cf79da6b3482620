#!/usr/bin/env node
// `npm run bench`: cranewasm against Node's built-in WebAssembly, measured in the same run.
//
// Each case runs on both engines in alternating rounds (so drift of the machine hits both
// alike); a case's time is the median of its rounds. The ratio is cranewasm / Node: below 1
// means cranewasm is faster. Every kernel's result must be the same on both engines, else the
// run fails. Options: --quick (fewer rounds), --markdown (print the README table).
'use strict';

const fs = require('fs');
const path = require('path');

const cranewasm = require('..');

const nodeWasm = globalThis.WebAssembly;
const QUICK = process.argv.includes('--quick');
const MARKDOWN = process.argv.includes('--markdown');
const ROUNDS = QUICK ? 3 : 7;

const kernelBytes = fs.readFileSync(path.join(__dirname, 'kernels.wasm'));
const smallBytes = fs.readFileSync(path.join(__dirname, 'small.wasm'));
const simdBytes = fs.readFileSync(path.join(__dirname, 'simd.wasm'));

// An instance of the SIMD kernels (bench/simd.wat) with its inputs generated: two arrays of
// 1M floats at 0 and 4 MiB, two 1 MiB byte images at 8 and 9 MiB.
const MiB = 1 << 20;
function simdKernels(WA) {
  const { exports } = new WA.Instance(new WA.Module(simdBytes));
  exports.fill_floats(0, MiB, 1);
  exports.fill_floats(4 * MiB, MiB, 2);
  exports.fill_bytes(8 * MiB, MiB, 3);
  exports.fill_bytes(9 * MiB, MiB, 4);
  return exports;
}

function now() {
  return process.hrtime.bigint();
}

// Instances of the kernel module, one per engine, with a no-op import.
function kernels(WA) {
  const module = new WA.Module(kernelBytes);
  return new WA.Instance(module, { env: { f() {} } }).exports;
}

// The cases: `setup(WA)` returns `run()`, which performs `ops` operations and returns a value
// that must agree between the engines.
const CASES = [
  {
    name: 'empty JS->wasm call',
    unit: 'ns/call',
    ops: 2_000_000,
    setup(WA) {
      const { nop } = kernels(WA);
      return () => {
        for (let i = 0; i < this.ops; i++) nop();
        return 0;
      };
    },
  },
  {
    name: 'wasm->JS import call',
    unit: 'ns/call',
    ops: 2_000_000,
    setup(WA) {
      const { call_import: callImport } = kernels(WA);
      return () => callImport(this.ops);
    },
  },
  {
    name: 'instantiate a small module',
    unit: 'µs/instance',
    ops: 2_000,
    setup(WA) {
      const module = new WA.Module(smallBytes);
      const imports = { env: { log() {} } };
      return () => {
        let last;
        for (let i = 0; i < this.ops; i++) last = new WA.Instance(module, imports);
        return last.exports.add(2, 3);
      };
    },
  },
  {
    name: 'integer: collatz(300000)',
    unit: 'ms',
    ops: 1,
    setup(WA) {
      const { collatz } = kernels(WA);
      return () => collatz(300_000);
    },
  },
  {
    name: 'floating point: mandelbrot(400)',
    unit: 'ms',
    ops: 1,
    setup(WA) {
      const { mandelbrot } = kernels(WA);
      return () => mandelbrot(400);
    },
  },
  {
    name: 'memory: sieve(16 MiB)',
    unit: 'ms',
    ops: 1,
    setup(WA) {
      const { sieve } = kernels(WA);
      return () => sieve(16 * 1024 * 1024);
    },
  },
  {
    name: 'memory: strided sum (4M accesses)',
    unit: 'ms',
    ops: 1,
    setup(WA) {
      const { strided_sum: stridedSum } = kernels(WA);
      return () => stridedSum(4_000_000, 4100);
    },
  },
  {
    name: 'SIMD: f32 dot product (1M floats, x8)',
    unit: 'ms',
    ops: 1,
    setup(WA) {
      const { dot } = simdKernels(WA);
      return () => {
        let sum = 0;
        for (let i = 0; i < 8; i++) sum += dot(0, 4 * MiB, MiB);
        return sum;
      };
    },
  },
  {
    name: 'SIMD: alpha blend (1 MiB of pixels, x8)',
    unit: 'ms',
    ops: 1,
    setup(WA) {
      const { blend, checksum } = simdKernels(WA);
      return () => {
        for (let i = 0; i < 8; i++) blend(8 * MiB, 9 * MiB, 10 * MiB, MiB, 32 * i + 7);
        return checksum(10 * MiB, MiB);
      };
    },
  },
  {
    name: 'SIMD: 3x3 box blur (1024x1024, x4)',
    unit: 'ms',
    ops: 1,
    setup(WA) {
      const { blur, checksum } = simdKernels(WA);
      return () => {
        for (let i = 0; i < 4; i++) blur(8 * MiB, 11 * MiB, 1024, 1024);
        return checksum(11 * MiB, MiB);
      };
    },
  },
  {
    name: 'calls: fib(30)',
    unit: 'ms',
    ops: 1,
    setup(WA) {
      const { fib } = kernels(WA);
      return () => fib(30);
    },
  },
];

const SCALE = { 'ns/call': 1, 'µs/instance': 1e3, ms: 1e6 };

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function measure(testCase) {
  const engines = [['cranewasm', cranewasm], ['node', nodeWasm]];
  const runs = engines.map(([name, WA]) => ({ name, run: testCase.setup(WA), times: [], result: undefined }));
  for (const r of runs) r.result = r.run(); // warm-up (and the result to compare)
  const [ours, theirs] = runs;
  if (typeof ours.result !== typeof theirs.result || ours.result !== theirs.result) {
    throw new Error(`${testCase.name}: cranewasm returned ${ours.result}, Node ${theirs.result}`);
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const r of round % 2 === 0 ? runs : [...runs].reverse()) {
      const start = now();
      r.run();
      r.times.push(Number(now() - start) / testCase.ops / SCALE[testCase.unit]);
    }
  }
  return { name: testCase.name, unit: testCase.unit, cranewasm: median(ours.times), node: median(theirs.times) };
}

function format(value) {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function main() {
  const rows = CASES.map(measure);
  if (MARKDOWN) {
    console.log('| case | cranewasm | Node | ratio |');
    console.log('|---|---:|---:|---:|');
    for (const r of rows) {
      console.log(`| ${r.name} | ${format(r.cranewasm)} ${r.unit} | ${format(r.node)} ${r.unit} | ${(r.cranewasm / r.node).toFixed(2)} |`);
    }
    return;
  }
  const width = Math.max(...rows.map((r) => r.name.length));
  console.log(`${'case'.padEnd(width)}  ${'cranewasm'.padStart(18)}  ${'Node'.padStart(18)}  ratio (cranewasm / Node)`);
  for (const r of rows) {
    const cell = (v) => `${format(v)} ${r.unit}`.padStart(18);
    console.log(`${r.name.padEnd(width)}  ${cell(r.cranewasm)}  ${cell(r.node)}  ${(r.cranewasm / r.node).toFixed(2)}`);
  }
  console.log(`\nmedian of ${ROUNDS} rounds each, engines alternating; Node ${process.version}, ${require('os').cpus()[0].model}`);
}

main();

#!/usr/bin/env node
// `npm run bench`: cranewasm against Node's built-in WebAssembly, measured in the same run.
//
// Each case runs on both engines in alternating rounds (so drift of the machine hits both
// alike); a case's time is the median of its rounds. The ratio is cranewasm / Node: below 1
// means cranewasm is faster. Every kernel's result must be the same on both engines, else the
// run fails. Options: --quick (fewer rounds), --markdown (print the README table), --only=<text>
// (only the cases whose name contains it, and no control section; `--only=tiers`: the tiers
// section alone).
'use strict';

const fs = require('fs');
const path = require('path');

const cranewasm = require('..');

const nodeWasm = globalThis.WebAssembly;
const QUICK = process.argv.includes('--quick');
const MARKDOWN = process.argv.includes('--markdown');
const ROUNDS = QUICK ? 3 : 7;
const ONLY = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);

const kernelBytes = fs.readFileSync(path.join(__dirname, 'kernels.wasm'));
const smallBytes = fs.readFileSync(path.join(__dirname, 'small.wasm'));
const simdBytes = fs.readFileSync(path.join(__dirname, 'simd.wasm'));
const stringsBytes = fs.readFileSync(path.join(__dirname, 'strings.wasm'));

// The string hash of bench/strings.wat: on cranewasm with the js-string builtins, on Node 20
// (which has none and ignores the option) with the spec's polyfill of the two builtins it uses.
const STRING_POLYFILL = {
  length(string) {
    if (typeof string !== 'string') throw new nodeWasm.RuntimeError();
    return string.length;
  },
  charCodeAt(string, index) {
    index >>>= 0;
    if (typeof string !== 'string') throw new nodeWasm.RuntimeError();
    if (index >= string.length) throw new nodeWasm.RuntimeError();
    return string.charCodeAt(index);
  },
};
function stringKernels(WA) {
  const module = new WA.Module(stringsBytes, { builtins: ['js-string'] });
  return new WA.Instance(module, WA === nodeWasm ? { 'wasm:js-string': STRING_POLYFILL } : {}).exports;
}

// An instance of the SIMD kernels (bench/simd.wat) with its inputs generated: two arrays of
// 1M floats at 0 and 4 MiB, two 1 MiB byte images at 8 and 9 MiB.
const MiB = 1 << 20;
function simdKernels(WA) {
  return fillSimdInputs(new WA.Instance(new WA.Module(simdBytes)).exports);
}

function fillSimdInputs(exports) {
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
    name: 'Table.prototype.get (funcref)',
    unit: 'ns/call',
    ops: 1_000_000,
    setup(WA) {
      const { nop } = kernels(WA);
      const table = new WA.Table({ element: 'anyfunc', initial: 4 });
      for (let i = 0; i < 4; i++) table.set(i, i % 2 ? nop : null);
      return () => {
        let found = 0;
        for (let i = 0; i < this.ops; i++) if (table.get(i & 3) === nop) found++;
        return found;
      };
    },
  },
  {
    name: 'Table.prototype.set (funcref)',
    unit: 'ns/call',
    ops: 1_000_000,
    setup(WA) {
      const { nop } = kernels(WA);
      const table = new WA.Table({ element: 'anyfunc', initial: 4 });
      return () => {
        for (let i = 0; i < this.ops; i++) table.set(i & 3, i & 4 ? nop : null);
        return table.get(3) === null ? 0 : 1;
      };
    },
  },
  {
    // wasm-bindgen's glue and Go's wasm_exec.js read it on every access.
    name: 'Memory.prototype.buffer',
    unit: 'ns/call',
    ops: 2_000_000,
    setup(WA) {
      const memory = new WA.Memory({ initial: 1 });
      return () => {
        let bytes = 0;
        for (let i = 0; i < this.ops; i++) bytes += memory.buffer.byteLength;
        return bytes;
      };
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
    name: 'js-string: charCodeAt hash (wasm->builtin)',
    unit: 'ns/call',
    ops: 1_000_000,
    setup(WA) {
      const { hash } = stringKernels(WA);
      const text = 'The quick brown fox jumps over the lazy dog. ☺ '.repeat(Math.ceil(this.ops / 47)).slice(0, this.ops);
      return () => hash(text);
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

// ---- Re-entry depth: wasm -> JS -> wasm, level after level, until a RangeError ---------------
//
// `g(n)` (wasm) calls the import `f(n - 1)` (JS), which calls `g` again. The depth reached is how
// many round trips fit before the engine (or V8's stack limit) throws; a crash would end the run.
const REENTRY = Buffer.from(
  '0061736d0100000001060160017f017f02090103656e760166000003020100070501016700010a14011200200045047f410005200041016b10000b0b',
  'hex',
);
function reentryDepth(WA) {
  let g;
  let deepest = 0;
  const f = (n) => {
    deepest = Math.max(deepest, 1e6 - n);
    return g(n) + 1;
  };
  g = new WA.Instance(new WA.Module(REENTRY), { env: { f } }).exports.g;
  try {
    g(1e6);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return deepest;
  }
  throw new Error('re-entry depth: no RangeError after a million levels');
}
function measureDepth() {
  return { cranewasm: median([0, 1, 2].map(() => reentryDepth(cranewasm))), node: median([0, 1, 2].map(() => reentryDepth(nodeWasm))) };
}

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

// ---- Control: what interrupt checks, deadlines and fuel cost, and how fast stops are ----------
//
// Each kernel runs in several variants of the same module, all compiled eagerly at the
// optimizing tier (the steady state the kernels reach): without interrupt checks (the reference:
// what the engine ran before it could be stopped), with them (every module's default), in a
// Sandbox with a deadline, in a Sandbox with fuel, and with bounds checks (memory accesses
// checked explicitly, the memory without a guard region, as when no guard reservation can be
// had). Ratios are against the reference, from the same rounds.

const engine = require('../engine');

const { KERNELS: CONTROL_KERNELS, kernelExports } = require('./kernel-cases');

async function controlVariants() {
  const saved = engine.getCompileOptions();
  const imports = () => ({ env: { f() {} } });
  // The kernels' and the SIMD kernels' modules, compiled with `options`.
  const compile = (options) => {
    engine.setCompileOptions({ ...saved, lazy: false, firstTier: 'optimized', ...options });
    return { kernels: new cranewasm.Module(kernelBytes), simd: new cranewasm.Module(simdBytes) };
  };
  // The kernels' exports, with the SIMD kernels' as `simd`.
  const instantiate = async (modules, sandbox) => {
    const make = async (module, imp) => (sandbox ? sandbox.instantiate(module, imp) : new cranewasm.Instance(module, imp));
    const exports = { ...(await make(modules.kernels, imports())).exports };
    exports.simd = fillSimdInputs((await make(modules.simd, {})).exports);
    return exports;
  };
  try {
    const unchecked = compile({ interruptChecks: false });
    const checked = compile({ interruptChecks: true });
    const boundsChecked = compile({ interruptChecks: true, boundsChecks: true });
    const deadline = new engine.Sandbox({ timeout: 1e9 });
    const fuel = new engine.Sandbox({ fuel: Number.MAX_SAFE_INTEGER });
    return [
      ['no interrupt checks', await instantiate(unchecked)],
      ['interrupt checks (default)', await instantiate(checked)],
      ['deadline (Sandbox timeout)', await instantiate(checked, deadline), deadline],
      ['fuel (Sandbox fuel)', await instantiate(checked, fuel), fuel],
      ['bounds checks (boundsChecks)', await instantiate(boundsChecked)],
    ];
  } finally {
    engine.setCompileOptions(saved);
  }
}

async function measureControl() {
  const variants = await controlVariants();
  const rows = [];
  for (const [name, run] of CONTROL_KERNELS) {
    const times = variants.map(() => []);
    const results = variants.map(([, e]) => run(e)); // warm-up, and the results must agree
    if (results.some((r) => r !== results[0])) throw new Error(`${name}: the variants disagree: ${results}`);
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? variants.keys() : [...variants.keys()].reverse();
      for (const i of order) {
        const [, e, sandbox] = variants[i];
        if (sandbox && sandbox.fuel < 1e12) sandbox.fuel = Number.MAX_SAFE_INTEGER;
        const start = now();
        run(e);
        times[i].push(Number(now() - start) / 1e6);
      }
    }
    rows.push({ name, medians: times.map(median) });
  }
  return { variants: variants.map(([n]) => n), rows };
}

// How long a stop takes: a Sandbox deadline's overshoot, and worker.terminate() of a worker
// spinning in wasm (on both engines).
async function measureStops() {
  const { Worker } = require('worker_threads');
  const spin = Buffer.from('0061736d0100000001040160000003020100070801047370696e00000a0901070003400c000b0b', 'hex');
  const sandbox = new engine.Sandbox({ timeout: 50 });
  const { instance } = await sandbox.instantiate(spin);
  const overshoot = [];
  for (let i = 0; i < ROUNDS; i++) {
    const start = now();
    try {
      instance.exports.spin();
    } catch {
      overshoot.push(Number(now() - start) / 1e6 - 50);
    }
  }
  const terminate = async (engineName) => {
    const source = `const { parentPort, workerData } = require('worker_threads');
      const W = ${engineName === 'node' ? 'WebAssembly' : `require(${JSON.stringify(path.join(__dirname, '..'))})`};
      const i = new W.Instance(new W.Module(workerData));
      parentPort.postMessage('go');
      i.exports.spin();`;
    const times = [];
    for (let i = 0; i < ROUNDS; i++) {
      const worker = new Worker(source, { eval: true, workerData: spin });
      await new Promise((resolve) => worker.once('message', resolve));
      await new Promise((resolve) => setTimeout(resolve, 30));
      const start = now();
      await worker.terminate();
      times.push(Number(now() - start) / 1e6);
    }
    return median(times);
  };
  return { overshoot: median(overshoot), terminate: { cranewasm: await terminate('cranewasm'), node: await terminate('node') } };
}

function printControl({ variants, rows }, stops) {
  const ratios = (r) => r.medians.slice(1).map((m) => (m / r.medians[0]).toFixed(2));
  if (MARKDOWN) {
    console.log(`\n| kernel | ${variants[0]} | ${variants.slice(1).join(' | ')} |`);
    console.log(`|---|---:|${variants.slice(1).map(() => '---:').join('|')}|`);
    for (const r of rows) console.log(`| ${r.name} | ${format(r.medians[0])} ms | ${ratios(r).join(' | ')} |`);
    console.log(`\n| stop | cranewasm | Node |\n|---|---:|---:|`);
    console.log(`| worker.terminate() of a worker spinning in wasm | ${format(stops.terminate.cranewasm)} ms | ${format(stops.terminate.node)} ms |`);
    console.log(`| Sandbox timeout of 50 ms: time past the deadline | ${format(stops.overshoot)} ms | n/a |`);
    return;
  }
  const width = Math.max(...rows.map((r) => r.name.length));
  console.log(`\nControl (every variant eager at the optimizing tier; ratios against "${variants[0]}")`);
  console.log(`${'kernel'.padEnd(width)}  ${variants[0].padStart(20)}  ${variants.slice(1).map((v) => v.padStart(30)).join('')}`);
  for (const r of rows) {
    console.log(`${r.name.padEnd(width)}  ${`${format(r.medians[0])} ms`.padStart(20)}  ${ratios(r).map((x) => x.padStart(30)).join('')}`);
  }
  console.log(`worker.terminate() of a worker spinning in wasm: cranewasm ${format(stops.terminate.cranewasm)} ms, Node ${format(stops.terminate.node)} ms`);
  console.log(`Sandbox timeout of 50 ms: ${format(stops.overshoot)} ms past the deadline`);
}

// ---- Tiers: the single-pass tier's code against the optimizing tier's ----------------------
//
// Each kernel, compiled eagerly with tier-up off, at the single-pass tier (the default first
// tier) and at the optimizing tier, in alternating rounds; the ratio is single-pass / optimized
// (issue 17's goal: at most 2, Liftoff's code being about 1.5-2x TurboFan's). Node's Liftoff and
// TurboFan code on the same kernels, each in a child process with the V8 flags that force it
// (`--liftoff-only` / `--no-liftoff`, `--no-wasm-lazy-compilation`), gives V8's own ratio.

function measureTiers() {
  const saved = engine.getCompileOptions();
  const at = (firstTier) => {
    engine.setCompileOptions({ ...saved, lazy: false, tierUp: 'off', firstTier });
    try {
      return kernelExports(cranewasm);
    } finally {
      engine.setCompileOptions(saved);
    }
  };
  const tiers = [at('singlepass'), at('optimized')];
  const nodeTier = (flag) => {
    const { execFileSync } = require('child_process');
    const stdout = execFileSync(process.execPath, [flag, '--no-wasm-lazy-compilation', path.join(__dirname, 'node-tiers.js'), String(ROUNDS)], { encoding: 'utf8' });
    return JSON.parse(stdout.trim().split('\n').pop());
  };
  const liftoff = nodeTier('--liftoff-only');
  const turbofan = nodeTier('--no-liftoff');
  const rows = [];
  CONTROL_KERNELS.forEach(([name, run], k) => {
    const results = tiers.map((e) => run(e)); // warm-up, and the results must agree
    if (results.some((r) => r !== results[0]) || liftoff[k].result !== String(results[0]) || turbofan[k].result !== String(results[0])) {
      throw new Error(`${name}: the tiers disagree: ${results}, Liftoff ${liftoff[k].result}, TurboFan ${turbofan[k].result}`);
    }
    const times = tiers.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? [0, 1] : [1, 0];
      for (const i of order) {
        const start = now();
        run(tiers[i]);
        times[i].push(Number(now() - start) / 1e6);
      }
    }
    rows.push({ name, singlepass: median(times[0]), optimized: median(times[1]), liftoff: liftoff[k].median, turbofan: turbofan[k].median });
  });
  return rows;
}

function printTiers(rows) {
  const ratio = (a, b) => (a / b).toFixed(2);
  if (MARKDOWN) {
    console.log('\n| kernel | single-pass | optimized | ratio | Liftoff | TurboFan | ratio |');
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      console.log(`| ${r.name} | ${format(r.singlepass)} ms | ${format(r.optimized)} ms | ${ratio(r.singlepass, r.optimized)} | ${format(r.liftoff)} ms | ${format(r.turbofan)} ms | ${ratio(r.liftoff, r.turbofan)} |`);
    }
    return;
  }
  const width = Math.max(...rows.map((r) => r.name.length));
  console.log('\nTiers (each kernel eager, tier-up off): cranewasm single-pass / optimized, and Node Liftoff / TurboFan');
  console.log(`${'kernel'.padEnd(width)}  ${'single-pass'.padStart(12)}  ${'optimized'.padStart(12)}  ${'ratio'.padStart(6)}  ${'Liftoff'.padStart(12)}  ${'TurboFan'.padStart(12)}  ${'ratio'.padStart(6)}`);
  for (const r of rows) {
    const ms = (v) => `${format(v)} ms`.padStart(12);
    console.log(`${r.name.padEnd(width)}  ${ms(r.singlepass)}  ${ms(r.optimized)}  ${ratio(r.singlepass, r.optimized).padStart(6)}  ${ms(r.liftoff)}  ${ms(r.turbofan)}  ${ratio(r.liftoff, r.turbofan).padStart(6)}`);
  }
}

async function main() {
  const rows = CASES.filter((c) => ONLY === undefined || c.name.includes(ONLY)).map(measure);
  const depth = ONLY === undefined || 're-entry depth'.includes(ONLY) ? measureDepth() : undefined;
  const tiers = ONLY === undefined || 'tiers'.includes(ONLY) ? measureTiers() : undefined;
  const control = ONLY === undefined ? await measureControl() : undefined;
  const stops = ONLY === undefined ? await measureStops() : undefined;
  if (MARKDOWN) {
    console.log('| case | cranewasm | Node | ratio |');
    console.log('|---|---:|---:|---:|');
    for (const r of rows) {
      console.log(`| ${r.name} | ${format(r.cranewasm)} ${r.unit} | ${format(r.node)} ${r.unit} | ${(r.cranewasm / r.node).toFixed(2)} |`);
    }
    if (depth) console.log(`| wasm->JS->wasm re-entry depth (levels before RangeError) | ${depth.cranewasm} | ${depth.node} | ${(depth.cranewasm / depth.node).toFixed(2)} |`);
    if (tiers) printTiers(tiers);
    if (control) printControl(control, stops);
    return;
  }
  const width = Math.max(...rows.map((r) => r.name.length));
  console.log(`${'case'.padEnd(width)}  ${'cranewasm'.padStart(18)}  ${'Node'.padStart(18)}  ratio (cranewasm / Node)`);
  for (const r of rows) {
    const cell = (v) => `${format(v)} ${r.unit}`.padStart(18);
    console.log(`${r.name.padEnd(width)}  ${cell(r.cranewasm)}  ${cell(r.node)}  ${(r.cranewasm / r.node).toFixed(2)}`);
  }
  if (depth) {
    const name = 're-entry depth (wasm->JS->wasm levels)';
    console.log(`${name.padEnd(width)}  ${`${depth.cranewasm}`.padStart(18)}  ${`${depth.node}`.padStart(18)}  ${(depth.cranewasm / depth.node).toFixed(2)} (higher is deeper)`);
  }
  if (tiers) printTiers(tiers);
  if (control) printControl(control, stops);
  console.log(`\nmedian of ${ROUNDS} rounds each, engines alternating; Node ${process.version}, ${require('os').cpus()[0].model}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

'use strict';
// wasm -> JS -> wasm recursion (a wasm function calling a JS import that calls the wasm function
// again, as Emscripten's invoke_* wrappers do at every level of C++ code that may throw): it goes
// deep (the binding lowers V8's stack limit while wasm runs, see src/stack_limit.rs), ends in a
// RangeError as on Node's engine (never a crash), and leaves V8's limit as it found it. On a main
// thread with the usual 8 MiB stack it goes at least as deep as Node's own engine.

const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const cranewasm = require('..');

const node = globalThis.WebAssembly;

// (func (export "g") (param i32) (result i32) n == 0 ? 0 : f(n - 1)), f imported from "env".
const REENTRY = Buffer.from(
  '0061736d0100000001060160017f017f02090103656e760166000003020100070501016700010a14011200200045047f410005200041016b10000b0b',
  'hex',
);

// The deepest level reached, and what ended the recursion.
function reentry(W, levels) {
  let g;
  let deepest = 0;
  const f = (n) => {
    deepest = Math.max(deepest, levels - n);
    return g(n) + 1;
  };
  g = new W.Instance(new W.Module(REENTRY), { env: { f } }).exports.g;
  try {
    return { deepest, value: g(levels), g };
  } catch (err) {
    return { deepest, threw: err.constructor.name, message: err.message, g };
  }
}

function jsDepth() {
  let depth = 0;
  const recurse = () => {
    depth++;
    recurse();
  };
  try {
    recurse();
  } catch {
    // RangeError
  }
  return depth;
}

test('recursion through JS imports goes at least 1,500 levels deep, and further is a RangeError as in Node', () => {
  const ours = reentry(cranewasm, 1e6);
  const theirs = reentry(node, 1e6);
  expect(ours.threw).toBe('RangeError');
  expect(ours.threw).toBe(theirs.threw);
  expect(ours.message).toBe(theirs.message);
  expect(ours.deepest).toBeGreaterThanOrEqual(1500);
  // The instance works on, at any depth it reached.
  expect(ours.g(ours.deepest - 100)).toBe(ours.deepest - 100);
  expect(reentry(cranewasm, 1000)).toMatchObject({ value: 1000 });
});

// The soft limit of the main thread's stack (RLIMIT_STACK), in bytes: Infinity when unlimited or
// not known.
function mainStackLimit() {
  try {
    const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max stack size'));
    const soft = line.split(/\s{2,}/)[1];
    return soft === 'unlimited' ? Infinity : Number(soft);
  } catch {
    return Infinity;
  }
}

// Node's wasm stays in generated code (about 290 bytes a level within V8's 984 KB budget);
// cranewasm's levels are about 2.3 KB (V8's Function::Call and API callback frames are 1.6 KB of
// it), and reach as deep because they may use the main thread's whole stack (src/stack_limit.rs).
// So the claim holds for the usual 8 MiB main-thread stack, not for smaller ones.
(mainStackLimit() >= 8 * 1024 * 1024 ? test : test.skip)(
  'recursion through JS imports goes at least as deep as on Node\'s engine, in the same process',
  () => {
    const depths = { ours: [], theirs: [] };
    for (let i = 0; i < 3; i++) {
      for (const [name, W] of [['ours', cranewasm], ['theirs', node]]) {
        const outcome = reentry(W, 1e6);
        expect(outcome.threw).toBe('RangeError');
        depths[name].push(outcome.deepest);
      }
    }
    const median = (values) => values.sort((a, b) => a - b)[1];
    expect(median(depths.ours)).toBeGreaterThanOrEqual(median(depths.theirs));
  },
);

describe.each([
  ["V8's API (default)", '1'],
  ['Node-API (CRANEWASM_V8_CALLS=0)', '0'],
])('deep recursion through %s', (_, value) => {
  // helpers/deep-recursion-driver.js, in a fresh process (the setting is read once per process):
  // wasm calling itself, wasm -> JS -> wasm, JS recursing inside an import, wasm recursing under
  // re-entry; on the main thread and in Workers with 0.5 MB, 1 MB and the default 4 MB stacks.
  const run = () => {
    const out = spawnSync(process.execPath, [path.join(__dirname, 'helpers', 'deep-recursion-driver.js')], {
      env: { ...process.env, CRANEWASM_V8_CALLS: value },
      encoding: 'utf8',
      timeout: 120000,
    });
    // A crash is a signal or an abort's status, never a report.
    expect({ status: out.status, signal: out.signal, stderr: out.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    return JSON.parse(out.stdout);
  };

  test('ends in a RangeError in every combination, as on Node\'s engine, and never crashes', () => {
    const report = run();
    expect(Object.keys(report)).toEqual([
      'main',
      'worker, stackSizeMb 0.5',
      'worker, stackSizeMb 1',
      'worker, stackSizeMb default (4)',
    ]);
    for (const [where, scenarios] of Object.entries(report)) {
      expect(Object.keys(scenarios)).toEqual(['wasm', 'reentry', 'jsInImport', 'wasmUnderReentry']);
      for (const [name, { ours, theirs }] of Object.entries(scenarios)) {
        expect({ where, name, threw: ours.threw }).toEqual({ where, name, threw: 'RangeError' });
        expect({ where, name, threw: theirs.threw }).toEqual({ where, name, threw: 'RangeError' });
      }
      // Every stack has room for some recursion through imports.
      expect(scenarios.reentry.ours.deepest).toBeGreaterThan(50);
    }
    expect(report.main.reentry.ours.deepest).toBeGreaterThanOrEqual(1500);
    if (value === '1' && mainStackLimit() >= 8 * 1024 * 1024) {
      expect(report.main.reentry.ours.deepest).toBeGreaterThanOrEqual(report.main.reentry.theirs.deepest);
    }
  });
});

test('V8\'s stack limit is put back when the outermost call returns', () => {
  const before = jsDepth();
  for (let i = 0; i < 3; i++) expect(reentry(cranewasm, 1e6).threw).toBe('RangeError');
  const after = jsDepth();
  // Found to within a few hundred bytes (a few JS frames).
  expect(Math.abs(after - before)).toBeLessThan(before / 100);
});

test('in a Worker (a 4 MB stack) too', async () => {
  const { Worker } = require('worker_threads');
  const source = `
    const { parentPort, workerData } = require('worker_threads');
    const W = require(workerData.root);
    let g, deepest = 0;
    const f = (n) => { deepest = Math.max(deepest, 1e6 - n); return g(n) + 1; };
    g = new W.Instance(new W.Module(workerData.bytes), { env: { f } }).exports.g;
    let threw;
    try { g(1e6); } catch (err) { threw = err.constructor.name; }
    parentPort.postMessage({ deepest, threw, again: g(100) });`;
  const worker = new Worker(source, { eval: true, workerData: { root: path.resolve(__dirname, '..'), bytes: REENTRY } });
  const report = await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  expect(report.threw).toBe('RangeError');
  expect(report.deepest).toBeGreaterThanOrEqual(500);
  expect(report.again).toBe(100);
});

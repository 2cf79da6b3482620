'use strict';
// wasm -> JS -> wasm recursion (a wasm function calling a JS import that calls the wasm function
// again, as Emscripten's invoke_* wrappers do at every level of C++ code that may throw): it goes
// deep (the binding lowers V8's stack limit while wasm runs, see src/stack_limit.rs), ends in a
// RangeError as on Node's engine (never a crash), and leaves V8's limit as it found it.

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

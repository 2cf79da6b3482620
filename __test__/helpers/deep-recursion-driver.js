// Child process of reentry-depth.test.js: deep recursion in every combination, on cranewasm and
// on Node's WebAssembly, on the main thread and in Workers with small stacks
// (resourceLimits.stackSizeMb), printing one line of JSON:
//
//   { "<where>": { "<scenario>": { ours: { threw, deepest }, theirs: { threw, deepest } } } }
//
// The test runs it with CRANEWASM_V8_CALLS=1 (V8's API) and =0 (Node-API): the setting is read
// once per process. A crash (a signal, an abort) shows as the child's exit status, not as JSON.
'use strict';

const path = require('path');
const { Worker } = require('worker_threads');

const root = path.join(__dirname, '..', '..');

// (func (export "g") (param i32) (result i32) n == 0 ? 0 : f(n - 1)), f imported from "env".
const REENTRY = '0061736d0100000001060160017f017f02090103656e760166000003020100070501016700010a14011200200045047f410005200041016b10000b0b';

// The scenarios, as source run on the main thread and inside Workers. Each ends in an exception
// (a RangeError on both engines) and reports its class and the deepest level reached.
const SCENARIOS = String.raw`
function scenarios(W, wat) {
  const bytes = (hex) => Buffer.from(hex, 'hex');
  const outcome = (body) => {
    const state = { deepest: 0 };
    try {
      body(state);
      return { threw: null, deepest: state.deepest };
    } catch (err) {
      return { threw: err && err.constructor && err.constructor.name, deepest: state.deepest };
    }
  };
  return {
    // A wasm function calling itself.
    wasm: outcome((state) => {
      const { r } = new W.Instance(new W.Module(wat.recurse)).exports;
      r(1e9);
    }),
    // wasm -> JS -> wasm -> ...
    reentry: outcome((state) => {
      let g;
      const f = (n) => {
        state.deepest = Math.max(state.deepest, 1e6 - n);
        return g(n) + 1;
      };
      g = new W.Instance(new W.Module(bytes(wat.reentry)), { env: { f } }).exports.g;
      g(1e6);
    }),
    // An import recursing in JS, its RangeError thrown through wasm.
    jsInImport: outcome((state) => {
      const deep = (n) => {
        state.deepest = Math.max(state.deepest, n);
        return deep(n + 1) + 1;
      };
      const { call } = new W.Instance(new W.Module(wat.callImport), { env: { f: () => deep(0) } }).exports;
      call();
    }),
    // wasm -> JS -> wasm 200 levels deep, then a wasm function calling itself from there.
    wasmUnderReentry: outcome((state) => {
      const { r } = new W.Instance(new W.Module(wat.recurse)).exports;
      let g;
      const f = (n) => {
        state.deepest = Math.max(state.deepest, 200 - n);
        return n === 0 ? r(1e9) : g(n) + 1;
      };
      g = new W.Instance(new W.Module(bytes(wat.reentry)), { env: { f } }).exports.g;
      g(200);
    }),
  };
}
`;

const WORKER = `${SCENARIOS}
const { parentPort, workerData } = require('worker_threads');
const W = workerData.engine === 'ours' ? require(workerData.root) : WebAssembly;
parentPort.postMessage(scenarios(W, workerData.wat));
`;

async function main() {
  const wabt = await require('wabt')();
  const binary = (text) => {
    const parsed = wabt.parseWat('test.wat', text);
    try {
      parsed.resolveNames();
      parsed.validate();
      return Buffer.from(parsed.toBinary({}).buffer);
    } finally {
      parsed.destroy();
    }
  };
  const wat = {
    reentry: REENTRY,
    recurse: binary(`(module (func $r (export "r") (param i32) (result i32)
      (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
        (else (i32.add (call $r (i32.sub (local.get 0) (i32.const 1))) (i32.const 1))))))`),
    callImport: binary(`(module (import "env" "f" (func $f (result i32)))
      (func (export "call") (result i32) (i32.add (call $f) (i32.const 1))))`),
  };
  // eslint-disable-next-line no-new-func
  const scenarios = new Function(`${SCENARIOS}; return scenarios;`)();
  const cranewasm = require(root);
  const report = {};
  const pair = (ours, theirs) => {
    const both = {};
    for (const name of Object.keys(ours)) both[name] = { ours: ours[name], theirs: theirs[name] };
    return both;
  };
  report.main = pair(scenarios(cranewasm, wat), scenarios(globalThis.WebAssembly, wat));
  const inWorker = (engine, stackSizeMb) =>
    new Promise((resolve, reject) => {
      const worker = new Worker(WORKER, {
        eval: true,
        workerData: { root, engine, wat },
        resourceLimits: stackSizeMb ? { stackSizeMb } : undefined,
      });
      worker.once('message', (message) => {
        worker.terminate().then(() => resolve(message), reject);
      });
      worker.once('error', reject);
    });
  for (const stackSizeMb of [0.5, 1, undefined]) {
    const ours = await inWorker('ours', stackSizeMb);
    const theirs = await inWorker('theirs', stackSizeMb);
    report[`worker, stackSizeMb ${stackSizeMb ?? 'default (4)'}`] = pair(ours, theirs);
  }
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack}\n`);
  process.exit(1);
});

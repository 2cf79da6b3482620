// Scenarios of Node's own stop mechanisms (issue 12, point 2), each run in a fresh process by
// __test__/control.test.js on cranewasm or on Node's built-in WebAssembly:
//
//   node control-driver.js <scenario> <cranewasm|node> [kind]
//
// prints one line of JSON. Modules come from the text format (wabt, on Node's engine) and
// reach workers as bytes.
'use strict';

const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');
const path = require('path');
const vm = require('vm');

const root = path.join(__dirname, '..', '..');

function engine(name) {
  return name === 'node' ? globalThis.WebAssembly : require(root);
}

// Modules that keep a thread busy in wasm, by the kind of code they spend their time in. Each
// exports `spin` (never returns on its own) and `ok` (returns 42).
const SPINNERS = {
  // A loop: interrupted at its header.
  loop: '(func (export "spin") (loop $l (br $l)))',
  // Recursion without any loop: only function entries check (fib(60) takes hours).
  recursion: `(func $fib (export "spin") (param i32) (result i32)
      (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
        (then (local.get 0))
        (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                       (call $fib (i32.sub (local.get 0) (i32.const 2)))))))`,
  // A loop that calls a JS import each iteration.
  import: `(import "env" "tick" (func $tick))
    (func (export "spin") (loop $l (call $tick) (br $l)))`,
  // Wasm that calls a JS import which itself never returns.
  jsloop: `(import "env" "forever" (func $forever))
    (func (export "spin") (call $forever))`,
  // Bulk operations over 64 MiB in a loop.
  bulk: `(memory 1024)
    (func (export "spin") (loop $l (memory.fill (i32.const 0) (i32.const 1) (i32.const 67108864))
                                  (memory.copy (i32.const 1) (i32.const 0) (i32.const 67108863))
                                  (br $l)))`,
  // A start function that never returns: instantiation itself spins.
  start: '(func $s (loop $l (br $l))) (start $s)',
};

function spinnerText(kind) {
  return `(module ${SPINNERS[kind]} (func (export "ok") (result i32) (i32.const 42)))`;
}

function imports() {
  return {
    env: {
      tick() {},
      forever() {
        for (;;) { /* JS that never returns */ }
      },
    },
  };
}

async function assemble(text) {
  const wabt = await require('wabt')();
  const parsed = wabt.parseWat('spin.wat', text, { bulk_memory: true });
  return parsed.toBinary({}).buffer;
}

// A fresh instance of the `ok` module, to check that the engine still works.
async function healthy(W) {
  const bytes = await assemble('(module (func (export "ok") (result i32) (i32.const 42)))');
  const { instance } = await W.instantiate(bytes);
  return instance.exports.ok();
}

// In a worker: instantiate the spinner and spin (after telling the parent).
async function spinInWorker() {
  const { engineName, bytes, kind } = workerData;
  const W = engine(engineName);
  const module = new W.Module(bytes);
  parentPort.postMessage('ready');
  const instance = new W.Instance(module, imports());
  instance.exports.spin(60);
  parentPort.postMessage('returned');
}

function startSpinner(engineName, bytes, kind) {
  const worker = new Worker(__filename, { workerData: { engineName, bytes, kind } });
  const ready = new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { worker, ready };
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const scenarios = {
  // worker.terminate() of a worker spinning in wasm; then the process still works, and a new
  // worker runs wasm too.
  async terminate(engineName, kind) {
    const W = engine(engineName);
    const bytes = await assemble(spinnerText(kind));
    const { worker, ready } = startSpinner(engineName, bytes, kind);
    await ready;
    await sleep(100);
    const start = process.hrtime.bigint();
    const exitCode = await worker.terminate();
    const terminateMs = Number(process.hrtime.bigint() - start) / 1e6;
    const second = new Worker(
      `const { parentPort } = require('worker_threads');
       const W = ${engineName === 'node' ? 'WebAssembly' : `require(${JSON.stringify(root)})`};
       W.instantiate(new Uint8Array(${JSON.stringify([...new Uint8Array(await assemble('(module (func (export "ok") (result i32) (i32.const 42)))'))])}))
         .then(({ instance }) => parentPort.postMessage(instance.exports.ok()));`,
      { eval: true },
    );
    const fromSecond = await new Promise((resolve) => second.once('message', resolve));
    await second.terminate();
    return { exitCode, terminateMs, after: await healthy(W), secondWorker: fromSecond, kind };
  },

  // process.exit(3) from the main thread while a worker spins in wasm: the process exits with 3.
  async exit(engineName, kind) {
    const bytes = await assemble(spinnerText(kind));
    const { ready } = startSpinner(engineName, bytes, kind);
    await ready;
    await sleep(100);
    process.stdout.write(`${JSON.stringify({ exiting: process.hrtime.bigint().toString() })}\n`);
    process.exit(3);
  },

  // vm's { timeout } stops wasm that the script calls; the instance works afterwards.
  async vmTimeout(engineName, kind) {
    const W = engine(engineName);
    const { instance } = await W.instantiate(await assemble(spinnerText(kind)), imports());
    const results = [];
    for (const timeout of [200, 50]) {
      const start = process.hrtime.bigint();
      let error;
      try {
        vm.runInNewContext('spin(60)', { spin: instance.exports.spin }, { timeout });
      } catch (err) {
        error = { code: err.code, message: err.message };
      }
      results.push({ timeout, error, elapsedMs: Number(process.hrtime.bigint() - start) / 1e6 });
    }
    return { results, after: instance.exports.ok(), fresh: await healthy(W) };
  },

  // SIGINT while a script run with { breakOnSigint: true } spins in wasm.
  async sigint(engineName, kind) {
    const W = engine(engineName);
    const { instance } = await W.instantiate(await assemble(spinnerText(kind)), imports());
    globalThis.spin = instance.exports.spin;
    // The signal comes from another process, while the script runs.
    require('child_process').exec(`sleep 0.2; kill -INT ${process.pid}`);
    const start = process.hrtime.bigint();
    let error;
    try {
      vm.runInThisContext('spin(60)', { breakOnSigint: true });
    } catch (err) {
      error = { code: err.code, message: err.message };
    }
    const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
    return { error, elapsedMs, after: instance.exports.ok() };
  },
};

if (isMainThread) {
  const [scenario, engineName, kind = 'loop'] = process.argv.slice(2);
  scenarios[scenario](engineName, kind).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (err) => {
      process.stdout.write(`${JSON.stringify({ error: String(err && err.stack) })}\n`);
      process.exitCode = 1;
    },
  );
} else {
  spinInWorker();
}

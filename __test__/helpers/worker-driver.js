// Run by workers.test.js in a child process: registers cranewasm (unless told not to), then
// starts Workers of every kind and prints, as one JSON line, what each of them sees: whether
// its `WebAssembly` is cranewasm's (registered: Node's namespace kept under the symbol, and a
// Module that is not of Node's engine) and the result of running a module there.
'use strict';

const path = require('path');
const fs = require('fs');
const os = require('os');

const mode = process.argv[2] || 'register';
if (mode !== 'none') require('../../register.js');
const { Worker } = require('worker_threads');

// What a worker reports: `engine` is 'cranewasm' or 'node'.
const PROBE = `
  const { parentPort, Worker: W } = require('worker_threads');
  function probe() {
    const original = globalThis[Symbol.for('cranewasm.originalWebAssembly')];
    const registered = original !== undefined && original !== WebAssembly;
    // (module (func (export "f") (result i32) i32.const 42))
    const bytes = new Uint8Array([0,97,115,109,1,0,0,0,1,5,1,96,0,1,127,3,2,1,0,7,5,1,1,102,0,0,10,6,1,4,0,65,42,11]);
    const module = new WebAssembly.Module(bytes);
    const ofNode = registered ? module instanceof original.Module : true;
    const result = new WebAssembly.Instance(module).exports.f();
    return { engine: registered && !ofNode ? 'cranewasm' : (!registered && ofNode ? 'node' : 'mixed'), result };
  }
`;

function run(source, options, kind) {
  return new Promise((resolve) => {
    const worker = new Worker(source, options);
    worker.once('message', (m) => { resolve({ kind, ...m }); worker.terminate(); });
    worker.once('error', (err) => resolve({ kind, error: String(err && err.stack) }));
  });
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cranewasm-workers-'));
  const cjs = path.join(dir, 'worker.js');
  fs.writeFileSync(cjs, `${PROBE}\nparentPort.postMessage(probe());\n`);
  const esm = path.join(dir, 'worker.mjs');
  fs.writeFileSync(esm, `import { createRequire } from 'module';\nconst require = createRequire(import.meta.url);\n${PROBE}\nparentPort.postMessage(probe());\n`);
  // A worker that starts a worker of its own and reports what that one sees.
  const nested = `${PROBE}
    const inner = new W(${JSON.stringify(`${PROBE}\nparentPort.postMessage(probe());`)}, { eval: true });
    inner.once('message', (m) => { parentPort.postMessage(m); inner.terminate(); });
    inner.once('error', (e) => parentPort.postMessage({ error: String(e) }));`;

  const results = await Promise.all([
    run(`${PROBE}\nparentPort.postMessage(probe());`, { eval: true }, 'eval'),
    run(cjs, undefined, 'file'),
    run(esm, undefined, 'esm'),
    run(new URL(`file://${esm}`), {}, 'url'),
    run(cjs, { execArgv: ['--no-warnings', '--no-deprecation'] }, 'own execArgv'),
    run(cjs, { execArgv: [] }, 'empty execArgv'),
    run(nested, { eval: true }, 'nested'),
  ]);
  // The main thread, for comparison.
  const original = globalThis[Symbol.for('cranewasm.originalWebAssembly')];
  const mainModule = new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
  const mainEngine = original !== undefined && !(mainModule instanceof original.Module) ? 'cranewasm' : 'node';
  fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify({ main: mainEngine, results })}\n`);
}

main();

// `require('cranewasm/register')`: makes cranewasm the process's `WebAssembly`, so that code
// written against the global (and libraries that use it) runs on cranewasm, in this thread and in
// the Worker threads created after it (unless CRANEWASM_REGISTER_WORKERS=0). Exports the namespace.
'use strict';

const WebAssembly = require('./index.js');
const environment = require('./environment.js');

// Where Node's own namespace stays reachable. A registered symbol on globalThis rather than a
// property of the namespace, whose own keys must stay exactly the standard ones; and kept on
// the first registration only, so that it is Node's even if several copies of cranewasm register.
const ORIGINAL = Symbol.for('cranewasm.originalWebAssembly');

if (!Object.prototype.hasOwnProperty.call(globalThis, ORIGINAL)) {
  Object.defineProperty(globalThis, ORIGINAL, {
    value: globalThis.WebAssembly, writable: false, enumerable: false, configurable: true,
  });
}

// The attributes of Node's own global (those of every namespace object in the global scope).
Object.defineProperty(globalThis, 'WebAssembly', {
  value: WebAssembly, writable: true, enumerable: false, configurable: true,
});

// Worker threads: each has its own globals, so the registration must run there too. Workers are
// given `--require <this file>` in their execArgv (ahead of the user's own execArgv, or of this
// thread's, which they inherit by default): it runs before the worker's code whatever that is (a
// file, an ES module, `eval: true` source) and, registering there, reaches the workers they
// create in turn. This takes a subclass of `Worker` installed as worker_threads' export (and, for
// `import { Worker } from 'worker_threads'`, synced into the ES module), so it applies to Workers
// constructed through `worker_threads.Worker` looked up after the registration.
const WORKERS_PATCHED = Symbol.for('cranewasm.registersWorkers');

function withRegistration(options) {
  const given = options === undefined || options === null ? {} : options;
  if (typeof given !== 'object') return options; // Worker's own argument check reports it
  const execArgv = given.execArgv === undefined ? process.execArgv : given.execArgv;
  if (!Array.isArray(execArgv)) return options;
  const registered = execArgv.some((arg, i) => (arg === __filename && /^(-r|--require)$/.test(execArgv[i - 1] || ''))
    || arg === `--require=${__filename}`);
  if (registered) return options;
  return { ...given, execArgv: ['--require', __filename, ...execArgv] };
}

function registerWorkers() {
  const workerThreads = require('worker_threads');
  const Original = workerThreads.Worker;
  if (typeof Original !== 'function' || Original[WORKERS_PATCHED]) return;
  const Worker = {
    Worker: class extends Original {
      constructor(filename, options) {
        super(filename, withRegistration(options));
      }
    },
  }.Worker;
  Object.defineProperty(Worker, WORKERS_PATCHED, { value: true });
  workerThreads.Worker = Worker;
  require('module').syncBuiltinESMExports();
}

if (environment.read('CRANEWASM_REGISTER_WORKERS') !== false) registerWorkers();

module.exports = WebAssembly;

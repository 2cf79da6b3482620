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

// Module and shared Memory objects cross threads as V8's do (postMessage, workerData,
// structuredClone): clone.js.
const clone = require('./clone.js');
clone.install();

// Worker threads: each has its own globals, so the registration must run there too. Workers are
// given `--require <this file>` in their execArgv (ahead of the user's own execArgv, or of this
// thread's, which they inherit by default): it runs before the worker's code whatever that is (a
// file, an ES module, `eval: true` source) and, registering there, reaches the workers they
// create in turn. This takes a subclass of `Worker` installed as worker_threads' export (and, for
// `import { Worker } from 'worker_threads'`, synced into the ES module), so it applies to Workers
// constructed through `worker_threads.Worker` looked up after the registration.
//
// A worker that inherits its execArgv accepts every flag of this thread, but given explicitly,
// Node refuses those that act on the whole process (V8's, such as --max-old-space-size or
// --expose-gc, and --title): they are left out (the worker has them anyway, being in the same
// process), as the first refusal names them; and a Worker that still cannot be made so is made
// as without the registration, with a warning.
const WORKERS_PATCHED = Symbol.for('cranewasm.registersWorkers');
const refusedFlags = new Set(); // flags of process.execArgv that Workers refuse explicitly

function isRegistration(execArgv) {
  return execArgv.some((arg, i) => (arg === __filename && /^(-r|--require)$/.test(execArgv[i - 1] || ''))
    || arg === `--require=${__filename}` || arg === `-r=${__filename}`);
}

// The options of a registering Worker, or undefined to leave `options` as they are.
function withRegistration(options) {
  const given = options === undefined || options === null ? {} : options;
  if (typeof given !== 'object') return undefined; // Worker's own argument check reports it
  const inherited = given.execArgv === undefined;
  const execArgv = inherited ? process.execArgv.filter((arg) => !refusedFlags.has(arg)) : given.execArgv;
  if (!Array.isArray(execArgv) || isRegistration(execArgv)) return undefined;
  return { options: { ...given, execArgv: ['--require', __filename, ...execArgv] }, inherited };
}

// The flags an ERR_WORKER_INVALID_EXEC_ARGV names ("Initiated Worker with invalid execArgv
// flags: --a, --b=1").
function namedFlags(err) {
  const list = `${err && err.message}`.split('flags: ')[1];
  return list === undefined ? [] : list.split(', ').filter((flag) => process.execArgv.includes(flag));
}

function registerWorkers() {
  const workerThreads = require('worker_threads');
  const Original = workerThreads.Worker;
  if (typeof Original !== 'function' || Original[WORKERS_PATCHED]) return;
  const Worker = {
    Worker: class extends Original {
      constructor(filename, givenOptions) {
        const options = clone.workerOptions(givenOptions);
        let registered = withRegistration(options);
        if (registered === undefined) {
          super(filename, options);
          return;
        }
        try {
          super(filename, registered.options);
          return;
        } catch (err) {
          const refused = registered.inherited && err && err.code === 'ERR_WORKER_INVALID_EXEC_ARGV' ? namedFlags(err) : [];
          if (refused.length === 0) throw err;
          for (const flag of refused) refusedFlags.add(flag);
        }
        registered = withRegistration(options);
        if (registered === undefined) {
          super(filename, options);
          return;
        }
        try {
          super(filename, registered.options);
          return;
        } catch (err) {
          if (!(err && err.code === 'ERR_WORKER_INVALID_EXEC_ARGV')) throw err;
          process.emitWarning(`cranewasm/register could not reach a Worker (${err.message}); it uses Node's engine`);
        }
        super(filename, options);
      }
    },
  }.Worker;
  Object.defineProperty(Worker, WORKERS_PATCHED, { value: true });
  workerThreads.Worker = Worker;
  require('module').syncBuiltinESMExports();
}

if (environment.read('CRANEWASM_REGISTER_WORKERS') !== false) registerWorkers();

// node:wasi takes only V8's Memory objects: its WASI becomes cranewasm/wasi's (same API), for
// `require('node:wasi')` and `import { WASI } from 'node:wasi'` alike. Loading node:wasi here
// would print Node's "WASI is an experimental feature" warning in every registered process,
// whether it uses WASI or not: that one warning is left out.
function registerWasi() {
  const WASI_PATCHED = Symbol.for('cranewasm.registersWasi');
  const emitWarning = process.emitWarning;
  let nodeWasi;
  process.emitWarning = function filtered(warning, ...rest) {
    if (`${warning && warning.message ? warning.message : warning}`.startsWith('WASI is an experimental feature')) return undefined;
    return emitWarning.call(this, warning, ...rest);
  };
  try {
    nodeWasi = require('wasi');
  } catch {
    return; // a Node without node:wasi
  } finally {
    process.emitWarning = emitWarning;
  }
  if (nodeWasi[WASI_PATCHED]) return;
  nodeWasi.WASI = require('./wasi.js').WASI;
  Object.defineProperty(nodeWasi, WASI_PATCHED, { value: true });
  require('module').syncBuiltinESMExports();
}

registerWasi();

module.exports = WebAssembly;

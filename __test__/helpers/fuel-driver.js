// Fuel determinism (issue 12, point 5): prints the fuel each call consumed, for the process's
// compile options (set by the caller through CRANEWASM_* variables), so that runs under
// different tiers and compile modes can be compared.
//
//   node fuel-driver.js kernels|hash-wasm
'use strict';

const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..', '..');
const cranewasm = require(root);
const { Sandbox } = require(path.join(root, 'engine'));

// The fuel `run()` consumes in `sandbox`, and its result.
async function measure(sandbox, run) {
  sandbox.fuel = 1e15;
  const result = await run();
  return { result: String(result), fuel: 1e15 - sandbox.fuel };
}

const workloads = {
  // The benchmark kernels (bench/kernels.wat), each called repeatedly so that dynamic tier-up
  // swaps code in the middle of the run: every call must consume the same fuel.
  async kernels() {
    const sandbox = new Sandbox({ fuel: 0 });
    const bytes = fs.readFileSync(path.join(root, 'bench', 'kernels.wasm'));
    const { instance } = await sandbox.instantiate(bytes, { env: { f() {} } });
    const e = instance.exports;
    const calls = {
      collatz: () => e.collatz(2000),
      mandelbrot: () => e.mandelbrot(40),
      sieve: () => e.sieve(100000),
      strided: () => e.strided_sum(20000, 4100),
      fib: () => e.fib(18),
      callImport: () => e.call_import(1000),
    };
    const out = {};
    for (const [name, run] of Object.entries(calls)) {
      const seen = [];
      for (let i = 0; i < 40; i++) seen.push(await measure(sandbox, run));
      out[name] = seen;
    }
    return out;
  },

  // hash-wasm (clang-built hashers, a real package): its own glue compiles and instantiates
  // through `WebAssembly`, which here instantiates in the sandbox.
  async 'hash-wasm'() {
    const sandbox = new Sandbox({ fuel: 1e15 });
    globalThis.WebAssembly = {
      ...cranewasm,
      Module: cranewasm.Module,
      Instance: cranewasm.Instance,
      instantiate: (source, imports) => sandbox.instantiate(source, imports),
    };
    const hashWasm = require('hash-wasm');
    const data = Buffer.alloc(200000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff;
    const out = {};
    for (const name of ['md5', 'sha1', 'sha256', 'sha512', 'xxhash64', 'blake3', 'crc32']) {
      const seen = [];
      for (let i = 0; i < 10; i++) seen.push(await measure(sandbox, () => hashWasm[name](data)));
      out[name] = seen;
    }
    return out;
  },
};

workloads[process.argv[2]]().then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (err) => {
    process.stdout.write(`${JSON.stringify({ error: String(err && err.stack) })}\n`);
    process.exitCode = 1;
  },
);

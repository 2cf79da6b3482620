#!/usr/bin/env node
// The cranewasm command line: `cranewasm run [file.wasm] [export] [args…]` compiles a module
// with cranewasm, instantiates it, calls one export and prints the result with the time spent
// in each step. With no file it runs the bundled example (examples/fib.wasm).
'use strict';

const fs = require('fs');
const path = require('path');
const { performance } = require('perf_hooks');

const USAGE = `usage:
  cranewasm run [file.wasm] [export] [args…]   compile, instantiate and call an export
  cranewasm validate file.wasm                 check a module without compiling it
Arguments are numbers; write a BigInt (for i64 parameters) with a trailing n, e.g. 42n.`;

const EXAMPLE = path.join(__dirname, '..', 'examples', 'fib.wasm');

function parseArg(text) {
  if (/^-?\d+n$/.test(text)) return BigInt(text.slice(0, -1));
  const n = Number(text);
  if (Number.isNaN(n) && text !== 'NaN') throw new Error(`not a number: ${text}`);
  return n;
}

function ms(start) {
  return `${(performance.now() - start).toFixed(2)} ms`;
}

async function run(argv) {
  const WebAssembly = require('..');
  const file = argv[0] || EXAMPLE;
  const exportName = argv[1] || (argv[0] ? undefined : 'fib');
  const args = argv.length > 2 ? argv.slice(2).map(parseArg) : (argv[0] ? [] : [90]);
  const bytes = fs.readFileSync(file);

  let start = performance.now();
  const module = await WebAssembly.compile(bytes);
  console.log(`compiled ${path.basename(file)} (${bytes.length} bytes) in ${ms(start)}`);

  const exports = WebAssembly.Module.exports(module);
  const name = exportName || (exports.find((e) => e.kind === 'function') || {}).name;
  if (!name) throw new Error('the module exports no function');

  start = performance.now();
  const instance = await WebAssembly.instantiate(module, {});
  console.log(`instantiated in ${ms(start)}`);

  const fn = instance.exports[name];
  if (typeof fn !== 'function') throw new Error(`no exported function named ${JSON.stringify(name)}`);
  start = performance.now();
  const result = fn(...args);
  const elapsed = ms(start);
  console.log(`${name}(${args.map(String).join(', ')}) = ${String(result)}`);
  console.log(`ran in ${elapsed}`);
}

function validate(argv) {
  const WebAssembly = require('..');
  if (!argv[0]) throw new Error('validate needs a file');
  const valid = WebAssembly.validate(fs.readFileSync(argv[0]));
  console.log(valid ? 'valid' : 'invalid');
  if (!valid) {
    try {
      new WebAssembly.Module(fs.readFileSync(argv[0]));
    } catch (err) {
      console.log(err.message);
    }
    process.exitCode = 1;
  }
}

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'run') return run(rest);
  if (command === 'validate') return validate(rest);
  console.error(USAGE);
  process.exitCode = command ? 2 : 0;
}

main().catch((err) => {
  const message = err && err.message ? err.message : String(err);
  console.error(message.startsWith("cranewasm:") ? message : `cranewasm: ${message}`);
  process.exitCode = 1;
});

// @oxc-parser/binding-wasm32-wasi (a napi-rs addon built for wasm32-wasip1-threads, run by
// @napi-rs/wasm-runtime on emnapi: WASI through node:wasi, its async work on wasi-threads, each
// thread a Worker sent the Module and the shared Memory with postMessage) on one engine, in a
// process of its own; prints a JSON report. workers-clone.test.js runs it on both engines.
//
//   node oxc-driver.js <cranewasm|node>
//
// With "cranewasm", `require('cranewasm/register')` is loaded first (it also makes node:wasi's
// WASI cranewasm/wasi's, in this thread and the Workers); the package is unmodified.
'use strict';

const { useEngine } = require('./threaded-engine');

const [engineName] = process.argv.slice(2);
const tokensSent = useEngine(engineName);

async function main() {
  const oxc = require('@oxc-parser/binding-wasm32-wasi');
  const show = (result) => ({ program: JSON.parse(result.program), errors: result.errors, comments: result.comments, module: result.module });
  const source = 'const a = 1; function f(x) { return x * 2 } export default class A extends B { m() { return f(a) } } // note';
  const output = { sync: show(oxc.parseSync('a.js', source, {})) };
  // parse() runs on the addon's async work threads.
  const parsed = await Promise.all(Array.from({ length: 8 }, (_, i) => oxc.parse(`f${i}.ts`,
    `let x${i}: number = ${i}; interface I { a: string } export const y = x${i} + 1; ${i % 2 ? 'let bad = ;' : ''}`, {})));
  output.async = parsed.map(show);
  return output;
}

main().then((output) => {
  const node = globalThis[Symbol.for('cranewasm.originalWebAssembly')];
  process.stdout.write(`${JSON.stringify({ engine: engineName, globalIsCranewasm: node !== undefined && globalThis.WebAssembly !== node, tokens: tokensSent(), output })}\n`);
  process.exit(0);
}, (err) => {
  process.stderr.write(`${err && err.stack}\n`);
  process.exit(1);
});

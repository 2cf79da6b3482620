// One measurement of the compile benchmark, in a process of its own (started by
// bench/compile.js with the configuration's node flags or CRANEWASM_* variables): compiles one
// module once on one engine, instantiates it, makes the first call, waits for tier-up where it
// can be observed, and prints one JSON line. A fresh process per measurement means no engine
// can reuse an earlier compile of the same bytes (V8 shares compiled modules within a process
// through its native module cache; Node 20 keeps no wasm code on disk).
//
// Usage: node [flags] compile-measure.js '{"engine":…,"file":…,"kind":…,"tiered":…}'
//   engine  "cranewasm" or "node"
//   kind    "first": call the export `first(41)` (bench/synthetic-module.js);
//           "go": run the Go program with the argument --version through esbuild-wasm's
//           wasm_exec.js (the Go runtime's own JS glue) until it exits
//   tiered  when the module has top-tier code for every function: "tierUp" (cranewasm: when
//           tierUp(module) resolves), "compile" (when compile() resolves: eager top tier),
//           "never" (a baseline-only configuration), "unobservable" (Node gives no signal)
'use strict';

const fs = require('fs');
const path = require('path');

const { engine, file, kind, tiered } = JSON.parse(process.argv[2]);

if (engine === 'cranewasm') require('../register'); // wasm_exec.js checks `instanceof WebAssembly.Instance`
const WA = globalThis.WebAssembly;

// cranewasm's compile-options API, where this build has it.
function engineApi() {
  if (engine !== 'cranewasm') return null;
  const file = path.join(__dirname, '..', 'engine.js');
  return fs.existsSync(file) ? require(file) : null;
}

// The first call: returns its result, to be compared between engines.
async function firstCall(module) {
  if (kind === 'first') {
    const instance = await WA.instantiate(module, {});
    return String(instance.exports.first(41));
  }
  require(require.resolve('esbuild-wasm/wasm_exec.js'));
  const go = new globalThis.Go();
  const output = [];
  // wasm_exec.js installed its stand-in `fs` (there was no globalThis.fs); keep what Go writes.
  globalThis.fs.writeSync = (fd, buf) => {
    output.push(Buffer.from(buf).toString());
    return buf.length;
  };
  go.argv = ['esbuild', '--version'];
  const instance = await WA.instantiate(module, go.importObject);
  await go.run(instance);
  return output.join('').trim();
}

async function main() {
  const bytes = fs.readFileSync(file);
  const api = engineApi();

  // The stall monitor: a 1 ms interval timer stamps each tick. Moments when this code runs on
  // the JS thread count as ticks too (the thread was free then).
  const ticks = [];
  const now = () => performance.now();
  const timer = setInterval(() => ticks.push(now()), 1);
  await new Promise((resolve) => setTimeout(resolve, 20)); // let the timer settle

  const start = now();
  ticks.push(start);
  const module = await WA.compile(bytes);
  const compiled = now();
  ticks.push(compiled);
  const statusAtCompile = api ? api.compileStatus(module) : null;

  // Instantiation and the first call run on the JS thread by design (lazily compiled functions
  // are compiled there too): they count in the first-call time, not as a stall.
  const result = await firstCall(module);
  const firstReturned = now();
  ticks.push(firstReturned);

  let tieredUp = null;
  if (tiered === 'compile') tieredUp = compiled;
  else if (tiered === 'tierUp' && api) {
    await api.tierUp(module);
    tieredUp = now();
    ticks.push(tieredUp);
  }
  clearInterval(timer);

  // The longest gap between consecutive ticks while compile() runs, and from the first call's
  // return until tier-up is done.
  const windows = [[start, compiled]];
  if (tieredUp !== null && tieredUp > firstReturned) windows.push([firstReturned, tieredUp]);
  ticks.sort((a, b) => a - b);
  let stall = 0;
  for (let i = 1; i < ticks.length; i++) {
    const [a, b] = [ticks[i - 1], ticks[i]];
    if (windows.some(([from, to]) => a >= from && b <= to)) stall = Math.max(stall, b - a);
  }

  const report = {
    compileMs: compiled - start,
    firstCallMs: firstReturned - start,
    tieredMs: tieredUp === null ? null : tieredUp - start,
    stallMs: stall,
    result,
    engineApi: Boolean(api),
    options: api ? api.getCompileOptions() : null,
    statusAtCompile,
    statusAtEnd: api ? api.compileStatus(module) : null,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exit(0); // a Go program or a compile pool may keep the event loop alive
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});

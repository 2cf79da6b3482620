// One measurement of the compile benchmark, in a process of its own (started by
// bench/compile.js with the configuration's node flags or CRANEWASM_* variables): compiles one
// module once on one engine, instantiates it, makes the first call, waits for tier-up where it
// can be observed, compiles the same bytes again (the module still alive), and prints one JSON
// line. A fresh process per measurement means no engine
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

// Milliseconds this thread has spent runnable but waiting for a CPU (NaN where the kernel does
// not say). The second field of /proc/thread-self/schedstat, in ns; a read takes ~20 µs.
const SCHEDSTAT = '/proc/thread-self/schedstat';
const hasSchedstat = fs.existsSync(SCHEDSTAT);
function cpuWaitMs() {
  if (!hasSchedstat) return NaN;
  return Number(fs.readFileSync(SCHEDSTAT, 'latin1').split(' ')[1]) / 1e6;
}

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

  // The stall monitor: a 1 ms interval timer stamps each tick with the time and with how long
  // the JS thread has so far waited for a CPU while runnable (Linux's per-thread schedstat), so
  // that a gap can be told apart from other processes taking the cores. Moments when this code
  // runs on the JS thread count as ticks too (the thread was free then).
  const ticks = [];
  const tick = () => {
    const t = performance.now();
    ticks.push({ t, waited: cpuWaitMs() });
    return t;
  };
  const timer = setInterval(tick, 1);
  await new Promise((resolve) => setTimeout(resolve, 20)); // let the timer settle

  const start = tick();
  const module = await WA.compile(bytes);
  const compiled = tick();
  const statusAtCompile = api ? api.compileStatus(module) : null;

  // Instantiation and the first call run on the JS thread by design (lazily compiled functions
  // are compiled there too): they count in the first-call time, not as a stall.
  const result = await firstCall(module);
  const firstReturned = tick();

  let tieredUp = null;
  if (tiered === 'compile') {
    // Eager top tier: every function has optimized code once compile() resolves (checked
    // where the engine can say).
    if (!statusAtCompile || statusAtCompile.optimized === statusAtCompile.functions) tieredUp = compiled;
  } else if (tiered === 'tierUp' && api) {
    await api.tierUp(module);
    tieredUp = tick();
    const status = api.compileStatus(module);
    if (status.optimized !== status.functions) throw new Error(`tierUp() resolved with ${JSON.stringify(status)}`);
  }
  clearInterval(timer);

  // The same bytes compiled again while the module is alive: V8 reuses the module through its
  // native module cache, cranewasm through its own (src/module_cache.rs). The best of three.
  let recompileMs = Infinity;
  for (let i = 0; i < 3; i++) {
    const again = performance.now();
    await WA.compile(bytes);
    recompileMs = Math.min(recompileMs, performance.now() - again);
  }

  // The longest gap between consecutive ticks while compile() runs, and from the first call's
  // return until tier-up is done; and the longest once the time spent waiting for a CPU is
  // taken out.
  const windows = [[start, compiled]];
  if (tieredUp !== null && tieredUp > firstReturned) windows.push([firstReturned, tieredUp]);
  ticks.sort((a, b) => a.t - b.t);
  let stall = 0;
  let stallLessWait = 0;
  for (let i = 1; i < ticks.length; i++) {
    const [a, b] = [ticks[i - 1], ticks[i]];
    if (!windows.some(([from, to]) => a.t >= from && b.t <= to)) continue;
    stall = Math.max(stall, b.t - a.t);
    stallLessWait = Math.max(stallLessWait, b.t - a.t - (b.waited - a.waited));
  }

  const report = {
    compileMs: compiled - start,
    firstCallMs: firstReturned - start,
    tieredMs: tieredUp === null ? null : tieredUp - start,
    recompileMs,
    stallMs: stall,
    stallLessWaitMs: Number.isNaN(stallLessWait) ? null : stallLessWait,
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

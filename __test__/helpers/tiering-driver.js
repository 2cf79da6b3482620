// Child-process scenarios of __test__/tiering.test.js: what depends on the process's environment
// (CRANEWASM_* variables), on its exit, on the collector (--expose-gc) or on the JS thread being
// alone (tick gaps), and what could crash the process (stack overflow in a lazy compile).
//
//   node [--expose-gc] tiering-driver.js <scenario> [argument]
//
// prints one line of JSON: the scenario's result, or { error } when it threw.
'use strict';

const path = require('path');

const root = path.join(__dirname, '..', '..');
const cranewasm = require(root);
const engine = require(path.join(root, 'engine.js'));
const { bigModule } = require('./tiering-modules.js');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function errorOutcome(err) {
  return { threw: err && err.constructor ? err.constructor.name : typeof err, message: err && err.message };
}

const scenarios = {
  // The options the environment gave this process, and what they do to a module: status right
  // after compile, after every function ran once, and after a while.
  async options() {
    const bytes = bigModule({ functions: 20, statements: 20, exports: [19] });
    const options = engine.getCompileOptions();
    const m = await cranewasm.compile(bytes);
    const afterCompile = engine.compileStatus(m);
    const { exports } = new cranewasm.Instance(m);
    // f19 calls f18, …, f0: every function runs; run them enough to spend a dynamic budget.
    for (let i = 0; i < 20000; i++) exports.f19(i, 3);
    const afterCalls = engine.compileStatus(m);
    await sleep(300);
    return { options, afterCompile, afterCalls, afterWait: engine.compileStatus(m) };
  },

  // Exits (the event loop runs dry) right after compile of a large module under eager tier-up.
  async exitAfterCompile() {
    engine.setCompileOptions({ tierUp: 'eager' });
    const m = await cranewasm.compile(bigModule({ functions: 3000, statements: 200 }));
    return { status: engine.compileStatus(m) };
  },

  // process.exit(0) while eager tier-up runs in the background and, with the argument
  // 'tierUp', while a tierUp() promise is pending.
  async exitDuringTierUp(mode) {
    engine.setCompileOptions({ tierUp: 'eager' });
    const m = await cranewasm.compile(bigModule({ functions: 3000, statements: 200 }));
    const { exports } = new cranewasm.Instance(m);
    exports.f0(1, 2);
    if (mode === 'tierUp') engine.tierUp(m).then(() => process.stdout.write('tierUp resolved before exit\n'));
    await sleep(200);
    process.stdout.write(`${JSON.stringify({ status: engine.compileStatus(m), exitAt: Date.now() })}\n`);
    process.exit(0);
  },

  // A module under eager tier-up that becomes garbage stops costing CPU (needs --expose-gc).
  async gcStopsTierUp() {
    engine.setCompileOptions({ tierUp: 'eager' });
    const holder = { m: await cranewasm.compile(bigModule({ functions: 3000, statements: 200 })) };
    const functions = engine.compileStatus(holder.m).functions;
    let collected = false;
    const registry = new FinalizationRegistry(() => { collected = true; });
    registry.register(holder.m, 'module');
    // CPU time over 1 s of wall time, all threads of the process.
    const window = async () => {
      const before = process.cpuUsage();
      await sleep(1000);
      const used = process.cpuUsage(before);
      return Math.round((used.user + used.system) / 1000);
    };
    const busyCpuMs = await window();
    const optimizedAtDrop = engine.compileStatus(holder.m).optimized;
    holder.m = null;
    for (let i = 0; i < 5 && !collected; i++) {
      global.gc();
      await sleep(100);
    }
    await sleep(300); // work units already running may finish
    const idleCpuMs = await window();
    return { functions, optimizedAtDrop, busyCpuMs, idleCpuMs, collected };
  },

  // The largest gap between ticks of a 1 ms interval while a large module compiles
  // (argument: 'lazy' for the defaults, 'eager' for lazy:false, 'instantiate' for
  // instantiate(bytes) with the defaults).
  async tickGap(mode) {
    if (mode === 'eager') engine.setCompileOptions({ lazy: false });
    const bytes = bigModule({ functions: 3000, statements: 200 });
    // Each gap also less the time this thread spent runnable but waiting for a CPU meanwhile
    // (the second field of /proc/thread-self/schedstat, in ns; 0 where the kernel does not
    // say): on a machine shared with other processes that part is the scheduler's, not the
    // engine's (bench/compile-measure.js reports its stalls the same way).
    const SCHEDSTAT = '/proc/thread-self/schedstat';
    const hasSchedstat = require('fs').existsSync(SCHEDSTAT);
    const waitMs = () => (hasSchedstat ? Number(require('fs').readFileSync(SCHEDSTAT, 'latin1').split(' ')[1]) / 1e6 : 0);
    let last = performance.now();
    let lastWait = waitMs();
    let maxGap = 0;
    let maxGapLessWait = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      const wait = waitMs();
      maxGap = Math.max(maxGap, now - last);
      maxGapLessWait = Math.max(maxGapLessWait, now - last - (wait - lastWait));
      last = now;
      lastWait = wait;
    }, 1);
    await sleep(50);
    maxGap = 0;
    maxGapLessWait = 0;
    last = performance.now();
    lastWait = waitMs();
    const start = performance.now();
    const promise = mode === 'instantiate' ? cranewasm.instantiate(bytes) : cranewasm.compile(bytes);
    const syncMs = performance.now() - start; // the part of the call on the JS thread
    const result = await promise;
    const compileMs = performance.now() - start;
    await sleep(5); // the tick after the promise settled closes the last gap
    clearInterval(timer);
    const status = engine.compileStatus(result.module || result);
    return { maxGapMs: Math.round(maxGap * 10) / 10, maxGapLessWaitMs: Math.round(maxGapLessWait * 10) / 10, syncMs: Math.round(syncMs * 10) / 10, compileMs: Math.round(compileMs), bytes: bytes.length, status };
  },

  // Recursion to depth d whose deepest frame calls a function never called before, for depths
  // around the deepest that works, on cranewasm ('cranewasm') or Node ('node'). The process must
  // not crash; each call returns d + leaf(d) or throws RangeError.
  async deepLazyCall(engineName) {
    const W = engineName === 'node' ? WebAssembly : cranewasm;
    const { loadWabt, wat } = require('./execution.js');
    await loadWabt();
    const LEAVES = 80;
    const leaf = (k) => {
      // Leaves of different sizes (so different frames and compile work), each its own result.
      let body = 'local.get 0';
      for (let j = 0; j < 1 + (k % 8) * 40; j++) body += ` i32.const ${k * 7 + j + 3} i32.mul i32.const ${j} i32.add`;
      return `(func $l${k} (param i32) (result i32) (local f64 f64 i64) ${body})`;
    };
    const direct = Array.from({ length: LEAVES }, (_, k) =>
      `(if (i32.eq (local.get 1) (i32.const ${k})) (then (return (call $l${k} (local.get 0)))))`).join('\n');
    const bytes = wat(`(module
      (type $leaf (func (param i32) (result i32)))
      (table ${LEAVES} funcref)
      (elem (i32.const 0) ${Array.from({ length: LEAVES }, (_, k) => `$l${k}`).join(' ')})
      ;; rec(n, k, how): n nested calls, then leaf k through call_indirect (how = 0) or a direct call
      (func $rec (export "rec") (param $n i32) (param $k i32) (param $how i32) (result i32)
        (if (result i32) (i32.eqz (local.get $n))
          (then (if (result i32) (local.get $how)
            (then (call $direct (local.get $n) (local.get $k)))
            (else (call_indirect (type $leaf) (local.get $n) (local.get $k)))))
          (else (i32.add (i32.const 1)
            (call $rec (i32.sub (local.get $n) (i32.const 1)) (local.get $k) (local.get $how))))))
      (func $direct (param i32 i32) (result i32) ${direct} (unreachable))
      ${Array.from({ length: LEAVES }, (_, k) => leaf(k)).join('\n')})`);
    const module = new W.Module(bytes);
    const { exports } = new W.Instance(module);
    const reference = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports;
    const status = () => (W === cranewasm ? engine.compileStatus(module) : null);
    const attempt = (n, k, how) => {
      try {
        return { value: exports.rec(n, k, how) };
      } catch (err) {
        return errorOutcome(err);
      }
    };
    const unexpected = [];
    // The deepest recursion that works with leaf 0 (compiled by the first call).
    const first = attempt(0, 0, 0);
    let lo = 0;
    let hi = 1 << 24;
    const overflow = attempt(hi, 0, 0);
    if (overflow.threw !== 'RangeError') unexpected.push({ n: hi, outcome: overflow });
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      const outcome = attempt(mid, 0, 0);
      if (outcome.threw === undefined) lo = mid;
      else {
        if (outcome.threw !== 'RangeError') unexpected.push({ n: mid, outcome });
        hi = mid;
      }
    }
    const deepest = lo;
    const before = status();
    // Fresh leaves (1..LEAVES-1) first called at depths from 60 below to 19 above the deepest,
    // alternately through call_indirect and through a direct call.
    const outcomes = { ok: 0, rangeError: 0 };
    let deepestFreshOk = -1;
    for (let k = 1; k < LEAVES; k++) {
      const n = deepest - 60 + k;
      const how = k % 2;
      const outcome = attempt(n, k, how);
      if (outcome.threw === 'RangeError') outcomes.rangeError++;
      else if (outcome.threw === undefined && outcome.value === ((n + reference.rec(0, k, how)) | 0)) {
        outcomes.ok++;
        deepestFreshOk = n;
      } else unexpected.push({ n, k, outcome });
    }
    // How far from the deepest working recursion a fresh leaf was last compiled and run.
    outcomes.framesShortOfDeepest = deepest - deepestFreshOk;
    // Afterwards every leaf works at a shallow depth, on both ways.
    const shallow = [];
    for (let k = 0; k < LEAVES; k++) {
      for (const how of [0, 1]) {
        const ours = attempt(100, k, how);
        const theirs = { value: reference.rec(100, k, how) };
        if (JSON.stringify(ours) !== JSON.stringify(theirs)) shallow.push({ k, how, ours, theirs });
      }
    }
    return { first, overflow: overflow.threw, deepestOk: deepest > 1000, outcomes, unexpected, shallow, before, after: status() };
  },
};

const [scenario, argument] = process.argv.slice(2);
scenarios[scenario](argument).then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (err) => process.stdout.write(`${JSON.stringify({ error: String(err && err.stack) })}\n`),
);

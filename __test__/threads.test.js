'use strict';
// Threads (shared memories and atomics), through the public JS API, compared with Node's
// built-in WebAssembly (Node 20 has the threads proposal): every atomic operator's results at
// the baseline and the optimizing tier, on shared and unshared, 32- and 64-bit memories; the
// traps (misaligned, out of bounds, wait on an unshared memory) with V8's classes and messages;
// the SharedArrayBuffer of a shared memory; wait and notify; Workers running wasm on one shared
// memory (the memory reaches them as its SharedArrayBuffer: a Memory object does not survive
// postMessage, so `sharedMemoryFromBuffer` of cranewasm/engine turns it back into one, see README).

const cranewasm = require('..');
const { setCompileOptions, getCompileOptions, compileStatus } = require('../engine');
const { outcome } = require('./helpers/differential');

const node = globalThis.WebAssembly;
let wabt;
beforeAll(async () => {
  wabt = await require('wabt')();
});

function wat(text) {
  const parsed = wabt.parseWat('threads.wat', text, { threads: true });
  parsed.resolveNames();
  return parsed.toBinary({}).buffer;
}

const WIDTHS = {
  i32: { loads: ['i32.atomic.load', 'i32.atomic.load8_u', 'i32.atomic.load16_u'] },
  i64: { loads: ['i64.atomic.load', 'i64.atomic.load8_u', 'i64.atomic.load16_u', 'i64.atomic.load32_u'] },
};
const STORES = { i32: ['i32.atomic.store', 'i32.atomic.store8', 'i32.atomic.store16'], i64: ['i64.atomic.store', 'i64.atomic.store8', 'i64.atomic.store16', 'i64.atomic.store32'] };
const RMW_OPS = ['add', 'sub', 'and', 'or', 'xor', 'xchg'];
const RMW_SUFFIX = { i32: ['', '8', '16'], i64: ['', '8', '16', '32'] };

// One function per atomic operator, named by it: loads (addr), stores (addr, value), rmws
// (addr, value) -> old, cmpxchg (addr, expected, replacement) -> old; plus wait/notify/fence.
function atomicsModule(memory) {
  const funcs = [];
  for (const t of ['i32', 'i64']) {
    for (const op of WIDTHS[t].loads) funcs.push(`(func (export "${op}") (param i32) (result ${t}) (${op} (local.get 0)))`);
    for (const op of STORES[t]) funcs.push(`(func (export "${op}") (param i32 ${t}) (${op} (local.get 0) (local.get 1)))`);
    for (const n of RMW_SUFFIX[t]) {
      const u = n ? '_u' : '';
      for (const r of RMW_OPS) {
        const op = `${t}.atomic.rmw${n}.${r}${u}`;
        funcs.push(`(func (export "${op}") (param i32 ${t}) (result ${t}) (${op} (local.get 0) (local.get 1)))`);
      }
      const op = `${t}.atomic.rmw${n}.cmpxchg${u}`;
      funcs.push(`(func (export "${op}") (param i32 ${t} ${t}) (result ${t}) (${op} (local.get 0) (local.get 1) (local.get 2)))`);
    }
  }
  funcs.push('(func (export "offset") (param i32) (result i32) (i32.atomic.rmw.add offset=8 (local.get 0) (i32.const 1)))');
  funcs.push('(func (export "fence") (atomic.fence))');
  funcs.push('(func (export "notify") (param i32 i32) (result i32) (memory.atomic.notify (local.get 0) (local.get 1)))');
  funcs.push('(func (export "wait32") (param i32 i32 i64) (result i32) (memory.atomic.wait32 (local.get 0) (local.get 1) (local.get 2)))');
  funcs.push('(func (export "wait64") (param i32 i64 i64) (result i32) (memory.atomic.wait64 (local.get 0) (local.get 1) (local.get 2)))');
  return wat(`(module ${memory} ${funcs.join('\n')})`);
}

const SHARED = '(memory (export "memory") 1 2 shared)';
const UNSHARED = '(memory (export "memory") 1 2)';

// A deterministic sequence of calls exercising every operator; each step's outcome (value or
// error) and the memory's first 64 bytes afterwards.
function exercise(W, bytes) {
  const { exports: e } = new W.Instance(new W.Module(bytes));
  const log = [];
  const bytesNow = () => Array.from(new Uint8Array(e.memory.buffer, 0, 64));
  const step = (name, ...args) => log.push([name, args.map(String), outcome(() => String(e[name](...args)))]);
  let k = 1;
  for (const t of ['i32', 'i64']) {
    const v = (x) => (t === 'i64' ? BigInt(x) : x);
    const big = t === 'i64' ? 0x0123456789abcdefn : 0x89abcdef | 0;
    for (const op of STORES[t]) { step(op, 16, v(big)); step(`${t}.atomic.load`, 16); step(op, 0, t === 'i64' ? -1n : -1); }
    for (const op of WIDTHS[t].loads) { step(op, 0); step(op, 16); step(op, 8); }
    for (const n of RMW_SUFFIX[t]) {
      const u = n ? '_u' : '';
      for (const r of RMW_OPS) {
        step(`${t}.atomic.rmw${n}.${r}${u}`, 24, v(0x7f + k++));
        step(`${t}.atomic.rmw${n}.${r}${u}`, 24, t === 'i64' ? -3n : -3);
      }
      const cas = `${t}.atomic.rmw${n}.cmpxchg${u}`;
      step(cas, 32, v(0), v(5));
      step(cas, 32, v(0), v(6));
      step(cas, 32, v(5), t === 'i64' ? -2n : -2);
    }
    // Misaligned (a trap with V8's message), out of bounds, the last aligned cell.
    for (const op of [`${t}.atomic.load`, `${t}.atomic.rmw.add`, `${t}.atomic.rmw16.cmpxchg_u`]) {
      const args = op.includes('cmpxchg') ? [v(0), v(1)] : op.includes('rmw') ? [v(1)] : [];
      step(op, 1, ...args);
      step(op, 65536, ...args);
      step(op, 65535, ...args);
      step(op, 65536 - (t === 'i64' ? 8 : 4), ...args);
      step(op, -4, ...args);
    }
  }
  step('offset', 0);
  step('offset', 65528);
  step('offset', 3);
  step('fence');
  step('notify', 0, 1);
  step('notify', 2, 1);
  step('notify', 65536, 1);
  step('wait32', 0, 1, 0n);
  step('wait32', 0, 0, 1000n);
  step('wait64', 0, 0n, 0n);
  step('wait32', 1, 0, 0n);
  step('wait64', 4, 0n, 0n);
  step('wait32', 65536, 0, 0n);
  log.push(['memory', bytesNow()]);
  return log;
}

const TIERS = {
  baseline: { lazy: false, firstTier: 'baseline', tierUp: 'off' },
  optimized: { lazy: false, firstTier: 'optimized', tierUp: 'off' },
  singlepass: { lazy: false, firstTier: 'singlepass', tierUp: 'off' },
};

describe.each(Object.keys(TIERS))('atomics at the %s tier', (tier) => {
  let saved;
  beforeAll(() => {
    saved = getCompileOptions();
    setCompileOptions(TIERS[tier]);
  });
  afterAll(() => setCompileOptions(saved));

  test.each([['a shared memory', SHARED], ['an unshared memory', UNSHARED]])('every operator on %s gives Node\'s results and traps', (_, memory) => {
    const bytes = atomicsModule(memory);
    // At the single-pass tier, every function is single-pass code (none fell back).
    if (tier === 'singlepass') expect(compileStatus(new cranewasm.Module(bytes)).fallbacks).toBe(0);
    const ours = exercise(cranewasm, bytes);
    const theirs = exercise(node, bytes);
    expect(ours).toEqual(theirs);
    // The sequence does trap as it should (the comparison is not between two empty logs).
    const messages = new Set(theirs.map((entry) => entry[2] && entry[2].message).filter(Boolean));
    expect(messages).toContain('operation does not support unaligned accesses');
    expect(messages).toContain('memory access out of bounds');
  });

  test('a 64-bit memory\'s atomics (memory64, not in Node 20): values and traps', () => {
    const bytes = wat(`(module (memory (export "memory") i64 1 2 shared)
      (func (export "add") (param i64 i32) (result i32) (i32.atomic.rmw.add (local.get 0) (local.get 1)))
      (func (export "cas") (param i64 i64 i64) (result i64) (i64.atomic.rmw.cmpxchg (local.get 0) (local.get 1) (local.get 2)))
      (func (export "wait") (param i64 i32) (result i32) (memory.atomic.wait32 (local.get 0) (local.get 1) (i64.const 0))))`);
    let e;
    try {
      e = new cranewasm.Instance(new cranewasm.Module(bytes)).exports;
    } catch (err) {
      // wabt may not encode memory64 with threads; then the module is not this test's subject.
      if (err instanceof cranewasm.CompileError) return;
      throw err;
    }
    expect(e.add(8n, 5)).toBe(0);
    expect(e.add(8n, 5)).toBe(5);
    expect(e.cas(16n, 0n, 7n)).toBe(0n);
    expect(e.cas(16n, 7n, 9n)).toBe(7n);
    expect(new BigInt64Array(e.memory.buffer)[2]).toBe(9n);
    expect(outcome(() => e.add(6n, 1))).toEqual({ threw: 'RuntimeError', message: 'operation does not support unaligned accesses' });
    expect(outcome(() => e.add(65536n, 1))).toEqual({ threw: 'RuntimeError', message: 'memory access out of bounds' });
    expect(outcome(() => e.add(1n << 40n, 1))).toEqual({ threw: 'RuntimeError', message: 'memory access out of bounds' });
    expect(e.wait(8n, 0)).toBe(1);
  });
});

describe('shared WebAssembly.Memory', () => {
  function summary(W, make) {
    return outcome(() => {
      const memory = make(W);
      const first = memory.buffer;
      new Int32Array(first)[1] = 42;
      const facts = {
        // (by tag: the addon's buffers are of the main realm, as Node-API makes them; jest runs
        // each file in a realm of its own)
        shared: Object.prototype.toString.call(first) === '[object SharedArrayBuffer]',
        frozen: Object.isFrozen(first),
        same: memory.buffer === first,
        length: first.byteLength,
        grow: memory.grow(1),
      };
      const second = memory.buffer;
      return {
        ...facts,
        oldLength: first.byteLength,
        newLength: second.byteLength,
        renewed: second !== first,
        aliased: new Int32Array(second)[1],
        growPastMaximum: outcome(() => memory.grow(5)),
        growZero: memory.grow(0),
        sameAfterGrowZero: memory.buffer === second,
      };
    });
  }

  test.each([
    ['from JS', (W) => new W.Memory({ initial: 1, maximum: 3, shared: true })],
    ['exported by a module', (W) => new W.Instance(new W.Module(wat('(module (memory (export "m") 1 3 shared))'))).exports.m],
  ])('%s: a frozen SharedArrayBuffer aliasing the memory; growth makes a new one, the old stays valid', (_, make) => {
    const ours = summary(cranewasm, make);
    expect(ours).toEqual(summary(node, make));
    expect(ours.value.shared).toBe(true);
  });

  test.each([
    ['no maximum', { initial: 1, shared: true }],
    ['maximum below initial', { initial: 2, maximum: 1, shared: true }],
  ])('%s: Node\'s error', (_, descriptor) => {
    expect(outcome(() => new cranewasm.Memory(descriptor))).toEqual(outcome(() => new node.Memory(descriptor)));
  });

  test.each([
    ['a shared memory where an unshared one is declared', '(memory 1 4)', { initial: 1, maximum: 4, shared: true }],
    ['an unshared memory where a shared one is declared', '(memory 1 4 shared)', { initial: 1, maximum: 4 }],
  ])('importing %s: V8\'s LinkError', (_, declared, descriptor) => {
    const bytes = wat(`(module (import "m" "mem" ${declared}))`);
    const run = (W) => outcome(() => new W.Instance(new W.Module(bytes), { m: { mem: new W.Memory(descriptor) } }));
    const ours = run(cranewasm);
    expect(ours).toEqual(run(node));
    expect(ours.threw).toBe('LinkError');
  });

  test('a shared memory declared without a maximum does not compile, as in Node', () => {
    const bytes = wat('(module (memory 1 1 shared))');
    bytes[bytes.length - 2] = 0x02; // limits flag 3 (shared, max) -> 2 (shared, no max)
    const run = (W) => outcome(() => new W.Module(bytes.slice(0, -1)));
    expect(run(cranewasm).threw).toBe('CompileError');
    expect(run(node).threw).toBe('CompileError');
  });

  test('the memory is shared between instances and with JS Atomics on its buffer', () => {
    const memory = new cranewasm.Memory({ initial: 1, maximum: 1, shared: true });
    const bytes = wat(`(module (import "m" "mem" (memory 1 1 shared))
      (func (export "inc") (param i32) (loop $l (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
        (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))))`);
    const module = new cranewasm.Module(bytes);
    const a = new cranewasm.Instance(module, { m: { mem: memory } }).exports;
    const b = new cranewasm.Instance(module, { m: { mem: memory } }).exports;
    const view = new Int32Array(memory.buffer);
    for (let round = 0; round < 100; round++) {
      a.inc(1000);
      Atomics.add(view, 0, 7);
      b.inc(1000);
    }
    expect(Atomics.load(view, 0)).toBe(100 * (2000 + 7));
  });
});

describe('wait and notify', () => {
  test('wait on a shared memory returns "timed-out" (2) after its timeout, on the main thread too', () => {
    const { exports: e } = new cranewasm.Instance(new cranewasm.Module(atomicsModule(SHARED)));
    const started = process.hrtime.bigint();
    expect(e.wait32(0, 0, 50_000_000n)).toBe(2);
    expect(process.hrtime.bigint() - started).toBeGreaterThanOrEqual(45_000_000n);
    expect(e.wait64(8, 1n, -1n)).toBe(1); // not equal: returns at once, even with no timeout
  });

  test('notify with no waiter wakes none', () => {
    const { exports: e } = new cranewasm.Instance(new cranewasm.Module(atomicsModule(SHARED)));
    expect(e.notify(0, 10)).toBe(0);
  });

  test('wait on an unshared memory traps with V8\'s message', () => {
    const bytes = atomicsModule(UNSHARED);
    const run = (W) => outcome(() => new W.Instance(new W.Module(bytes)).exports.wait32(0, 0, 0n));
    expect(run(cranewasm)).toEqual(run(node));
    expect(run(cranewasm).threw).toBe('RuntimeError');
  });
});

describe('Workers on one shared memory', () => {
  // Compile options are the process's (Workers share them): what a Worker sets is undone here,
  // so that the files jest runs after this one in the same process see theirs.
  let saved;
  beforeAll(() => {
    saved = getCompileOptions();
  });
  afterEach(() => setCompileOptions(saved));

  const path = require('path');
  const { Worker } = require('worker_threads');
  const root = path.resolve(__dirname, '..');
  const MODULE = `(module (import "m" "mem" (memory 1 2 shared))
    (func (export "inc") (param i32) (loop $l (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
      (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1))))))
    (func (export "grow") (result i32) (memory.grow (i32.const 1)))
    (func (export "size") (result i32) (memory.size))
    (func (export "wait") (result i32) (memory.atomic.wait32 (i32.const 8) (i32.const 0) (i64.const -1)))
    (func (export "notify") (result i32) (memory.atomic.notify (i32.const 8) (i32.const 1))))`;

  // A Worker that instantiates the module over the posted memory, then runs `body`.
  function worker(memory, bytes, tier, body) {
    const source = `
      const { workerData, parentPort } = require('worker_threads');
      const W = require(workerData.root);
      const { sharedMemoryFromBuffer, setCompileOptions } = require(workerData.root + '/engine');
      setCompileOptions(workerData.tier);
      const mem = sharedMemoryFromBuffer(workerData.buffer);
      const { exports } = new W.Instance(new W.Module(workerData.bytes), { m: { mem } });
      ${body}`;
    return new Worker(source, { eval: true, workerData: { root, tier, buffer: memory.buffer, bytes } });
  }
  const message = (w) => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });

  test.each(Object.keys(TIERS))('4 Workers x 1,000,000 atomic increments give exactly 4,000,000 (%s tier)', async (tier) => {
    const memory = new cranewasm.Memory({ initial: 1, maximum: 2, shared: true });
    const bytes = wat(MODULE);
    const workers = [0, 1, 2, 3].map(() => worker(memory, bytes, TIERS[tier], 'exports.inc(1000000); parentPort.postMessage(1);'));
    await Promise.all(workers.map(message));
    expect(Atomics.load(new Int32Array(memory.buffer), 0)).toBe(4000000);
    await Promise.all(workers.map((w) => w.terminate()));
  });

  // Growth while other threads load and store: one Worker grows the memory a page at a time to
  // its maximum while three others store and load back a word in every 4 KiB of the memory as
  // long as it is at the start of each round (their own word: no two write the same), until the
  // grower is done, then once more. Nothing traps, every load gives what was stored, and the last
  // round covers the whole grown memory. Bounds-checked code reads the length as it changes.
  const GROW_MODULE = `(module (import "m" "mem" (memory 1 64 shared))
    (func (export "grow1") (result i32) (memory.grow (i32.const 1)))
    (func (export "done") (i32.atomic.store (i32.const 0) (i32.const 1)))
    (func (export "size") (result i32) (memory.size))
    (func (export "churn") (param $tag i32) (result i32)
      (local $i i32) (local $end i32) (local $bad i32) (local $last i32) (local $rounds i32)
      (loop $round
        (local.set $last (i32.atomic.load (i32.const 0)))
        (local.set $end (i32.mul (memory.size) (i32.const 65536)))
        (local.set $i (i32.add (i32.const 64) (i32.mul (local.get $tag) (i32.const 8))))
        (loop $word
          (i32.store (local.get $i) (i32.add (local.get $i) (local.get $tag)))
          (if (i32.ne (i32.load (local.get $i)) (i32.add (local.get $i) (local.get $tag)))
            (then (local.set $bad (i32.add (local.get $bad) (i32.const 1)))))
          (local.set $i (i32.add (local.get $i) (i32.const 4096)))
          (br_if $word (i32.lt_u (local.get $i) (local.get $end))))
        (local.set $rounds (i32.add (local.get $rounds) (i32.const 1)))
        (br_if $round (i32.eqz (local.get $last))))
      (i32.store (i32.add (i32.const 16) (i32.mul (local.get $tag) (i32.const 4))) (local.get $rounds))
      (i32.add (i32.mul (local.get $bad) (i32.const 0x10000)) (i32.div_u (local.get $end) (i32.const 65536)))))`;
  const GROWTH_TIERS = {
    ...TIERS,
    'baseline, bounds-checked': { ...TIERS.baseline, boundsChecks: true },
    'optimized, bounds-checked': { ...TIERS.optimized, boundsChecks: true },
  };

  test.each(Object.keys(GROWTH_TIERS))('memory.grow in one Worker while three others load and store: no trap, no lost store, all of it seen (%s tier)', async (tier) => {
    setCompileOptions(GROWTH_TIERS[tier]);
    const memory = new cranewasm.Memory({ initial: 1, maximum: 64, shared: true });
    const bytes = wat(GROW_MODULE);
    const churners = [1, 2, 3].map((tag) => worker(memory, bytes, GROWTH_TIERS[tier], `parentPort.postMessage(exports.churn(${tag}));`));
    const grower = worker(memory, bytes, GROWTH_TIERS[tier], `
      const pause = new Int32Array(new SharedArrayBuffer(4));
      let grown = 0;
      while (exports.grow1() !== -1) { grown++; Atomics.wait(pause, 0, 0, 1); }
      exports.done();
      parentPort.postMessage([grown, exports.size()]);`);
    const [grown, ...churned] = await Promise.all([grower, ...churners].map(message));
    expect(grown).toEqual([63, 64]);
    // Each churner: no mismatch (high half), and its last round saw 64 pages (low half).
    expect(churned).toEqual([64, 64, 64]);
    const words = new Int32Array(memory.buffer);
    expect(memory.buffer.byteLength).toBe(64 * 65536);
    for (const tag of [1, 2, 3]) {
      expect(words[4 + tag]).toBeGreaterThan(0); // rounds
      for (const i of [64 + tag * 8, 64 + tag * 8 + 4096 * 100, 64 + tag * 8 + 4096 * 1023]) expect(words[i / 4]).toBe(i + tag);
    }
    await Promise.all([grower, ...churners].map((w) => w.terminate()));
  });

  // Lazy compilation and tier-up racing from several threads on one module's code (the module
  // cache gives every Worker the same compiled module): each Worker's first call of `step`
  // races the others' to compile it, and hot `step` and `inc` are optimized in the background
  // and installed while all four run them.
  test.each(['dynamic', 'eager'])('4 Workers calling lazily compiled functions of one module while it tiers up (%s) give exactly 4 x 300,000', async (tierUp) => {
    const options = { lazy: true, firstTier: 'baseline', tierUp };
    setCompileOptions(options);
    const memory = new cranewasm.Memory({ initial: 1, maximum: 2, shared: true });
    const bytes = wat(`(module (import "m" "mem" (memory 1 2 shared))
      (func $step (param i32) (drop (i32.atomic.rmw.add (i32.const 0) (local.get 0))))
      (func $twice (param i32) (call $step (local.get 0)) (call $step (local.get 0)))
      (func (export "inc") (param i32) (loop $l (call $twice (i32.const 1)) (call $step (i32.const 1))
        (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))))`);
    const workers = [0, 1, 2, 3].map(() => worker(memory, bytes, options, `
      for (let i = 0; i < 100; i++) exports.inc(1000);
      parentPort.postMessage(1);`));
    await Promise.all(workers.map(message));
    expect(Atomics.load(new Int32Array(memory.buffer), 0)).toBe(4 * 300000);
    await Promise.all(workers.map((w) => w.terminate()));
  });

  test('the SharedArrayBuffer of another value gives no memory', () => {
    const { sharedMemoryFromBuffer } = require('../engine');
    expect(sharedMemoryFromBuffer(new SharedArrayBuffer(8))).toBe(null);
    expect(sharedMemoryFromBuffer(new ArrayBuffer(8))).toBe(null);
    expect(sharedMemoryFromBuffer(new cranewasm.Memory({ initial: 1 }).buffer)).toBe(null);
    const memory = new cranewasm.Memory({ initial: 1, maximum: 1, shared: true });
    const again = sharedMemoryFromBuffer(memory.buffer);
    new Int32Array(again.buffer)[0] = 5;
    expect(new Int32Array(memory.buffer)[0]).toBe(5);
  });

  test('a growth in a Worker is seen here; wasm notify here wakes a wasm wait there', async () => {
    const memory = new cranewasm.Memory({ initial: 1, maximum: 2, shared: true });
    const bytes = wat(MODULE);
    const here = new cranewasm.Instance(new cranewasm.Module(bytes), { m: { mem: memory } }).exports;
    const w = worker(memory, bytes, {}, `parentPort.postMessage(exports.grow()); parentPort.postMessage(exports.wait());`);
    expect(await message(w)).toBe(1);
    expect(here.size()).toBe(2);
    expect(memory.buffer.byteLength).toBe(131072);
    const woken = message(w);
    let notified = 0;
    while (notified === 0) {
      notified = here.notify();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(await woken).toBe(0);
    await w.terminate();
  });

  test('a Worker terminated while it waits (forever) stops at once', async () => {
    const memory = new cranewasm.Memory({ initial: 1, maximum: 2, shared: true });
    const w = worker(memory, wat(MODULE), {}, 'parentPort.postMessage(1); exports.wait();');
    await message(w);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await w.terminate();
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

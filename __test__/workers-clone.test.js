'use strict';
// Module and shared Memory objects sent to other threads (postMessage both ways, workerData,
// MessageChannel ports, receiveMessageOnPort, BroadcastChannel, structuredClone), through the
// public JS API. Under `cranewasm/register` each scenario runs in a process of its own
// (helpers/clone-driver.js), once on cranewasm and once on Node's engine, and the reports must
// be identical: what arrives, identities, the same linear memory (writes and growth seen on both
// sides), the DataCloneErrors of what cannot be cloned, Workers terminated while they wait or
// run. Then what only cranewasm can show (the code is shared, not compiled again), 1,000 Workers
// with flat RSS, the same by hand without register (cranewasm/engine's encodeMessage and
// decodeMessage), and a real Emscripten pthreads package (wasm-vips) unmodified.

const { execFile } = require('child_process');
const path = require('path');
const { promisify } = require('util');

const execFileAsync = promisify(execFile);
const HELPERS = path.join(__dirname, 'helpers');

async function drive(script, args, nodeArgs = []) {
  const { stdout } = await execFileAsync(process.execPath, [...nodeArgs, path.join(HELPERS, script), ...args], {
    cwd: path.join(__dirname, '..'),
    maxBuffer: 64 << 20,
    timeout: 110000,
  });
  return JSON.parse(stdout);
}

// One scenario on both engines (each in its own process); the reports, checked to be each engine's.
async function both(scenario, nodeArgs = []) {
  const [cranewasm, node] = await Promise.all([drive('clone-driver.js', ['cranewasm', scenario], nodeArgs), drive('clone-driver.js', ['node', scenario], nodeArgs)]);
  expect(cranewasm.isCranewasm).toBe(true);
  expect(node.isCranewasm).toBe(false);
  return [cranewasm.report, node.report];
}

test('Module and shared Memory arrive as working objects: workerData, postMessage both ways, ports, BroadcastChannel, structuredClone (as on Node)', async () => {
  const [report, node] = await both('roundTrip');
  expect(report).toEqual(node);
  // What the reports say (the same on both engines).
  expect(report.workerData).toEqual(['Module', 'Memory', true, true, true, true, true, 7]);
  expect(report.exports.map((e) => e.name)).toEqual(['add', 'load', 'grow', 'size', 'spin', 'wait', 'notify']);
  expect(report.oldValue).toBe(1); // the Worker saw this thread's write
  expect(report.second).toEqual({ cycleKept: true, grew: 1, size: 2, byteLength: 131072 });
  expect(report.growthSeenHere).toEqual([2, 131072, 9]); // the Worker's growth and write, here
  expect(report.back).toEqual([true, true, false, false, 9]); // sent back: new objects, same memory
  expect(report.echoedMemoryIsSame).toBe(42);
  expect(report.viaPort).toEqual([['once', 'Module', 'Memory', 11], ['onmessage', 'Memory', 111], ['addEventListener', 'Module']]);
  expect(report.receiveMessageOnPort).toEqual(['Module', 'Memory', true]);
  expect(report.broadcast).toEqual(['Module', 111]);
  expect(report.structuredClone).toEqual([true, true, true, true, true, 111, 4]);
});

test('what V8 cannot clone (unshared Memory, Table, Global, Instance, Tag, Exception) throws the same DataCloneError as on Node', async () => {
  const [report, node] = await both('refused');
  expect(report).toEqual(node);
  for (const [name, ways] of Object.entries(report)) {
    for (const [way, error] of Object.entries(ways)) {
      expect([name, way, error.constructor, error.name, error.code]).toEqual([name, way, 'DOMException', 'DataCloneError', 25]);
    }
  }
  expect(report.memory.port.message).toBe('#<Memory> could not be cloned.');
  expect(report.withModule.worker.message).toBe('#<Memory> could not be cloned.');
  expect(report.functionFirst.structuredClone.message).toBe('() => 1 could not be cloned.');
});

test('Workers terminated while they wait on the shared memory, or while they run on it, stop at once; the memory stays whole (as on Node)', async () => {
  const [report, node] = await both('terminated');
  expect(report).toEqual(node);
  expect(report).toEqual({
    waiting: 'waiting', waiterExit: 1, waiterStoppedQuickly: true,
    spinning: 'spinning', spinnerExit: 1, spinnerStoppedQuickly: true,
    spunSome: true, growsHere: 1, size: 131072, notifyWakesNone: 0,
  });
});

test('JS Atomics.wait and wasm memory.atomic.notify wake each other both ways, across threads, after a growth too (as on Node)', async () => {
  const [report, node] = await both('atomicsInterop');
  expect(report).toEqual(node);
  expect(report).toMatchObject({
    wasmNotifyWoke: 1, jsWaitResult: 'ok', jsNotifyWoke: 1, wasmWaitResult: 0,
    jsNotifyAfterGrowth: 1, grownWait: 'ok', wasmNotifyAfterGrowth: 1, grownWaitAgain: 'ok',
    nobodyLeft: [0, 0, 0, 0, 0],
  });
});

test('JS Atomics.wait/waitAsync in one thread and Atomics.notify in another, on their own buffers of one shared Memory, wake each other (as on Node)', async () => {
  const [report, node] = await both('jsAtomics');
  expect(report).toEqual(node);
  expect(report).toEqual({
    waiting: 'waiting', notify: 'woken', syncWait: 'ok',
    waitAsync: true, notifyAsync: 'woken', asyncWait: 'ok',
    workerNotified: 1, hereWait: [true, 'ok'],
  });
});

test('two JS waiters on one cell, on buffers from before and after a growth, are both woken by wasm\'s notify and by JS\'s through either buffer, sync and async (as on Node)', async () => {
  const [report, node] = await both('waitersAcrossGrowth');
  expect(report).toEqual(node);
  expect(report).toEqual({
    grew: 1, lengths: [65536, 131072],
    rounds: [
      ['wasm', 2, ['ok', 'ok']], ['jsNewBuffer', 2, ['ok', 'ok']], ['jsOldBuffer', 2, ['ok', 'ok']],
      ['wasmAsync', 2, ['ok', 'ok']], ['jsNewBufferAsync', 2, ['ok', 'ok']],
    ],
    nobodyLeft: [0, 0],
  });
});

test('a Worker terminated in a JS wait leaves no record that stops later waiters on the cell from being woken, after a growth too (as on Node)', async () => {
  const [report, node] = await both('terminatedJsWaiter', ['--expose-gc']);
  expect(report).toEqual(node);
  expect(report).toEqual({
    stuckWaits: 65536, stuckExit: 1, grew: 1, newLength: 131072, freshWaits: 131072,
    wasmNotify: 1, wasmWoke: 'ok', freshWaitsAgain: 131072, jsNotify: 1, jsWoke: 'ok',
  });
});

test('a Module received is not compiled again: the Worker runs the code this thread compiled, and the reverse', async () => {
  const { report } = await drive('clone-driver.js', ['cranewasm', 'sharesCode']);
  expect(report.before).toMatchObject({ functions: 7, uncompiled: 7, baseline: 0, lazy: true });
  // `add`, compiled lazily here before sending, is compiled there; `load`, compiled there, is here.
  expect(report.statusThere).toMatchObject({ uncompiled: 6, baseline: 1 });
  expect(report.afterThere).toMatchObject({ uncompiled: 5, baseline: 2 });
  expect(report.afterHere).toMatchObject({ uncompiled: 5, baseline: 2 });
  // One compile in the process for the module (the cache counts every thread's).
  expect(report.stats.misses - report.statsBefore.misses).toBe(1);
  expect(report.stats.hits).toBe(report.statsBefore.hits);
});

test('1,000 Workers created and terminated, each given the module and a shared memory: RSS flat, no token left', async () => {
  const { report } = await drive('clone-driver.js', ['cranewasm', 'thousandWorkers'], ['--expose-gc']);
  expect(report.total).toBe(1000);
  // A Worker that kept its batch's memory alive would add 200 MiB (Node's own Workers measure
  // from -1 to +12 MiB here).
  expect(report.growthMiB).toBeLessThan(48);
  expect(report.liveTokens).toBe(0);
}, 120000);

describe('without cranewasm/register: encodeMessage and decodeMessage of cranewasm/engine', () => {
  const cranewasm = require('..');
  const engine = require('../engine');
  const { Worker } = require('worker_threads');
  const ROOT = path.join(__dirname, '..');
  let bytes;
  beforeAll(async () => {
    const wabt = await require('wabt')();
    bytes = wabt.parseWat('t.wat', `(module (import "m" "mem" (memory 1 2 shared))
      (func (export "add") (param i32 i32) (result i32) (i32.atomic.rmw.add (local.get 0) (local.get 1))))`, { threads: true }).toBinary({}).buffer;
  });

  test('a message with neither Module nor shared Memory is left as it is', () => {
    const value = { a: [1, 2], m: new Map([[1, 2]]) };
    expect(engine.encodeMessage(value)).toBe(value);
    expect(engine.decodeMessage(value)).toBe(value);
    const unshared = { memory: new cranewasm.Memory({ initial: 1 }) };
    expect(engine.encodeMessage(unshared)).toBe(unshared); // V8 refuses it, as it refuses Node's
  });

  test('an encoded message crosses to a Worker (with cranewasm, not registered) and back', async () => {
    const module = new cranewasm.Module(bytes);
    const memory = new cranewasm.Memory({ initial: 1, maximum: 2, shared: true });
    const worker = new Worker(`
      const { parentPort } = require('worker_threads');
      const W = require(${JSON.stringify(ROOT)});
      const { decodeMessage, encodeMessage } = require(${JSON.stringify(path.join(ROOT, 'engine.js'))});
      parentPort.once('message', (raw) => {
        const { module, memory } = decodeMessage(raw);
        const old = new W.Instance(module, { m: { mem: memory } }).exports.add(0, 5);
        parentPort.postMessage(encodeMessage({ old, module, memory, isModule: module instanceof W.Module }));
      });`, { eval: true });
    const reply = new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
    new Int32Array(memory.buffer)[0] = 10;
    const encoded = engine.encodeMessage({ module, memory });
    expect(() => structuredClone({ module })).toThrow('could not be cloned'); // no hooks here
    worker.postMessage(encoded);
    const back = engine.decodeMessage(await reply);
    await worker.terminate();
    expect(back.old).toBe(10);
    expect(back.isModule).toBe(true);
    expect(back.module).toBeInstanceOf(cranewasm.Module);
    expect(back.memory).toBeInstanceOf(cranewasm.Memory);
    expect(new Int32Array(back.memory.buffer)[0]).toBe(15);
    expect(new cranewasm.Instance(back.module, { m: { mem: back.memory } }).exports.add(0, 1)).toBe(15);
    expect(new Int32Array(memory.buffer)[0]).toBe(16);
  });
});

test('wasm-vips (libvips, Emscripten -pthread) runs unmodified under cranewasm/register, its pthreads on cranewasm, with Node\'s results', async () => {
  const [cranewasm, node] = await Promise.all([drive('vips-driver.js', ['cranewasm', 'dynamic']), drive('vips-driver.js', ['node', 'dynamic'])]);
  expect(cranewasm.globalIsCranewasm).toBe(true);
  expect(node.globalIsCranewasm).toBe(false);
  expect(cranewasm.output).toEqual(node.output);
  // Its pthreads (a pool of Workers) were each sent the Module (and its side modules).
  expect(cranewasm.tokens).toBeGreaterThanOrEqual(cranewasm.output.concurrency);
  expect(Object.keys(cranewasm.output.results)).toHaveLength(6);
  expect(cranewasm.output.loaders).toEqual([true, true]);
}, 120000);

test('@oxc-parser/binding-wasm32-wasi (napi-rs, wasm32-wasip1-threads on @napi-rs/wasm-runtime) runs unmodified under cranewasm/register, with Node\'s results', async () => {
  const [cranewasm, node] = await Promise.all([drive('oxc-driver.js', ['cranewasm']), drive('oxc-driver.js', ['node'])]);
  expect(cranewasm.globalIsCranewasm).toBe(true);
  expect(node.globalIsCranewasm).toBe(false);
  expect(cranewasm.output).toEqual(node.output);
  expect(cranewasm.tokens).toBeGreaterThan(0); // its threads were sent the Module
  expect(cranewasm.output.sync.program.node.type).toBe('Program');
  expect(cranewasm.output.async.map((r) => r.errors.length > 0)).toEqual([false, true, false, true, false, true, false, true]);
}, 120000);

// Module and Memory objects across threads, on one engine, in a process of its own; prints a JSON
// report. Used by workers-clone.test.js, which runs each scenario once per engine and compares.
//
//   node clone-driver.js <cranewasm|node> <scenario>
//
// With "cranewasm", `require('cranewasm/register')` is loaded first, as a user would, so the
// Workers use cranewasm too; with "node", Node's built-in WebAssembly throughout. The scenarios'
// code is the same for both: it only uses the global WebAssembly and worker_threads.
'use strict';

const path = require('path');

const [engineName, scenario] = process.argv.slice(2);
const ROOT = path.join(__dirname, '..', '..');
if (engineName === 'cranewasm') require(path.join(ROOT, 'register.js'));
else if (engineName !== 'node') throw new Error(`unknown engine ${engineName}`);

const { Worker, MessageChannel, BroadcastChannel, receiveMessageOnPort } = require('worker_threads');
const engine = require(path.join(ROOT, 'engine.js'));
const W = globalThis.WebAssembly;
const isCranewasm = engineName === 'cranewasm';

// The module every scenario shares: atomics on an imported shared memory.
const WAT = `(module (import "m" "mem" (memory 1 16 shared))
  (func (export "add") (param i32 i32) (result i32) (i32.atomic.rmw.add (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32) (i32.atomic.load (local.get 0)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "spin") (loop $l (drop (i32.atomic.rmw.add (i32.const 4) (i32.const 1))) (br $l)))
  (func (export "wait") (param i32 i32) (result i32) (memory.atomic.wait32 (local.get 0) (local.get 1) (i64.const -1)))
  (func (export "notify") (param i32) (result i32) (memory.atomic.notify (local.get 0) (i32.const 1))))`;

async function moduleBytes() {
  const wabt = await require('wabt')();
  const parsed = wabt.parseWat('clone.wat', WAT, { threads: true });
  return parsed.toBinary({}).buffer;
}

const instantiate = (module, memory) => new W.Instance(module, { m: { mem: memory } }).exports;
const message = (emitter) => new Promise((resolve, reject) => {
  emitter.once('message', resolve);
  if (emitter instanceof Worker) emitter.once('error', reject);
});
const tick = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A Worker running `body` with `send(value)`, `next()` (the next message from here, a promise),
// `instantiate(module, memory)` and the engine's WebAssembly (the global).
function worker(body, options = {}) {
  const source = `
    const { parentPort, workerData, receiveMessageOnPort, BroadcastChannel } = require('worker_threads');
    const W = globalThis.WebAssembly;
    const send = (value) => parentPort.postMessage(value);
    const next = () => new Promise((resolve) => parentPort.once('message', resolve));
    const instantiate = (module, memory) => new W.Instance(module, { m: { mem: memory } }).exports;
    const kind = (v) => v instanceof W.Module ? 'Module' : v instanceof W.Memory ? 'Memory' : typeof v;
    (async () => { ${body} })().catch((err) => send({ failed: String(err && err.stack || err) }));`;
  return new Worker(source, { eval: true, ...options });
}

// What a DataCloneError (or any throw) looks like, for comparing engines.
function thrown(f) {
  try {
    f();
    return 'no error';
  } catch (err) {
    return { constructor: err.constructor.name, name: err.name, message: err.message, code: err.code };
  }
}

const scenarios = {
  // Module and shared Memory objects through workerData, Worker.postMessage both ways, a
  // MessageChannel port (listeners, onmessage, receiveMessageOnPort), BroadcastChannel and
  // structuredClone: what arrives, identities kept, the same memory (writes and growth seen on
  // both sides), the module instantiable there.
  async roundTrip() {
    const log = {};
    const bytes = await moduleBytes();
    const module = new W.Module(bytes);
    const memory = new W.Memory({ initial: 1, maximum: 4, shared: true });
    const here = instantiate(module, memory);
    here.add(0, 1);

    const cycle = { name: 'cycle' };
    cycle.self = cycle;
    cycle.module = module;
    const w = worker(`
      const d = workerData;
      const report = {
        workerData: [kind(d.module), kind(d.memory), d.list[0] === d.module, d.list[1] === d.memory,
          d.map.get(d.module) === d.memory, d.set.has(d.memory), d.plain.deep.module === d.module, d.number],
        exports: W.Module.exports(d.module),
      };
      const e = instantiate(d.module, d.memory);
      report.oldValue = e.add(0, 10);
      send(report);

      const m = await next();
      const e2 = instantiate(m.module, m.memory);
      const cycleKept = m.cycle.self === m.cycle && kind(m.cycle.module) === 'Module' && m.cycle.module === m.module;
      const grew = e2.grow(1);
      e2.add(65536, 9);
      send({ cycleKept, grew, size: e2.size(), byteLength: m.memory.buffer.byteLength, back: { module: m.module, memory: m.memory } });

      const { port } = await next();
      const viaPort = [];
      port.once('message', (p) => {
        viaPort.push(['once', kind(p.module), kind(p.memory), instantiate(p.module, p.memory).add(0, 100)]);
        port.onmessage = (event) => {
          viaPort.push(['onmessage', kind(event.data[0]), event.data[0] instanceof W.Memory && new Int32Array(event.data[0].buffer)[0]]);
          port.onmessage = null;
          port.addEventListener('message', (event2) => {
            viaPort.push(['addEventListener', kind(event2.data.module)]);
            port.close();
            send(viaPort);
          }, { once: true });
        };
      });
      send('port ready');

      const { direct } = await next();
      const received = receiveMessageOnPort(direct);
      send({ receiveMessageOnPort: [kind(received.message.module), kind(received.message.memory), Array.isArray(received.message.list)] });
      direct.close();

      const channel = new BroadcastChannel('clone-test');
      channel.onmessage = (event) => {
        const e3 = instantiate(event.data.module, event.data.memory);
        send({ broadcast: [kind(event.data.module), e3.load(0)] });
        channel.close();
      };
      send('broadcast ready');
    `, { workerData: { module, memory, list: [module, memory], map: new Map([[module, memory]]), set: new Set([memory]), plain: { deep: { module } }, number: 7 } });

    Object.assign(log, await message(w));
    w.postMessage({ module, memory, cycle });
    const back = await message(w);
    log.second = { cycleKept: back.cycleKept, grew: back.grew, size: back.size, byteLength: back.byteLength };
    log.growthSeenHere = [here.size(), memory.buffer.byteLength, new Int32Array(memory.buffer)[65536 / 4]];
    log.back = [back.back.module instanceof W.Module, back.back.memory instanceof W.Memory, back.back.module === module,
      back.back.memory === memory, instantiate(back.back.module, back.back.memory).load(65536)];
    new Int32Array(back.back.memory.buffer)[2] = 42; // the echoed memory is this one
    log.echoedMemoryIsSame = new Int32Array(memory.buffer)[2];

    const { port1, port2 } = new MessageChannel();
    w.postMessage({ port: port2 }, [port2]);
    log.portReady = await message(w);
    const viaPort = message(w);
    port1.postMessage({ module, memory });
    port1.postMessage([memory]);
    port1.postMessage({ module });
    log.viaPort = await viaPort;
    port1.close();

    const direct = new MessageChannel();
    direct.port1.postMessage({ module, memory, list: [1, 2] });
    w.postMessage({ direct: direct.port2 }, [direct.port2]);
    log.receiveMessageOnPort = (await message(w)).receiveMessageOnPort;
    direct.port1.close();

    log.broadcastReady = await message(w);
    const channel = new BroadcastChannel('clone-test');
    const broadcast = message(w);
    channel.postMessage({ module, memory });
    log.broadcast = (await broadcast).broadcast;
    channel.close();
    await w.terminate();

    // structuredClone in this thread: a new Module object over the same module, and the same memory.
    const clone = structuredClone({ module, memory, again: module, ab: new ArrayBuffer(4) });
    log.structuredClone = [clone.module instanceof W.Module, clone.module !== module, clone.again === clone.module,
      clone.memory instanceof W.Memory, clone.memory !== memory, new Int32Array(clone.memory.buffer)[0], clone.ab.byteLength];
    log.final = new Int32Array(memory.buffer)[0];
    return log;
  },

  // What cannot be cloned (V8: an unshared Memory, Table, Global, Instance, Tag, Exception)
  // throws the same DataCloneError on both engines, through structuredClone, a port, a Worker's
  // postMessage and workerData; and a message that also holds a Module still throws.
  async refused() {
    const bytes = await moduleBytes();
    const module = new W.Module(bytes);
    const shared = new W.Memory({ initial: 1, maximum: 4, shared: true });
    const instance = new W.Instance(module, { m: { mem: shared } });
    const tag = new W.Tag({ parameters: ['i32'] });
    const values = {
      memory: new W.Memory({ initial: 1 }),
      table: new W.Table({ element: 'anyfunc', initial: 1 }),
      global: new W.Global({ value: 'i32', mutable: true }, 3),
      instance,
      tag,
      exception: new W.Exception(tag, [1]),
      nested: { a: [1, { table: new W.Table({ element: 'externref', initial: 1 }) }] },
      withModule: { module, shared, memory: new W.Memory({ initial: 1 }) },
      functionFirst: [module, () => 1, new W.Memory({ initial: 1 })],
      memoryInMap: new Map([[shared, new W.Global({ value: 'f64' })]]),
    };
    const log = {};
    const { port1, port2 } = new MessageChannel();
    const w = worker('send("up"); await next();');
    await message(w);
    for (const [name, value] of Object.entries(values)) {
      log[name] = {
        structuredClone: thrown(() => structuredClone(value)),
        port: thrown(() => port1.postMessage(value)),
        worker: thrown(() => w.postMessage(value)),
        workerData: thrown(() => new Worker('1', { eval: true, workerData: value })),
      };
    }
    port1.close();
    port2.close();
    w.postMessage('done');
    await w.terminate();
    return log;
  },

  // Workers terminated while they wait on the shared memory (a wasm wait with no timeout) or
  // while they run on it (an endless loop of atomic adds): they stop at once, and the memory and
  // module stay whole here.
  async terminated() {
    const bytes = await moduleBytes();
    const module = new W.Module(bytes);
    const memory = new W.Memory({ initial: 1, maximum: 4, shared: true });
    const log = {};
    const waiter = worker(`const e = instantiate(workerData.module, workerData.memory); send('waiting'); send(e.wait(8, 0));`,
      { workerData: { module, memory } });
    log.waiting = await message(waiter);
    await tick(50);
    let started = Date.now();
    log.waiterExit = await waiter.terminate();
    log.waiterStoppedQuickly = Date.now() - started < 2000;

    const spinner = worker(`const m = await next(); const e = instantiate(m.module, m.memory); send('spinning'); e.spin();`);
    spinner.postMessage({ module, memory });
    log.spinning = await message(spinner);
    await tick(50);
    started = Date.now();
    log.spinnerExit = await spinner.terminate();
    log.spinnerStoppedQuickly = Date.now() - started < 2000;
    const here = instantiate(module, memory);
    log.spunSome = here.load(4) > 0;
    log.growsHere = here.grow(1);
    log.size = memory.buffer.byteLength;
    log.notifyWakesNone = here.notify(8);
    return log;
  },

  // JS's Atomics.wait/notify and wasm's wait/notify on one shared memory wake each other, both
  // ways, across threads (and JS's notify counts the wasm waiters it wakes).
  async atomicsInterop() {
    const bytes = await moduleBytes();
    const module = new W.Module(bytes);
    const memory = new W.Memory({ initial: 1, maximum: 4, shared: true });
    const here = instantiate(module, memory);
    const view = new Int32Array(memory.buffer);
    const log = {};
    // Notifies (by `notify`) until it wakes one; how many tries that took is not reported.
    const notifyUntilWoken = async (notify) => {
      for (let tries = 0; tries < 2000; tries++) {
        const woken = notify();
        if (woken !== 0) return woken;
        await tick(5);
      }
      return 'never woken';
    };
    const jsWaiter = worker(`const m = await next(); const view = new Int32Array(m.memory.buffer);
      send('waiting'); send(Atomics.wait(view, 2, 0, 10000));`);
    jsWaiter.postMessage({ module, memory });
    log.jsWaiting = await message(jsWaiter);
    const jsWoken = message(jsWaiter);
    log.wasmNotifyWoke = await notifyUntilWoken(() => here.notify(8));
    log.jsWaitResult = await jsWoken;
    await jsWaiter.terminate();

    const wasmWaiter = worker(`const m = await next(); const e = instantiate(m.module, m.memory);
      send('waiting'); send(e.wait(12, 0));`);
    wasmWaiter.postMessage({ module, memory });
    log.wasmWaiting = await message(wasmWaiter);
    const wasmWoken = message(wasmWaiter);
    log.jsNotifyWoke = await notifyUntilWoken(() => Atomics.notify(view, 3, 1));
    log.wasmWaitResult = await wasmWoken;
    await wasmWaiter.terminate();
    // A JS waiter on a buffer from before a growth, woken by a notify after it: JS's on the new
    // buffer, then wasm's.
    const grown = worker(`const m = await next(); const view = new Int32Array(m.memory.buffer);
      send('waiting'); send(Atomics.wait(view, 5, 0, 20000)); await next();
      send('waiting'); send(Atomics.wait(view, 5, 0, 20000));`);
    grown.postMessage({ memory });
    log.grownWaiting = await message(grown);
    log.grew = memory.grow(1);
    const grownView = new Int32Array(memory.buffer);
    let grownWoken = message(grown);
    log.jsNotifyAfterGrowth = await notifyUntilWoken(() => Atomics.notify(grownView, 5, 1));
    log.grownWait = await grownWoken;
    const again = message(grown);
    grown.postMessage('again');
    log.grownWaitingAgain = await again;
    grownWoken = message(grown);
    log.wasmNotifyAfterGrowth = await notifyUntilWoken(() => here.notify(20));
    log.grownWaitAgain = await grownWoken;
    await grown.terminate();
    log.nobodyLeft = [Atomics.notify(grownView, 2), Atomics.notify(grownView, 3), here.notify(8), here.notify(12), here.notify(20)];
    log.badNotify = thrown(() => Atomics.notify(new Int32Array(new SharedArrayBuffer(16)), 9));
    log.badWait = thrown(() => Atomics.wait(new Int32Array(grownView.buffer), 0, 1, 0));
    return log;
  },


  // JS's Atomics.wait in a Worker, on the buffer of the Memory it received, and Atomics.notify
  // here, on this thread's buffer of it: V8 wakes only waiters of the notifier's backing store
  // (and aborted the process on another live one at the same address), so every thread's
  // buffers of a memory must share one. Both ways, sync and async.
  async jsAtomics() {
    const memory = new W.Memory({ initial: 1, maximum: 4, shared: true });
    const view = new Int32Array(memory.buffer);
    const log = {};
    const notifyUntilWoken = async (notify) => {
      for (let tries = 0; tries < 2000; tries++) {
        if (notify() !== 0) return 'woken';
        await tick(5);
      }
      return 'never woken';
    };
    const w = worker(`const m = await next(); const v = new Int32Array(m.memory.buffer);
      send('waiting'); send(Atomics.wait(v, 2, 0, 20000));
      const again = await next(); const v2 = new Int32Array(again.memory.buffer);
      const keepAlive = setInterval(() => {}, 1000); // a pending waitAsync keeps no event loop alive
      const result = Atomics.waitAsync(v2, 4, 0, 20000); send(result.async); send(await result.value);
      clearInterval(keepAlive);
      await next();
      let woke = 0;
      for (let tries = 0; tries < 2000 && woke === 0; tries++) {
        woke = Atomics.notify(v2, 6, 1);
        if (woke === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      send(woke);`);
    w.postMessage({ memory });
    log.waiting = await message(w);
    const woken = message(w);
    log.notify = await notifyUntilWoken(() => Atomics.notify(view, 2, 1));
    log.syncWait = await woken;
    const asyncStarted = message(w);
    w.postMessage({ memory });
    log.waitAsync = await asyncStarted;
    const asyncWoken = message(w);
    log.notifyAsync = await notifyUntilWoken(() => Atomics.notify(view, 4, 1));
    log.asyncWait = await asyncWoken;
    // Here waits (async: this thread must go on), the Worker notifies.
    const here = Atomics.waitAsync(view, 6, 0, 20000);
    const reply = message(w);
    w.postMessage('go');
    log.workerNotified = await reply;
    log.hereWait = [here.async, await here.value];
    await w.terminate();
    return log;
  },

  // Two JS waiters on one cell of a shared memory, one on a buffer from before a growth, one on a
  // buffer from after it (on Node both buffers have the memory's one backing store; cranewasm
  // makes one per length): wasm's notify, JS's on the new buffer and JS's on a buffer from before
  // the growth each wake both.
  async waitersAcrossGrowth() {
    const bytes = await moduleBytes();
    const module = new W.Module(bytes);
    const memory = new W.Memory({ initial: 1, maximum: 4, shared: true });
    const oldView = new Int32Array(memory.buffer);
    const here = instantiate(module, memory);
    const log = { rounds: [] };
    // Notifies (each call of `notify` returns how many it woke) until `count` are woken in all.
    const notifyUntil = async (count, notify) => {
      let woken = 0;
      for (let tries = 0; tries < 2000 && woken < count; tries++) {
        woken += notify();
        if (woken < count) await tick(5);
      }
      return woken;
    };
    // Waits with Atomics.wait, or with waitAsync once told 'async'.
    const body = `const m = await next(); const view = new Int32Array(m.memory.buffer);
      for (let mode = 'sync'; mode !== 'stop'; mode = await next()) {
        send(view.buffer.byteLength);
        if (mode === 'sync') {
          send(Atomics.wait(view, 6, 0, 20000));
        } else {
          const keepAlive = setInterval(() => {}, 1000); // a pending waitAsync keeps no loop alive
          const result = Atomics.waitAsync(view, 6, 0, 20000);
          send(result.async ? await result.value : 'not async');
          clearInterval(keepAlive);
        }
      }`;
    const before = worker(body);
    before.postMessage({ memory });
    const lengths = [await message(before)];
    log.grew = memory.grow(1);
    const after = worker(body);
    after.postMessage({ memory });
    lengths.push(await message(after));
    log.lengths = lengths;
    const notifies = [
      ['wasm', 'sync', () => here.notify(24)],
      ['jsNewBuffer', 'sync', () => Atomics.notify(new Int32Array(memory.buffer), 6)],
      ['jsOldBuffer', 'sync', () => Atomics.notify(oldView, 6)],
      ['wasmAsync', 'async', () => here.notify(24)],
      ['jsNewBufferAsync', 'async', () => Atomics.notify(new Int32Array(memory.buffer), 6)],
    ];
    let first = true;
    for (const [name, mode, notify] of notifies) {
      if (!first) {
        const waiting = [message(before), message(after)];
        before.postMessage(mode);
        after.postMessage(mode);
        await Promise.all(waiting);
      }
      first = false;
      const results = [message(before), message(after)];
      const woken = await notifyUntil(2, notify);
      log.rounds.push([name, woken, await Promise.all(results)]);
    }
    before.postMessage('stop');
    after.postMessage('stop');
    log.nobodyLeft = [here.notify(24), Atomics.notify(oldView, 6)];
    await Promise.all([before.terminate(), after.terminate()]);
    return log;
  },

  // A Worker terminated while in a JS wait (no `finally` runs: nothing says its wait ended), then
  // the memory grows and its old buffers are collected, then another Worker waits on the same
  // cell through a new buffer: notifies, wasm's and JS's, wake it. (Run with --expose-gc.)
  async terminatedJsWaiter() {
    const bytes = await moduleBytes();
    const module = new W.Module(bytes);
    const memory = new W.Memory({ initial: 1, maximum: 4, shared: true });
    const here = instantiate(module, memory);
    const log = {};
    const notifyUntil = async (notify) => {
      for (let tries = 0; tries < 2000; tries++) {
        const woken = notify();
        if (woken !== 0) return woken;
        await tick(5);
      }
      return 0;
    };
    const body = `const m = await next(); let view = new Int32Array(m.memory.buffer);
      send(view.buffer.byteLength); send(Atomics.wait(view, 6, 0, 20000));
      await next(); view = new Int32Array(m.memory.buffer);
      send(view.buffer.byteLength); send(Atomics.wait(view, 6, 0, 20000));`;
    const stuck = worker(body);
    stuck.postMessage({ memory });
    log.stuckWaits = await message(stuck);
    await tick(50);
    log.stuckExit = await stuck.terminate();
    log.grew = memory.grow(1);
    log.newLength = memory.buffer.byteLength; // this thread lets go of the old buffer
    for (let i = 0; i < 5; i++) {
      global.gc();
      await tick(20);
    }
    const fresh = worker(body);
    fresh.postMessage({ memory });
    log.freshWaits = await message(fresh);
    let woken = message(fresh);
    log.wasmNotify = await notifyUntil(() => here.notify(24));
    log.wasmWoke = await woken;
    const again = message(fresh);
    fresh.postMessage('again');
    log.freshWaitsAgain = await again;
    woken = message(fresh);
    log.jsNotify = await notifyUntil(() => Atomics.notify(new Int32Array(memory.buffer), 6));
    log.jsWoke = await woken;
    await fresh.terminate();
    return log;
  },

  // cranewasm only: a Module received is not compiled again; its code and tier state are the
  // sender's. Lazy compilation without tier-up: what one thread compiles, the other runs.
  async sharesCode() {
    engine.setCompileOptions({ lazy: true, tierUp: 'off', firstTier: 'baseline' });
    const bytes = await moduleBytes();
    const statsBefore = engine.moduleCacheStats();
    const module = new W.Module(bytes);
    const memory = new W.Memory({ initial: 1, maximum: 4, shared: true });
    const log = { before: engine.compileStatus(module), statsBefore };
    instantiate(module, memory).add(0, 1); // compiles `add` here
    const w = worker(`
      const { compileStatus, moduleCacheStats } = require(workerData.root + '/engine.js');
      const m = await next();
      const status = compileStatus(m.module);
      instantiate(m.module, m.memory).load(0); // compiles \`load\` there
      send({ statusThere: status, afterThere: compileStatus(m.module), stats: moduleCacheStats() });
    `, { workerData: { root: ROOT } });
    w.postMessage({ module, memory });
    Object.assign(log, await message(w));
    log.afterHere = engine.compileStatus(module);
    log.stats = engine.moduleCacheStats();
    await w.terminate();
    return log;
  },

  // 1,000 Workers, created and terminated a few at a time, each given the module and the shared
  // memory of its batch (1 MiB, every byte written) that it instantiates and adds to; RSS is
  // sampled after the first 200 and at the end. Were a Worker to keep its memory (or the
  // module's code) alive, the 800 Workers after the first sample would add 200 MiB.
  async thousandWorkers() {
    const bytes = await moduleBytes();
    const module = new W.Module(bytes);
    const TOTAL = Number(process.env.CLONE_TEST_WORKERS || 1000);
    const BATCH = 4;
    const body = `
      const m = await next();
      const e = instantiate(m.module, m.memory);
      for (let page = 0; page < 16; page++) e.add(page * 65536, 1);
      send(e.load(0));`;
    const samples = {};
    let total = 0;
    for (let done = 0; done < TOTAL; done += BATCH) {
      const memory = new W.Memory({ initial: 16, maximum: 16, shared: true });
      new Uint8Array(memory.buffer).fill(1);
      const batch = [];
      for (let i = 0; i < BATCH; i++) batch.push(worker(body));
      const replies = batch.map(message);
      for (const w of batch) w.postMessage({ module, memory });
      await Promise.all(replies);
      await Promise.all(batch.map((w) => w.terminate()));
      total += Atomics.load(new Int32Array(memory.buffer), 0) - 0x01010101;
      if (done + BATCH === 200) {
        global.gc();
        samples.at200 = process.memoryUsage().rss;
      }
    }
    await tick(100);
    global.gc();
    await tick(100);
    global.gc();
    samples.atEnd = process.memoryUsage().rss;
    const native = isCranewasm ? require(path.join(ROOT, 'binding.js')) : null;
    return { total, growthMiB: (samples.atEnd - samples.at200) / 1048576, liveTokens: native ? native.liveCloneTokens() : 0 };
  },
};

scenarios[scenario]().then((report) => {
  process.stdout.write(`${JSON.stringify({ engine: engineName, isCranewasm: W !== globalThis[Symbol.for('cranewasm.originalWebAssembly')] && isCranewasm, report })}\n`);
  process.exit(0);
}, (err) => {
  process.stderr.write(`${err && err.stack}\n`);
  process.exit(1);
});

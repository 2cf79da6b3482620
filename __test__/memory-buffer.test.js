'use strict';
// Memory.prototype.buffer, whose ArrayBuffer index.js caches per Memory object and keeps while
// the engine's grow epoch stands (the getter is a hot path: wasm-bindgen's glue and Go's
// wasm_exec.js read it on every access). Every way a buffer can be replaced is compared with
// Node's built-in WebAssembly: growth from JS (including grow(0)) and from wasm (including
// memory.grow 0), growth seen inside an import call, other memories growing, shared memories
// grown by a Worker (a new SharedArrayBuffer, the old one valid), receivers that are no Memory.

const path = require('path');
const cranewasm = require('..');
const { outcome } = require('./helpers/differential');

const node = globalThis.WebAssembly;
let wabt;
beforeAll(async () => {
  wabt = await require('wabt')();
});

function wat(text) {
  const parsed = wabt.parseWat('memory-buffer.wat', text, { threads: true });
  parsed.resolveNames();
  return parsed.toBinary({}).buffer;
}

// Runs `steps` ([label, (state) => value]) on both engines and expects the same outcomes.
function expectSameSteps(setup, steps) {
  const run = (W) => {
    const state = setup(W);
    return steps.map(([label, step]) => [label, outcome(() => step(state))]);
  };
  const ours = run(cranewasm);
  expect(ours).toEqual(run(node));
  return ours;
}

// An instance over an imported memory that wasm can grow and that calls back into JS (`env.cb`)
// after a growth, as Go's and wasm-bindgen's glue do on every import call.
const GROWER = `(module
  (import "env" "mem" (memory 1 10))
  (import "env" "cb" (func $cb (param i32)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "growThenCall") (param i32) (call $cb (memory.grow (local.get 0))))
  (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "nop")))`;

function grower(W, cb = () => {}) {
  const mem = new W.Memory({ initial: 1, maximum: 10 });
  const env = { mem, cb: (old) => cb(old, mem) };
  const { exports } = new W.Instance(new W.Module(wat(GROWER)), { env });
  return { mem, exports, env };
}

describe('the buffer stays the same object until the memory grows, as in Node', () => {
  test('across reads and calls into wasm; memory.grow 0 from wasm replaces it', () => {
    expectSameSteps(grower, [
      ['many reads', ({ mem }) => {
        const first = mem.buffer;
        let same = 0;
        for (let i = 0; i < 10_000; i++) if (mem.buffer === first) same++;
        return same;
      }],
      ['after a call into wasm', ({ mem, exports }) => {
        const before = mem.buffer;
        exports.nop();
        exports.store(5, 7);
        return [before === mem.buffer, new Uint8Array(mem.buffer)[5]];
      }],
      // V8 replaces the buffer on any memory.grow, a delta of 0 too (the JS API's "refresh").
      ['after memory.grow 0 from wasm', ({ mem, exports }) => {
        const before = mem.buffer;
        const old = exports.grow(0);
        return [old, before === mem.buffer, before.byteLength];
      }],
      ['after a failed growth from wasm', ({ mem, exports }) => {
        const before = mem.buffer;
        return [exports.grow(100), before === mem.buffer, before.byteLength];
      }],
      ['after a failed growth from JS', ({ mem }) => {
        const before = mem.buffer;
        let error;
        try { mem.grow(100); } catch (err) { error = err.constructor.name; }
        return [error, before === mem.buffer, before.byteLength];
      }],
    ]);
  });

  test('another memory growing leaves this one\'s buffer as it is', () => {
    expectSameSteps((W) => ({ a: new W.Memory({ initial: 1 }), b: new W.Memory({ initial: 1, maximum: 5 }) }), [
      ['grow the other one from JS, many times', ({ a, b }) => {
        const before = a.buffer;
        const results = [];
        for (let i = 0; i < 4; i++) {
          const bOld = b.buffer;
          b.grow(1);
          results.push([a.buffer === before, bOld.byteLength, b.buffer.byteLength]);
        }
        return results;
      }],
    ]);
  });
});

describe('growth replaces the buffer and detaches the old one, as in Node', () => {
  test('growth from JS, then reads in a loop (the cached buffer must not survive it)', () => {
    expectSameSteps((W) => new W.Memory({ initial: 1, maximum: 6 }), [
      ['read, grow, read', (mem) => {
        const seen = [];
        for (let i = 0; i < 5; i++) {
          const before = mem.buffer;
          for (let j = 0; j < 100; j++) mem.buffer; // eslint-disable-line no-unused-expressions
          mem.grow(i % 2); // grow(0) replaces it too
          seen.push([before.byteLength, before === mem.buffer, mem.buffer.byteLength, mem.buffer === mem.buffer]);
        }
        return seen;
      }],
    ]);
  });

  test('growth from wasm, seen after the call returns', () => {
    expectSameSteps(grower, [
      ['grow 1 from wasm', ({ mem, exports }) => {
        const before = mem.buffer;
        const old = exports.grow(1);
        return [old, before.byteLength, before === mem.buffer, mem.buffer.byteLength];
      }],
      ['grow 2 from wasm, the buffer read in between each time', ({ mem, exports }) => {
        const seen = [];
        for (let i = 0; i < 3; i++) {
          const before = mem.buffer;
          exports.grow(2);
          seen.push([before.byteLength, mem.buffer.byteLength]);
        }
        return seen;
      }],
    ]);
  });

  test('growth from wasm, seen inside the import it calls next (the buffer read there)', () => {
    const run = (W) => {
      const seen = [];
      let held;
      const { mem, exports } = grower(W, (old, memory) => {
        seen.push([old, held.byteLength, held === memory.buffer, memory.buffer.byteLength, memory.buffer === memory.buffer]);
        held = memory.buffer;
      });
      held = mem.buffer;
      for (let i = 0; i < 3; i++) exports.growThenCall(i % 2);
      seen.push(['after', held === mem.buffer, mem.buffer.byteLength]);
      return seen;
    };
    const ours = run(cranewasm);
    expect(ours).toEqual(run(node));
    expect(ours.slice(0, 2)).toEqual([[1, 0, false, 65536, true], [1, 0, false, 131072, true]]);
  });

  test('an old view reads nothing once the memory grew from wasm', () => {
    expectSameSteps(grower, [
      ['view lengths', ({ mem, exports }) => {
        const view = new Uint8Array(mem.buffer);
        exports.store(1, 9);
        const before = view[1];
        exports.grow(1);
        return [before, view.length, view[1], new Uint8Array(mem.buffer)[1]];
      }],
    ]);
  });
});

describe('receivers', () => {
  test('the getter on objects that are no Memory throws Node\'s TypeError, before and after a cached read', () => {
    const run = (W) => {
      const getter = Object.getOwnPropertyDescriptor(W.Memory.prototype, 'buffer').get;
      const mem = new W.Memory({ initial: 1 });
      const results = [];
      for (const receiver of [{}, Object.create(W.Memory.prototype), new W.Table({ element: 'anyfunc', initial: 1 }), null, undefined, 1]) {
        results.push(outcome(() => Reflect.apply(getter, receiver, [])));
        results.push(Reflect.apply(getter, mem, []) === mem.buffer);
      }
      return results.map((r) => (r && r.threw ? r.threw : r));
    };
    const ours = run(cranewasm);
    expect(ours).toEqual(run(node));
    expect(ours[0]).toBe('TypeError');
  });
});

describe('shared memories', () => {
  // The SharedArrayBuffer stays valid at its length after a growth; the getter then gives a new,
  // longer one (and a frozen one, as V8 makes it).
  test('growth from JS and from wasm: a new SharedArrayBuffer, the old one valid', () => {
    const MODULE = '(module (import "env" "mem" (memory 1 4 shared)) (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))';
    expectSameSteps((W) => {
      const mem = new W.Memory({ initial: 1, maximum: 4, shared: true });
      const { exports } = new W.Instance(new W.Module(wat(MODULE)), { env: { mem } });
      return { mem, exports };
    }, [
      ['the same object while it does not grow', ({ mem }) => [mem.buffer === mem.buffer, Object.isFrozen(mem.buffer), mem.buffer.byteLength]],
      ['grow from JS', ({ mem }) => {
        const before = mem.buffer;
        new Uint8Array(before)[3] = 42;
        mem.grow(1);
        return [before.byteLength, before === mem.buffer, mem.buffer.byteLength, new Uint8Array(before)[3], Object.isFrozen(mem.buffer)];
      }],
      ['grow from wasm', ({ mem, exports }) => {
        const before = mem.buffer;
        const old = exports.grow(1);
        return [old, before.byteLength, before === mem.buffer, mem.buffer.byteLength, mem.buffer === mem.buffer];
      }],
    ]);
  });

  // A Worker grows the shared memory; this thread's getter, which cached the buffer before, must
  // see the new length. Node's Memory object crosses postMessage; cranewasm's crosses as its
  // SharedArrayBuffer (see README).
  test('growth by a Worker (from JS and from wasm) is seen by the getter here', async () => {
    const { Worker } = require('worker_threads');
    const root = path.resolve(__dirname, '..');
    const bytes = wat('(module (import "env" "mem" (memory 1 4 shared)) (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))');
    const run = async (engineName) => {
      const W = engineName === 'node' ? node : cranewasm;
      const mem = new W.Memory({ initial: 1, maximum: 4, shared: true });
      const source = `
        const { workerData, parentPort } = require('worker_threads');
        const W = workerData.engine === 'node' ? WebAssembly : require(workerData.root);
        const mem = workerData.engine === 'node' ? workerData.memory : require(workerData.root + '/engine').sharedMemoryFromBuffer(workerData.memory);
        const { exports } = new W.Instance(new W.Module(workerData.bytes), { env: { mem } });
        parentPort.on('message', (how) => {
          parentPort.postMessage(how === 'js' ? mem.grow(1) : exports.grow(1));
        });`;
      const worker = new Worker(source, {
        eval: true,
        workerData: { engine: engineName, root, bytes, memory: engineName === 'node' ? mem : mem.buffer },
      });
      const seen = [];
      try {
        for (const how of ['js', 'wasm']) {
          const before = mem.buffer;
          for (let i = 0; i < 1000; i++) mem.buffer; // eslint-disable-line no-unused-expressions
          const reply = new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
          worker.postMessage(how);
          const old = await reply;
          seen.push([how, old, before.byteLength, before === mem.buffer, mem.buffer.byteLength, mem.buffer === mem.buffer]);
        }
      } finally {
        await worker.terminate();
      }
      return seen;
    };
    const ours = await run('cranewasm');
    expect(ours).toEqual(await run('node'));
    expect(ours).toEqual([['js', 1, 65536, false, 131072, true], ['wasm', 2, 131072, false, 196608, true]]);
  });

  // cranewasm only: two Memory objects of one shared memory on one thread (sharedMemoryFromBuffer)
  // see each other's growths.
  test('two Memory objects of one memory: a growth through one is seen through the other', () => {
    const { sharedMemoryFromBuffer } = require('../engine');
    const mem = new cranewasm.Memory({ initial: 1, maximum: 4, shared: true });
    const again = sharedMemoryFromBuffer(mem.buffer);
    const before = mem.buffer;
    expect(again.buffer.byteLength).toBe(65536);
    again.grow(1);
    expect(before.byteLength).toBe(65536);
    expect(mem.buffer).not.toBe(before);
    expect(mem.buffer.byteLength).toBe(131072);
    expect(again.buffer.byteLength).toBe(131072);
    mem.grow(0);
    expect(again.buffer.byteLength).toBe(131072);
    expect(mem.buffer === mem.buffer).toBe(true);
  });
});

'use strict';
// Runs one lifetime scenario in a process of its own (started with --expose-gc) and prints a
// JSON result: `node --expose-gc lifetimes-driver.js <scenario> [engine]`, engine being
// "cranewasm" (default) or "node" (the built-in WebAssembly, for comparison).

const path = require('path');
const { loadWabt, wat } = require('./execution');

const [scenario, engineName = 'cranewasm'] = process.argv.slice(2);
const WA = engineName === 'node' ? WebAssembly : require(path.join(__dirname, '..', '..'));

const turn = () => new Promise((resolve) => setImmediate(resolve));

async function collect(rounds = 4) {
  for (let i = 0; i < rounds; i++) {
    global.gc();
    await turn();
  }
}

const scenarios = {
  // Instantiating and dropping 100,000 small instances (each with a memory, a table holding
  // its own function and an import closing over its own exports) keeps RSS flat.
  async churn() {
    const module = new WA.Module(wat(`(module
      (import "env" "f" (func $f (result i32)))
      (memory 1) (table 2 funcref) (elem (i32.const 0) $g)
      (func $g (export "g") (result i32) (call $f))
      (data (i32.const 0) "hello"))`));
    const round = async (count) => {
      for (let i = 0; i < count; i++) {
        let instance;
        instance = new WA.Instance(module, { env: { f: () => instance.exports.g.length } });
        instance.exports.g();
        if (i % 1000 === 999) await collect(1);
      }
      await collect();
    };
    await round(10000);
    const before = process.memoryUsage().rss;
    await round(90000);
    const after = process.memoryUsage().rss;
    return { instances: 100000, rssBeforeMiB: before / 2 ** 20, rssAfterMiB: after / 2 ** 20 };
  },

  // A function of B stored in A's table (by A, with the funcref B passed) keeps B alive.
  async funcrefInAnotherTable() {
    const a = new WA.Instance(new WA.Module(wat(`(module (table 1 funcref)
      (func (export "store") (param funcref) (table.set (i32.const 0) (local.get 0)))
      (func (export "call") (result i32) (call_indirect (result i32) (i32.const 0))))`)));
    let b = new WA.Instance(new WA.Module(wat(`(module (import "a" "store" (func $store (param funcref)))
      (func $seven (result i32) (i32.const 7)) (elem declare func $seven)
      (func (export "give") (call $store (ref.func $seven))))`)), { a: { store: a.exports.store } });
    b.exports.give();
    b = null;
    await collect();
    return { call: a.exports.call() };
  },

  // A function of B stored by B in a global it imports from A keeps B alive; once the global
  // is cleared and nothing else holds B, B is collected.
  async funcrefInImportedGlobal() {
    const a = new WA.Instance(new WA.Module(wat(`(module
      (global (export "g") (mut funcref) (ref.null func))
      (table 1 funcref)
      (func (export "call") (result i32)
        (table.set (i32.const 0) (global.get 0))
        (call_indirect (result i32) (i32.const 0)))
      (func (export "clear") (global.set 0 (ref.null func)) (table.set (i32.const 0) (ref.null func))))`)));
    let finalized = false;
    const registry = new FinalizationRegistry(() => { finalized = true; });
    (() => {
      const b = new WA.Instance(new WA.Module(wat(`(module
        (import "a" "g" (global $g (mut funcref)))
        (import "a" "f" (func $f (result i32)))
        (func $seven (result i32) (i32.add (call $f) (i32.const 6))) (elem declare func $seven)
        (func (export "set") (global.set $g (ref.func $seven))))`)), { a: { g: a.exports.g, f: () => 1 } });
      // The import closure is what a collected B would lose first.
      b.exports.set();
      registry.register(b.exports.set, 'b');
    })();
    await collect();
    const whileStored = a.exports.call();
    a.exports.clear();
    await collect(8);
    return { whileStored, collectedAfterClear: finalized };
  },

  // An instance whose import closes over its own exports, and whose table holds its own
  // function, is collected once unreachable (a cycle through JS and wasm).
  async cycles() {
    const module = new WA.Module(wat(`(module (import "m" "f" (func $f (result i32)))
      (memory 1) (table 2 funcref) (elem (i32.const 0) $g)
      (func $g (export "g") (result i32) (call $f)))`));
    const table = new WA.Table({ element: 'anyfunc', initial: 1 });
    const tableModule = new WA.Module(wat(`(module (import "m" "t" (table 1 funcref))
      (func $h (result i32) (i32.const 3)) (elem (i32.const 0) $h) (memory 1))`));
    let weakSelf;
    (() => {
      let instance;
      instance = new WA.Instance(module, { m: { f: () => instance.exports.g.length } });
      instance.exports.g();
      weakSelf = new WeakRef(instance);
      new WA.Instance(tableModule, { m: { t: table } }); // eslint-disable-line no-new
    })();
    await collect();
    // The importer's instance is gone from JS; its function in the table still runs.
    const fromTable = table.get(0)();
    await collect(8);
    return { selfCollected: weakSelf.deref() === undefined, fromTable };
  },

  // A table exported by an instance keeps working after the instance object is gone.
  async exportedTableOutlivesInstance() {
    let instance = new WA.Instance(new WA.Module(wat(`(module (table (export "t") 1 funcref)
      (func $f (result i32) (i32.const 42)) (elem (i32.const 0) $f))`)));
    const table = instance.exports.t;
    instance = null;
    await collect();
    return { call: table.get(0)() };
  },

  // Externref values stored by wasm or JS stay alive while stored and are collected after.
  async externrefs() {
    const instance = new WA.Instance(new WA.Module(wat(`(module
      (table (export "t") 2 externref)
      (global (export "g") (mut externref) (ref.null extern))
      (func (export "put") (param externref) (table.set (i32.const 1) (local.get 0)) (global.set 0 (local.get 0)))
      (func (export "clear") (table.set (i32.const 1) (ref.null extern)) (global.set 0 (ref.null extern)))
      (func (export "get") (result externref) (table.get (i32.const 1))))`)));
    let value = { payload: 'x'.repeat(1000) };
    const weak = new WeakRef(value);
    instance.exports.put(value);
    value = null;
    await collect();
    const whileStored = instance.exports.get() === weak.deref() && instance.exports.g.value === weak.deref();
    instance.exports.clear();
    await collect();
    const collected = weak.deref() === undefined;
    // Many temporary externrefs passed as arguments do not accumulate.
    const samples = [];
    for (let i = 0; i < 200000; i++) {
      const temporary = { i };
      if (i % 1000 === 0) samples.push(new WeakRef(temporary));
      instance.exports.put(temporary);
    }
    instance.exports.clear();
    await collect();
    return { whileStored, collected, temporariesCollected: samples.every((w) => w.deref() === undefined) };
  },
};

(async () => {
  await loadWabt();
  const result = await scenarios[scenario]();
  process.stdout.write(JSON.stringify(result));
})().catch((error) => {
  process.stdout.write(JSON.stringify({ error: `${error && error.stack}` }));
  process.exitCode = 1;
});

'use strict';
// Lifetimes (issue 4, item 6): engine objects die when JS no longer reaches them, cycles through
// JS closures and tables included, and never while wasm can still use them. Each scenario runs
// in a process of its own with --expose-gc (__test__/helpers/lifetimes-driver.js), on cranewasm
// and, where the outcome is observable the same way, on Node's built-in WebAssembly.

const { execFileSync } = require('child_process');
const path = require('path');

const driver = path.join(__dirname, 'helpers', 'lifetimes-driver.js');

function run(scenario, engine = 'cranewasm') {
  const output = execFileSync(process.execPath, ['--expose-gc', driver, scenario, engine], {
    encoding: 'utf8',
    timeout: 110000,
  });
  const result = JSON.parse(output);
  if (result.error) throw new Error(result.error);
  return result;
}

describe('lifetimes', () => {
  test('100,000 small instances created and dropped leave RSS flat', () => {
    const { instances, rssBeforeMiB, rssAfterMiB } = run('churn');
    expect(instances).toBe(100000);
    // Each instance has a memory (an 8 GiB reservation), a table holding its own function and
    // an import closing over its exports: none of it may accumulate.
    expect(rssAfterMiB - rssBeforeMiB).toBeLessThan(32);
  });

  test('a funcref stored in another instance\'s table keeps its instance alive', () => {
    expect(run('funcrefInAnotherTable')).toEqual({ call: 7 });
    expect(run('funcrefInAnotherTable', 'node')).toEqual({ call: 7 });
  });

  test('a funcref stored in an imported global keeps its instance alive until cleared', () => {
    const expected = { whileStored: 7, collectedAfterClear: true };
    expect(run('funcrefInImportedGlobal')).toEqual(expected);
    expect(run('funcrefInImportedGlobal', 'node')).toEqual(expected);
  });

  test('instances in cycles through JS closures and tables are collected', () => {
    const expected = { selfCollected: true, fromTable: 3 };
    expect(run('cycles')).toEqual(expected);
    expect(run('cycles', 'node')).toEqual(expected);
  });

  test('an exported table outlives its instance object', () => {
    expect(run('exportedTableOutlivesInstance')).toEqual({ call: 42 });
  });

  test('externrefs live while a table or global holds them, and are collected after', () => {
    // Including 200,000 temporary externref arguments, each stored then overwritten.
    const expected = { whileStored: true, collected: true, temporariesCollected: true };
    expect(run('externrefs')).toEqual(expected);
    expect(run('externrefs', 'node')).toEqual(expected);
  });
});

describe('memory that wasm uses cannot be freed from JS', () => {
  const cranewasm = require('..');
  const { loadWabt, wat } = require('./helpers/execution');
  beforeAll(loadWabt);

  // Transferring or posting a memory's buffer neither detaches it nor frees the memory: the
  // outcome is the same as on Node's engine, and wasm and JS keep sharing the bytes.
  function attempt(engine) {
    const instance = new engine.Instance(new engine.Module(wat(`(module (memory (export "m") 1)
      (func (export "load") (result i32) (i32.load8_u (i32.const 0)))
      (func (export "store") (param i32) (i32.store8 (i32.const 1) (local.get 0))))`)));
    const memory = instance.exports.m;
    const buffer = memory.buffer;
    const outcome = [];
    const tryIt = (name, f) => {
      try {
        f();
        outcome.push(`${name}: ok, byteLength ${buffer.byteLength}`);
      } catch (error) {
        outcome.push(`${name}: ${error.name}`);
      }
    };
    tryIt('structuredClone', () => structuredClone(buffer, { transfer: [buffer] }));
    tryIt('postMessage', () => {
      const { port1, port2 } = new MessageChannel();
      port1.postMessage(buffer, [buffer]);
      port1.close();
      port2.close();
    });
    new Uint8Array(memory.buffer)[0] = 9;
    instance.exports.store(4);
    outcome.push(`wasm reads ${instance.exports.load()}, JS reads ${new Uint8Array(memory.buffer)[1]}`);
    return outcome;
  }

  test('transfer and postMessage of Memory.buffer', () => {
    expect(attempt(cranewasm)).toEqual(attempt(WebAssembly));
    expect(attempt(cranewasm)).toContain('wasm reads 9, JS reads 4');
  });
});

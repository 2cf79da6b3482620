// Real npm packages, unmodified, on cranewasm: each package's workload runs once with
// `require('cranewasm/register')` loaded first and once on Node's built-in WebAssembly, each in a
// fresh process (helpers/package-driver.js), and the outputs must be identical, as must the
// package's use of the JS API (calls made, objects created, final sizes of exported memories).
//
//   brotli-wasm  wasm-bindgen (Rust), synchronous new Module / new Instance at require time
//   hash-wasm    hand-written C / clang wasm, many small modules, WebAssembly.compile + instantiate
//   sql.js       Emscripten (SQLite), WebAssembly.instantiate, plus a module built at run time
//                (Emscripten's addFunction wrapper) for a JS user-defined SQL function
//   @automerge/automerge  wasm-bindgen (Rust) built with exception handling: its module imports
//                tags (WebAssembly.Tag), and its glue throws WebAssembly.Exception objects
'use strict';

const { execFile } = require('child_process');
const path = require('path');
const { promisify } = require('util');

const DRIVER = path.join(__dirname, 'helpers', 'package-driver.js');
const execFileAsync = promisify(execFile);

async function drive(engine, packageName) {
  const { stdout } = await execFileAsync(process.execPath, [DRIVER, engine, packageName], {
    cwd: path.join(__dirname, '..'),
    maxBuffer: 64 << 20,
    timeout: 60000,
  });
  return JSON.parse(stdout);
}

// Runs both engines side by side (each is its own process).
function driveBoth(packageName) {
  return Promise.all([drive('cranewasm', packageName), drive('node', packageName)]);
}

// The package really ran on the engine of that process: the global was that engine's namespace,
// and every Module, Instance and exported Memory/Table the package got is of that engine.
function expectRanOn(report, engine, kinds) {
  expect(report.engine.name).toBe(engine);
  expect(report.engine.globalIsCranewasm).toBe(engine === 'cranewasm');
  expect(report.engine.globalIsNode).toBe(engine === 'node');
  for (const kind of kinds) {
    const entry = report.engine.created[kind];
    expect(entry).toBeDefined();
    expect(entry.count).toBeGreaterThan(0);
    expect(entry).toEqual({ count: entry.count, ofEngine: entry.count, ofOther: 0 });
  }
}

function expectSameRun(cranewasm, node, kinds) {
  expectRanOn(cranewasm, 'cranewasm', kinds);
  expectRanOn(node, 'node', kinds);
  // The package took the same path through the JS API on both engines.
  expect(cranewasm.engine.calls).toEqual(node.engine.calls);
  expect(cranewasm.engine.created).toEqual(node.engine.created);
  expect(cranewasm.engine.memoryBytes).toEqual(node.engine.memoryBytes);
  expect(cranewasm.output).toEqual(node.output);
}

test('brotli-wasm (wasm-bindgen): compress/decompress round trips, one-shot and streaming', async () => {
  const [cranewasm, node] = await driveBoth('brotli-wasm');
  expectSameRun(cranewasm, node, ['Module', 'Instance', 'Memory']);
  expect(cranewasm.engine.calls).toEqual({ 'new Module': 1, 'new Instance': 1 });

  const { output } = cranewasm;
  expect(Object.keys(output.oneShot).length).toBeGreaterThan(10);
  for (const result of [...Object.values(output.oneShot), ...Object.values(output.stream)]) {
    expect(result.roundTrip).toBe(true);
  }
  expect(output.oneShot['hello/q11'].compressedLength).toBeLessThan(100);
  expect(output.exportsMemoryIsEngines).toBe(true);
  expect(typeof output.corrupt).toBe('string');
  expect(output.corrupt).not.toBe('no error');
});

test('hash-wasm (clang): one-shot and streaming hashes, KDFs', async () => {
  const [cranewasm, node] = await driveBoth('hash-wasm');
  expectSameRun(cranewasm, node, ['Module', 'Instance', 'Memory']);
  expect(cranewasm.engine.calls.instantiate).toBeGreaterThan(20);

  const { output } = cranewasm;
  // Known answers, so that agreement is not agreement on garbage.
  expect(output.oneShot['sha256/abc']).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  expect(output.oneShot['md5/empty']).toBe('d41d8cd98f00b204e9800998ecf8427e');
  expect(output.oneShot['sha3-256/abc']).toBe('3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532');
  expect(output.oneShot['blake3/abc']).toBe('6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85');
  expect(output.oneShot['crc32/abc']).toBe('352441c2');
  for (const result of Object.values(output.streaming)) {
    if (result.restored !== null) expect(result.restored).toBe(result.binary);
  }
  expect(output.kdf.argon2Verify).toBe(true);
  expect(output.kdf.bcryptVerify).toBe(true);
  expect(output.kdf.argon2id).toMatch(/^\$argon2id\$v=19\$m=512,t=2,p=1\$/);
});

test('sql.js (Emscripten): CREATE / INSERT / SELECT, UDF, errors, export and reopen', async () => {
  const [cranewasm, node] = await driveBoth('sql.js');
  expectSameRun(cranewasm, node, ['Module', 'Instance', 'Memory', 'Table']);
  expect(cranewasm.engine.calls.instantiate).toBe(1);

  const { output } = cranewasm;
  expect(output.count[0].values[0][0]).toBe(500);
  expect(output.recursive[0].values.at(-1)).toEqual([70, 190392490709135]);
  expect(output.udf[0].values).toEqual([['ITEM-0:1'], ['ITEM-419:2'], ['ITEM-338:3']]);
  expect(output.rows).toHaveLength(5);
  expect(output.syntaxError).toMatch(/syntax error/);
  expect(output.constraintError).toMatch(/NOT NULL constraint failed/);
  expect(output.reopened[0].values).toEqual([[500, 125250]]);
  expect(output.growth[0].values).toEqual([[24000000, '00FF']]);
  expect(Math.max(...cranewasm.engine.memoryBytes)).toBeGreaterThan(32 << 20); // the heap grew
});

test('@automerge/automerge (wasm-bindgen with exception handling): changes, save/load, merge, errors', async () => {
  const [cranewasm, node] = await driveBoth('@automerge/automerge');
  expectSameRun(cranewasm, node, ['Module', 'Instance', 'Memory']);
  // It needs exception handling to load at all: its module imports tags (made with new Tag, two
  // per wasm-bindgen module it loads).
  expect(cranewasm.engine.calls['new Tag']).toBeGreaterThanOrEqual(2);

  const { output } = cranewasm;
  expect(output.doc.text).toBe('hello world');
  expect(output.doc.list).toHaveLength(203);
  expect(output.reloaded).toEqual(output.doc);
  expect(output.merged.n).toBeDefined();
  expect(output.errors).toHaveLength(4);
  expect(output.errors[0]).toMatch(/^RangeError: /);
  expect(output.errors[3]).toBe('RangeError: in the callback');
  expect(output.afterErrors).toBe(42);
});

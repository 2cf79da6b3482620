// require('cranewasm/register'): installs the namespace as globalThis.WebAssembly with the
// attributes of Node's own global and keeps Node's namespace reachable. Each jest test file runs
// in its own realm, but Node's built-in modules are the process's: the registration's Worker and
// node:wasi exports are put back after this file, so that later files in this jest worker create
// Node's Workers and WASI as they expect.
'use strict';

const workerThreads = require('worker_threads');
const nodeWasi = require('wasi');
const nodeWorker = workerThreads.Worker;
const nodeWASI = nodeWasi.WASI;
afterAll(() => {
  workerThreads.Worker = nodeWorker;
  nodeWasi.WASI = nodeWASI;
  require('module').syncBuiltinESMExports();
});

const ORIGINAL = Symbol.for('cranewasm.originalWebAssembly');
const nodeWebAssembly = globalThis.WebAssembly;
const nodeDescriptor = Object.getOwnPropertyDescriptor(globalThis, 'WebAssembly');
const cranewasm = require('../index.js');
const namespaceKeys = Reflect.ownKeys(cranewasm);

const registered = require('../register.js');
const EMPTY_MODULE = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

test('Node\'s global is writable, configurable and not enumerable', () => {
  expect(nodeDescriptor).toEqual({ value: nodeWebAssembly, writable: true, enumerable: false, configurable: true });
  expect(Object.prototype.toString.call(nodeWebAssembly)).toBe('[object WebAssembly]');
  expect(nodeWebAssembly).not.toBe(cranewasm);
});

test('exports the namespace of require(\'cranewasm\')', () => {
  expect(registered).toBe(cranewasm);
});

test('installs it as globalThis.WebAssembly with the attributes of Node\'s global', () => {
  expect(Object.getOwnPropertyDescriptor(globalThis, 'WebAssembly')).toEqual({ ...nodeDescriptor, value: cranewasm });
  expect(WebAssembly).toBe(cranewasm); // the global binding, as scripts see it
  expect(Object.keys(globalThis)).not.toContain('WebAssembly');
});

test('leaves the namespace\'s own keys alone', () => {
  expect(Reflect.ownKeys(cranewasm)).toEqual(namespaceKeys);
});

test('keeps Node\'s namespace under a registered symbol, not enumerable', () => {
  expect(Object.getOwnPropertyDescriptor(globalThis, ORIGINAL)).toEqual({
    value: nodeWebAssembly, writable: false, enumerable: false, configurable: true,
  });
  expect(Object.getOwnPropertySymbols(globalThis)).toContain(ORIGINAL);
});

test('code written against the global runs on cranewasm', async () => {
  expect(WebAssembly.validate(EMPTY_MODULE)).toBe(true);
  const module = await WebAssembly.compile(EMPTY_MODULE);
  expect(module).toBeInstanceOf(cranewasm.Module);
  expect(module).not.toBeInstanceOf(nodeWebAssembly.Module);
  expect(() => new WebAssembly.Module(new Uint8Array([1]))).toThrow(cranewasm.CompileError);
});

test('registering a second copy keeps Node\'s namespace as the original', () => {
  let second;
  jest.isolateModules(() => {
    second = require('../register.js');
  });
  expect(second).not.toBe(cranewasm);
  expect(globalThis.WebAssembly).toBe(second);
  expect(globalThis[ORIGINAL]).toBe(nodeWebAssembly);
  expect(Object.getOwnPropertyDescriptor(globalThis, 'WebAssembly')).toEqual({ ...nodeDescriptor, value: second });
});

// Node's own fetch() compiles undici's llhttp parser with the global WebAssembly: the SIMD build
// first, the plain one if that compile throws. With cranewasm registered it must work (it once
// crashed the process, when cranewasm compiled SIMD modules it could not instantiate).
test('Node\'s fetch() works with cranewasm registered', () => {
  const { execFileSync } = require('child_process');
  const path = require('path');
  const script = `require(${JSON.stringify(path.join(__dirname, '..', 'register.js'))});
    fetch('data:text/plain,hello%20fetch').then((r) => r.text()).then((t) => process.stdout.write(t));`;
  expect(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60000 })).toBe('hello fetch');
});

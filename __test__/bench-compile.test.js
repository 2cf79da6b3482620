// The compile benchmark's parts (bench/compile.js runs them for minutes; these check them in
// seconds): its own module is the same on every call and valid on both engines, and one
// measurement process per engine reports the same first-call result and sane times.
'use strict';

const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const cranewasm = require('..');
const { syntheticModule } = require('../bench/synthetic-module');

const MEASURE = path.join(__dirname, '..', 'bench', 'compile-measure.js');

let bytes;
let dir;
let file;

beforeAll(() => {
  bytes = syntheticModule();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cranewasm-bench-test-'));
  file = path.join(dir, 'synthetic.wasm');
  fs.writeFileSync(file, bytes);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('the synthetic module is deterministic, a few MB, and valid on both engines', () => {
  expect(Buffer.compare(Buffer.from(syntheticModule()), Buffer.from(bytes))).toBe(0);
  expect(bytes.length).toBeGreaterThan(3e6);
  expect(WebAssembly.validate(bytes)).toBe(true);
  expect(cranewasm.validate(bytes)).toBe(true);
});

test.each(['node', 'cranewasm'])('one measurement on %s reports the first call and ordered times', (engine) => {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('CRANEWASM_')) delete env[key];
  const out = execFileSync(process.execPath, [MEASURE, JSON.stringify({ engine, file, kind: 'first', tiered: 'compile' })], {
    env,
    encoding: 'utf8',
    timeout: 110000,
  });
  const report = JSON.parse(out.trim().split('\n').pop());
  expect(report.result).toBe('42');
  expect(report.compileMs).toBeGreaterThan(0);
  expect(report.firstCallMs).toBeGreaterThanOrEqual(report.compileMs);
  expect(report.stallMs).toBeGreaterThan(0);
});

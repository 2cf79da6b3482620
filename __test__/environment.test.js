// Options: every CRANEWASM_* variable is checked when cranewasm is loaded (a bad value is an
// error naming the variable and its allowed values), README.md reproduces the table of them,
// and setCompileOptions() refuses unknown keys and bad values with a TypeError naming them.
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..');
const environment = require('../environment.js');
const engine = require('../engine.js');

// Loads cranewasm in a child with `env` (and no other CRANEWASM_* variable), compiles and runs a
// module, and prints its result and the compile options.
function load(env) {
  const childEnv = { ...process.env };
  for (const key of Object.keys(childEnv)) if (key.startsWith('CRANEWASM_')) delete childEnv[key];
  Object.assign(childEnv, env);
  const script = `
    const WebAssembly = require(${JSON.stringify(ROOT)});
    const bytes = new Uint8Array([0,97,115,109,1,0,0,0,1,5,1,96,0,1,127,3,2,1,0,7,5,1,1,102,0,0,10,6,1,4,0,65,7,11]);
    const result = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.f();
    console.log(JSON.stringify({ result, options: require(${JSON.stringify(path.join(ROOT, 'engine.js'))}).getCompileOptions() }));`;
  return spawnSync(process.execPath, ['-e', script], { env: childEnv, encoding: 'utf8', timeout: 60000 });
}

const CACHE_DIR = path.join(require('os').tmpdir(), `cranewasm-environment-test-${process.pid}`);

// For each variable: values it allows and values it does not.
const CASES = {
  CRANEWASM_LAZY: { good: ['0', '1', 'true', 'OFF', ' yes '], bad: ['maybe', '2', '-1', 'lazy'] },
  CRANEWASM_FIRST_TIER: { good: ['baseline', 'optimized', 'Optimized'], bad: ['fast', 'turbofan', '1'] },
  CRANEWASM_TIER_UP: { good: ['off', 'eager', 'dynamic'], bad: ['sometimes', 'on', 'lazy'] },
  CRANEWASM_COMPILE_THREADS: { good: ['1', '3', '256'], bad: ['0', 'abc', '100000', '1.5', '-2', '4 threads'] },
  CRANEWASM_BOUNDS_CHECKS: { good: ['0', '1', 'off'], bad: ['maybe', '2'] },
  CRANEWASM_DISABLE_FEATURES: { good: ['multi-memory', ' Multi-Memory '], bad: ['simd', 'multi-memory,simd'] },
  CRANEWASM_SINGLEPASS_FALLBACKS: { good: ['0', '1', 'yes'], bad: ['all', '2'] },
  CRANEWASM_TIMEOUT: { good: ['1000', '2500.5', '1e4'], bad: ['soon', '-1', 'Infinity', '10ms'] },
  CRANEWASM_FUEL: { good: ['0', '1000000'], bad: ['-5', '1.5', 'lots', '1e400'] },
  CRANEWASM_MEMORY_LIMIT: { good: ['0', '1048576'], bad: ['64k', '-1', '1.5', 'lots'] },
  CRANEWASM_REGISTER_WORKERS: { good: ['0', '1'], bad: ['maybe', 'none'] },
  CRANEWASM_V8_CALLS: { good: ['0', '1', 'off'], bad: ['v8', '2'] },
  // Only values that leave it off: on, each load would leave a map in /tmp
  // (stack-traces.test.js runs it on, and removes its maps).
  CRANEWASM_PERF_MAP: { good: ['0', 'off', ' no '], bad: ['perf', '2'] },
  // A directory of its own, removed after the tests (each load writes an entry there).
  CRANEWASM_CACHE: { good: [CACHE_DIR], bad: ['cache', './cache'] },
  CRANEWASM_CACHE_SIZE: { good: ['1', '1073741824'], bad: ['0', '-1', '1GB', '1.5'] },
};
afterAll(() => fs.rmSync(CACHE_DIR, { recursive: true, force: true }));

test('every variable of the table has cases here, and no case lacks a row', () => {
  expect(environment.VARIABLES.map((v) => v.name).sort()).toEqual(Object.keys(CASES).sort());
});

describe.each(Object.keys(CASES))('%s', (name) => {
  const row = environment.VARIABLES.find((v) => v.name === name);

  test.each(CASES[name].bad)('%p is an error at load naming the variable and its allowed values', (value) => {
    const out = load({ [name]: value });
    expect(out.status).not.toBe(0);
    expect(out.stdout).toBe('');
    expect(out.stderr).toContain(`Error: cranewasm: ${name}=${JSON.stringify(value)} is invalid: it must be ${row.allowed.replace(/`/g, '')}`);
  });

  test('allowed values load, as does an empty value', () => {
    for (const value of [...CASES[name].good, '']) {
      const out = load({ [name]: value });
      expect({ value, stderr: out.stderr, status: out.status }).toEqual({ value, stderr: '', status: 0 });
      expect(JSON.parse(out.stdout).result).toBe(7);
    }
  });
});

test('the compile option variables set the options', () => {
  const out = load({ CRANEWASM_LAZY: 'off', CRANEWASM_FIRST_TIER: 'optimized', CRANEWASM_TIER_UP: 'eager', CRANEWASM_COMPILE_THREADS: '3' });
  expect(JSON.parse(out.stdout).options).toEqual({ lazy: false, firstTier: 'optimized', tierUp: 'eager', threads: 3, interruptChecks: true, boundsChecks: false });
});

// Every variable the package's code reads is in the table (the test suite's own variables, read
// under __test__/ and tools/, are not cranewasm's).
test('the table has a row for every CRANEWASM_* variable the code mentions', () => {
  const sources = [];
  const walk = (dir, ext) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full, ext);
      else if (entry.name.endsWith(ext)) sources.push(full);
    }
  };
  for (const file of fs.readdirSync(ROOT)) if (file.endsWith('.js')) sources.push(path.join(ROOT, file));
  walk(path.join(ROOT, 'bin'), '.js');
  walk(path.join(ROOT, 'src'), '.rs');
  walk(path.join(ROOT, 'crates'), '.rs');
  const mentioned = new Set();
  for (const file of sources) {
    for (const m of fs.readFileSync(file, 'utf8').matchAll(/CRANEWASM_[A-Z0-9_]*[A-Z0-9]/g)) mentioned.add(m[0]);
  }
  const rows = new Set(environment.VARIABLES.map((v) => v.name));
  expect([...mentioned].filter((name) => !rows.has(name)).sort()).toEqual([]);
});

test('README.md reproduces the table', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  // If this fails after a row was added: paste the output of
  // node -e "console.log(require('./environment.js').markdownTable())" into README.md.
  expect(readme).toContain(environment.markdownTable());
});

describe('setCompileOptions()', () => {
  let before;
  beforeAll(() => { before = engine.getCompileOptions(); });
  afterEach(() => { engine.setCompileOptions(before); });

  test.each([
    [{ tierup: 'off' }, 'unknown option "tierup" (known: lazy, firstTier, tierUp, threads, interruptChecks, boundsChecks)'],
    [{ Lazy: false }, 'unknown option "Lazy"'],
    [{ lazy: false, thread: 2 }, 'unknown option "thread"'],
    [{ firstTier: 'fast' }, 'firstTier must be one of \'singlepass\', \'baseline\', \'optimized\', got "fast"'],
    [{ tierUp: 'on' }, 'tierUp must be one of \'off\', \'eager\', \'dynamic\', got "on"'],
    [{ threads: 0 }, 'threads must be an integer from 1 to 256, got 0'],
    [{ threads: '2' }, 'threads must be an integer from 1 to 256, got "2"'],
    [{ lazy: 'yes' }, 'lazy must be a boolean, got "yes"'],
    [{ interruptChecks: 1 }, 'interruptChecks must be a boolean, got 1'],
  ])('%p is a TypeError naming it, and changes nothing', (options, message) => {
    let error;
    try {
      engine.setCompileOptions(options);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toContain(`setCompileOptions(): ${message}`);
    expect(engine.getCompileOptions()).toEqual(before);
  });

  test('known keys still work, and undefined values are left alone', () => {
    const changed = engine.setCompileOptions({ tierUp: 'off', lazy: undefined });
    expect(changed).toEqual({ ...before, tierUp: 'off' });
  });
});

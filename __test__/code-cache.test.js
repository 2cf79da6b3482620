'use strict';
// The persistent code cache (issue 16, item 3), through the public API, in fresh processes
// (__test__/helpers/cache-driver.js): a warm start runs top-tier code before any call, for
// new Module, compile() and compileStreaming; entries are written in the background as tier-up
// goes on; two processes compiling the same module at once; damaged entries are ignored and
// rewritten; the directory stays within its size (LRU); an unusable directory gives one
// warning and compiles go on.

const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const engine = require('../engine.js');

const node = globalThis.WebAssembly;
const driver = path.join(__dirname, 'helpers', 'cache-driver.js');
const { callAll } = require('./helpers/cache-calls');
let wabt;

const TEXT = `
(module
  (import "env" "log" (func $log (param i32)))
  (memory 1)
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_s (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1)))
                     (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
  (func (export "sum") (param $n i32) (result i64) (local $acc i64)
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $n))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next)))
    (local.get $acc))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "shout") (param i32) (call $log (i32.mul (local.get 0) (i32.const 10))))
  (func (export "never") (result i32) (i32.const 7)))
`;
const FUNCTIONS = 5;

// Functions that make a module's code large (each reads and writes memory 60 times: code that
// no optimization shrinks, with a trap site per access), never called by the tests' calls.
const FILLERS = 400;
function fillers() {
  let text = '';
  for (let f = 0; f < FILLERS; f++) {
    let body = '';
    for (let i = 0; i < 60; i++) {
      body += `(i32.store (i32.const ${(f * 60 + i) % 8000 * 4}) (i32.add (i32.load (local.get 0)) (i32.const ${f * 61 + i})))`;
    }
    text += `(func (param i32) ${body})\n`;
  }
  return text;
}

let serial = 0;
function moduleFile(dir, { large = false } = {}) {
  serial += 1;
  const text = large ? TEXT.replace(/\)\s*$/, `${fillers()})`) : TEXT;
  const parsed = wabt.parseWat('cache.wat', text, {});
  parsed.resolveNames();
  parsed.validate();
  const base = Buffer.from(parsed.toBinary({}).buffer);
  parsed.destroy();
  const name = Buffer.from('unique');
  const tag = Buffer.from(`${process.pid}-${serial}-${Math.random()}`);
  const payload = Buffer.concat([Buffer.from([name.length]), name, tag]);
  const file = path.join(dir, `module-${serial}.wasm`);
  fs.writeFileSync(file, Buffer.concat([base, Buffer.from([0, payload.length]), payload]));
  return file;
}

// What Node's engine gives for the driver's calls.
function expectedResults(file) {
  return callAll(node, new node.Module(fs.readFileSync(file)));
}

// Runs the driver; resolves to { code, signal, report, stderr }.
function runDriver(how, flags, files, env = {}, nodeFlags = []) {
  const childEnv = { ...process.env };
  for (const key of Object.keys(childEnv)) if (key.startsWith('CRANEWASM_')) delete childEnv[key];
  Object.assign(childEnv, env);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, driver, how, flags, ...files], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const lines = stdout.trim().split('\n').filter((l) => l.startsWith('{'));
      let report;
      try { report = JSON.parse(lines[lines.length - 1]); } catch { report = undefined; }
      resolve({ code, signal, report, stderr, stdout });
    });
  });
}

const entries = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.cwasm')).sort() : []);
const others = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => !f.endsWith('.cwasm')) : []);

let work;
beforeAll(async () => {
  wabt = await require('wabt')();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cranewasm-cache-test-'));
});
afterAll(() => {
  engine.setCacheDirectory(null); // process-wide: other test files of this worker run without it
  fs.rmSync(work, { recursive: true, force: true });
});

function fresh(name) {
  const dir = path.join(work, name);
  fs.mkdirSync(dir, { recursive: true });
  return { cache: path.join(dir, 'cache'), modules: dir };
}

function ok(run) {
  expect(run.signal).toBe(null);
  expect(run.report && run.report.fatal).toBeUndefined();
  expect(run.code).toBe(0);
  return run.report;
}

describe('warm starts', () => {
  test('a later process starts from the top-tier code of an earlier one, for new Module, compile() and compileStreaming', async () => {
    const { cache, modules } = fresh('warm');
    const file = moduleFile(modules);
    const expected = expectedResults(file);
    const cold = ok(await runDriver('sync', 'tierup', [file], { CRANEWASM_CACHE: cache }));
    expect(cold.modules[0].before.uncompiled).toBe(FUNCTIONS);
    expect(cold.modules[0].results).toEqual(expected);
    expect(cold.modules[0].after.optimized).toBe(FUNCTIONS);
    expect(cold.stats).toMatchObject({ hits: 0, misses: 1, damaged: 0, failures: 0 });
    expect(cold.stats.writes).toBeGreaterThanOrEqual(1);
    expect(entries(cache)).toHaveLength(1);

    for (const how of ['sync', 'async', 'streaming']) {
      const warm = ok(await runDriver(how, '-', [file], { CRANEWASM_CACHE: cache }));
      // Before any call: every function has optimized code, none was compiled here.
      expect({ how, before: warm.modules[0].before }).toMatchObject({
        how, before: { uncompiled: 0, baseline: 0, optimized: FUNCTIONS },
      });
      expect(warm.modules[0].results).toEqual(expected);
      expect(warm.stats).toMatchObject({ hits: 1, misses: 0, damaged: 0, writes: 0 });
    }
    expect(entries(cache)).toHaveLength(1);
    expect(others(cache)).toEqual([]);
  }, 120000);

  test('a large module\'s code is mapped from its entry, not copied, and runs as before; damage to it is detected', async () => {
    const { cache, modules } = fresh('mapped');
    const file = moduleFile(modules, { large: true });
    const small = moduleFile(modules);
    const expected = expectedResults(file);
    const env = { CRANEWASM_CACHE: cache };
    const cold = ok(await runDriver('sync', 'tierup', [file, small], env));
    expect(cold.modules[0].after.optimized).toBe(FUNCTIONS + FILLERS);
    expect(cold.modules[0].execMapped).toBe(0);
    expect(entries(cache)).toHaveLength(2);
    const sizes = entries(cache).map((name) => fs.statSync(path.join(cache, name)).size).sort((a, b) => a - b);
    // The large entry holds an image of at least 256 KiB (mapped); the small one, no padding.
    expect(sizes[1]).toBeGreaterThan(256 * 1024);
    expect(sizes[0]).toBeLessThan(16 * 1024);

    for (const how of ['sync', 'async', 'streaming']) {
      const warm = ok(await runDriver(how, '-', [file, small], env));
      expect(warm.modules[0].before).toMatchObject({ uncompiled: 0, baseline: 0, optimized: FUNCTIONS + FILLERS });
      expect(warm.modules[0].execMapped).toBe(1);
      expect(warm.modules[0].results).toEqual(expected);
      // The small module's code is copied: no mapping of its own.
      expect(warm.modules[1].execMapped).toBeLessThanOrEqual(1);
      expect(warm.modules[1].results).toEqual(expectedResults(small));
      expect(warm.stats).toMatchObject({ hits: 2, misses: 0, damaged: 0, writes: 0 });
    }

    // Collected, the module's mapping goes (the range is code memory again); compiled again in
    // the same process, its code is mapped again and runs as before.
    const regc = ok(await runDriver('sync', 'regc', [file], env, ['--expose-gc']));
    expect(regc.modules[0].execMapped).toBe(1);
    expect(regc.execMappedAfterGc).toBe(0);
    expect(regc.again).toEqual({ execMapped: 1, results: expected });

    // A flipped bit in the code image (which ends 32 bytes before the end of the entry).
    const entry = path.join(cache, entries(cache).find((name) => fs.statSync(path.join(cache, name)).size === sizes[1]));
    const good = fs.readFileSync(entry);
    const damaged = Buffer.from(good);
    damaged[damaged.length - 32 - 1000] ^= 0x01;
    fs.writeFileSync(entry, damaged);
    const run = ok(await runDriver('sync', '-', [file], env));
    expect(run.modules[0].before.uncompiled).toBe(FUNCTIONS + FILLERS);
    expect(run.modules[0].execMapped).toBe(0);
    expect(run.modules[0].results).toEqual(expected);
    expect(run.stats).toMatchObject({ hits: 0, damaged: 1 });
  }, 180000);

  test('setCacheDirectory() does what CRANEWASM_CACHE does', async () => {
    const { cache, modules } = fresh('api');
    const file = moduleFile(modules);
    const cold = ok(await runDriver('async', `tierup,api=${cache}`, [file]));
    expect(cold.settings).toEqual({ directory: cache, maxSize: 2 ** 30 });
    const warm = ok(await runDriver('async', `api=${cache}`, [file]));
    expect(warm.modules[0].before.optimized).toBe(FUNCTIONS);
    expect(warm.stats.hits).toBe(1);
  }, 60000);

  test('entries are written in the background as tier-up goes on, not only at exit', async () => {
    const { cache, modules } = fresh('background');
    const file = moduleFile(modules);
    // The driver waits for a background write, then dies by SIGKILL: no exit handler runs.
    const run = await runDriver('sync', 'tierup,written', [file], { CRANEWASM_CACHE: cache });
    expect(run.signal).toBe('SIGKILL');
    expect(run.report.stats.writes).toBeGreaterThanOrEqual(1);
    expect(entries(cache)).toHaveLength(1);
    const warm = ok(await runDriver('sync', '-', [file], { CRANEWASM_CACHE: cache }));
    expect(warm.modules[0].before.optimized).toBe(FUNCTIONS);
  }, 60000);

  test('without the cache nothing is read or written', async () => {
    const { modules } = fresh('off');
    const file = moduleFile(modules);
    const run = ok(await runDriver('sync', 'tierup', [file]));
    expect(run.stats).toEqual({ hits: 0, misses: 0, damaged: 0, writes: 0, evictions: 0, failures: 0 });
    expect(engine.getCacheDirectory().directory).toBe(null);
  }, 60000);
});

describe('concurrency and damage', () => {
  test('two processes compiling the same module at once both work and leave one whole entry', async () => {
    const { cache, modules } = fresh('concurrent');
    const file = moduleFile(modules);
    const expected = expectedResults(file);
    const env = { CRANEWASM_CACHE: cache };
    const runs = await Promise.all([runDriver('sync', 'tierup', [file], env), runDriver('async', 'tierup', [file], env)]);
    for (const run of runs) {
      const report = ok(run);
      expect(report.modules[0].results).toEqual(expected);
      expect(report.stats.failures).toBe(0);
    }
    expect(entries(cache)).toHaveLength(1);
    expect(others(cache)).toEqual([]);
    const warm = ok(await runDriver('sync', '-', [file], env));
    expect(warm.modules[0].before.optimized).toBe(FUNCTIONS);
    expect(warm.stats).toMatchObject({ hits: 1, damaged: 0 });
  }, 120000);

  test('damaged entries are ignored, the module compiles, and the entry is rewritten', async () => {
    const { cache, modules } = fresh('damaged');
    const file = moduleFile(modules);
    const expected = expectedResults(file);
    const env = { CRANEWASM_CACHE: cache };
    ok(await runDriver('sync', 'tierup', [file], env));
    const [name] = entries(cache);
    const entry = path.join(cache, name);
    const good = fs.readFileSync(entry);
    const damages = [
      (b) => { const c = Buffer.from(b); c[Math.floor(c.length / 2)] ^= 0x04; return c; },
      (b) => b.subarray(0, Math.floor(b.length / 3)),
      () => Buffer.alloc(0),
      (b) => { const c = Buffer.from(b); c[c.length - 1] ^= 0x80; return c; },
    ];
    // compile() compiles from an entry found on the JS thread (no copy of the bytes), sync from
    // one read on the calling thread: both ignore damage. (The bytes zeroed as soon as
    // compile() returns must not matter either.)
    for (const how of ['sync', 'async']) {
      for (const damage of damages) {
        fs.writeFileSync(entry, damage(good));
        const run = ok(await runDriver(how, 'tierup,mutate', [file], env));
        expect(run.modules[0].before.uncompiled).toBe(FUNCTIONS);
        expect(run.modules[0].results).toEqual(expected);
        expect(run.stats).toMatchObject({ hits: 0, damaged: 1, failures: 0 });
        expect(run.stats.writes).toBeGreaterThanOrEqual(1);
        // Rewritten: the next process starts from it.
        const warm = ok(await runDriver(how, 'mutate', [file], env));
        expect(warm.stats).toMatchObject({ hits: 1, damaged: 0 });
        expect(warm.modules[0].before.optimized).toBe(FUNCTIONS);
        expect(warm.modules[0].results).toEqual(expected);
      }
    }
  }, 180000);
});

describe('size and failures', () => {
  test('the directory stays within its size: least recently used entries go first', async () => {
    const { cache, modules } = fresh('evict');
    const files = [moduleFile(modules), moduleFile(modules), moduleFile(modules)];
    // Measure one entry, then allow a bit more than two.
    const probe = path.join(work, 'evict-probe');
    ok(await runDriver('sync', 'tierup', [files[0]], { CRANEWASM_CACHE: probe }));
    const size = fs.statSync(path.join(probe, entries(probe)[0])).size;
    const env = { CRANEWASM_CACHE: cache, CRANEWASM_CACHE_SIZE: String(Math.floor(size * 2.5)) };
    const names = [];
    for (const file of files) {
      const before = new Set(entries(cache));
      const run = ok(await runDriver('sync', 'tierup', [file], env));
      expect(run.modules[0].results).toEqual(expectedResults(file));
      names.push(entries(cache).find((n) => !before.has(n)));
      await new Promise((r) => setTimeout(r, 20));
    }
    // Three entries do not fit: the oldest went.
    expect(entries(cache)).toEqual([names[1], names[2]].sort());
    const total = entries(cache).reduce((sum, n) => sum + fs.statSync(path.join(cache, n)).size, 0);
    expect(total).toBeLessThanOrEqual(size * 2.5);
    // A hit makes an entry recent: use the second, add the first again: the third goes.
    const hit = ok(await runDriver('sync', '-', [files[1]], env));
    expect(hit.stats.hits).toBe(1);
    await new Promise((r) => setTimeout(r, 20));
    const again = ok(await runDriver('sync', 'tierup', [files[0]], env));
    expect(again.stats.evictions).toBe(1);
    expect(entries(cache)).toEqual([names[0], names[1]].sort());
  }, 180000);

  test('a directory that cannot be written: one warning, and compiles work', async () => {
    const { modules } = fresh('unwritable');
    const blocker = path.join(modules, 'a-file');
    fs.writeFileSync(blocker, 'not a directory');
    const files = [moduleFile(modules), moduleFile(modules), moduleFile(modules)];
    for (const how of ['sync', 'async']) {
      const raw = await runDriver(how, 'tierup', files, { CRANEWASM_CACHE: path.join(blocker, 'cache') });
      const run = { ...ok(raw), stderr: raw.stderr };
      run.modules.forEach((m, i) => expect(m.results).toEqual(expectedResults(files[i])));
      // Emitted (process 'warning') or, when the first failure is at exit, printed: once.
      expect((run.stderr.match(/CranewasmCacheWarning/g) || []).length).toBe(1);
      expect(run.warnings.length).toBeLessThanOrEqual(1);
      expect(run.stderr).toMatch(/cranewasm: the code cache directory .*a-file\/cache cannot be used/);
      expect(run.stats.failures).toBe(1);
      expect(run.stats.writes).toBe(0);
    }
  }, 120000);

  test('setCacheDirectory() checks its arguments', () => {
    expect(() => engine.setCacheDirectory(42)).toThrow(TypeError);
    expect(() => engine.setCacheDirectory('')).toThrow(TypeError);
    expect(() => engine.setCacheDirectory('/tmp/x', { maxSize: 0 })).toThrow(/maxSize must be a positive integer/);
    expect(() => engine.setCacheDirectory('/tmp/x', { maxSize: 1.5 })).toThrow(TypeError);
    expect(() => engine.setCacheDirectory('/tmp/x', { size: 10 })).toThrow(/unknown option "size"/);
    expect(engine.getCacheDirectory()).toEqual({ directory: null, maxSize: 2 ** 30 });
    const dir = path.join(work, 'settings');
    expect(engine.setCacheDirectory(dir, { maxSize: 1000 })).toEqual({ directory: dir, maxSize: 1000 });
    expect(engine.getCacheDirectory()).toEqual({ directory: dir, maxSize: 1000 });
    expect(engine.setCacheDirectory(null)).toEqual({ directory: null, maxSize: 2 ** 30 });
  });
});

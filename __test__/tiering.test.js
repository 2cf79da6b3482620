'use strict';
// Lazy compilation, tiers and tier-up (issue 5, points 1–5 and 7), through the public API only:
// `require('..')` (the WebAssembly namespace) and `require('../engine.js')` (cranewasm/engine:
// compile options, compileStatus, tierUp). Where behaviour is observable the same way, results
// are compared with Node's built-in WebAssembly (jest's global). What needs a process of its own
// (environment, exit, the collector, a quiet JS thread, a possible crash) runs in
// __test__/helpers/tiering-driver.js.

const { spawn } = require('child_process');
const os = require('os');
const path = require('path');

const cranewasm = require('..');
const engine = require('../engine.js');
const { loadWabt, wat: watShared, run, describe: describeValue } = require('./helpers/execution');

// Compiling bytes identical to a live module's reuses its code and tier state (as V8 does; see
// module-reuse.test.js). The tests here watch the tier state of a fresh module, so each wat()
// gets bytes of its own: the module's text plus a custom section "unique" holding a counter.
let uniqueSerial = 0;
function wat(text) {
  return unique(watShared(text));
}
function unique(bytes) {
  uniqueSerial += 1;
  const n = uniqueSerial;
  const section = [0x00, 11, 6, ...Buffer.from('unique'), n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
  const out = new Uint8Array(bytes.length + section.length);
  out.set(bytes);
  out.set(section, bytes.length);
  return out;
}
const { ModuleBuilder, OP, name: nameBytes, uleb, vec } = require('./helpers/wasm-builder');

const node = globalThis.WebAssembly;
const driver = path.join(__dirname, 'helpers', 'tiering-driver.js');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const turn = () => new Promise((resolve) => setImmediate(resolve));

const status = (m) => engine.compileStatus(m);
const compiled = (m) => status(m).functions - status(m).uncompiled;

// Runs a driver scenario in a fresh node process whose environment has no CRANEWASM_* variable
// but those given. Resolves to { result, code, signal, ms, stdout, stderr }.
function runDriver(scenario, argument, { env = {}, nodeArgs = [], timeout = 60000 } = {}) {
  const childEnv = { ...process.env };
  for (const key of Object.keys(childEnv)) if (key.startsWith('CRANEWASM_')) delete childEnv[key];
  Object.assign(childEnv, env);
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const args = [...nodeArgs, driver, scenario, ...(argument === undefined ? [] : [argument])];
    const child = spawn(process.execPath, args, { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let closedAt;
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      closedAt = Date.now();
      clearTimeout(timer);
      const lines = stdout.trim().split('\n').filter((l) => l.startsWith('{'));
      let result;
      try {
        result = lines.length ? JSON.parse(lines[lines.length - 1]) : undefined;
      } catch {
        result = undefined;
      }
      resolve({ result, code, signal, ms: closedAt - start, closedAt, stdout, stderr });
    });
  });
}

// Every test leaves the process-wide options as it found them.
let savedOptions;
beforeEach(() => { savedOptions = engine.getCompileOptions(); });
afterEach(() => { engine.setCompileOptions(savedOptions); });

beforeAll(loadWabt);

// ---------------------------------------------------------------------------------------------
describe('compile options', () => {
  const DEFAULTS = { lazy: true, firstTier: 'singlepass', tierUp: 'dynamic' };

  // The defaults, seen by a process with no CRANEWASM_* variable: lazy compilation (nothing
  // compiled when compile() resolves), the single-pass tier first, dynamic tier-up, one thread
  // per core.
  test('defaults', async () => {
    const { result } = await runDriver('options');
    expect(result.options).toEqual({ ...DEFAULTS, threads: os.availableParallelism(), interruptChecks: true, boundsChecks: false });
    expect(result.afterCompile).toEqual({ functions: 20, uncompiled: 20, singlepass: 0, baseline: 0, optimized: 0, cheaperSettings: 0, fallbacks: 0, ...DEFAULTS });
    if (!Object.keys(process.env).some((k) => k.startsWith('CRANEWASM_'))) {
      expect(engine.getCompileOptions()).toEqual({ ...DEFAULTS, threads: os.availableParallelism(), interruptChecks: true, boundsChecks: false });
    }
  });

  // Bad values throw a TypeError and change nothing, not even the valid options given beside
  // them.
  test('setCompileOptions() validates its argument and changes nothing on failure', () => {
    const before = engine.getCompileOptions();
    const bad = [
      [undefined, TypeError], [null, TypeError], [1, TypeError], ['lazy', TypeError], [true, TypeError],
      [{ lazy: 1 }, TypeError], [{ lazy: 'true' }, TypeError], [{ lazy: null }, TypeError],
      [{ firstTier: 'fast' }, TypeError], [{ firstTier: 'Baseline' }, TypeError], [{ firstTier: 0 }, TypeError],
      [{ tierUp: 'on' }, TypeError], [{ tierUp: true }, TypeError], [{ tierUp: 'lazy' }, TypeError],
      [{ threads: 0 }, TypeError], [{ threads: -1 }, TypeError], [{ threads: 1.5 }, TypeError],
      [{ threads: 257 }, TypeError], [{ threads: NaN }, TypeError], [{ threads: Infinity }, TypeError],
      [{ lazy: false, tierUp: 'eager', threads: 0 }, TypeError],
      [{ lazy: false, firstTier: 'fast' }, TypeError],
    ];
    for (const [value, ErrorClass] of bad) {
      expect(() => engine.setCompileOptions(value)).toThrow(ErrorClass);
      expect(engine.getCompileOptions()).toEqual(before);
    }
    // A thread count that is not a number is refused too.
    expect(() => engine.setCompileOptions({ threads: '2' })).toThrow(TypeError);
    expect(engine.getCompileOptions()).toEqual(before);
  });

  // A partial update keeps the other options and returns all of them; the returned objects are
  // copies.
  test('setCompileOptions() changes only what it is given and returns every option', () => {
    const before = engine.getCompileOptions();
    expect(engine.setCompileOptions({})).toEqual(before);
    expect(() => engine.setCompileOptions({ unknown: 1 })).toThrow(TypeError);
    expect(engine.getCompileOptions()).toEqual(before);
    expect(engine.setCompileOptions({ lazy: !before.lazy })).toEqual({ ...before, lazy: !before.lazy });
    expect(engine.setCompileOptions({ tierUp: 'eager' })).toEqual({ ...before, lazy: !before.lazy, tierUp: 'eager' });
    expect(engine.setCompileOptions({ firstTier: 'optimized', threads: 1 }))
      .toEqual({ lazy: !before.lazy, firstTier: 'optimized', tierUp: 'eager', threads: 1, interruptChecks: true, boundsChecks: false });
    const returned = engine.setCompileOptions({ threads: 3, tierUp: 'off', lazy: true });
    expect(returned).toEqual({ lazy: true, firstTier: 'optimized', tierUp: 'off', threads: 3, interruptChecks: true, boundsChecks: false });
    returned.lazy = false;
    engine.getCompileOptions().tierUp = 'eager';
    expect(engine.getCompileOptions()).toEqual({ lazy: true, firstTier: 'optimized', tierUp: 'off', threads: 3, interruptChecks: true, boundsChecks: false });
  });

  // With one compile thread, compilation, lazy compilation and tier-up still work.
  test('threads: 1 compiles and tiers up', async () => {
    engine.setCompileOptions({ threads: 1, tierUp: 'eager' });
    const m = await cranewasm.compile(wat(`(module (func (export "f") (result i32) (call $g))
      (func $g (result i32) (i32.const 9)))`));
    expect(new cranewasm.Instance(m).exports.f()).toBe(9);
    await engine.tierUp(m);
    expect(status(m)).toMatchObject({ functions: 2, optimized: 2 });
  });

  // The CRANEWASM_* variables set a process's initial options (bad values fail the load: see
  // environment.test.js). Each case runs a module of 20 functions (f19 calls f18 … f0) 20,000 times.
  test('environment variables are honoured in a child process', async () => {
    const cases = [
      { CRANEWASM_LAZY: '0', CRANEWASM_TIER_UP: 'off' },
      { CRANEWASM_LAZY: '0', CRANEWASM_FIRST_TIER: 'baseline', CRANEWASM_TIER_UP: 'off' },
      { CRANEWASM_LAZY: '0', CRANEWASM_FIRST_TIER: 'optimized' },
      { CRANEWASM_FIRST_TIER: 'optimized' },
      { CRANEWASM_LAZY: '1', CRANEWASM_TIER_UP: 'eager', CRANEWASM_COMPILE_THREADS: '1' },
      { CRANEWASM_LAZY: '', CRANEWASM_FIRST_TIER: ' ', CRANEWASM_TIER_UP: '', CRANEWASM_COMPILE_THREADS: '' },
    ];
    const runs = await Promise.all(cases.map((env) => runDriver('options', undefined, { env })));
    const results = runs.map((r) => r.result);
    const cores = os.availableParallelism();
    const all = (tier) => ({ uncompiled: 0, singlepass: tier === 'singlepass' ? 20 : 0, baseline: tier === 'baseline' ? 20 : 0, optimized: tier === 'optimized' ? 20 : 0, fallbacks: 0 });

    // Eager, default (single-pass) first tier, no tier-up: everything single-pass code at
    // resolve (no fallback), and forever after.
    expect(results[0].options).toEqual({ lazy: false, firstTier: 'singlepass', tierUp: 'off', threads: cores, interruptChecks: true, boundsChecks: false });
    expect(results[0].afterCompile).toMatchObject(all('singlepass'));
    expect(results[0].afterWait).toMatchObject(all('singlepass'));
    // The same with the baseline tier asked for: everything baseline.
    expect(results[1].options).toEqual({ lazy: false, firstTier: 'baseline', tierUp: 'off', threads: cores, interruptChecks: true, boundsChecks: false });
    expect(results[1].afterCompile).toMatchObject(all('baseline'));
    expect(results[1].afterWait).toMatchObject(all('baseline'));
    // Eager, optimized first: everything optimized at resolve.
    expect(results[2].options).toEqual({ lazy: false, firstTier: 'optimized', tierUp: 'dynamic', threads: cores, interruptChecks: true, boundsChecks: false });
    expect(results[2].afterCompile).toMatchObject(all('optimized'));
    // Lazy, optimized first: nothing at resolve, optimized code as functions are called.
    expect(results[3].afterCompile).toMatchObject({ uncompiled: 20, singlepass: 0, baseline: 0, optimized: 0 });
    expect(results[3].afterCalls).toMatchObject(all('optimized'));
    // Eager tier-up on one thread: everything optimized after a while.
    expect(results[4].options).toEqual({ lazy: true, firstTier: 'singlepass', tierUp: 'eager', threads: 1, interruptChecks: true, boundsChecks: false });
    expect(results[4].afterWait).toMatchObject(all('optimized'));
    // Empty values are as unset: the defaults.
    for (const r of results.slice(5)) {
      expect(r.options).toEqual({ ...DEFAULTS, threads: cores, interruptChecks: true, boundsChecks: false });
      expect(r.afterCompile).toMatchObject({ uncompiled: 20, ...DEFAULTS });
    }
  });

  // compileStatus() and tierUp() take cranewasm Modules only (tierUp rejects its promise).
  test('compileStatus() and tierUp() reject what is not a cranewasm Module with a TypeError', async () => {
    const bytes = wat('(module (func))');
    const notModules = [undefined, null, 1, {}, bytes, new node.Module(bytes),
      new cranewasm.Instance(new cranewasm.Module(bytes)), Object.create(cranewasm.Module.prototype),
      cranewasm.Module.prototype, cranewasm.Module];
    for (const value of notModules) {
      expect(() => engine.compileStatus(value)).toThrow(TypeError);
      const promise = engine.tierUp(value);
      expect(promise).toBeInstanceOf(Promise);
      await expect(promise).rejects.toThrow(TypeError);
    }
  });

  // A module keeps the options it was compiled with, whatever the process-wide options become.
  test('each module keeps the options it was compiled with', async () => {
    const bytes = wat(`(module
      (func $f (export "f") (param i32) (result i32) (local $i i32)
        (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get 0))))
        (local.get $i))
      (func (export "g") (result i32) (i32.const 2)))`);
    engine.setCompileOptions({ lazy: true, firstTier: 'baseline', tierUp: 'off' });
    const offModule = await cranewasm.compile(bytes);
    engine.setCompileOptions({ lazy: false, firstTier: 'optimized', tierUp: 'eager' });
    const optimizedModule = await cranewasm.compile(bytes);
    const syncModule = new cranewasm.Module(bytes);
    engine.setCompileOptions({ lazy: false, firstTier: 'baseline', tierUp: 'dynamic' });

    expect(status(offModule)).toEqual({ functions: 2, uncompiled: 2, singlepass: 0, baseline: 0, optimized: 0, cheaperSettings: 0, fallbacks: 0, lazy: true, firstTier: 'baseline', tierUp: 'off' });
    expect(status(optimizedModule)).toEqual({ functions: 2, uncompiled: 0, singlepass: 0, baseline: 0, optimized: 2, cheaperSettings: 0, fallbacks: 0, lazy: false, firstTier: 'optimized', tierUp: 'eager' });
    expect(status(syncModule)).toEqual(status(optimizedModule));
    // Instantiated and run under other options, offModule still compiles lazily, baseline,
    // and never tiers up, however hot f gets.
    const { exports } = new cranewasm.Instance(offModule);
    for (let i = 0; i < 20; i++) expect(exports.f(1000000)).toBe(1000000);
    await sleep(200);
    expect(status(offModule)).toMatchObject({ uncompiled: 1, baseline: 1, optimized: 0, tierUp: 'off' });
  });
});

// ---------------------------------------------------------------------------------------------
// Lazy compilation: a function is compiled on its first call, whatever the path of that call,
// and not before. Each path has a module of its own so that the counts are exact; tier-up is off
// so that compiled code stays in the first tier. Run with every first tier.
describe.each(['singlepass', 'baseline', 'optimized'])('lazy compilation (first tier %s) through every path', (firstTier) => {
  beforeEach(() => engine.setCompileOptions({ lazy: true, firstTier, tierUp: 'off' }));

  // Exactly n functions compiled, all in the first tier (for the single-pass tier: or in the
  // baseline tier, its fallback, counted as such).
  function expectCompiled(m, n) {
    const s = status(m);
    const fallbacks = firstTier === 'singlepass' ? s.fallbacks : 0;
    const others = Object.fromEntries(['singlepass', 'baseline', 'optimized'].filter((t) => t !== firstTier)
      .map((t) => [t, t === 'baseline' ? s[t] - fallbacks : s[t]]));
    expect({ compiled: s.functions - s.uncompiled, [firstTier]: s[firstTier] + fallbacks, ...others })
      .toEqual({ compiled: n, [firstTier]: n, ...Object.fromEntries(Object.keys(others).map((t) => [t, 0])) });
  }

  async function compileBoth(text) {
    const bytes = wat(text);
    const m = await cranewasm.compile(bytes);
    expect(status(m).uncompiled).toBe(status(m).functions);
    return { bytes, m, theirs: new node.Module(bytes) };
  }

  test('an export called from JS', async () => {
    const { m, theirs } = await compileBoth(`(module
      (func (export "a") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
      (func (export "b") (result i32) (i32.const 2))
      (func (export "c") (result i32) (i32.const 3)))`);
    const ours = new cranewasm.Instance(m).exports;
    const ref = new node.Instance(theirs).exports;
    expectCompiled(m, 0); // instantiating compiles nothing
    expect(ours.a(14)).toBe(ref.a(14));
    expectCompiled(m, 1);
    expect(ours.a(-5)).toBe(ref.a(-5));
    expectCompiled(m, 1);
    expect(ours.b()).toBe(ref.b());
    expectCompiled(m, 2);
  });

  test('a direct call, only when it is made', async () => {
    const { m, theirs } = await compileBoth(`(module
      (func $callee (param i32) (result i32) (i32.add (local.get 0) (i32.const 100)))
      (func $unused (result i32) (i32.const 7))
      (func $c3 (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
      (func $c2 (param i32) (result i32) (call $c3 (i32.add (local.get 0) (i32.const 1))))
      (func (export "chain") (param i32) (result i32) (call $c2 (local.get 0)))
      (func (export "caller") (param i32) (result i32)
        (if (result i32) (local.get 0) (then (call $callee (local.get 0))) (else (i32.const -1)))))`);
    const ours = new cranewasm.Instance(m).exports;
    const ref = new node.Instance(theirs).exports;
    expect(ours.caller(0)).toBe(ref.caller(0)); // refers to $callee but does not call it
    expectCompiled(m, 1);
    expect(ours.caller(5)).toBe(ref.caller(5));
    expectCompiled(m, 2);
    expect(ours.chain(20)).toBe(ref.chain(20)); // chain, c2, c3
    expectCompiled(m, 5);
  });

  test('call_indirect through a table; a signature mismatch compiles nothing', async () => {
    const { m, theirs } = await compileBoth(`(module
      (type $t (func (param i32) (result i32)))
      (table 4 funcref)
      (elem (i32.const 0) $f0 $f1 $f2 $g)
      (func $f0 (param i32) (result i32) (i32.add (local.get 0) (i32.const 1000)))
      (func $f1 (param i32) (result i32) (i32.add (local.get 0) (i32.const 2000)))
      (func $f2 (param i32) (result i32) (i32.add (local.get 0) (i32.const 3000)))
      (func $g (result f64) (f64.const 1.5))
      (func (export "dispatch") (param i32 i32) (result i32)
        (call_indirect (type $t) (local.get 1) (local.get 0))))`);
    const ours = new cranewasm.Instance(m).exports;
    const ref = new node.Instance(theirs).exports;
    expect(ours.dispatch(1, 10)).toBe(ref.dispatch(1, 10));
    expectCompiled(m, 2);
    // $g has another type: the call traps before reaching it; out of bounds traps too.
    expect(run(cranewasm, () => ours.dispatch(3, 0))).toEqual(run(node, () => ref.dispatch(3, 0)));
    expect(run(cranewasm, () => ours.dispatch(4, 0))).toEqual(run(node, () => ref.dispatch(4, 0)));
    expect(run(cranewasm, () => ours.dispatch(3, 0)).threw).toBe('WebAssembly.RuntimeError');
    expectCompiled(m, 2);
    expect(ours.dispatch(2, 5)).toBe(ref.dispatch(2, 5));
    expectCompiled(m, 3);
  });

  test('Table.get() from JS, then a call', async () => {
    const { m, theirs } = await compileBoth(`(module
      (table (export "tbl") 3 funcref)
      (elem (i32.const 0) $a $b $c)
      (func $a (result i32) (i32.const 11))
      (func $b (result i32) (i32.const 22))
      (func $c (result i32) (i32.const 33)))`);
    const ours = new cranewasm.Instance(m).exports;
    const ref = new node.Instance(theirs).exports;
    const f = ours.tbl.get(1);
    expect(describeValue(f)).toEqual(describeValue(ref.tbl.get(1)));
    expect(ours.tbl.get(1)).toBe(f);
    expectCompiled(m, 0); // reading a funcref compiles nothing
    expect(f()).toBe(ref.tbl.get(1)());
    expectCompiled(m, 1);
    expect(ours.tbl.get(2)()).toBe(33);
    expectCompiled(m, 2);
  });

  test('a funcref returned by wasm (ref.func), then called from JS', async () => {
    const { m, theirs } = await compileBoth(`(module
      (elem declare func $target)
      (func $target (param i32 i32) (result i32) (i32.sub (local.get 0) (local.get 1)))
      (func (export "get") (result funcref) (ref.func $target))
      (func (export "other") (result i32) (i32.const 0)))`);
    const ours = new cranewasm.Instance(m).exports;
    const ref = new node.Instance(theirs).exports;
    const f = ours.get();
    expect(describeValue(f)).toEqual(describeValue(ref.get()));
    expectCompiled(m, 1);
    expect(f(50, 8)).toBe(ref.get()(50, 8));
    expectCompiled(m, 2);
  });

  test('a funcref global, from JS and from wasm', async () => {
    const { m, theirs } = await compileBoth(`(module
      (type $t (func (result i32)))
      (table $tab 1 funcref)
      (elem declare func $g1 $g2)
      (global $g (export "g") (mut funcref) (ref.func $g1))
      (func $g1 (result i32) (i32.const 5))
      (func $g2 (result i32) (i32.const 6))
      (func $unused (result i32) (i32.const 7))
      (func (export "callGlobal") (result i32)
        (table.set $tab (i32.const 0) (global.get $g))
        (call_indirect $tab (type $t) (i32.const 0)))
      (func (export "setG2") (global.set $g (ref.func $g2))))`);
    const ours = new cranewasm.Instance(m).exports;
    const ref = new node.Instance(theirs).exports;
    expect(ours.g.value()).toBe(ref.g.value()); // g1
    expectCompiled(m, 1);
    ours.setG2();
    ref.setG2();
    expectCompiled(m, 2);
    expect(ours.callGlobal()).toBe(ref.callGlobal()); // callGlobal, g2
    expectCompiled(m, 4);
  });

  test('the start function, once per module', async () => {
    const { m, theirs } = await compileBoth(`(module
      (global $x (export "x") (mut i32) (i32.const 0))
      (func $init (global.set $x (call $helper (i32.const 20))))
      (func $helper (param i32) (result i32) (i32.add (local.get 0) (i32.const 22)))
      (func (export "other") (result i32) (i32.const 1))
      (start $init))`);
    const ours = new cranewasm.Instance(m).exports;
    expect(ours.x.value).toBe(new node.Instance(theirs).exports.x.value);
    expectCompiled(m, 2); // init and helper
    // Code belongs to the module: a second instance compiles nothing more.
    expect(new cranewasm.Instance(m).exports.x.value).toBe(42);
    expectCompiled(m, 2);
  });

  test('an export imported by another instance (wasm→wasm) and called there, or re-exported', async () => {
    const a = `(module
      (func (export "f") (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
      (func (export "unused") (result i32) (i32.const 0)))`;
    const b = `(module
      (import "a" "f" (func $f (param i32) (result i32)))
      (export "reexport" (func $f))
      (func (export "callF") (param i32) (result i32) (i32.add (call $f (local.get 0)) (i32.const 1))))`;
    // Called from B's code.
    const A1 = await compileBoth(a);
    const B1 = await compileBoth(b);
    const ours1 = new cranewasm.Instance(B1.m, { a: new cranewasm.Instance(A1.m).exports }).exports;
    const ref1 = new node.Instance(B1.theirs, { a: new node.Instance(A1.theirs).exports }).exports;
    expectCompiled(A1.m, 0);
    expect(ours1.callF(6)).toBe(ref1.callF(6));
    expectCompiled(A1.m, 1);
    expectCompiled(B1.m, 1);
    // Called from JS through B's re-export: A's function, the same object.
    const A2 = await compileBoth(a);
    const B2 = await compileBoth(b);
    const a2 = new cranewasm.Instance(A2.m).exports;
    const ours2 = new cranewasm.Instance(B2.m, { a: a2 }).exports;
    expect(ours2.reexport).toBe(a2.f);
    expect(ours2.reexport(7)).toBe(49);
    expectCompiled(A2.m, 1);
    expectCompiled(B2.m, 0);
  });

  test('functions reached only through element segments, table.init and table.copy', async () => {
    const { m, theirs } = await compileBoth(`(module
      (type $t (func (result i32)))
      (table $tab 8 funcref)
      (elem $seg func $s0 $s1 $s2)
      (func $s0 (result i32) (i32.const 100))
      (func $s1 (result i32) (i32.const 101))
      (func $s2 (result i32) (i32.const 102))
      (func (export "init") (table.init $tab $seg (i32.const 0) (i32.const 0) (i32.const 3)) (elem.drop $seg))
      (func (export "copy") (table.copy $tab $tab (i32.const 4) (i32.const 0) (i32.const 3)))
      (func (export "callAt") (param i32) (result i32) (call_indirect $tab (type $t) (local.get 0))))`);
    const ours = new cranewasm.Instance(m).exports;
    const ref = new node.Instance(theirs).exports;
    for (const e of [ours, ref]) { e.init(); e.copy(); }
    expectCompiled(m, 2);
    expect([ours.callAt(5), ours.callAt(6)]).toEqual([ref.callAt(5), ref.callAt(6)]); // s1, s2 via copies
    expectCompiled(m, 5); // and s0 never ran
    expect(run(cranewasm, () => ours.callAt(7))).toEqual(run(node, () => ref.callAt(7))); // null entry

    // An active segment of module P fills a table made in JS; module Q calls through it.
    const P = await compileBoth(`(module (import "env" "tab" (table 4 funcref)) (elem (i32.const 1) $p $q)
      (func $p (result i32) (i32.const 55)) (func $q (result i32) (i32.const 56)))`);
    const Q = await compileBoth(`(module (import "env" "tab" (table 4 funcref)) (type $t (func (result i32)))
      (func (export "call") (param i32) (result i32) (call_indirect (type $t) (local.get 0))))`);
    const tab = new cranewasm.Table({ element: 'anyfunc', initial: 4 });
    new cranewasm.Instance(P.m, { env: { tab } });
    const q = new cranewasm.Instance(Q.m, { env: { tab } }).exports;
    expectCompiled(P.m, 0);
    expect(q.call(1)).toBe(55);
    expectCompiled(P.m, 1);
    expectCompiled(Q.m, 1);
  });

  // wasm → JS import → a never-called export of the same instance → a never-called callee.
  test('re-entry: a JS import calls back into an uncompiled export of the same instance', async () => {
    const text = `(module
      (import "env" "js" (func $js (param i32) (result i32)))
      (func (export "outer") (param i32) (result i32) (i32.add (call $js (local.get 0)) (i32.const 1)))
      (func (export "inner") (param i32) (result i32) (i32.mul (call $helper (local.get 0)) (i32.const 2)))
      (func $helper (param i32) (result i32)
        (if (result i32) (i32.gt_s (local.get 0) (i32.const 0))
          (then (call $js (i32.sub (local.get 0) (i32.const 1)))) (else (i32.const 10))))
      (func (export "never") (result i32) (i32.const 0)))`;
    const { m, theirs } = await compileBoth(text);
    const insideCounts = [];
    let ours;
    ours = new cranewasm.Instance(m, { env: { js: (x) => { insideCounts.push(compiled(m)); return ours.inner(x); } } }).exports;
    let ref;
    ref = new node.Instance(theirs, { env: { js: (x) => ref.inner(x) } }).exports;
    expect(ours.outer(3)).toBe(ref.outer(3)); // outer → js → inner → helper → js → inner → …
    expect(insideCounts[0]).toBe(1); // only outer when the import first ran
    expectCompiled(m, 3);
  });

  // A function whose first call traps: the same RuntimeError as Node; later calls work.
  test('a lazily compiled function that traps on its first call', async () => {
    const text = `(module
      (memory 1)
      (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
      (func (export "unreachable") (unreachable))
      (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
      (func (export "viaCallee") (param i32) (result i32) (call $trapper (local.get 0)))
      (func $trapper (param i32) (result i32) (i32.rem_u (i32.const 1) (local.get 0)))
      (func (export "overflow") (param i32) (result i32) (i32.div_s (local.get 0) (i32.const -1)))
      (func (export "conv") (param f64) (result i32) (i32.trunc_f64_s (local.get 0))))`;
    const calls = [['div', 1, 0], ['div', 7, 2], ['unreachable'], ['load', 65535], ['load', 0], ['viaCallee', 0],
      ['viaCallee', 3], ['overflow', -0x80000000], ['overflow', 5], ['conv', NaN], ['conv', 1e10], ['conv', 2.5]];
    const { m } = await compileBoth(text);
    const outcomes = (W, module) => {
      const e = new W.Instance(module).exports;
      return calls.map(([f, ...args]) => [f, run(W, () => e[f](...args))]);
    };
    const ours = outcomes(cranewasm, m);
    expect(ours).toEqual(outcomes(node, new node.Module(wat(text))));
    expect(ours.filter(([, o]) => o.threw === 'WebAssembly.RuntimeError')).toHaveLength(7);
    expectCompiled(m, 7);
  });

  // Recursion to the stack's limit whose deepest frame calls a function never called before:
  // a RangeError or the right value, never a crash (in a child process, in case it crashes).
  // Defined once, with the default first tier: the scenario sets no options.
  if (firstTier === 'singlepass') test('deep recursion into a lazily compiled function near the stack limit', async () => {
    const [ours, theirs] = await Promise.all([runDriver('deepLazyCall', 'cranewasm'), runDriver('deepLazyCall', 'node')]);
    expect({ code: ours.code, signal: ours.signal, stderr: ours.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    expect(ours.result.error).toBeUndefined();
    expect(theirs.result.error).toBeUndefined();
    expect(ours.result.overflow).toBe('RangeError');
    expect(theirs.result.overflow).toBe('RangeError');
    expect(ours.result.first).toEqual({ value: 0 });
    expect(ours.result.deepestOk).toBe(true);
    expect(ours.result.unexpected).toEqual([]);
    expect(ours.result.shallow).toEqual([]);
    expect(ours.result.outcomes.ok + ours.result.outcomes.rangeError).toBe(79);
    expect(ours.result.outcomes.ok).toBeGreaterThan(0);
    // Some fresh leaf was compiled and ran within 20 frames of the deepest recursion that works,
    // where less stack is left than a compilation may need.
    expect(ours.result.outcomes.framesShortOfDeepest).toBeLessThanOrEqual(20);
    expect(ours.result.before.uncompiled).toBe(80); // $direct and leaves 1..79
    expect(ours.result.after.uncompiled).toBe(0);
  });

  // Many parameters of every type (more integers and floats than registers, so some are on the
  // stack) and eight results, the function's first call made through each path in turn.
  describe('a function with 23 mixed parameters and 8 results, first called through', () => {
    const BIG = '(param i32 i64 f32 f64 externref i32 i64 f32 f64 i32 i64 f64 f32 i32 f64 i64 f32 externref i32 f64 f32 i64 f64) (result i32 i64 f32 f64 externref i64 f64 i32)';
    const getAll = Array.from({ length: 23 }, (_, i) => `local.get ${i}`).join(' ');
    const A = `(module
      (type $big (func ${BIG}))
      (table $tab (export "tbl") 1 funcref)
      (elem (table $tab) (i32.const 0) func $big)
      (global (export "glob") funcref (ref.func $big))
      (func $big (export "big") (type $big)
        (i32.add (i32.add (i32.add (i32.add (local.get 0) (i32.mul (local.get 5) (i32.const 3)))
          (i32.mul (local.get 9) (i32.const 5))) (i32.mul (local.get 13) (i32.const 7))) (i32.mul (local.get 18) (i32.const 11)))
        (i64.add (i64.add (i64.add (i64.add (i64.mul (local.get 1) (i64.const 2)) (i64.mul (local.get 6) (i64.const 3)))
          (i64.mul (local.get 10) (i64.const 5))) (i64.mul (local.get 15) (i64.const 7))) (i64.mul (local.get 21) (i64.const 13)))
        (f32.add (f32.add (f32.add (f32.add (local.get 2) (f32.mul (local.get 7) (f32.const 2)))
          (f32.mul (local.get 12) (f32.const 4))) (f32.mul (local.get 16) (f32.const 8))) (f32.mul (local.get 20) (f32.const 16)))
        (f64.add (f64.add (f64.add (f64.add (f64.add (local.get 3) (f64.mul (local.get 8) (f64.const 3)))
          (f64.mul (local.get 11) (f64.const 9))) (f64.mul (local.get 14) (f64.const 27))) (f64.mul (local.get 19) (f64.const 81)))
          (f64.mul (local.get 22) (f64.const 243)))
        (select (result externref) (local.get 4) (local.get 17) (i32.and (local.get 0) (i32.const 1)))
        (i64.sub (i64.extend_i32_s (local.get 18)) (local.get 21))
        (f64.sub (f64.promote_f32 (local.get 20)) (local.get 22))
        (i32.xor (i32.wrap_i64 (local.get 15)) (local.get 13)))
      (func (export "viaCall") (type $big) ${getAll} call $big)
      (func (export "viaIndirect") (type $big) ${getAll} i32.const 0 call_indirect $tab (type $big))
      (func (export "getRef") (result funcref) (ref.func $big)))`;
    const B = `(module
      (type $big (func ${BIG}))
      (import "a" "big" (func $big (type $big)))
      (func (export "viaImport") (type $big) ${getAll} call $big))`;
    const refA = { ref: 'A' };
    const refB = 'B-string';
    const argLists = [
      [7, 123456789012345n, 1.25, 2.125, refA, -3, -98765n, 0.1, 1e-300, 0x7fffffff, 2n ** 62n, -0.5, 3.4e38, 1000,
        Math.PI, -1n, -0, refB, 77, 1 / 3, 1e-40, 5n, 1e300],
      [-8, -(2n ** 63n), -1.5, -2.5e-10, null, 0x40000000, 9n, 65504, 6.02e23, -2, 31n, Infinity, -0.001, 123, -Math.E,
        0x1234567890abcdefn, 2.75, refA, -1, 0.125, 1e38, -(2n ** 40n), -7.5],
    ];
    // Results as plain values: externref results by the identity of the arguments.
    const plain = (results) => Array.from(results, (v) => (v === refA ? '<refA>' : v));
    const expected = () => {
      const e = new node.Instance(new node.Module(wat(A))).exports;
      return argLists.map((args) => plain(e.big(...args)));
    };

    // [path name, compiled count in A, compiled count in B, how to get the function to call]
    const paths = [
      ['an export call', 1, null, (a) => a.big],
      ['a direct call', 2, null, (a) => a.viaCall],
      ['call_indirect', 2, null, (a) => a.viaIndirect],
      ['Table.get()', 1, null, (a) => a.tbl.get(0)],
      ['a funcref returned by ref.func', 2, null, (a) => a.getRef()],
      ['a funcref global', 1, null, (a) => a.glob.value],
      ['a wasm→wasm import', 1, 1, (a, b) => b.viaImport],
    ];
    test.each(paths)('%s', async (_, inA, inB, pick) => {
      const mA = await cranewasm.compile(wat(A));
      const mB = await cranewasm.compile(wat(B));
      const a = new cranewasm.Instance(mA).exports;
      const b = new cranewasm.Instance(mB, { a }).exports;
      const f = pick(a, b);
      expect(argLists.map((args) => plain(f(...args)))).toEqual(expected());
      expectCompiled(mA, inA);
      expectCompiled(mB, inB === null ? 0 : inB);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The kernels of the tier tests: a checksum over memory, a float sum, a 64-bit hash, a long
// call (many checksums), and `spin`, a loop that asks its import whether to go on; plus filler
// functions so that optimizing the whole module takes a while.
const MIX = (x, i) => Math.imul(rotl32((x ^ i) | 0, 5), 0x9e3779b1 | 0);
function rotl32(v, s) { return ((v << s) | (v >>> (32 - s))) | 0; }
// spin(seed) after `iterations` iterations: [x, iterations].
function spinReference(seed, iterations) {
  let x = seed | 0;
  for (let i = 0; i < iterations; i++) x = MIX(x, i);
  return [x, iterations];
}

function fillers(count, statements) {
  let seed = 12345;
  const next = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed >>> 8; };
  const ops = ['add', 'sub', 'mul', 'xor', 'or', 'and', 'rotl'];
  let out = '';
  for (let k = 0; k < count; k++) {
    let body = '';
    for (let j = 0; j < statements; j++) {
      body += `local.get ${next() % 4} i32.const ${next() % 100000} i32.${ops[next() % ops.length]} `
        + `local.get ${next() % 4} i32.${ops[next() % ops.length]} local.set ${next() % 4}\n`;
      if (j % 25 === 24) body += `local.get ${next() % 4} if local.get 2 i32.const 1 i32.add local.set 2 end\n`;
    }
    out += `(func (export "fill${k}") (param i32 i32) (result i32) (local i32 i32) ${body}
      local.get 0 local.get 1 i32.xor local.get 2 i32.xor local.get 3 i32.xor)\n`;
  }
  return out;
}

const FILLERS = 80;
let kernelBytes;
function kernels() {
  if (!kernelBytes) {
    kernelBytes = watShared(`(module
      (import "env" "poll" (func $poll (param i32) (result i32)))
      (memory (export "mem") 1)
      (func $mix (param $x i32) (param $i i32) (result i32)
        (i32.mul (i32.rotl (i32.xor (local.get $x) (local.get $i)) (i32.const 5)) (i32.const 0x9E3779B1)))
      (func $checksum (export "checksum") (param $seed i32) (param $n i32) (result i32)
        (local $i i32) (local $x i32) (local $a i32) (local $s i32)
        (local.set $x (local.get $seed))
        (block $done (loop $l
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $x (call $mix (local.get $x) (local.get $i)))
          (local.set $a (i32.shl (i32.and (local.get $i) (i32.const 255)) (i32.const 2)))
          (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (local.get $x)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l)))
        (local.set $i (i32.const 0))
        (local.set $s (local.get $x))
        (block $d2 (loop $l2
          (br_if $d2 (i32.ge_u (local.get $i) (i32.const 1024)))
          (local.set $s (i32.add (i32.rotl (local.get $s) (i32.const 1)) (i32.load (local.get $i))))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $l2)))
        (local.get $s))
      (func (export "fsum") (param $n i32) (result f64) (local $i i32) (local $s f64) (local $f f64)
        (block $d (loop $l
          (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $f (f64.convert_i32_u (local.get $i)))
          (local.set $s (f64.add (local.get $s)
            (f64.div (f64.sqrt (f64.add (local.get $f) (f64.const 0.5))) (f64.add (local.get $f) (f64.const 1)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l)))
        (local.get $s))
      (func (export "hash64") (param $seed i64) (param $n i32) (result i64) (local $h i64) (local $i i32)
        (local.set $h (i64.xor (local.get $seed) (i64.const 0xcbf29ce484222325)))
        (block $d (loop $l
          (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $h (i64.rotl (i64.mul (i64.xor (local.get $h) (i64.extend_i32_u (local.get $i)))
            (i64.const 0x100000001b3)) (i64.const 7)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l)))
        (local.get $h))
      (func (export "long") (param $seed i32) (param $reps i32) (result i32) (local $r i32) (local $acc i32)
        (block $d (loop $l
          (br_if $d (i32.ge_u (local.get $r) (local.get $reps)))
          (local.set $acc (i32.rotl (i32.xor (local.get $acc)
            (call $checksum (i32.add (local.get $seed) (local.get $r)) (i32.const 5000))) (i32.const 3)))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br $l)))
        (local.get $acc))
      (func $spin (export "spin") (param $seed i32) (result i32 i32) (local $x i32) (local $i i32)
        (local.set $x (local.get $seed))
        (loop $l
          (local.set $x (call $mix (local.get $x) (local.get $i)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (call $poll (local.get $i))))
        (local.get $x) (local.get $i))
      (func (export "spinOuter") (param $seed i32) (result i32) (local $i i32)
        local.get $seed
        call $spin
        local.set $i
        local.get $i
        i32.const 3
        i32.mul
        i32.xor)
      ${fillers(FILLERS, 120)})`);
  }
  return unique(kernelBytes);
}
const KERNEL_FUNCTIONS = 7 + FILLERS;

// ---------------------------------------------------------------------------------------------
// Code replaced while it runs: instances keep computing the same results as Node's engine while
// the module's functions move to optimized code underneath them.
describe.each(['singlepass', 'baseline'])('tier swapping while code runs (first tier %s)', (firstTier) => {
  // Functions at the first tier: for the single-pass tier, with any it left to the baseline
  // tier (none here: it covers spin's two results and spinOuter's call of it too).
  const first = (s) => (firstTier === 'singlepass' ? s.singlepass + s.baseline : s.baseline);
  const fallbacks = 0;
  const counts = (s) => ({ functions: s.functions, uncompiled: s.uncompiled, first: first(s), fallbacks: s.fallbacks, optimized: s.optimized });
  // Three instances of one module, each paired with an instance of Node's, called in lockstep
  // (their memories evolve the same way), interleaved with turns of the event loop so that
  // background installs land between and during calls. Returns the optimized counts seen.
  async function runInLockstep(m, { until, deadlineMs }) {
    const poll = (i) => (i < 3000 ? 1 : 0);
    const theirsModule = new node.Module(kernels());
    const pairs = [0, 1, 2].map(() => ({
      ours: new cranewasm.Instance(m, { env: { poll } }).exports,
      theirs: new node.Instance(theirsModule, { env: { poll } }).exports,
    }));
    const mismatches = [];
    const check = (p, name, ...args) => {
      const ours = p.ours[name](...args);
      const theirs = p.theirs[name](...args);
      if (!Object.is(ours, theirs)) mismatches.push({ name, args: args.map(String), ours: String(ours), theirs: String(theirs) });
    };
    const samples = [];
    const sample = () => {
      const s = status(m);
      expect(s.uncompiled + s.singlepass + s.baseline + s.optimized).toBe(s.functions);
      samples.push(s.optimized);
      return s;
    };
    sample();
    const deadline = Date.now() + deadlineMs;
    let round = 0;
    for (;;) {
      for (const [k, p] of pairs.entries()) {
        const seed = round * 31 + k;
        check(p, 'checksum', seed, 3000 + (round % 7) * 500);
        check(p, 'fsum', 2000 + round);
        check(p, 'hash64', BigInt(seed) * 0x9e3779b97f4an, 2000);
        check(p, `fill${round % FILLERS}`, seed, k);
        if (round % 5 === 0) check(p, 'long', seed, 100); // a long-running call: 500,000 iterations
        if (round % 3 === 0) check(p, 'spinOuter', seed);
        if (k === 1) await turn();
      }
      const s = sample();
      round++;
      if ((round >= 30 && until(s)) || Date.now() > deadline) break;
      if (round % 4 === 0) await sleep(1);
    }
    expect(mismatches).toEqual([]);
    return { samples, rounds: round };
  }

  const monotonic = (samples) => samples.every((v, i) => i === 0 || v >= samples[i - 1]);

  test('eager tier-up: results stay right while optimized rises to all, and after tierUp()', async () => {
    engine.setCompileOptions({ lazy: true, firstTier, tierUp: 'eager' });
    const m = await cranewasm.compile(kernels());
    const { samples, rounds } = await runInLockstep(m, { until: (s) => s.optimized === s.functions, deadlineMs: 10000 });
    console.log(`eager: ${rounds} rounds, optimized counts seen: ${[...new Set(samples)].join(' ')}`);
    expect(samples[0]).toBeLessThan(KERNEL_FUNCTIONS); // started before tier-up was over
    expect(monotonic(samples)).toBe(true);
    await engine.tierUp(m);
    // (Fallbacks count functions compiled at the first tier: eager tier-up may optimize some first.)
    expect(counts(status(m))).toMatchObject({ functions: KERNEL_FUNCTIONS, uncompiled: 0, first: 0, optimized: KERNEL_FUNCTIONS });
    expect(status(m).fallbacks).toBeLessThanOrEqual(fallbacks);
    await runInLockstep(m, { until: () => true, deadlineMs: 0 });
  });

  test('dynamic tier-up: results stay right while hot functions are swapped, and after tierUp()', async () => {
    engine.setCompileOptions({ lazy: true, firstTier, tierUp: 'dynamic' });
    const m = await cranewasm.compile(kernels());
    const { samples, rounds } = await runInLockstep(m, { until: (s) => s.optimized >= 5, deadlineMs: 10000 });
    console.log(`dynamic: ${rounds} rounds, optimized counts seen: ${[...new Set(samples)].join(' ')}`);
    expect(samples[0]).toBe(0);
    expect(samples[samples.length - 1]).toBeGreaterThan(0);
    expect(monotonic(samples)).toBe(true);
    await engine.tierUp(m);
    expect(counts(status(m))).toMatchObject({ functions: KERNEL_FUNCTIONS, uncompiled: 0, first: 0, fallbacks, optimized: KERNEL_FUNCTIONS });
    await runInLockstep(m, { until: () => true, deadlineMs: 0 });
  });

  // spin runs baseline code; from inside its loop, its import starts tierUp() and then only
  // polls compileStatus() until every function (spin and its caller spinOuter included) has
  // optimized code. The frames running the old code finish, with the right result.
  test('a function whose code is replaced mid-execution finishes correctly (explicit tierUp)', async () => {
    engine.setCompileOptions({ lazy: true, firstTier, tierUp: 'off' });
    const m = await cranewasm.compile(kernels());
    let pending;
    let atStart;
    let iterationsWhenDone;
    const deadline = Date.now() + 10000;
    const poll = (i) => {
      if (i === 1) {
        atStart = status(m);
        pending = engine.tierUp(m);
      }
      if (status(m).optimized === KERNEL_FUNCTIONS) {
        iterationsWhenDone = i;
        return 0;
      }
      return Date.now() < deadline ? 1 : 0;
    };
    const { exports } = new cranewasm.Instance(m, { env: { poll } });
    const result = exports.spinOuter(12345);
    expect(counts(atStart)).toMatchObject({ first: 3, fallbacks, optimized: 0 }); // spinOuter, spin, mix
    expect(iterationsWhenDone).toBeDefined(); // swapped while spin was on the stack
    const [x, i] = spinReference(12345, iterationsWhenDone);
    expect(result).toBe(x ^ Math.imul(i, 3));
    await pending;
    // Called again: the optimized code, same results.
    const again = new cranewasm.Instance(m, { env: { poll: (k) => (k < 5000 ? 1 : 0) } }).exports;
    const [x2, i2] = spinReference(777, 5000);
    expect(again.spinOuter(777)).toBe(x2 ^ Math.imul(i2, 3));
    expect(Array.from(again.spin(777))).toEqual([x2, i2]);
  });

  // The same, with the swap decided by the dynamic budget: spin's own loop makes it hot, so it
  // is optimized while it runs (spinOuter, called once, stays baseline).
  test('a function whose code is replaced mid-execution finishes correctly (dynamic tier-up)', async () => {
    engine.setCompileOptions({ lazy: true, firstTier, tierUp: 'dynamic' });
    const m = await cranewasm.compile(kernels());
    const seen = new Set();
    let iterationsWhenDone;
    const deadline = Date.now() + 15000;
    const poll = (i) => {
      const s = status(m);
      seen.add(s.optimized);
      if (s.optimized === 2) { // spin and mix
        iterationsWhenDone = i;
        return 0;
      }
      return Date.now() < deadline ? 1 : 0;
    };
    const { exports } = new cranewasm.Instance(m, { env: { poll } });
    const result = exports.spinOuter(99);
    expect(seen.has(0)).toBe(true);
    expect(iterationsWhenDone).toBeDefined();
    const [x, i] = spinReference(99, iterationsWhenDone);
    expect(result).toBe(x ^ Math.imul(i, 3));
    expect(counts(status(m))).toMatchObject({ uncompiled: KERNEL_FUNCTIONS - 3, first: 1, fallbacks, optimized: 2 });
  });
});

// References taken while a function ran baseline code (a table entry in another module's table,
// a wasm→wasm import, a funcref global, a JS function object) reach its optimized code after
// tier-up, with the same results and identities.
test('references taken before tier-up still work after it', async () => {
  engine.setCompileOptions({ lazy: true, firstTier: 'baseline', tierUp: 'off' });
  const a = await cranewasm.compile(wat(`(module
    (elem declare func $f)
    (global (export "g") funcref (ref.func $f))
    (func $f (export "f") (param i32) (result i32)
      (local $i i32) (local $s i32)
      (loop $l (local.set $s (i32.add (i32.mul (local.get $s) (i32.const 7)) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (local.get 0))))
      (local.get $s)))`));
  const b = await cranewasm.compile(wat(`(module
    (import "a" "f" (func $f (param i32) (result i32)))
    (import "env" "tab" (table 1 funcref))
    (type $t (func (param i32) (result i32)))
    (func (export "viaImport") (param i32) (result i32) (call $f (local.get 0)))
    (func (export "viaTable") (param i32) (result i32) (call_indirect (type $t) (local.get 0) (i32.const 0))))`));
  const reference = (n) => {
    let s = 0;
    for (let i = 0; i < Math.max(n, 1); i++) s = (Math.imul(s, 7) + i) | 0;
    return s;
  };
  const ea = new cranewasm.Instance(a).exports;
  const tab = new cranewasm.Table({ element: 'anyfunc', initial: 1 });
  tab.set(0, ea.f);
  const eb = new cranewasm.Instance(b, { a: ea, env: { tab } }).exports;
  const f = ea.f;
  const fromGlobal = ea.g.value;
  const all = (n) => [f(n), fromGlobal(n), eb.viaImport(n), eb.viaTable(n), tab.get(0)(n)];
  expect(all(1000)).toEqual(Array(5).fill(reference(1000)));
  expect(status(a)).toMatchObject({ baseline: 1, optimized: 0 });
  await engine.tierUp(a);
  expect(status(a)).toMatchObject({ baseline: 0, optimized: 1 });
  expect(all(5000)).toEqual(Array(5).fill(reference(5000)));
  expect([ea.f, ea.g.value, tab.get(0)]).toEqual([f, f, f]);
});

// ---------------------------------------------------------------------------------------------
describe('dynamic tier-up', () => {
  const TEXT = `(module
    (func $hot (export "hot") (param $n i32) (result i32) (local $i i32) (local $s i32)
      (block $d (loop $l
        (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $s (i32.add (i32.mul (local.get $s) (i32.const 31)) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
      (local.get $s))
    (func $tiny (export "tiny") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
    (func (export "cold") (result i32) (i32.const 42))
    (func (export "driver") (param $n i32) (result i32) (local $i i32) (local $s i32)
      (block $d (loop $l
        (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $s (call $tiny (local.get $s)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
      (local.get $s))
    (func $unused (result i32) (i32.const 0)))`;
  const hotReference = (n) => {
    let s = 0;
    for (let i = 0; i < n; i++) s = (Math.imul(s, 31) + i) | 0;
    return s;
  };

  // Calls `work` (with turns of the event loop between) until compileStatus satisfies `done`,
  // for at most `ms`.
  async function until(m, done, work, ms = 15000) {
    const deadline = Date.now() + ms;
    while (!done(status(m)) && Date.now() < deadline) {
      work();
      await sleep(5);
    }
    return status(m);
  }

  test.each(['singlepass', 'baseline'])('a hot loop gets optimized; a cold function of the same module stays at the first tier (%s)', async (firstTier) => {
    engine.setCompileOptions({ lazy: true, firstTier, tierUp: 'dynamic' });
    const m = await cranewasm.compile(wat(TEXT));
    const e = new cranewasm.Instance(m).exports;
    expect(e.cold()).toBe(42);
    const s = await until(m, (x) => x.optimized >= 1, () => expect(e.hot(100000)).toBe(hotReference(100000)));
    expect(s).toMatchObject({ functions: 5, uncompiled: 3, [firstTier]: 1, fallbacks: 0, optimized: 1 });
    expect(e.hot(12345)).toBe(hotReference(12345));
    await sleep(200);
    expect(e.cold()).toBe(42);
    expect(status(m)).toMatchObject({ uncompiled: 3, [firstTier]: 1, fallbacks: 0, optimized: 1 });
  });

  test.each(['singlepass', 'baseline'])('calls alone make a function hot: from JS, and from a wasm loop (first tier %s)', async (firstTier) => {
    engine.setCompileOptions({ lazy: true, firstTier, tierUp: 'dynamic' });
    const m = await cranewasm.compile(wat(TEXT));
    const e = new cranewasm.Instance(m).exports;
    const s = await until(m, (x) => x.optimized >= 1, () => {
      for (let i = 0; i < 100000; i++) if (e.tiny(i) !== i + 1) throw new Error(`tiny(${i})`);
    });
    expect(s).toMatchObject({ uncompiled: 4, [firstTier]: 0, fallbacks: 0, optimized: 1 });

    const m2 = await cranewasm.compile(wat(TEXT));
    const e2 = new cranewasm.Instance(m2).exports;
    const s2 = await until(m2, (x) => x.optimized >= 2, () => expect(e2.driver(1000000)).toBe(1000000));
    expect(s2).toMatchObject({ uncompiled: 3, [firstTier]: 0, fallbacks: 0, optimized: 2 }); // driver and tiny
  });

  test('tierUp: \'off\' never optimizes, however hot', async () => {
    engine.setCompileOptions({ lazy: true, firstTier: 'baseline', tierUp: 'off' });
    const m = await cranewasm.compile(wat(TEXT));
    const e = new cranewasm.Instance(m).exports;
    for (let k = 0; k < 5; k++) {
      expect(e.hot(1000000)).toBe(hotReference(1000000));
      expect(e.driver(1000000)).toBe(1000000);
      for (let i = 0; i < 100000; i++) e.tiny(i);
      await sleep(50);
    }
    await sleep(300);
    expect(status(m)).toMatchObject({ uncompiled: 2, baseline: 3, optimized: 0, tierUp: 'off' });
  });

  test('firstTier: \'optimized\': all optimized at resolve when eager; optimized on first call when lazy', async () => {
    const bytes = wat(TEXT);
    engine.setCompileOptions({ lazy: false, firstTier: 'optimized' });
    expect(status(await cranewasm.compile(bytes))).toMatchObject({ functions: 5, uncompiled: 0, baseline: 0, optimized: 5 });
    expect(status(new cranewasm.Module(bytes))).toMatchObject({ uncompiled: 0, baseline: 0, optimized: 5 });
    expect(status((await cranewasm.instantiate(bytes)).module)).toMatchObject({ uncompiled: 0, baseline: 0, optimized: 5 });
    engine.setCompileOptions({ lazy: true, firstTier: 'optimized' });
    const m = await cranewasm.compile(bytes);
    expect(status(m)).toMatchObject({ uncompiled: 5, baseline: 0, optimized: 0 });
    expect(new cranewasm.Instance(m).exports.driver(10)).toBe(10);
    expect(status(m)).toMatchObject({ uncompiled: 3, baseline: 0, optimized: 2 });
  });

  // tierUp() optimizes everything whatever the policy (uncompiled functions included); several
  // calls at once all resolve; a module without functions resolves at once.
  test('tierUp() on an \'off\' module, twice at once, and on a module without functions', async () => {
    engine.setCompileOptions({ lazy: true, firstTier: 'baseline', tierUp: 'off' });
    const m = await cranewasm.compile(wat(TEXT));
    const e = new cranewasm.Instance(m).exports;
    expect(e.hot(1000)).toBe(hotReference(1000));
    const promises = [engine.tierUp(m), engine.tierUp(m)];
    expect(await Promise.all(promises)).toEqual([undefined, undefined]);
    expect(status(m)).toMatchObject({ functions: 5, uncompiled: 0, baseline: 0, optimized: 5 });
    expect(e.hot(1000)).toBe(hotReference(1000));
    expect(e.driver(1000)).toBe(1000);
    expect(e.cold()).toBe(42);
    await engine.tierUp(m);
    const empty = await cranewasm.compile(wat('(module (import "m" "f" (func)))'));
    await engine.tierUp(empty);
    expect(status(empty)).toMatchObject({ functions: 0, uncompiled: 0, baseline: 0, optimized: 0 });
  });
});

// ---------------------------------------------------------------------------------------------
// lazy: false compiles every function before compile() resolves; counts cover defined functions
// only (not imports).
describe('eager and lazy compilation', () => {
  const TEXT = `(module (import "m" "f" (func)) (import "m" "g" (func (param i32)))
    (func) (func (result i32) (i32.const 1)) (func (param i32) (call 1 (local.get 0))))`;
  test.each([
    ['compile()', (bytes) => cranewasm.compile(bytes)],
    ['new Module()', async (bytes) => new cranewasm.Module(bytes)],
    ['instantiate(bytes)', async (bytes) => (await cranewasm.instantiate(bytes, { m: { f() {}, g() {} } })).module],
  ])('%s', async (_, make) => {
    const bytes = wat(TEXT);
    engine.setCompileOptions({ lazy: false, firstTier: 'baseline', tierUp: 'off' });
    expect(status(await make(bytes))).toMatchObject({ functions: 3, uncompiled: 0, baseline: 3, optimized: 0, lazy: false });
    engine.setCompileOptions({ lazy: true });
    expect(status(await make(bytes))).toMatchObject({ functions: 3, uncompiled: 3, baseline: 0, optimized: 0, lazy: true });
  });
});

// ---------------------------------------------------------------------------------------------
// Background work and process exit, and modules that die during tier-up (child processes with a
// module of 3000 functions, 9 MB, whose tier-up takes seconds).
describe('cancellation and exit', () => {
  // The process ends when its work does: background tier-up neither delays nor crashes exit.
  test('a process exits right after compile() resolves under eager tier-up', async () => {
    const r = await runDriver('exitAfterCompile');
    expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    expect(r.result.status).toMatchObject({ functions: 3000, tierUp: 'eager' });
    expect(r.ms).toBeLessThan(10000);
  });

  // process.exit(0) while tier-up runs: plain eager tier-up, and with a tierUp() promise
  // pending. Exit must stop background work: besides the bound (< 10 s for the whole
  // run), the time from process.exit() to the end of the process must stay short: < 1 s, where a
  // plain exit takes ~50 ms and the rest of this module's tier-up 2–5 s (idle or shared machine).
  test.each(['plain', 'tierUp'])('process.exit(0) during eager tier-up (%s)', async (mode) => {
    const r = await runDriver('exitDuringTierUp', mode);
    expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    expect(r.result.status.optimized).toBeLessThan(3000); // tier-up was in flight
    expect(r.stdout).not.toContain('tierUp resolved');
    expect(r.ms).toBeLessThan(10000);
    expect(r.closedAt - r.result.exitAt).toBeLessThan(1000);
  });

  // A module under eager tier-up that is collected stops costing CPU: over a 1 s window after
  // the collection, far less CPU than over a 1 s window while tier-up ran.
  test('a module collected during eager tier-up stops its tier-up', async () => {
    const r = await runDriver('gcStopsTierUp', undefined, { nodeArgs: ['--expose-gc'] });
    expect(r.result.error).toBeUndefined();
    console.log(`tier-up of a garbage module: ${JSON.stringify(r.result)}`);
    expect(r.result.collected).toBe(true);
    expect(r.result.optimizedAtDrop).toBeLessThan(r.result.functions); // still tiering up
    // Tier-up takes up to two cores on an idle machine (~2000 ms of CPU per second); on a
    // machine shared with other builds it gets far less, so the floor only makes sure there was
    // work to stop. What matters is the ratio below.
    expect(r.result.busyCpuMs).toBeGreaterThan(50);
    expect(r.result.idleCpuMs).toBeLessThan(r.result.busyCpuMs / 4);
  });
});

// ---------------------------------------------------------------------------------------------
// Compilation off the JS thread: a 1 ms interval keeps ticking while a 9 MB module compiles.
describe('compilation off the JS thread', () => {
  // The requirement, for the default (lazy) mode: no gap of 20 ms or more that the
  // engine causes. Retried once: the machine is shared. (Most of the gap is the synchronous copy
  // of the 9 MB of bytes that compile() takes when called, 6–15 ms here; the log shows it as
  // syncMs.) Each gap is counted less the time the JS thread waited for a CPU meanwhile
  // (maxGapLessWaitMs): at load 7–10 on 2 cores the scheduler alone stretched a 12 ms copy
  // to 22–24 ms. Work the engine does on the JS thread is not waiting, and still counts.
  test('default options: the largest gap between 1 ms ticks stays under 20 ms', async () => {
    let r = await runDriver('tickGap', 'lazy');
    if (!(r.result && r.result.maxGapLessWaitMs < 20)) r = await runDriver('tickGap', 'lazy');
    console.log(`lazy compile of ${r.result && r.result.bytes} bytes: ${JSON.stringify(r.result)}`);
    expect(r.result.status).toMatchObject({ functions: 3000, uncompiled: 3000, lazy: true });
    expect(r.result.maxGapLessWaitMs).toBeLessThan(20);
  });

  // Reported, not asserted (the machine is shared): eager compilation and instantiate(bytes).
  test('lazy: false and instantiate(bytes): the largest gaps are reported', async () => {
    const eager = await runDriver('tickGap', 'eager');
    const inst = await runDriver('tickGap', 'instantiate');
    const line = (r) => `${r.maxGapMs} ms (the call itself ${r.syncMs} ms, settled after ${r.compileMs} ms)`;
    console.log(`largest tick gap: lazy:false compile ${line(eager.result)}; instantiate(bytes) ${line(inst.result)}`);
    expect(eager.result.status).toMatchObject({ functions: 3000, uncompiled: 0, lazy: false });
    expect(inst.result.status).toMatchObject({ functions: 3000, lazy: true });
  });
});

// ---------------------------------------------------------------------------------------------
// Lazy compilation validates every body before compile() resolves: an invalid body rejects with
// a CompileError naming the function as Node does (`Compiling function #N:"name" failed: … @+off`),
// the same in lazy and eager mode, from compile(), new Module() and instantiate(bytes).
describe('compile errors in lazy modules', () => {
  function withNames(b, names) {
    const entries = vec(names.map(([index, n]) => [...uleb(index), ...nameBytes(n)]));
    b.custom('name', [1, ...uleb(entries.length), ...entries]);
  }
  const cases = {
    'a named function of the wrong type': () => {
      const b = new ModuleBuilder();
      b.importFunction('m', 'f', [], []);
      b.function([], [], []);
      b.function([], [], [OP.i32Const, 0]);
      b.function([], [], []);
      withNames(b, [[0, 'imp'], [1, 'ok'], [2, 'bad'], [3, 'after']]);
      return b.toBytes();
    },
    'an unnamed function with an unknown opcode': () => {
      const b = new ModuleBuilder();
      for (let i = 0; i < 5; i++) b.function([], [], []);
      b.function([], [], [0xff]);
      return b.toBytes();
    },
    'two bad functions: the first is reported': () => {
      const b = new ModuleBuilder();
      b.function([], [], []);
      b.function([], ['i32'], []);
      b.function([], [], [OP.i32Const, 1]);
      withNames(b, [[1, 'first'], [2, 'second']]);
      return b.toBytes();
    },
  };
  const entryPoints = [
    ['compile', (W, bytes) => W.compile(bytes)],
    ['Module', async (W, bytes) => new W.Module(bytes)],
    ['instantiate', (W, bytes) => W.instantiate(bytes, { m: { f() {} } })],
  ];
  const outcomeOf = async (W, f) => {
    try {
      await f();
      return { value: 'no error' };
    } catch (err) {
      return { threw: err.constructor === W.CompileError ? 'CompileError' : String(err.constructor && err.constructor.name), message: err.message };
    }
  };
  // What is comparable with V8: everything but the validator's own wording.
  const shape = (message) => {
    const match = /^(.*? failed: ).*?( @\+\d+)$/.exec(message);
    return match ? `${match[1]}…${match[2]}` : message;
  };

  test.each(Object.keys(cases))('%s', async (key) => {
    const bytes = cases[key]();
    expect(cranewasm.validate(bytes)).toBe(false);
    expect(node.validate(bytes)).toBe(false);
    for (const [api, make] of entryPoints) {
      const theirs = await outcomeOf(node, () => make(node, bytes));
      const messages = [];
      for (const lazy of [true, false]) {
        engine.setCompileOptions({ lazy });
        const ours = await outcomeOf(cranewasm, () => make(cranewasm, bytes));
        expect(ours.threw).toBe('CompileError');
        expect(shape(ours.message)).toBe(shape(theirs.message));
        expect(ours.message).toMatch(new RegExp(`^WebAssembly\\.${api}\\(\\): Compiling function #\\d+(:"[a-z]+")? failed: .+ @\\+\\d+$`));
        messages.push(ours.message);
      }
      expect(messages[0]).toBe(messages[1]); // lazy and eager say the same
    }
  });
});

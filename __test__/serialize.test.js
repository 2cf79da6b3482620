'use strict';
// serialize(module) / deserialize(bytes) of cranewasm/engine (issue 16, item 2), through the
// public API: round trips at every tier give the same results as the original module and as
// Node's engine, deserialize compiles nothing that was cached (compileStatus), tier-up goes on
// from deserialized baseline code, and every bad input is a DeserializeError naming why —
// thousands of corruptions run in a process of their own (a crash there fails the test, not
// jest).

const { spawnSync } = require('child_process');
const { blake3 } = require('./helpers/blake3');
const fs = require('fs');
const os = require('os');
const path = require('path');

const W = require('..');
const engine = require('../engine.js');
const { loadWabt } = require('./helpers/execution.js');

const node = globalThis.WebAssembly;
let wabt;

const TEXT = `
(module
  (import "env" "log" (func $log (param i32)))
  (tag $oops (param i32))
  (memory (export "memory") 1)
  (table 2 funcref)
  (elem (i32.const 0) $fib $square)
  (type $unary (func (param i32) (result i32)))
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_s (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1)))
                     (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
  (func $square (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
  (func (export "indirect") (param i32 i32) (result i32)
    (call_indirect (type $unary) (local.get 1) (local.get 0)))
  (func (export "sum") (param $n i32) (result i64) (local $acc i64)
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $n))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next)))
    (local.get $acc))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "hypot") (param f64 f64) (result f64)
    (f64.sqrt (f64.add (f64.mul (local.get 0) (local.get 0)) (f64.mul (local.get 1) (local.get 1)))))
  (func (export "shout") (param i32) (call $log (i32.mul (local.get 0) (i32.const 10))))
  (func $thrower (param i32) (throw $oops (local.get 0)))
  (func (export "catch") (param i32) (result i32)
    (try (result i32)
      (do (call $thrower (local.get 0)) (i32.const -1))
      (catch $oops (i32.add (i32.const 1000)))))
  (func (export "unreachable") (unreachable)))
`;

let serial = 0;
// The module's bytes with a custom section of their own: every test gets a module that no other
// compile in this process shares (the in-process module cache would share its tier state).
function freshBytes() {
  serial += 1;
  const parsed = wabt.parseWat('serialize.wat', TEXT, { exceptions: true, reference_types: true });
  parsed.resolveNames();
  parsed.validate();
  const base = parsed.toBinary({}).buffer;
  parsed.destroy();
  const tag = Buffer.from(`serialize-test-${process.pid}-${serial}-${Math.random()}`);
  const name = Buffer.from('unique');
  const payload = Buffer.concat([Buffer.from([name.length]), name, tag]);
  return new Uint8Array(Buffer.concat([Buffer.from(base), Buffer.from([0, payload.length]), payload]));
}

const describeError = (err) => `${err && err.constructor && err.constructor.name}: ${err && err.message}`;

// Runs every export of `module` (of namespace `ns`) and describes what happened.
function runAll(ns, module) {
  const logged = [];
  const { exports: e } = new ns.Instance(module, { env: { log: (v) => logged.push(v) } });
  const out = [];
  const attempt = (f) => {
    try {
      const v = f();
      out.push(typeof v === 'bigint' ? `${v}n` : v);
    } catch (err) {
      out.push(describeError(err));
    }
  };
  attempt(() => e.fib(20));
  attempt(() => e.indirect(0, 12));
  attempt(() => e.indirect(1, 12));
  attempt(() => e.indirect(5, 12));
  attempt(() => e.sum(100000));
  attempt(() => e.div(-7, 2));
  attempt(() => e.div(1, 0));
  attempt(() => e.div(-2147483648, -1));
  attempt(() => { e.store(8, 0x12345678); return e.load(8); });
  attempt(() => e.store(65535, 1));
  attempt(() => e.hypot(3, 4));
  attempt(() => { e.shout(4); return logged.join(','); });
  attempt(() => e.unreachable());
  return out;
}

function runCatch(module) {
  const { exports: e } = new W.Instance(module, { env: { log() {} } });
  return [e.catch(5), e.catch(-3)];
}

const byTier = (status) => ({ uncompiled: status.uncompiled, singlepass: status.singlepass, baseline: status.baseline, optimized: status.optimized, fallbacks: status.fallbacks });

let savedOptions;
beforeAll(async () => {
  await loadWabt();
  wabt = await require('wabt')();
});
beforeEach(() => { savedOptions = engine.getCompileOptions(); });
afterEach(() => { engine.setCompileOptions(savedOptions); });

describe('round trips', () => {
  const cases = [
    ['single-pass code, the default first tier, with baseline fallbacks (eager, no tier-up)', { lazy: false, firstTier: 'singlepass', tierUp: 'off' }, async () => {}],
    ['single-pass code, lazy, with functions never called', { lazy: true, firstTier: 'singlepass', tierUp: 'off' }, async (m) => {
      const { exports: e } = new W.Instance(m, { env: { log() {} } });
      e.fib(10);
      e.sum(10);
    }],
    ['baseline code (eager, no tier-up)', { lazy: false, firstTier: 'baseline', tierUp: 'off' }, async () => {}],
    ['optimized code (eager)', { lazy: false, firstTier: 'optimized', tierUp: 'off' }, async () => {}],
    ['tiered-up code (tierUp())', { lazy: true, firstTier: 'baseline', tierUp: 'dynamic' }, (m) => engine.tierUp(m)],
    ['lazy, with functions never called', { lazy: true, firstTier: 'baseline', tierUp: 'off' }, async (m) => {
      const { exports: e } = new W.Instance(m, { env: { log() {} } });
      e.fib(10);
      e.sum(10);
    }],
  ];
  test.each(cases)('%s: same results as the original and Node, nothing cached is compiled again', async (_, options, prepare) => {
    engine.setCompileOptions(options);
    const bytes = freshBytes();
    const original = new W.Module(bytes);
    await prepare(original);
    const before = byTier(engine.compileStatus(original));
    const serialized = engine.serialize(original);
    expect(serialized).toBeInstanceOf(Uint8Array);

    const copy = engine.deserialize(serialized);
    expect(copy).toBeInstanceOf(W.Module);
    expect(copy).not.toBe(original);
    // Before any call: exactly the code that was serialized, nothing compiled.
    expect(byTier(engine.compileStatus(copy))).toEqual(before);
    expect(W.Module.exports(copy)).toEqual(W.Module.exports(original));
    expect(W.Module.imports(copy)).toEqual(W.Module.imports(original));

    const expected = runAll(node, new node.Module(bytes));
    expect(runAll(W, copy)).toEqual(expected);
    expect(runAll(W, original)).toEqual(expected);
    expect(runCatch(copy)).toEqual([1005, 997]);
    expect(runCatch(original)).toEqual([1005, 997]);

    // Cached functions kept their code: none of them was compiled or moved by running.
    const after = engine.compileStatus(copy);
    if (options.tierUp === 'off') {
      if (before.singlepass > 0) expect(after.singlepass).toBeGreaterThanOrEqual(before.singlepass);
      if (before.baseline > 0) expect(after.baseline).toBeGreaterThanOrEqual(before.baseline);
      expect(after.optimized).toBe(before.optimized);
    }
    if (!options.lazy) expect(after.uncompiled).toBe(0);
  });

  test.each(['singlepass', 'baseline'])('deserialized %s code tiers up as usual', async (firstTier) => {
    engine.setCompileOptions({ lazy: true, firstTier, tierUp: 'dynamic' });
    const bytes = freshBytes();
    const original = new W.Module(bytes);
    runAll(W, original);
    const status = engine.compileStatus(original);
    expect(status[firstTier]).toBeGreaterThan(0);
    const copy = engine.deserialize(engine.serialize(original));
    // (Dynamic tier-up may have replaced some of the original's code in the meantime.)
    const loaded = engine.compileStatus(copy);
    expect(loaded.uncompiled).toBe(status.uncompiled);
    expect(loaded.fallbacks).toBe(firstTier === 'singlepass' ? loaded.baseline : 0);
    await engine.tierUp(copy);
    const tiered = engine.compileStatus(copy);
    expect(tiered.optimized).toBe(tiered.functions);
    expect(runAll(W, copy)).toEqual(runAll(node, new node.Module(bytes)));
    // And what tier-up made serializes in turn.
    const again = engine.deserialize(engine.serialize(copy));
    expect(byTier(engine.compileStatus(again))).toEqual({ uncompiled: 0, singlepass: 0, baseline: 0, optimized: tiered.functions, fallbacks: 0 });
  });

  test('a module without code so far round-trips to a lazy module', () => {
    engine.setCompileOptions({ lazy: true, firstTier: 'baseline', tierUp: 'off' });
    const bytes = freshBytes();
    const original = new W.Module(bytes);
    const copy = engine.deserialize(engine.serialize(original));
    const status = engine.compileStatus(copy);
    expect(status.uncompiled).toBe(status.functions);
    expect(runAll(W, copy)).toEqual(runAll(node, new node.Module(bytes)));
  });

  test('serialize and deserialize take exactly their arguments', () => {
    expect(() => engine.serialize({})).toThrow(TypeError);
    expect(() => engine.serialize(new node.Module(freshBytes()))).toThrow(TypeError);
    for (const bad of [undefined, null, 'bytes', 42, {}]) {
      let err;
      try { engine.deserialize(bad); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(engine.DeserializeError);
      expect(err.kind).toBe('argument');
    }
    // Any BufferSource: ArrayBuffer, typed arrays, DataView.
    const serialized = engine.serialize(new W.Module(freshBytes()));
    const buffer = serialized.buffer.slice(serialized.byteOffset, serialized.byteOffset + serialized.byteLength);
    expect(engine.deserialize(buffer)).toBeInstanceOf(W.Module);
    expect(engine.deserialize(new DataView(buffer))).toBeInstanceOf(W.Module);
  });
});

describe('refused inputs', () => {
  // Bytes of a serialized module with a field replaced and the checksum made right again: what a
  // build, CPU or options mismatch looks like without another build or machine.
  function patched(serialized, at, replacement) {
    const body = Buffer.from(serialized.subarray(0, serialized.length - 32));
    const out = Buffer.concat([body.subarray(0, at), Buffer.from(replacement), body.subarray(at + replacement.length)]);
    return new Uint8Array(Buffer.concat([out, checksum(out)]));
  }
  // The format's checksum of `body` (all that precedes the checksum): BLAKE3 of it without the
  // wasm bytes, which have a BLAKE3 of their own just before them.
  function wasmSpan(body) {
    const cpu = body.readUInt32LE(44);
    const at = 48 + cpu + 5 + 8;
    const length = Number(body.readBigUInt64LE(at));
    return { hash: at + 8, start: at + 40, end: at + 40 + length };
  }
  function checksum(body) {
    const { start, end } = wasmSpan(body);
    return blake3(Buffer.concat([body.subarray(0, start), body.subarray(end)]));
  }
  function refusal(bytes) {
    try {
      engine.deserialize(bytes);
    } catch (err) {
      expect(err).toBeInstanceOf(engine.DeserializeError);
      expect(err).toBeInstanceOf(Error);
      expect(err.name).toBe('DeserializeError');
      return { kind: err.kind, message: err.message };
    }
    throw new Error('deserialize accepted the bytes');
  }
  let serialized;
  beforeAll(() => {
    // Restored here: the file's beforeEach saves the options after this has run.
    const saved = engine.getCompileOptions();
    try {
      engine.setCompileOptions({ lazy: false, firstTier: 'baseline', tierUp: 'off' });
      serialized = engine.serialize(new W.Module(freshBytes()));
    } finally {
      engine.setCompileOptions(saved);
    }
  });

  test('not a serialized module: wasm bytes, nothing, garbage', () => {
    engine.setCompileOptions({ lazy: false, firstTier: 'baseline', tierUp: 'off' });
    for (const bytes of [freshBytes(), new Uint8Array(0), new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])]) {
      const { kind, message } = refusal(bytes);
      expect(kind).toBe('format');
      expect(message).toMatch(/^deserialize\(\): the bytes are not a serialized cranewasm module/);
    }
  });

  test('another format version', () => {
    engine.setCompileOptions({ lazy: false, firstTier: 'baseline', tierUp: 'off' });
    const { kind, message } = refusal(patched(serialized, 8, [4, 0, 0, 0]));
    expect(kind).toBe('format');
    expect(message).toMatch(/format version 4; this build of cranewasm reads version 3/);
  });

  test('the checksum is BLAKE3 of all that precedes it but the wasm bytes, which have their own', () => {
    // The test helper against BLAKE3's published vectors, then against the engine's checksum of
    // a serialized module (several 1 KB chunks: the tree, not just one chunk).
    expect(blake3(Buffer.alloc(0)).toString('hex')).toBe('af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262');
    expect(blake3(Buffer.from('abc')).toString('hex')).toBe('6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85');
    expect(serialized.length).toBeGreaterThan(3 * 1024);
    const body = Buffer.from(serialized.subarray(0, serialized.length - 32));
    expect(checksum(body).equals(Buffer.from(serialized.subarray(serialized.length - 32)))).toBe(true);
    const { hash, start, end } = wasmSpan(body);
    expect(body.subarray(start, start + 4).toString('latin1')).toBe('\0asm');
    expect(blake3(body.subarray(start, end)).equals(body.subarray(hash, start))).toBe(true);
  });

  test('altered wasm bytes: their hash (the checksum leaves them out)', () => {
    engine.setCompileOptions({ lazy: false, firstTier: 'baseline', tierUp: 'off' });
    const { start, end } = wasmSpan(Buffer.from(serialized.subarray(0, serialized.length - 32)));
    const altered = serialized.slice();
    altered[Math.floor((start + end) / 2)] ^= 0x01;
    const { kind, message } = refusal(altered);
    expect(kind).toBe('corrupt');
    expect(message).toMatch(/damaged/);
  });

  test('truncated or altered: the checksum', () => {
    engine.setCompileOptions({ lazy: false, firstTier: 'baseline', tierUp: 'off' });
    const flipped = serialized.slice();
    flipped[Math.floor(flipped.length / 2)] ^= 0x10;
    for (const bytes of [serialized.slice(0, serialized.length - 1), serialized.slice(0, 40), flipped]) {
      const { kind, message } = refusal(bytes);
      expect(kind).toBe('corrupt');
      expect(message).toMatch(/damaged/);
    }
  });

  test('another build of cranewasm', () => {
    engine.setCompileOptions({ lazy: false, firstTier: 'baseline', tierUp: 'off' });
    const otherBuild = serialized.slice(12, 44).map((b) => b ^ 0xff);
    const { kind, message } = refusal(patched(serialized, 12, otherBuild));
    expect(kind).toBe('build');
    expect(message).toMatch(/serialized by another build of cranewasm/);
  });

  test('CPU features this machine lacks', () => {
    engine.setCompileOptions({ lazy: false, firstTier: 'baseline', tierUp: 'off' });
    const length = Buffer.from(serialized.subarray(44, 48)).readUInt32LE(0);
    const features = Buffer.from(serialized.subarray(48, 48 + length)).toString();
    // Same length, one feature renamed to one no CPU has.
    const renamed = features.length >= 8 ? `has_zzzz${features.slice(8)}` : 'has_zzzz';
    expect(renamed.length).toBe(length);
    const { kind, message } = refusal(patched(serialized, 48, Buffer.from(renamed)));
    expect(kind).toBe('cpu');
    expect(message).toMatch(/CPU features this machine lacks: has_zzzz/);
  });

  test('other compile options than this process has', () => {
    engine.setCompileOptions({ lazy: false, firstTier: 'baseline', tierUp: 'off' });
    for (const other of [{ boundsChecks: true }, { tierUp: 'dynamic' }, { firstTier: 'optimized' }, { interruptChecks: false }]) {
      engine.setCompileOptions({ lazy: false, firstTier: 'baseline', tierUp: 'off', boundsChecks: false, interruptChecks: true, ...other });
      const { kind, message } = refusal(serialized);
      expect(kind).toBe('options');
      expect(message).toMatch(/serialized with compile options \{ firstTier 'baseline', tierUp 'off', interruptChecks true, fuel false, boundsChecks false \}; this process compiles with/);
    }
    // Laziness and threads do not change code: accepted.
    engine.setCompileOptions({ lazy: true, firstTier: 'baseline', tierUp: 'off', boundsChecks: false, interruptChecks: true, threads: 1 });
    expect(engine.deserialize(serialized)).toBeInstanceOf(W.Module);
  });

  test('thousands of truncations and bit flips: a DeserializeError every time, never a crash', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cranewasm-serialize-'));
    try {
      const wasmPath = path.join(dir, 'module.wasm');
      fs.writeFileSync(wasmPath, freshBytes());
      const env = { ...process.env };
      for (const key of Object.keys(env)) if (key.startsWith('CRANEWASM_')) delete env[key];
      const child = spawnSync(process.execPath, [path.join(__dirname, 'helpers', 'serialize-fuzz.js'), wasmPath, '3000', '12345'], {
        env, encoding: 'utf8', timeout: 240000,
      });
      expect(child.signal).toBe(null);
      const line = child.stdout.trim().split('\n').pop();
      const result = JSON.parse(line);
      expect(result.fatal).toBeUndefined();
      expect(child.status).toBe(0);
      expect(result.unexpected).toEqual([]);
      expect(result.total).toBeGreaterThanOrEqual(3000);
      expect(result.byKind.corrupt).toBeGreaterThan(2000);
      expect(result.byKind.format).toBeGreaterThan(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 300000);
});

'use strict';
// Reuse of compiled code within a process (issue 16, item 1): compiling bytes identical to those
// of a live module reuses its code and tier-up state, while the JS objects stay distinct as the
// JS API requires. Observed through `cranewasm/engine`'s moduleCacheStats() and compileStatus().

const { execFileSync } = require('child_process');
const path = require('path');
const WebAssembly = require('..');
const engine = require('../engine');

let serial = 0;

// (module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
//   (@custom "meta" <4 bytes: a serial number>)): fresh bytes for each call.
function freshBytes() {
  serial += 1;
  const n = serial + Math.floor(Math.random() * 1e6) * 1000;
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f,
    0x03, 0x02, 0x01, 0x00,
    0x07, 0x07, 0x01, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00,
    0x0a, 0x09, 0x01, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b,
    0x00, 0x09, 0x04, 0x6d, 0x65, 0x74, 0x61, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff,
  ]);
}

function delta(f) {
  const before = engine.moduleCacheStats();
  const result = f();
  const after = engine.moduleCacheStats();
  return { result, hits: after.hits - before.hits, misses: after.misses - before.misses };
}

async function deltaAsync(f) {
  const before = engine.moduleCacheStats();
  const result = await f();
  const after = engine.moduleCacheStats();
  return { result, hits: after.hits - before.hits, misses: after.misses - before.misses };
}

describe('module reuse', () => {
  // Compile options are the process's, and jest runs several files in one process: start from
  // known ones (lazy baseline with dynamic tier-up), whatever a file before this one left.
  let saved;
  beforeAll(() => {
    saved = engine.getCompileOptions();
    engine.setCompileOptions({ ...saved, lazy: true, firstTier: 'baseline', tierUp: 'dynamic' });
  });
  afterAll(() => engine.setCompileOptions(saved));

  test('new Module of identical bytes reuses the code; the objects stay distinct, as on Node', () => {
    const bytes = freshBytes();
    const first = delta(() => new WebAssembly.Module(bytes));
    expect([first.hits, first.misses]).toEqual([0, 1]);
    // A copy of the bytes, not the same buffer: the key is the content.
    const second = delta(() => new WebAssembly.Module(bytes.slice()));
    expect([second.hits, second.misses]).toEqual([1, 0]);
    const [a, b] = [first.result, second.result];
    expect(a).not.toBe(b);
    const [sa, sb] = [WebAssembly.Module.customSections(a, 'meta'), WebAssembly.Module.customSections(b, 'meta')];
    expect(sa).not.toBe(sb);
    expect(sa[0]).not.toBe(sb[0]);
    expect(new Uint8Array(sa[0])).toEqual(new Uint8Array(sb[0]));
    expect(WebAssembly.Module.exports(a)).toEqual(WebAssembly.Module.exports(b));
    const ia = new WebAssembly.Instance(a);
    const ib = new WebAssembly.Instance(b);
    expect(ia.exports.add).not.toBe(ib.exports.add);
    const node = new globalThis.WebAssembly.Instance(new globalThis.WebAssembly.Module(bytes));
    for (const [x, y] of [[1, 2], [0x7fffffff, 1], [-5, 3]]) {
      expect(ia.exports.add(x, y)).toBe(node.exports.add(x, y));
      expect(ib.exports.add(x, y)).toBe(node.exports.add(x, y));
    }
    // Distinct objects: a property on one is not on the other.
    a.tag = 1;
    expect(b.tag).toBeUndefined();
  });

  test('compile() and instantiate(bytes) reuse it too', async () => {
    const bytes = freshBytes();
    const first = await deltaAsync(() => WebAssembly.compile(bytes));
    expect([first.hits, first.misses]).toEqual([0, 1]);
    const second = await deltaAsync(() => WebAssembly.instantiate(bytes.slice()));
    expect([second.hits, second.misses]).toEqual([1, 0]);
    expect(second.result.module).not.toBe(first.result);
    expect(second.result.instance.exports.add(40, 2)).toBe(42);
    const third = delta(() => new WebAssembly.Module(bytes));
    expect([third.hits, third.misses]).toEqual([1, 0]);
    expect(first.result).toBeInstanceOf(WebAssembly.Module);
  });

  test('bytes written after the call reach neither a reused nor a new module; shared buffers too', async () => {
    const bytes = freshBytes();
    const original = bytes.slice();
    const last = bytes.length - 1;
    const pending = WebAssembly.compile(bytes); // a miss: compiled from a copy
    bytes[last] ^= 0xff;
    const module = await pending;
    expect(new Uint8Array(WebAssembly.Module.customSections(module, 'meta')[0])).toEqual(original.slice(-4));
    // The changed bytes are other bytes: not the cached module.
    const changed = await deltaAsync(() => WebAssembly.compile(bytes));
    expect([changed.hits, changed.misses]).toEqual([0, 1]);
    expect(new Uint8Array(WebAssembly.Module.customSections(changed.result, 'meta')[0])).toEqual(bytes.slice(-4));
    // A view of a SharedArrayBuffer holding the original bytes: a hit, on both paths.
    const shared = new Uint8Array(new SharedArrayBuffer(original.length));
    shared.set(original);
    const viaShared = await deltaAsync(() => WebAssembly.compile(shared));
    expect([viaShared.hits, viaShared.misses]).toEqual([1, 0]);
    expect(delta(() => new WebAssembly.Module(shared)).hits).toBe(1);
    expect(delta(() => new WebAssembly.Module(new DataView(original.buffer))).hits).toBe(1);
    expect(new WebAssembly.Instance(viaShared.result).exports.add(3, 4)).toBe(7);
  });

  test('concurrent compiles of the same bytes compile once', async () => {
    const bytes = freshBytes();
    const { result, hits, misses } = await deltaAsync(() => Promise.all([1, 2, 3, 4].map(() => WebAssembly.compile(bytes.slice()))));
    expect([hits, misses]).toEqual([3, 1]);
    expect(new Set(result).size).toBe(4);
  });

  test('different compile options do not reuse; the same options again do', () => {
    const bytes = freshBytes();
    const saved = engine.getCompileOptions();
    try {
      const base = delta(() => new WebAssembly.Module(bytes));
      expect(base.misses).toBe(1);
      for (const options of [{ firstTier: 'optimized' }, { lazy: !saved.lazy }, { interruptChecks: false }, { boundsChecks: !saved.boundsChecks }]) {
        engine.setCompileOptions({ ...saved, ...options });
        const other = delta(() => new WebAssembly.Module(bytes));
        expect([options, other.hits, other.misses]).toEqual([options, 0, 1]);
        expect(new WebAssembly.Instance(other.result).exports.add(2, 3)).toBe(5);
      }
      engine.setCompileOptions(saved);
      const again = delta(() => new WebAssembly.Module(bytes));
      expect([again.hits, again.misses]).toEqual([1, 0]);
    } finally {
      engine.setCompileOptions(saved);
    }
  });

  test('different bytes do not reuse, and invalid bytes are not cached', () => {
    const bytes = freshBytes();
    new WebAssembly.Module(bytes);
    const other = bytes.slice();
    other[other.length - 1] ^= 0xff;
    expect(delta(() => new WebAssembly.Module(other)).misses).toBe(1);
    const bad = bytes.slice(0, bytes.length - 3); // a truncated custom section
    for (let i = 0; i < 2; i++) {
      const before = engine.moduleCacheStats();
      expect(() => new WebAssembly.Module(bad)).toThrow(WebAssembly.CompileError);
      expect(() => new globalThis.WebAssembly.Module(bad)).toThrow(globalThis.WebAssembly.CompileError);
      expect(engine.moduleCacheStats().hits).toBe(before.hits);
    }
  });

  test('tier-up state is shared: code optimized through one Module object serves the other', async () => {
    const bytes = freshBytes();
    const a = new WebAssembly.Module(bytes);
    const b = new WebAssembly.Module(bytes);
    expect(engine.compileStatus(b).optimized).toBe(0);
    await engine.tierUp(a);
    const status = engine.compileStatus(b);
    expect(status.optimized).toBe(status.functions);
    expect(new WebAssembly.Instance(b).exports.add(20, 22)).toBe(42);
  });

  test('compileStreaming publishes its module once the body is complete', async () => {
    const bytes = freshBytes();
    const response = () => new Response(bytes, { headers: { 'content-type': 'application/wasm' } });
    const streamed = await deltaAsync(() => WebAssembly.compileStreaming(response()));
    expect([streamed.hits, streamed.misses]).toEqual([0, 1]);
    const later = delta(() => new WebAssembly.Module(bytes));
    expect([later.hits, later.misses]).toEqual([1, 0]);
    expect(later.result).not.toBe(streamed.result);
    expect(new WebAssembly.Instance(later.result).exports.add(1, 1)).toBe(2);
  });

  test('a module no longer reachable is collected: the cache holds it weakly', () => {
    const script = `
      const WebAssembly = require(${JSON.stringify(path.join(__dirname, '..'))});
      const engine = require(${JSON.stringify(path.join(__dirname, '..', 'engine.js'))});
      const bytes = new Uint8Array(${JSON.stringify(Array.from(freshBytes()))});
      const live0 = engine.moduleCacheStats().live;
      let a = new WebAssembly.Module(bytes);
      let b = new WebAssembly.Module(bytes);
      const whileAlive = engine.moduleCacheStats().live - live0;
      a = null;
      (async () => {
        for (let i = 0; i < 10; i++) { global.gc(); await new Promise((r) => setImmediate(r)); }
        const oneLeft = engine.moduleCacheStats().live - live0;
        b = null;
        for (let i = 0; i < 10; i++) { global.gc(); await new Promise((r) => setImmediate(r)); }
        const none = engine.moduleCacheStats().live - live0;
        const misses = engine.moduleCacheStats().misses;
        new WebAssembly.Module(bytes);
        const recompiled = engine.moduleCacheStats().misses - misses;
        process.stdout.write(JSON.stringify({ whileAlive, oneLeft, none, recompiled }));
      })();
    `;
    const output = execFileSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 60000 });
    expect(JSON.parse(output)).toEqual({ whileAlive: 1, oneLeft: 1, none: 0, recompiled: 1 });
  });
});

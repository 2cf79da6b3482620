// Stack traces and profiles: the wasm frames of traps and of JS exceptions that pass through
// wasm, in V8's format (`at name (wasm://wasm/hash:wasm-function[i]:0xoffset)`), compared with
// Node's built-in WebAssembly running the same module from the same call site (whole stacks,
// JS frames included), at every compile configuration; and the perf map that
// CRANEWASM_PERF_MAP=1 writes. The scenarios run in plain Node processes
// (helpers/stack-driver.js): jest rewrites every stack frame, wasm frames too.
'use strict';

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const driver = path.join(__dirname, 'helpers', 'stack-driver.js');

function runDriver(env) {
  const run = spawnSync(process.execPath, [driver], {
    env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120000,
  });
  expect(run.stderr).toBe('');
  const result = JSON.parse(run.stdout);
  expect(result.error).toBeUndefined();
  return result;
}

const wasmLines = (stack) => stack.split('\n').filter((line) => line.includes('wasm://'));

const CONFIGS = {
  'lazy, dynamic tier-up (default)': {},
  'eager baseline': { CRANEWASM_LAZY: '0', CRANEWASM_FIRST_TIER: 'baseline', CRANEWASM_TIER_UP: 'off' },
  'eager optimized': { CRANEWASM_LAZY: '0', CRANEWASM_FIRST_TIER: 'optimized' },
  'with a perf map (code in anonymous shared memory)': { CRANEWASM_PERF_MAP: '1' },
  'memory accesses bounds-checked in code': { CRANEWASM_BOUNDS_CHECKS: '1' },
};

describe.each(Object.entries(CONFIGS))('%s', (_, env) => {
  let result;
  beforeAll(() => {
    result = runDriver(env);
  });

  test('every trap kind: the same stack as Node, with the trapping frame', () => {
    const traps = Object.entries(result.scenarios).filter(([name]) => name.startsWith('trap: '));
    expect(traps.length).toBeGreaterThan(30);
    for (const [name, { theirs, ours }] of traps) {
      expect(wasmLines(theirs)).toHaveLength(1);
      expect(theirs).toMatch(/^RuntimeError: .*\n {4}at wasm:\/\/wasm\/[0-9a-f]{8}:wasm-function\[\d+\]:0x[0-9a-f]+\n/);
      expect({ name, stack: ours }).toEqual({ name, stack: theirs });
    }
  });

  test('names from the name section, as V8 composes them', () => {
    const { scenarios } = result;
    const tops = {};
    for (const name of ['module and function names', 'function names', 'a module name only', 'no names']) {
      const { theirs, ours } = scenarios[`names: ${name}`];
      expect(wasmLines(theirs)).toHaveLength(3);
      expect({ name, stack: ours }).toEqual({ name, stack: theirs });
      tops[name] = theirs.split('\n')[1].replace(/ \(.*/, '').replace(/:.*/, '');
    }
    expect(tops).toEqual({
      'module and function names': '    at mymod.inner',
      'function names': '    at inner',
      'a module name only': '    at only',
      'no names': '    at wasm',
    });
  });

  test('JS exceptions through wasm, and traps below imports: frames interleaved as on Node', () => {
    const { scenarios } = result;
    const nested = Object.entries(scenarios).filter(([name]) => name.startsWith('nested'));
    expect(nested).toHaveLength(8);
    for (const [name, { theirs, ours }] of nested) {
      expect({ name, stack: ours }).toEqual({ name, stack: theirs });
    }
    // JS -> wasm -> JS -> wasm -> JS -> wasm that traps: every frame, in order.
    const deep = scenarios['nested, Error.stackTraceLimit = 100'].theirs.split('\n');
    expect(deep[0]).toBe('RuntimeError: memory access out of bounds');
    expect(deep.slice(1, 10).map((line) => line.replace(/^ {4}at (\S+) .*/, '$1'))).toEqual([
      'm.leaf', 'm.mid', 'f', 'm.leaf', 'm.mid', 'f', 'm.leaf', 'm.mid', 'm.top',
    ]);
    expect(scenarios['a thrown string'].ours).toEqual(scenarios['a thrown string'].theirs);
  });

  test('stack overflow, the start function, module hashes, tier-up', () => {
    const { scenarios } = result;
    const overflow = scenarios['stack overflow'];
    expect(overflow.theirs).toMatch(/^RangeError: Maximum call stack size exceeded/);
    expect(wasmLines(overflow.theirs)).toHaveLength(10);
    expect(overflow.ours).toEqual(overflow.theirs);
    // The start function: its frame on top (the JS frames below are the API's own, which
    // differ: V8's are native).
    const start = scenarios['start function'];
    expect(wasmLines(start.theirs)).toHaveLength(1);
    expect(wasmLines(start.ours)).toEqual(wasmLines(start.theirs));
    expect(start.ours.split('\n')[1]).toEqual(wasmLines(start.theirs)[0]);
    const sizes = Object.keys(scenarios).filter((name) => name.startsWith('a module of'));
    expect(sizes).toHaveLength(3);
    for (const name of sizes) {
      expect({ name, stack: scenarios[name].ours }).toEqual({ name, stack: scenarios[name].theirs });
    }
    expect(result.tiered).toBe(true);
    expect(scenarios['after tier-up'].ours).toEqual(scenarios['after tier-up'].theirs);
  });
});

test('CRANEWASM_PERF_MAP=1 writes /tmp/perf-<pid>.map entries for every tier', () => {
  const wabtBytes = spawnSync(process.execPath, ['-e', `
    require('wabt')().then((w) => process.stdout.write(Buffer.from(w.parseWat('t.wat', \`(module $prof
      (func $hot (export "hot") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
      (func (export "anon") (result i32) (i32.const 1)))\`).toBinary({ write_debug_names: true }).buffer).toString('base64')));
  `], { encoding: 'utf8', cwd: path.join(__dirname, '..') }).stdout;
  expect(wabtBytes.length).toBeGreaterThan(0);
  const script = `
    const W = require(${JSON.stringify(path.join(__dirname, '..', 'index.js'))});
    const engine = require(${JSON.stringify(path.join(__dirname, '..', 'engine.js'))});
    const bytes = Buffer.from(${JSON.stringify(wabtBytes)}, 'base64');
    engine.setCompileOptions({ lazy: false, firstTier: 'baseline', tierUp: 'off' });
    const e = new W.Instance(new W.Module(bytes)).exports;
    e.hot(1); e.anon();
    engine.setCompileOptions({ tierUp: 'eager' });
    const m2 = new W.Module(bytes);
    engine.tierUp(m2).then(() => process.stdout.write(JSON.stringify({
      pid: process.pid, maps: require('fs').readFileSync('/proc/self/maps', 'utf8'),
    })));
  `;
  const mapOf = (value) => {
    const run = spawnSync(process.execPath, ['-e', script], {
      env: { ...process.env, CRANEWASM_PERF_MAP: value }, encoding: 'utf8', timeout: 60000,
    });
    expect(run.stderr).toBe('');
    const { pid, maps } = JSON.parse(run.stdout);
    const file = `/tmp/perf-${pid}.map`;
    if (!fs.existsSync(file)) return { lines: null, maps };
    try {
      return { lines: fs.readFileSync(file, 'utf8').trim().split('\n'), maps };
    } finally {
      fs.rmSync(file, { force: true });
    }
  };
  const { lines, maps } = mapOf('1');
  expect(lines).not.toBeNull();
  // perf reads the map only for code in memory it takes for anonymous: every entry lies in a
  // mapping of shared anonymous memory ("/dev/zero (deleted)"), executable.
  const mappings = maps.trim().split('\n').map((line) => {
    const [range, perms, , , , ...name] = line.split(/\s+/);
    const [start, end] = range.split('-').map((x) => BigInt(`0x${x}`));
    return { start, end, perms, name: name.join(' ') };
  });
  for (const line of lines) {
    const address = BigInt(`0x${line.split(' ')[0]}`);
    const mapping = mappings.find((m) => m.start <= address && address < m.end);
    expect({ line, mapping: mapping && [mapping.perms, mapping.name] }).toEqual({ line, mapping: ['r-xs', '/dev/zero (deleted)'] });
  }
  for (const line of lines) expect(line).toMatch(/^[0-9a-f]+ [0-9a-f]+ \S/);
  const names = lines.map((line) => line.split(' ').slice(2).join(' '));
  for (const [name, index] of [['prof\\.hot', 0], ['prof', 1]]) {
    for (const tier of ['baseline', 'optimized']) {
      const pattern = new RegExp(`^wasm ${name} \\[${tier}\\] wasm://wasm/prof-[0-9a-f]{8}:wasm-function\\[${index}\\]$`);
      expect({ name, tier, found: names.some((n) => pattern.test(n)) }).toEqual({ name, tier, found: true });
    }
  }
  expect(names).toContain('cranewasm entry trampoline');
  // The addresses of wasm functions do not overlap.
  const ranges = lines.map((line) => line.split(' ').slice(0, 2).map((x) => parseInt(x, 16))).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) expect(ranges[i][0]).toBeGreaterThanOrEqual(ranges[i - 1][0] + ranges[i - 1][1]);
  // Without the variable, no map.
  expect(mapOf('').lines).toBeNull();
});

test('a trap error\'s stack reads the same twice, can be assigned, and shows in util.inspect', async () => {
  const cranewasm = require('../index.js');
  const wabt = await require('./helpers/execution.js').loadWabt();
  const parsed = wabt.parseWat('t.wat', '(module $u (func $boom (export "boom") unreachable))');
  const bytes = parsed.toBinary({ write_debug_names: true }).buffer;
  parsed.destroy();
  const boom = new cranewasm.Instance(new cranewasm.Module(bytes)).exports.boom;
  const caught = () => {
    try {
      boom();
    } catch (err) {
      return err;
    }
    return undefined;
  };
  const err = caught();
  const first = err.stack;
  expect(first).toMatch(/^RuntimeError: unreachable\n {4}at u\.boom \(wasm:\/\/wasm\/u-[0-9a-f]{8}:wasm-function\[0\]:0x[0-9a-f]+\)\n/);
  expect(err.stack).toBe(first);
  expect(require('util').inspect(err)).toContain('at u.boom (wasm://wasm/u-');
  const assigned = caught();
  assigned.stack = 'replaced';
  expect(assigned.stack).toBe('replaced');
  expect(Object.getOwnPropertyDescriptor(assigned, 'stack')).toEqual({ value: 'replaced', writable: true, enumerable: false, configurable: true });
  // A message changed before the first read shows, as on V8 (which formats on first read).
  const renamed = caught();
  renamed.message = 'changed';
  expect(renamed.stack.split('\n')[0]).toBe('RuntimeError: changed');
});

#!/usr/bin/env node
// `npm run bench:shapes`: functions whose shape can make an optimizing compiler blow up (a long
// dependency chain, a huge straight-line body, many live values, many locals, deep block
// nesting, a big br_table, deep loop nesting), each compiled eagerly at the baseline tier and at
// the optimizing tier, on cranewasm and on Node (Liftoff and TurboFan), one fresh process per
// measurement. Prints the compile time and the peak RSS of each, and the ratio optimized /
// baseline: cranewasm's bound (issue 16) is 10× the baseline's time and 1 GB.
//
// Usage: node bench/compile-shapes.js [--quick] [--markdown] [--shapes=chain,wide,…] [--size=N]
//   --quick     smaller sizes (one tenth)      --size=N   every shape at about N instructions
//   --timeout=S a measurement taking longer is killed and reported as "> S s" (default 600)
//   --rounds=N  measurements per configuration, the median kept (default 3; 1 with --quick)
// The generator is `shapeModule(shape, n)` (the tests use it too).
'use strict';

const path = require('path');
const { spawnSync } = require('child_process');

const I32 = 0x7f;

// The LEB128 and section encoders synthetic-module.js builds its module with.
const { uleb, sleb, section } = require('./synthetic-module.js');

const OP = {
  block: 0x02, loop: 0x03, if: 0x04, end: 0x0b, br: 0x0c, brIf: 0x0d, brTable: 0x0e, drop: 0x1a,
  localGet: 0x20, localSet: 0x21, localTee: 0x22, i32Const: 0x41, i32Add: 0x6a, i32Sub: 0x6b,
  i32Mul: 0x6c, i32Xor: 0x73, i32Rotl: 0x77, void: 0x40,
};

// The body of `f(x: i32) -> i32` for `shape`, about `n` wasm instructions: [locals, code].
const SHAPES = {
  // x + x + x + … : every add depends on the one before (the 1M-add chain).
  chain(n) {
    const code = [OP.localGet, 0];
    for (let i = 0; i < n; i++) code.push(OP.localGet, 0, OP.i32Add);
    return [[], code];
  },
  // x + 1 + 2 + 3 + … : the same chain with constants, which the optimizer reassociates.
  constChain(n) {
    const code = [OP.localGet, 0];
    for (let i = 0; i < n; i++) { code.push(OP.i32Const); sleb((i % 1000) + 1, code); code.push(OP.i32Add); }
    return [[], code];
  },
  // Short chains of constant adds (k of them) folded into a local, repeated: how much of a
  // chain it takes before reassociation costs.
  shortChains(n, k = 1) {
    const code = [];
    for (let i = 0; i < n / (2 * k + 4); i++) {
      code.push(OP.localGet, 0);
      for (let j = 0; j < k; j++) { code.push(OP.i32Const); sleb(i + j + 1, code); code.push(OP.i32Add); }
      code.push(OP.localGet, 1, OP.i32Xor, OP.localSet, 1);
    }
    code.push(OP.localGet, 1);
    return [[[1, I32]], code];
  },
  // Straight-line code over 16 locals: each statement mixes two of them into a third.
  wide(n) {
    const code = [];
    for (let i = 0; i < n / 6; i++) {
      code.push(OP.localGet, 1 + (i % 16), OP.localGet, 1 + ((i * 7 + 3) % 16), OP.i32Xor);
      code.push(OP.i32Const); sleb(i, code); code.push(OP.i32Add, OP.localSet, 1 + ((i * 5 + 1) % 16));
    }
    code.push(OP.localGet, 1);
    return [[[16, I32]], code];
  },
  // n/2 values pushed on the operand stack, then added up: all live at once.
  live(n) {
    const count = Math.max(2, Math.floor(n / 2));
    const code = [];
    for (let i = 0; i < count; i++) code.push(OP.localGet, 0);
    for (let i = 1; i < count; i++) code.push(OP.i32Add);
    return [[], code];
  },
  // n/4 locals (at most V8's limit), each set from x, then all summed: many locals live across the body.
  locals(n) {
    // V8 takes at most 50,000 locals a function.
    const count = Math.min(49_999, Math.max(1, Math.floor(n / 4)));
    const code = [];
    for (let i = 1; i <= count; i++) {
      code.push(OP.localGet, 0, OP.i32Const); sleb(i, code); code.push(OP.i32Add, OP.localSet); uleb(i, code);
    }
    code.push(OP.localGet, 0);
    for (let i = 1; i <= count; i++) { code.push(OP.localGet); uleb(i, code); code.push(OP.i32Add); }
    return [[[count, I32]], code];
  },
  // n/6 nested blocks, each left early by a br_if on x, with work between them.
  nesting(n) {
    const depth = Math.max(1, Math.floor(n / 6));
    const code = [];
    for (let i = 0; i < depth; i++) code.push(OP.block, OP.void);
    for (let i = 0; i < depth; i++) {
      code.push(OP.localGet, 0, OP.i32Const); sleb(i, code); code.push(OP.i32Add, OP.localTee, 0, OP.brIf, Math.min(i % 8, depth - i - 1), OP.end);
    }
    code.push(OP.localGet, 0);
    return [[], code];
  },
  // A br_table of n/4 targets, each its own block with a little work (a switch).
  brtable(n) {
    const cases = Math.max(1, Math.floor(n / 4));
    const code = [];
    for (let i = 0; i <= cases; i++) code.push(OP.block, OP.void);
    code.push(OP.localGet, 0, OP.brTable); uleb(cases, code);
    for (let i = 0; i < cases; i++) uleb(i, code);
    uleb(cases, code);
    for (let i = 0; i < cases; i++) {
      code.push(OP.end, OP.localGet, 0, OP.i32Const); sleb(i, code); code.push(OP.i32Add, OP.localSet, 0);
    }
    code.push(OP.end, OP.localGet, 0);
    return [[], code];
  },
  // n/8 nested loops without back edges (blocks to the CFG), with work at every level.
  openLoops(n) {
    const depth = Math.max(1, Math.floor(n / 8));
    const code = [];
    for (let i = 0; i < depth; i++) {
      code.push(OP.loop, OP.void, OP.localGet, 0, OP.i32Const); sleb(i, code); code.push(OP.i32Add, OP.localSet, 0);
    }
    for (let i = 0; i < depth; i++) code.push(OP.end);
    code.push(OP.localGet, 0);
    return [[], code];
  },
  // n/10 nested loops, each run once (a back edge on a local that stays 0), with work at
  // every level.
  loops(n) {
    const depth = Math.max(1, Math.floor(n / 10));
    const code = [];
    for (let i = 0; i < depth; i++) {
      code.push(OP.loop, OP.void, OP.localGet, 0, OP.i32Const); sleb(i, code); code.push(OP.i32Add, OP.localSet, 0);
    }
    for (let i = 0; i < depth; i++) code.push(OP.localGet, 1, OP.brIf, 0, OP.end);
    code.push(OP.localGet, 0);
    return [[[1, I32]], code];
  },
};

// A module of one function `f(x: i32) -> i32` (exported as "f") of `shape` at about `n`
// instructions, as a Uint8Array.
function shapeModule(shape, n) {
  const [locals, code] = SHAPES[shape](n);
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  section(1, [1, 0x60, 1, I32, 1, I32], out); // type 0: [i32] -> [i32]
  section(3, [1, 0], out);
  section(7, [1, 1, 0x66, 0x00, 0], out); // export "f" func 0
  const body = [];
  uleb(locals.length, body);
  for (const [count, type] of locals) { uleb(count, body); body.push(type); }
  for (let i = 0; i < code.length; i++) body.push(code[i]);
  body.push(OP.end);
  const content = [1];
  uleb(body.length, content);
  for (let i = 0; i < body.length; i++) content.push(body[i]);
  section(10, content, out);
  return Uint8Array.from(out);
}

// What `f(3)` returns, computed in JS, for the shapes whose result is easy to state.
function expectedResult(shape, n) {
  if (shape === 'chain') return Math.imul(3, n + 1) | 0;
  if (shape === 'live') return Math.imul(3, Math.max(2, Math.floor(n / 2))) | 0;
  if (shape === 'constChain') {
    let sum = 3;
    for (let i = 0; i < n; i++) sum = (sum + (i % 1000) + 1) | 0;
    return sum;
  }
  return undefined;
}

// ---- Measuring (one process per measurement) -------------------------------------------------

// This process's peak resident set, in bytes. On Linux it is VmHWM, the high-water mark of this
// process's own address space: getrusage's ru_maxrss survives fork and exec, so a child spawned
// by a parent that once held 1 GB reports at least 1 GB there. Elsewhere, ru_maxrss.
function peakRssBytes() {
  try {
    const status = require('fs').readFileSync('/proc/self/status', 'utf8');
    const match = /^VmHWM:\s*(\d+) kB$/m.exec(status);
    if (match) return Number(match[1]) * 1024;
  } catch {}
  return process.resourceUsage().maxRSS * 1024;
}

// The child: compiles `shape` at `n` on `engine` (its tier chosen by the parent's flags or
// environment), calls f(3), prints {ms, rss, result, status}. Peak RSS is the process's.
function child({ engine, shape, n, tierUp }) {
  const bytes = shapeModule(shape, n);
  const WA = engine === 'cranewasm' ? require('..') : globalThis.WebAssembly;
  const rssBefore = process.memoryUsage.rss();
  const start = process.hrtime.bigint();
  const module = new WA.Module(bytes);
  let status;
  const finish = () => {
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const instance = new WA.Instance(module, {});
    const result = instance.exports.f(3);
    const cw = engine === 'cranewasm' ? require('../engine') : null;
    if (cw) status = cw.compileStatus(module);
    process.stdout.write(`${JSON.stringify({ ms, rss: peakRssBytes(), rssBefore, result, status })}\n`);
  };
  if (tierUp) require('../engine').tierUp(module).then(finish, (err) => { console.error(err); process.exit(1); });
  else finish();
}

// Each engine's configurations: [name, node flags, environment, wait for tier-up].
const CONFIGS = {
  cranewasm: {
    baseline: [[], { CRANEWASM_LAZY: '0', CRANEWASM_TIER_UP: 'off' }, false],
    optimized: [[], { CRANEWASM_LAZY: '0', CRANEWASM_FIRST_TIER: 'optimized' }, false],
    'eager tier-up': [[], { CRANEWASM_LAZY: '0', CRANEWASM_TIER_UP: 'eager' }, true],
  },
  node: {
    baseline: [['--liftoff-only', '--no-wasm-lazy-compilation'], {}, false],
    optimized: [['--no-liftoff', '--no-wasm-lazy-compilation'], {}, false],
  },
};

function measure(engine, config, shape, n, timeoutS) {
  const [flags, env, tierUp] = CONFIGS[engine][config];
  const arg = JSON.stringify({ engine, shape, n, tierUp });
  const run = spawnSync(process.execPath, [...flags, '--max-old-space-size=4096', __filename, '--child', arg], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: timeoutS * 1000,
    killSignal: 'SIGKILL',
    maxBuffer: 1 << 20,
  });
  if (run.error && run.error.code === 'ETIMEDOUT') return { timedOut: true };
  if (run.status !== 0) return { failed: `${run.signal || run.status}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}` };
  return JSON.parse(run.stdout.trim().split('\n').pop());
}

function main() {
  const argv = process.argv.slice(2);
  const option = (name) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const quick = argv.includes('--quick');
  const markdown = argv.includes('--markdown');
  const timeoutS = Number(option('timeout') ?? 600);
  const rounds = Number(option('rounds') ?? (quick ? 1 : 3));
  const shapes = (option('shapes') ?? Object.keys(SHAPES).join(',')).split(',');
  const sizeOf = (shape) => {
    if (option('size')) return Number(option('size'));
    // The case: a 1M-add chain; the others at a size real generated code reaches.
    const full = { chain: 1_000_000, constChain: 1_000_000, shortChains: 100_000, wide: 600_000, live: 200_000, locals: 200_000, nesting: 120_000, brtable: 200_000, loops: 8_000, openLoops: 80_000 }[shape];
    return quick ? full / 10 : full;
  };
  const cell = (r) => (r.timedOut ? `> ${timeoutS} s` : r.failed ? `failed (${r.failed})` : `${(r.ms / 1000).toFixed(2)} s, ${((r.rss - r.rssBefore) / 2 ** 20).toFixed(0)} MB`);
  const ratio = (a, b) => (a.ms && b.ms ? (a.ms / b.ms).toFixed(1) : a.timedOut ? `> ${(timeoutS * 1000 / b.ms).toFixed(0)}` : '?');
  const rows = [];
  for (const shape of shapes) {
    const n = sizeOf(shape);
    const r = {};
    // Rounds alternate over every configuration; each keeps its median (by time) round.
    const runs = {};
    for (let round = 0; round < rounds; round++) {
      for (const [engine, configs] of Object.entries(CONFIGS)) {
        for (const config of Object.keys(configs)) (runs[`${engine} ${config}`] ??= []).push(measure(engine, config, shape, n, timeoutS));
      }
    }
    for (const [key, list] of Object.entries(runs)) {
      const sorted = [...list].sort((a, b) => (a.ms ?? Infinity) - (b.ms ?? Infinity));
      r[key] = sorted[Math.floor(sorted.length / 2)];
    }
    const results = Object.values(r).filter((x) => 'result' in x).map((x) => x.result);
    if (results.some((x) => x !== results[0])) throw new Error(`${shape}: the engines disagree on f(3): ${results}`);
    const expected = expectedResult(shape, n);
    if (expected !== undefined && results.some((x) => x !== expected)) throw new Error(`${shape}: f(3) is ${results}, not ${expected}`);
    const row = {
      shape, n,
      cells: Object.fromEntries(Object.entries(r).map(([k, v]) => [k, cell(v)])),
      ours: ratio(r['cranewasm optimized'], r['cranewasm baseline']),
      tierUp: ratio(r['cranewasm eager tier-up'], r['cranewasm baseline']),
      node: ratio(r['node optimized'], r['node baseline']),
      cheaper: r['cranewasm optimized'].status ? r['cranewasm optimized'].status.cheaperSettings : undefined,
    };
    rows.push(row);
    if (!markdown) console.log(JSON.stringify(row));
  }
  if (markdown) {
    console.log('| shape (instructions) | cranewasm baseline | cranewasm optimized | optimized / baseline | eager tier-up (both tiers) / baseline | Node Liftoff | Node TurboFan | TurboFan / Liftoff |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      const c = r.cells;
      console.log(`| ${r.shape} (${r.n.toLocaleString('en')}) | ${c['cranewasm baseline']} | ${c['cranewasm optimized']} | ${r.ours} | ${r.tierUp} | ${c['node baseline']} | ${c['node optimized']} | ${r.node} |`);
    }
  }
}

module.exports = { shapeModule, expectedResult, peakRssBytes, SHAPES };

if (require.main === module) {
  if (process.argv[2] === '--child') child(JSON.parse(process.argv[3]));
  else main();
}

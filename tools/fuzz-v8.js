#!/usr/bin/env node
// Differential fuzzing against V8: the same modules run on cranewasm and on Node's built-in
// WebAssembly in one process, and every observable outcome must agree: validation, compile and
// instantiation errors (class), the result or error (class and message) of every call of every
// exported function, the calls made to imported functions with their arguments, and the
// exported globals and memories after each call. cranewasm alternates its tiers (baseline lazy,
// optimized eager, baseline tiering up eagerly, single-pass eager, single-pass lazy with dynamic
// tier-up) from one module to the next; --tier NAME keeps to the configurations whose first tier
// is NAME.
//
// Inputs (--source):
//   smith  wasm-smith modules from `cranewasm-fuzz --emit-v8` (tools/fuzz): Wasm 2.0 with tail
//          calls, extended constant expressions, memory64 and SIMD now and then, NaNs
//          canonicalized, made terminating with fuel;
//   eh     exception-handling programs made here (tools/fuzz-v8-eh.js): legacy try / catch /
//          catch_all / rethrow / delegate / throw between functions and JS imports that throw
//          or call back in, the form Node 20's V8 has;
//   both   alternately (the default).
//
// Usage (npm run fuzz:v8 -- ...): --seconds N (default 60), --seed S, --out DIR (findings,
// default fuzz-v8-findings). The V8 flags the inputs need are set by `npm run fuzz:v8`
// (package.json). Exit status 1 when anything disagreed; each finding is saved as
// DIR/finding-N.wasm with DIR/finding-N.txt saying what differed.
'use strict';

const { spawn } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..');
const cranewasm = require(ROOT);
const engine = require(path.join(ROOT, 'engine.js'));
const ehPrograms = require('./fuzz-v8-eh.js');

const v8 = globalThis.WebAssembly;

function parseArgs(argv) {
  const options = { seconds: 60, seed: Date.now() % 1e9, out: 'fuzz-v8-findings', source: 'both' };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case '--seconds': options.seconds = Number(value); i++; break;
      case '--seed': options.seed = Number(value); i++; break;
      case '--out': options.out = value; i++; break;
      case '--source': options.source = value; i++; break;
      case '--tier': options.tier = value; i++; break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!['smith', 'eh', 'both'].includes(options.source)) throw new Error('--source is smith, eh or both');
  return options;
}

// ---- Describing outcomes ------------------------------------------------------------------

function show(value) {
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : Object.is(value, -0) ? '-0' : value;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'function';
  if (Array.isArray(value)) return value.map(show);
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return `object ${value.constructor && value.constructor.name}`;
  return `${typeof value} ${String(value)}`;
}

function errorOf(err) {
  if (err instanceof Error || (err && typeof err === 'object' && 'message' in err)) {
    return { threw: err.constructor && err.constructor.name, message: String(err.message) };
  }
  return { threw: typeof err, value: show(err) };
}

// The message of a stack overflow, and of wasm-smith's fuel running out, depend on no engine
// choice; compile and link error messages are engine-specific text, compared by class only.
function classOnly(err) {
  return { threw: errorOf(err).threw };
}

const MAX_BUFFER = require('buffer').constants.MAX_LENGTH;

function digest(buffer) {
  // In chunks: a memory may be larger than Hash.update takes at once (2 GiB).
  const hash = crypto.createHash('sha1');
  const CHUNK = 1 << 30;
  for (let at = 0; at < buffer.byteLength; at += CHUNK) {
    hash.update(new Uint8Array(buffer, at, Math.min(CHUNK, buffer.byteLength - at)));
  }
  return hash.digest('hex').slice(0, 16);
}

// ---- Running one module on one engine -----------------------------------------------------

const DEFAULTS = { i32: 0, i64: 0n, f32: 0, f64: 0, anyfunc: null, externref: null, ref: null };

function importObject(ns, description, log, state) {
  const imports = {};
  description.imports.forEach((imp, i) => {
    const module = (imports[imp.module] ||= {});
    switch (imp.kind) {
      case 'function': {
        const results = imp.results || [];
        module[imp.name] = (...args) => {
          log.push(['import', i, args.map(show)]);
          const values = results.map((t) => DEFAULTS[t]);
          return results.length > 1 ? values : values[0];
        };
        break;
      }
      case 'global':
        module[imp.name] = new ns.Global({ value: imp.type, mutable: imp.mutable }, DEFAULTS[imp.type] ?? undefined);
        break;
      case 'memory': {
        const descriptor = { initial: imp.min };
        if (imp.max !== null) descriptor.maximum = imp.max;
        if (imp.i64 && ns === v8) {
          descriptor.index = 'i64'; // Node 20's V8: the memory64 proposal's early JS API
        } else if (imp.i64) {
          // The JS API of WebAssembly 3.0: address 'i64', sizes as BigInts.
          descriptor.address = 'i64';
          descriptor.initial = BigInt(imp.min);
          if (imp.max !== null) descriptor.maximum = BigInt(imp.max);
        }
        module[imp.name] = new ns.Memory(descriptor);
        state.memories.push(module[imp.name]);
        break;
      }
      case 'table': {
        const descriptor = { element: imp.element, initial: imp.min };
        if (imp.max !== null) descriptor.maximum = imp.max;
        module[imp.name] = new ns.Table(descriptor);
        break;
      }
      default:
        throw new Error(`cannot provide an import of kind ${imp.kind}`);
    }
  });
  return imports;
}

// Arguments for a call: round 0 all zeros, round 1 simple non-zero values.
function args(params, round) {
  return params.map((t, i) => {
    if (round === 0) return DEFAULTS[t];
    switch (t) {
      case 'i32': return [1, -1, 7, 0x7fffffff][i % 4];
      case 'i64': return [1n, -1n, 7n, 1n << 40n][i % 4];
      case 'f32': case 'f64': return [1.5, -2, 0.25, 1e10][i % 4];
      default: return null;
    }
  });
}

function snapshot(exports, description) {
  const out = [];
  for (const e of description.exports) {
    const value = exports[e.name];
    if (e.kind === 'global') {
      try {
        out.push([e.name, show(value.value)]);
      } catch (err) {
        out.push([e.name, classOnly(err)]);
      }
    } else if (e.kind === 'memory') {
      // A memory longer than buffer.constants.MAX_LENGTH has no buffer on cranewasm (a
      // RangeError: Node-API's limit, README); V8's is compared as that too.
      let buffer;
      try {
        buffer = value.buffer;
      } catch (err) {
        out.push([e.name, 'buffer', classOnly(err)]);
        continue;
      }
      if (buffer.byteLength > MAX_BUFFER) {
        out.push([e.name, 'buffer', { threw: 'RangeError' }]);
        continue;
      }
      out.push([e.name, buffer.byteLength, digest(buffer)]);
    } else if (e.kind === 'table') {
      out.push([e.name, value.length]);
    }
  }
  return out;
}

// Everything `ns` does with the module, as a list of events to compare.
function run(ns, bytes, description, program) {
  const log = [];
  let module;
  try {
    module = new ns.Module(bytes);
  } catch (err) {
    return [['compile', classOnly(err)]];
  }
  const state = { memories: [] };
  let instance;
  try {
    const imports = program ? program.imports(ns, log) : importObject(ns, description, log, state);
    instance = new ns.Instance(module, imports);
    if (program && program.link) program.link(instance);
  } catch (err) {
    log.push(['instantiate', classOnly(err)]);
    return log;
  }
  const calls = program ? program.calls : description.exports.filter((e) => e.kind === 'function');
  for (const e of calls) {
    for (const round of [0, 1]) {
      const f = instance.exports[e.name];
      try {
        log.push(['call', e.name, round, show(f(...args(e.params || [], round)))]);
      } catch (err) {
        log.push(['call', e.name, round, program ? program.describeError(ns, err) : errorOf(err)]);
      }
      if (!program) log.push(['state', snapshot(instance.exports, description)]);
    }
  }
  return log;
}

// ---- The loop ------------------------------------------------------------------------------

const ALL_TIERS = [
  { lazy: true, firstTier: 'baseline', tierUp: 'off' },
  { lazy: false, firstTier: 'optimized', tierUp: 'off' },
  { lazy: false, firstTier: 'baseline', tierUp: 'eager' },
  { lazy: false, firstTier: 'singlepass', tierUp: 'off' },
  { lazy: true, firstTier: 'singlepass', tierUp: 'dynamic' },
];
let TIERS = ALL_TIERS;

function firstDifference(a, b) {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = JSON.stringify(a[i]);
    const y = JSON.stringify(b[i]);
    if (x !== y) return { index: i, cranewasm: x, v8: y };
  }
  return null;
}

// Frames of the emitter's stream: [u32 length, module bytes, u32 length, JSON description].
async function* smithModules(seed) {
  const binary = path.join(ROOT, 'target', 'release', process.platform === 'win32' ? 'cranewasm-fuzz.exe' : 'cranewasm-fuzz');
  if (!fs.existsSync(binary)) {
    throw new Error(`${binary} is missing: build it with (cd tools && cargo build --release -p cranewasm-fuzz)`);
  }
  const child = spawn(binary, ['--emit-v8', '100000000', '--seed', String(seed)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let pending = Buffer.alloc(0);
  try {
    for await (const chunk of child.stdout) {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (pending.length < 4) break;
        const n = pending.readUInt32LE(0);
        if (pending.length < 8 + n) break;
        const m = pending.readUInt32LE(4 + n);
        if (pending.length < 8 + n + m) break;
        const bytes = new Uint8Array(pending.subarray(4, 4 + n));
        const description = JSON.parse(pending.subarray(8 + n, 8 + n + m).toString('utf8'));
        pending = pending.subarray(8 + n + m);
        yield { bytes, description };
      }
    }
  } finally {
    child.kill();
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.tier) {
    TIERS = ALL_TIERS.filter((t) => t.firstTier === options.tier);
    if (TIERS.length === 0) throw new Error(`--tier: no configuration starts at ${options.tier}`);
  }
  const deadline = Date.now() + options.seconds * 1000;
  console.error(`fuzz-v8: seed ${options.seed}, ${options.seconds} s, source ${options.source}, findings in ${options.out}`);
  const stats = { modules: 0, compared: 0, v8Rejected: 0, calls: 0, eh: 0, findings: 0 };
  const random = ehPrograms.rng(options.seed);
  const smith = options.source === 'eh' ? null : smithModules(options.seed)[Symbol.asyncIterator]();
  let lastReport = Date.now();
  let count = 0;
  while (Date.now() < deadline) {
    count++;
    let input;
    const useEh = options.source === 'eh' || (options.source === 'both' && count % 2 === 0);
    if (useEh) {
      input = ehPrograms.generate(random);
      stats.eh++;
    } else {
      const next = await smith.next();
      if (next.done) break;
      input = next.value;
    }
    stats.modules++;
    const { bytes, description, program } = input;
    if (!v8.validate(bytes)) {
      stats.v8Rejected++;
      continue;
    }
    const tier = TIERS[count % TIERS.length];
    // The input about to run, so that one which kills the process (a crash is a finding too)
    // is left behind: current.wasm and current.txt in the findings directory.
    fs.mkdirSync(options.out, { recursive: true });
    fs.writeFileSync(path.join(options.out, 'current.wasm'), bytes);
    fs.writeFileSync(path.join(options.out, 'current.txt'),
      JSON.stringify({ count, tier, source: program ? 'eh' : 'smith', description, program: program && program.text }, null, 1));
    engine.setCompileOptions(tier);
    const ours = run(cranewasm, bytes, description, program);
    const theirs = run(v8, bytes, description, program);
    stats.compared++;
    stats.calls += theirs.filter((e) => e[0] === 'call').length;
    const difference = firstDifference(ours, theirs);
    // How deep recursion goes before the stack runs out is each engine's own (frame sizes,
    // stack limits): a difference that starts with a stack overflow on one side says nothing.
    if (difference && /RangeError/.test(difference.cranewasm + difference.v8)) {
      stats.stackDependent = (stats.stackDependent || 0) + 1;
    } else if (difference) {
      stats.findings++;
      if (stats.findings > 20) continue; // counted, not saved: the first ones tell enough
      fs.mkdirSync(options.out, { recursive: true });
      const base = path.join(options.out, `finding-${stats.findings}`);
      fs.writeFileSync(`${base}.wasm`, bytes);
      const report = { tier, source: program ? 'eh' : 'smith', difference, cranewasm: ours, v8: theirs, program: program && program.text };
      fs.writeFileSync(`${base}.txt`, JSON.stringify(report, null, 1));
      console.error(`finding ${stats.findings} (${base}.wasm): event ${difference.index}: cranewasm ${difference.cranewasm} / V8 ${difference.v8}`);
    }
    if (Date.now() - lastReport > 10000) {
      lastReport = Date.now();
      console.error(`fuzz-v8: ${JSON.stringify(stats)}`);
    }
  }
  if (smith) await smith.return();
  console.error(`fuzz-v8: done (seed ${options.seed}) ${JSON.stringify(stats)}`);
  process.exitCode = stats.findings ? 1 : 0;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 2;
});

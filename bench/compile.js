#!/usr/bin/env node
// `npm run bench:compile`: how long cranewasm takes to compile large modules, against Node's
// built-in WebAssembly measured in the same run.
//
// Each configuration of each engine is measured in fresh processes (bench/compile-measure.js),
// one compile per process, so nothing compiled earlier can be reused (but in the row that
// measures reuse: the same bytes compiled again in that process); engines and configurations
// alternate within each round. Times are medians over the rounds; the stall is
// the worst over them. Every first call must give the same result on both engines, and
// cranewasm must report the compile options it was asked for, else the run fails.
// Options: --quick (one round), --rounds N (N rounds; 3 by default), --markdown (print the
// README tables).
'use strict';

const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const { syntheticModule } = require('./synthetic-module');

const QUICK = process.argv.includes('--quick');
const MARKDOWN = process.argv.includes('--markdown');
const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = QUICK ? 1 : roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 3;
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error('--rounds takes a positive integer');
const TIMEOUT_MS = 180_000;
const PROGRESS = process.stderr.isTTY; // a run takes minutes: say where it is

const esbuildDir = path.dirname(require.resolve('esbuild-wasm/package.json'));

const MODULES = [
  {
    name: 'esbuild.wasm',
    about: `esbuild-wasm ${require('esbuild-wasm/package.json').version}, Go`,
    file: path.join(esbuildDir, 'esbuild.wasm'),
    kind: 'go',
    firstCall: 'the Go program run with --version until it exits (Go runtime start-up, flag parsing, one write)',
  },
  {
    name: 'synthetic',
    about: 'bench/synthetic-module.js, 4,000 functions',
    file: null, // written when the run starts
    kind: 'first',
    firstCall: 'first(41)',
  },
];

// Configurations, each a pair: cranewasm's (CRANEWASM_* variables, read by the engine at start)
// and Node's nearest (V8 flags). `tiered` says when every function has top-tier code (see
// compile-measure.js); `options` is what cranewasm must report back.
const PAIRS = [
  {
    name: 'default',
    cranewasm: { env: {}, options: { lazy: true, firstTier: 'singlepass', tierUp: 'dynamic' }, tiered: 'tierUp', describe: 'defaults: lazy, single-pass first (baseline where it falls back), dynamic tier-up (fully tiered: `await tierUp(module)`)' },
    node: { flags: [], tiered: 'unobservable', describe: 'defaults: lazy, Liftoff first, dynamic tier-up' },
  },
  {
    name: 'baseline tier, eager',
    tier: 'baseline',
    cranewasm: { env: { CRANEWASM_LAZY: '0', CRANEWASM_TIER_UP: 'off', CRANEWASM_FIRST_TIER: 'baseline' }, options: { lazy: false, firstTier: 'baseline', tierUp: 'off' }, tiered: 'never', describe: '`lazy: false, tierUp: \'off\', firstTier: \'baseline\'`' },
    node: { flags: ['--liftoff-only', '--no-wasm-lazy-compilation'], tiered: 'never', describe: '`--liftoff-only --no-wasm-lazy-compilation`' },
  },
  {
    // The default first tier: the single-pass tier covers a subset of wasm so far, the rest
    // falling back to the baseline tier per function (the share is printed with the throughput).
    name: 'single-pass tier, eager',
    tier: 'singlepass',
    cranewasm: { env: { CRANEWASM_LAZY: '0', CRANEWASM_TIER_UP: 'off', CRANEWASM_FIRST_TIER: 'singlepass' }, options: { lazy: false, firstTier: 'singlepass', tierUp: 'off' }, tiered: 'never', describe: '`lazy: false, tierUp: \'off\', firstTier: \'singlepass\'`' },
    node: { flags: ['--liftoff-only', '--no-wasm-lazy-compilation'], tiered: 'never', describe: '`--liftoff-only --no-wasm-lazy-compilation`' },
  },
  {
    name: 'top tier, eager',
    tier: 'top',
    cranewasm: { env: { CRANEWASM_LAZY: '0', CRANEWASM_FIRST_TIER: 'optimized' }, options: { lazy: false, firstTier: 'optimized' }, tiered: 'compile', describe: '`lazy: false, firstTier: \'optimized\'`' },
    node: { flags: ['--no-liftoff', '--no-wasm-lazy-compilation'], tiered: 'compile', describe: '`--no-liftoff --no-wasm-lazy-compilation`' },
  },
  {
    name: 'eager baseline, eager tier-up',
    cranewasm: { env: { CRANEWASM_LAZY: '0', CRANEWASM_TIER_UP: 'eager', CRANEWASM_FIRST_TIER: 'baseline' }, options: { lazy: false, firstTier: 'baseline', tierUp: 'eager' }, tiered: 'tierUp', describe: '`lazy: false, tierUp: \'eager\', firstTier: \'baseline\'` (fully tiered: `await tierUp(module)`)' },
    node: { flags: ['--no-wasm-lazy-compilation', '--no-wasm-dynamic-tiering'], tiered: 'unobservable', describe: '`--no-wasm-lazy-compilation --no-wasm-dynamic-tiering` (Liftoff, then TurboFan for every function in the background)' },
  },
];

// The persistent code cache (CRANEWASM_CACHE): a directory filled before the rounds by one run
// of the default configuration that tiered every function up (`prime`); every measurement then
// starts a fresh process that compiles from it. Node has no code cache on disk: its side is its
// default configuration in the same round.
const WARM = {
  name: 'warm code cache',
  warm: true,
  cranewasm: { env: {}, options: { lazy: true, firstTier: 'singlepass', tierUp: 'dynamic' }, tiered: 'tierUp', describe: 'defaults with `CRANEWASM_CACHE=<dir>` filled by an earlier process, a fresh process per measurement (checked: every function optimized when compile() resolves)' },
  node: { flags: [], tiered: 'unobservable', describe: 'defaults (Node keeps no wasm code on disk)' },
};
PAIRS.push(WARM);

// Fills the cache directory: one process per module that compiles with the cache on and waits
// until every function is optimized (the entry is written then, at the latest at exit).
function prime(cacheDir) {
  WARM.cranewasm.env = { CRANEWASM_CACHE: cacheDir };
  for (const mod of MODULES) {
    measureOnce('cranewasm', { env: { CRANEWASM_CACHE: cacheDir }, options: {}, tiered: 'tierUp', describe: 'priming the code cache' }, mod);
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

// The environment for a child: ours, without any CRANEWASM_* setting, plus the configuration's.
function childEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CRANEWASM_')) env[k] = v;
  return { ...env, ...extra };
}

function measureOnce(engine, config, mod) {
  const args = [...(config.flags || []), path.join(__dirname, 'compile-measure.js'),
    JSON.stringify({ engine, file: mod.file, kind: mod.kind, tiered: config.tiered })];
  let out;
  try {
    out = execFileSync(process.execPath, args, { env: childEnv(config.env || {}), timeout: TIMEOUT_MS, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new Error(`${mod.name}, ${engine} (${config.describe}) failed:\n${err.stderr || err.message}`);
  }
  const report = JSON.parse(out.trim().split('\n').pop());
  if (config === WARM.cranewasm && report.statusAtCompile && report.statusAtCompile.optimized !== report.statusAtCompile.functions) {
    throw new Error(`${mod.name}: a warm-cache compile did not start from optimized code: ${JSON.stringify(report.statusAtCompile)}`);
  }
  if (report.options) {
    for (const [key, want] of Object.entries(config.options)) {
      if (report.options[key] !== want) {
        throw new Error(`${mod.name}: cranewasm compiled with ${key}=${report.options[key]}, not ${want} (${config.describe})`);
      }
    }
  }
  return report;
}

// One cell: the median of the rounds' values, or null where a value could not be observed.
function summarize(reports, key, pick = median) {
  const values = reports.map((r) => r[key]);
  return values.some((v) => v === null) ? null : pick(values);
}

function measure() {
  const results = MODULES.map((mod) => PAIRS.map(() => ({ cranewasm: [], node: [] })));
  let flip = false;
  for (let round = 0; round < ROUNDS; round++) {
    MODULES.forEach((mod, m) => {
      PAIRS.forEach((pair, p) => {
        const order = flip ? ['node', 'cranewasm'] : ['cranewasm', 'node'];
        flip = !flip;
        for (const engine of order) {
          if (PROGRESS) process.stderr.write(`\r  round ${round + 1}/${ROUNDS}: ${mod.name}, ${pair.name}, ${engine}…`.padEnd(78));
          results[m][p][engine].push(measureOnce(engine, pair[engine], mod));
        }
        const [ours, theirs] = [results[m][p].cranewasm.at(-1), results[m][p].node.at(-1)];
        if (ours.result !== theirs.result) {
          throw new Error(`${mod.name}: the first call gave ${JSON.stringify(ours.result)} on cranewasm, ${JSON.stringify(theirs.result)} on Node`);
        }
      });
    });
  }
  if (PROGRESS) process.stderr.write(`\r${''.padEnd(78)}\r`);
  return results;
}

function format(value) {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

// The table rows: [module, configuration, measure, unit, cranewasm, node].
function rows(results) {
  const out = [];
  MODULES.forEach((mod, m) => {
    PAIRS.forEach((pair, p) => {
      const { cranewasm, node } = results[m][p];
      const add = (measure, key, pick) => out.push([mod.name, pair.name, measure, 'ms', summarize(cranewasm, key, pick), summarize(node, key, pick)]);
      add('compile() resolves', 'compileMs');
      add('first call returns', 'firstCallMs');
      // Where both tiers are known to be the compile itself or never reached, the row says nothing new.
      const tieredShown = ['tierUp', 'unobservable'];
      if (tieredShown.includes(pair.cranewasm.tiered) || tieredShown.includes(pair.node.tiered)) add('fully tiered up', 'tieredMs');
      add('recompiling identical bytes', 'recompileMs');
      add('longest JS-thread stall', 'stallMs', (v) => Math.max(...v));
      add('the same, less waiting for a CPU', 'stallLessWaitMs', (v) => Math.max(...v));
    });
  });
  return out;
}

// Throughput rows: [module, tier, cranewasm MB/s, node MB/s], from the eager configurations.
function throughput(results) {
  const out = [];
  MODULES.forEach((mod, m) => {
    PAIRS.forEach((pair, p) => {
      if (!pair.tier) return;
      const mb = mod.size / 1e6;
      const rate = (reports) => mb / (median(reports.map((r) => r.compileMs)) / 1000);
      let tier = pair.tier === 'top' ? 'top tier' : 'baseline tier';
      if (pair.tier === 'singlepass') {
        // The share of functions the single-pass tier left to the baseline tier.
        const status = results[m][p].cranewasm.at(-1).statusAtCompile;
        tier = status ? `single-pass tier (${status.fallbacks}/${status.functions} fell back)` : 'single-pass tier';
      }
      out.push([mod.name, tier, rate(results[m][p].cranewasm), rate(results[m][p].node)]);
    });
  });
  return out;
}

const cell = (v, unit) => (v === null ? (unit === 'ms' ? 'n/a' : '—') : `${format(v)} ${unit}`);
const ratio = (a, b) => (a === null || b === null ? 'n/a' : (a / b).toFixed(2));

function printMarkdown(table, rates, apiSeen) {
  console.log('| module | configuration | measure | cranewasm | Node | ratio |');
  console.log('|---|---|---|---:|---:|---:|');
  for (const [mod, config, measure, unit, ours, theirs] of table) {
    console.log(`| ${mod} | ${config} | ${measure} | ${apiSeen || ours !== null ? cell(ours, unit) : '—'} | ${cell(theirs, unit)} | ${ratio(ours, theirs)} |`);
  }
  console.log('\n| module | tier (eager, whole module) | cranewasm | Node | ratio |');
  console.log('|---|---|---:|---:|---:|');
  for (const [mod, tier, ours, theirs] of rates) {
    console.log(`| ${mod} | ${tier} | ${format(ours)} MB/s | ${format(theirs)} MB/s | ${(ours / theirs).toFixed(2)} |`);
  }
  console.log('');
  for (const line of legend(apiSeen)) console.log(`- ${line}`);
}

function printText(table, rates, apiSeen) {
  const label = (r) => `${r[0]}, ${r[1]}: ${r[2]}`;
  const width = Math.max(...table.map((r) => label(r).length), ...rates.map((r) => `${r[0]}, ${r[1]}: compile throughput`.length));
  console.log(`${'case'.padEnd(width)}  ${'cranewasm'.padStart(12)}  ${'Node'.padStart(12)}  ratio (cranewasm / Node)`);
  let last = null;
  for (const r of table) {
    if (last !== null && r[0] !== last) console.log('');
    last = r[0];
    const ours = apiSeen || r[4] !== null ? cell(r[4], r[3]) : '—';
    console.log(`${label(r).padEnd(width)}  ${ours.padStart(12)}  ${cell(r[5], r[3]).padStart(12)}  ${ratio(r[4], r[5])}`);
  }
  console.log('');
  for (const [mod, tier, ours, theirs] of rates) {
    console.log(`${`${mod}, ${tier}: compile throughput`.padEnd(width)}  ${`${format(ours)} MB/s`.padStart(12)}  ${`${format(theirs)} MB/s`.padStart(12)}  ${(ours / theirs).toFixed(2)} (above 1: cranewasm faster)`);
  }
  console.log('');
  for (const line of legend(apiSeen)) console.log(line);
}

// What the rows mean, the same lines in both outputs.
function legend(apiSeen) {
  const lines = [];
  for (const mod of MODULES) lines.push(`${mod.name}: ${(mod.size / 1e6).toFixed(2)} MB (${mod.about}); first call: ${mod.firstCall}`);
  for (const pair of PAIRS) lines.push(`${pair.name}: cranewasm ${pair.cranewasm.describe}; Node ${pair.node.describe}`);
  lines.push('longest JS-thread stall: the longest gap between ticks of a 1 ms timer while compile() runs and, where observed, until fully tiered up; ' +
    'less waiting for a CPU: the same gap less the time the JS thread was runnable but other threads or processes had the cores');
  lines.push('recompiling identical bytes: compile() of the same bytes again in the same process while the first module is alive (best of 3), ' +
    'which both engines answer from their in-process module cache');
  lines.push('n/a: not observable (V8 gives no signal when its tier-up is done) or never reached (baseline only)');
  if (!apiSeen) {
    lines.push('—: this build has no cranewasm/engine: it did not confirm the compile options asked for, and tier-up cannot be observed');
  }
  lines.push(`median of ${ROUNDS} round(s), a fresh process per measurement; stall: worst of the rounds; ` +
    `Node ${process.version}, ${os.cpus()[0].model}, ${os.cpus().length} cores`);
  return lines;
}

function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cranewasm-bench-'));
  try {
    const synthetic = MODULES.find((m) => m.kind === 'first');
    synthetic.file = path.join(dir, 'synthetic.wasm');
    fs.writeFileSync(synthetic.file, syntheticModule());
    for (const mod of MODULES) mod.size = fs.statSync(mod.file).size;

    prime(path.join(dir, 'code-cache'));
    const results = measure();
    const apiSeen = results.flat().some((r) => r.cranewasm.some((rep) => rep.engineApi));
    const table = rows(results);
    const rates = throughput(results);
    if (MARKDOWN) printMarkdown(table, rates, apiSeen);
    else printText(table, rates, apiSeen);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();

// The SIMD and threads proposals' and the WebAssembly 3.0 core suite's spec scripts once per tier: every
// function compiled eagerly by the single-pass tier (what it does not cover by the baseline
// tier), by the baseline tier (no tier-up), then by the optimizing tier. The default runs (spec-simd.test.js, spec-v3.test.js) compile
// lazily and mostly run baseline code; this one makes sure each tier alone passes (no crash).
// Only the assertions on the known-failure list may fail.
'use strict';

const { ensureManifests, setFiles, scriptCommands } = require('./spec/manifests');
const { runSet } = require('./spec/supervisor');
const { knownFailuresPath, readList } = require('./spec/assertion-lists');

// Each set, with the share of its assertions that must pass and a floor on how many.
const SETS = {
  'proposals/simd': { share: 0.995, atLeast: 25000 },
  'wasm-3.0': { share: 0.99, atLeast: 63300 },
  // Run with multi-memory off (the scripts predate it; see spec/supervisor.js). 3 of its 597
  // assertions expect modules with several tables to be invalid, which reference types made
  // valid (Node 20 fails them too); the rest (every atomic, wait and notify assertion) passes.
  'proposals/threads': { share: 0.99, atLeast: 593 },
};
const TIERS = {
  // The single-pass compiler, with Cranelift's baseline for the functions it does not cover.
  singlepass: { CRANEWASM_LAZY: '0', CRANEWASM_TIER_UP: 'off', CRANEWASM_FIRST_TIER: 'singlepass' },
  baseline: { CRANEWASM_LAZY: '0', CRANEWASM_TIER_UP: 'off', CRANEWASM_FIRST_TIER: 'baseline' },
  optimized: { CRANEWASM_LAZY: '0', CRANEWASM_FIRST_TIER: 'optimized' },
};

// Runs the set in child processes (the supervisor's) with `env` added to the environment.
async function runWith(SET, env) {
  const saved = {};
  for (const [name, value] of Object.entries(env)) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
  try {
    return await runSet(SET, setFiles(SET), { engine: 'cranewasm' });
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

describe.each(Object.keys(SETS).flatMap((set) => Object.keys(TIERS).map((tier) => [set, tier])))('%s, every function at the %s tier', (SET, tier) => {
  test('passes everything but the known failures', async () => {
    ensureManifests();
    const known = readList(knownFailuresPath('cranewasm'), 'failures', scriptCommands, (s) => s.startsWith(`${SET}/`));
    const outcome = await runWith(SET, TIERS[tier]);
    let passed = 0;
    let failed = 0;
    const unexpected = [];
    for (const [file, results] of outcome) {
      if (!results) throw new Error(`${SET}/${file} did not run (a crash?)`);
      for (const r of results) {
        if (r.status === 'pass') passed++;
        if (r.status === 'fail') {
          failed++;
          if (!known.has(r.id)) unexpected.push(`${r.id}: ${r.message}`);
        }
      }
    }
    expect(unexpected).toEqual([]);
    expect(passed / (passed + failed)).toBeGreaterThanOrEqual(SETS[SET].share);
    expect(passed).toBeGreaterThan(SETS[SET].atLeast);
  }, 10 * 60 * 1000);
});

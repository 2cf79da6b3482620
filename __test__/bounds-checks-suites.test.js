// The wasm-v2 and SIMD spec scripts and the differential suites (cranewasm against Node's engine) once more
// with bounds-checked code everywhere (issue 12, point 7): CRANEWASM_BOUNDS_CHECKS=1 compiles
// every module with explicit bounds checks and gives every memory a mapping of its size only (no
// guard region), at each tier. Only the spec assertions on the known-failure list may fail, and
// every comparison with Node must still hold. The differential suites run in a child jest, whose
// process has the environment from the start.
'use strict';

const { spawnSync } = require('child_process');
const path = require('path');

const { ensureManifests, setFiles, scriptCommands } = require('./spec/manifests');
const { runSet } = require('./spec/supervisor');
const { knownFailuresPath, readList } = require('./spec/assertion-lists');

// Each spec set with the number of assertions it has more than. proposals/threads: checked code
// of shared memories reads the length again before trapping (other threads grow them).
const SETS = { 'wasm-v2': 27000, 'proposals/simd': 25000, 'proposals/threads': 593 };
const CHECKS = { CRANEWASM_BOUNDS_CHECKS: '1' };
const TIERS = {
  baseline: { CRANEWASM_LAZY: '0', CRANEWASM_TIER_UP: 'off', CRANEWASM_FIRST_TIER: 'baseline' },
  optimized: { CRANEWASM_LAZY: '0', CRANEWASM_FIRST_TIER: 'optimized' },
  'lazy baseline with dynamic tier-up': { CRANEWASM_LAZY: '1', CRANEWASM_TIER_UP: 'dynamic', CRANEWASM_FIRST_TIER: 'baseline' },
};
const SUITES = ['execution', 'traps', 'boundary', 'instantiate', 'jsapi-differential', 'memory-reservations'];

async function runWith(set, env) {
  const saved = {};
  for (const [name, value] of Object.entries(env)) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
  try {
    return await runSet(set, setFiles(set), { engine: 'cranewasm' });
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

const SPEC_RUNS = Object.keys(SETS).flatMap((set) => ['baseline', 'optimized'].map((tier) => [set, tier]));

describe.each(SPEC_RUNS)('%s with bounds checks, %s tier', (set, tier) => {
  test('passes everything but the known failures', async () => {
    ensureManifests();
    const known = readList(knownFailuresPath('cranewasm'), 'failures', scriptCommands, (s) => s.startsWith(`${set}/`));
    const outcome = await runWith(set, { ...CHECKS, ...TIERS[tier] });
    let passed = 0;
    const unexpected = [];
    for (const [file, results] of outcome) {
      if (!results) throw new Error(`${set}/${file} did not run (a crash?)`);
      for (const r of results) {
        if (r.status === 'pass') passed++;
        if (r.status === 'fail' && !known.has(r.id)) unexpected.push(`${r.id}: ${r.message}`);
      }
    }
    expect(unexpected).toEqual([]);
    expect(passed).toBeGreaterThan(SETS[set]);
  }, 10 * 60 * 1000);
});

describe.each(Object.keys(TIERS))('the differential suites with bounds checks, %s', (tier) => {
  test('pass', () => {
    const root = path.join(__dirname, '..');
    const jest = require.resolve('jest/bin/jest');
    const files = SUITES.map((s) => path.join('__test__', `${s}.test.js`));
    const out = spawnSync(process.execPath, [jest, '--ci', '--silent', ...files], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, ...CHECKS, ...TIERS[tier] },
      timeout: 10 * 60 * 1000,
    });
    const summary = `${out.stderr}`.split('\n').filter((l) => /^Tests:|^Test Suites:|✕/.test(l)).join('\n');
    expect({ status: out.status, summary }).toEqual({ status: 0, summary: expect.stringMatching(/Tests: +\d+ passed, \d+ total/) });
    expect(summary).toMatch(new RegExp(`Test Suites: +${SUITES.length} passed`));
  }, 10 * 60 * 1000);
});

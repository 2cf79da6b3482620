'use strict';
// Functions whose shape makes an optimizer blow up compile at every tier within bounds (issue 16:
// the optimizing tier takes at most about 10x the baseline's time and under 1 GB). Each case
// runs in a child process (compile options are process-wide, and its memory is measured there):
// a generous time limit and a peak-memory check, not a timing of performance (the ratios are
// measured by `npm run bench:shapes`). The result must be Node's.

const path = require('path');
const { spawnSync } = require('child_process');
const { shapeModule, expectedResult } = require('../bench/compile-shapes.js');

const ROOT = path.resolve(__dirname, '..');

// Compiles `shape` at `n` instructions in a child with `env`, calls f(3); waits for tier-up
// when `tierUp`. Returns the child's report: { result, peakMB, status }.
function compileInChild(shape, n, env, tierUp) {
  const source = `
    const { shapeModule, peakRssBytes } = require(${JSON.stringify(path.join(ROOT, 'bench/compile-shapes.js'))});
    const W = require(${JSON.stringify(ROOT)});
    const engine = require(${JSON.stringify(path.join(ROOT, 'engine.js'))});
    const module = new W.Module(shapeModule(${JSON.stringify(shape)}, ${n}));
    const done = () => {
      const result = new W.Instance(module, {}).exports.f(3);
      const peakMB = peakRssBytes() / 2 ** 20;
      console.log(JSON.stringify({ result, peakMB, status: engine.compileStatus(module) }));
    };
    ${tierUp ? 'engine.tierUp(module).then(done, (e) => { console.error(e); process.exit(1); });' : 'done();'}`;
  const run = spawnSync(process.execPath, ['-e', source], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 240_000,
    killSignal: 'SIGKILL',
  });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`child exited with ${run.status || run.signal}: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop());
}

// Node's answer for the same module (the JS engine's own WebAssembly).
function nodeResult(shape, n) {
  return new WebAssembly.Instance(new WebAssembly.Module(shapeModule(shape, n))).exports.f(3);
}

const TIERS = {
  'optimized first': [{ CRANEWASM_LAZY: '0', CRANEWASM_FIRST_TIER: 'optimized' }, false],
  'eager tier-up': [{ CRANEWASM_LAZY: '0', CRANEWASM_TIER_UP: 'eager' }, true],
  'baseline only': [{ CRANEWASM_LAZY: '0', CRANEWASM_TIER_UP: 'off' }, false],
};

// The case: 1M i32.add in one dependency chain, with constants (the e-graph's worst:
// 188 s and 3.8 GB before) and without.
describe.each([['constChain', 1_000_000], ['chain', 1_000_000]])('a function of %s, %d adds', (shape, n) => {
  test.each(Object.keys(TIERS))('compiles %s within the bounds and computes what Node computes', (tier) => {
    const [env, tierUp] = TIERS[tier];
    const report = compileInChild(shape, n, env, tierUp);
    expect(report.result).toBe(expectedResult(shape, n));
    expect(report.result).toBe(nodeResult(shape, n));
    // The whole process, Node included.
    expect(report.peakMB).toBeLessThan(1024);
    if (tier !== 'baseline only') {
      expect(report.status.optimized).toBe(1);
      expect(report.status.cheaperSettings).toBe(1);
    } else {
      expect(report.status.cheaperSettings).toBe(0);
    }
  }, 300_000);
});

// Smaller blow-ups, each caught by its own check: short constant chains (the e-graph), values
// the e-graph left live all at once (register allocation), a huge body.
test.each([
  ['constChain', 20_000],
  ['shortChains', 60_000],
  ['wide', 600_000],
])('%s (%d): cheaper settings at the optimizing tier, the same result as Node', (shape, n) => {
  const report = compileInChild(shape, n, TIERS['optimized first'][0], false);
  expect(report.result).toBe(nodeResult(shape, n));
  expect(report.status.cheaperSettings).toBe(1);
  expect(report.peakMB).toBeLessThan(1024);
}, 300_000);

test('an ordinary function keeps the full optimizing settings', () => {
  const report = compileInChild('wide', 20_000, TIERS['optimized first'][0], false);
  expect(report.result).toBe(nodeResult('wide', 20_000));
  expect(report.status).toMatchObject({ optimized: 1, cheaperSettings: 0 });
});

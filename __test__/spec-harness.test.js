// Tests of the spec harness itself (__test__/spec/), always on Node's built-in WebAssembly as the
// reference engine: the self-test script must fail exactly where it says `;; FAIL`, a hanging
// script must be cut off by its time limit, and the compact lists must name exactly their IDs.
'use strict';

const fs = require('fs');
const path = require('path');

const { ensureManifests, scriptCommands } = require('./spec/manifests');
const { runSet } = require('./spec/supervisor');
const { compact, expand } = require('./spec/assertion-lists');

const SELFTEST = path.resolve(__dirname, '../tools/spectest/selftest');

beforeAll(() => ensureManifests());

test('the self-test script fails exactly on its `;; FAIL` lines, on Node', async () => {
  const source = fs.readFileSync(path.join(SELFTEST, 'harness.wast'), 'utf8').split('\n');
  const results = (await runSet('selftest', ['harness.wast'], { engine: 'node' })).get('harness.wast');
  const wrong = results
    .filter((r) => r.status !== 'skip')
    .filter((r) => {
      const line = Number(r.id.split(':')[1].split('#')[0]);
      const expected = /;; FAIL$/.test(source[line - 1]) ? 'fail' : 'pass';
      return r.status !== expected;
    })
    .map((r) => `${r.id} ${r.type}: ${r.status} ${r.message || ''}`);
  expect(wrong).toEqual([]);
  expect(results.filter((r) => r.status === 'skip').map((r) => r.message)).toEqual(['text format']);
  // Every kind of directive was exercised.
  expect(new Set(results.map((r) => r.type))).toEqual(
    new Set([
      'module', 'register', 'action', 'assert_return', 'assert_trap', 'assert_exhaustion', 'assert_invalid',
      'assert_malformed', 'assert_unlinkable', 'assert_uninstantiable',
    ]),
  );
}, 60000);

test('a hanging script is stopped by its time limit and the next script still runs', async () => {
  const outcome = await runSet('selftest', ['hang.wast', 'harness.wast'], { engine: 'node', timeoutMs: 2000 });
  const hang = outcome.get('hang.wast');
  expect(hang.map((r) => r.status)).toEqual(['pass', 'pass', 'fail', 'fail']);
  expect(hang[2].message).toMatch(/^this command hung: the script timed out after 2 s$/);
  expect(hang[3].message).toMatch(/^not run: the script stopped at selftest\/hang\.wast:8/);
  expect(outcome.get('harness.wast').length).toBeGreaterThan(50);
}, 60000);

describe('compact lists', () => {
  const commands = ['s:1', 's:2', 's:2#2', 's:3', 's:5', 's:6', 's:6#2', 's:7', 's:9'].map((id) => ({ id }));
  const labels = { 's:1': 'A', 's:2': 'A', 's:2#2': 'A', 's:3': 'A', 's:5': 'B', 's:6': 'B', 's:6#2': null, 's:7': 'B', 's:9': 'A' };

  test('ranges cover only lines whose commands all share the label', () => {
    const tokens = compact(commands, (id) => labels[id]);
    expect(tokens).toEqual(new Map([['A', '1-3 9'], ['B', '5 6#1 7']]));
    for (const [label, list] of tokens) {
      expect(expand(list, commands).sort()).toEqual(Object.keys(labels).filter((id) => labels[id] === label).sort());
    }
  });

  test('round-trips the IDs of a real script', () => {
    const real = scriptCommands('wasm-v2/binary.wast');
    const every = (n) => (id) => (real.findIndex((c) => c.id === id) % n === 0 ? `every ${n}` : null);
    for (const n of [1, 2, 7]) {
      const [list] = compact(real, every(n)).values();
      expect(expand(list, real)).toEqual(real.map((c) => c.id).filter((id) => every(n)(id) !== null));
    }
  });
});

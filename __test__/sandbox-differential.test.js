// The differential suites (cranewasm against Node's engine) once more with every instance in a
// sandbox (issue 12): the standard namespace's default sandbox (CRANEWASM_TIMEOUT,
// CRANEWASM_FUEL) runs all their code metered, with deadlines, at limits no test comes near, and
// every comparison with Node must still hold. They run in a child jest, whose process has the
// environment from the start.
'use strict';

const { spawnSync } = require('child_process');
const path = require('path');

const SUITES = ['execution', 'traps', 'boundary', 'instantiate', 'jsapi-differential'];

test('the differential suites pass with every instance in a metered sandbox with a deadline', () => {
  const root = path.join(__dirname, '..');
  const jest = require.resolve('jest/bin/jest');
  const files = SUITES.map((s) => path.join('__test__', `${s}.test.js`));
  const out = spawnSync(process.execPath, [jest, '--ci', '--silent', ...files], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, CRANEWASM_FUEL: '1000000000000000', CRANEWASM_TIMEOUT: '600000' },
    timeout: 10 * 60 * 1000,
  });
  const summary = `${out.stderr}`.split('\n').filter((l) => /^Tests:|^Test Suites:|✕/.test(l)).join('\n');
  expect({ status: out.status, summary }).toEqual({ status: 0, summary: expect.stringMatching(/Tests: +\d+ passed, \d+ total/) });
  expect(summary).toMatch(new RegExp(`Test Suites: +${SUITES.length} passed`));
}, 10 * 60 * 1000);

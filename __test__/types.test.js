// The type declarations: `tsc --strict` of usage files (ESM and CommonJS) against lib.dom and
// @types/node. The usage files hold `@ts-expect-error` lines, so declarations that are too loose
// (`any`) fail the check as surely as declarations that are too strict.
'use strict';

const path = require('path');
const { spawnSync } = require('child_process');

test('tsc --strict accepts the usage files (lib.dom interop, named ESM imports, engine options)', () => {
  const tsc = require.resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, 'types', 'tsconfig.json')], {
    cwd: path.resolve(__dirname, '..'),
    encoding: 'utf8',
  });
  expect(result.stdout + result.stderr).toBe('');
  expect(result.status).toBe(0);
});

'use strict';
// The call boundary on both of its paths (src/fast_calls.rs): V8's C++ API for calls whose
// values are numbers (the default) and Node-API, the fallback (CRANEWASM_V8_CALLS=0). Each path
// runs in a child process of its own (the variable is read once per process) the same ~500 calls
// on cranewasm and on Node's WebAssembly: exports called with every kind of argument (numbers,
// strings, objects with valueOf, BigInts, symbols, missing and extra arguments), imports
// receiving numbers and returning every kind of value, exceptions thrown through wasm, traps and
// re-entry. Every outcome (value, error class, the very exception object) must be Node's.

const { spawnSync } = require('child_process');
const path = require('path');

const DRIVER = path.join(__dirname, 'helpers', 'fast-calls-driver.js');

describe.each([
  ["V8's API (default)", '1'],
  ['Node-API (CRANEWASM_V8_CALLS=0)', '0'],
])('calls through %s', (_, value) => {
  test('every outcome matches Node', () => {
    const out = spawnSync(process.execPath, [DRIVER], {
      env: { ...process.env, CRANEWASM_V8_CALLS: value },
      encoding: 'utf8',
      timeout: 120000,
    });
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    const result = JSON.parse(out.stdout);
    expect(result.mismatches).toEqual([]);
    expect(result.cases).toBeGreaterThan(450);
  });
});

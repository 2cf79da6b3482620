// Which `WebAssembly` namespace the spec suite runs on: cranewasm's (the default, through the
// package's public entry point) or Node's own (CRANEWASM_SPEC_ENGINE=node), which proves the
// harness itself: on V8 nearly everything must pass.
'use strict';

const path = require('path');

const ENGINES = ['cranewasm', 'node'];

function engineName() {
  const name = process.env.CRANEWASM_SPEC_ENGINE || 'cranewasm';
  if (!ENGINES.includes(name)) {
    throw new Error(`CRANEWASM_SPEC_ENGINE must be one of ${ENGINES.join(', ')}, not ${JSON.stringify(name)}`);
  }
  return name;
}

function loadEngine(name = engineName()) {
  if (name === 'node') return globalThis.WebAssembly;
  return require(path.resolve(__dirname, '../..'));
}

module.exports = { ENGINES, engineName, loadEngine };

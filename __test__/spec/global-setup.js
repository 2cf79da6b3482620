// Jest global setup: (re)generates the spec manifests when they are missing or stale, before any
// test file runs, so that `npm install && npm test` works on a fresh clone. Does nothing when the
// run selects no spec test file.
'use strict';

const fs = require('fs');
const path = require('path');

const { ensureManifests } = require('./manifests');

function specTestFiles() {
  const dir = path.resolve(__dirname, '..');
  return fs.readdirSync(dir).filter((f) => /^spec-.*\.test\.js$/.test(f)).map((f) => path.join(dir, f));
}

module.exports = async function globalSetup(globalConfig) {
  const pattern = globalConfig.testPathPattern;
  if (pattern && !specTestFiles().some((file) => new RegExp(pattern, 'i').test(file))) return;
  ensureManifests();
};

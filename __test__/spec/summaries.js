// What the spec test files hand to the reporter (reporter.js): jest runs test files in workers
// and keeps their console to itself, so each spec test file writes a summary of its run to
// target/spectest/results/<test file>.json, and the reporter prints the summaries of the test
// files that ran.
'use strict';

const fs = require('fs');
const path = require('path');

const { OUT_DIR } = require('./manifests');

const RESULTS_DIR = path.join(OUT_DIR, 'results');

function summaryPath(testFile) {
  return path.join(RESULTS_DIR, `${path.basename(testFile).replace(/\.test\.js$/, '')}.json`);
}

function writeSummary(testFile, summary) {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.writeFileSync(summaryPath(testFile), JSON.stringify({ ...summary, written: Date.now() }));
}

/** The summary a test file wrote at or after `since` (ms), or null. */
function readSummary(testFile, since) {
  try {
    const summary = JSON.parse(fs.readFileSync(summaryPath(testFile), 'utf8'));
    return summary.written >= since ? summary : null;
  } catch {
    return null;
  }
}

module.exports = { writeSummary, readSummary };

// Jest reporter that prints the spec suite's counts after jest's own summary: per script, per
// set, and a last line `spec: N passed, N failed` over every set that ran. The counts come from
// the summaries the spec test files write (summaries.js).
'use strict';

const path = require('path');

const { readSummary } = require('./summaries');

const SPEC_TEST = /^spec-.*\.test\.js$/;

class SpecReporter {
  constructor(globalConfig) {
    this.globalConfig = globalConfig;
    this.testFiles = [];
    this.startedAt = Date.now();
  }

  onRunStart() {
    this.startedAt = Date.now();
  }

  onTestResult(test) {
    if (SPEC_TEST.test(path.basename(test.path))) this.testFiles.push(test.path);
  }

  onRunComplete() {
    const summaries = this.testFiles
      .sort()
      .map((file) => readSummary(file, this.startedAt))
      .filter(Boolean);
    if (summaries.length === 0) return;
    const out = [];
    let passed = 0;
    let failed = 0;
    for (const s of summaries.filter((s) => s.kind === 'validate')) {
      out.push(
        `validate(): ${s.modules} modules of ${s.sets.join(', ')}; cranewasm and Node disagree on ` +
          `${s.disagreements} (${s.listed} listed in __test__/spec/validate-disagreements.json)`,
      );
    }
    const sets = summaries.filter((s) => s.kind !== 'validate');
    if (sets.length > 0) out.push(`Spec conformance on ${[...new Set(sets.map((s) => s.engine))].join(', ')}:`);
    const skipped = {};
    let known = 0;
    let unexpected = 0;
    let fixed = 0;
    for (const s of sets) {
      const total = { passed: 0, failed: 0, skipped: 0 };
      const width = Math.max(...s.scripts.map((c) => c.script.length), 10);
      for (const c of s.scripts.sort((a, b) => a.script.localeCompare(b.script))) {
        out.push(
          `  ${c.script.padEnd(width)} ${String(c.passed).padStart(6)} passed ${String(c.failed).padStart(6)} failed` +
            (c.skipped ? ` ${String(c.skipped).padStart(5)} skipped` : ''),
        );
        total.passed += c.passed;
        total.failed += c.failed;
        total.skipped += c.skipped;
        known += c.known;
        unexpected += c.unexpected;
        fixed += c.fixed;
      }
      out.push(
        `  ${s.set}: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped ` +
          `(${s.scripts.length} scripts)`,
      );
      passed += total.passed;
      failed += total.failed;
      for (const [reason, n] of Object.entries(s.skippedByReason)) skipped[reason] = (skipped[reason] || 0) + n;
    }
    if (sets.length > 0) {
      const skips = Object.entries(skipped).map(([reason, n]) => `${n} ${reason}`);
      out.push(`Skipped: ${skips.join(', ') || 'none'} (listed in __test__/spec/skipped.json)`);
      out.push(
        `Failures: ${known} known (on the known-failure list), ${unexpected} unexpected; ` +
          `${fixed} listed assertions no longer fail`,
      );
      out.push(`spec: ${passed} passed, ${failed} failed`);
    }
    process.stdout.write(`\n${out.join('\n')}\n`);
  }
}

module.exports = SpecReporter;

// The jest side of the spec suite: one describe block per set (each spec-*.test.js file defines
// one, so jest's workers run sets in parallel), one test per script. A script's test fails when
// an assertion fails that is not on the engine's known-failure list, or when an assertion on the
// list no longer fails (the list may only shrink).
'use strict';

const path = require('path');

const { engineName } = require('./engine');
const { ensureManifests, setFiles, scriptCommands } = require('./manifests');
const { runSet } = require('./supervisor');
const { knownFailuresPath, SKIPPED_PATH, readList } = require('./assertion-lists');
const { writeSummary } = require('./summaries');

const UPDATE = 'npm run spec:update-known-failures';
// Messages list this many assertions at most.
const SHOWN = 25;
// The whole set runs in beforeAll; each script has its own limit (supervisor.js).
const SET_TIMEOUT_MS = 60 * 60 * 1000;

function listing(results, describe) {
  const lines = results.slice(0, SHOWN).map(describe);
  if (results.length > SHOWN) lines.push(`  … and ${results.length - SHOWN} more`);
  return lines.join('\n');
}

function relative(file) {
  return path.relative(process.cwd(), file);
}

/**
 * Defines the tests of `set` in the calling test file (`testFile`: its __filename, which names
 * the summary the reporter prints).
 */
function defineSpecSuite(set, testFile) {
  const engine = engineName();
  // Normally done by the jest global setup; this covers running without it.
  ensureManifests();
  const files = setFiles(set);
  const inSet = (script) => script.startsWith(`${set}/`);
  const knownFile = knownFailuresPath(engine);
  const known = readList(knownFile, 'failures', scriptCommands, inSet);
  const listedSkips = readList(SKIPPED_PATH, 'skipped', scriptCommands, inSet);
  let outcome = new Map();
  const summary = { set, engine, scripts: [], skippedByReason: {} };

  describe(`spec ${set} on ${engine}`, () => {
    beforeAll(async () => {
      outcome = await runSet(set, files, { engine });
    }, SET_TIMEOUT_MS);

    afterAll(() => writeSummary(testFile, summary));

    for (const file of files) {
      const script = `${set}/${file}`;
      test(file, () => {
        const results = outcome.get(file);
        if (!results) throw new Error(`${script} did not run`);
        const counts = { script, passed: 0, failed: 0, skipped: 0, known: 0, unexpected: 0, fixed: 0 };
        const unexpected = [];
        const fixed = [];
        const seen = new Set();
        for (const r of results) {
          seen.add(r.id);
          if (r.status === 'skip') {
            counts.skipped++;
            summary.skippedByReason[r.message] = (summary.skippedByReason[r.message] || 0) + 1;
          } else if (r.status === 'pass') counts.passed++;
          else counts.failed++;
          if (r.status === 'fail' && !known.has(r.id)) unexpected.push(r);
          if (r.status !== 'fail' && known.has(r.id)) fixed.push(r.id);
          if (r.status === 'fail' && known.has(r.id)) counts.known++;
        }
        for (const id of known.keys()) {
          if (id.startsWith(`${script}:`) && !seen.has(id)) fixed.push(`${id} (no such assertion)`);
        }
        counts.unexpected = unexpected.length;
        counts.fixed = fixed.length;
        summary.scripts.push(counts);

        const problems = [];
        if (unexpected.length > 0) {
          problems.push(
            `${unexpected.length} assertion(s) failed that are not on ${relative(knownFile)}:\n` +
              listing(unexpected, (r) => `  ${r.id} ${r.type}: ${r.message}`) +
              `\nFix them; or, if they are expected to fail for now, list them with ` +
              `\`${UPDATE} -- --reason "<why>"\`.`,
          );
        }
        if (fixed.length > 0) {
          problems.push(
            `${fixed.length} assertion(s) on ${relative(knownFile)} no longer fail:\n` +
              listing(fixed, (id) => `  ${id}`) +
              `\nShrink the list: run \`${UPDATE}\` (it keeps the reasons of the remaining entries).`,
          );
        }
        if (problems.length > 0) throw new Error(problems.join('\n\n'));
      });
    }

    test('skipped directives are the ones listed in __test__/spec/skipped.json', () => {
      const actual = new Map();
      for (const results of outcome.values()) {
        for (const r of results) if (r.status === 'skip') actual.set(r.id, r.message);
      }
      const differ = [...new Set([...actual.keys(), ...listedSkips.keys()])].filter(
        (id) => actual.get(id) !== listedSkips.get(id),
      );
      if (differ.length > 0) {
        throw new Error(
          `${differ.length} skipped directive(s) differ from ${relative(SKIPPED_PATH)}:\n` +
            listing(differ, (id) => `  ${id}: skipped ${JSON.stringify(actual.get(id) ?? null)}, ` +
              `listed ${JSON.stringify(listedSkips.get(id) ?? null)}`) +
            `\nRegenerate the list: run \`${UPDATE}\`.`,
        );
      }
    });

    test(`${path.basename(knownFile)} names only scripts of the set that exist`, () => {
      const missing = [...known.keys()].filter((id) => scriptCommands(id.slice(0, id.lastIndexOf(':'))) === null);
      if (missing.length > 0) {
        throw new Error(`${relative(knownFile)} names unknown scripts:\n${listing(missing, (id) => `  ${id}`)}`);
      }
    });
  });
}

module.exports = { defineSpecSuite };

// cranewasm's WebAssembly.validate() must agree with Node's on every module of the spec sets
// wasm-v2 and proposals/simd: valid ones (module, assert_unlinkable, assert_uninstantiable),
// invalid ones and malformed binaries. Disagreements are listed, with their culprit and reason,
// in __test__/spec/validate-disagreements.json; that list may only shrink.
'use strict';

const cranewasm = require('..');
const { ensureManifests, setFiles, loadManifest } = require('./spec/manifests');
const { writeSummary } = require('./spec/summaries');
const listed = require('./spec/validate-disagreements.json').disagreements;

const SETS = ['wasm-v2', 'proposals/simd'];
const SPEC_SAYS = {
  module: 'valid',
  assert_unlinkable: 'valid',
  assert_uninstantiable: 'valid',
  assert_invalid: 'invalid',
  assert_malformed: 'malformed',
};

test("validate() agrees with Node's built-in WebAssembly on every module of wasm-v2 and proposals/simd", () => {
  ensureManifests();
  let modules = 0;
  const disagreements = [];
  for (const set of SETS) {
    for (const file of setFiles(set)) {
      for (const command of loadManifest(set, file).commands) {
        if (!(command.type in SPEC_SAYS)) continue;
        modules++;
        const bytes = new Uint8Array(Buffer.from(command.wasm, 'base64'));
        const ours = cranewasm.validate(bytes);
        const node = WebAssembly.validate(bytes);
        if (ours !== node) {
          disagreements.push({ id: command.id, ours, node, spec: SPEC_SAYS[command.type], text: command.text });
        }
      }
    }
  }
  const found = new Set(disagreements.map((d) => d.id));
  const unexpected = disagreements
    .filter((d) => !(d.id in listed))
    .map((d) => `  ${d.id}: cranewasm ${d.ours}, Node ${d.node} (the spec says ${d.spec}${d.text ? `: ${d.text}` : ''})`);
  const resolved = Object.keys(listed).filter((id) => !found.has(id)).map((id) => `  ${id}`);
  writeSummary(__filename, {
    kind: 'validate',
    sets: SETS,
    modules,
    disagreements: disagreements.length,
    listed: Object.keys(listed).length,
  });

  const problems = [];
  if (unexpected.length > 0) {
    problems.push(`validate() disagrees with Node's on ${unexpected.length} module(s) not in ` +
      `__test__/spec/validate-disagreements.json:\n${unexpected.join('\n')}`);
  }
  if (resolved.length > 0) {
    problems.push(`cranewasm and Node now agree on ${resolved.length} module(s) listed in ` +
      `__test__/spec/validate-disagreements.json; remove them:\n${resolved.join('\n')}`);
  }
  if (problems.length > 0) throw new Error(problems.join('\n\n'));
  expect(modules).toBeGreaterThan(4000);
}, 120000);

test('every listed disagreement names its culprit and reason', () => {
  for (const [id, entry] of Object.entries(listed)) {
    expect([id, ['cranewasm', 'node', 'wasm-3.0'].includes(entry.culprit)]).toEqual([id, true]);
    expect([id, typeof entry.reason === 'string' && entry.reason.length > 10]).toEqual([id, true]);
  }
});

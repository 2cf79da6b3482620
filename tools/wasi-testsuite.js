#!/usr/bin/env node
// Runs the official WASI test suite's preview1 tests (../shared/wasi-testsuite, or the directory
// given as the first argument or in WASI_TESTSUITE) on cranewasm's WASI (cranewasm/wasi) and on
// Node's node:wasi in the same run, and reports both pass rates. Each test runs in a child
// process (its exit code and output are the test's), on a fresh copy of its root directory,
// following doc/specification.md: args, env, root (preopened as "/"), expected exit code and
// stdout. `--json` prints the per-test results as JSON; `--engine cranewasm|node` runs one side.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const repo = path.resolve(__dirname, '..');

function child() {
  // --child ENGINE WASM SPEC_JSON ROOT_COPY
  const [, , , engine, wasmPath, specText, root] = process.argv;
  const spec = JSON.parse(specText);
  const useNode = engine === 'node';
  const WebAssemblyApi = useNode ? WebAssembly : require(repo);
  const { WASI } = useNode ? require('node:wasi') : require(path.join(repo, 'wasi.js'));
  const options = {
    version: 'preview1',
    args: [path.basename(wasmPath), ...(spec.args || [])],
    env: spec.env || {},
    returnOnExit: true,
  };
  if (root) options.preopens = { '/': root };
  let wasi;
  try {
    wasi = new WASI(options);
  } catch (error) {
    process.stderr.write(`setup failed: ${error.message}\n`);
    process.exit(200);
  }
  const module = new WebAssemblyApi.Module(fs.readFileSync(wasmPath));
  const instance = new WebAssemblyApi.Instance(module, wasi.getImportObject());
  process.exitCode = wasi.start(instance);
}

function listTests(base) {
  const tests = [];
  for (const language of fs.readdirSync(path.join(base, 'tests')).sort()) {
    const dir = path.join(base, 'tests', language, 'testsuite', 'wasm32-wasip1');
    if (!fs.existsSync(dir)) continue;
    for (const file of fs.readdirSync(dir).sort()) {
      if (!file.endsWith('.wasm')) continue;
      const name = file.slice(0, -5);
      const specFile = path.join(dir, `${name}.json`);
      const spec = fs.existsSync(specFile) ? JSON.parse(fs.readFileSync(specFile, 'utf8')) : {};
      tests.push({ id: `${language}/${name}`, dir, wasm: path.join(dir, file), spec });
    }
  }
  return tests;
}

function runTest(test, engine) {
  const { spec } = test;
  let root = '';
  let scratch;
  if (spec.root) {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'wasi-testsuite-'));
    root = path.join(scratch, 'root');
    fs.cpSync(path.join(test.dir, spec.root), root, { recursive: true, verbatimSymlinks: true });
  }
  const child = spawnSync(process.execPath, ['--no-warnings', __filename, '--child', engine, test.wasm, JSON.stringify(spec), root], {
    encoding: 'utf8',
    timeout: 20000,
    cwd: root || test.dir,
  });
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  const expectedCode = spec.exit_code ?? 0;
  const problems = [];
  if (child.error) problems.push(String(child.error.message));
  if (child.status !== expectedCode) problems.push(`exit code ${child.status} (signal ${child.signal}), expected ${expectedCode}`);
  if (spec.stdout !== undefined && child.stdout !== spec.stdout) {
    problems.push(`stdout ${JSON.stringify(child.stdout.slice(0, 200))}, expected ${JSON.stringify(spec.stdout)}`);
  }
  if (problems.length && child.stderr) problems.push(`stderr: ${child.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return { pass: problems.length === 0, problems };
}

function main() {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const engineIndex = args.indexOf('--engine');
  const engines = engineIndex >= 0 ? [args[engineIndex + 1]] : ['cranewasm', 'node'];
  const positional = args.filter((a, i) => !a.startsWith('--') && (engineIndex < 0 || i !== engineIndex + 1));
  const base = path.resolve(positional[0] || process.env.WASI_TESTSUITE || path.join(repo, '..', 'shared', 'wasi-testsuite'));
  const tests = listTests(base);
  const results = {};
  for (const engine of engines) {
    results[engine] = {};
    for (const test of tests) results[engine][test.id] = runTest(test, engine);
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    return;
  }
  for (const engine of engines) {
    const entries = Object.entries(results[engine]);
    const passed = entries.filter(([, r]) => r.pass).length;
    console.log(`${engine}: ${passed}/${entries.length} passed (${((100 * passed) / entries.length).toFixed(1)}%)`);
    for (const [id, r] of entries) if (!r.pass) console.log(`  FAIL ${id}: ${r.problems.join('; ')}`);
  }
}

if (require.main === module) {
  if (process.argv[2] === '--child') child();
  else main();
}
module.exports = { listTests, runTest };

// The npm package as a dependent gets it: `npm pack`, then `npm install` of the tarball in a fresh
// consumer project (offline, from the npm cache: the tarball has no dependencies), which builds
// the addon from source (once: a few minutes), and modules run there through require, import
// and 'cranewasm/register'. Then the same with the prebuilt platform package beside it, which
// skips the build. And the checkout itself: `npm ci` on a clean clone works, and `npm install`
// leaves it unchanged (the lockfile is in sync).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const version = require('../package.json').version;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cranewasm-pack-test-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function run(cmd, args, options = {}) {
  const env = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', ...options.env };
  // A build must not land in the test run's target directory, nor be told where to go.
  delete env.CARGO_TARGET_DIR;
  // Nor inherit the settings of an enclosing `npm test` that describe the checkout's package.
  for (const key of Object.keys(env)) if (/^npm_(lifecycle_|package_|config_local_prefix$)/.test(key)) delete env[key];
  const result = spawnSync(cmd, args, { cwd: options.cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.error) throw result.error;
  const output = `${result.stdout}\n${result.stderr}`;
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${result.status}):\n${output.slice(-4000)}`);
  return output;
}

let tarball;
function pack() {
  if (!tarball) {
    const out = path.join(work, 'tarballs');
    fs.mkdirSync(out, { recursive: true });
    const name = run(NPM, ['pack', '--silent', '--pack-destination', out], { cwd: ROOT }).trim().split('\n')[0].trim();
    tarball = path.join(out, name);
  }
  return tarball;
}

function consumer(name) {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  // npm 11.19+ runs a dependency's install scripts only when the project allows them; older npm
  // ignores the field.
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
    name, version: '1.0.0', private: true, allowScripts: { cranewasm: true },
  }));
  return dir;
}

// (module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
const ADD = [0, 97, 115, 109, 1, 0, 0, 0, 1, 7, 1, 96, 2, 127, 127, 1, 127, 3, 2, 1, 0, 7, 7, 1, 3, 97, 100, 100,
  0, 0, 10, 9, 1, 7, 0, 32, 0, 32, 1, 106, 11];

function runModules(dir) {
  fs.writeFileSync(path.join(dir, 'cjs.js'), `
    const WebAssembly = require('cranewasm');
    const nodes = globalThis.WebAssembly;
    const registered = require('cranewasm/register');
    const inst = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(${JSON.stringify(ADD)})));
    console.log(JSON.stringify({ sum: inst.exports.add(2, 3), registered: registered === WebAssembly && globalThis.WebAssembly === WebAssembly && WebAssembly !== nodes }));
  `);
  fs.writeFileSync(path.join(dir, 'esm.mjs'), `
    import 'cranewasm/register';
    import cranewasm, { instantiate, Module } from 'cranewasm';
    import { compileStatus } from 'cranewasm/engine';
    const { module, instance } = await instantiate(new Uint8Array(${JSON.stringify(ADD)}));
    console.log(JSON.stringify({ sum: instance.exports.add(40, 2), module: module instanceof Module,
      registered: globalThis.WebAssembly === cranewasm, functions: compileStatus(module).functions }));
  `);
  return {
    cjs: JSON.parse(run(process.execPath, ['cjs.js'], { cwd: dir }).trim()),
    esm: JSON.parse(run(process.execPath, ['esm.mjs'], { cwd: dir }).trim()),
  };
}

const EXPECTED_RUN = { cjs: { sum: 5, registered: true }, esm: { sum: 42, module: true, registered: true, functions: 1 } };

test('the packed tarball installs in a fresh project, building from source with progress, leaving only the .node', () => {
  const dir = consumer('from-source');
  const tmp = path.join(work, 'tmp');
  fs.mkdirSync(tmp);
  const output = run(NPM, ['install', '--offline', '--no-audit', '--no-fund', '--foreground-scripts', pack()], {
    cwd: dir, env: { TMPDIR: tmp },
  });
  const progress = output.split('\n').filter((line) => line.startsWith('cranewasm: ['));
  expect(progress.length).toBeGreaterThanOrEqual(3);
  expect(progress.join('\n')).toMatch(/building the native addon from source/);
  expect(progress[progress.length - 1]).toMatch(/built .*cranewasm\.node \(release, \d+ crates\); build directory removed/);

  const installed = path.join(dir, 'node_modules', 'cranewasm');
  expect(fs.existsSync(path.join(installed, 'cranewasm.node'))).toBe(true);
  expect(fs.existsSync(path.join(installed, 'target'))).toBe(false);
  expect(fs.readdirSync(tmp).filter((f) => f.startsWith('cranewasm-build-'))).toEqual([]);
  // Nothing of the dev tree ships.
  for (const devOnly of ['tools', '__test__', 'npm', 'bench']) expect(fs.existsSync(path.join(installed, devOnly))).toBe(false);
  expect(fs.existsSync(path.join(installed, 'LICENSE'))).toBe(true);

  expect(runModules(dir)).toEqual(EXPECTED_RUN);
}, 40 * 60 * 1000);

test('with the prebuilt platform package installed, nothing is built and the addon comes from it', () => {
  const out = path.join(work, 'platform');
  run(process.execPath, [path.join(ROOT, 'scripts', 'platform-package.js'), '--no-build', '--pack', out], { cwd: ROOT });
  const platformTarball = path.join(out, `cranewasm-linux-x64-gnu-${version}.tgz`);
  const dir = consumer('prebuilt');
  const output = run(NPM, ['install', '--offline', '--no-audit', '--no-fund', '--foreground-scripts', platformTarball, pack()], { cwd: dir });
  expect(output).toMatch(/cranewasm: \[\d+s\] using the prebuilt cranewasm-linux-x64-gnu/);
  const installed = path.join(dir, 'node_modules', 'cranewasm');
  expect(fs.existsSync(path.join(installed, 'cranewasm.node'))).toBe(false);
  expect(runModules(dir)).toEqual(EXPECTED_RUN);
}, 5 * 60 * 1000);

test('npm ci works on a clean clone, and npm install leaves it unchanged', () => {
  const clone = path.join(work, 'clone');
  run('git', ['clone', '--quiet', '--no-local', ROOT, clone]);
  // Scripts are skipped: the build from source is the first test's; this is about the lockfile.
  run(NPM, ['ci', '--offline', '--ignore-scripts'], { cwd: clone });
  run(NPM, ['install', '--offline', '--ignore-scripts'], { cwd: clone });
  expect(run('git', ['status', '--porcelain'], { cwd: clone }).trim()).toBe('');
}, 10 * 60 * 1000);

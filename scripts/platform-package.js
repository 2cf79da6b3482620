#!/usr/bin/env node
// Builds the prebuilt platform package of this machine (napi-rs layout: npm/linux-x64-gnu/, the
// package `cranewasm-linux-x64-gnu` holding `cranewasm.linux-x64-gnu.node`).
//
//   node scripts/platform-package.js [--no-build] [--pack DIR] [--add-optional-dependency]
//
// Builds the addon (release, `npm run build`) unless --no-build, copies it into the package and
// sets the package's version to cranewasm's. --pack DIR writes its tarball (`npm pack`) to DIR.
// --add-optional-dependency writes `optionalDependencies: { "cranewasm-linux-x64-gnu": VERSION }`
// into cranewasm's package.json: a release step, for when the platform package is published
// together with cranewasm (as `napi prepublish` does). The source tree does not declare it: npm
// would look the name up in the registry on every install, where it is not ours until published
// (anyone could publish native code under it).
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { platformPackage } = require('../platform');

const root = path.resolve(__dirname, '..');
const argv = process.argv.slice(2);
const pkg = platformPackage();
if (!pkg) {
  console.error(`platform-package: no platform package for ${process.platform}-${process.arch}`);
  process.exit(1);
}
const dir = path.join(root, 'npm', pkg.triple);
const rootManifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`platform-package: ${cmd} ${args.join(' ')} failed`);
    process.exit(1);
  }
  return r.stdout;
}

if (!argv.includes('--no-build')) run(process.execPath, [path.join(root, 'scripts', 'build.js')], root);
fs.copyFileSync(path.join(root, 'cranewasm.node'), path.join(dir, pkg.file));
const manifestPath = path.join(dir, 'package.json');
const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
if (manifest.version !== rootManifest.version) {
  manifest.version = rootManifest.version;
  fs.writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
}
console.log(`platform-package: ${path.relative(root, path.join(dir, pkg.file))} (${pkg.name}@${manifest.version})`);

const packAt = argv.indexOf('--pack');
if (packAt >= 0) {
  const out = path.resolve(argv[packAt + 1] || '.');
  fs.mkdirSync(out, { recursive: true });
  const name = run('npm', ['pack', '--silent', '--pack-destination', out], dir).trim().split('\n').pop();
  console.log(`platform-package: ${path.join(out, name)}`);
}
if (argv.includes('--add-optional-dependency')) {
  rootManifest.optionalDependencies = { ...rootManifest.optionalDependencies, [pkg.name]: manifest.version };
  fs.writeFileSync(path.join(root, 'package.json'), `${JSON.stringify(rootManifest, null, 2)}\n`);
  console.log(`platform-package: package.json: optionalDependencies.${pkg.name} = ${manifest.version}`);
}

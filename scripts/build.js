#!/usr/bin/env node
// Builds the native addon from source in release mode and places it beside index.js as
// cranewasm.node. Run by `npm install` (the "install" script), so it needs only cargo and Node:
// no prebuilt binaries are downloaded and no dev dependency is required.
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const profile = process.argv.includes('--debug') ? 'debug' : 'release';
const args = ['build', '--package', 'cranewasm', '--lib'];
if (profile === 'release') args.push('--release');

const cargo = process.env.CARGO || 'cargo';
const result = spawnSync(cargo, args, { cwd: root, stdio: 'inherit' });
if (result.error) {
  console.error(`cranewasm: could not run ${cargo} (${result.error.message}); install Rust from rustup.rs`);
  process.exit(1);
}
if (result.status !== 0) process.exit(result.status || 1);

const targetDir = process.env.CARGO_TARGET_DIR || path.join(root, 'target');
const libName = {
  darwin: 'libcranewasm.dylib',
  win32: 'cranewasm.dll',
}[process.platform] || 'libcranewasm.so';
const built = path.join(targetDir, profile, libName);
const dest = path.join(root, 'cranewasm.node');
// Copy to a temporary name and rename, so a running process never sees a half-written file.
fs.copyFileSync(built, `${dest}.tmp`);
fs.renameSync(`${dest}.tmp`, dest);
console.log(`cranewasm: built ${path.relative(root, dest)} (${profile})`);

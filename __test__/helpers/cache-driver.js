'use strict';
// One process of the persistent code cache's tests (code-cache.test.js): compiles the modules
// given, reports their compile status before any call, runs them, and prints one JSON line
// (at exit, after the cache's exit flush, so `stats` counts it).
//
// argv: <how> <flags> <module.wasm>...
//   how: sync (new Module), async (WebAssembly.compile), streaming (compileStreaming)
//   flags, comma-separated (or "-"): tierup (await tierUp() of each module), written (then wait
//   until the cache wrote an entry in the background, and die by SIGKILL: no exit flush),
//   api=<dir> (setCacheDirectory(dir) instead of the environment), size=<bytes> (with api),
//   mutate (async: zero the bytes as soon as compile() returns),
//   regc (needs --expose-gc: then let the modules be collected, report the mapped entries left,
//   and compile and run the first module again)

const fs = require('fs');
const W = require('../..');
const engine = require('../../engine.js');
const { callAll } = require('./cache-calls');

const [how, flagText, ...files] = process.argv.slice(2);
const flags = new Map((flagText === '-' ? [] : flagText.split(',')).map((f) => {
  const [k, v] = f.split('=');
  return [k, v === undefined ? true : v];
}));
const warnings = [];
process.on('warning', (w) => warnings.push(`${w.name}: ${w.message}`));

async function compile(bytes) {
  if (how === 'sync') return new W.Module(bytes);
  if (how === 'async') {
    const compiled = W.compile(bytes);
    // The bytes are the caller's again once compile() returns: what was compiled is unchanged.
    if (flags.has('mutate')) bytes.fill(0);
    return compiled;
  }
  const response = new Response(bytes, { headers: { 'content-type': 'application/wasm' } });
  return W.compileStreaming(response);
}

const run = (module) => callAll(W, module);

// Cache entries mapped executable (the code image of a large entry is mapped, not copied).
function execMappedEntries() {
  return fs.readFileSync('/proc/self/maps', 'latin1').split('\n')
    .filter((line) => line.endsWith('.cwasm') && line.split(/\s+/)[1].includes('x')).length;
}

const report = { modules: [] };
process.on('exit', () => {
  report.stats = engine.cacheStats();
  report.warnings = warnings;
  console.log(JSON.stringify(report));
});

// In a function of its own: nothing of the module stays reachable from main()'s frame.
async function compileAndRun(file) {
  const bytes = fs.readFileSync(file);
  const module = await compile(bytes);
  const before = engine.compileStatus(module);
  const execMapped = execMappedEntries();
  const results = run(module);
  if (flags.has('tierup')) await engine.tierUp(module);
  return { before, execMapped, results, after: engine.compileStatus(module) };
}

async function main() {
  if (flags.has('api')) {
    const options = flags.has('size') ? { maxSize: Number(flags.get('size')) } : {};
    report.settings = engine.setCacheDirectory(flags.get('api'), options);
  }
  for (const file of files) report.modules.push(await compileAndRun(file));
  if (flags.has('regc')) {
    const deadline = Date.now() + 10000;
    while (execMappedEntries() > 0 && Date.now() < deadline) {
      globalThis.gc();
      await new Promise((r) => setTimeout(r, 20));
    }
    report.execMappedAfterGc = execMappedEntries();
    const module = await compile(fs.readFileSync(files[0]));
    report.again = { execMapped: execMappedEntries(), results: run(module) };
  }
  if (flags.has('written')) {
    const deadline = Date.now() + 10000;
    while (engine.cacheStats().writes < files.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    report.stats = engine.cacheStats();
    console.log(JSON.stringify(report));
    process.kill(process.pid, 'SIGKILL');
  }
}

main().catch((err) => {
  report.fatal = String(err && err.stack);
  process.exitCode = 1;
});

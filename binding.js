// Loads the native addon. Kept apart from index.js so that index.js is only the public API.
// Order: a build beside index.js (the dev tree's `npm run build`, or the install script's build
// from source), then the prebuilt platform package (`cranewasm-linux-x64-gnu`, napi-rs layout).
'use strict';

const path = require('path');
const { platformPackage } = require('./platform');

function load() {
  const local = path.join(__dirname, 'cranewasm.node');
  const tried = [];
  try {
    return require(local);
  } catch (err) {
    if (err.code !== 'MODULE_NOT_FOUND') throw wrap(err, local);
    tried.push(local);
  }
  const pkg = platformPackage();
  if (pkg) {
    let file;
    try {
      file = require.resolve(`${pkg.name}/${pkg.file}`);
    } catch {
      tried.push(`${pkg.name}/${pkg.file}`);
    }
    if (file) {
      try {
        return require(file);
      } catch (err) {
        throw wrap(err, file);
      }
    }
  }
  const err = new Error(`no native addon found (tried ${tried.join(', ')})`);
  err.code = 'MODULE_NOT_FOUND';
  throw wrap(err, tried[0]);
}

function wrap(err, where) {
  const hint = path.basename(path.dirname(__dirname)) === 'node_modules'
    // Installed as a dependency: the install script did not run (npm 11.19+ runs it only when
    // the project allows it) or failed.
    ? 'build it from source with `npm rebuild cranewasm` (npm 11.19+ first needs ' +
      '`npm install-scripts approve cranewasm`), or install the prebuilt cranewasm-linux-x64-gnu'
    : 'run `npm install` or `npm run build` to build it from source';
  err.message = `cranewasm: cannot load the native addon at ${where} (${hint}): ${err.message}`;
  return err;
}

module.exports = load();

// `process.exit()` joins the libuv threads (where compile jobs and `tierUp()` waits run) before
// anything else of the addon hears of the exit: tell the engine first, so that background
// compilation stops at once rather than finishing. Once per process, from the main thread.
if (module.exports.claimExitHook()) {
  const { shutdown, flushCodeCache } = module.exports;
  process.on('exit', () => {
    shutdown();
    // The persistent code cache's entries not yet current are written now (synchronously,
    // bounded); a warning not shown yet is printed as Node prints warnings.
    const warning = flushCodeCache();
    if (warning) {
      try {
        require('fs').writeSync(2, `(node:${process.pid}) CranewasmCacheWarning: ${warning}\n`);
      } catch {}
    }
  });
}

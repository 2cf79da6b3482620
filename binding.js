// Loads the native addon built by `npm install` (scripts/build.js). Kept apart from index.js so
// that index.js is only the public API.
'use strict';

const path = require('path');

const addonPath = path.join(__dirname, 'cranewasm.node');
try {
  module.exports = require(addonPath);
} catch (err) {
  err.message = `cranewasm: cannot load the native addon at ${addonPath} ` +
    `(run \`npm install\` or \`npm run build\` to build it from source): ${err.message}`;
  throw err;
}

// `process.exit()` joins the libuv threads (where compile jobs and `tierUp()` waits run) before
// anything else of the addon hears of the exit: tell the engine first, so that background
// compilation stops at once rather than finishing. Once per process, from the main thread.
if (module.exports.claimExitHook()) {
  const { shutdown } = module.exports;
  process.on('exit', () => shutdown());
}

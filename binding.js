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

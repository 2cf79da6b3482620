// The engine a threaded-package driver runs on (oxc-driver.js, vips-driver.js): with
// "cranewasm", `require('cranewasm/register')` is loaded first, as a user would, and the Modules
// sent to other threads are counted (to show that the package's Workers got them); with "node",
// Node's own WebAssembly. Returns a function giving that count.
'use strict';

const path = require('path');

const ROOT = path.join(__dirname, '..', '..');

function useEngine(engineName) {
  let tokens = 0;
  if (engineName === 'cranewasm') {
    require(path.join(ROOT, 'register.js'));
    const native = require(path.join(ROOT, 'binding.js'));
    const token = native.moduleCloneToken;
    native.moduleCloneToken = function counted(...args) {
      tokens++;
      return Reflect.apply(token, this, args);
    };
  } else if (engineName !== 'node') {
    throw new Error(`unknown engine ${engineName}`);
  }
  return () => tokens;
}

module.exports = { useEngine };

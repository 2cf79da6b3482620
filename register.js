// `require('cranewasm/register')`: makes cranewasm the process's `WebAssembly`, so that code
// written against the global (and libraries that use it) runs on cranewasm. Exports the namespace.
'use strict';

const WebAssembly = require('./index.js');

// Where Node's own namespace stays reachable. A registered symbol on globalThis rather than a
// property of the namespace, whose own keys must stay exactly the standard ones; and kept on
// the first registration only, so that it is Node's even if several copies of cranewasm register.
const ORIGINAL = Symbol.for('cranewasm.originalWebAssembly');

if (!Object.prototype.hasOwnProperty.call(globalThis, ORIGINAL)) {
  Object.defineProperty(globalThis, ORIGINAL, {
    value: globalThis.WebAssembly, writable: false, enumerable: false, configurable: true,
  });
}

// The attributes of Node's own global (those of every namespace object in the global scope).
Object.defineProperty(globalThis, 'WebAssembly', {
  value: WebAssembly, writable: true, enumerable: false, configurable: true,
});

module.exports = WebAssembly;

// Types of `require('cranewasm/register')`, which installs cranewasm's namespace as
// `globalThis.WebAssembly` (writable, non-enumerable, configurable, as Node's own) and exports it.
// Node's own namespace stays reachable as `globalThis[Symbol.for('cranewasm.originalWebAssembly')]`.
// The global's type is left to the environment (lib.dom or @types/node), whose WebAssembly
// declarations describe the same API.

import WebAssembly = require('./index');

export = WebAssembly;

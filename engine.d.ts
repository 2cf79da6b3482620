// Types of `require('cranewasm/engine')`: cranewasm's non-standard compiler controls
// (declared in index.d.ts as `WebAssembly.Engine`).

import WebAssembly = require('./index');

declare const engine: WebAssembly.Engine;

export = engine;

// The threads proposal's spec scripts (atomic, memory, imports, exports), run through the public
// WebAssembly API (see __test__/spec/). Their `thread`/`wait` directives (several threads running
// one script) are not run by the harness: __test__/threads.test.js runs wasm on Worker threads.
'use strict';

const { defineSpecSuite } = require('./spec/suite');

defineSpecSuite('proposals/threads', __filename);

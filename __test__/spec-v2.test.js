// The spec suite's wasm-v2 scripts, run through the public WebAssembly API (see __test__/spec/).
'use strict';

const { defineSpecSuite } = require('./spec/suite');

defineSpecSuite('wasm-v2', __filename);

// The spec suite's wasm-v1 scripts, run through the public WebAssembly API (see __test__/spec/).
'use strict';

const { defineSpecSuite } = require('./spec/suite');

defineSpecSuite('wasm-v1', __filename);

// The spec suite's proposals/simd scripts, run through the public WebAssembly API (see __test__/spec/).
'use strict';

const { defineSpecSuite } = require('./spec/suite');

defineSpecSuite('proposals/simd', __filename);

// The WebAssembly 3.0 core suite (the spec repository's test/core, vendored in
// tools/spectest/test-core/), every script of it, run through the public WebAssembly API (see
// __test__/spec/). Assertions of features not implemented yet are on the known-failure list, each
// with its reason; the list may only shrink.
'use strict';

const { defineSpecSuite } = require('./spec/suite');

defineSpecSuite('wasm-3.0', __filename);

// The tail-call proposal's spec scripts (return_call, return_call_indirect), run through the
// public WebAssembly API (see __test__/spec/). The 3.0 suite's versions of these scripts also
// need typed function references.
'use strict';

const { defineSpecSuite } = require('./spec/suite');

defineSpecSuite('proposals/tail-call', __filename);

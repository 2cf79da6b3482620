// Execution through the public JS API, differentially against Node's built-in WebAssembly: a
// representative test per group of non-SIMD Wasm 2.0 instructions, linear memory, instantiation
// (imports, globals, segments, the exports object, the start function) and the three ways to
// instantiate. Every test runs the same module and the same calls on both engines and expects the
// same descriptions (values, error classes and messages).
'use strict';

const {
  cranewasm, node, loadWabt, wat, instantiate, both, bothAsync, runAsync, callAll, pairs, bytesOf, run, describe: describeValue,
} = require('./helpers/execution.js');

beforeAll(loadWabt);

// body(W, exports) on both engines with the module `text` instantiated with imports(W).
function differential(text, body, imports = () => undefined) {
  const bytes = wat(text);
  return both((W) => body(W, instantiate(W, bytes, imports(W))));
}

// ---------------------------------------------------------------------------------------------
// Control flow
// ---------------------------------------------------------------------------------------------

describe('control flow', () => {
  const CONTROL = `(module
    (func (export "br_table") (param i32) (result i32)
      (block $default
        (block $two
          (block $one
            (block $zero
              (br_table $zero $one $two $default (local.get 0)))
            (return (i32.const 100)))
          (return (i32.const 101)))
        (return (i32.const 102)))
      (i32.const 103))
    ;; br_table carrying a value to blocks of different depths
    (func (export "br_table_value") (param i32) (result i32)
      (block $outer (result i32)
        (block $inner (result i32)
          (br_table $outer $inner $outer (i32.const 7) (local.get 0)))
        (i32.add (i32.const 10))))
    ;; a block with two parameters and three results, left early by br_if with all three
    (func (export "multi_block") (param i32 i32) (result i32 i32 i32)
      (local.get 0) (local.get 1)
      (block $b (param i32 i32) (result i32 i32 i32)
        (i32.add)
        (local.get 0)
        (local.get 1)
        (br_if $b (i32.eqz (local.get 0)))
        (i32.mul)
        (i32.const 7)))
    ;; a loop with parameters: sum of 1..n
    (func (export "loop_params") (param $n i32) (result i32) (local $x i32)
      (i32.const 0)
      (local.get $n)
      (loop $l (param i32 i32) (result i32)
        (local.set $x)
        (i32.add (local.get $x))
        (i32.sub (local.get $x) (i32.const 1))
        (local.tee $x)
        (br_if $l (i32.gt_s (local.get $x) (i32.const 0)))
        (drop)))
    ;; if with a parameter and two results of different types
    (func (export "if_multi") (param i32) (result i32 i64)
      (i32.const 5)
      (if (param i32) (result i32 i64) (local.get 0)
        (then (i32.add (i32.const 1)) (i64.const -1))
        (else (i32.mul (i32.const 2)) (i64.const 9))))
    ;; br out of nested blocks and loops, return from inside a loop, select, nop, drop
    (func (export "nested") (param i32) (result i32) (local $i i32)
      (block $exit (result i32)
        (loop $again
          (nop)
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (if (i32.eq (local.get $i) (i32.const 50)) (then (return (i32.const -50))))
          (block $skip
            (br_if $skip (i32.lt_u (local.get $i) (local.get 0)))
            (br $exit (select (i32.const 1000) (local.get $i) (i32.and (local.get $i) (i32.const 1)))))
          (drop (i32.const 99))
          (br $again))
        (i32.const -1)))
    (func $fib (export "fib") (param i64) (result i64)
      (if (result i64) (i64.lt_u (local.get 0) (i64.const 2))
        (then (local.get 0))
        (else (i64.add (call $fib (i64.sub (local.get 0) (i64.const 1)))
                       (call $fib (i64.sub (local.get 0) (i64.const 2)))))))
    ;; a direct call of a function returning several values
    (func $divmod (param i32 i32) (result i32 i32)
      (i32.div_u (local.get 0) (local.get 1)) (i32.rem_u (local.get 0) (local.get 1)))
    (func (export "divmod_sum") (param i32 i32) (result i32 i32 i32)
      (call $divmod (local.get 0) (local.get 1))
      (i32.add (local.get 0) (local.get 1))))`;

  test('br_table: every index, the default and out-of-range indices', () => {
    const indices = [[0], [1], [2], [3], [4], [-1], [0x7fffffff], [-0x80000000]];
    const { ours, theirs } = differential(CONTROL, (W, e) => [
      callAll(W, e, 'br_table', indices), callAll(W, e, 'br_table_value', indices)]);
    expect(theirs.value[0][0][1]).toEqual({ value: 100 });
    expect(ours).toEqual(theirs);
  });

  test('multi-value blocks, loops and ifs with parameters', () => {
    const { ours, theirs } = differential(CONTROL, (W, e) => [
      callAll(W, e, 'multi_block', [[0, 5], [3, 4], [-2, 9]]),
      callAll(W, e, 'loop_params', [[1], [10], [1000]]),
      callAll(W, e, 'if_multi', [[0], [1], [-7]]),
    ]);
    expect(theirs.value[0][1][1]).toEqual({ value: [7, 12, 7] });
    expect(ours).toEqual(theirs);
  });

  test('nested branches, early return, select; recursion and multi-value calls', () => {
    const { ours, theirs } = differential(CONTROL, (W, e) => [
      callAll(W, e, 'nested', [[0], [3], [4], [60]]),
      callAll(W, e, 'fib', [[0n], [1n], [20n]]),
      callAll(W, e, 'divmod_sum', [[17, 5], [5, 17], [1, 0]]),
    ]);
    expect(theirs.value[1][2][1]).toEqual({ value: 6765n });
    expect(ours).toEqual(theirs);
  });
});

// ---------------------------------------------------------------------------------------------
// Calls: direct, call_indirect (null, out of bounds, signature mismatch), across instances
// ---------------------------------------------------------------------------------------------

describe('calls', () => {
  const INDIRECT = `(module
    (type $unary (func (param i32) (result i32)))
    (type $wide (func (param i64) (result i64)))
    (type $pair (func (param i32) (result i32 i32)))
    (table 6 funcref)
    (elem (i32.const 0) $inc $double $wide $pair)
    (elem (i32.const 5) $inc)
    (func $inc (type $unary) (i32.add (local.get 0) (i32.const 1)))
    (func $double (type $unary) (i32.mul (local.get 0) (i32.const 2)))
    (func $wide (type $wide) (local.get 0))
    (func $pair (type $pair) (local.get 0) (i32.sub (i32.const 0) (local.get 0)))
    (func (export "unary") (param i32 i32) (result i32)
      (call_indirect (type $unary) (local.get 1) (local.get 0)))
    (func (export "pair") (param i32 i32) (result i32 i32)
      (call_indirect (type $pair) (local.get 1) (local.get 0))))`;

  test('call_indirect: matching entries, null entry, out of bounds, signature mismatch', () => {
    const { ours, theirs } = differential(INDIRECT, (W, e) => [
      callAll(W, e, 'unary', [[0, 10], [1, 10], [5, 10], [2, 10], [3, 10], [4, 10], [6, 10], [-1, 10]]),
      callAll(W, e, 'pair', [[3, 4], [0, 4]]),
    ]);
    expect(theirs.value[0][4][1]).toEqual({ threw: 'WebAssembly.RuntimeError', message: 'null function or function signature mismatch' });
    expect(theirs.value[0][6][1]).toEqual({ threw: 'WebAssembly.RuntimeError', message: 'table index is out of bounds' });
    expect(ours).toEqual(theirs);
  });

  // Instance A owns the table; B imports it and adds its own functions with an element segment.
  // Each side's functions read their own instance's global, so a call through the shared table
  // must switch to the callee's instance.
  const OWNER = `(module
    (type $t (func (result i32)))
    (table (export "table") 4 funcref)
    (global $id i32 (i32.const 1))
    (func $a (type $t) (global.get $id))
    (elem (i32.const 0) $a)
    (func (export "call") (param i32) (result i32) (call_indirect (type $t) (local.get 0))))`;
  const GUEST = `(module
    (type $t (func (result i32)))
    (import "a" "table" (table 4 funcref))
    (global $id i32 (i32.const 2))
    (memory 1)
    (data (i32.const 0) "\\2a")
    (func $b (type $t) (i32.add (global.get $id) (i32.load8_u (i32.const 0))))
    (func $other (param i32) (result i32) (local.get 0))
    (elem (i32.const 1) $b $other)
    (func (export "call") (param i32) (result i32) (call_indirect (type $t) (local.get 0))))`;

  test('call_indirect across two instances through a shared table', () => {
    const owner = wat(OWNER);
    const guest = wat(GUEST);
    const { ours, theirs } = both((W) => {
      const a = instantiate(W, owner);
      const b = instantiate(W, guest, { a: { table: a.table } });
      const indices = [[0], [1], [2], [3], [4]];
      return [callAll(W, a, 'call', indices), callAll(W, b, 'call', indices), a.table.get(1) === a.table.get(1)];
    });
    expect(theirs.value[0][1][1]).toEqual({ value: 44 });
    expect(theirs.value[1][0][1]).toEqual({ value: 1 });
    expect(ours).toEqual(theirs);
  });
});

// ---------------------------------------------------------------------------------------------
// Integer and float arithmetic
// ---------------------------------------------------------------------------------------------

// One export per operator: (param T T) (result R) for binary, (param T) (result R) for unary.
function operatorModule(type, binary, unary, resultOf = () => type) {
  const functions = [
    ...binary.map((op) => `(func (export "${op}") (param ${type} ${type}) (result ${resultOf(op)})
        (${type}.${op} (local.get 0) (local.get 1)))`),
    ...unary.map((op) => `(func (export "${op}") (param ${type}) (result ${resultOf(op)})
        (${type}.${op} (local.get 0)))`),
  ];
  return `(module ${functions.join('\n')})`;
}

const COMPARISONS = ['eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u'];
const INT_BINARY = ['add', 'sub', 'mul', 'div_s', 'div_u', 'rem_s', 'rem_u', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u', 'rotl', 'rotr'];
const FLOAT_COMPARISONS = ['eq', 'ne', 'lt', 'gt', 'le', 'ge'];
const isComparison = (op) => COMPARISONS.includes(op) || FLOAT_COMPARISONS.includes(op) || op === 'eqz';

const I32_VALUES = [0, 1, -1, 2, 7, -7, 31, 32, 33, 0x7fffffff, -0x80000000, 0x12345678, 0xdeadbeef | 0];
const I64_VALUES = [0n, 1n, -1n, 2n, 7n, -7n, 63n, 64n, 65n, 0x7fffffffffffffffn, -0x8000000000000000n,
  0x123456789abcdef0n, BigInt.asIntN(64, 0xdeadbeefcafebaben), 0xffffffffn];
const F64_VALUES = [0, -0, 1, -1, 0.5, -0.5, 1.5, 2.5, -2.5, 3.5, 0.1, Infinity, -Infinity, NaN, 1e-310,
  Number.MIN_VALUE, Number.MAX_VALUE, 2 ** 52 + 1, -(2 ** 53) - 2];
const F32_VALUES = [0, -0, 1, -1, 0.5, -0.5, 1.5, 2.5, -2.5, 0.1, Infinity, -Infinity, NaN, 1e-40, 3.4028234663852886e38,
  2 ** 23 + 1, -(2 ** 24) - 2].map(Math.fround);

// Runs every operator of operatorModule() on every value (pairs for binary operators) and returns
// the outcomes by operator.
function runOperators(W, e, binary, unary, values) {
  const result = {};
  for (const op of binary) result[op] = callAll(W, e, op, pairs(values)).map(([, r]) => r);
  for (const op of unary) result[op] = callAll(W, e, op, values.map((v) => [v])).map(([, r]) => r);
  return result;
}

const RUNTIME_ERROR = (message) => ({ threw: 'WebAssembly.RuntimeError', message });

describe('integer arithmetic', () => {
  test.each([
    ['i32', I32_VALUES, ['clz', 'ctz', 'popcnt', 'eqz', 'extend8_s', 'extend16_s']],
    ['i64', I64_VALUES, ['clz', 'ctz', 'popcnt', 'eqz', 'extend8_s', 'extend16_s', 'extend32_s']],
  ])('every %s operator on edge values (div/rem traps, shifts modulo the width, sign extension)', (type, values, unary) => {
    const binary = [...INT_BINARY, ...COMPARISONS];
    const text = operatorModule(type, binary, unary, (op) => (isComparison(op) ? 'i32' : type));
    const { ours, theirs } = differential(text, (W, e) => runOperators(W, e, binary, unary, values));
    // The edge cases are in there: x / 0, INT_MIN / -1, x % 0, and INT_MIN % -1 (which is 0).
    const at = (a, b) => values.indexOf(a) * values.length + values.indexOf(b);
    const [zero, one, minusOne] = type === 'i32' ? [0, 1, -1] : [0n, 1n, -1n];
    const min = type === 'i32' ? -0x80000000 : -0x8000000000000000n;
    expect(theirs.value.div_s[at(one, zero)]).toEqual(RUNTIME_ERROR('divide by zero'));
    expect(theirs.value.div_s[at(min, minusOne)]).toEqual(RUNTIME_ERROR('divide result unrepresentable'));
    expect(theirs.value.rem_u[at(one, zero)]).toEqual(RUNTIME_ERROR('remainder by zero'));
    expect(theirs.value.rem_s[at(min, minusOne)]).toEqual({ value: zero });
    for (const op of [...binary, ...unary]) expect([op, ours.value[op]]).toEqual([op, theirs.value[op]]);
    expect(ours).toEqual(theirs);
  });
});

describe('float arithmetic', () => {
  const BINARY = ['add', 'sub', 'mul', 'div', 'min', 'max', 'copysign', ...FLOAT_COMPARISONS];
  const UNARY = ['abs', 'neg', 'sqrt', 'ceil', 'floor', 'trunc', 'nearest'];

  test.each([['f32', F32_VALUES], ['f64', F64_VALUES]])('every %s operator on NaN, ±0, ±Infinity, subnormals and halves', (type, values) => {
    const text = operatorModule(type, BINARY, UNARY, (op) => (isComparison(op) ? 'i32' : type));
    const { ours, theirs } = differential(text, (W, e) => runOperators(W, e, BINARY, UNARY, values));
    const at = (a, b) => values.findIndex((v) => Object.is(v, a)) * values.length + values.findIndex((v) => Object.is(v, b));
    expect(theirs.value.min[at(0, -0)]).toEqual({ value: -0 });
    expect(theirs.value.max[at(-0, 0)]).toEqual({ value: 0 });
    expect(theirs.value.add[at(NaN, 1)]).toEqual({ value: NaN });
    for (const op of [...BINARY, ...UNARY]) expect([op, ours.value[op]]).toEqual([op, theirs.value[op]]);
  });

  // abs, neg and copysign only touch the sign bit, so even NaN payloads are exact; the results
  // are read as bits through reinterpretation.
  test('sign operations on NaN bit patterns are bit-exact', () => {
    const text = `(module
      (func (export "abs32") (param i32) (result i32) (i32.reinterpret_f32 (f32.abs (f32.reinterpret_i32 (local.get 0)))))
      (func (export "neg32") (param i32) (result i32) (i32.reinterpret_f32 (f32.neg (f32.reinterpret_i32 (local.get 0)))))
      (func (export "copysign32") (param i32 i32) (result i32)
        (i32.reinterpret_f32 (f32.copysign (f32.reinterpret_i32 (local.get 0)) (f32.reinterpret_i32 (local.get 1)))))
      (func (export "abs64") (param i64) (result i64) (i64.reinterpret_f64 (f64.abs (f64.reinterpret_i64 (local.get 0)))))
      (func (export "neg64") (param i64) (result i64) (i64.reinterpret_f64 (f64.neg (f64.reinterpret_i64 (local.get 0)))))
      (func (export "copysign64") (param i64 i64) (result i64)
        (i64.reinterpret_f64 (f64.copysign (f64.reinterpret_i64 (local.get 0)) (f64.reinterpret_i64 (local.get 1))))))`;
    const bits32 = [0x7fc00000, 0xffc00000 | 0, 0x7f800001, 0xff812345 | 0, 0x80000000 | 0, 0];
    const bits64 = [0x7ff8000000000000n, -0x8000000000000n, 0x7ff0000000000001n, BigInt.asIntN(64, 0xfff123456789abcdn), 0n];
    const { ours, theirs } = differential(text, (W, e) => [
      callAll(W, e, 'abs32', bits32.map((b) => [b])), callAll(W, e, 'neg32', bits32.map((b) => [b])),
      callAll(W, e, 'copysign32', pairs(bits32)),
      callAll(W, e, 'abs64', bits64.map((b) => [b])), callAll(W, e, 'neg64', bits64.map((b) => [b])),
      callAll(W, e, 'copysign64', pairs(bits64)),
    ]);
    expect(theirs.value[1][2][1]).toEqual({ value: 0xff800001 | 0 });
    expect(ours).toEqual(theirs);
  });
});

describe('conversions', () => {
  const TRUNCATIONS = [];
  for (const to of ['i32', 'i64']) {
    for (const from of ['f32', 'f64']) {
      for (const sign of ['s', 'u']) {
        TRUNCATIONS.push([`${to}.trunc_${from}_${sign}`, from, to]);
        TRUNCATIONS.push([`${to}.trunc_sat_${from}_${sign}`, from, to]);
      }
    }
  }
  const CONVERSIONS = [
    ...TRUNCATIONS,
    ['i32.wrap_i64', 'i64', 'i32'], ['i64.extend_i32_s', 'i32', 'i64'], ['i64.extend_i32_u', 'i32', 'i64'],
    ['f32.convert_i32_s', 'i32', 'f32'], ['f32.convert_i32_u', 'i32', 'f32'], ['f32.convert_i64_s', 'i64', 'f32'],
    ['f32.convert_i64_u', 'i64', 'f32'], ['f64.convert_i32_s', 'i32', 'f64'], ['f64.convert_i32_u', 'i32', 'f64'],
    ['f64.convert_i64_s', 'i64', 'f64'], ['f64.convert_i64_u', 'i64', 'f64'],
    ['f32.demote_f64', 'f64', 'f32'], ['f64.promote_f32', 'f32', 'f64'],
    ['i32.reinterpret_f32', 'f32', 'i32'], ['f32.reinterpret_i32', 'i32', 'f32'],
    ['i64.reinterpret_f64', 'f64', 'i64'], ['f64.reinterpret_i64', 'i64', 'f64'],
  ];
  const TEXT = `(module ${CONVERSIONS.map(([op, from, to]) => `(func (export "${op}") (param ${from}) (result ${to}) (${op} (local.get 0)))`).join('\n')})`;
  const FLOAT_INPUTS = [0, -0, 0.9, -0.9, -1, 1.5, -1.5, 2147483647, 2147483647.5, 2147483648, -2147483648, -2147483648.5,
    -2147483649, 4294967295, 4294967295.5, 4294967296, 9223372036854775807, 9223372036854774784, -9223372036854775808,
    -9223372036854777856, 18446744073709551615, 18446744069414584320, NaN, Infinity, -Infinity, 1e-310, 3.4e38, 1e39];
  const INPUTS = {
    i32: [0, 1, -1, 0x7fffffff, -0x80000000, 0x1000001, 0x7fffff80 | 0, 0xffffff7f | 0],
    i64: [0n, 1n, -1n, 0x7fffffffffffffffn, -0x8000000000000000n, 0x20000020000001n, 0x1fffffffffffffn,
      0x8000000000000001n - (1n << 64n), 0x7ffffeffffffffffn, 0x8000008000000001n - (1n << 64n), 0xffffffffn, 0x100000000n],
    f32: FLOAT_INPUTS,
    f64: FLOAT_INPUTS,
  };

  test('every conversion: trapping and saturating truncations, wrap, extend, convert, demote, promote, reinterpret', () => {
    const { ours, theirs } = differential(TEXT, (W, e) => {
      const result = {};
      for (const [op, from] of CONVERSIONS) result[op] = callAll(W, e, op, INPUTS[from].map((v) => [v])).map(([, r]) => r);
      return result;
    });
    const nanAt = FLOAT_INPUTS.findIndex(Number.isNaN);
    expect(theirs.value['i32.trunc_f64_s'][nanAt]).toEqual(RUNTIME_ERROR('float unrepresentable in integer range'));
    expect(theirs.value['i32.trunc_sat_f64_s'][nanAt]).toEqual({ value: 0 });
    expect(theirs.value['i64.trunc_sat_f32_u'][FLOAT_INPUTS.indexOf(Infinity)]).toEqual({ value: -1n });
    for (const [op] of CONVERSIONS) expect([op, ours.value[op]]).toEqual([op, theirs.value[op]]);
  });
});

// ---------------------------------------------------------------------------------------------
// Memory: loads and stores of every width, memory.size/grow, bulk memory
// ---------------------------------------------------------------------------------------------

describe('memory instructions', () => {
  const LOADS = [
    ['i32.load', 'i32'], ['i32.load8_s', 'i32'], ['i32.load8_u', 'i32'], ['i32.load16_s', 'i32'], ['i32.load16_u', 'i32'],
    ['i64.load', 'i64'], ['i64.load8_s', 'i64'], ['i64.load8_u', 'i64'], ['i64.load16_s', 'i64'], ['i64.load16_u', 'i64'],
    ['i64.load32_s', 'i64'], ['i64.load32_u', 'i64'], ['f32.load', 'f32'], ['f64.load', 'f64'],
  ];
  const STORES = [
    ['i32.store', 'i32'], ['i32.store8', 'i32'], ['i32.store16', 'i32'], ['i64.store', 'i64'], ['i64.store8', 'i64'],
    ['i64.store16', 'i64'], ['i64.store32', 'i64'], ['f32.store', 'f32'], ['f64.store', 'f64'],
  ];
  // Each operator with a static offset of 0 and of 3, and an alignment hint of 1.
  const TEXT = `(module
    (memory (export "memory") 1 3)
    ${LOADS.map(([op, t]) => `
      (func (export "${op}") (param i32) (result ${t}) (${op} (local.get 0)))
      (func (export "${op} offset=3") (param i32) (result ${t}) (${op} offset=3 align=1 (local.get 0)))`).join('')}
    ${STORES.map(([op, t]) => `
      (func (export "${op}") (param i32 ${t}) (${op} (local.get 0) (local.get 1)))
      (func (export "${op} offset=3") (param i32 ${t}) (${op} offset=3 align=1 (local.get 0) (local.get 1)))`).join('')}
    (func (export "f32.load bits") (param i32) (result i32) (i32.reinterpret_f32 (f32.load (local.get 0))))
    (func (export "f64.load bits") (param i32) (result i64) (i64.reinterpret_f64 (f64.load (local.get 0))))
    (func (export "size") (result i32) (memory.size))
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`;
  const PAGE = 65536;
  // In bounds, unaligned, just below the end, straddling the end, past the end, and addresses
  // whose sum with the offset overflows 32 bits.
  const ADDRESSES = [0, 1, 2, 3, 5, 7, 13, PAGE - 11, PAGE - 8, PAGE - 7, PAGE - 4, PAGE - 3, PAGE - 2, PAGE - 1, PAGE, PAGE + 1, -1, -3, -4];

  function fillPattern(memory) {
    const bytes = new Uint8Array(memory.buffer);
    for (let i = 0; i < 64; i++) bytes[i] = (i * 37 + 0x81) & 0xff;
    for (let i = 0; i < 64; i++) bytes[PAGE - 64 + i] = (i * 53 + 0x9c) & 0xff;
  }

  test('loads of every width, signed and unsigned, aligned, unaligned and at the end of memory', () => {
    const { ours, theirs } = differential(TEXT, (W, e) => {
      fillPattern(e.memory);
      const result = {};
      for (const [op] of LOADS) {
        for (const name of [op, `${op} offset=3`]) result[name] = callAll(W, e, name, ADDRESSES.map((a) => [a])).map(([, r]) => r);
      }
      for (const name of ['f32.load bits', 'f64.load bits']) result[name] = callAll(W, e, name, [[1], [PAGE - 8]]).map(([, r]) => r);
      return result;
    });
    expect(theirs.value['i32.load'][ADDRESSES.indexOf(PAGE - 4)]).toHaveProperty('value');
    expect(theirs.value['i32.load'][ADDRESSES.indexOf(PAGE - 3)]).toEqual(RUNTIME_ERROR('memory access out of bounds'));
    for (const name of Object.keys(theirs.value)) expect([name, ours.value[name]]).toEqual([name, theirs.value[name]]);
    expect(ours).toEqual(theirs);
  });

  test('stores of every width write the same bytes; out-of-bounds stores write nothing', () => {
    const VALUES = { i32: [0x12345678, -2], i64: [0x0123456789abcdefn, -2n], f32: [1.5, -0], f64: [Math.PI, -Infinity] };
    const { ours, theirs } = differential(TEXT, (W, e) => {
      const result = {};
      for (const [op, t] of STORES) {
        for (const name of [op, `${op} offset=3`]) {
          for (const address of [0, 5, PAGE - 12, PAGE - 9, PAGE - 4, PAGE - 1, -1]) {
            for (const value of VALUES[t]) {
              new Uint8Array(e.memory.buffer).fill(0xee);
              const outcome = run(W, () => e[name](address, value));
              result[`${name} @${address} ${value}`] = [outcome, bytesOf(e.memory, 0, 16), bytesOf(e.memory, PAGE - 16, 16)];
            }
          }
        }
      }
      return result;
    });
    expect(theirs.value['i64.store @65532 -2'][0]).toEqual(RUNTIME_ERROR('memory access out of bounds'));
    for (const key of Object.keys(theirs.value)) expect([key, ours.value[key]]).toEqual([key, theirs.value[key]]);
  });

  test('memory.size and memory.grow up to the maximum; the buffer follows', () => {
    const { ours, theirs } = differential(TEXT, (W, e) => {
      const steps = [];
      const before = e.memory.buffer;
      for (const delta of [0, 1, 2, 1, 0, 4]) {
        const grown = run(W, () => e.grow(delta));
        steps.push([delta, grown, e.size(), e.memory.buffer.byteLength]);
      }
      // The new pages are usable from wasm and JS, their first bytes are zero.
      steps.push(run(W, () => e['i64.load'](3 * PAGE - 8)));
      steps.push(run(W, () => e['i32.store'](2 * PAGE + 4, 77)));
      steps.push(new Uint8Array(e.memory.buffer)[2 * PAGE + 4]);
      steps.push(run(W, () => e['i32.load'](3 * PAGE - 3)));
      steps.push(before.byteLength);
      return steps;
    });
    expect(theirs.value[2]).toEqual([2, { value: -1 }, 2, 2 * PAGE]);
    expect(ours).toEqual(theirs);
  });

  const BULK = `(module
    (memory (export "memory") 1)
    (data $passive "Hello, bulk memory!")
    (data $active (i32.const 200) "active")
    (func (export "init") (param i32 i32 i32) (memory.init $passive (local.get 0) (local.get 1) (local.get 2)))
    (func (export "init_active") (param i32 i32 i32) (memory.init $active (local.get 0) (local.get 1) (local.get 2)))
    (func (export "drop") (data.drop $passive))
    (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
    (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2))))`;

  test('memory.init, data.drop, memory.copy (both overlaps) and memory.fill, including their traps', () => {
    const PAGE_END = PAGE;
    const script = [
      ['init', 0, 0, 19], ['init', 32, 7, 4], ['init', 40, 19, 0], ['init', 40, 20, 0], ['init', 40, 18, 2],
      ['init', PAGE_END - 2, 0, 3], ['init', PAGE_END, 0, 0], ['init', PAGE_END + 1, 0, 0],
      ['init_active', 60, 0, 0], ['init_active', 60, 0, 1],
      ['copy', 2, 0, 10], ['copy', 20, 24, 10], ['copy', PAGE_END - 5, 0, 5], ['copy', PAGE_END - 5, 0, 6],
      ['copy', 0, PAGE_END - 4, 8], ['copy', PAGE_END, PAGE_END, 0], ['copy', PAGE_END + 1, 0, 0],
      ['fill', 100, 0x1ab, 7], ['fill', PAGE_END - 3, 9, 3], ['fill', PAGE_END - 3, 9, 4], ['fill', PAGE_END, 1, 0],
      ['fill', -1, 1, 2],
      ['drop'], ['init', 0, 0, 0], ['init', 0, 0, 1], ['drop'],
    ];
    const { ours, theirs } = differential(BULK, (W, e) => script.map(([name, ...args]) => [
      name, args, run(W, () => e[name](...args)), bytesOf(e.memory, 0, 48), bytesOf(e.memory, 96, 16), bytesOf(e.memory, 196, 12),
      bytesOf(e.memory, PAGE - 8, 8),
    ]));
    expect(theirs.value[5][2]).toEqual(RUNTIME_ERROR('memory access out of bounds'));
    expect(theirs.value[24][2]).toEqual(RUNTIME_ERROR('memory access out of bounds'));
    script.forEach((step, i) => expect([i, ours.value[i]]).toEqual([i, theirs.value[i]]));
  });
});

// ---------------------------------------------------------------------------------------------
// Reference types and tables
// ---------------------------------------------------------------------------------------------

describe('reference types', () => {
  const REFS = `(module
    (type $v (func (result i32)))
    (table $t (export "table") 3 8 funcref)
    (table $e (export "externs") 2 externref)
    (func $one (export "one") (result i32) (i32.const 1))
    (func $two (result i32) (i32.const 2))
    (func $three (result i32) (i32.const 3))
    (elem $passive func $one $two $three)
    (elem $declared declare func $two)
    (elem (table $t) (i32.const 0) func $three)
    (func (export "is_null") (param funcref) (result i32) (ref.is_null (local.get 0)))
    (func (export "is_null_extern") (param externref) (result i32) (ref.is_null (local.get 0)))
    (func (export "null_func") (result funcref) (ref.null func))
    (func (export "null_extern") (result externref) (ref.null extern))
    (func (export "ref_two") (result funcref) (ref.func $two))
    (func (export "get") (param i32) (result funcref) (table.get $t (local.get 0)))
    (func (export "set") (param i32 funcref) (table.set $t (local.get 0) (local.get 1)))
    (func (export "set_two") (param i32) (table.set $t (local.get 0) (ref.func $two)))
    (func (export "size") (result i32) (table.size $t))
    (func (export "grow") (param funcref i32) (result i32) (table.grow $t (local.get 0) (local.get 1)))
    (func (export "fill") (param i32 funcref i32) (table.fill $t (local.get 0) (local.get 1) (local.get 2)))
    (func (export "copy") (param i32 i32 i32) (table.copy $t $t (local.get 0) (local.get 1) (local.get 2)))
    (func (export "init") (param i32 i32 i32) (table.init $t $passive (local.get 0) (local.get 1) (local.get 2)))
    (func (export "drop") (elem.drop $passive))
    (func (export "call") (param i32) (result i32) (call_indirect $t (type $v) (local.get 0)))
    (func (export "extern_get") (param i32) (result externref) (table.get $e (local.get 0)))
    (func (export "extern_set") (param i32 externref) (table.set $e (local.get 0) (local.get 1)))
    (func (export "extern_grow") (param externref i32) (result i32) (table.grow $e (local.get 0) (local.get 1)))
    (func (export "extern_size") (result i32) (table.size $e))
    (func (export "select_extern") (param externref externref i32) (result externref)
      (select (result externref) (local.get 0) (local.get 1) (local.get 2)))
    (func (export "select_func") (param funcref funcref i32) (result funcref)
      (select (result funcref) (local.get 0) (local.get 1) (local.get 2)))
    (func (export "select_i64") (param i64 i64 i32) (result i64)
      (select (result i64) (local.get 0) (local.get 1) (local.get 2)))
    (func (export "select_f64") (param f64 f64 i32) (result f64)
      (select (local.get 0) (local.get 1) (local.get 2))))`;

  // What each table entry is when called: its result, or the trap.
  function tableContents(W, e) {
    const contents = [];
    for (let i = 0; i < e.size(); i++) contents.push(run(W, () => e.call(i)));
    return contents;
  }

  test('ref.null, ref.is_null, ref.func and typed select', () => {
    const { ours, theirs } = differential(REFS, (W, e) => {
      const a = { a: 1 };
      const b = { b: 2 };
      return [
        e.is_null(null), e.is_null(e.one), e.is_null(e.ref_two()), e.is_null_extern(null), e.is_null_extern(a),
        e.null_func(), e.null_extern(), e.ref_two(), e.ref_two() === e.ref_two(), e.ref_two()(),
        e.select_extern(a, b, 1) === a, e.select_extern(a, b, 0) === b, e.select_extern(a, null, 0),
        e.select_func(e.one, null, 1) === e.one, e.select_func(e.one, null, 0),
        e.select_i64(-5n, 6n, 1), e.select_i64(-5n, 6n, 0), e.select_f64(-0, NaN, 1), e.select_f64(-0, NaN, 0),
      ];
    });
    expect(theirs.value[7]).toEqual({ function: '1', length: 0 });
    expect(ours).toEqual(theirs);
  });

  test('table.get/set/size/grow/fill/copy/init and elem.drop, step by step', () => {
    const { ours, theirs } = differential(REFS, (W, e) => {
      const steps = [];
      const step = (label, body) => steps.push([label, run(W, body), tableContents(W, e)]);
      step('initial', () => [e.size(), e.get(0) === e.get(0), e.get(1)]);
      step('set one', () => e.set(1, e.one));
      step('set two', () => e.set_two(2));
      step('get one is the export', () => e.get(1) === e.one);
      step('get out of bounds', () => e.get(3));
      step('set out of bounds', () => e.set(3, null));
      step('grow', () => [e.grow(e.one, 2), e.size()]);
      step('grow past the maximum', () => [e.grow(null, 4), e.size()]);
      step('grow by 0', () => e.grow(null, 0));
      step('fill', () => e.fill(3, null, 2));
      step('fill out of bounds', () => e.fill(4, e.one, 2));
      step('fill at the end, length 0', () => e.fill(5, e.one, 0));
      step('copy forward, overlapping', () => e.copy(1, 0, 3));
      step('copy backward, overlapping', () => e.copy(0, 1, 3));
      step('copy out of bounds', () => e.copy(4, 0, 2));
      step('init', () => e.init(2, 0, 3));
      step('init out of bounds (segment)', () => e.init(0, 2, 2));
      step('init out of bounds (table)', () => e.init(4, 0, 2));
      step('drop', () => e.drop());
      step('init after drop, length 0', () => e.init(0, 0, 0));
      step('init after drop', () => e.init(0, 0, 1));
      step('drop again', () => e.drop());
      step('grow 0 then call past the end', () => [e.grow(null, 0), e.call(e.size())]);
      return steps;
    });
    expect(theirs.value[4][1]).toEqual(RUNTIME_ERROR('table index is out of bounds'));
    expect(theirs.value[3][1]).toEqual({ value: true });
    expect(ours).toEqual(theirs);
  });

  test('externref tables hold JS objects', () => {
    const { ours, theirs } = differential(REFS, (W, e) => {
      const first = { first: true };
      const second = [1, 2];
      return [
        e.extern_get(0), e.extern_set(0, first), e.extern_get(0) === first, e.externs.get(0) === first,
        e.extern_grow(second, 3), e.extern_size(), e.extern_get(4) === second, e.externs.get(4) === second,
        e.externs.length, run(W, () => e.extern_get(5)), run(W, () => e.extern_set(5, first)),
        e.extern_set(0, null), e.extern_get(0),
      ];
    });
    expect(theirs.value[2]).toBe(true);
    expect(ours).toEqual(theirs);
  });
});

// ---------------------------------------------------------------------------------------------
// Linear memory bounds
// ---------------------------------------------------------------------------------------------

describe('linear memory', () => {
  const TEXT = `(module
    (memory (export "memory") 1)
    (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
    (func (export "load_far") (param i32) (result i32) (i32.load offset=4294967295 (local.get 0)))
    (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`;

  test('an out-of-bounds access traps with "memory access out of bounds"', () => {
    const bytes = wat(TEXT);
    for (const W of [cranewasm, node]) {
      const e = instantiate(W, bytes);
      for (const call of [() => e.load(65536), () => e.load(65533), () => e.load(-1), () => e.store(65535, 1), () => e.load_far(0), () => e.load_far(1)]) {
        let error;
        try {
          call();
        } catch (err) {
          error = err;
        }
        expect(error).toBeInstanceOf(W.RuntimeError);
        expect(error.constructor).toBe(W.RuntimeError);
        expect(error.message).toBe('memory access out of bounds');
      }
    }
  });

  test('the last four bytes are accessible, and after memory.grow the new page is', () => {
    const { ours, theirs } = differential(TEXT, (W, e) => [
      e.store(65532, 0x01020304), e.load(65532), run(W, () => e.load(65536)),
      e.grow(1), e.load(65536), e.store(131068, -1), e.load(131068), new Uint8Array(e.memory.buffer)[131071],
      run(W, () => e.load(131069)),
    ]);
    expect(theirs.value[1]).toBe(0x01020304);
    expect(ours).toEqual(theirs);
  });
});

// ---------------------------------------------------------------------------------------------
// Instantiation
// ---------------------------------------------------------------------------------------------

describe('instantiation', () => {
  const IMPORTS = `(module
    (import "env" "f" (func (param i32) (result i32)))
    (import "env" "g" (global i32))
    (import "env" "mg" (global (mut i64)))
    (import "env" "t" (table 2 10 funcref))
    (import "env" "m" (memory 1 4))
    (import "env" "x" (global externref)))`;
  const goodImports = (W) => ({
    env: {
      f: () => 1,
      g: 5,
      mg: new W.Global({ value: 'i64', mutable: true }, 1n),
      t: new W.Table({ element: 'anyfunc', initial: 2, maximum: 10 }),
      m: new W.Memory({ initial: 1, maximum: 4 }),
      x: {},
    },
  });
  const replace = (name, value) => (W) => ({ env: { ...goodImports(W).env, [name]: typeof value === 'function' ? value(W) : value } });
  const without = (name) => (W) => {
    const imports = goodImports(W);
    delete imports.env[name];
    return imports;
  };

  test.each([
    ['all imports right', 'value', goodImports],
    ['no such module', 'TypeError', () => ({})],
    ['a module that is a number', 'TypeError', () => ({ env: 1 })],
    ['a function import that is not callable', 'WebAssembly.LinkError', replace('f', {})],
    ['a missing function import', 'WebAssembly.LinkError', without('f')],
    ['a global import that is a BigInt for an i32', 'WebAssembly.LinkError', replace('g', 5n)],
    ['a global import that is a string', 'WebAssembly.LinkError', replace('g', '5')],
    ['a Global of another type', 'WebAssembly.LinkError', replace('g', (W) => new W.Global({ value: 'f32' }, 1))],
    ['a mutable Global for an immutable import', 'WebAssembly.LinkError', replace('g', (W) => new W.Global({ value: 'i32', mutable: true }, 1))],
    ['a number for a mutable global', 'WebAssembly.LinkError', replace('mg', 1n)],
    ['an immutable Global for a mutable import', 'WebAssembly.LinkError', replace('mg', (W) => new W.Global({ value: 'i64' }, 1n))],
    ['a table import that is not a Table', 'WebAssembly.LinkError', replace('t', {})],
    ['a table smaller than the import', 'WebAssembly.LinkError', replace('t', (W) => new W.Table({ element: 'anyfunc', initial: 1, maximum: 10 }))],
    ['a table without maximum', 'WebAssembly.LinkError', replace('t', (W) => new W.Table({ element: 'anyfunc', initial: 2 }))],
    ['a table with a larger maximum', 'WebAssembly.LinkError', replace('t', (W) => new W.Table({ element: 'anyfunc', initial: 2, maximum: 11 }))],
    ['an externref table for a funcref import', 'WebAssembly.LinkError', replace('t', (W) => new W.Table({ element: 'externref', initial: 2, maximum: 10 }, null))],
    ['a memory import that is an ArrayBuffer', 'WebAssembly.LinkError', replace('m', new ArrayBuffer(65536))],
    ['a memory smaller than the import', 'WebAssembly.LinkError', replace('m', (W) => new W.Memory({ initial: 0, maximum: 4 }))],
    ['a memory without maximum', 'WebAssembly.LinkError', replace('m', (W) => new W.Memory({ initial: 1 }))],
    ['a memory with a larger maximum', 'WebAssembly.LinkError', replace('m', (W) => new W.Memory({ initial: 1, maximum: 5 }))],
  ])('imports: %s (%s)', (_, expected, imports) => {
    const bytes = wat(IMPORTS);
    const { ours, theirs } = both((W) => Object.keys(instantiate(W, bytes, imports(W))));
    expect(theirs.threw || 'value').toBe(expected);
    expect(ours).toEqual(theirs);
  });

  test('the imports are read in order, each module object then its field, until the first failure', () => {
    const bytes = wat(`(module
      (import "a" "f" (func))
      (import "b" "g" (global i32))
      (import "a" "m" (memory 1))
      (import "c" "t" (table 1 funcref)))`);
    const { ours, theirs } = both((W) => {
      const log = [];
      const logged = (name, fields) => {
        const object = {};
        for (const [field, value] of Object.entries(fields)) {
          Object.defineProperty(object, field, { get() { log.push(`${name}.${field}`); return value; }, enumerable: true });
        }
        return object;
      };
      const memory = new W.Memory({ initial: 1 });
      const importObject = {};
      for (const [name, fields] of Object.entries({ a: { f() {}, m: memory }, b: { g: 1 }, c: { t: 'not a table' } })) {
        Object.defineProperty(importObject, name, { get() { log.push(name); return logged(name, fields); } });
      }
      return [run(W, () => instantiate(W, bytes, importObject)), log];
    });
    expect(theirs.value[1]).toEqual(['a', 'a.f', 'b', 'b.g', 'a', 'a.m', 'c', 'c.t']);
    expect(ours).toEqual(theirs);
  });

  test('segments are applied before the start function runs; a trap in it leaves both visible', () => {
    const bytes = wat(`(module
      (import "env" "memory" (memory 1))
      (import "env" "table" (table 2 funcref))
      (import "env" "seen" (func $seen (param i32 i32)))
      (type $v (func (result i32)))
      (func $five (result i32) (i32.const 5))
      (func $start
        (call $seen (i32.load8_u (i32.const 3)) (call_indirect (type $v) (i32.const 1)))
        (i32.store8 (i32.const 4) (i32.const 0x7e))
        unreachable)
      (elem (i32.const 1) $five)
      (data (i32.const 2) "ab")
      (start $start))`);
    const { ours, theirs } = both((W) => {
      const memory = new W.Memory({ initial: 1 });
      const table = new W.Table({ element: 'anyfunc', initial: 2 });
      const seen = [];
      const outcome = run(W, () => instantiate(W, bytes, { env: { memory, table, seen: (...args) => seen.push(args) } }));
      return [outcome, seen, bytesOf(memory, 0, 6), table.get(1) && table.get(1)()];
    });
    expect(theirs.value).toEqual([RUNTIME_ERROR('unreachable'), [[98, 5]], [0, 0, 97, 98, 0x7e, 0], 5]);
    expect(ours).toEqual(theirs);
  });

  test('a wasm function of another signature is a LinkError naming the import', () => {
    const exporter = wat('(module (func (export "f") (param i64) (result i32) (i32.const 1)))');
    const importer = wat('(module (import "env" "f" (func (param i32) (result i32))))');
    const { ours, theirs } = both((W) => instantiate(W, importer, { env: { f: instantiate(W, exporter).f } }));
    expect(theirs.threw).toBe('WebAssembly.LinkError');
    expect(ours).toEqual(theirs);
  });

  test('globals, data and element offsets initialized from imported globals', () => {
    const text = `(module
      (import "env" "base" (global $base i32))
      (import "env" "big" (global $big i64))
      (import "env" "fn" (global $fn funcref))
      (import "env" "cell" (global $cell (mut f64)))
      (global (export "copy") i32 (global.get $base))
      (global (export "big") i64 (global.get $big))
      (global (export "fn") funcref (global.get $fn))
      (memory (export "memory") 1)
      (data (global.get $base) "hi")
      (table (export "table") 10 funcref)
      (elem (global.get $base) func $f)
      (func $f (result i32) (global.get 4))
      (func (export "cell") (result f64) (global.get $cell)))`;
    const source = wat('(module (func (export "x") (result i32) (i32.const 7)))');
    const bytes = wat(text);
    const { ours, theirs } = both((W) => {
      const other = instantiate(W, source);
      const cell = new W.Global({ value: 'f64', mutable: true }, 2.5);
      const e = instantiate(W, bytes, { env: { base: 3, big: -(2n ** 63n), fn: other.x, cell } });
      cell.value = -0;
      return [e.copy.value, e.big.value, e.fn.value === other.x, bytesOf(e.memory, 0, 6), e.table.get(3)(), e.table.get(2), e.cell()];
    });
    expect(theirs.value[3]).toEqual([0, 0, 0, 104, 105, 0]);
    expect(ours).toEqual(theirs);
  });

  // Element segments are applied before data segments, each in order; a segment out of bounds
  // traps and leaves the earlier ones applied (and the later ones not).
  test.each([
    ['a data segment', `(elem (i32.const 0) $a) (elem (i32.const 2) $a)
      (data (i32.const 10) "abc") (data (i32.const 65534) "xyz") (data (i32.const 20) "late")`],
    ['an element segment', `(elem (i32.const 0) $a) (elem (i32.const 2) $a $a) (elem (i32.const 1) $a)
      (data (i32.const 10) "abc")`],
  ])('%s out of bounds traps at instantiation, after the earlier segments were applied', (_, segments) => {
    const bytes = wat(`(module (import "env" "memory" (memory 1)) (import "env" "table" (table 3 funcref))
      (func $a (result i32) (i32.const 11)) ${segments})`);
    const { ours, theirs } = both((W) => {
      const memory = new W.Memory({ initial: 1 });
      const table = new W.Table({ element: 'anyfunc', initial: 3 });
      const outcome = run(W, () => instantiate(W, bytes, { env: { memory, table } }));
      return [outcome, [0, 1, 2].map((i) => table.get(i) && table.get(i)()), bytesOf(memory, 10, 3), bytesOf(memory, 20, 4),
        bytesOf(memory, 65534, 2)];
    });
    expect(theirs.value[0].threw).toBe('WebAssembly.RuntimeError');
    expect(theirs.value[1][0]).toBe(11);
    expect(ours).toEqual(theirs);
  });

  test('the exports object has a null prototype, is frozen, in export order, and reuses objects', () => {
    const bytes = wat(`(module
      (func $f (result i32) (i32.const 1))
      (export "a" (func $f)) (export "b" (func $f))
      (memory (export "m") 1) (export "m2" (memory 0))
      (global (export "g") i32 (i32.const 4))
      (table (export "t") 1 funcref) (elem (i32.const 0) $f))`);
    const { ours, theirs } = both((W) => {
      const instance = new W.Instance(new W.Module(bytes));
      const e = instance.exports;
      const strictAssign = () => {
        'use strict';

        e.a = 1;
      };
      return [
        Object.getPrototypeOf(e) === null, Object.isFrozen(e), Object.isExtensible(e), Reflect.ownKeys(e),
        Object.getOwnPropertyDescriptor(e, 'g'), e.a === e.b, e.t.get(0) === e.a, e.m === e.m2, instance.exports === e,
        Reflect.set(e, 'a', 1), Reflect.deleteProperty(e, 'a'), run(W, strictAssign), e.g instanceof W.Global,
        e.m instanceof W.Memory, e.t instanceof W.Table,
      ];
    });
    expect(theirs.value.slice(0, 3)).toEqual([true, true, false]);
    expect(ours).toEqual(theirs);
  });

  const START = `(module
    (import "env" "log" (func $log (param i32)))
    (global $g (mut i32) (i32.const 0))
    (memory 1)
    (func $start (global.set $g (i32.const 42)) (call $log (global.get $g)))
    (start $start)
    (func (export "g") (result i32) (global.get $g)))`;

  test('the start function runs during instantiation', () => {
    const bytes = wat(START);
    const { ours, theirs } = both((W) => {
      const log = [];
      const e = instantiate(W, bytes, { env: { log: (x) => log.push(x) } });
      return [log, e.g()];
    });
    expect(theirs.value).toEqual([[42], 42]);
    expect(ours).toEqual(theirs);
  });

  test('an exception thrown by an import during the start function reaches the caller unchanged', async () => {
    const bytes = wat(START);
    for (const W of [cranewasm, node]) {
      const error = new Error('from start');
      expect(() => instantiate(W, bytes, { env: { log: () => { throw error; } } })).toThrow(error);
      await expect(W.instantiate(bytes, { env: { log: () => { throw error; } } })).rejects.toBe(error);
    }
  });

  test.each([
    ['unreachable', '(func $s unreachable)'],
    ['an out-of-bounds load', '(memory 1) (func $s (drop (i32.load (i32.const 65536))))'],
    ['a division by zero', '(func $s (drop (i32.div_s (i32.const 1) (i32.const 0))))'],
  ])('a trap in the start function (%s) surfaces from new Instance and instantiate', async (_, body) => {
    const bytes = wat(`(module ${body} (start $s))`);
    const ours = [run(cranewasm, () => instantiate(cranewasm, bytes)), await runAsync(cranewasm, () => cranewasm.instantiate(bytes))];
    const theirs = [run(node, () => instantiate(node, bytes)), await runAsync(node, () => node.instantiate(bytes))];
    expect(theirs[0].threw).toBe('WebAssembly.RuntimeError');
    expect(ours).toEqual(theirs);
  });
});

describe('the three ways to instantiate', () => {
  const TEXT = `(module
    (import "env" "add" (func $add (param i32 i32) (result i32)))
    (func (export "run") (param i32) (result i32) (call $add (local.get 0) (i32.const 10))))`;
  const imports = { env: { add: (a, b) => a + b } };

  test('new Instance(module, imports)', () => {
    const bytes = wat(TEXT);
    const { ours, theirs } = both((W) => {
      const instance = new W.Instance(new W.Module(bytes), imports);
      return [instance instanceof W.Instance, Object.getPrototypeOf(instance) === W.Instance.prototype, instance.exports.run(5)];
    });
    expect(theirs.value).toEqual([true, true, 15]);
    expect(ours).toEqual(theirs);
  });

  test('instantiate(bytes, imports) resolves to { module, instance }', async () => {
    const bytes = wat(TEXT);
    const { ours, theirs } = await bothAsync(async (W) => {
      const result = await W.instantiate(bytes, imports);
      return [Object.keys(result), result.module instanceof W.Module, result.instance instanceof W.Instance,
        result.instance.exports.run(1), W.Module.exports(result.module)];
    });
    expect(theirs.value[3]).toBe(11);
    expect(ours).toEqual(theirs);
  });

  test('instantiate(module, imports) resolves to an Instance', async () => {
    const bytes = wat(TEXT);
    const { ours, theirs } = await bothAsync(async (W) => {
      const instance = await W.instantiate(new W.Module(bytes), imports);
      return [instance instanceof W.Instance, instance.exports.run(-3)];
    });
    expect(theirs.value).toEqual([true, 7]);
    expect(ours).toEqual(theirs);
  });

  test('instantiate rejects with the LinkError and the trap of new Instance', async () => {
    const bytes = wat(TEXT);
    const trapping = wat('(module (func $s unreachable) (start $s))');
    const { ours, theirs } = await bothAsync(async (W) => [
      await W.instantiate(bytes, { env: { add: 1 } }).catch((err) => describeValue({ cls: err.constructor === W.LinkError, message: err.message })),
      await W.instantiate(new W.Module(trapping)).catch((err) => describeValue({ cls: err.constructor === W.RuntimeError, message: err.message })),
    ]);
    expect(theirs.value[0].cls).toBe(true);
    expect(ours).toEqual(theirs);
  });
});

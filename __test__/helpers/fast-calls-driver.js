// Child process of fast-calls.test.js: runs the same calls across the JS<->wasm boundary on
// cranewasm and on Node's WebAssembly (exports called with every kind of argument, imports
// returning every kind of value, throwing, traps) and prints the cases whose outcome differs, as
// JSON. The test runs it with CRANEWASM_V8_CALLS=1 (V8's API) and =0 (Node-API).
'use strict';

const cranewasm = require('../..');

const WAT = `(module
  (import "env" "take" (func $take (param i32 i64 f32 f64) (result i32)))
  (import "env" "r_i32" (func $r_i32 (result i32)))
  (import "env" "r_i64" (func $r_i64 (result i64)))
  (import "env" "r_f32" (func $r_f32 (result f32)))
  (import "env" "r_f64" (func $r_f64 (result f64)))
  (import "env" "r_two" (func $r_two (result i32 f64)))
  (import "env" "void" (func $void (param i32)))
  (func (export "id_i32") (param i32) (result i32) local.get 0)
  (func (export "id_i64") (param i64) (result i64) local.get 0)
  (func (export "id_f32") (param f32) (result f32) local.get 0)
  (func (export "id_f64") (param f64) (result f64) local.get 0)
  (func (export "none"))
  (func (export "mix") (param i32 i64 f32 f64) (result f64)
    (f64.add (f64.add (f64.convert_i32_s (local.get 0)) (f64.convert_i64_s (local.get 1)))
             (f64.add (f64.promote_f32 (local.get 2)) (local.get 3))))
  (func (export "nine") (param i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    (i32.add (local.get 0) (i32.add (local.get 4) (local.get 8))))
  (func (export "two") (param i32) (result i32 i64) (local.get 0) (i64.extend_i32_s (local.get 0)))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "call_take") (param i32 i64 f32 f64) (result i32)
    (call $take (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "call_i32") (result i32) (call $r_i32))
  (func (export "call_i64") (result i64) (call $r_i64))
  (func (export "call_f32") (result f32) (call $r_f32))
  (func (export "call_f64") (result f64) (call $r_f64))
  (func (export "call_two") (result f64) (local $a i32) (local $b f64)
    (call $r_two) (local.set $b) (local.set $a)
    (f64.add (f64.convert_i32_s (local.get $a)) (local.get $b)))
  (func (export "call_void") (param i32) (call $void (local.get 0)))
  (func (export "call_void_twice") (param i32) (call $void (local.get 0)) (call $void (local.get 0))))`;

function repr(v) {
  switch (typeof v) {
    case 'number':
      return Object.is(v, -0) ? 'number:-0' : `number:${v}`;
    case 'bigint':
      return `bigint:${v}`;
    case 'undefined':
      return 'undefined';
    case 'symbol':
      return 'symbol';
    case 'function':
      return 'function';
    default:
      return v === null ? 'null' : `${typeof v}:${Array.isArray(v) ? `[${v.map(repr)}]` : String(v)}`;
  }
}

function outcome(f) {
  try {
    return `returned ${repr(f())}`;
  } catch (err) {
    const name = err && err.constructor ? err.constructor.name : typeof err;
    return `threw ${name}${err && err.marker ? ` ${err.marker}` : ''}`;
  }
}

// Fresh each time: objects whose conversion runs user code.
const ARGUMENTS = () => [
  0, 1, -1, 7, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 2 ** 32 + 5, 2 ** 53, -(2 ** 53) - 2,
  1.5, -1.5, 0.1, 3.4028235677973366e38, 1e300, -0, NaN, Infinity, -Infinity, Number.MIN_VALUE,
  '42', ' 0x10 ', 'abc', '', '12n', true, false, null, undefined, [], [3], [1, 2], {},
  { valueOf: () => 9 }, { valueOf: () => 9n }, { toString: () => '11' },
  { valueOf() { const e = new Error('valueOf'); e.marker = 'valueOf'; throw e; } },
  5n, -5n, 2n ** 64n + 3n, -(2n ** 63n) - 1n, 2n ** 63n, Symbol('s'),
];

async function main() {
  const wabt = await require('wabt')();
  const bytes = wabt.parseWat('fast-calls.wat', WAT, {}).toBinary({}).buffer;
  const mismatches = [];
  let cases = 0;

  // An instance per engine, with imports whose behaviour `setup` picks per case.
  function instantiate(W) {
    const state = { received: [], returns: undefined, thrown: undefined };
    const value = () => {
      if (state.thrown) throw state.thrown;
      return typeof state.returns === 'function' ? state.returns() : state.returns;
    };
    const env = {
      take: (...args) => {
        state.received.push(args.map(repr).join(','));
        return value();
      },
      r_i32: value,
      r_i64: value,
      r_f32: value,
      r_f64: value,
      r_two: value,
      void: (...args) => {
        state.received.push(args.map(repr).join(','));
        return value();
      },
    };
    const instance = new W.Instance(new W.Module(bytes), { env });
    return { exports: instance.exports, state };
  }
  const engines = { cranewasm: instantiate(cranewasm), node: instantiate(WebAssembly) };

  function compare(label, run) {
    cases++;
    const got = {};
    for (const [name, engine] of Object.entries(engines)) {
      engine.state.received = [];
      got[name] = `${run(engine)} / imports got [${engine.state.received.join(' | ')}]`;
    }
    if (process.env.FAST_CALLS_DUMP) console.error(label, got.cranewasm);
    if (got.cranewasm !== got.node) mismatches.push({ label, ...got });
  }

  // Exports with one argument of each kind, none, and two.
  for (const f of ['id_i32', 'id_i64', 'id_f32', 'id_f64']) {
    const n = ARGUMENTS().length;
    for (let i = 0; i < n; i++) {
      compare(`${f}(${repr(ARGUMENTS()[i])})`, (e) => outcome(() => e.exports[f](ARGUMENTS()[i])));
    }
    compare(`${f}()`, (e) => outcome(() => e.exports[f]()));
    compare(`${f}(1, extra)`, (e) => outcome(() => e.exports[f](1, 2)));
  }
  compare('none()', (e) => outcome(() => e.exports.none(1, 2, 3)));
  const MIX = [[1, 2n, 3.5, 4.25], [-1, -2n, 0.1, 1e300], [1.9, 5n, '2', 3], [1, 2, 3, 4], ['1', 2n, null, undefined], [1, 2n, 3]];
  for (const args of MIX) compare(`mix(${args.map(repr)})`, (e) => outcome(() => e.exports.mix(...args)));
  const NINE = [[1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, '5', 6, 7, 8, 9.7], [1], []];
  for (const args of NINE) compare(`nine(${args.map(repr)})`, (e) => outcome(() => e.exports.nine(...args)));
  compare('two(-3)', (e) => outcome(() => e.exports.two(-3)));
  compare('div(7, 2)', (e) => outcome(() => e.exports.div(7, 2)));
  compare('div(7, 0) (trap)', (e) => outcome(() => e.exports.div(7, 0)));
  compare('div(-2**31, -1) (trap)', (e) => outcome(() => e.exports.div(-(2 ** 31), -1)));

  // Imports: the arguments they get, and each kind of value they return.
  const TAKE = [[0, 0n, 0, 0], [-1, -1n, -0, -0], [2 ** 31 - 1, 2n ** 63n - 1n, 1.1, NaN], [-(2 ** 31), -(2n ** 63n), Infinity, -Infinity]];
  for (const args of TAKE) {
    compare(`call_take(${args.map(repr)})`, (e) => {
      e.state.returns = 1;
      e.state.thrown = undefined;
      return outcome(() => e.exports.call_take(...args));
    });
  }
  for (const f of ['call_i32', 'call_i64', 'call_f32', 'call_f64', 'call_two', 'call_void']) {
    const n = ARGUMENTS().length;
    for (let i = 0; i < n; i++) {
      compare(`${f} returning ${repr(ARGUMENTS()[i])}`, (e) => {
        e.state.returns = ARGUMENTS()[i];
        e.state.thrown = undefined;
        return outcome(() => e.exports[f](3));
      });
    }
  }
  for (const f of ['call_two']) {
    for (const returns of [[1, 2.5], [1n, 2], [1], [1, 2, 3], new Set([4, 5]), 'ab']) {
      compare(`${f} returning ${repr(returns)}`, (e) => {
        e.state.returns = returns;
        e.state.thrown = undefined;
        return outcome(() => e.exports[f]());
      });
    }
  }
  // Exceptions thrown by imports leave unchanged: the very object, on every path.
  for (const f of ['call_i32', 'call_i64', 'call_f64', 'call_void', 'call_void_twice', 'call_take']) {
    for (const thrown of [Object.assign(new Error('boom'), { marker: 'boom' }), { marker: 'plain object' }, 42]) {
      compare(`${f} throwing ${repr(thrown)}`, (e) => {
        e.state.thrown = thrown;
        try {
          e.exports[f](1, 1n, 1, 1);
          return 'no exception';
        } catch (err) {
          return err === thrown ? 'threw the same value' : `threw another value: ${repr(err)}`;
        } finally {
          e.state.thrown = undefined;
        }
      });
    }
  }
  // An import calling back into wasm, which traps there: the trap crosses the import.
  compare('re-entry with a trap inside', (e) => {
    e.state.returns = () => e.exports.div(1, 0);
    return outcome(() => e.exports.call_i32());
  });
  compare('re-entry returning', (e) => {
    e.state.returns = () => e.exports.id_i32(41) + 1;
    return outcome(() => e.exports.call_i32());
  });

  // Many calls in a loop on each path (results and the imports' arguments agree).
  compare('loop of 20000 calls each way', (e) => {
    let sum = 0;
    e.state.returns = 2;
    for (let i = 0; i < 20000; i++) sum += e.exports.id_i32(i) + e.exports.call_take(i, BigInt(i), i / 2, i / 3);
    const got = e.state.received.length;
    e.state.received = [];
    return `${sum} after ${got} import calls`;
  });

  console.log(JSON.stringify({ cases, mismatches }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

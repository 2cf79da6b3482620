// Stack-trace scenarios for __test__/stack-traces.test.js, run in a plain Node process (jest
// installs an Error.prepareStackTrace, in the main realm too, that rewrites every frame, so V8's
// own format can only be seen outside it):
//
//   node stack-driver.js
//
// runs every scenario on Node's built-in WebAssembly and on cranewasm, from the same call site
// (so that the JS frames are identical too), and prints one line of JSON:
// { scenario: { theirs, ours } } with each engine's `err.stack`. The compile configuration comes
// from the environment (CRANEWASM_LAZY, CRANEWASM_FIRST_TIER, CRANEWASM_TIER_UP).
'use strict';

const path = require('path');
const root = path.join(__dirname, '..', '..');
const cranewasm = require(root);
const engine = require(path.join(root, 'engine.js'));
const { TRAPS } = require('./trap-module.js');

const node = globalThis.WebAssembly;

// The stack of the error body(W) throws.
function stackOf(W, body) {
  try {
    body(W);
  } catch (err) {
    return String(err.stack);
  }
  return 'no exception';
}

async function main() {
  const wabt = await require('wabt')();
  const bytesOf = (text, names) => {
    const parsed = wabt.parseWat('test.wat', text, { bulk_memory: true, reference_types: true });
    try {
      parsed.resolveNames();
      parsed.validate();
      return parsed.toBinary({ write_debug_names: names }).buffer;
    } finally {
      parsed.destroy();
    }
  };
  const scenarios = {};
  const add = (name, body) => {
    const [theirs, ours] = [node, cranewasm].map((W) => stackOf(W, body));
    scenarios[name] = { theirs, ours };
  };
  const instance = (W, bytes, imports) => new W.Instance(new W.Module(bytes), imports).exports;

  // Every trap kind, in functions without names.
  const traps = bytesOf(TRAPS, false);
  for (const { name } of node.Module.exports(new node.Module(traps))) {
    add(`trap: ${name}`, (W) => instance(W, traps)[name]());
  }

  // Calls through named and unnamed functions: V8 composes `module.function`, `module`,
  // `function`, or no name.
  const body = (inner, outer) => `
    (func ${inner} (param i32) (result i32) (i32.div_u (i32.const 7) (local.get 0)))
    (func (param i32) (result i32) (call 0 (i32.sub (local.get 0) (i32.const 1))))
    (func ${outer} (export "outer") (param i32) (result i32)
      (local i64)
      (drop (i32.const 5))
      (call 1 (local.get 0)))`;
  for (const [name, text, names] of [
    ['module and function names', `(module $mymod ${body('$inner', '$outer')})`, true],
    ['function names', `(module ${body('$inner', '$outer')})`, true],
    ['a module name only', `(module $only ${body('', '')})`, true],
    ['no names', `(module ${body('$inner', '$outer')})`, false],
  ]) {
    const bytes = bytesOf(text, names);
    add(`names: ${name}`, (W) => instance(W, bytes).outer(1));
  }

  // JS exceptions through wasm, and traps below imports.
  const nested = bytesOf(`(module $m
    (import "js" "f" (func $f (param i32)))
    (memory 1)
    (func $leaf (param i32)
      (if (i32.eqz (local.get 0)) (then (drop (i32.load (i32.const 70000)))))
      (call $f (local.get 0)))
    (func $mid (export "mid") (param i32) (nop) (call $leaf (local.get 0)))
    (func $top (export "top") (param i32) (call $mid (local.get 0))))`, true);
  const runNested = (W, depth) => {
    let exports;
    const f = (n) => {
      if (n === 1) throw new TypeError('from JS');
      exports.mid(n - 2);
    };
    exports = instance(W, nested, { js: { f } });
    exports.top(depth);
  };
  add('nested: wasm -> JS that throws', (W) => runNested(W, 1));
  add('nested: wasm -> JS -> wasm that traps', (W) => runNested(W, 2));
  add('nested: wasm -> JS -> wasm -> JS that throws', (W) => runNested(W, 3));
  add('nested: wasm -> JS -> wasm -> JS -> wasm that traps', (W) => runNested(W, 4));
  const limit = Error.stackTraceLimit;
  for (const max of [100, 4, 1, 0]) {
    Error.stackTraceLimit = max;
    add(`nested, Error.stackTraceLimit = ${max}`, (W) => runNested(W, 4));
  }
  Error.stackTraceLimit = limit;
  // A non-error value passes unchanged.
  const thrower = bytesOf(`(module (import "js" "f" (func $f)) (func (export "g") (call $f)))`, true);
  add('a thrown string', (W) => {
    try {
      instance(W, thrower, { js: { f() { throw 'text'; } } }).g();
    } catch (value) {
      throw new Error(`caught ${typeof value} ${value}`);
    }
  });

  // Stack overflow: the top frame is at the function's start.
  const recursion = bytesOf(`(module (func $r (export "r") (param i32) (result i32)
    (i32.add (call $r (i32.add (local.get 0) (i32.const 1))) (i32.const 1))))`, true);
  add('stack overflow', (W) => instance(W, recursion).r(0));

  // A trap in the start function.
  const start = bytesOf('(module (func $s unreachable) (start $s))', true);
  add('start function', (W) => instance(W, start));

  // Module hashes, below and above V8's 16383-byte hashing limit.
  for (const size of [10, 1000, 20000]) {
    const bytes = bytesOf(`(module (func $f (export "f") (param i32) (result i32)
      ${'(drop (i32.add (local.get 0) (i32.const 1)))'.repeat(size / 10)} unreachable))`, true);
    add(`a module of ${bytes.length} bytes`, (W) => instance(W, bytes).f(0));
  }

  // After tier-up: the optimized code reports the same offsets.
  const loop = bytesOf(`(module
    (func $work (param i32) (result i32)
      (local i32)
      (loop $l (local.set 1 (i32.add (local.get 1) (local.get 0)))
        (br_if $l (i32.gt_s (local.tee 0 (i32.sub (local.get 0) (i32.const 1))) (i32.const 0))))
      (i32.div_s (local.get 1) (local.get 0)))
    (func $run (export "run") (param i32) (result i32) (call $work (local.get 0))))`, true);
  const module = new cranewasm.Module(loop);
  await engine.tierUp(module);
  const tiered = engine.compileStatus(module).optimized === 2;
  const tieredInstance = { node: instance(node, loop), cranewasm: new cranewasm.Instance(module).exports };
  add('after tier-up', (W) => (W === node ? tieredInstance.node : tieredInstance.cranewasm).run(3));

  process.stdout.write(JSON.stringify({ scenarios, tiered }));
  // Run with a perf map (code memory mapped as perf wants it), this process's map is left
  // behind by nothing.
  if (process.env.CRANEWASM_PERF_MAP === '1') require('fs').rmSync(`/tmp/perf-${process.pid}.map`, { force: true });
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ error: String(err && err.stack) }));
});

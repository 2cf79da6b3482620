// Traps through the public JS API: every trap kind's class and message against Node's built-in
// WebAssembly, and the unwinding guarantees: a trap unwinds only to the innermost entry from JS, a
// JS exception crosses wasm frames unchanged, many traps leave the process healthy, unbounded
// recursion is a RangeError, and Node's own WebAssembly (with V8's signal handler) keeps working
// beside cranewasm's.
'use strict';

const { cranewasm, node, loadWabt, wat, instantiate, both, run } = require('./helpers/execution.js');

beforeAll(loadWabt);

// The error `call` throws (or undefined).
function thrown(call) {
  try {
    call();
  } catch (err) {
    return err;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Every trap kind: class and message equal to Node's
// ---------------------------------------------------------------------------------------------

const { TRAPS } = require('./helpers/trap-module.js');

// Node 20's messages, written out so that the test also fails if both engines agree on nonsense.
const TRAP_MESSAGES = {
  unreachable: 'unreachable',
  load: 'memory access out of bounds',
  'load8 past the end': 'memory access out of bounds',
  'load64 with offset': 'memory access out of bounds',
  store: 'memory access out of bounds',
  'f64.store at -1': 'memory access out of bounds',
  'i32.div_s by 0': 'divide by zero',
  'i32.div_u by 0': 'divide by zero',
  'i64.div_s by 0': 'divide by zero',
  'i64.div_u by 0': 'divide by zero',
  'i32.div_s overflow': 'divide result unrepresentable',
  'i64.div_s overflow': 'divide result unrepresentable',
  'i32.rem_s by 0': 'remainder by zero',
  'i32.rem_u by 0': 'remainder by zero',
  'i64.rem_s by 0': 'remainder by zero',
  'i64.rem_u by 0': 'remainder by zero',
  'i32.trunc_f32_s NaN': 'float unrepresentable in integer range',
  'i32.trunc_f64_u negative': 'float unrepresentable in integer range',
  'i64.trunc_f64_s too large': 'float unrepresentable in integer range',
  'i64.trunc_f32_u infinity': 'float unrepresentable in integer range',
  'call_indirect out of bounds': 'table index is out of bounds',
  'call_indirect null': 'null function or function signature mismatch',
  'call_indirect signature mismatch': 'null function or function signature mismatch',
  'table.get out of bounds': 'table index is out of bounds',
  'table.set out of bounds': 'table index is out of bounds',
  'table.fill out of bounds': 'table index is out of bounds',
  'table.copy out of bounds': 'table index is out of bounds',
  'table.init out of the table': 'table index is out of bounds',
  'table.init out of the segment': 'element segment out of bounds',
  'table.init after elem.drop': 'element segment out of bounds',
  'memory.init out of the memory': 'memory access out of bounds',
  'memory.init out of the segment': 'memory access out of bounds',
  'memory.init after data.drop': 'memory access out of bounds',
  'memory.copy out of bounds': 'memory access out of bounds',
  'memory.fill out of bounds': 'memory access out of bounds',
};

describe('trap kinds', () => {
  test.each(Object.keys(TRAP_MESSAGES))('%s: a RuntimeError with Node\'s message', (name) => {
    const bytes = wat(TRAPS);
    const { ours, theirs } = both((W) => instantiate(W, bytes)[name]());
    expect(theirs).toEqual({ threw: 'WebAssembly.RuntimeError', message: TRAP_MESSAGES[name] });
    expect(ours).toEqual(theirs);
  });

  test('the error is a RuntimeError of the namespace, with the usual Error shape', () => {
    const bytes = wat(TRAPS);
    const describeError = (W, err) => [
      err.constructor === W.RuntimeError, err instanceof W.RuntimeError, err instanceof Error, err.name,
      Object.getPrototypeOf(err) === W.RuntimeError.prototype, Object.prototype.hasOwnProperty.call(err, 'message'),
      typeof err.stack, Object.prototype.toString.call(err), String(err),
    ];
    const ours = describeError(cranewasm, thrown(() => instantiate(cranewasm, bytes).unreachable()));
    const theirs = describeError(node, thrown(() => instantiate(node, bytes).unreachable()));
    expect(theirs[0]).toBe(true);
    expect(ours).toEqual(theirs);
    expect(thrown(() => instantiate(cranewasm, bytes).unreachable()).constructor.name).toBe('RuntimeError');
  });

  test.each([
    ['a data segment crossing the end of memory', '(memory 1) (data (i32.const 65533) "abcd")'],
    ['an empty data segment at an offset past the end of memory', '(memory 0) (data (i32.const 1) "")'],
    ['an element segment crossing the end of the table', '(table 2 funcref) (func $f) (elem (i32.const 1) $f $f)'],
    ['an empty element segment at an offset past the end of the table', '(table 2 funcref) (elem (i32.const 3) func)'],
  ])('%s: a RuntimeError from new Instance with Node\'s message', (_, fields) => {
    const bytes = wat(`(module ${fields})`);
    const { ours, theirs } = both((W) => instantiate(W, bytes));
    expect(theirs.threw).toBe('WebAssembly.RuntimeError');
    expect(ours).toEqual(theirs);
  });

  test('unbounded recursion is a RangeError like Node\'s, and the instance still works afterwards', () => {
    const bytes = wat(`(module
      (func $down (export "down") (param i32) (result i32) (i32.add (call $down (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
      (func $wide (export "wide") (param i64 i64 i64 i64 i64 i64 i64 i64 i64 i64) (result i64)
        (call $wide (local.get 1) (local.get 2) (local.get 3) (local.get 4) (local.get 5)
                    (local.get 6) (local.get 7) (local.get 8) (local.get 9) (local.get 0)))
      (func (export "ok") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3))))`);
    const { ours, theirs } = both((W) => {
      const e = instantiate(W, bytes);
      return [run(W, () => e.down(0)), run(W, () => e.wide(1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n)), run(W, () => e.down(0)), e.ok(14)];
    });
    expect(theirs.value[0]).toEqual({ threw: 'RangeError', message: 'Maximum call stack size exceeded' });
    expect(ours).toEqual(theirs);
  });

  test('unbounded recursion through a JS import is a RangeError too, and leaves the instance usable', () => {
    const bytes = wat(`(module
      (import "env" "again" (func $again (param i32) (result i32)))
      (func (export "enter") (param i32) (result i32) (i32.add (call $again (local.get 0)) (i32.const 1)))
      (func (export "ok") (result i32) (i32.const 5)))`);
    const { ours, theirs } = both((W) => {
      const self = {};
      self.e = instantiate(W, bytes, { env: { again: (x) => self.e.enter(x + 1) } });
      const first = thrown(() => self.e.enter(0));
      return [first instanceof RangeError, first.constructor.name, self.e.ok()];
    });
    expect(theirs.value).toEqual([true, 'RangeError', 5]);
    expect(ours).toEqual(theirs);
  });
});

// ---------------------------------------------------------------------------------------------
// Unwinding: traps and exceptions across JS <-> wasm
// ---------------------------------------------------------------------------------------------

describe('unwinding', () => {
  // outer wasm -> JS import -> inner wasm (which traps when asked); the import catches the inner
  // trap and returns a value that the outer wasm frames go on using.
  const INNER = `(module
    (memory 1)
    (func (export "work") (param i32) (result i32)
      (if (i32.eq (local.get 0) (i32.const 1)) (then unreachable))
      (if (i32.eq (local.get 0) (i32.const 2)) (then (drop (i32.load (i32.const 70000)))))
      (if (i32.eq (local.get 0) (i32.const 3)) (then (drop (i32.div_s (local.get 0) (i32.const 0)))))
      (i32.mul (local.get 0) (i32.const 10))))`;
  const OUTER = `(module
    (import "env" "js" (func $js (param i32) (result i32)))
    (global $after (mut i32) (i32.const 0))
    (func $middle (param i32) (result i32)
      (local $r i32)
      (local.set $r (call $js (local.get 0)))
      (global.set $after (i32.add (global.get $after) (i32.const 1)))
      (i32.add (local.get $r) (i32.const 1000)))
    (func (export "run") (param i32) (result i32) (i32.add (call $middle (local.get 0)) (i32.const 1)))
    (func (export "after") (result i32) (global.get $after)))`;

  test('a trap deep in JS->wasm->JS->wasm unwinds only to the innermost entry; the outer wasm frames keep running', () => {
    const inner = wat(INNER);
    const outer = wat(OUTER);
    const { ours, theirs } = both((W) => {
      const caught = [];
      const i = instantiate(W, inner);
      const o = instantiate(W, outer, {
        env: {
          js: (x) => {
            try {
              return i.work(x);
            } catch (err) {
              caught.push([err.constructor === W.RuntimeError, err.message]);
              return -x;
            }
          },
        },
      });
      return [o.run(0), o.run(1), o.run(2), o.run(3), o.run(4), o.after(), caught];
    });
    expect(theirs.value).toEqual([1001, 1000, 999, 998, 1041, 5, [
      [true, 'unreachable'], [true, 'memory access out of bounds'], [true, 'divide by zero']]]);
    expect(ours).toEqual(theirs);
  });

  test('an uncaught inner trap unwinds the outer wasm frames too, as the same RuntimeError', () => {
    const inner = wat(INNER);
    const outer = wat(OUTER);
    for (const W of [cranewasm, node]) {
      const i = instantiate(W, inner);
      let seen;
      const o = instantiate(W, outer, {
        env: {
          js: (x) => {
            try {
              return i.work(x);
            } catch (err) {
              seen = err;
              throw err;
            }
          },
        },
      });
      const err = thrown(() => o.run(1));
      expect(err).toBe(seen);
      expect(err.constructor).toBe(W.RuntimeError);
      expect(o.after()).toBe(0);
      expect(o.run(5)).toBe(1051);
    }
  });

  test.each([
    ['an Error', () => new Error('from the import')],
    ['a TypeError', () => new TypeError('typed')],
    ['a plain object', () => ({ plain: true })],
    ['a function', () => function thrownFunction() {}],
    ['a Symbol', () => Symbol('thrown')],
    ['a number', () => 42],
    ['a string', () => 'thrown string'],
    ['undefined', () => undefined],
    ['null', () => null],
    ['a BigInt', () => 5n],
  ])('%s thrown by an import passes through two wasm frames unchanged', (_, make) => {
    const bytes = wat(`(module
      (import "env" "throws" (func $throws (param i32) (result i32)))
      (global $reached (mut i32) (i32.const 0))
      (func $inner (param i32) (result i32) (i32.add (call $throws (local.get 0)) (i32.const 1)))
      (func (export "outer") (param i32) (result i32)
        (local $r i32)
        (local.set $r (call $inner (local.get 0)))
        (global.set $reached (i32.const 1))
        (local.get $r))
      (func (export "reached") (result i32) (global.get $reached)))`);
    for (const W of [cranewasm, node]) {
      const value = make();
      const e = instantiate(W, bytes, { env: { throws: () => { throw value; } } });
      let caught = 'nothing was thrown';
      try {
        e.outer(1);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBe(value);
      expect(e.reached()).toBe(0);
    }
  });

  test('an exception through the wasm frames of two instances, one linked directly to the other', () => {
    const thrower = wat(`(module
      (import "env" "throws" (func $throws))
      (func (export "via") (call $throws)))`);
    const caller = wat(`(module
      (import "env" "via" (func $via))
      (func (export "outer") (call $via)))`);
    for (const W of [cranewasm, node]) {
      const error = new RangeError('through two instances');
      const a = instantiate(W, thrower, { env: { throws: () => { throw error; } } });
      const b = instantiate(W, caller, { env: { via: a.via } });
      expect(thrown(() => b.outer())).toBe(error);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Many traps; Node's WebAssembly beside cranewasm
// ---------------------------------------------------------------------------------------------

describe('process health', () => {
  const MIB = 1024 * 1024;
  const MANY = `(module
    (import "env" "throws" (func $throws))
    (memory 1)
    (func (export "unreachable") unreachable)
    (func (export "oob") (result i32) (i32.load (i32.const 70000)))
    (func (export "div") (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
    (func $deep (export "deep") (param i32) (result i32)
      (if (result i32) (local.get 0)
        (then (i32.add (call $deep (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))
        (else unreachable)))
    (func (export "host") (call $throws))
    (func (export "ok") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1))))`;

  test('10,000 traps in a loop (of each kind) leave the process healthy and its memory flat', () => {
    const bytes = wat(MANY);
    const error = new Error('host');
    const e = instantiate(cranewasm, bytes, { env: { throws: () => { throw error; } } });
    const calls = [() => e.unreachable(), () => e.oob(), () => e.div(0), () => e.deep(50), () => e.host()];
    const countTraps = (rounds) => {
      let count = 0;
      for (let i = 0; i < rounds; i++) {
        for (const call of calls) {
          const err = thrown(call);
          if (err instanceof cranewasm.RuntimeError || err === error) count++;
        }
      }
      return count;
    };
    // A full collection before each reading, also where jest runs without --expose-gc (the
    // sandbox-differential child): without it, when V8 next collects the 50,000 errors decides
    // the reading (92 MB once, 0 the next run), not what the traps keep.
    const gc = global.gc || (require('v8').setFlagsFromString('--expose-gc'), require('vm').runInNewContext('gc'));
    // Warm up with a full batch: code, caches, handles, and the heap grown to what such a batch
    // needs (the first batches raise RSS by a plateau of ~40 MB, collected or not; a leak grows
    // with every batch after it).
    expect(countTraps(10000)).toBe(50000);
    gc();
    const before = process.memoryUsage().rss;
    expect(countTraps(10000)).toBe(50000);
    gc();
    const growth = process.memoryUsage().rss - before;
    expect(growth).toBeLessThan(64 * MIB);
    expect(e.ok(41)).toBe(42);
    expect(thrown(() => e.deep(20))).toBeInstanceOf(cranewasm.RuntimeError);
  });

  test('Node\'s own WebAssembly keeps working after cranewasm has been loaded and has trapped', () => {
    const bytes = wat(MANY);
    const imports = { env: { throws: () => { throw new Error('host'); } } };
    const ours = instantiate(cranewasm, bytes, imports);
    for (const call of [() => ours.unreachable(), () => ours.oob(), () => ours.div(0)]) {
      expect(thrown(call)).toBeInstanceOf(cranewasm.RuntimeError);
    }
    const theirs = instantiate(node, bytes, imports);
    // An out-of-bounds load is a fault that V8's own signal handler turns into its RuntimeError.
    for (const [call, message] of [[() => theirs.oob(), 'memory access out of bounds'], [() => theirs.unreachable(), 'unreachable'],
      [() => theirs.div(0), 'divide by zero']]) {
      const err = thrown(call);
      expect(err).toBeInstanceOf(node.RuntimeError);
      expect(err.constructor).toBe(node.RuntimeError);
      expect(err).not.toBeInstanceOf(cranewasm.RuntimeError);
      expect(err.message).toBe(message);
    }
    let count = 0;
    for (let i = 0; i < 1000; i++) {
      const err = thrown(() => theirs.oob());
      if (err instanceof node.RuntimeError && err.message === 'memory access out of bounds') count++;
    }
    expect(count).toBe(1000);
    expect(theirs.ok(1)).toBe(2);
    expect(ours.ok(2)).toBe(3);
  });

  test('traps of each engine inside the other\'s frames: each engine handles its own faults', () => {
    const bytes = wat(MANY);
    const caller = wat(`(module
      (import "env" "f" (func $f (result i32)))
      (func (export "run") (result i32) (i32.add (call $f) (i32.const 1000))))`);
    const imports = { env: { throws: () => { throw new Error('host'); } } };
    const ours = instantiate(cranewasm, bytes, imports);
    const theirs = instantiate(node, bytes, imports);
    const catching = (W, call) => () => {
      const err = thrown(call);
      return err instanceof W.RuntimeError && err.message === 'memory access out of bounds' ? 1 : 2;
    };
    // cranewasm frames -> JS -> a V8 fault caught in JS; and the reverse.
    const crane = instantiate(cranewasm, caller, { env: { f: catching(node, () => theirs.oob()) } });
    const v8 = instantiate(node, caller, { env: { f: catching(cranewasm, () => ours.oob()) } });
    // Directly imported functions of the other engine: the fault's error crosses the frames.
    const craneDirect = instantiate(cranewasm, caller, { env: { f: theirs.oob } });
    const v8Direct = instantiate(node, caller, { env: { f: ours.oob } });
    for (let i = 0; i < 1000; i++) {
      expect(crane.run()).toBe(1001);
      expect(v8.run()).toBe(1001);
    }
    const fromV8 = thrown(() => craneDirect.run());
    expect(fromV8.constructor).toBe(node.RuntimeError);
    expect(fromV8.message).toBe('memory access out of bounds');
    const fromCrane = thrown(() => v8Direct.run());
    expect(fromCrane.constructor).toBe(cranewasm.RuntimeError);
    expect(fromCrane.message).toBe('memory access out of bounds');
    expect(ours.ok(1) + theirs.ok(1)).toBe(4);
  });
});

'use strict';
// Exception handling, both forms, through the public JS API, at every tier (lazy and tiered up,
// baseline, optimized):
// - the standard form (try_table, throw, throw_ref, exnref), which Node 20 lacks: expectations
//   from the spec text;
// - the legacy form (try, catch, catch_all, rethrow, delegate), compared with Node 20's engine;
// - WebAssembly.Tag and WebAssembly.Exception compared with Node 20 (and the JS API text where
//   they differ), WebAssembly.JSTag (newer than Node 20) from the JS API text;
// - tags across instances, JS exceptions through wasm, traps not catchable, and deep cases:
//   10,000 nested try_tables, a throw across 1,000 frames, 100 alternating JS/wasm frames.

const W = require('..');
const { setCompileOptions, getCompileOptions } = require('../engine');
const { loadWabt } = require('./helpers/execution.js');

let wabt;
beforeAll(async () => {
  wabt = await loadWabt();
});

function wat(text, { validate = true } = {}) {
  const parsed = wabt.parseWat('test.wat', text, { exceptions: true, reference_types: true });
  try {
    parsed.resolveNames();
    if (validate) parsed.validate();
    return parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
}

function uleb(n) {
  const out = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function section(id, contents) {
  return [id, ...uleb(contents.length), ...contents];
}

function thrown(f) {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
}

// What a call gives: its result, or the class (and message, for errors) of what it threw.
function outcome(WA, f) {
  try {
    return `= ${f()}`;
  } catch (err) {
    if (err instanceof WA.Exception) return 'WebAssembly.Exception';
    if (err instanceof Error) return `${err.constructor.name}: ${err.message}`;
    return `threw ${String(err)}`;
  }
}

const STANDARD = `(module
  (import "m" "f" (func $f (param i32)))
  (import "m" "jstag" (tag $js (param externref)))
  (tag $e0 (export "e0") (param i32))
  (tag $e1 (export "e1"))
  (tag $e2 (param i64 f32 f64))
  (func $thrower (export "thrower") (param i32)
    (if (i32.eq (local.get 0) (i32.const 0)) (then (throw $e0 (i32.const 10))))
    (if (i32.eq (local.get 0) (i32.const 1)) (then (throw $e1)))
    (if (i32.eq (local.get 0) (i32.const 2)) (then (throw $e2 (i64.const -5) (f32.const 1.5) (f64.const 0.25))))
    (if (i32.eq (local.get 0) (i32.const 3)) (then (call $f (local.get 0))))
    (if (i32.eq (local.get 0) (i32.const 4)) (then (unreachable))))
  ;; catch with a payload, catch_ref, catch_all: the first matching clause wins.
  (func (export "clauses") (param i32) (result i32)
    (local $x exnref)
    (block $all
      (block $ref (result exnref)
        (block $e2 (result i64 f32 f64)
          (block $e0 (result i32)
            (try_table (catch $e0 $e0) (catch $e2 $e2) (catch_ref $e1 $ref) (catch_all $all)
              (call $thrower (local.get 0)))
            (return (i32.const 100)))
          (return (i32.add (i32.const 1000))))
        (drop) (drop)
        (return (i32.wrap_i64)))
      (local.set $x)
      (return (i32.const 11)))
    (i32.const 7))
  ;; catch_all_ref then throw_ref: the same exception goes on to the outer handler.
  (func (export "rethrow") (param i32) (result i32)
    (block $outer (result i32)
      (try_table (result i32) (catch $e0 $outer)
        (block $inner (result exnref)
          (try_table (catch_all_ref $inner)
            (call $thrower (local.get 0)))
          (return (i32.const 100)))
        (throw_ref)))
    (i32.add (i32.const 2000)))
  ;; A JS exception caught by tag JSTag: the payload is the JS value.
  (func (export "catchJS") (param i32) (result externref)
    (block $h (result externref)
      (try_table (catch $js $h)
        (call $thrower (local.get 0)))
      (return (ref.null extern))))
  ;; throw_ref of null traps.
  (func (export "throwNull") (throw_ref (ref.null exn)))
  ;; A handler in a loop: catch, count, go around.
  (func (export "loop") (param i32) (result i32)
    (local $n i32)
    (loop $again
      (block $h (result i32)
        (try_table (catch $e0 $h) (throw $e0 (local.get $n)))
        (unreachable))
      (local.set $n (i32.add (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $n) (local.get 0))))
    (local.get $n))
)`;

// Legacy exception handling: the same shapes as Node 20 runs them.
const LEGACY = `(module
  (import "m" "f" (func $f (param i32)))
  (tag $e0 (param i32)) (tag $e1) (tag $e2 (param i64 f32))
  (func $thr (param i32)
    (if (i32.eq (local.get 0) (i32.const 0)) (then (throw $e0 (i32.const 10))))
    (if (i32.eq (local.get 0) (i32.const 1)) (then (throw $e1)))
    (if (i32.eq (local.get 0) (i32.const 2)) (then (throw $e2 (i64.const 5) (f32.const 1.5))))
    (if (i32.eq (local.get 0) (i32.const 3)) (then (call $f (local.get 0))))
    (if (i32.eq (local.get 0) (i32.const 4)) (then (unreachable))))
  (func (export "clauses") (param i32) (result i32)
    (try (result i32)
      (do (call $thr (local.get 0)) (i32.const 100))
      (catch $e0 (i32.add (i32.const 1000)))
      (catch $e2 (drop) (i32.wrap_i64))
      (catch_all (i32.const 7))))
  (func (export "one") (param i32) (result i32)
    (try (result i32)
      (do (call $thr (local.get 0)) (i32.const 100))
      (catch $e1 (i32.const 11))))
  (func (export "rethrow") (param i32) (result i32)
    (try (result i32)
      (do
        (try (result i32)
          (do (call $thr (local.get 0)) (i32.const 100))
          (catch_all (rethrow 0))))
      (catch $e0)))
  (func (export "nestedRethrow") (param i32) (result i32)
    (try (result i32)
      (do
        (try (result i32)
          (do (call $thr (local.get 0)) (i32.const 100))
          (catch_all
            (try (result i32)
              (do (throw $e1))
              (catch $e1 (rethrow 1))))))
      (catch $e0 (drop) (i32.const 3000))
      (catch $e1 (i32.const 3001))))
  (func (export "delegate") (param i32) (result i32)
    (try $outer (result i32)
      (do
        (try (result i32)
          (do
            (try (result i32)
              (do (call $thr (local.get 0)) (i32.const 100))
              (delegate $outer)))
          (catch_all (i32.const 55))))
      (catch $e1 (i32.const 66))))
  (func (export "delegateToCaller") (param i32) (result i32)
    (try (result i32)
      (do
        (try (result i32)
          (do (call $thr (local.get 0)) (i32.const 100))
          (delegate 1)))
      (catch_all (i32.const 77))))
  (func (export "throwInCatch") (param i32) (result i32)
    (try (result i32)
      (do
        (try (result i32)
          (do (call $thr (local.get 0)) (i32.const 100))
          (catch_all (throw $e0 (i32.const 9)))))
      (catch $e0)))
)`;

const CONFIGS = {
  lazy: { lazy: true, firstTier: 'baseline', tierUp: 'dynamic' },
  baseline: { lazy: false, firstTier: 'baseline', tierUp: 'off' },
  optimized: { lazy: false, firstTier: 'optimized', tierUp: 'off' },
  singlepass: { lazy: false, firstTier: 'singlepass', tierUp: 'off' },
};

describe.each(Object.keys(CONFIGS))('exception handling, %s', (config) => {
  let saved;
  beforeAll(() => {
    saved = getCompileOptions();
    setCompileOptions(CONFIGS[config]);
  });
  afterAll(() => setCompileOptions(saved));

  function standard(f = () => {}) {
    const jstag = W.JSTag;
    return new W.Instance(new W.Module(wat(STANDARD)), { m: { f: (x) => f(x), jstag } }).exports;
  }

  test('try_table catch clauses, catch_ref, catch_all, in order, with payloads', () => {
    const js = new Error('from JS');
    const e = standard(() => { throw js; });
    // Called often enough for the dynamic tier-up to replace the code midway.
    for (let round = 0; round < 300; round++) {
      expect(e.clauses(0)).toBe(1010);
      expect(e.clauses(1)).toBe(11);
      expect(e.clauses(2)).toBe(-5);
      expect(e.clauses(3)).toBe(7); // the JS exception, by catch_all
      expect(e.clauses(5)).toBe(100);
    }
    expect(e.loop(1000)).toBe(1000);
  });

  test('throw_ref rethrows the same exception; null traps', () => {
    const js = { some: 'object' };
    const e = standard(() => { throw js; });
    expect(e.rethrow(0)).toBe(2010);
    expect(e.rethrow(5)).toBe(100);
    const escaped = thrown(() => e.rethrow(1));
    expect(escaped).toBeInstanceOf(W.Exception);
    expect(escaped.is(e.e1)).toBe(true);
    // A JS exception rethrown by throw_ref leaves as the very value thrown.
    expect(thrown(() => e.rethrow(3))).toBe(js);
    const trap = thrown(() => e.throwNull());
    expect(trap).toBeInstanceOf(W.RuntimeError);
  });

  test('a wasm exception leaving wasm is a WebAssembly.Exception with its tag and payload', () => {
    const e = standard();
    const err = thrown(() => e.thrower(0));
    expect(err).toBeInstanceOf(W.Exception);
    expect(err.is(e.e0)).toBe(true);
    expect(err.is(e.e1)).toBe(false);
    expect(err.getArg(e.e0, 0)).toBe(10);
    expect(thrown(() => err.getArg(e.e1, 0))).toBeInstanceOf(TypeError);
    expect(Object.prototype.toString.call(err)).toBe('[object WebAssembly.Exception]');
  });

  test('a WebAssembly.Exception thrown by JS is caught by its tag, and leaves unchanged', () => {
    const tag = new W.Tag({ parameters: ['i32'] });
    const bytes = wat(`(module
      (import "m" "t" (tag $t (param i32)))
      (import "m" "f" (func $f))
      (func (export "catch") (result i32)
        (block $h (result i32)
          (try_table (catch $t $h) (call $f))
          (i32.const -1))))`);
    let value;
    const e = new W.Instance(new W.Module(bytes), { m: { t: tag, f: () => { throw value; } } }).exports;
    value = new W.Exception(tag, [42]);
    expect(e.catch()).toBe(42);
    // Another tag with the same type is another tag: not caught, rethrown as it was.
    value = new W.Exception(new W.Tag({ parameters: ['i32'] }), [1]);
    expect(thrown(() => e.catch())).toBe(value);
  });

  test('JSTag: JS exceptions are caught by catch_all and by a catch of JSTag, with the value as payload', () => {
    const values = [new TypeError('t'), 42, 'text', null, undefined, Symbol('s')];
    for (const value of values) {
      const e = standard(() => { throw value; });
      expect(e.catchJS(3)).toBe(value);
      expect(e.clauses(3)).toBe(7);
      expect(thrown(() => e.thrower(3))).toBe(value);
    }
    expect(W.JSTag).toBeInstanceOf(W.Tag);
    expect(W.JSTag.type()).toEqual({ parameters: ['externref'] });
    // Wasm exceptions are not of JSTag.
    expect(thrown(() => standard().catchJS(0))).toBeInstanceOf(W.Exception);
  });

  test('traps are not catchable: they stay RuntimeError (and RangeError for stack overflow)', () => {
    const e = standard();
    expect(thrown(() => e.clauses(4))).toBeInstanceOf(W.RuntimeError);
    const bytes = wat(`(module
      (func $deep (param i32) (result i32) (i32.add (call $deep (local.get 0)) (i32.const 1)))
      (func (export "overflow") (result i32)
        (block $h (try_table (catch_all $h) (drop (call $deep (i32.const 0))))) (i32.const 1))
      (func (export "div") (param i32) (result i32)
        (block $h (try_table (catch_all $h) (return (i32.div_u (i32.const 1) (local.get 0))))) (i32.const -1)))`);
    const x = new W.Instance(new W.Module(bytes)).exports;
    expect(thrown(() => x.overflow())).toBeInstanceOf(RangeError);
    expect(thrown(() => x.div(0))).toBeInstanceOf(W.RuntimeError);
    expect(x.div(1)).toBe(1);
  });

  test('a trap stays uncatchable after crossing JS: an import that calls a trapping export, inside try/catch_all (legacy, against Node 20) and try_table catch_all', () => {
    // (legacy) try (call $js) catch_all; the import calls back into "trap", which traps. V8
    // keeps the trap's RuntimeError uncatchable on its way back into wasm; a RuntimeError that
    // JS made itself is an ordinary JS exception, caught by catch_all.
    const legacy = wat(`(module
      (import "env" "js" (func $js))
      (func (export "trap") unreachable)
      (func (export "run") (result i32)
        (try (result i32) (do (call $js) (i32.const 1)) (catch_all (i32.const 2)))))`);
    const standard = wat(`(module
      (import "env" "js" (func $js))
      (func (export "trap") unreachable)
      (func (export "run") (result i32)
        (block $h (try_table (catch_all $h) (call $js))) (i32.const 2)))`);
    for (const [bytes, engines] of [[legacy, [W, WebAssembly]], [standard, [W]]]) {
      for (const WA of engines) {
        let mode = 'trap';
        let exports;
        const imports = { env: { js: () => {
          if (mode === 'trap') exports.trap();
          throw new WA.RuntimeError('made by JS');
        } } };
        exports = new WA.Instance(new WA.Module(bytes), imports).exports;
        expect(outcome(WA, () => exports.run())).toBe('RuntimeError: unreachable');
        mode = 'js';
        expect(outcome(WA, () => exports.run())).toBe('= 2');
      }
    }
  });

  test('tags keep their identity across instances', () => {
    const a = new W.Instance(new W.Module(wat(`(module
      (tag $t (export "t") (param i32))
      (func (export "throw") (param i32) (throw $t (local.get 0))))`))).exports;
    const b = new W.Instance(new W.Module(wat(`(module
      (import "a" "t" (tag $t (param i32)))
      (import "a" "throw" (func $throw (param i32)))
      (export "t" (tag $t))
      (func (export "catch") (param i32) (result i32)
        (block $h (result i32) (try_table (catch $t $h) (call $throw (local.get 0))) (i32.const -1))))`)), { a }).exports;
    expect(b.t).toBe(a.t);
    expect(b.catch(5)).toBe(5);
    // Another instance of the first module has another tag.
    const c = new W.Instance(new W.Module(wat(`(module
      (tag $t (export "t") (param i32))
      (func (export "throw") (param i32) (throw $t (local.get 0))))`))).exports;
    expect(c.t).not.toBe(a.t);
    const d = new W.Instance(new W.Module(wat(`(module
      (import "a" "t" (tag $t (param i32)))
      (import "c" "throw" (func $throw (param i32)))
      (func (export "catch") (param i32) (result i32)
        (block $h (result i32) (try_table (catch $t $h) (call $throw (local.get 0))) (i32.const -1))))`)), { a, c }).exports;
    const err = thrown(() => d.catch(1));
    expect(err).toBeInstanceOf(W.Exception);
    expect(err.is(c.t)).toBe(true);
    expect(err.getArg(c.t, 0)).toBe(1);
    // Tag imports are checked.
    expect(thrown(() => new W.Instance(new W.Module(wat('(module (import "a" "t" (tag (param i64))))')), { a })))
      .toBeInstanceOf(W.LinkError);
    expect(thrown(() => new W.Instance(new W.Module(wat('(module (import "a" "t" (tag (param i32))))')), { a: { t: 1 } })))
      .toBeInstanceOf(W.LinkError);
  });

  test('legacy try/catch/catch_all/rethrow/delegate give what Node 20 gives', () => {
    const bytes = wat(LEGACY);
    const results = [W, WebAssembly].map((WA) => {
      const thrownFromJS = new Error('js');
      const e = new WA.Instance(new WA.Module(bytes), { m: { f: () => { throw thrownFromJS; } } }).exports;
      const out = [];
      for (let round = 0; round < 50; round++) {
        for (const name of Object.keys(e)) {
          for (let a = 0; a <= 5; a++) out.push(`${name}(${a}) ${outcome(WA, () => e[name](a))}`);
        }
      }
      return out;
    });
    expect(results[0]).toEqual(results[1]);
    expect(results[0]).toContain('clauses(0) = 1010');
    expect(results[0]).toContain('delegate(1) = 66');
    expect(results[0]).toContain('nestedRethrow(0) = 3000');
  });

  test('deep: 10,000 nested try_tables, a throw across 1,000 frames, 100 alternating JS and wasm frames', () => {
    // Assembled by hand (wabt's parser runs out of memory on this nesting).
    const depth = 10000;
    const body = [0x00, 0x02, 0x7f]; // no locals; block $out (result i32)
    for (let k = 0; k < depth; k++) body.push(0x1f, 0x40, 0x01, 0x00, 0x00, ...uleb(k)); // try_table (catch 0 k)
    body.push(0x20, 0x00, 0x08, 0x00); // local.get 0, throw 0
    for (let k = 0; k < depth; k++) body.push(0x0b);
    body.push(0x41, 0x7f, 0x0b, 0x0b); // i32.const -1, end, end
    const nested = new Uint8Array([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
      ...section(1, [0x02, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x00]),
      ...section(3, [0x01, 0x00]),
      ...section(13, [0x01, 0x00, 0x01]),
      ...section(7, [0x01, 0x06, ...Buffer.from('nested'), 0x00, 0x00]),
      ...section(10, [0x01, ...uleb(body.length), ...body]),
    ]);
    expect(new W.Instance(new W.Module(nested)).exports.nested(9)).toBe(9);

    const frames = wat(`(module (tag $t (param i32))
      (func $down (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0))
          (then (throw $t (i32.const 77)))
          (else (i32.add (call $down (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))))
      (func (export "across") (param i32) (result i32)
        (block $h (result i32) (try_table (catch $t $h) (return (call $down (local.get 0)))) (unreachable))))`);
    expect(new W.Instance(new W.Module(frames)).exports.across(1000)).toBe(77);

    // wasm -> JS -> wasm -> … 100 frames of each; the innermost JS throws; the outermost wasm
    // catches; every wasm frame on the way has a catch_all_ref that counts and rethrows.
    const tag = new W.Tag({ parameters: ['i32'] });
    let e;
    let rethrows = 0;
    const mutual = wat(`(module
      (import "m" "t" (tag $t (param i32)))
      (import "m" "js" (func $js (param i32)))
      (import "m" "count" (func $count))
      (func (export "wasm") (param i32)
        (block $h (result exnref)
          (try_table (catch_all_ref $h) (call $js (local.get 0)))
          (return))
        (call $count)
        (throw_ref))
      (func (export "top") (param i32) (result i32)
        (block $h (result i32) (try_table (catch $t $h) (call $js (local.get 0))) (i32.const -1))))`);
    e = new W.Instance(new W.Module(mutual), {
      m: {
        t: tag,
        js: (n) => { if (n === 0) throw new W.Exception(tag, [123]); e.wasm(n - 1); },
        count: () => { rethrows++; },
      },
    }).exports;
    expect(e.top(100)).toBe(123);
    expect(rethrows).toBe(100);
  });
});

describe('WebAssembly.Tag and WebAssembly.Exception against Node 20 and the JS API', () => {
  test('the namespace and the interfaces have the shape of Node 20 (JSTag added)', () => {
    for (const name of ['Tag', 'Exception']) {
      expect(typeof W[name]).toBe('function');
      expect(W[name].length).toBe(WebAssembly[name].length);
      expect(Object.prototype.toString.call(W[name].prototype)).toBe(Object.prototype.toString.call(WebAssembly[name].prototype));
    }
    expect(Object.getOwnPropertyNames(W.Exception.prototype).sort()).toEqual(Object.getOwnPropertyNames(WebAssembly.Exception.prototype).sort());
    expect(Object.getOwnPropertyNames(W).filter((n) => n !== 'JSTag')).toEqual(Object.getOwnPropertyNames(WebAssembly));
  });

  test('constructor and method errors are those of Node 20 (class and message)', () => {
    const cases = (WA) => {
      const t = new WA.Tag({ parameters: ['i32', 'f64'] });
      const e = new WA.Exception(t, [1, 2.5]);
      const other = new WA.Tag({ parameters: [] });
      return [
        () => new WA.Tag(), () => new WA.Tag({}), () => new WA.Tag({ parameters: ['x'] }), () => WA.Tag({ parameters: [] }),
        () => new WA.Exception({}, []), () => new WA.Exception(t, 5), () => WA.Exception(t, [1, 2]),
        () => e.getArg({}, 0), () => e.getArg(other, 0), () => e.getArg(t, 2), () => e.is(1),
        () => WA.Exception.prototype.getArg.call({}, t, 0), () => WA.Exception.prototype.is.call({}, t),
        () => e.getArg(t, 1), () => e.getArg(t, 0), () => e.is(t), () => e.is(other),
        () => new WA.Exception(t, [1n, 2]), () => new WA.Exception(new WA.Tag({ parameters: ['i64'] }), [5]),
        () => new WA.Exception(new WA.Tag({ parameters: ['i64'] }), [5n]).getArg.length,
        () => typeof e.stack, () => typeof new WA.Exception(t, [1, 2], { traceStack: true }).stack,
        () => Object.getOwnPropertyNames(new WA.Exception(t, [1, 2], { traceStack: true })).join(),
        () => new WA.Exception(t, [1, 2]) instanceof Error,
      ];
    };
    const mine = cases(W).map((f) => outcome(W, f));
    const node = cases(WebAssembly).map((f) => outcome(WebAssembly, f));
    expect(mine).toEqual(node);
  });

  test('a payload of the wrong length is a TypeError, as the JS API says (Node 20 accepts it)', () => {
    const t = new W.Tag({ parameters: ['i32'] });
    expect(thrown(() => new W.Exception(t, []))).toBeInstanceOf(TypeError);
    expect(thrown(() => new W.Exception(t, [1, 2]))).toBeInstanceOf(TypeError);
  });

  test('traceStack gives the stack of the construction', () => {
    function makeIt() {
      return new W.Exception(new W.Tag({ parameters: [] }), [], { traceStack: true });
    }
    expect(makeIt().stack).toMatch(/makeIt/);
    expect(new W.Exception(new W.Tag({ parameters: [] }), []).stack).toBeUndefined();
  });

  test('Tag.type() reflects the parameters', () => {
    expect(new W.Tag({ parameters: ['i32', 'i64', 'f32', 'f64', 'externref', 'anyfunc'] }).type())
      .toEqual({ parameters: ['i32', 'i64', 'f32', 'f64', 'externref', 'anyfunc'] });
  });

  test('invalid uses are CompileErrors naming the function and the offset', () => {
    const bad = [
      '(module (func (throw 0)))', // no such tag
      '(module (tag (param i32)) (func (throw 0)))', // missing operand
      '(module (tag) (func (block (try_table (catch 0 5)))))', // label out of range
      '(module (func (try (do) (catch_all (rethrow 1)))))', // rethrow of a label that is no catch
      '(module (func (result i32) (try_table (result i32) (i32.const 1) (throw_ref))))', // not an exnref
    ];
    for (const text of bad) {
      // wabt writes them without validating them.
      const bytes = wat(text, { validate: false });
      const err = thrown(() => new W.Module(bytes));
      expect(err).toBeInstanceOf(W.CompileError);
      expect(err.message).toMatch(/Compiling function #\d+.*@\+\d+|@\+\d+/);
      expect(W.validate(bytes)).toBe(false);
    }
  });
});

describe('exceptions caught inside one long call are freed as they are caught', () => {
  // 2,000,000 throws caught within one call: every exception used to stay alive until the call
  // returned (~64 bytes each, ~122 MiB here). A handler that takes no exnref, and a legacy catch
  // body left by its end, `br` or `return`, now drop theirs.
  const N = 2_000_000;
  const triangle = (n) => Number((BigInt(n) * BigInt(n + 1) / 2n) & 0xffffffffn) | 0;

  // try_table (Node 20 lacks it: the expected sums are computed). $a: catch_all, counts;
  // $b: catch $t (param i32), sums the payloads. Types: 0 = [] -> [], 1 = [i32] -> [],
  // 2 = [i32] -> [i32]; tags 0: type 0, 1: type 1.
  function tryTableModule() {
    const countDown = [0x20, 0, 0x41, 1, 0x6b, 0x22, 0, 0x0d, 0, 0x0b, 0x20, 1, 0x0b];
    const a = [1, 1, 0x7f, 0x03, 0x40, 0x02, 0x40, 0x1f, 0x40, 1, 0x02, 0, 0x08, 0, 0x0b, 0x0b,
      0x20, 1, 0x41, 1, 0x6a, 0x21, 1, ...countDown];
    const b = [1, 1, 0x7f, 0x03, 0x40, 0x02, 0x7f, 0x1f, 0x40, 1, 0x00, 1, 0, 0x20, 0, 0x08, 1, 0x0b,
      0x41, 0, 0x0b, 0x20, 1, 0x6a, 0x21, 1, ...countDown];
    return new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
      ...section(1, [3, 0x60, 0, 0, 0x60, 1, 0x7f, 0, 0x60, 1, 0x7f, 1, 0x7f]),
      ...section(3, [2, 2, 2]),
      ...section(13, [2, 0, 0, 0, 1]),
      ...section(7, [2, 1, 0x61, 0, 0, 1, 0x62, 0, 1]),
      ...section(10, [2, ...uleb(a.length), ...a, ...uleb(b.length), ...b])]);
  }

  const LEGACY = `(module
    (tag $e)
    (tag $t (param i32))
    (func (export "fallthrough") (param $n i32) (result i32) (local $sum i32)
      (loop $l
        (try (do (throw $e))
          (catch_all (local.set $sum (i32.add (local.get $sum) (i32.const 1)))))
        (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
      (local.get $sum))
    (func (export "branch") (param $n i32) (result i32) (local $sum i32)
      (block $done
        (loop $l
          (try (do (throw $t (local.get $n)))
            (catch $t
              (local.set $sum (i32.add (local.get $sum)))
              (br_if $done (i32.eqz (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
              (br $l)))))
      (local.get $sum))
    (func $payload (param i32) (result i32)
      (try (do (throw $t (local.get 0))) (catch $t (return)))
      (i32.const -1))
    (func (export "returns") (param $n i32) (result i32) (local $sum i32)
      (loop $l
        (local.set $sum (i32.add (local.get $sum) (call $payload (local.get $n))))
        (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
      (local.get $sum)))`;

  // Runs export `name`(N) of `bytes` in a fresh process: its result, and how much the RSS grew
  // over the call, in MiB.
  function growth(bytes, name) {
    const script = `
      const W = require(${JSON.stringify(require.resolve('..'))});
      const { exports } = new W.Instance(new W.Module(Buffer.from(process.argv[1], 'base64')));
      exports[process.argv[2]](1000);
      const before = process.memoryUsage().rss;
      const result = exports[process.argv[2]](${N});
      console.log(JSON.stringify({ result, mib: (process.memoryUsage().rss - before) / 1048576 }));`;
    const out = require('child_process').execFileSync(process.execPath,
      ['-e', script, Buffer.from(bytes).toString('base64'), name], { encoding: 'utf8' });
    return JSON.parse(out);
  }

  test.each([
    ['try_table catch_all', 'a', N],
    ['try_table catch $t', 'b', triangle(N)],
  ])('%s', (label, name, expected) => {
    const { result, mib } = growth(tryTableModule(), name);
    expect(result).toBe(expected);
    expect(mib).toBeLessThan(40);
  });

  test.each([
    ['fallthrough', N],
    ['branch', triangle(N)],
    ['returns', triangle(N)],
  ])('legacy catch left by %s (the same sums as Node)', (name, expected) => {
    const bytes = wat(LEGACY);
    const ours = new W.Instance(new W.Module(bytes)).exports;
    const node = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports;
    expect(ours[name](1000)).toBe(node[name](1000));
    const { result, mib } = growth(bytes, name);
    expect(result).toBe(expected);
    expect(mib).toBeLessThan(40);
  });
});

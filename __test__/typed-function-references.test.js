'use strict';
// Typed function references (WebAssembly 3.0): call_ref, return_call_ref, ref.as_non_null,
// br_on_null, br_on_non_null, non-nullable locals, typed tables with initializer expressions,
// and the matching of function, table and global imports whose types reference other types.
// Node 20's engine lacks the feature (behind a flag), so expectations come from the spec text;
// the modules are hand-assembled (wabt does not parse the feature).

const W = require('..');
const { setCompileOptions, getCompileOptions, compileStatus } = require('../engine');
const { ModuleBuilder, sleb } = require('./helpers/wasm-builder.js');

const REF_NULL = (t) => [0x63, t]; // (ref null $t)
const REF = (t) => [0x64, t]; // (ref $t)
const I32 = 0x7f;
const op = {
  localGet: (i) => [0x20, i], localSet: (i) => [0x21, i], i32: (v) => [0x41, ...sleb(v)], i64: (v) => [0x42, ...sleb(v)],
  callRef: (t) => [0x14, t], returnCallRef: (t) => [0x15, t], refFunc: (f) => [0xd2, f], refNull: (t) => [0xd0, t],
  asNonNull: [0xd4], brOnNull: (l) => [0xd5, l], brOnNonNull: (l) => [0xd6, l], tableGet: (t) => [0x25, t],
  block: (bt) => [0x02, ...bt], end: [0x0b], ret: [0x0f], drop: [0x1a], i32Mul: [0x6c],
  i64Eqz: [0x50], i64Sub: [0x7d], ifResult: (t) => [0x04, t], else: [0x05],
};

function thrown(f) {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
}

// Types: 0 = (func (param i32) (result i32)), 1 = (func (param (ref null 0) i32) (result i32)),
// 2 = (func (param i64) (result i64)).
function mainModule() {
  const b = new ModuleBuilder();
  b.type(['i32'], ['i32']);
  b.type([REF_NULL(0), 'i32'], ['i32']);
  b.type(['i64'], ['i64']);
  const double = b.function(['i32'], ['i32'], [...op.localGet(0), ...op.i32(2), ...op.i32Mul]);
  // apply(f, x) = f(x): call_ref traps on null.
  const apply = b.function([REF_NULL(0), 'i32'], ['i32'], [...op.localGet(1), ...op.localGet(0), ...op.callRef(0)]);
  // applyOr(f, x) = f ? f(x) : -1, through br_on_null and a non-nullable local.
  const applyOr = b.function([REF_NULL(0), 'i32'], ['i32'], [
    ...op.block([0x40]), ...op.localGet(0), ...op.brOnNull(0), ...op.localSet(2),
    ...op.localGet(1), ...op.localGet(2), ...op.callRef(0), ...op.ret, ...op.end,
    ...op.i32(-1),
  ], [REF(0)]);
  // isNonNull(f) through br_on_non_null.
  const isNonNull = b.function([REF_NULL(0)], ['i32'], [
    ...op.block([0x64, 0]), ...op.localGet(0), ...op.brOnNonNull(0), ...op.i32(0), ...op.ret, ...op.end,
    ...op.drop, ...op.i32(1),
  ]);
  // tail(f, x): return_call_ref of ref.as_non_null f.
  const tail = b.function([REF_NULL(0), 'i32'], ['i32'], [...op.localGet(1), ...op.localGet(0), ...op.asNonNull, ...op.returnCallRef(0)]);
  // count(n) = n == 0 ? 42 : count(n - 1), a tail call through a reference.
  const count = b.functions.length + b.importedFunctions;
  b.function(['i64'], ['i64'], [
    ...op.localGet(0), ...op.i64Eqz, ...op.ifResult(0x7e), ...op.i64(42), ...op.else,
    ...op.localGet(0), ...op.i64(1), ...op.i64Sub, ...op.refFunc(count), ...op.returnCallRef(2), ...op.end,
  ]);
  // viaTable(i, x) = table[i](x); the table's elements start as `double` (initializer expression).
  const viaTable = b.function(['i32', 'i32'], ['i32'], [...op.localGet(1), ...op.localGet(0), ...op.tableGet(0), ...op.callRef(0)]);
  const getDouble = b.function([], [REF(0)], [...op.refFunc(double)]);
  const applyDouble = b.function(['i32'], ['i32'], [...op.localGet(0), ...op.refFunc(double), ...op.callRef(0)]);
  // Table 0: (table 3 (ref null 0) (ref.func double)); table 1: (table 1 (ref 0) (ref.func double)).
  b.tables.push([0x40, 0x00, ...REF_NULL(0), 0x00, 3, ...op.refFunc(double), ...op.end]);
  b.tables.push([0x40, 0x00, ...REF(0), 0x00, 1, ...op.refFunc(double), ...op.end]);
  b.global({ type: REF_NULL(0) }, [...op.refFunc(double), ...op.end]);
  const exports = { double, apply, applyOr, isNonNull, tail, count, viaTable, getDouble, applyDouble };
  for (const [name, index] of Object.entries(exports)) b.export(name, 'function', index);
  b.export('table', 'table', 0).export('strictTable', 'table', 1).export('global', 'global', 0);
  return b.toBytes();
}

const CONFIGS = {
  lazy: { lazy: true, firstTier: 'baseline', tierUp: 'dynamic' },
  baseline: { lazy: false, firstTier: 'baseline', tierUp: 'off' },
  optimized: { lazy: false, firstTier: 'optimized', tierUp: 'off' },
  singlepass: { lazy: false, firstTier: 'singlepass', tierUp: 'off' },
};

describe.each(Object.keys(CONFIGS))('%s', (config) => {
  let saved;
  beforeAll(() => {
    saved = getCompileOptions();
    setCompileOptions(CONFIGS[config]);
  });
  afterAll(() => setCompileOptions(saved));

  test('call_ref, br_on_null, br_on_non_null, ref.as_non_null and return_call_ref', () => {
    const bytes = mainModule();
    expect(W.validate(bytes)).toBe(true);
    // At the single-pass tier, every function is its code (none left to the baseline tier).
    if (config === 'singlepass') expect(compileStatus(new W.Module(bytes))).toMatchObject({ fallbacks: 0, baseline: 0 });
    const { exports } = new W.Instance(new W.Module(bytes));
    expect(exports.applyDouble(21)).toBe(42);
    expect(exports.viaTable(2, 8)).toBe(16);
    expect(exports.applyOr(null, 5)).toBe(-1);
    expect(exports.isNonNull(null)).toBe(0);
    // A null reference: call_ref and ref.as_non_null trap.
    expect(thrown(() => exports.apply(null, 1))).toBeInstanceOf(W.RuntimeError);
    expect(thrown(() => exports.tail(null, 1))).toBeInstanceOf(W.RuntimeError);
    // Unbounded tail recursion through references runs in constant stack.
    expect(exports.count(10_000_000n)).toBe(42n);
  });

  test('typed references cross to JS as functions; the table and global hold the initializer\'s function', () => {
    const { exports } = new W.Instance(new W.Module(mainModule()));
    expect(exports.getDouble()(4)).toBe(8);
    expect(exports.table.get(0)(5)).toBe(10);
    expect(exports.global.value(6)).toBe(12);
    exports.table.set(1, null); // nullable element type
    expect(exports.table.get(1)).toBe(null);
    expect(thrown(() => exports.viaTable(1, 1))).toBeInstanceOf(W.RuntimeError);
    expect(exports.table.grow(1)).toBe(3);
  });
});

test('null where the type is not nullable, and functions of other types for concrete types, are TypeErrors', () => {
  const { exports } = new W.Instance(new W.Module(mainModule()));
  // (ref 0) elements: null is not a value of the type; growing without a value would need one.
  expect(thrown(() => exports.strictTable.set(0, null))).toBeInstanceOf(TypeError);
  expect(thrown(() => exports.strictTable.grow(1))).toBeInstanceOf(TypeError);
  expect(exports.strictTable.length).toBe(1);
  // A function for a concrete type must be an exported wasm function of that type (or a
  // subtype: type-system.test.js): `double` is a (ref 0), `count` (i64 -> i64) and a JS
  // function are not.
  expect(exports.apply(exports.double, 1)).toBe(2);
  exports.table.set(0, exports.double);
  expect(thrown(() => exports.apply(exports.count, 1))).toBeInstanceOf(TypeError);
  expect(thrown(() => exports.apply((x) => x, 1))).toBeInstanceOf(TypeError);
  expect(thrown(() => exports.table.set(0, exports.count))).toBeInstanceOf(TypeError);
  expect(thrown(() => exports.strictTable.set(0, (x) => x))).toBeInstanceOf(TypeError);
  expect(exports.table.get(0)).toBe(exports.double);
  expect(exports.applyDouble(1)).toBe(2);
});

describe('imports whose types reference other types match by what they reference', () => {
  // Exporter: type 0 = (func (param i32) (result i32)); f: (func (param (ref null 0))).
  function exporter() {
    const b = new ModuleBuilder();
    b.type(['i32'], ['i32']);
    const f = b.function([REF_NULL(0)], [], []);
    const g = b.function(['i32'], ['i32'], [...op.localGet(0)]);
    b.tables.push([0x40, 0x00, ...REF_NULL(0), 0x00, 1, ...op.refFunc(g), ...op.end]);
    b.global({ type: REF_NULL(0) }, [...op.refFunc(g), ...op.end]);
    b.export('f', 'function', f).export('g', 'function', g).export('table', 'table', 0).export('global', 'global', 0);
    return new W.Instance(new W.Module(b.toBytes())).exports;
  }

  // Importer of `what` with type 0 = `referenced`, then the import's type referencing it.
  function importer(referenced, addImport) {
    const b = new ModuleBuilder();
    b.type(...referenced);
    addImport(b);
    return new W.Module(b.toBytes());
  }

  const SAME = [['i32'], ['i32']];
  const OTHER = [[], []]; // (func): the same text "(ref null 0)", another type
  const kinds = {
    function: (b) => b.importFunction('m', 'f', [REF_NULL(0)], []),
    table: (b) => b.importTable('m', 'table', { element: REF_NULL(0), min: 1 }),
    global: (b) => b.importGlobal('m', 'global', { type: REF_NULL(0) }),
  };

  test.each(Object.keys(kinds))('%s: the same referenced type links, another one is a LinkError', (kind) => {
    const m = exporter();
    expect(new W.Instance(importer(SAME, kinds[kind]), { m })).toBeInstanceOf(W.Instance);
    const err = thrown(() => new W.Instance(importer(OTHER, kinds[kind]), { m }));
    expect(err).toBeInstanceOf(W.LinkError);
  });

  test('an immutable global of a concrete type may be imported as funcref (a supertype), not the other way', () => {
    const m = exporter();
    const asFuncref = new ModuleBuilder();
    asFuncref.importGlobal('m', 'global', { type: 'funcref' });
    expect(new W.Instance(new W.Module(asFuncref.toBytes()), { m })).toBeInstanceOf(W.Instance);
    const concrete = importer(SAME, kinds.global);
    const plain = new W.Global({ value: 'anyfunc' }, null);
    expect(thrown(() => new W.Instance(concrete, { m: { global: plain } }))).toBeInstanceOf(W.LinkError);
  });
});

test('invalid uses are CompileErrors', () => {
  // call_ref of type 0 on a (ref null 1) operand.
  const b = new ModuleBuilder();
  b.type(['i32'], ['i32']);
  b.type([], []);
  b.function([REF_NULL(1)], ['i32'], [...op.i32(1), ...op.localGet(0), ...op.callRef(0)]);
  expect(W.validate(b.toBytes())).toBe(false);
  expect(thrown(() => new W.Module(b.toBytes()))).toBeInstanceOf(W.CompileError);
  // A non-nullable local read before it is set.
  const c = new ModuleBuilder();
  c.type(['i32'], ['i32']);
  c.function([], ['i32'], [...op.i32(1), ...op.localGet(0), ...op.callRef(0)], [REF(0)]);
  expect(thrown(() => new W.Module(c.toBytes()))).toBeInstanceOf(W.CompileError);
});

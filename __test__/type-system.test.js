'use strict';
// The WebAssembly 3.0 type system without GC, through the JS API: recursion groups (`rec`) and
// their iso-recursive equivalence, declared subtyping of function types (`sub`, `sub final`)
// checked by imports, call_indirect and call_ref across instances, and global.get of earlier
// immutable globals in constant expressions. Node 20's engine has none of these (they came with
// GC, behind a flag there), so the expectations are the spec's; what needs a GC runtime is
// still a CompileError. The modules are assembled byte by byte (wabt does not parse `rec`/`sub`).

const W = require('..');
const { setCompileOptions, getCompileOptions, compileStatus } = require('../engine');
const { uleb, sleb, name, section, vec } = require('./helpers/wasm-builder.js');

const I32 = 0x7f;
const FUNCREF = 0x70;
const EXTERNREF = 0x6f;
const REF_NULL = (t) => [0x63, t];
const func = (params, results) => [0x60, ...vec(params.map((p) => [].concat(p))), ...vec(results.map((r) => [].concat(r)))];
const sub = (supers, ty) => [0x50, ...vec(supers.map((s) => uleb(s))), ...ty];
const subFinal = (supers, ty) => [0x4f, ...vec(supers.map((s) => uleb(s))), ...ty];
const rec = (...types) => [0x4e, ...uleb(types.length), ...types.flat()];
const struct = (...fields) => [0x5f, ...vec(fields)];
const op = {
  localGet: (i) => [0x20, i], i32: (v) => [0x41, ...sleb(v)], i32Add: [0x6a], globalGet: (g) => [0x23, g],
  callIndirect: (t, table = 0) => [0x11, t, table], callRef: (t) => [0x14, t], tableGet: (t) => [0x25, t],
  refFunc: (f) => [0xd2, f], refNull: (t) => [0xd0, t], drop: [0x1a], end: [0x0b],
};
const KIND = { function: 0, table: 1, memory: 2, global: 3 };

// A module from its sections: `types` are the type section's entries (a rec group is one),
// `funcs` {type, body, locals} with explicit type indices, the rest raw entries.
function assemble({ types = [], imports = [], funcs = [], tables = [], memories = [], globals = [], exports = [], elems = [], datas = [] }) {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const add = (id, items) => {
    if (items.length > 0) out.push(...section(id, vec(items)));
  };
  add(1, types);
  add(2, imports.map(([module, field, kind, desc]) => [...name(module), ...name(field), KIND[kind], ...desc]));
  add(3, funcs.map((f) => uleb(f.type)));
  add(4, tables);
  add(5, memories);
  add(6, globals);
  add(7, exports.map(([field, kind, index]) => [...name(field), KIND[kind], ...uleb(index)]));
  add(9, elems);
  add(10, funcs.map((f) => {
    const code = [...vec((f.locals || []).map((t) => [1, ...[].concat(t)])), ...f.body, ...op.end];
    return [...uleb(code.length), ...code];
  }));
  add(11, datas);
  return new Uint8Array(out);
}

// Types 0-3, the same in every module below: 0 and 1 are a recursion group
// ($a = (func (param i32) (result i32)), $b = (func)); 2 = $super, an open (func (result i32));
// 3 = $sub, a final subtype of $super.
const SHARED_TYPES = [
  rec(func([I32], [I32]), func([], [])),
  sub([], func([], [I32])),
  subFinal([2], func([], [I32])),
];
const T = { a: 0, b: 1, super: 2, sub: 3 };

// Exports f (type $a: x + 1), sub (type $sub: 42), super (type $super: 7), table (funcref:
// f, sub, super), typed (a (ref null $super) table: sub, super), gsub ((ref null $sub) = sub),
// gsuper ((ref null $super) = super).
function exporter() {
  return assemble({
    types: SHARED_TYPES,
    funcs: [
      { type: T.a, body: [...op.localGet(0), ...op.i32(1), ...op.i32Add] },
      { type: T.sub, body: op.i32(42) },
      { type: T.super, body: op.i32(7) },
    ],
    tables: [[FUNCREF, 0x00, 3], [...REF_NULL(T.super), 0x00, 2]],
    globals: [
      [...REF_NULL(T.sub), 0, ...op.refFunc(1), ...op.end],
      [...REF_NULL(T.super), 0, ...op.refFunc(2), ...op.end],
    ],
    exports: [['f', 'function', 0], ['sub', 'function', 1], ['super', 'function', 2], ['table', 'table', 0],
      ['typed', 'table', 1], ['gsub', 'global', 0], ['gsuper', 'global', 1]],
    elems: [
      [0x00, ...op.i32(0), ...op.end, ...vec([[0], [1], [2]])],
      // flags 6: active, explicit table, element type and expressions.
      [0x06, 1, ...op.i32(0), ...op.end, ...REF_NULL(T.super), ...vec([[...op.refFunc(1), ...op.end], [...op.refFunc(2), ...op.end]])],
    ],
  });
}

// Imports A's functions, tables and a global by types that match by equivalence or
// subtyping, and calls through them. Own types: 4 = (func (param i32 i32) (result i32)),
// 5 = (func (param i32) (result i32)) alone in its group (not $a), 6 = (func (result i32))
// final without supertype (neither $super nor $sub), 7 = (func (param i32) (result i32)).
function importer() {
  return assemble({
    types: [...SHARED_TYPES, func([I32, I32], [I32]), func([I32], [I32]), func([], [I32])],
    imports: [
      ['A', 'f', 'function', [T.a]],
      ['A', 'sub', 'function', [T.super]], // a $sub function imported as $super
      ['A', 'table', 'table', [FUNCREF, 0x00, 3]],
      ['A', 'typed', 'table', [...REF_NULL(T.super), 0x00, 2]],
      ['A', 'gsub', 'global', [...REF_NULL(T.super), 0]], // immutable: by subtyping
    ],
    funcs: [
      // callA(x, i) = table[i](x) as $a
      { type: 4, body: [...op.localGet(0), ...op.localGet(1), ...op.callIndirect(T.a)] },
      // callSuper(i), callSub(i), callPlain(i): table[i]() as $super, $sub, type 6
      { type: 5, body: [...op.localGet(0), ...op.callIndirect(T.super)] },
      { type: 5, body: [...op.localGet(0), ...op.callIndirect(T.sub)] },
      { type: 5, body: [...op.localGet(0), ...op.callIndirect(6)] },
      // callSingleton(x, i) = table[i](x) as type 5, (func (param i32) (result i32)) in a group of its own
      { type: 4, body: [...op.localGet(0), ...op.localGet(1), ...op.callIndirect(5)] },
      // callTyped(i) = call_ref $super (typed[i])
      { type: 5, body: [...op.localGet(0), ...op.tableGet(1), ...op.callRef(T.super)] },
      // callGlobal() = call_ref $super (gsub)
      { type: 6, body: [...op.globalGet(0), ...op.callRef(T.super)] },
      // callImported() = the imported $sub function, called as $super
      { type: 6, body: [0x10, 1] },
    ],
    exports: [['callA', 'function', 2], ['callSuper', 'function', 3], ['callSub', 'function', 4],
      ['callPlain', 'function', 5], ['callSingleton', 'function', 6], ['callTyped', 'function', 7],
      ['callGlobal', 'function', 8], ['callImported', 'function', 9]],
  });
}

// A module importing one thing of A under `desc`.
function importOne(field, kind, desc, types = SHARED_TYPES) {
  return assemble({ types, imports: [['A', field, kind, desc]] });
}

function thrown(f) {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
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

  const instantiateA = () => new W.Instance(new W.Module(exporter())).exports;

  test('types of equal recursion groups are equal across modules; calls check subtyping', () => {
    const A = instantiateA();
    expect(W.validate(importer())).toBe(true);
    const importing = new W.Module(importer());
    // At the single-pass tier, its calls (call_indirect of open types among them) are that
    // tier's code.
    if (config === 'singlepass') expect(compileStatus(importing)).toMatchObject({ fallbacks: 0, baseline: 0 });
    const B = new W.Instance(importing, { A }).exports;
    expect(B.callA(41, 0)).toBe(42);
    // $sub <: $super: a $sub function is callable as $super, and as $sub; a $super one only as $super.
    expect(B.callSuper(1)).toBe(42);
    expect(B.callSuper(2)).toBe(7);
    expect(B.callSub(1)).toBe(42);
    for (const call of [() => B.callSub(2), () => B.callSuper(0), () => B.callPlain(1), () => B.callPlain(2),
      () => B.callSingleton(1, 0)]) {
      const err = thrown(call);
      expect(err).toBeInstanceOf(W.RuntimeError);
      expect(err.message).toMatch(/signature mismatch/);
    }
    // call_ref through a typed table and a global imported from A.
    expect(B.callTyped(0)).toBe(42);
    expect(B.callTyped(1)).toBe(7);
    expect(B.callGlobal()).toBe(42);
    expect(B.callImported()).toBe(42);
    // A table written from JS with A's functions: the check sees each function's own type.
    A.table.set(0, A.super);
    expect(B.callSuper(0)).toBe(7);
    expect(thrown(() => B.callSub(0))).toBeInstanceOf(W.RuntimeError);
  });

  test('imports match by subtyping where the spec says so, and not otherwise', () => {
    const A = instantiateA();
    const link = (bytes) => thrown(() => new W.Instance(new W.Module(bytes), { A }));
    const links = (bytes) => expect(() => new W.Instance(new W.Module(bytes), { A })).not.toThrow();
    links(importOne('f', 'function', [T.a]));
    links(importOne('sub', 'function', [T.sub]));
    links(importOne('sub', 'function', [T.super]));
    // A $super function is not a $sub.
    expect(link(importOne('super', 'function', [T.sub]))).toBeInstanceOf(W.LinkError);
    // (func (param i32) (result i32)) alone in its group is another type than $a of a group.
    expect(link(importOne('f', 'function', [0], [func([I32], [I32])]))).toBeInstanceOf(W.LinkError);
    // The same group with its types in the other order: $a is now the group's second type.
    expect(link(importOne('f', 'function', [1], [rec(func([], []), func([I32], [I32]))]))).toBeInstanceOf(W.LinkError);
    // The same group after another type: the indices move, the type is the same.
    links(importOne('f', 'function', [1], [func([I32], []), rec(func([I32], [I32]), func([], []))]));
    // Open and final types of the same signature are different types.
    expect(link(importOne('super', 'function', [0], [subFinal([], func([], [I32]))]))).toBeInstanceOf(W.LinkError);
    // Immutable globals by subtyping; a supertype's global is no subtype's.
    links(importOne('gsub', 'global', [...REF_NULL(T.super), 0]));
    links(importOne('gsub', 'global', [...REF_NULL(T.sub), 0]));
    expect(link(importOne('gsuper', 'global', [...REF_NULL(T.sub), 0]))).toBeInstanceOf(W.LinkError);
    // Tables by equality: (ref null $super) is not funcref, nor the other way.
    links(importOne('typed', 'table', [...REF_NULL(T.super), 0x00, 2]));
    expect(link(importOne('typed', 'table', [FUNCREF, 0x00, 2]))).toBeInstanceOf(W.LinkError);
    expect(link(importOne('typed', 'table', [...REF_NULL(T.sub), 0x00, 2]))).toBeInstanceOf(W.LinkError);
    // An exported function's type survives re-export: C re-exports A's $sub function.
    const C = new W.Instance(new W.Module(assemble({
      types: SHARED_TYPES, imports: [['A', 'sub', 'function', [T.sub]]], exports: [['g', 'function', 0]],
    })), { A }).exports;
    expect(() => new W.Instance(new W.Module(importOne('sub', 'function', [T.super])), { A: { sub: C.g } })).not.toThrow();
    expect(thrown(() => new W.Instance(new W.Module(importOne('sub', 'function', [T.a])), { A: { sub: C.g } })))
      .toBeInstanceOf(W.LinkError);
  });

  test('JS values for concrete reference types are exported functions of that type or a subtype', () => {
    const A = instantiateA();
    // Types 4 = (func (param (ref null $sub)) (result i32)), 5 = (func (result (ref null $super))),
    // 6 = (func (result i32)). callSub(r) = call_ref $sub r; fromJs() = call_ref $super (js.get());
    // g: a mutable (ref null $super) global.
    const bytes = assemble({
      types: [...SHARED_TYPES, func([REF_NULL(T.sub)], [I32]), func([], [REF_NULL(T.super)]), func([], [I32])],
      imports: [['js', 'get', 'function', [5]]],
      funcs: [
        { type: 4, body: [...op.localGet(0), ...op.callRef(T.sub)] },
        { type: 6, body: [0x10, 0, ...op.callRef(T.super)] },
      ],
      globals: [[...REF_NULL(T.super), 1, ...op.refNull(T.super), ...op.end]],
      exports: [['callSub', 'function', 1], ['fromJs', 'function', 2], ['g', 'global', 0]],
    });
    let given = null;
    const B = new W.Instance(new W.Module(bytes), { js: { get: () => given } }).exports;
    const incompatible = (f) => {
      const err = thrown(f);
      expect(err).toBeInstanceOf(TypeError);
      expect(err.message).toMatch(/type incompatibility/);
    };
    // Parameters: A's $sub function (another instance, the same canonical type) is a (ref null
    // $sub); $super is not a subtype of $sub, $a is unrelated, a JS function is no wasm function.
    expect(B.callSub(A.sub)).toBe(42);
    incompatible(() => B.callSub(A.super));
    incompatible(() => B.callSub(A.f));
    incompatible(() => B.callSub(() => 42));
    expect(thrown(() => B.callSub(null))).toBeInstanceOf(W.RuntimeError); // call_ref of null traps
    // Results of an import: checked against (ref null $super).
    given = A.sub;
    expect(B.fromJs()).toBe(42);
    given = A.super;
    expect(B.fromJs()).toBe(7);
    given = A.f;
    incompatible(() => B.fromJs());
    // Globals and tables: subtypes are accepted, others refused, the old value kept.
    B.g.value = A.sub;
    expect(B.g.value).toBe(A.sub);
    incompatible(() => { B.g.value = A.f; });
    expect(B.g.value).toBe(A.sub);
    A.typed.set(0, A.super);
    expect(A.typed.get(0)).toBe(A.super);
    incompatible(() => A.typed.set(1, A.f));
    expect(thrown(() => A.typed.grow(1, () => 7))).toBeInstanceOf(TypeError); // index.js: V8's Table message
    expect(A.typed.length).toBe(2);
    A.typed.set(1, B.g.value);
    const C = new W.Instance(new W.Module(importer()), { A }).exports;
    expect(C.callTyped(0)).toBe(7);
    expect(C.callTyped(1)).toBe(42);
  });

  test('a recursion group may mix function types with declared-only struct types', () => {
    // (rec (type $f (func (result i32))) (type (struct (field (ref $f))))), exported and
    // imported by a module declaring the same group.
    const group = rec(func([], [I32]), struct([...REF_NULL(0), 0]));
    const A = new W.Instance(new W.Module(assemble({
      types: [group], funcs: [{ type: 0, body: op.i32(5) }], exports: [['f', 'function', 0]],
    }))).exports;
    const same = assemble({ types: [group], imports: [['A', 'f', 'function', [0]]] });
    expect(() => new W.Instance(new W.Module(same), { A })).not.toThrow();
    // The struct's field type is part of the group: a different one makes another type.
    const other = rec(func([], [I32]), struct([I32, 0]));
    const err = thrown(() => new W.Instance(new W.Module(assemble({ types: [other], imports: [['A', 'f', 'function', [0]]] })), { A }));
    expect(err).toBeInstanceOf(W.LinkError);
  });

  test('constant expressions read earlier immutable globals', () => {
    const bytes = assemble({
      types: [func([], [])],
      funcs: [{ type: 0, body: [] }],
      tables: [[FUNCREF, 0x00, 10]],
      memories: [[0x00, 1]],
      globals: [
        [I32, 0, ...op.i32(8), ...op.end],
        [I32, 0, ...op.globalGet(0), ...op.end],
        [I32, 1, ...op.globalGet(1), ...op.i32(1), ...op.i32Add, ...op.end],
      ],
      exports: [['g1', 'global', 1], ['g2', 'global', 2], ['t', 'table', 0], ['m', 'memory', 0]],
      elems: [[0x00, ...op.globalGet(1), ...op.end, ...vec([[0]])]],
      datas: [[0x00, ...op.globalGet(1), ...op.end, ...vec([[0x44]])]],
    });
    const { exports } = new W.Instance(new W.Module(bytes));
    expect(exports.g1.value).toBe(8);
    expect(exports.g2.value).toBe(9);
    expect(exports.t.get(8)).toBeInstanceOf(Function);
    expect(exports.t.get(7)).toBe(null);
    expect(new Uint8Array(exports.m.buffer)[8]).toBe(0x44);
    // A mutable global, or a later one, is still no constant.
    for (const globals of [
      [[I32, 1, ...op.i32(1), ...op.end], [I32, 0, ...op.globalGet(0), ...op.end]],
      [[I32, 0, ...op.globalGet(1), ...op.end], [I32, 0, ...op.i32(1), ...op.end]],
    ]) {
      const invalid = assemble({ globals });
      expect(W.validate(invalid)).toBe(false);
      expect(thrown(() => new W.Module(invalid))).toBeInstanceOf(W.CompileError);
    }
  });

  test('a GC operator in a body is a CompileError saying cranewasm does not support it, at the operator', async () => {
    const bytes = assemble({ types: [func([], [])], funcs: [{ type: 0, body: [...op.i32(1), 0xfb, 0x1c, ...op.drop] }] });
    // The offset of ref.i31 (0xfb 0x1c) in the module.
    const at = bytes.findIndex((b, i) => b === 0xfb && bytes[i + 1] === 0x1c);
    const message = `Compiling function #0 failed: gc support is not enabled: cranewasm does not support it @+${at}`;
    expect(W.validate(bytes)).toBe(false);
    const err = thrown(() => new W.Module(bytes));
    expect(err).toBeInstanceOf(W.CompileError);
    expect(err.message).toBe(`WebAssembly.Module(): ${message}`);
    const rejected = await W.compile(bytes).then(() => null, (e) => e);
    expect(rejected).toBeInstanceOf(W.CompileError);
    expect(rejected.message).toBe(`WebAssembly.compile(): ${message}`);
    // Node 20's engine refuses it too, at the same function and offset.
    const v8 = thrown(() => new WebAssembly.Module(bytes));
    expect(v8).toBeInstanceOf(WebAssembly.CompileError);
    expect(v8.message).toMatch(new RegExp(`^WebAssembly\\.Module\\(\\): Compiling function #0 failed: .* @\\+${at}$`));
  });

  test('what needs a GC runtime is a CompileError naming function and offset', () => {
    // struct.new_default in a body.
    const structNew = assemble({
      types: [struct(), func([], [])],
      funcs: [{ type: 1, body: [0xfb, 0x01, 0x00, ...op.drop] }],
    });
    // ref.i31 needs no type at all.
    const i31 = assemble({ types: [func([], [])], funcs: [{ type: 0, body: [...op.i32(1), 0xfb, 0x1c, ...op.drop] }] });
    // anyref in a signature, an anyref local, a structref global.
    const anyParam = assemble({ types: [func([0x6e], [])], funcs: [{ type: 0, body: [] }] });
    const anyLocal = assemble({ types: [func([], [])], funcs: [{ type: 0, body: [], locals: [0x6e] }] });
    const structGlobal = assemble({ globals: [[0x6b, 0, ...op.refNull(0x6b), ...op.end]] });
    // any.convert_extern in a constant expression.
    const convert = assemble({ globals: [[EXTERNREF, 0, ...op.refNull(EXTERNREF), 0xfb, 0x1a, 0xfb, 0x1b, ...op.end]] });
    for (const bytes of [structNew, i31, anyLocal]) {
      expect(W.validate(bytes)).toBe(false);
      const err = thrown(() => new W.Module(bytes));
      expect(err).toBeInstanceOf(W.CompileError);
      expect(err.message).toMatch(/^WebAssembly\.Module\(\): Compiling function #0 failed: .* @\+\d+$/);
    }
    for (const bytes of [anyParam, structGlobal, convert]) {
      expect(W.validate(bytes)).toBe(false);
      const err = thrown(() => new W.Module(bytes));
      expect(err).toBeInstanceOf(W.CompileError);
      expect(err.message).toMatch(/GC is not supported.* @\+\d+$/);
    }
  });
});

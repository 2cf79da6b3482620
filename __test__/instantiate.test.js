// instantiate() and new Instance() against Node's built-in: the overloads, the importObject
// checks, the JS API's "read the imports" (which Get happens when, which TypeError or LinkError
// for which value), and what instantiation makes: the exports object, exported functions and
// the values crossing the boundary both ways, Memory, Table and Global exports, traps, imports
// that throw, start functions. Wherever Node instantiates, cranewasm must too, with the same
// observable results.
'use strict';

const {
  cranewasm, node, outcome, asyncOutcome, labels, wasmValue, describeInstance, describeInstantiated, describeExports,
} = require('./helpers/differential.js');
const { ModuleBuilder, OP, SECTION, section, sleb, vec } = require('./helpers/wasm-builder.js');

const EMPTY = new ModuleBuilder().toBytes();

// One import of each kind: function, global, table, memory.
const IMPORTS = (() => {
  const b = new ModuleBuilder();
  b.importFunction('env', 'f', ['i32'], ['i32']);
  b.importGlobal('env', 'g', { type: 'i32' });
  b.importTable('env', 't', { element: 'funcref', min: 1 });
  b.importMemory('env', 'm', { min: 1 });
  return b.toBytes();
})();

const FUNCTIONS_ONLY = (() => {
  const b = new ModuleBuilder();
  b.importFunction('env', 'a');
  b.importFunction('other', 'b');
  b.importFunction('env', 'c');
  return b.toBytes();
})();

// The three ways to instantiate, each reduced to one promise.
const PATHS = {
  'new Instance': (W, bytes, ...imports) => new Promise((resolve) => resolve(new W.Instance(new W.Module(bytes), ...imports))),
  'instantiate(module)': (W, bytes, ...imports) => W.instantiate(new W.Module(bytes), ...imports),
  'instantiate(bytes)': (W, bytes, ...imports) => W.instantiate(bytes, ...imports),
};

// The API name V8 puts before a message.
const CONTEXT = {
  'new Instance': 'WebAssembly.Instance()',
  'instantiate(module)': 'WebAssembly.instantiate()',
  'instantiate(bytes)': 'WebAssembly.instantiate()',
};

// What an instantiation path resolves to: an Instance, or { module, instance } from bytes.
const describeResult = (W, imports = {}) => (result) => (result instanceof W.Instance
  ? describeInstance(W, result, imports)
  : describeInstantiated(W, result, imports));

const run = (path, W, ...args) => asyncOutcome(() => PATHS[path](W, ...args), describeResult(W));

describe.each(Object.keys(PATHS))('%s', (path) => {
  test.each([
    ['no importObject', []],
    ['undefined', [undefined]],
    ['null', [null]],
    ['a number', [5]],
    ['a string', ['env']],
    ['a Symbol', [Symbol('imports')]],
    ['{}', [{}]],
    ['a module that is a number', [{ env: 1 }]],
    ['a module that is null', [{ env: null }]],
    ['a function that is not callable', [{ env: { f: 1 } }]],
    ['a function that is an object', [{ env: { f: {} } }]],
    ['a table that is not a Table', [{ env: { f() {}, g: 1, t: {} } }]],
    ['a table that is missing', [{ env: { f() {}, g: 1 } }]],
    ['a function whose module object is a function', [{ env: Object.assign(() => {}, { f: 'no' }) }]],
    ['a callable Proxy, a class and a bound function', [{ env: { f: new Proxy(() => {}, {}), g: 1 } }]],
  ])('with %s: the error Node gives, up to what cranewasm checks', async (_, imports) => {
    const ours = await run(path, cranewasm, IMPORTS, ...imports);
    const theirs = await run(path, node, IMPORTS, ...imports);
    expect(['TypeError', 'LinkError']).toContain(theirs.threw);
    expect(ours).toEqual(theirs);
    expect(ours.message.startsWith(`${CONTEXT[path]}: `)).toBe(true);
  });

  test('an importObject that Node accepts instantiates as in Node', async () => {
    for (const imports of [[], [undefined], [{}], [() => {}], [new Proxy({}, {})]]) {
      const ours = await run(path, cranewasm, EMPTY, ...imports);
      expect(ours).not.toHaveProperty('threw');
      expect(ours).toEqual(await run(path, node, EMPTY, ...imports));
    }
    const functions = { env: { a() {}, c: class {} }, other: { b: Math.max.bind(Math) } };
    const ours = await run(path, cranewasm, FUNCTIONS_ONLY, functions);
    expect(ours).not.toHaveProperty('threw');
    expect(ours).toEqual(await run(path, node, FUNCTIONS_ONLY, functions));
  });

  test('one import of each kind, from the same namespace\'s objects', async () => {
    const imports = (W) => ({
      env: {
        f: (x) => x,
        g: 7,
        t: new W.Table({ element: 'anyfunc', initial: 1 }),
        m: new W.Memory({ initial: 1 }),
      },
    });
    const ours = await run(path, cranewasm, IMPORTS, imports(cranewasm));
    expect(ours).not.toHaveProperty('threw');
    expect(ours).toEqual(await run(path, node, IMPORTS, imports(node)));
  });

  test('a throwing getter\'s error comes through unchanged', async () => {
    const boom = new SyntaxError('from a getter');
    const imports = { env: { get f() { throw boom; } } };
    for (const W of [node, cranewasm]) {
      await expect(PATHS[path](W, IMPORTS, imports)).rejects.toBe(boom);
    }
  });

  test('the imports are read with Node\'s sequence of Gets', async () => {
    const trace = async (W) => {
      const log = [];
      const handler = (label) => ({ get(target, key) { log.push(`${label}.${String(key)}`); return target[key]; } });
      const env = new Proxy({ a() {}, c() {} }, handler('env'));
      const other = new Proxy({ b() {} }, handler('other'));
      const imports = new Proxy({ env, other }, handler('imports'));
      await run(path, W, FUNCTIONS_ONLY, imports);
      return log;
    };
    const ours = await trace(cranewasm);
    expect(ours).toEqual(await trace(node));
    expect(ours).toEqual(['imports.env', 'env.a', 'imports.other', 'other.b', 'imports.env', 'env.c']);
  });
});

describe('each import kind on its own', () => {
  const single = {
    function: (b) => b.importFunction('env', 'x'),
    table: (b) => b.importTable('env', 'x', { element: 'externref', min: 0 }),
    memory: (b) => b.importMemory('env', 'x', { min: 0 }),
    global: (b) => b.importGlobal('env', 'x', { type: 'externref' }),
  };
  const VALUES = {
    undefined: () => undefined,
    null: () => null,
    'a number': () => 1,
    'a plain object': () => ({}),
    'a function': () => function x() {},
    'an object inheriting Memory.prototype': (W) => Object.create(W.Memory.prototype),
    'an object inheriting Table.prototype': (W) => Object.create(W.Table.prototype),
  };
  const cases = [];
  for (const kind of Object.keys(single)) for (const value of Object.keys(VALUES)) cases.push([kind, value]);

  test.each(cases)('a %s import given %s', async (kind, value) => {
    const b = new ModuleBuilder();
    single[kind](b);
    const bytes = b.toBytes();
    const theirs = await asyncOutcome(() => node.instantiate(bytes, { env: { x: VALUES[value](node) } }), describeResult(node));
    const ours = await asyncOutcome(() => cranewasm.instantiate(bytes, { env: { x: VALUES[value](cranewasm) } }), describeResult(cranewasm));
    // An externref global takes any value.
    expect(ours).toEqual(theirs);
    if (kind === 'table' || kind === 'memory') expect(ours.threw).toBe('LinkError');
  });
});

describe('imports checked against their types', () => {
  test('a global import of the wrong type is a LinkError, as in Node', async () => {
    const imports = { env: { f() {}, g: 'not a number', t: {} } };
    const ours = await run('instantiate(bytes)', cranewasm, IMPORTS, imports);
    expect(ours).toEqual(await run('instantiate(bytes)', node, IMPORTS, imports));
    expect(ours).toEqual({
      threw: 'LinkError',
      message: 'WebAssembly.instantiate(): Import #1 module="env" function="g" error: global import must be a number, valid Wasm reference, or WebAssembly.Global object',
    });
  });

  // A deliberate difference: the engines cannot share Table and Memory objects.
  test('Node\'s own Table and Memory objects are not cranewasm\'s', async () => {
    const imports = {
      env: { f() {}, g: 1, t: new node.Table({ element: 'anyfunc', initial: 1 }), m: new node.Memory({ initial: 1 }) },
    };
    expect(await run('instantiate(bytes)', node, IMPORTS, imports)).not.toHaveProperty('threw');
    expect(await run('instantiate(bytes)', cranewasm, IMPORTS, imports)).toEqual({
      threw: 'LinkError',
      message: 'WebAssembly.instantiate(): Import #2 module="env" function="t" error: table import requires a WebAssembly.Table: ' +
        'this WebAssembly.Table comes from Node\'s built-in engine, and objects of Node\'s engine cannot be mixed with cranewasm\'s',
    });
  });
});

describe('instantiate() overloads and order of checks', () => {
  test.each([
    ['a non-object source and a bad importObject', () => [1, 5]],
    ['an object source and a bad importObject', () => [{}, 5]],
    ['a detached buffer and a bad importObject', () => {
      const buffer = new ArrayBuffer(8);
      structuredClone(buffer, { transfer: [buffer] });
      return [buffer, 5];
    }],
    ['bad bytes and a bad importObject', () => [new Uint8Array([1, 2, 3]), null]],
    ['bad bytes and no importObject', () => [new Uint8Array([1, 2, 3])]],
    ['a Proxy source', () => [new Proxy(new Uint8Array(EMPTY), {}), {}]],
    ['a function source', () => [function bytes() {}, {}]],
  ])('%s: the error Node gives first', async (_, args) => {
    const ours = await asyncOutcome(() => cranewasm.instantiate(...args()));
    const theirs = await asyncOutcome(() => node.instantiate(...args()));
    expect(['TypeError', 'CompileError']).toContain(ours.threw);
    // The engine words its decoding errors differently from V8 (see module.test.js).
    if (theirs.threw === 'CompileError') expect(ours.threw).toBe('CompileError');
    else expect(ours).toEqual(theirs);
  });

  test('the Module overload reads the imports during the call, the bytes overload after compiling', async () => {
    const trace = async (W, source) => {
      const log = [];
      const promise = W.instantiate(source, { get env() { log.push('get env'); return { a() {}, c() {} }; }, other: { b() {} } });
      log.push('returned');
      await promise.catch(() => {});
      return log;
    };
    for (const [W, source] of [[node, new node.Module(FUNCTIONS_ONLY)], [cranewasm, new cranewasm.Module(FUNCTIONS_ONLY)]]) {
      expect(await trace(W, source)).toEqual(['get env', 'get env', 'returned']);
    }
    expect(await trace(cranewasm, FUNCTIONS_ONLY)).toEqual(await trace(node, FUNCTIONS_ONLY));
    expect(await trace(cranewasm, FUNCTIONS_ONLY)).toEqual(['returned', 'get env', 'get env']);
  });

  test('never throws synchronously', () => {
    const imports = { get env() { throw new Error('getter'); } };
    const promise = cranewasm.instantiate(new cranewasm.Module(FUNCTIONS_ONLY), imports);
    expect(promise).toBeInstanceOf(Promise);
    return expect(promise).rejects.toThrow('getter');
  });

  test('instantiate(bytes) copies the bytes when called', async () => {
    const bytes = new Uint8Array(FUNCTIONS_ONLY);
    const at = Buffer.from(bytes).indexOf('other');
    const ours = asyncOutcome(() => cranewasm.instantiate(bytes, { env: { a() {}, c() {} } }));
    const theirs = asyncOutcome(() => node.instantiate(bytes, { env: { a() {}, c() {} } }));
    bytes.set(Buffer.from('OTHER'), at);
    const expected = {
      threw: 'TypeError', message: 'WebAssembly.instantiate(): Import #1 module="other" error: module is not an object or function',
    };
    expect(await ours).toEqual(expected);
    expect(await theirs).toEqual(expected);
  });

  test('a module with non-ASCII import names is reported with them', async () => {
    const b = new ModuleBuilder();
    b.importFunction('\u00e9\u{1F600}', 'x"y');
    const imports = { '\u00e9\u{1F600}': { 'x"y': 1 } };
    const ours = await asyncOutcome(() => cranewasm.instantiate(b.toBytes(), imports));
    expect(ours).toEqual(await asyncOutcome(() => node.instantiate(b.toBytes(), imports)));
    expect(ours.threw).toBe('LinkError');
    expect(ours.message).toContain('module="\u00e9\u{1F600}" function="x"y"');
  });

  test('the LinkError is cranewasm\'s class', async () => {
    const err = await cranewasm.instantiate(IMPORTS, { env: { f: 1 } }).catch((e) => e);
    expect(err).toBeInstanceOf(cranewasm.LinkError);
    expect(err).not.toBeInstanceOf(node.LinkError);
  });
});


// --- What instantiation makes, against Node ---

const OPS = {
  call: 0x10, callIndirect: 0x11, drop: 0x1a, localGet: OP.localGet, globalGet: 0x23, globalSet: 0x24,
  tableGet: 0x25, tableSet: 0x26, i32Load: 0x28, i32Store: 0x36, memorySize: 0x3f, memoryGrow: 0x40,
  i32DivS: 0x6d, i64Add: 0x7c, i32TruncF64S: 0xaa, prefix: 0xfc, tableSize: 0x10,
};
const f32Bytes = (x) => [...new Uint8Array(new Float32Array([x]).buffer)];
const f64Bytes = (x) => [...new Uint8Array(new Float64Array([x]).buffer)];

// A module with imports and exports of every kind, a start function, and functions that cross
// the boundary with every value type, trap, call imports, and use memory, tables and globals.
const EVERYTHING = (() => {
  const b = new ModuleBuilder();
  const log = b.importFunction('env', 'log', ['i32'], []);
  const f = b.importFunction('env', 'f', ['i32'], ['i32']);
  b.importMemory('env', 'memory', { min: 1, max: 4 });
  b.importTable('env', 'table', { element: 'funcref', min: 2 });
  b.importGlobal('env', 'base', { type: 'i32' });
  b.importGlobal('env', 'counter', { type: 'i64', mutable: true });
  const get = (i) => [OPS.localGet, i];
  const unary = b.type(['i32'], ['i32']);
  const fns = {
    add: b.function(['i32', 'i32'], ['i32'], [...get(0), ...get(1), OP.i32Add]),
    callF: b.function(['i32'], ['i32'], [...get(0), OPS.call, f]),
    i32: b.function(['i32'], ['i32'], get(0)),
    i64: b.function(['i64'], ['i64'], get(0)),
    f32: b.function(['f32'], ['f32'], get(0)),
    f64: b.function(['f64'], ['f64'], get(0)),
    externref: b.function(['externref'], ['externref'], get(0)),
    funcref: b.function(['funcref'], ['funcref'], get(0)),
    multi: b.function([], ['i32', 'i64', 'f32', 'f64'], [
      OP.i32Const, ...sleb(-1), OP.i64Const, ...sleb(2n ** 40n), OP.f32Const, ...f32Bytes(1.5), OP.f64Const, ...f64Bytes(-0),
    ]),
    none: b.function([], [], []),
    unreachable: b.function([], [], [OP.unreachable]),
    div: b.function(['i32', 'i32'], ['i32'], [...get(0), ...get(1), OPS.i32DivS]),
    trunc: b.function(['f64'], ['i32'], [...get(0), OPS.i32TruncF64S]),
    load: b.function(['i32'], ['i32'], [...get(0), OPS.i32Load, 2, 0]),
    store: b.function(['i32', 'i32'], [], [...get(0), ...get(1), OPS.i32Store, 2, 0]),
    size: b.function([], ['i32'], [OPS.memorySize, 0]),
    grow: b.function(['i32'], ['i32'], [...get(0), OPS.memoryGrow, 0]),
    base: b.function([], ['i32'], [OPS.globalGet, 0]),
    bump: b.function([], ['i64'], [
      OPS.globalGet, 1, OP.i64Const, 1, OPS.i64Add, OPS.globalSet, 1, OPS.globalGet, 1,
    ]),
    callIndirect: b.function(['i32', 'i32'], ['i32'], [...get(0), ...get(1), OPS.callIndirect, unary, 0]),
    tableGet: b.function(['i32'], ['funcref'], [...get(0), OPS.tableGet, 0]),
    tableSize: b.function([], ['i32'], [OPS.prefix, OPS.tableSize, 0]),
    setExtern: b.function(['i32', 'externref'], [], [...get(0), ...get(1), OPS.tableSet, 1]),
  };
  fns.recurse = b.importedFunctions + b.functions.length;
  b.function([], [], [OPS.call, fns.recurse]);
  b.startFunction(b.function([], [], [OP.i32Const, 7, OPS.call, log]));
  b.table({ element: 'externref', min: 1, max: 3 });
  b.global({ type: 'f64', mutable: true }, [OP.f64Const, ...f64Bytes(1.5), OP.end]);
  b.global({ type: 'funcref' }, [OP.refFunc, fns.add, OP.end]);
  for (const [key, index] of Object.entries(fns)) b.export(key, 'function', index);
  b.export('log', 'function', log)
    .export('memory', 'memory', 0)
    .export('table', 'table', 0)
    .export('externs', 'table', 1)
    .export('baseGlobal', 'global', 0)
    .export('counter', 'global', 1)
    .export('own', 'global', 2)
    .export('fref', 'global', 3)
    .export('add again', 'function', fns.add)
    .export('', 'function', fns.none);
  return b.toBytes();
})();

// The imports of EVERYTHING, made by namespace W; `calls` records the calls of the JS imports.
function everythingImports(W, calls = []) {
  return {
    env: {
      log: (x) => { calls.push(['log', x]); },
      f: (x) => { calls.push(['f', x]); return x * 2; },
      memory: new W.Memory({ initial: 1, maximum: 4 }),
      table: new W.Table({ element: 'anyfunc', initial: 2 }),
      base: 42,
      counter: new W.Global({ value: 'i64', mutable: true }, 5n),
    },
  };
}

const importLabels = (imports) => {
  const flat = {};
  for (const [module, members] of Object.entries(imports)) {
    for (const [name, value] of Object.entries(members)) flat[`${module}.${name}`] = value;
  }
  return flat;
};

// Instantiates EVERYTHING with namespace W and runs `steps` (label, (exports, imports, W) =>
// result) on it; returns every step's outcome, values named by identity (imports, exports, and
// `values`), and the calls the JS imports saw.
function runSteps(W, steps, values = {}, make = everythingImports) {
  const calls = [];
  const imports = make(W, calls);
  const instance = new W.Instance(new W.Module(EVERYTHING), imports);
  const known = labels({ ...importLabels(imports), ...values });
  for (const [key, value] of Object.entries(instance.exports)) if (!known.has(value)) known.set(value, `exports.${key}`);
  const results = steps.map(([label, step]) => [
    label, outcome(() => step(instance.exports, imports.env, W), (value) => wasmValue(value, known)),
  ]);
  return { results, calls };
}

function expectSteps(steps, values) {
  const ours = runSteps(cranewasm, steps, values);
  expect(ours).toEqual(runSteps(node, steps, values));
  return ours;
}

describe('instantiating a module with every kind of import and export', () => {
  test.each(Object.keys(PATHS))('%s resolves to what Node resolves to', async (path) => {
    const describeWith = (W) => async () => {
      const calls = [];
      const imports = everythingImports(W, calls);
      const result = await asyncOutcome(() => PATHS[path](W, EVERYTHING, imports), describeResult(W, importLabels(imports)));
      return { result, calls };
    };
    const ours = await describeWith(cranewasm)();
    expect(ours.result).not.toHaveProperty('threw');
    expect(ours).toEqual(await describeWith(node)());
    expect(ours.calls).toEqual([['log', 7]]);
  });

  test('the exports object is frozen, has no prototype, and is the same object each time', () => {
    const shape = (W) => {
      const instance = new W.Instance(new W.Module(EVERYTHING), everythingImports(W));
      const { exports } = instance;
      return {
        prototype: Object.getPrototypeOf(exports),
        frozen: Object.isFrozen(exports),
        same: exports === instance.exports,
        assign: outcome(() => { exports.add = 1; }),
        define: outcome(() => Object.defineProperty(exports, 'x', { value: 1 })),
        delete: outcome(() => delete exports.add),
        described: describeExports(W, exports),
      };
    };
    const ours = shape(cranewasm);
    expect(ours).toEqual(shape(node));
    expect(ours.prototype).toBe(null);
    expect(ours.frozen).toBe(true);
  });

  test('two instances of one module have their own exports', () => {
    const pair = (W) => {
      const module = new W.Module(EVERYTHING);
      const a = new W.Instance(module, everythingImports(W));
      const b = new W.Instance(module, everythingImports(W));
      return [a.exports === b.exports, a.exports.add === b.exports.add, a.exports.externs === b.exports.externs, a.exports.add(1, 2), b.exports.add(3, 4)];
    };
    expect(pair(cranewasm)).toEqual(pair(node));
  });
});

describe('exported functions', () => {
  test('name, length, identity and aliases as in Node', () => {
    expectSteps([
      ['names and lengths', (e) => Object.entries(e).filter(([, v]) => typeof v === 'function').map(([k, v]) => [k, v.name, v.length])],
      ['an alias is the same function', (e) => e['add again'] === e.add],
      ['a JS import re-exported is a new function', (e, env) => [e.log === env.log, e.log.name, e.log.length]],
      // Known difference: V8 prints "function 2() { [native code] }"; cranewasm's exported
      // functions are arrow-function wrappers of the native function (that is how they are no
      // constructors, as the JS API requires), so their source text shows instead.
      ['toString is a string', (e) => typeof String(e.add)],
      ['toStringTag', (e) => Object.prototype.toString.call(e.add)],
      ['typeof', (e) => typeof e.add],
      ['call and apply', (e) => [e.add.call(null, 1, 2), e.add.apply(undefined, [3, 4]), e.add.bind(null, 5)(6)]],
    ]);
  });

  // The JS API makes exported functions like built-in functions: no own `prototype`, no
  // [[Construct]].
  // The TypeError's message quotes the function's source text, which differs (see toString
  // above), so only the class of the outcome is compared.
  const threwClass = (call) => {
    try {
      call();
      return 'no error';
    } catch (err) {
      return err.constructor.name;
    }
  };
  test('are not constructors and have no prototype property, as in Node', () => {
    expectSteps([
      ['own keys', (e) => Reflect.ownKeys(e.add)],
      ['construct', (e) => threwClass(() => Reflect.construct(e.add, [1, 2]))],
      ['new', (e) => threwClass(() => new e.none())],
      ['as the new.target of a class', (e) => threwClass(() => Reflect.construct(class {}, [], e.add))],
    ]);
  });

  const CALLS = {
    add: [[2, 3], ['7', 1.9], [2 ** 31, 2 ** 31], [], [1], [null, true], [{ valueOf: () => 4 }, 1], [1n, 2], [Symbol('x'), 1], [1, 2, 3]],
    i32: [[-0], [NaN], [Infinity], [2 ** 32 + 5], [-1.5], ['0x10']],
    i64: [[5n], [2n ** 64n + 1n], [-1n], [2n ** 63n], ['12'], [true], [5], [], [undefined], [null], [Symbol('x')], [{ valueOf: () => 3n }]],
    f32: [[0.1], [2 ** 128], [NaN], [-0], [16777217], [2 ** -150], ['1.5'], [1n]],
    f64: [[-0], [NaN], ['x'], [Number.MIN_VALUE], [{}], []],
    externref: [[null], [{ an: 'object' }], [Math.max], [Symbol.iterator]],
    funcref: [[null], [() => {}], [undefined], [], [0]],
    multi: [[]],
    none: [[], [1, 2]],
    unreachable: [[]],
    div: [[7, 2], [-7, 2], [1, 0], [-(2 ** 31), -1]],
    trunc: [[1.9], [-1.9], [NaN], [1e10], [-(2 ** 31)], [2 ** 31]],
  };
  const cases = [];
  for (const [name, list] of Object.entries(CALLS)) for (const args of list) cases.push([name, args]);

  test.each(cases)('%s(%p): the result or error of Node', (name, args) => {
    expectSteps([[`${name}(…)`, (e) => e[name](...args)]]);
  });

  // ToWebAssemblyValue(v, externref) takes every JS value.
  test('externref: primitives and undefined cross as in Node', () => {
    expectSteps([
      ['undefined', (e) => e.externref(undefined)],
      ['a string', (e) => e.externref('text')],
      ['a number', (e) => e.externref(1.5)],
      ['a boolean', (e) => e.externref(true)],
      ['a BigInt', (e) => e.externref(7n)],
      ['no argument', (e) => e.externref()],
    ]);
  });

  test('a funcref crosses as the same function object', () => {
    expectSteps([
      ['funcref(add)', (e) => e.funcref(e.add) === e.add],
      ['funcref(an exported JS import)', (e) => e.funcref(e.log) === e.log],
      ['the funcref global', (e) => e.fref.value === e.add],
    ]);
  });

  test('a wasm function of another instance keeps its identity through imports and tables', () => {
    const run = (W) => {
      const first = new W.Instance(new W.Module(EVERYTHING), everythingImports(W));
      const imports = everythingImports(W);
      imports.env.f = first.exports.i32;
      const second = new W.Instance(new W.Module(EVERYTHING), imports);
      imports.env.table.set(0, first.exports.add);
      return {
        reexported: second.exports.callF === first.exports.i32,
        call: second.exports.callF(41),
        tableGet: imports.env.table.get(0) === first.exports.add,
        throughWasm: second.exports.tableGet(0) === first.exports.add,
      };
    };
    expect(run(cranewasm)).toEqual(run(node));
  });
});

describe('calls into JS imports', () => {
  const withF = (f) => (W, calls) => {
    const imports = everythingImports(W, calls);
    imports.env.f = f;
    return imports;
  };
  const boom = new SyntaxError('from the import');

  test.each([
    ['returns a number', () => 3.9],
    ['returns a string', () => '12'],
    ['returns undefined', () => undefined],
    ['returns a BigInt', () => 1n],
    ['returns a Symbol', () => Symbol('r')],
    ['returns an object with valueOf', () => ({ valueOf: () => 9 })],
    ['returns an object whose valueOf throws', () => ({ valueOf() { throw boom; } })],
    ['throws', () => { throw boom; }],
    ['throws a primitive', () => { throw 42; }],
    ['is called with the wasm argument and an undefined this', function (x) { return this === undefined ? x + 1 : -1; }],
    ['is a bound function', Math.max.bind(null, 5)],
    ['is a class (not callable without new)', class {}],
  ])('an import that %s: the outcome of Node', (_, f) => {
    const run = (W) => runSteps(W, [['callF(3)', (e) => e.callF(3)]], { boom }, withF(f));
    expect(run(cranewasm)).toEqual(run(node));
  });

  test('the exception of an import reaches the caller as the same value', () => {
    for (const W of [node, cranewasm]) {
      const imports = everythingImports(W);
      imports.env.f = () => { throw boom; };
      const { exports } = new W.Instance(new W.Module(EVERYTHING), imports);
      expect(() => exports.callF(1)).toThrow(boom);
    }
  });

  test('reentrant calls: an import that calls back into wasm', () => {
    const run = (W) => {
      let exports;
      const imports = everythingImports(W);
      imports.env.f = (x) => (x > 0 ? exports.callF(x - 1) + x : 0);
      ({ exports } = new W.Instance(new W.Module(EVERYTHING), imports));
      return outcome(() => exports.callF(10));
    };
    expect(run(cranewasm)).toEqual(run(node));
  });
});

describe('traps', () => {
  test('each trap is a RuntimeError of the namespace with Node\'s message', () => {
    const steps = [
      ['unreachable', (e) => e.unreachable()],
      ['divide by zero', (e) => e.div(1, 0)],
      ['divide result unrepresentable', (e) => e.div(-(2 ** 31), -1)],
      ['float unrepresentable', (e) => e.trunc(NaN)],
      ['memory out of bounds', (e) => e.load(65536)],
      ['null entry in call_indirect', (e) => e.callIndirect(1, 0)],
      ['signature mismatch in call_indirect', (e, env) => { env.table.set(0, e.add); return e.callIndirect(1, 0); }],
      ['table index out of bounds in call_indirect', (e) => e.callIndirect(1, 5)],
      ['table.get out of bounds', (e) => e.tableGet(2)],
    ];
    const ours = expectSteps(steps);
    for (const [, result] of ours.results) expect(result.threw).toBe('RuntimeError');
    const err = outcome(() => new cranewasm.Instance(new cranewasm.Module(EVERYTHING), everythingImports(cranewasm)).exports.unreachable());
    expect(err.threw).toBe('RuntimeError');
  });

  test('the error is an instance of the namespace\'s RuntimeError', () => {
    for (const W of [node, cranewasm]) {
      const { exports } = new W.Instance(new W.Module(EVERYTHING), everythingImports(W));
      let caught;
      try {
        exports.unreachable();
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(W.RuntimeError);
      expect(caught).toBeInstanceOf(Error);
    }
  });

  test('unbounded recursion is a RangeError, and the instance stays usable', () => {
    expectSteps([
      ['recurse', (e) => e.recurse()],
      ['add afterwards', (e) => e.add(1, 2)],
    ]);
  });

  // Segments are applied in order; one out of bounds fails the instantiation with a RuntimeError.
  test.each([
    ['a data segment past the end of memory', () => {
      const b = new ModuleBuilder();
      b.memory({ min: 1 });
      return [...b.toBytes(), ...section(SECTION.data, vec([[0x00, OP.i32Const, ...sleb(65535), OP.end, ...vec([[1], [2]])]]))];
    }],
    ['an element segment past the end of a table', () => {
      const b = new ModuleBuilder();
      b.importFunction('env', 'f');
      b.table({ element: 'funcref', min: 1 });
      return [...b.toBytes(), ...section(SECTION.element, vec([[0x00, OP.i32Const, 1, OP.end, ...vec([[0]])]]))];
    }],
    ['an element segment in bounds', () => {
      const b = new ModuleBuilder();
      b.importFunction('env', 'f');
      b.table({ element: 'funcref', min: 2 });
      b.export('table', 'table', 0);
      return [...b.toBytes(), ...section(SECTION.element, vec([[0x00, OP.i32Const, 1, OP.end, ...vec([[0]])]]))];
    }],
  ])('%s: the outcome of Node', async (_, bytes) => {
    const imports = { env: { f() {} } };
    for (const path of Object.keys(PATHS)) {
      const module = new Uint8Array(bytes());
      expect(await run(path, cranewasm, module, imports)).toEqual(await run(path, node, module, imports));
    }
  });

  test('a trap in the start function rejects or throws as in Node', async () => {
    const b = new ModuleBuilder();
    b.startFunction(b.function([], [], [OP.unreachable]));
    const bytes = b.toBytes();
    for (const path of Object.keys(PATHS)) {
      const ours = await run(path, cranewasm, bytes);
      expect(ours).toEqual(await run(path, node, bytes));
      expect(ours.threw).toBe('RuntimeError');
    }
  });

  test('the start function runs during the call, before instantiate() returns, as in Node', async () => {
    const trace = async (W, source) => {
      const log = [];
      const imports = everythingImports(W);
      imports.env.log = (x) => log.push(`log ${x}`);
      const promise = W.instantiate(source(W), imports);
      log.push('returned');
      await promise;
      log.push('resolved');
      return log;
    };
    for (const source of [(W) => new W.Module(EVERYTHING), () => EVERYTHING]) {
      expect(await trace(cranewasm, source)).toEqual(await trace(node, source));
    }
  });
});

describe('memory, tables and globals shared between JS and wasm', () => {
  test('memory: stores, loads, size and grow from both sides', () => {
    expectSteps([
      ['store from wasm', (e) => e.store(8, 0x01020304)],
      ['read from JS', (e) => [...new Uint8Array(e.memory.buffer, 8, 4)]],
      ['write from JS', (e, env) => { new DataView(env.memory.buffer).setInt32(12, -2, true); }],
      ['load from wasm', (e) => e.load(12)],
      ['last word', (e) => e.load(65532)],
      ['size', (e) => e.size()],
      ['grow from wasm', (e) => e.grow(1)],
      ['byteLength after a grow from wasm', (e) => e.memory.buffer.byteLength],
      ['grow from JS', (e, env) => env.memory.grow(1)],
      ['size from wasm', (e) => e.size()],
      ['grow past the maximum from wasm', (e) => e.grow(5)],
      ['grow past the maximum from JS', (e) => e.memory.grow(5)],
      ['bytes kept', (e) => e.load(8)],
      ['the export is the import', (e, env) => e.memory === env.memory],
    ]);
  });

  test('a buffer taken before wasm grows memory is detached, as in Node', () => {
    expectSteps([
      ['old buffer after a grow from wasm', (e) => {
        const old = e.memory.buffer;
        e.grow(1);
        return [old.byteLength, old === e.memory.buffer, e.memory.buffer.byteLength];
      }],
    ]);
  });

  test('tables: set from JS, read from wasm, and the reverse', () => {
    const object = { held: true };
    expectSteps([
      ['the funcref table', (e) => [e.table.length, e.table.get(0), e.tableSize()]],
      ['set an export', (e) => e.table.set(1, e.callF)],
      ['call_indirect through it', (e) => e.callIndirect(5, 1)],
      ['get from wasm', (e) => e.tableGet(1)],
      ['set a JS function', (e) => e.table.set(1, () => 1)],
      ['grow from JS', (e) => e.table.grow(2, e.i32)],
      ['size from wasm', (e) => e.tableSize()],
      ['call the new entry', (e) => e.callIndirect(9, 3)],
      ['the externref table', (e) => [e.externs.length, e.externs.get(0)]],
      ['set from wasm', (e) => e.setExtern(0, object)],
      ['get from JS', (e) => e.externs.get(0)],
      ['set out of range from wasm', (e) => e.setExtern(3, object)],
      ['grow past its maximum', (e) => e.externs.grow(3, object)],
      ['grow to its maximum', (e) => e.externs.grow(2, object)],
      ['the export is the import', (e, env) => e.table === env.table],
    ], { object });
  });

  test('globals: values, types and mutability, from both sides', () => {
    expectSteps([
      ['the imported number as a Global', (e) => [e.baseGlobal.value, e.baseGlobal.valueOf(), e.base()]],
      ['it is immutable', (e) => { e.baseGlobal.value = 1; }],
      ['the imported Global is the export', (e, env) => e.counter === env.counter],
      ['bump from wasm', (e) => e.bump()],
      ['seen from JS', (e, env) => [env.counter.value, e.counter.value]],
      ['set from JS', (e, env) => { env.counter.value = 2n ** 63n - 1n; }],
      ['bump from wasm again (wraps)', (e) => e.bump()],
      ['set with a Number', (e) => { e.counter.value = 1; }],
      ['the own f64 global', (e) => [e.own.value, e.own.valueOf()]],
      ['set it from JS', (e) => { e.own.value = '2.25'; }],
      ['read it', (e) => e.own.value],
      ['the funcref global is immutable', (e) => { e.fref.value = null; }],
    ]);
  });

  test('an imported immutable global is read once, as a copy', () => {
    const run = (W) => {
      const imports = everythingImports(W);
      imports.env.base = new W.Global({ value: 'i32' }, 9);
      const { exports } = new W.Instance(new W.Module(EVERYTHING), imports);
      return [exports.base(), exports.baseGlobal === imports.env.base, exports.baseGlobal.value];
    };
    expect(run(cranewasm)).toEqual(run(node));
  });

  test.each([
    ['an i32 global for an i64 import', (W) => new W.Global({ value: 'i32', mutable: true }, 1)],
    ['an immutable Global for a mutable import', (W) => new W.Global({ value: 'i64' }, 1n)],
    ['a BigInt for a mutable import', () => 5n],
  ])('a global import of the wrong type: %s', async (_, value) => {
    const result = async (W) => {
      const imports = everythingImports(W);
      imports.env.counter = value(W);
      return asyncOutcome(() => W.instantiate(EVERYTHING, imports), describeResult(W));
    };
    const ours = await result(cranewasm);
    expect(ours).toEqual(await result(node));
    expect(ours.threw).toBe('LinkError');
  });

  test.each([
    ['a memory smaller than declared', (W) => ({ memory: new W.Memory({ initial: 0, maximum: 4 }) })],
    ['a memory without the declared maximum', (W) => ({ memory: new W.Memory({ initial: 1 }) })],
    ['a memory with a larger maximum', (W) => ({ memory: new W.Memory({ initial: 1, maximum: 5 }) })],
    ['a table smaller than declared', (W) => ({ table: new W.Table({ element: 'anyfunc', initial: 1 }) })],
    ['an externref table for a funcref import', (W) => ({ table: new W.Table({ element: 'externref', initial: 2 }, {}) })],
    ['a larger memory and table', (W) => ({
      memory: new W.Memory({ initial: 2, maximum: 3 }), table: new W.Table({ element: 'anyfunc', initial: 5, maximum: 9 }),
    })],
  ])('memory and table imports checked against their types: %s', async (_, replace) => {
    const result = async (W) => {
      const imports = everythingImports(W);
      Object.assign(imports.env, replace(W));
      return asyncOutcome(() => W.instantiate(EVERYTHING, imports), describeResult(W, importLabels(imports)));
    };
    expect(await result(cranewasm)).toEqual(await result(node));
  });
});

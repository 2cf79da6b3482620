// instantiate() and new Instance() against Node's built-in: the overloads, the importObject
// checks, and the JS API's "read the imports" (which Get happens when, which TypeError or
// LinkError for which value). Instantiation itself comes with the execution core; until then
// every path that gets past the checks must end in cranewasm's "not implemented yet" Error.
'use strict';

const { cranewasm, node, notImplemented, outcome, asyncOutcome } = require('./helpers/differential.js');
const { ModuleBuilder } = require('./helpers/wasm-builder.js');

const NOT_IMPLEMENTED = notImplemented('instantiation');
const EMPTY = new ModuleBuilder().toBytes();

// Imports in an order that lets cranewasm's checks run as far as Node's: function, global (not
// checked by cranewasm yet), table, memory (no cranewasm Table or Memory exists yet).
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

const run = (path, W, ...args) => asyncOutcome(() => PATHS[path](W, ...args));

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

  test('an importObject that Node accepts gets to "not implemented"', async () => {
    for (const imports of [[], [undefined], [{}], [() => {}], [new Proxy({}, {})]]) {
      expect(await run(path, node, EMPTY, ...imports)).not.toHaveProperty('threw');
      expect(await run(path, cranewasm, EMPTY, ...imports)).toEqual(NOT_IMPLEMENTED);
    }
    const functions = { env: { a() {}, c: class {} }, other: { b: Math.max.bind(Math) } };
    expect(await run(path, node, FUNCTIONS_ONLY, functions)).not.toHaveProperty('threw');
    expect(await run(path, cranewasm, FUNCTIONS_ONLY, functions)).toEqual(NOT_IMPLEMENTED);
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
    const theirs = await asyncOutcome(() => node.instantiate(bytes, { env: { x: VALUES[value](node) } }));
    const ours = await asyncOutcome(() => cranewasm.instantiate(bytes, { env: { x: VALUES[value](cranewasm) } }));
    // An externref global takes any value: Node instantiates, cranewasm reaches "not implemented".
    expect(ours).toEqual(theirs.threw ? theirs : NOT_IMPLEMENTED);
    if (kind === 'table' || kind === 'memory') expect(ours.threw).toBe('LinkError');
  });
});

describe('cranewasm cannot check yet what needs the import\'s type', () => {
  test('a global import of the wrong type is a LinkError in Node; cranewasm goes on to the next import', async () => {
    const imports = { env: { f() {}, g: 'not a number', t: {} } };
    expect(await run('instantiate(bytes)', node, IMPORTS, imports)).toEqual({
      threw: 'LinkError',
      message: 'WebAssembly.instantiate(): Import #1 module="env" function="g" error: global import must be a number, valid Wasm reference, or WebAssembly.Global object',
    });
    expect(await run('instantiate(bytes)', cranewasm, IMPORTS, imports)).toEqual({
      threw: 'LinkError',
      message: 'WebAssembly.instantiate(): Import #2 module="env" function="t" error: table import requires a WebAssembly.Table',
    });
  });

  test('Node\'s own Table and Memory objects are not cranewasm\'s', async () => {
    const imports = {
      env: { f() {}, g: 1, t: new node.Table({ element: 'anyfunc', initial: 1 }), m: new node.Memory({ initial: 1 }) },
    };
    expect(await run('instantiate(bytes)', node, IMPORTS, imports)).not.toHaveProperty('threw');
    expect(await run('instantiate(bytes)', cranewasm, IMPORTS, imports)).toEqual({
      threw: 'LinkError',
      message: 'WebAssembly.instantiate(): Import #2 module="env" function="t" error: table import requires a WebAssembly.Table',
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

describe('not implemented yet', () => {
  test('instantiate() rejects, new Instance() throws, with a plain Error', async () => {
    const rejected = await cranewasm.instantiate(EMPTY).catch((e) => e);
    expect(rejected.constructor).toBe(Error);
    expect(rejected.message).toBe('cranewasm: instantiation is not implemented yet');
    expect(outcome(() => new cranewasm.Instance(new cranewasm.Module(EMPTY)))).toEqual(NOT_IMPLEMENTED);
  });
});

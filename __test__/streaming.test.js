// compileStreaming() and instantiateStreaming() against Node's built-in, on fetch Responses made
// in memory (no network): the checks on the source and the Response, their error classes, codes
// and messages, the body read chunk by chunk, and what instantiateStreaming() makes.
'use strict';

const { cranewasm, node, asyncOutcome, describeInstantiated } = require('./helpers/differential.js');
const { ModuleBuilder, OP } = require('./helpers/wasm-builder.js');

const MODULE = (() => {
  const b = new ModuleBuilder();
  b.function([], [], []);
  b.export('streamed', 'function', 0);
  return b.toBytes();
})();
// Calls its import from the start function and from an export; exports a memory and a global.
const WITH_IMPORT = (() => {
  const b = new ModuleBuilder();
  const f = b.importFunction('env', 'f', ['i32'], ['i32']);
  b.startFunction(b.function([], [], [OP.i32Const, 3, 0x10, f, 0x1a]));
  b.export('twice', 'function', b.function(['i32'], ['i32'], [OP.localGet, 0, 0x10, f, OP.localGet, 0, 0x10, f, OP.i32Add]));
  b.memory({ min: 1, max: 2 });
  b.global({ type: 'i64' }, [OP.i64Const, 0x2a, OP.end]);
  b.export('memory', 'memory', 0).export('answer', 'global', 0);
  return b.toBytes();
})();
const TRAPS_ON_START = (() => {
  const b = new ModuleBuilder();
  b.startFunction(b.function([], [], [OP.unreachable]));
  return b.toBytes();
})();
const BAD_VERSION = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00]);

const WASM = { 'content-type': 'application/wasm' };
const response = (body, headers = WASM, init = {}) => new Response(body, { headers, ...init });

// A body that arrives in several chunks, one of them empty.
function chunked(bytes, cuts = [3, 3, 9]) {
  return new ReadableStream({
    start(controller) {
      let from = 0;
      for (const to of [...cuts, bytes.length]) {
        controller.enqueue(bytes.slice(from, to));
        from = to;
      }
      controller.close();
    },
  });
}

const SOURCES = {
  'no source': () => [],
  undefined: () => [undefined],
  null: () => [null],
  'a number': () => [1],
  'a long string': () => ['a string longer than twenty-eight characters'],
  "a string with a '": () => ["it's"],
  '-0': () => [-0],
  'a Symbol': () => [Symbol('source')],
  'a BigInt': () => [7n],
  'an anonymous function': () => [() => {}],
  'an object whose constructor has no name': () => [Object.create({ constructor: {} })],
  'a plain object': () => [{}],
  'an object without constructor name': () => [Object.create(null)],
  'the bytes': () => [MODULE],
  'a named function': () => [function fetchModule() {}],
  'a promise of a number': () => [Promise.resolve(5)],
  'a rejected promise': () => [Promise.reject(new URIError('network down'))],
  'a Response': () => [response(MODULE)],
  'a promise of a Response': () => [Promise.resolve(response(MODULE))],
  'a thenable of a Response': () => [{ then(resolve) { resolve(response(MODULE)); } }],
  'a Response subclass': () => [new (class MyResponse extends Response {})(MODULE, { headers: WASM })],
  'a chunked body': () => [response(chunked(MODULE))],
  'no Content-Type': () => [new Response(MODULE)],
  'Content-Type text/plain': () => [response(MODULE, { 'content-type': 'text/plain' })],
  'Content-Type in capitals': () => [response(MODULE, { 'content-type': 'Application/WASM' })],
  'Content-Type with parameters': () => [response(MODULE, { 'content-type': 'application/wasm; charset=utf-8' })],
  'Content-Type with surrounding spaces': () => [response(MODULE, { 'content-type': ' application/wasm ' })],
  'status 404': () => [response(MODULE, WASM, { status: 404 })],
  'status 404 and a wrong Content-Type': () => [response(MODULE, { 'content-type': 'text/html' }, { status: 500 })],
  'status 201': () => [response(MODULE, WASM, { status: 201 })],
  'a used body': () => {
    const r = response(MODULE);
    r.arrayBuffer();
    return [r];
  },
  'a locked body': () => {
    const r = response(MODULE);
    r.body.getReader();
    return [r];
  },
  'a body that errors': () => [response(new ReadableStream({ pull(c) { c.error(new RangeError('stream broke')); } }))],
  'Response.error()': () => [Response.error()],
  'a fake Response': () => [Object.create(Response.prototype)],
  'invalid bytes': () => [response(BAD_VERSION)],
  'invalid bytes in chunks': () => [response(chunked(BAD_VERSION, [1, 4]))],
};

// Outcomes whose error comes from the engine: Node's decoder words them differently.
const COMPILE_ERRORS = ['invalid bytes', 'invalid bytes in chunks'];

describe('compileStreaming()', () => {
  const describeModule = (W) => (module) => W.Module.exports(module);

  test.each(Object.keys(SOURCES))('%s: the outcome of Node', async (source) => {
    const ours = await asyncOutcome(() => cranewasm.compileStreaming(...SOURCES[source]()), describeModule(cranewasm));
    const theirs = await asyncOutcome(() => node.compileStreaming(...SOURCES[source]()), describeModule(node));
    if (COMPILE_ERRORS.includes(source)) {
      expect(theirs.threw).toBe('CompileError');
      expect(ours.threw).toBe('CompileError');
      expect(ours.message).toMatch(/^WebAssembly\.compileStreaming\(\): /);
    } else {
      expect(ours).toEqual(theirs);
    }
  });

  test('a Response compiles to a Module of cranewasm', async () => {
    const module = await cranewasm.compileStreaming(response(chunked(MODULE)));
    expect(module).toBeInstanceOf(cranewasm.Module);
    expect(cranewasm.Module.exports(module)).toEqual([{ name: 'streamed', kind: 'function' }]);
  });

  test('an empty body reaches the decoder: no "BufferSource argument is empty" here', async () => {
    for (const body of [null, new Uint8Array(0)]) {
      const ours = await asyncOutcome(() => cranewasm.compileStreaming(response(body)));
      expect((await asyncOutcome(() => node.compileStreaming(response(body)))).threw).toBe('CompileError');
      expect(ours.threw).toBe('CompileError');
      expect(ours.message).not.toContain('BufferSource argument is empty');
      expect(ours.message).toMatch(/^WebAssembly\.compileStreaming\(\): .* @\+0$/);
    }
  });

  test('Node\'s Response errors are TypeErrors of this realm with Node\'s codes', async () => {
    const notResponse = await cranewasm.compileStreaming(42).catch((e) => e);
    expect(notResponse).toBeInstanceOf(TypeError);
    expect(notResponse.code).toBe('ERR_INVALID_ARG_TYPE');
    const badType = await cranewasm.compileStreaming(response(MODULE, {})).catch((e) => e);
    expect(badType).toBeInstanceOf(TypeError);
    expect(badType).toMatchObject({ code: 'ERR_WEBASSEMBLY_RESPONSE', message: "WebAssembly response has unsupported MIME type 'null'" });
  });

  test('a rejected source passes its own error through', async () => {
    const reason = new URIError('network down');
    await expect(cranewasm.compileStreaming(Promise.reject(reason))).rejects.toBe(reason);
  });
});

describe('instantiateStreaming()', () => {
  test.each([
    ['a number importObject and a Response', () => [response(MODULE), 5]],
    ['a null importObject and no Response', () => [1, null]],
    ['no Response', () => [{}]],
    ['a wrong Content-Type', () => [response(MODULE, {}), {}]],
    ['missing imports', () => [response(WITH_IMPORT)]],
    ['a missing import module', () => [response(WITH_IMPORT), {}]],
    ['a non-callable function import', () => [response(WITH_IMPORT), { env: { f: 1 } }]],
  ])('%s: the error Node gives', async (_, args) => {
    const ours = await asyncOutcome(() => cranewasm.instantiateStreaming(...args()));
    const theirs = await asyncOutcome(() => node.instantiateStreaming(...args()));
    expect(['TypeError', 'LinkError']).toContain(theirs.threw);
    expect(ours).toEqual(theirs);
  });

  test('checks the importObject before the source', async () => {
    let awaited = false;
    const source = { then(resolve) { awaited = true; resolve(response(MODULE)); } };
    await cranewasm.instantiateStreaming(source, 'imports').catch(() => {});
    expect(awaited).toBe(false);
  });

  // { module, instance } with the exports of Node's; the import is called as Node calls it.
  test.each([
    ['a Response', () => [response(MODULE)]],
    ['a Response and an importObject', () => [response(MODULE), {}]],
    ['a chunked body and imports', () => [response(chunked(WITH_IMPORT)), { env: { f: (x) => x * 2 } }]],
    ['a promise of a Response and imports', () => [Promise.resolve(response(WITH_IMPORT)), { env: { f: (x) => x + 1 } }]],
  ])('%s: instantiates as Node does', async (_, args) => {
    const instantiate = async (W) => {
      const calls = [];
      const list = args();
      const imports = list[1] && list[1].env ? { env: { f: (x) => { calls.push(x); return list[1].env.f(x); } } } : list[1];
      const result = await asyncOutcome(() => W.instantiateStreaming(list[0], ...(list.length > 1 ? [imports] : [])), (value) => ({
        described: describeInstantiated(W, value),
        twice: value.instance.exports.twice && value.instance.exports.twice(5),
      }));
      return { result, calls };
    };
    const ours = await instantiate(cranewasm);
    expect(ours.result).not.toHaveProperty('threw');
    expect(ours).toEqual(await instantiate(node));
  });

  test('the module and instance are cranewasm\'s', async () => {
    const { module, instance } = await cranewasm.instantiateStreaming(response(chunked(WITH_IMPORT)), { env: { f: (x) => x } });
    expect(module).toBeInstanceOf(cranewasm.Module);
    expect(instance).toBeInstanceOf(cranewasm.Instance);
    expect(instance.exports.memory).toBeInstanceOf(cranewasm.Memory);
    expect(instance.exports.answer.value).toBe(42n);
  });

  test.each([
    ['a trap in the start function', () => [response(TRAPS_ON_START)]],
    ['an import that throws', () => [response(WITH_IMPORT), { env: { f() { throw new EvalError('from f'); } } }]],
    ['an import of the wrong type', () => [response(WITH_IMPORT), { env: { f: new cranewasm.Global({ value: 'i32' }) } }]],
  ])('%s: the error Node gives', async (_, args) => {
    const ours = await asyncOutcome(() => cranewasm.instantiateStreaming(...args()));
    const theirs = await asyncOutcome(() => node.instantiateStreaming(...args()));
    expect(theirs).toHaveProperty('threw');
    expect(ours).toEqual(theirs);
  });

  test('bad bytes are a CompileError before any import is read', async () => {
    const imports = { get env() { throw new Error('read too early'); } };
    const ours = await asyncOutcome(() => cranewasm.instantiateStreaming(response(BAD_VERSION), imports));
    expect(ours.threw).toBe('CompileError');
    expect(ours.message).toMatch(/^WebAssembly\.instantiateStreaming\(\): /);
  });
});

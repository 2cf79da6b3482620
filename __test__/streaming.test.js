// compileStreaming() and instantiateStreaming() against Node's built-in, on fetch Responses made
// in memory (no network): the checks on the source and the Response, their error classes, codes
// and messages, and the body read chunk by chunk.
'use strict';

const { cranewasm, node, notImplemented, asyncOutcome } = require('./helpers/differential.js');
const { ModuleBuilder } = require('./helpers/wasm-builder.js');

const MODULE = (() => {
  const b = new ModuleBuilder();
  b.function([], [], []);
  b.export('streamed', 'function', 0);
  return b.toBytes();
})();
const WITH_IMPORT = (() => {
  const b = new ModuleBuilder();
  b.importFunction('env', 'f');
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

  test('gets to "not implemented" where Node instantiates', async () => {
    for (const args of [[response(MODULE)], [response(chunked(WITH_IMPORT)), { env: { f() {} } }]]) {
      expect(await asyncOutcome(() => node.instantiateStreaming(...args.map((a) => (a instanceof Response ? a.clone() : a)))))
        .not.toHaveProperty('threw');
      expect(await asyncOutcome(() => cranewasm.instantiateStreaming(...args))).toEqual(notImplemented('instantiation'));
    }
  });

  test('bad bytes are a CompileError before any import is read', async () => {
    const imports = { get env() { throw new Error('read too early'); } };
    const ours = await asyncOutcome(() => cranewasm.instantiateStreaming(response(BAD_VERSION), imports));
    expect(ours.threw).toBe('CompileError');
    expect(ours.message).toMatch(/^WebAssembly\.instantiateStreaming\(\): /);
  });
});

// compileStreaming() and instantiateStreaming() against Node's built-in, on fetch Responses made
// in memory (no network): the checks on the source and the Response, their error classes, codes
// and messages, the body read chunk by chunk, and what instantiateStreaming() makes.
'use strict';

const { cranewasm, node, asyncOutcome, describeInstantiated } = require('./helpers/differential.js');
const { ModuleBuilder, OP } = require('./helpers/wasm-builder.js');

// Runs `body` with some compile options (cranewasm/engine), then restores the previous ones.
async function withCompileOptions(options, body) {
  const engine = require('../engine.js');
  const saved = engine.getCompileOptions();
  engine.setCompileOptions(options);
  try {
    return await body();
  } finally {
    engine.setCompileOptions(saved);
  }
}

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

// A body of these chunks, whatever they are.
function bodyOf(chunks) {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
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
  'a body with a string chunk': () => [response(bodyOf(['not bytes']))],
  'a body with a number chunk': () => [response(bodyOf([MODULE.slice(0, 8), 8]))],
  'a body with ArrayBuffer and DataView chunks': () => [response(bodyOf([MODULE.slice(0, 5).buffer, new DataView(MODULE.slice(5).buffer)]))],
  'a body of zeros in a Float64Array': () => [response(bodyOf([new Float64Array(2)]))],
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

// ---------------------------------------------------------------------------------------------
// Over HTTP: a local server sends modules in small chunks with pauses, stalls, cuts them short
// ---------------------------------------------------------------------------------------------

describe('streaming from a local HTTP server', () => {
  const path = require('path');
  const { execFileSync } = require('child_process');
  const binding = require('../binding.js');
  const { serve, sendInChunks, bigModule, sleep, WASM: WASM_TYPE } = require('./helpers/module-server.js');

  const stats = () => binding.streamingStats();
  // What units did since `before` (liveJobs left out: the collector decides when jobs go).
  const since = (before) => {
    const now = stats();
    return Object.fromEntries(Object.keys(now).filter((k) => k !== 'liveJobs').map((k) => [k, now[k] - before[k]]));
  };

  // Resolves when `condition()` holds, polling; fails after `ms`.
  async function until(what, condition, ms = 20000) {
    const deadline = Date.now() + ms;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(5);
    }
  }

  // What `promise` settles to (its rejection reason included), or `timedOut` after `ms`.
  async function within(ms, promise, timedOut) {
    let timer;
    const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve(timedOut), ms); });
    try {
      return await Promise.race([promise.catch((e) => e), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  // The outcome of a promise without waiting: 'pending' until it settles.
  function track(promise) {
    const state = { settled: false };
    promise.then(() => { state.settled = true; }, () => { state.settled = true; });
    return state;
  }

  // One server for the describe block; each test sets how it answers.
  let server;
  let answer;
  beforeAll(async () => {
    server = await serve((req, res) => answer(req, res));
  });
  afterAll(() => server.close());

  // The CompileError message of the non-streaming compile, as compileStreaming words it. (An
  // empty BufferSource is refused before decoding there; a body reaches the decoder, as on V8.)
  async function nonStreamingMessage(bytes) {
    if (bytes.length === 0) return `WebAssembly.compileStreaming(): ${binding.compileSync(bytes)}`;
    const error = await cranewasm.compile(bytes).catch((e) => e);
    expect(error).toBeInstanceOf(cranewasm.CompileError);
    return error.message.replace(/^WebAssembly\.compile\(\)/, 'WebAssembly.compileStreaming()');
  }

  // Eager compilation (lazy: false): every unit compiles its function as its body arrives.
  test('a 1 MB module sent in small delayed chunks compiles as it downloads, and runs as on Node', async () => {
    const engine = require('../engine.js');
    const saved = engine.getCompileOptions();
    engine.setCompileOptions({ lazy: false, tierUp: 'off' });
    try {
      const m = bigModule(1500, 100);
      expect(m.bytes.length).toBeGreaterThan(1e6);
      const before = stats();
      let compiledBeforeTheEnd;
      answer = async (req, res) => {
        res.writeHead(200, WASM_TYPE);
        // All but the last bytes of the code section, 64 to 1024 bytes at a time, with pauses.
        await sendInChunks(res, m.bytes.subarray(0, m.codeEnd - 100), { min: 64, max: 1024, delay: 1, every: 8 });
        // Then the download stalls until the job has compiled functions it already received.
        await until('units compiled during the download', () => since(before).compiled >= 100);
        compiledBeforeTheEnd = since(before).compiled;
        await sendInChunks(res, m.bytes.subarray(m.codeEnd - 100), { delay: 0 });
        res.end();
      };
      const { module, instance } = await cranewasm.instantiateStreaming(fetch(server.url));
      expect(compiledBeforeTheEnd).toBeGreaterThanOrEqual(100);
      expect(module).toBeInstanceOf(cranewasm.Module);
      expect(cranewasm.Module.exports(module)).toEqual([{ name: 'sum', kind: 'function' }]);
      // Every function in the default first tier (the single-pass one covers them all).
      expect(engine.compileStatus(module)).toMatchObject({ uncompiled: 0, [saved.firstTier]: 1501, fallbacks: 0 });
      expect(instance.exports.sum(3)).toBe(m.sum(3));
      // Every function was compiled by a unit as its body arrived: none was left for the end.
      expect(since(before)).toMatchObject({ bodies: 1501, validated: 1501, compiled: 1501, skipped: 0, pending: 0 });

      const theirs = await node.instantiateStreaming(fetch(server.url));
      expect(theirs.instance.exports.sum(3)).toBe(instance.exports.sum(3));
      expect(theirs.instance.exports.sum(-77)).toBe(instance.exports.sum(-77));
    } finally {
      engine.setCompileOptions(saved);
    }
  });

  // Lazy compilation (the default): the units validate each body as it arrives; functions are
  // compiled by their first call.
  test('with lazy compilation, bodies are validated as they download and compiled when called', async () => {
    const engine = require('../engine.js');
    const m = bigModule(1500, 100);
    const before = stats();
    let validatedBeforeTheEnd;
    answer = async (req, res) => {
      res.writeHead(200, WASM_TYPE);
      await sendInChunks(res, m.bytes.subarray(0, m.codeEnd - 100), { min: 64, max: 1024, delay: 1, every: 8 });
      await until('units validated during the download', () => since(before).validated >= 100);
      validatedBeforeTheEnd = since(before).validated;
      await sendInChunks(res, m.bytes.subarray(m.codeEnd - 100), { delay: 0 });
      res.end();
    };
    const { module, instance } = await cranewasm.instantiateStreaming(fetch(server.url));
    expect(validatedBeforeTheEnd).toBeGreaterThanOrEqual(100);
    expect(since(before)).toMatchObject({ bodies: 1501, validated: 1501, compiled: 0, skipped: 0, pending: 0 });
    expect(engine.compileStatus(module)).toMatchObject({ lazy: true, uncompiled: 1501 });
    expect(instance.exports.sum(3)).toBe(m.sum(3));
    expect(engine.compileStatus(module).uncompiled).toBeLessThan(1501);
    const theirs = await node.instantiateStreaming(fetch(server.url));
    expect(theirs.instance.exports.sum(-77)).toBe(instance.exports.sum(-77));
  });

  test('a CompileError is reported while the download stalls, as soon as it is certain', async () => {
    // Function #0 is invalid and named by a name section before the code: nothing that comes
    // later can change the error.
    const m = bigModule(300, 20, { badFunction: 0, names: 'before' });
    const expected = await nonStreamingMessage(m.bytes);
    expect(expected).toMatch(/^WebAssembly\.compileStreaming\(\): Compiling function #0:"f0" failed: .* @\+\d+$/);
    let release;
    const released = new Promise((resolve) => { release = resolve; });
    let clientLeft = false;
    answer = async (req, res) => {
      res.on('close', () => { clientLeft = !res.writableFinished; });
      res.writeHead(200, WASM_TYPE);
      await sendInChunks(res, m.bytes.subarray(0, m.bodies[10][1]), { min: 64, max: 1024, delay: 1 });
      await released; // stalls, until the test lets it go
      await sendInChunks(res, m.bytes.subarray(m.bodies[10][1]), { delay: 0 });
      res.end();
    };
    const outcome = await within(20000, cranewasm.compileStreaming(fetch(server.url)), 'still pending while the server stalls');
    expect(outcome).toBeInstanceOf(cranewasm.CompileError);
    expect(outcome.message).toBe(expected);
    // The rest of the body is not read: the client went away from the stalled response.
    await until('the client to leave', () => clientLeft);
    release();

    // Node's engine reports it at the end of the body, with the same class.
    const theirs = await asyncOutcome(() => node.compileStreaming(fetch(server.url)));
    expect(theirs.threw).toBe('CompileError');
    expect(theirs.message).toMatch(/^WebAssembly\.compileStreaming\(\): Compiling function #0:"f0" failed: /);
  });

  test('a malformed section is reported while the download stalls', async () => {
    const m = bigModule(300, 20);
    const bad = new Uint8Array([...m.bytes, 0x55, 0x01, 0x00, 0x01, 0x02]); // unknown section id
    const expected = await nonStreamingMessage(bad);
    let clientLeft = false;
    answer = async (req, res) => {
      res.on('close', () => { clientLeft = !res.writableFinished; });
      res.writeHead(200, WASM_TYPE);
      await sendInChunks(res, bad.subarray(0, bad.length - 2), { min: 64, max: 1024, delay: 1 });
      // The last bytes never come.
    };
    const outcome = await within(20000, cranewasm.compileStreaming(fetch(server.url)), 'still pending while the server stalls');
    expect(outcome).toBeInstanceOf(cranewasm.CompileError);
    expect(outcome.message).toBe(expected);
    await until('the client to leave', () => clientLeft);
  });

  test('a body error waits for the name section that may name its function, as the message depends on it', async () => {
    const m = bigModule(300, 20, { badFunction: 10, names: 'after' });
    const expected = await nonStreamingMessage(m.bytes);
    expect(expected).toContain('Compiling function #10:"f10" failed: ');
    let release;
    const released = new Promise((resolve) => { release = resolve; });
    answer = async (req, res) => {
      res.writeHead(200, WASM_TYPE);
      await sendInChunks(res, m.bytes.subarray(0, m.codeEnd), { min: 64, max: 1024, delay: 1 });
      await released;
      await sendInChunks(res, m.bytes.subarray(m.codeEnd), { delay: 0 });
      res.end();
    };
    const before = stats();
    const compiling = cranewasm.compileStreaming(fetch(server.url));
    const state = track(compiling);
    // Every body has arrived; the units after the bad one skip their work.
    await until('every body', () => since(before).bodies === 301);
    await until('the units', () => since(before).pending === 0);
    await sleep(200);
    expect(state.settled).toBe(false);
    expect(since(before).skipped).toBeGreaterThanOrEqual(280);
    release();
    const error = await compiling.catch((e) => e);
    expect(error).toBeInstanceOf(cranewasm.CompileError);
    expect(error.message).toBe(expected);
  });

  // Each case: how the server answers (or how the client fetches), then ours against Node's.
  const small = bigModule(300, 20);
  const middle = small.bytes.length >> 1;
  const badInTheMiddle = small.bytes.slice();
  badInTheMiddle.fill(0xff, middle, middle + 8);
  const sendHalfThen = (then) => async (req, res) => {
    res.writeHead(200, WASM_TYPE);
    await sendInChunks(res, small.bytes.subarray(0, middle), { min: 64, max: 512, delay: 1 });
    then(res);
  };
  const cases = {
    'bad bytes in the middle': {
      answer: async (req, res) => {
        res.writeHead(200, WASM_TYPE);
        await sendInChunks(res, badInTheMiddle, { min: 64, max: 512, delay: 1 });
        res.end();
      },
      compileError: badInTheMiddle,
    },
    'a truncated body': { answer: sendHalfThen((res) => res.end()), compileError: small.bytes.subarray(0, middle) },
    'an empty body': {
      answer: (req, res) => { res.writeHead(200, WASM_TYPE); res.end(); },
      compileError: new Uint8Array(0),
    },
    'the server destroying the socket mid-body (a network error)': { answer: sendHalfThen((res) => res.socket.destroy()) },
    'an AbortController aborting mid-body': {
      answer: sendHalfThen(() => {}), // stalls
      fetch: (url) => {
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 300);
        return fetch(url, { signal: controller.signal });
      },
    },
    'a wrong Content-Type': {
      answer: (req, res) => { res.writeHead(200, { 'content-type': 'application/octet-stream' }); res.end(Buffer.from(small.bytes)); },
    },
    'a response that is not ok': {
      answer: (req, res) => { res.writeHead(500, WASM_TYPE); res.end(Buffer.from(small.bytes)); },
    },
    'a used body': {
      answer: (req, res) => { res.writeHead(200, WASM_TYPE); res.end(Buffer.from(small.bytes)); },
      fetch: async (url) => {
        const response = await fetch(url);
        await response.arrayBuffer();
        return response;
      },
    },
    'the URL instead of a Response': { fetch: (url) => url },
  };

  test.each(Object.keys(cases))('%s: the outcome of Node', async (name) => {
    const c = cases[name];
    answer = c.answer || ((req, res) => res.end());
    const source = () => (c.fetch || fetch)(server.url);
    const ours = await asyncOutcome(() => cranewasm.compileStreaming(source()));
    const theirs = await asyncOutcome(() => node.compileStreaming(source()));
    if (c.compileError) {
      // The engines' decoders word their errors differently: the class is Node's, the message
      // that of our non-streaming compile of the same bytes.
      expect(theirs.threw).toBe('CompileError');
      expect(ours).toEqual({ threw: 'CompileError', message: await nonStreamingMessage(c.compileError) });
    } else {
      expect(theirs).toHaveProperty('threw');
      expect(ours).toEqual(theirs);
    }
  });

  // Units that compile (eager, optimizing tier) are slow enough for a backlog to build up
  // behind the download, which the abort must then skip.
  test('an aborted 10 MB download stops its job: queued units are skipped and the compile threads go idle', () => withCompileOptions({ lazy: false, firstTier: 'optimized', tierUp: 'off' }, async () => {
    const m = bigModule(15000, 100);
    expect(m.bytes.length).toBeGreaterThan(10e6);
    answer = async (req, res) => {
      res.writeHead(200, WASM_TYPE);
      await sendInChunks(res, m.bytes.subarray(0, 4e6), { min: 65536, max: 65536, delay: 0 });
      // The rest never comes.
    };
    const before = stats();
    const controller = new AbortController();
    const compiling = cranewasm.compileStreaming(fetch(server.url, { signal: controller.signal }));
    await until('bodies to be decoded', () => since(before).bodies >= 3000);
    controller.abort();
    const error = await compiling.catch((e) => e);
    expect(error.name).toBe('AbortError');
    expect(error.constructor.name).toBe('DOMException');
    // Only the units running at the abort finish their function.
    await until('the units to stop', () => since(before).pending === 0, 5000);
    const after = since(before);
    expect(after.skipped).toBeGreaterThan(2000);
    expect(after.validated + after.skipped).toBe(after.bodies);
    // Nothing runs any more: the compile threads are idle.
    const cpu = process.cpuUsage();
    await sleep(500);
    const used = process.cpuUsage(cpu);
    expect((used.user + used.system) / 1000).toBeLessThan(150);
    expect(since(before)).toEqual(after);
  }));

  test('a 10 MB module with an early bad body stops compiling at the error', () => withCompileOptions({ lazy: false, firstTier: 'optimized', tierUp: 'off' }, async () => {
    const m = bigModule(15000, 100, { badFunction: 50 });
    const expected = await nonStreamingMessage(m.bytes);
    answer = async (req, res) => {
      res.writeHead(200, WASM_TYPE);
      await sendInChunks(res, m.bytes, { min: 65536, max: 65536, delay: 0 });
      res.end();
    };
    const before = stats();
    const error = await cranewasm.compileStreaming(fetch(server.url)).catch((e) => e);
    expect(error).toBeInstanceOf(cranewasm.CompileError);
    expect(error.message).toBe(expected);
    const after = since(before);
    expect(after.bodies).toBeLessThanOrEqual(15001);
    // The 50 functions before the bad one, and at most one more per compile thread that was
    // already past its checks when the error was found.
    expect(after.compiled).toBeLessThan(60);
    expect(after.validated).toBeLessThan(200);
    expect(after.skipped).toBeGreaterThan(14000);
    expect(after.pending).toBe(0);
  }));

  test('200 aborted and failed jobs leave nothing behind (RSS flat, no native job alive)', () => {
    const driver = path.join(__dirname, 'helpers', 'streaming-driver.js');
    const output = execFileSync(process.execPath, ['--expose-gc', driver, 'failedJobs'], { encoding: 'utf8', timeout: 110000 });
    const result = JSON.parse(output);
    if (result.error) throw new Error(result.error);
    expect(result).toMatchObject({ requests: 300, liveJobs: 0, pending: 0 });
    expect(result.skipped).toBeGreaterThan(10000);
    expect(result.rssAfterMiB - result.rssBeforeMiB).toBeLessThan(48);
  });
});

// Workloads of programs and packages that need WebAssembly exception handling, run by
// package-driver.js (once per engine, each in a process of its own) for eh-programs.test.js.
//
//   exprcalc, exprcalc-O0, ledger  C++ built with em++ -fwasm-exceptions (fixtures/eh/, built by
//                                  scripts/build-eh-fixtures.sh): legacy try/catch/catch_all/
//                                  rethrow/delegate, thrown and caught for real
//   jsonq                          C built with -sSUPPORT_LONGJMP=wasm: setjmp/longjmp as wasm
//                                  exceptions
//   *-exnref                       the same three with the standard instructions (try_table,
//                                  throw_ref, exnref), translated by binaryen
//   web-ifc                        npm web-ifc (Emscripten C++, -fwasm-exceptions), unmodified
//   automerge-sync                 npm @automerge/automerge (Rust wasm-bindgen, panic=unwind:
//                                  legacy EH, WebAssembly.Tag), unmodified: concurrent edits,
//                                  merge, conflicts, the sync protocol, errors
//
// Each workload gets { engine } (the global WebAssembly namespace of the run) and returns a
// JSON-able output that must be identical on both engines.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'eh');
const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');

// How an error that reached JS looks, engine-independently: its class (by the engine's own
// classes for wasm exceptions), its message, and for a JS error thrown through wasm whether it
// came out as the very same object.
function describeError(err, engine, original) {
  return {
    isWasmException: err instanceof engine.Exception,
    isError: err instanceof Error,
    constructor: err && err.constructor ? err.constructor.name : typeof err,
    message: err instanceof Error ? err.message : null,
    sameObject: original === undefined ? undefined : err === original,
  };
}

// --- exprcalc: calculator whose errors are C++ exceptions ---

// The glue loads its own .wasm unless handed other bytes (the exnref translation) as wasmBinary.
const binary = (wasmFile) => (wasmFile ? { wasmBinary: fs.readFileSync(path.join(FIXTURES, wasmFile)) } : {});

async function exprcalc({ engine }, file = 'exprcalc.js', wasmFile = undefined) {
  const create = require(path.join(FIXTURES, file));
  let M;
  const hostErrors = {};
  const hosts = {
    sq: (x) => x * x,
    // Calls back into wasm; for 0 the nested activation throws DivisionByZero, which must cross
    // this JS frame and be caught by the outer wasm activation's handler.
    inner: (x) => evalOrThrow(x === 0 ? 'x / 0' : `x * ${x}`),
    // Alternating wasm/JS frames: deep(n) evaluates deep(n - 1) in a nested activation; at the
    // bottom an UnknownName is thrown through all of them.
    deep: (n) => evalOrThrow(n > 0 ? `1 + deep(${n - 1})` : 'nothing_here'),
    // The nested activation catches its own error (calc_eval), and this frame goes on.
    caught: (x) => Number(evaluate(`${x} / 0`).length),
    // A JS exception thrown through wasm frames (whose C++ cleanups run on the way) to the caller.
    jsfail: () => {
      hostErrors.jsfail = new RangeError('host says no');
      throw hostErrors.jsfail;
    },
  };
  M = await create({ callHost: (name, x) => hosts[name](x), ...binary(wasmFile) });
  const evaluate = (src) => M.ccall('calc_eval', 'string', ['string'], [src]);
  const evalOrThrow = (src) => M.ccall('calc_eval_or_throw', 'number', ['string'], [src]);
  const counters = () => ({
    live: M.ccall('calc_live_guards', 'number'),
    context: M.ccall('calc_context_depth', 'number'),
    destroyed: M.ccall('calc_destroyed_guards', 'number'),
  });

  const output = { evaluations: {}, counters: [] };
  const expressions = [
    '1 + 2 * 3', '(1 + 2) * 3 - -4', 'x * y', 'let z = 5 in z * z + x', 'let a = 2 in let b = a * 3 in b / a',
    '7 % 4 + pi', '1 / 0', '8 % 0', 'q + 1', '1 + (2', '.', '2 +* 3', '1 2', 'let = 3', 'let k = 1 on k',
    `${'('.repeat(150)}1${')'.repeat(150)}`, `${'('.repeat(300)}1${')'.repeat(300)}`, 'abort', '3 * abort',
    'sq(7)', 'sq(sq(2) + 1)', 'inner(2)', 'inner(0)', 'deep(3)', 'deep(100)', 'caught(5) + 1', '',
  ];
  for (const src of expressions) {
    output.evaluations[src.length > 40 ? `${src.slice(0, 20)}…(${src.length})` : src] = evaluate(src);
  }
  output.counters.push(counters());

  // A JS exception through wasm: the caller gets the same object, and the guards were destroyed.
  try {
    evaluate('1 + sq(jsfail(2))');
    output.jsThroughWasm = 'no exception';
  } catch (err) {
    output.jsThroughWasm = describeError(err, engine, hostErrors.jsfail);
  }
  output.counters.push(counters());

  // An uncaught C++ exception escapes to JS as a WebAssembly.Exception; the module still works.
  for (const src of ['1 / 0', '(1 + ', 'missing * 2', 'abort', 'deep(5)']) {
    try {
      output[`escaped ${src}`] = evalOrThrow(src);
    } catch (err) {
      output[`escaped ${src}`] = describeError(err, engine);
    }
  }
  output.afterEscapes = evaluate('sq(3) + 1');
  output.counters.push(counters());

  output.batch = M.ccall('calc_batch', 'string', ['string'], ['1 + 1\n1 / 0\nfoo\n(2\n3 * 3\nsq(4)\ninner(0)']);
  output.batchNoErrors = M.ccall('calc_batch', 'string', ['string'], ['1\n2']);
  output.annotations = M.ccall('calc_annotations', 'string');
  output.counters.push(counters());
  return output;
}

// --- ledger: transactional ledger, library exceptions, partial construction ---

async function ledger(context, wasmFile = 'ledger.wasm') {
  const create = require(path.join(FIXTURES, 'ledger.js'));
  // This Emscripten's loader would fetch() the .wasm by path under Node 18+; handing it the bytes
  // is the documented way around that (it then calls WebAssembly.instantiate(bytes, imports)).
  const M = await create(binary(wasmFile));
  const batch = (text) => M.ccall('ledger_batch', 'string', ['string'], [text]);
  const output = { batches: {} };
  const batches = [
    'open alice;open bob;deposit alice 100',
    'transfer alice bob 30;transfer bob alice 50',
    'open carol;deposit carol 5;transfer carol alice 6',
    'deposit dave 1',
    'deposit alice 12x',
    'deposit alice abc',
    'open carol;freeze bob;transfer alice bob 1',
    'open alice',
    '',
    'fly away',
    'deposit alice 99999999999999999999999',
    'open erin;deposit erin 40;transfer erin bob 15;freeze erin',
    'transfer bob alice 15;deposit erin 1',
  ];
  for (const text of batches) output.batches[text] = batch(text);
  output.libraryErrors = M.ccall('ledger_library_errors', 'string').split(',');
  output.partialConstruction = M.ccall('ledger_partial_construction', 'string');
  output.throwLoop = M.ccall('ledger_throw_loop', 'number', ['number', 'number'], [3000, 12]);
  output.throwDeep = M.ccall('ledger_throw_loop', 'number', ['number', 'number'], [30, 1000]);
  output.unwindLog = M.ccall('ledger_unwind_log', 'string');
  output.liveTracked = M.ccall('ledger_live_tracked', 'number');
  return output;
}

// --- jsonq: JSON parser and queries in C, errors raised with longjmp (wasm EH underneath) ---

async function jsonq(context, wasmFile = undefined) {
  const create = require(path.join(FIXTURES, 'jsonq.js'));
  let M;
  const hosts = {
    double: (x) => x * 2,
    // A protected query in a nested activation: its error stays there.
    nested: (x) => M.ccall('jsonq_query', 'string', ['string'], [x > 0 ? '.list[99]' : '.n']).length,
    // An unprotected one: its longjmp crosses this JS frame to the caller's protected call.
    raw: (x) => M.ccall('jsonq_query_raw', 'number', ['string'], [x > 5 ? '.nope' : '.n']),
  };
  M = await create({ callHost: (name, x) => hosts[name](x), ...binary(wasmFile) });
  const load = (text) => M.ccall('jsonq_load', 'string', ['string'], [text]);
  const query = (q) => M.ccall('jsonq_query', 'string', ['string'], [q]);
  const state = () => ({
    arena: M.ccall('jsonq_arena_used', 'number'),
    protectDepth: M.ccall('jsonq_protect_depth', 'number'),
    raised: M.ccall('jsonq_raised', 'number'),
  });
  const output = { loads: {}, queries: {}, states: [] };
  const doc = '{"n": 7, "list": [1, 2.5, {"deep": [[[[true]]]]}], "name": "jsonq", "empty": {}, "none": null}';
  const documents = {
    bad1: '{"a": [1, 2,, 3]}',
    bad2: '{"a": "unterminated',
    bad3: '[1 2]',
    bad4: '{"a" 1}',
    bad5: `${'['.repeat(600)}${']'.repeat(600)}`,
    bad6: '[1, 2] x',
    bad7: `[${Array.from({ length: 70 }, (_, i) => i).join(',')}]`,
    deep: `${'['.repeat(400)}42${']'.repeat(400)}`,
    good: doc,
  };
  for (const [name, text] of Object.entries(documents)) {
    output.loads[name] = load(text);
    output.states.push(state()); // a failed parse left the arena as it was
  }
  for (const q of ['.n', '.list[1]', '.list[2].deep[0][0][0][0]', '.list', '.empty', '.none', '.name.x', '.missing',
    '.list[3]', '.list[-1]', '.n[0]', '?', '.n|host:double', '.list[0]|host:nested', '.n|host:raw',
    '.list[0]|host:raw', '.name|host:double']) {
    output.queries[q] = query(q);
  }
  output.states.push(state());
  return output;
}

// --- web-ifc: open an IFC model, read entities, triangulate geometry, save and reopen ---

async function webIfc() {
  const WebIFC = require('web-ifc');
  const api = new WebIFC.IfcAPI();
  await api.Init();
  api.SetLogLevel(WebIFC.LogLevel.LOG_LEVEL_OFF);
  const source = fs.readFileSync(path.join(FIXTURES, 'building.ifc'));
  const output = {};
  const model = api.OpenModel(new Uint8Array(source));
  output.schema = api.GetModelSchema(model);
  output.maxExpressId = api.GetMaxExpressID(model);
  output.types = api.GetAllTypesOfModel(model).map((t) => t.typeName).sort();
  output.walls = [];
  const walls = api.GetLineIDsWithType(model, WebIFC.IFCWALL);
  for (let i = 0; i < walls.size(); i++) output.walls.push(api.GetLine(model, walls.get(i)));
  output.slab = api.GetLine(model, 62, true);
  output.missingLine = api.GetLine(model, 999) ?? null;
  output.header = api.GetHeaderLine(model, WebIFC.FILE_NAME);
  output.meshes = [];
  api.StreamAllMeshes(model, (mesh) => {
    const geometries = [];
    for (let i = 0; i < mesh.geometries.size(); i++) {
      const placed = mesh.geometries.get(i);
      const geometry = api.GetGeometry(model, placed.geometryExpressID);
      const vertices = api.GetVertexArray(geometry.GetVertexData(), geometry.GetVertexDataSize());
      const indices = api.GetIndexArray(geometry.GetIndexData(), geometry.GetIndexDataSize());
      geometries.push({
        expressID: placed.geometryExpressID,
        vertices: vertices.length,
        indices: indices.length,
        // rounded, so that agreement does not hang on the last bit of a float sum
        extent: [0, 1, 2].map((axis) => {
          let min = Infinity;
          let max = -Infinity;
          for (let v = axis; v < vertices.length; v += 6) {
            min = Math.min(min, vertices[v]);
            max = Math.max(max, vertices[v]);
          }
          return [Math.round(min * 1000) / 1000, Math.round(max * 1000) / 1000];
        }),
        transform: Array.from(placed.flatTransformation, (x) => Math.round(x * 1e6) / 1e6),
        indexHash: sha256(Buffer.from(indices.buffer, indices.byteOffset, indices.byteLength)),
      });
      geometry.delete();
    }
    output.meshes.push({ expressID: mesh.expressID, geometries });
  });
  const saved = api.SaveModel(model);
  output.savedLength = saved.length;
  api.CloseModel(model);
  const reopened = api.OpenModel(saved);
  output.reopened = { max: api.GetMaxExpressID(reopened), wall: api.GetLine(reopened, 46) };
  api.CloseModel(reopened);
  return output;
}

// --- @automerge/automerge: CRDT documents, concurrent edits, merge, save/load, sync, errors ---

async function automerge() {
  const A = require('@automerge/automerge');
  const actor = (c) => c.repeat(32);
  // Every change has a fixed time (A.from's would be the clock's, and with it hashes and heads).
  const make = (initial, c) => A.change(A.init({ actor: actor(c) }), { time: 0 }, (d) => Object.assign(d, initial));
  const output = {};
  let alice = make({ title: 'shopping', items: [], done: {} }, 'a');
  alice = A.change(alice, { time: 0, message: 'first' }, (d) => {
    d.items.push('milk', 'bread');
    d.count = new A.Counter(1);
  });
  let bob = A.clone(alice, { actor: actor('b') });
  bob = A.change(bob, { time: 0 }, (d) => {
    d.items.insertAt(1, 'eggs');
    d.count.increment(5);
    d.done.milk = true;
  });
  alice = A.change(alice, { time: 0 }, (d) => {
    d.items.unshift('apples');
    d.count.decrement(2);
    d.title = 'groceries';
  });
  let text = make({ t: 'hello world' }, 'c');
  text = A.change(text, { time: 0 }, (d) => A.splice(d, ['t'], 5, 0, ','));
  const merged = A.merge(alice, bob);
  output.merged = JSON.parse(JSON.stringify(merged));
  output.heads = A.getHeads(merged);
  output.history = A.getHistory(merged).map((state) => state.change.message ?? null);
  const saved = A.save(merged);
  output.saved = { length: saved.length, sha256: sha256(saved) };
  output.loaded = JSON.parse(JSON.stringify(A.load(saved)));
  output.text = text.t;
  output.conflicts = A.getConflicts(A.merge(
    A.change(A.clone(alice, { actor: actor('d') }), { time: 0 }, (d) => { d.title = 'left'; }),
    A.change(A.clone(alice, { actor: actor('e') }), { time: 0 }, (d) => { d.title = 'right'; }),
  ), 'title');

  // The sync protocol between two peers until quiescent.
  let left = make({ n: 1 }, 'f');
  let right = A.init({ actor: actor('0') });
  let leftState = A.initSyncState();
  let rightState = A.initSyncState();
  let rounds = 0;
  for (; rounds < 10; rounds++) {
    let message;
    [leftState, message] = A.generateSyncMessage(left, leftState);
    if (message) [right, rightState] = A.receiveSyncMessage(right, rightState, message);
    let reply;
    [rightState, reply] = A.generateSyncMessage(right, rightState);
    if (reply) [left, leftState] = A.receiveSyncMessage(left, leftState, reply);
    if (!message && !reply) break;
  }
  output.sync = { rounds, right: JSON.parse(JSON.stringify(right)) };

  const errors = {
    load: () => A.load(new Uint8Array([1, 2, 3, 4, 5])),
    insertAt: () => A.change(merged, (d) => { d.items.insertAt(100, 'x'); }),
    undefinedValue: () => A.change(merged, (d) => { d.bad = undefined; }),
    symbol: () => A.from({ s: Symbol('x') }),
    bigint: () => A.from({ n: 10n ** 30n }),
    splice: () => A.change(text, (d) => A.splice(d, ['t'], 99, 0, 'z')),
    outdated: () => A.change(alice, () => {}) && A.change(alice, () => {}),
  };
  output.errors = {};
  for (const [name, run] of Object.entries(errors)) {
    try {
      run();
      output.errors[name] = 'no error';
    } catch (err) {
      output.errors[name] = `${err.constructor.name}: ${err.message}`;
    }
  }
  return output;
}

module.exports = {
  exprcalc: (context) => exprcalc(context, 'exprcalc.js'),
  'exprcalc-O0': (context) => exprcalc(context, 'exprcalc-O0.js'),
  ledger: (context) => ledger(context),
  jsonq: (context) => jsonq(context),
  // The same programs with standard exception handling (try_table/throw_ref/exnref).
  'exprcalc-exnref': (context) => exprcalc(context, 'exprcalc.js', 'exprcalc-exnref.wasm'),
  'ledger-exnref': (context) => ledger(context, 'ledger-exnref.wasm'),
  'jsonq-exnref': (context) => jsonq(context, 'jsonq-exnref.wasm'),
  'web-ifc': webIfc,
  'automerge-sync': automerge,
};

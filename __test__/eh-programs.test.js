// Programs and packages that need WebAssembly exception handling, unmodified, on cranewasm: each
// workload (helpers/eh-workloads.js) runs once with `require('cranewasm/register')` loaded first
// and once on Node's built-in WebAssembly, each in a fresh process (helpers/package-driver.js),
// and the outputs must be identical, as must the use of the JS API (calls made, objects created).
//
//   exprcalc, exprcalc-O0  C++ (fixtures/eh/src/exprcalc.cpp), em++ -fwasm-exceptions at -O2 and
//                          -O0, synchronous new Module / new Instance
//   ledger                 C++ (fixtures/eh/src/ledger.cpp), em++ -O2 -fwasm-exceptions,
//                          WebAssembly.instantiate
//   jsonq                  C (fixtures/eh/src/jsonq.c), setjmp/longjmp as wasm exceptions
//                          (emcc -sSUPPORT_LONGJMP=wasm)
//   *-exnref               those three translated to the standard try_table/throw_ref/exnref
//   web-ifc                npm web-ifc 0.0.78: Emscripten C++ built with -fwasm-exceptions
//   @automerge/automerge   npm @automerge/automerge 3.5.0: Rust through wasm-bindgen with
//                          panic=unwind (legacy EH instructions; its glue makes WebAssembly.Tags)
//
// The fixtures were built by scripts/build-eh-fixtures.sh (Emscripten 3.1.6, legacy EH
// instructions, which Node 20's V8 runs); CI uses the committed builds.
'use strict';

const { execFile } = require('child_process');
const fs = require('fs');
const path = require('path');
const { promisify } = require('util');

const ROOT = path.join(__dirname, '..');
const DRIVER = path.join(__dirname, 'helpers', 'package-driver.js');
const FIXTURES = path.join(__dirname, 'fixtures', 'eh');
const execFileAsync = promisify(execFile);

// env: cranewasm's options from the environment, e.g. a tier (see README).
async function drive(engine, workload, env = {}) {
  try {
    const { stdout } = await execFileAsync(process.execPath, [DRIVER, engine, workload], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      maxBuffer: 64 << 20,
      timeout: 60000,
    });
    return JSON.parse(stdout);
  } catch (err) {
    // Show what the program said on that engine (a CompileError, a crash) rather than only
    // "Command failed".
    const said = String(err.stderr || err.message).split('\n')
      .filter((line) => line.length < 400 && !/^\s+at /.test(line)); // (minified glue, stack)
    const how = err.signal ? ` (killed by ${err.signal})` : '';
    throw new Error(`${workload} on ${engine} ${JSON.stringify(env)} failed${how}:\n${said.slice(0, 12).join('\n')}`);
  }
}

// Runs all, waits for all, and reports the first failure.
async function settle(promises) {
  const runs = await Promise.allSettled(promises);
  for (const run of runs) if (run.status === 'rejected') throw run.reason;
  return runs.map((run) => run.value);
}

// Both engines side by side (each its own process); both finish before a failure is reported.
const driveBoth = (workload, nodeWorkload = workload) => settle([drive('cranewasm', workload), drive('node', nodeWorkload)]);

// The workload really ran on the engine of that process: the global was that engine's
// namespace, and every Module and Instance it made is of that engine.
function expectRanOn(report, engine) {
  expect(report.engine.name).toBe(engine);
  expect(report.engine.globalIsCranewasm).toBe(engine === 'cranewasm');
  expect(report.engine.globalIsNode).toBe(engine === 'node');
  for (const kind of ['Module', 'Instance']) {
    const entry = report.engine.created[kind];
    expect(entry).toBeDefined();
    expect(entry.count).toBeGreaterThan(0);
    expect(entry).toEqual({ count: entry.count, ofEngine: entry.count, ofOther: 0 });
  }
}

function expectSameRun(cranewasm, node) {
  expectRanOn(cranewasm, 'cranewasm');
  expectRanOn(node, 'node');
  expect(cranewasm.engine.calls).toEqual(node.engine.calls);
  expect(cranewasm.engine.created).toEqual(node.engine.created);
  expect(cranewasm.engine.memoryBytes).toEqual(node.engine.memoryBytes);
  expect(cranewasm.output).toEqual(node.output);
}

// The fixture modules use exception handling, and Node's engine accepts them.
test('the fixtures use exception handling and validate on Node', () => {
  for (const file of ['exprcalc.wasm', 'exprcalc-O0.wasm', 'ledger.wasm', 'jsonq.wasm']) {
    const bytes = fs.readFileSync(path.join(FIXTURES, file));
    expect(bytes.length).toBeLessThan(1 << 20);
    const nodeWebAssembly = globalThis.WebAssembly;
    expect(nodeWebAssembly.validate(bytes)).toBe(true);
    // A tag section (id 13) is present: the C++ exception tag.
    const sections = [];
    for (let offset = 8; offset < bytes.length;) {
      const id = bytes[offset++];
      let size = 0;
      for (let shift = 0; ; shift += 7) {
        const byte = bytes[offset++];
        size |= (byte & 0x7f) << shift;
        if (!(byte & 0x80)) break;
      }
      sections.push(id);
      offset += size;
    }
    expect(sections).toContain(13);
  }
});

test('cranewasm validates the fixtures', () => {
  const cranewasm = require('..');
  for (const file of ['exprcalc.wasm', 'exprcalc-O0.wasm', 'ledger.wasm', 'jsonq.wasm']) {
    expect(cranewasm.validate(fs.readFileSync(path.join(FIXTURES, file)))).toBe(true);
  }
});

const EXPRCALC = {
  '1 + 2 * 3': 'ok 7',
  'let z = 5 in z * z + x': 'ok 28',
  '1 / 0': 'DivisionByZero: division by zero',
  'q + 1': 'UnknownName: q',
  '1 + (2': "ParseError: expected ')' at 6",
  abort: 'Abort: 5',
  'sq(sq(2) + 1)': 'ok 25',
  'inner(2)': 'ok 6',
  'inner(0)': 'DivisionByZero: division by zero', // thrown in a nested activation, across JS
  'deep(100)': 'UnknownName: nothing_here', // through 101 alternating JS and wasm activations
  'caught(5) + 1': 'ok 33',
};

for (const workload of ['exprcalc', 'exprcalc-O0']) {
  test(`${workload} (C++ -fwasm-exceptions): errors thrown, rethrown, nested and across JS frames`, async () => {
    const [cranewasm, node] = await driveBoth(workload);
    expectSameRun(cranewasm, node);
    expect(cranewasm.engine.calls).toEqual({ 'new Module': 1, 'new Instance': 1 });

    // Known answers, so that agreement is not agreement on a broken run.
    const { output } = cranewasm;
    for (const [src, result] of Object.entries(EXPRCALC)) expect(output.evaluations[src]).toBe(result);
    expect(output.evaluations['((((((((((((((((((((…(601)']).toBe('DepthError: nesting too deep at 201');
    // Every RAII guard was destroyed on every path, including a JS exception through wasm.
    for (const counters of output.counters) expect(counters).toMatchObject({ live: 0, context: 0 });
    expect(output.jsThroughWasm).toEqual({
      isWasmException: false, isError: true, constructor: 'RangeError', message: 'host says no', sameObject: true,
    });
    // A C++ exception that nothing catches reaches JS as a WebAssembly.Exception of the engine.
    expect(output['escaped 1 / 0']).toEqual({
      isWasmException: true, isError: false, constructor: 'Exception', message: null,
    });
    expect(output.afterEscapes).toBe('ok 10');
    expect(output.batch).toContain('summary: 4 of 7 lines failed\n  line 6 failed\n    division by zero\n');
    expect(output.batchNoErrors).toBe('line 0 ok\nline 1 ok\nno errors\n');
  });
}

test('ledger (C++ -fwasm-exceptions): rollback while unwinding, standard library exceptions', async () => {
  const [cranewasm, node] = await driveBoth('ledger');
  expectSameRun(cranewasm, node);
  expect(cranewasm.engine.calls).toEqual({ instantiate: 1 });

  const { output } = cranewasm;
  expect(output.batches['open alice;open bob;deposit alice 100']).toBe('ok|alice=100 bob=0 |undone 0');
  expect(output.batches['open carol;deposit carol 5;transfer carol alice 6'])
    .toBe('insufficient funds in carol (missing 1)|alice=100 bob=0 |undone 3');
  expect(output.libraryErrors).toEqual([
    'out_of_range', 'out_of_range', 'invalid_argument', 'out_of_range', 'bad_variant_access',
    'bad_optional_access', 'bad_cast', 'bad_function_call', 'length_error', 'bad_alloc', 'out_of_range',
    'logic_error',
  ]);
  expect(output.partialConstruction).toBe('wallet: negative; Wallet ctor saw: negative; array: fourth; '
    + 'vector: copy failed size 2; constructed 10 destroyed 10');
  expect(output.unwindLog).toMatch(/^(rollback of \d+ with 1 in flight; )+$/);
  expect(output.liveTracked).toBe(0);
  // 3,000 throws through 12 frames each: InsufficientFunds(i), std::out_of_range or an int.
  let expected = 0;
  for (let i = 0; i < 3000; i++) expected += [i, 1, 2 * i][i % 3];
  expect(output.throwLoop).toBe(expected);
  // 30 throws through 1,000 frames each.
  expect(output.throwDeep).toBe(Array.from({ length: 30 }, (_, i) => [i, 1, 2 * i][i % 3]).reduce((a, b) => a + b));
});

test('jsonq (C setjmp/longjmp as wasm exceptions): parse errors, nested protected calls, across JS', async () => {
  const [cranewasm, node] = await driveBoth('jsonq');
  expectSameRun(cranewasm, node);
  expect(cranewasm.engine.calls).toEqual({ 'new Module': 1, 'new Instance': 1 });

  const { output } = cranewasm;
  expect(output.loads.bad2).toBe('error: unterminated string at 7');
  expect(output.loads.bad5).toBe('error: too deep at 500'); // a longjmp out of 500 frames
  expect(output.loads.good).toBe('ok, 616 bytes');
  // A failed parse released its allocations; no protected call was left behind.
  expect(output.states.slice(0, 7).map((state) => state.arena)).toEqual([0, 0, 0, 0, 0, 0, 0]);
  for (const state of output.states) expect(state.protectDepth).toBe(0);
  expect(output.states.at(-1).raised).toBe(16);
  expect(output.queries['.list[2].deep[0][0][0][0]']).toBe('1');
  expect(output.queries['.list[3]']).toBe('error: index out of range at 8');
  expect(output.queries['.list[0]|host:nested']).toBe('30'); // the nested error stayed nested
  expect(output.queries['.n|host:raw']).toBe("error: no member 'nope' at 5"); // jumped across JS
});

// The same programs translated to the standard instructions (try_table, throw_ref, exnref; see
// scripts/build-eh-fixtures.sh). Node 20 has only the legacy ones, so cranewasm's run of the
// translation is compared with Node's run of the original: same program, same output.
for (const workload of ['exprcalc', 'ledger', 'jsonq']) {
  test(`${workload}, translated to try_table/exnref, gives on cranewasm the original's output on Node`, async () => {
    const bytes = fs.readFileSync(path.join(FIXTURES, `${workload}-exnref.wasm`));
    expect(bytes.length).toBeLessThan(1 << 20);
    expect(require('..').validate(bytes)).toBe(true);
    const [cranewasm, node] = await driveBoth(`${workload}-exnref`, workload);
    expectSameRun(cranewasm, node);
  });
}

// Each tier on its own (every function compiled by it, no tier-up), both instruction forms.
for (const workload of ['exprcalc', 'ledger', 'jsonq']) {
  for (const form of ['', '-exnref']) {
    test(`${workload}${form} at each tier alone gives the output on Node`, async () => {
      const tier = (name) => ({ CRANEWASM_FIRST_TIER: name, CRANEWASM_TIER_UP: 'off', CRANEWASM_LAZY: '0' });
      const [baseline, optimized, singlepass, node] = await settle([
        drive('cranewasm', `${workload}${form}`, tier('baseline')),
        drive('cranewasm', `${workload}${form}`, tier('optimized')),
        drive('cranewasm', `${workload}${form}`, tier('singlepass')),
        drive('node', workload),
      ]);
      expectSameRun(baseline, node);
      expectSameRun(optimized, node);
      expectSameRun(singlepass, node);
    });
  }
}

test('web-ifc (Emscripten -fwasm-exceptions): open, read, triangulate, save and reopen an IFC model', async () => {
  const [cranewasm, node] = await driveBoth('web-ifc');
  expectSameRun(cranewasm, node);

  const { output } = cranewasm;
  expect(output.schema).toBe('IFC4');
  expect(output.maxExpressId).toBe(90);
  expect(output.walls[0].Name.value).toBe('Wall with a door opening');
  expect(output.meshes.map((mesh) => mesh.expressID).sort()).toEqual([46, 54, 75, 90]);
  for (const mesh of output.meshes) expect(mesh.geometries[0].indices).toBeGreaterThan(0);
  expect(output.reopened.max).toBe(90);
  expect(output.reopened.wall).toEqual(output.walls[0]);
});

test('@automerge/automerge (wasm-bindgen, panic=unwind): concurrent edits, merge, save/load, sync', async () => {
  const [cranewasm, node] = await driveBoth('automerge-sync');
  expectSameRun(cranewasm, node);
  // Two copies of the glue's two tags (JS exceptions wrapped for wasm), made when it loads.
  expect(cranewasm.engine.calls).toEqual({ 'new Module': 1, 'new Instance': 1, 'new Tag': 4 });
  expect(cranewasm.engine.created.Tag).toEqual({ count: 4, ofEngine: 4, ofOther: 0 });

  const { output } = cranewasm;
  expect(output.merged).toEqual({ done: { milk: true }, items: ['apples', 'milk', 'eggs', 'bread'], title: 'groceries', count: 4 });
  expect(output.loaded).toEqual(output.merged);
  expect(output.text).toBe('hello, world');
  expect(output.sync.right).toEqual({ n: 1 });
  expect(output.errors.load).toMatch(/^RangeError: unable to parse chunk/);
});

// Workers and mixing engines: cranewasm/register reaches Worker threads (every kind, nested, with
// their own execArgv; CRANEWASM_REGISTER_WORKERS=0 opts out); cranewasm's objects cannot be
// cloned (structuredClone and postMessage throw a DataCloneError, as V8's uncloneable objects
// do); objects of Node's own engine given to cranewasm get an error that says where they come
// from, of the class the JS API requires.
'use strict';

const { spawnSync } = require('child_process');
const path = require('path');
const { MessageChannel } = require('worker_threads');
const { loadWabt, wat } = require('./helpers/execution');

const ROOT = path.join(__dirname, '..');
const cranewasm = require('../index.js');
const { Sandbox } = require('../engine.js');
const node = globalThis.WebAssembly;

function childEnv(env = {}) {
  const e = { ...process.env };
  for (const key of Object.keys(e)) if (key.startsWith('CRANEWASM_')) delete e[key];
  return { ...e, ...env };
}

function runNode(args, env) {
  const out = spawnSync(process.execPath, args, { env: childEnv(env), encoding: 'utf8', timeout: 60000 });
  return out;
}

describe('cranewasm/register and Worker threads', () => {
  const KINDS = ['eval', 'file', 'esm', 'url', 'own execArgv', 'empty execArgv', 'nested'];
  const driver = path.join(__dirname, 'helpers', 'worker-driver.js');

  function report(mode, env, nodeArgs = []) {
    const out = runNode([...nodeArgs, driver, mode], env);
    expect(out.stderr).toBe('');
    return JSON.parse(out.stdout);
  }

  test('every kind of Worker created after it runs on cranewasm', () => {
    const { main, results } = report('register');
    expect(main).toBe('cranewasm');
    expect(results.map((r) => r.kind)).toEqual(KINDS);
    for (const r of results) expect(r).toEqual({ kind: r.kind, engine: 'cranewasm', result: 42 });
  });

  // Flags that act on the whole process are inherited by default, but refused in an explicit
  // execArgv: the registration still reaches every worker, and they keep what they inherit.
  test('a process started with V8 and process-wide flags too', () => {
    const { main, results } = report('register', {}, ['--expose-gc', '--max-old-space-size=900', '--title=cranewasm-test', '--no-deprecation']);
    expect(main).toBe('cranewasm');
    for (const r of results) expect(r).toEqual({ kind: r.kind, engine: 'cranewasm', result: 42 });
    const source = `require(${JSON.stringify(path.join(ROOT, 'register.js'))});
      const w = new (require('worker_threads').Worker)("require('worker_threads').parentPort.postMessage(typeof gc)", { eval: true });
      w.once('message', (m) => { console.log(m); w.terminate(); });`;
    expect(runNode(['--expose-gc', '-e', source])).toMatchObject({ status: 0, stdout: 'function\n', stderr: '' });
  });

  test('CRANEWASM_REGISTER_WORKERS=0 leaves Workers on Node\'s engine, the main thread registered', () => {
    const { main, results } = report('register', { CRANEWASM_REGISTER_WORKERS: '0' });
    expect(main).toBe('cranewasm');
    for (const r of results) expect(r).toEqual({ kind: r.kind, engine: 'node', result: 42 });
  });

  test('without the registration, Workers use Node\'s engine (the probe tells them apart)', () => {
    const { main, results } = report('none');
    expect(main).toBe('node');
    for (const r of results) expect(r).toEqual({ kind: r.kind, engine: 'node', result: 42 });
  });

  test('an ES module that imports Worker before registering still gets it', () => {
    const source = `
      import { Worker } from 'node:worker_threads';
      import { createRequire } from 'node:module';
      const require = createRequire(${JSON.stringify(`${ROOT}/`)});
      require('./register.js');
      // The eval worker inherits --input-type=module: its source is an ES module too.
      const w = new Worker("import { parentPort } from 'worker_threads'; parentPort.postMessage(globalThis[Symbol.for('cranewasm.originalWebAssembly')] !== undefined)", { eval: true });
      w.once('message', (m) => { console.log(m); w.terminate(); });`;
    const out = runNode(['--input-type=module', '-e', source]);
    expect(out.stderr).toBe('');
    expect(out.stdout.trim()).toBe('true');
  });

  test('the Worker class keeps its identity for instanceof and its name', () => {
    const source = `
      const Original = require('worker_threads').Worker;
      require(${JSON.stringify(path.join(ROOT, 'register.js'))});
      const { Worker } = require('worker_threads');
      const w = new Worker('0', { eval: true });
      console.log(JSON.stringify([Worker !== Original, w instanceof Original, w instanceof Worker, Worker.name]));
      w.terminate();`;
    const out = runNode(['-e', source]);
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual([true, true, true, 'Worker']);
  });
});

describe('cranewasm objects cannot be cloned', () => {
  const EMPTY = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);

  // Each kind of object, made by cranewasm and (where Node's engine has it) by V8.
  function objects(W) {
    const module = new W.Module(EMPTY);
    return {
      Module: module,
      Instance: new W.Instance(module),
      Memory: new W.Memory({ initial: 1 }),
      Table: new W.Table({ initial: 1, element: 'anyfunc' }),
      Global: new W.Global({ value: 'i32', mutable: true }, 1),
    };
  }

  function cloneError(f) {
    try {
      f();
    } catch (err) {
      return { constructor: err.constructor.name, name: err.name, code: err.code, message: err.message };
    }
    return 'cloned';
  }

  const ours = { ...objects(cranewasm), Sandbox: new Sandbox() };
  const v8 = objects(node);

  test.each(Object.keys(ours))('structuredClone(%s) throws a DataCloneError', (kind) => {
    const error = cloneError(() => structuredClone(ours[kind]));
    expect(error).toEqual({ constructor: 'DOMException', name: 'DataCloneError', code: 25, message: expect.stringMatching(/could not be cloned\.$/) });
    // Inside another object too.
    expect(cloneError(() => structuredClone({ nested: [ours[kind]] }))).toMatchObject({ name: 'DataCloneError' });
    // As V8 does for its own objects that cannot be cloned (its Modules can be: cranewasm's
    // will be with threads). V8 words the message after the object's constructor, or (as here,
    // in jest's vm context) its toString tag.
    if (kind !== 'Module' && kind !== 'Sandbox') {
      const theirs = cloneError(() => structuredClone(v8[kind]));
      expect(theirs).toEqual({ ...error, message: expect.stringMatching(/could not be cloned\.$/) });
    }
  });

  test.each(Object.keys(ours))('postMessage(%s) throws a DataCloneError, and sends nothing', async (kind) => {
    const { port1, port2 } = new MessageChannel();
    const received = [];
    port2.on('message', (m) => received.push(m));
    expect(cloneError(() => port1.postMessage(ours[kind]))).toMatchObject({ constructor: 'DOMException', name: 'DataCloneError' });
    port1.postMessage('after');
    await new Promise((resolve) => { port2.once('message', resolve); });
    expect(received).toEqual(['after']);
    port1.close();
  });

  test('exports objects are not cloneable either, like V8\'s', async () => {
    await loadWabt();
    const bytes = wat('(module (memory (export "m") 1))');
    const error = cloneError(() => structuredClone(new cranewasm.Instance(new cranewasm.Module(bytes)).exports));
    const theirs = cloneError(() => structuredClone(new node.Instance(new node.Module(bytes)).exports));
    expect(error.name).toBe('DataCloneError');
    expect(theirs.name).toBe('DataCloneError');
  });

  test('the objects are still ordinary objects of their interface', () => {
    for (const [kind, object] of Object.entries(objects(cranewasm))) {
      expect(Object.getPrototypeOf(object)).toBe(cranewasm[kind].prototype);
      expect(Reflect.ownKeys(object)).toEqual([]);
      expect(Object.prototype.toString.call(object)).toBe(`[object WebAssembly.${kind}]`);
      expect(require('util').inspect(object)).toBe(require('util').inspect(v8[kind]));
    }
    class Sub extends cranewasm.Memory {}
    const sub = new Sub({ initial: 1 });
    expect(Object.getPrototypeOf(sub)).toBe(Sub.prototype);
    expect(sub.buffer.byteLength).toBe(65536);
  });
});

describe('objects of Node\'s engine given to cranewasm', () => {
  let bytes;
  beforeAll(async () => {
    await loadWabt();
    bytes = wat(`(module
      (import "env" "m" (memory 1))
      (import "env" "t" (table 1 funcref))
      (import "env" "g" (global i32))
      (import "env" "gm" (global (mut i32))))`);
  });

  const SUFFIX = 'comes from Node\'s built-in engine, and objects of Node\'s engine cannot be mixed with cranewasm\'s';

  function imports(W) {
    return { m: new W.Memory({ initial: 1 }), t: new W.Table({ initial: 1, element: 'anyfunc' }), g: 1, gm: new W.Global({ value: 'i32', mutable: true }, 0) };
  }

  function outcome(f) {
    try {
      f();
    } catch (err) {
      return { cls: err.constructor.name, message: err.message };
    }
    return 'ok';
  }

  test('the imports of one engine link on it', () => {
    expect(outcome(() => new cranewasm.Instance(new cranewasm.Module(bytes), { env: imports(cranewasm) }))).toBe('ok');
    expect(outcome(() => new node.Instance(new node.Module(bytes), { env: imports(node) }))).toBe('ok');
  });

  test.each([
    ['m', 'Memory', 0, 'memory import must be a WebAssembly.Memory object'],
    ['t', 'Table', 1, 'table import requires a WebAssembly.Table'],
    ['g', 'Global', 2, 'imported global must be a WebAssembly.Global object'],
    ['gm', 'Global', 3, 'imported global must be a WebAssembly.Global object'],
  ])('a %s import of Node\'s engine is a LinkError that says so', (name, kind, index, reason) => {
    const env = imports(cranewasm);
    env[name] = name === 'g' ? new node.Global({ value: 'i32' }, 1) : imports(node)[name];
    const ours = outcome(() => new cranewasm.Instance(new cranewasm.Module(bytes), { env }));
    expect(ours).toEqual({
      cls: 'LinkError',
      message: `WebAssembly.Instance(): Import #${index} module="env" function="${name}" error: ${reason}: this WebAssembly.${kind} ${SUFFIX}`,
    });
    // Node's engine given cranewasm's object: a LinkError too.
    const nodeEnv = imports(node);
    nodeEnv[name] = name === 'g' ? new cranewasm.Global({ value: 'i32' }, 1) : imports(cranewasm)[name];
    expect(outcome(() => new node.Instance(new node.Module(bytes), { env: nodeEnv })).cls).toBe('LinkError');
  });

  test('a wasm function of Node\'s engine as a funcref is a TypeError (LinkError as an import) that says so', () => {
    const fnBytes = wat('(module (func (export "f")))');
    const theirs = new node.Instance(new node.Module(fnBytes)).exports.f;
    const ours = new cranewasm.Instance(new cranewasm.Module(fnBytes)).exports.f;
    const note = `this wasm function ${SUFFIX}`;
    const table = new cranewasm.Table({ element: 'anyfunc', initial: 1 });
    expect(outcome(() => table.set(0, theirs))).toEqual({
      cls: 'TypeError',
      message: `WebAssembly.Table.set(): Argument 1 is invalid for table: function-typed object must be null (if nullable) or a Wasm function object: ${note}`,
    });
    expect(outcome(() => new cranewasm.Global({ value: 'anyfunc' }, theirs)).message).toContain(note);
    const importing = wat('(module (import "env" "f" (global funcref)))');
    expect(outcome(() => new cranewasm.Instance(new cranewasm.Module(importing), { env: { f: theirs } }))).toEqual({
      cls: 'LinkError',
      message: `WebAssembly.Instance(): Import #0 module="env" function="f" error: function-typed object must be null (if nullable) or a Wasm function object: ${note}`,
    });
    // Node's engine given cranewasm's function: a TypeError too; a plain function keeps V8's message.
    expect(outcome(() => new node.Table({ element: 'anyfunc', initial: 1 }).set(0, ours)).cls).toBe('TypeError');
    expect(outcome(() => table.set(0, () => {})).message).toBe('WebAssembly.Table.set(): Argument 1 is invalid for table: function-typed object must be null (if nullable) or a Wasm function object');
    table.set(0, ours);
    expect(table.get(0)).toBe(ours);
  });

  test('methods and accessors called on objects of Node\'s engine: a TypeError that says so', () => {
    const theirs = imports(node);
    const instance = new node.Instance(new node.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])));
    const calls = [
      ['Memory', 'WebAssembly.Memory.grow()', () => cranewasm.Memory.prototype.grow.call(theirs.m, 0)],
      ['Table', 'WebAssembly.Table.get()', () => cranewasm.Table.prototype.get.call(theirs.t, 0)],
      ['Global', 'WebAssembly.Global.valueOf()', () => cranewasm.Global.prototype.valueOf.call(theirs.gm)],
      ['Instance', 'WebAssembly.Instance.exports()', () => Object.getOwnPropertyDescriptor(cranewasm.Instance.prototype, 'exports').get.call(instance)],
    ];
    for (const [kind, context, call] of calls) {
      expect(outcome(call)).toEqual({ cls: 'TypeError', message: `${context}: Receiver is not a WebAssembly.${kind}: this WebAssembly.${kind} ${SUFFIX}` });
    }
    expect(outcome(() => cranewasm.Memory.prototype.grow.call({}, 0))).toEqual({ cls: 'TypeError', message: 'WebAssembly.Memory.grow(): Receiver is not a WebAssembly.Memory' });
  });

  test('a lookalike is not taken for an object of Node\'s engine', () => {
    const env = imports(cranewasm);
    env.m = Object.create(node.Memory.prototype);
    const ours = outcome(() => new cranewasm.Instance(new cranewasm.Module(bytes), { env }));
    expect(ours).toEqual({ cls: 'LinkError', message: 'WebAssembly.Instance(): Import #0 module="env" function="m" error: memory import must be a WebAssembly.Memory object' });
  });

  test('a Module of Node\'s engine is a TypeError that says so', async () => {
    const theirs = new node.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    const message = `this WebAssembly.Module ${SUFFIX}`;
    expect(outcome(() => new cranewasm.Instance(theirs))).toEqual({ cls: 'TypeError', message: `WebAssembly.Instance(): Argument 0 must be a WebAssembly.Module: ${message}` });
    expect(outcome(() => cranewasm.Module.exports(theirs))).toEqual({ cls: 'TypeError', message: `WebAssembly.Module.exports(): Argument 0 must be a WebAssembly.Module: ${message}` });
    await expect(cranewasm.instantiate(theirs)).rejects.toThrow(new TypeError(`WebAssembly.instantiate(): Argument 0 must be a buffer source or a WebAssembly.Module object: ${message}`));
    // Other wrong values keep V8's message.
    expect(outcome(() => new cranewasm.Instance({}))).toEqual({ cls: 'TypeError', message: 'WebAssembly.Instance(): Argument 0 must be a WebAssembly.Module' });
  });
});

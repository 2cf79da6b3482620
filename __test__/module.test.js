// Modules against Node's built-in: validate() on good and bad bytes, CompileError, compile(), the
// introspection functions (Module.imports / exports / customSections) on hand-assembled modules
// covering every import and export kind, and that every value handed out belongs to this realm.
'use strict';

const { cranewasm, node, outcome, asyncOutcome, describeInstantiated } = require('./helpers/differential.js');
const { ModuleBuilder, OP, SECTION, section, name, vec, uleb } = require('./helpers/wasm-builder.js');

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

function allImportKinds() {
  const b = new ModuleBuilder();
  b.importFunction('env', 'log', ['i32'], []);
  b.importFunction('env', 'now', [], ['f64']);
  b.importTable('env', 'functions', { element: 'funcref', min: 1, max: 10 });
  b.importTable('js', 'objects', { element: 'externref', min: 0 });
  b.importMemory('env', 'memory', { min: 1 });
  b.importGlobal('env', 'base', { type: 'i32' });
  b.importGlobal('env', 'counter', { type: 'i64', mutable: true });
  b.importGlobal('math', 'pi', { type: 'f64' });
  b.importGlobal('js', 'handle', { type: 'externref' });
  b.importFunction('math', 'sin', ['f64'], ['f64']);
  return b.toBytes();
}

function allExportKinds() {
  const b = new ModuleBuilder();
  const imported = b.importFunction('env', 'f', ['i32'], ['i32']);
  b.importMemory('env', 'mem', { min: 1, max: 2 });
  const add = b.function(['i32', 'i32'], ['i32'], [OP.localGet, 0, OP.localGet, 1, OP.i32Add]);
  const nop = b.function([], [], [OP.nop]);
  b.table({ element: 'funcref', min: 2 });
  b.table({ element: 'externref', min: 0, max: 4 });
  b.global({ type: 'i32' });
  b.global({ type: 'f32', mutable: true });
  b.global({ type: 'externref' });
  b.export('add', 'function', add)
    .export('reexported', 'function', imported)
    .export('memory', 'memory', 0)
    .export('table0', 'table', 0)
    .export('', 'function', nop)
    .export('global0', 'global', 0)
    .export('table1', 'table', 1)
    .export('mutable', 'global', 1)
    .export('ref', 'global', 2)
    .export('alias of add', 'function', add)
    .export('\u00e9t\u00e9 \u{1F600}', 'function', add);
  return b.toBytes();
}

function withCustomSections() {
  const b = new ModuleBuilder();
  b.custom('meta', [1, 2, 3], 'start');
  b.custom('other', [9], 'start');
  b.function([], [], []);
  b.export('f', 'function', 0);
  b.custom('meta', [], 'end');
  b.custom('', [7, 7], 'end');
  b.custom('meta', [4, 5], 'end');
  b.custom('\u00fcber', [0xff], 'end');
  b.custom('name', [], 'end'); // an empty name section is well formed
  return b.toBytes();
}

const VALID = {
  'the empty module': new ModuleBuilder().toBytes(),
  'every import kind': allImportKinds(),
  'every export kind': allExportKinds(),
  'custom sections': withCustomSections(),
  'a start function': (() => {
    const b = new ModuleBuilder();
    b.startFunction(b.function([], [], [OP.nop]));
    return b.toBytes();
  })(),
  'bulk memory (memory.fill)': (() => {
    const b = new ModuleBuilder();
    b.memory({ min: 1 });
    b.function([], [], [OP.i32Const, 0, OP.i32Const, 0, OP.i32Const, 0, 0xfc, 0x0b, 0x00]);
    return b.toBytes();
  })(),
  'multi-value results': (() => {
    const b = new ModuleBuilder();
    b.function([], ['i32', 'i64'], [OP.i32Const, 1, OP.i64Const, 2]);
    return b.toBytes();
  })(),
};

// Valid Wasm 2.0, but cranewasm rejects SIMD until it can generate code for it (issue 6), as an
// engine without SIMD does, so that programs probing for SIMD take their fallback.
const SIMD_MODULE = (() => {
  const b = new ModuleBuilder();
  const zero = new Array(16).fill(0);
  b.function([], [], [0xfd, 0x0c, ...zero, 0xfd, 0x0c, ...zero, 0xfd, 0xae, 0x01, 0x1a]);
  return b.toBytes();
})();

const INVALID = {
  'no bytes': [],
  'a magic number only': [0x00, 0x61, 0x73, 0x6d],
  'a wrong magic number': [0x01, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
  'version 2': [0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00],
  'a truncated section': [...HEADER, SECTION.type, 0x05, 0x01],
  'an unknown section id': [...HEADER, 0x0e, 0x00],
  'sections out of order': [...HEADER, ...section(SECTION.import, vec([])), ...section(SECTION.type, vec([]))],
  'a function without a body': [...HEADER, ...section(SECTION.type, vec([[0x60, 0, 0]])), ...section(SECTION.function, vec([[0]]))],
  'a body of the wrong type': (() => {
    const b = new ModuleBuilder();
    b.function([], ['i32'], []);
    return [...b.toBytes()];
  })(),
  'an unknown opcode': (() => {
    const b = new ModuleBuilder();
    b.function([], [], [0xff]);
    return [...b.toBytes()];
  })(),
  'duplicate export names': (() => {
    const b = new ModuleBuilder();
    b.function([], [], []);
    b.export('x', 'function', 0).export('x', 'function', 0);
    return [...b.toBytes()];
  })(),
  'an export of a missing function': (() => {
    const b = new ModuleBuilder();
    b.export('x', 'function', 3);
    return [...b.toBytes()];
  })(),
  'a memory of more than 65536 pages': (() => {
    const b = new ModuleBuilder();
    b.memory({ min: 65537 });
    return [...b.toBytes()];
  })(),
  'a start function with parameters': (() => {
    const b = new ModuleBuilder();
    b.startFunction(b.function(['i32'], [], []));
    return [...b.toBytes()];
  })(),
  'an overlong LEB128': [...HEADER, SECTION.type, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
  'an import of an unknown kind': [...HEADER, ...section(SECTION.import, vec([[...name('a'), ...name('b'), 0x07, 0x00]]))],
  'a custom section whose name overruns it': [...HEADER, SECTION.custom, 0x02, 0x05, 0x61],
  'trailing garbage': [...new ModuleBuilder().toBytes(), 0x01],
};

describe('validate()', () => {
  test.each(Object.keys(VALID))('accepts %s, as Node does', (key) => {
    expect(cranewasm.validate(VALID[key])).toBe(true);
    expect(node.validate(VALID[key])).toBe(true);
  });

  test.each(Object.keys(INVALID))('refuses %s without throwing, as Node does', (key) => {
    const bytes = new Uint8Array(INVALID[key]);
    expect(outcome(() => cranewasm.validate(bytes))).toEqual({ value: false });
    expect(node.validate(bytes)).toBe(false);
  });
});

describe('CompileError', () => {
  // Node's decoder words its reasons differently: the class and the API prefix must match, the
  // reason is the engine's, verbatim, and carries the byte offset as V8's do.
  const reason = /^\S[\s\S]* @\+\d+$/;
  const engineReason = (bytes) => require('../binding.js').compileSync(bytes);

  test.each(Object.keys(INVALID).filter((key) => INVALID[key].length > 0))('new Module() of %s', (key) => {
    const bytes = new Uint8Array(INVALID[key]);
    const ours = outcome(() => new cranewasm.Module(bytes));
    const theirs = outcome(() => new node.Module(bytes));
    expect(ours.threw).toBe('CompileError');
    expect(theirs.threw).toBe('CompileError');
    expect(ours.message).toBe(`WebAssembly.Module(): ${engineReason(bytes)}`);
    expect(ours.message.slice('WebAssembly.Module(): '.length)).toMatch(reason);
  });

  test('is thrown as an instance of cranewasm.CompileError, an Error of this realm', () => {
    let err;
    try {
      new cranewasm.Module(new Uint8Array(INVALID['version 2']));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(cranewasm.CompileError);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(node.CompileError);
    expect(err.name).toBe('CompileError');
    expect(Reflect.ownKeys(err)).toEqual(['stack', 'message']);
  });

  test('names the failing function, as V8 does', () => {
    const ours = outcome(() => new cranewasm.Module(new Uint8Array(INVALID['a body of the wrong type'])));
    expect(ours.message).toMatch(/^WebAssembly\.Module\(\): Compiling function #0 failed: .* @\+\d+$/);
    expect(outcome(() => new node.Module(new Uint8Array(INVALID['a body of the wrong type']))).message)
      .toMatch(/^WebAssembly\.Module\(\): Compiling function #0 failed: /);
  });

  // Bodies are validated in batches of ~128 KB on compile threads while the sections after the
  // code section are still decoded: the error reported must still be the first in byte order,
  // whatever the threads' timing, and name its function as V8 does.
  describe('among many bodies validated in parallel', () => {
    const uleb = (n) => { const out = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; out.push(b); } while (n); return out; };
    const sec = (id, payload) => Buffer.concat([Buffer.from([id, ...uleb(payload.length)]), payload]);
    // `count` functions [] -> [], each `size` nops; those in `bad` end with an i32.add on an
    // empty stack. `tail`: sections after the code section. Also returns each bad add's offset.
    function bigModule(count, size, bad, tail = Buffer.alloc(0)) {
      const parts = [Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), sec(1, Buffer.from([1, 0x60, 0, 0])),
        sec(3, Buffer.from([...uleb(count), ...new Array(count).fill(0)]))];
      const bodies = [Buffer.from(uleb(count))];
      const bodyOffsets = [];
      let at = 0;
      for (let i = 0; i < count; i++) {
        const code = Buffer.concat([Buffer.from([0]), Buffer.alloc(size, 0x01), Buffer.from(bad.includes(i) ? [0x6a, 0x1a, 0x0b] : [0x0b])]);
        const len = Buffer.from(uleb(code.length));
        bodyOffsets.push(at + len.length + 1 + size);
        bodies.push(len, code);
        at += len.length + code.length;
      }
      const codePayload = Buffer.concat(bodies);
      const codeStart = parts.reduce((n, b) => n + b.length, 0) + 1 + uleb(codePayload.length).length + uleb(count).length;
      const bytes = Buffer.concat([...parts, sec(10, codePayload), tail]);
      return { bytes, offsetOf: (i) => codeStart + bodyOffsets[i] };
    }

    test('the first bad body in byte order, every time, sync and async', async () => {
      // 60 bodies of 5,000 bytes: bad ones in the first, middle and last batches.
      const { bytes, offsetOf } = bigModule(60, 5000, [55, 30, 5]);
      expect(outcome(() => new node.Module(bytes)).message).toMatch(/Compiling function #5 failed/);
      const expected = `WebAssembly.Module(): Compiling function #5 failed: type mismatch: expected i32 but nothing on stack @+${offsetOf(5)}`;
      for (let round = 0; round < 10; round++) {
        expect(outcome(() => new cranewasm.Module(bytes))).toEqual({ threw: 'CompileError', message: expected });
        expect(await asyncOutcome(() => cranewasm.compile(bytes)))
          .toEqual({ threw: 'CompileError', message: expected.replace('Module()', 'compile()') });
      }
      expect(cranewasm.validate(bytes)).toBe(false);
      expect(cranewasm.validate(bigModule(60, 5000, []).bytes)).toBe(true);
    });

    test('a bad body before a bad data section: the body (the first in byte order)', () => {
      // Active data segment for memory 0 in a module without memory.
      const data = sec(11, Buffer.from([1, 0, 0x41, 0, 0x0b, 1, 0]));
      const { bytes, offsetOf } = bigModule(60, 5000, [40], data);
      expect(outcome(() => new node.Module(bytes)).threw).toBe('CompileError');
      expect(outcome(() => new cranewasm.Module(bytes)).message)
        .toBe(`WebAssembly.Module(): Compiling function #40 failed: type mismatch: expected i32 but nothing on stack @+${offsetOf(40)}`);
      const valid = bigModule(60, 5000, [], data).bytes;
      expect(outcome(() => new cranewasm.Module(valid)).message).toMatch(/^WebAssembly\.Module\(\): [^#]* @\+\d+$/);
      expect(outcome(() => new node.Module(valid)).threw).toBe('CompileError');
    });
  });

  test('an empty BufferSource gets V8\'s own message', () => {
    for (const make of [(W, b) => new W.Module(b)]) {
      const ours = outcome(() => make(cranewasm, new Uint8Array(0)));
      expect(ours).toEqual(outcome(() => make(node, new Uint8Array(0))));
      expect(ours).toEqual({ threw: 'CompileError', message: 'WebAssembly.Module(): BufferSource argument is empty' });
    }
  });

  test.each([
    ['compile', (W, bytes) => W.compile(bytes)],
    ['instantiate', (W, bytes) => W.instantiate(bytes)],
  ])('%s() rejects with a prefixed CompileError', async (api, call) => {
    for (const key of ['version 2', 'a body of the wrong type', 'no bytes']) {
      const bytes = new Uint8Array(INVALID[key]);
      const ours = await asyncOutcome(() => call(cranewasm, bytes));
      const theirs = await asyncOutcome(() => call(node, bytes));
      expect(ours.threw).toBe('CompileError');
      expect(theirs.threw).toBe('CompileError');
      if (key === 'no bytes') expect(ours).toEqual(theirs);
      else expect(ours.message).toBe(`WebAssembly.${api}(): ${engineReason(bytes)}`);
    }
  });
});

describe('compile()', () => {
  test('resolves to a Module of this realm\'s promise, describing the same module as Node\'s', async () => {
    const promise = cranewasm.compile(VALID['every export kind']);
    expect(promise).toBeInstanceOf(Promise);
    const module = await promise;
    expect(module).toBeInstanceOf(cranewasm.Module);
    const theirs = await node.compile(VALID['every export kind']);
    expect(cranewasm.Module.exports(module)).toEqual(node.Module.exports(theirs));
  });

  test('copies the bytes when called: writes while compiling do not reach the module', async () => {
    const b = new ModuleBuilder();
    b.function([], [], []);
    b.export('before', 'function', 0);
    const bytes = b.toBytes();
    const at = Buffer.from(bytes).indexOf('before');
    const ours = cranewasm.compile(bytes);
    const theirs = node.compile(bytes);
    bytes.set(Buffer.from('after!'), at);
    bytes.fill(0xff, 0, 4); // and break the magic number
    expect(cranewasm.Module.exports(await ours)).toEqual([{ name: 'before', kind: 'function' }]);
    expect(node.Module.exports(await theirs)).toEqual([{ name: 'before', kind: 'function' }]);
  });

  test('many compiles in flight settle independently', async () => {
    const keys = [...Object.keys(VALID), 'version 2', 'a body of the wrong type'];
    const results = await Promise.all(keys.map((key) => asyncOutcome(
      () => cranewasm.compile(new Uint8Array(VALID[key] || INVALID[key])),
      (module) => cranewasm.Module.exports(module),
    )));
    keys.forEach((key, i) => {
      if (VALID[key]) expect(results[i]).toEqual({ value: node.Module.exports(new node.Module(VALID[key])) });
      else expect(results[i].threw).toBe('CompileError');
    });
  });
});

describe('Module.imports() and Module.exports()', () => {
  test.each(Object.keys(VALID))('describe %s as Node does', (key) => {
    const ours = new cranewasm.Module(VALID[key]);
    const theirs = new node.Module(VALID[key]);
    expect(cranewasm.Module.imports(ours)).toEqual(node.Module.imports(theirs));
    expect(cranewasm.Module.exports(ours)).toEqual(node.Module.exports(theirs));
  });

  test('cover every kind, in declaration order', () => {
    const imports = cranewasm.Module.imports(new cranewasm.Module(VALID['every import kind']));
    expect(imports.map((i) => `${i.module}.${i.name}:${i.kind}`)).toEqual([
      'env.log:function', 'env.now:function', 'env.functions:table', 'js.objects:table', 'env.memory:memory',
      'env.base:global', 'env.counter:global', 'math.pi:global', 'js.handle:global', 'math.sin:function',
    ]);
    const exports = cranewasm.Module.exports(new cranewasm.Module(VALID['every export kind']));
    expect(exports.map((e) => `${e.name}:${e.kind}`)).toEqual([
      'add:function', 'reexported:function', 'memory:memory', 'table0:table', ':function', 'global0:global',
      'table1:table', 'mutable:global', 'ref:global', 'alias of add:function', '\u00e9t\u00e9 \u{1F600}:function',
    ]);
  });

  test('return fresh arrays of fresh plain objects of this realm, keys in Node\'s order', () => {
    const module = new cranewasm.Module(VALID['every import kind']);
    for (const list of [cranewasm.Module.imports(module), cranewasm.Module.exports(new cranewasm.Module(VALID['every export kind']))]) {
      expect(Array.isArray(list)).toBe(true);
      expect(Object.getPrototypeOf(list)).toBe(Array.prototype);
      for (const item of list) {
        expect(Object.getPrototypeOf(item)).toBe(Object.prototype);
        expect(Object.getOwnPropertyDescriptor(item, 'name')).toEqual({ value: item.name, writable: true, enumerable: true, configurable: true });
      }
    }
    expect(Object.keys(cranewasm.Module.imports(module)[0])).toEqual(Object.keys(node.Module.imports(new node.Module(VALID['every import kind']))[0]));
    const first = cranewasm.Module.imports(module);
    first[0].name = 'changed';
    first.pop();
    expect(cranewasm.Module.imports(module)).toEqual(node.Module.imports(new node.Module(VALID['every import kind'])));
  });

  test('ignore extra arguments', () => {
    const module = new cranewasm.Module(VALID['every import kind']);
    expect(cranewasm.Module.imports(module, 'extra')).toEqual(cranewasm.Module.imports(module));
  });
});

// Every valid module instantiates as in Node, with imports that satisfy it.
describe('instantiating the valid modules', () => {
  const IMPORTS = {
    'every import kind': (W) => ({
      env: {
        log() {},
        now: () => 1.5,
        functions: new W.Table({ element: 'anyfunc', initial: 1, maximum: 10 }),
        memory: new W.Memory({ initial: 1 }),
        base: 1,
        counter: new W.Global({ value: 'i64', mutable: true }, 2n),
      },
      js: { objects: new W.Table({ element: 'externref', initial: 1 }, {}), handle: { a: 'handle' } },
      math: { pi: Math.PI, sin: Math.sin },
    }),
    'every export kind': (W) => ({ env: { f: (x) => x, mem: new W.Memory({ initial: 1, maximum: 2 }) } }),
  };
  test.each(Object.keys(VALID))('%s', async (key) => {
    const run = (W) => asyncOutcome(() => W.instantiate(VALID[key], IMPORTS[key] && IMPORTS[key](W)), (result) => describeInstantiated(W, result));
    const ours = await run(cranewasm);
    expect(ours).not.toHaveProperty('threw');
    expect(ours).toEqual(await run(node));
  });

  test('SIMD: validates, compiles and instantiates as on Node', async () => {
    expect(cranewasm.validate(SIMD_MODULE)).toBe(node.validate(SIMD_MODULE));
    const run = (W) => asyncOutcome(() => W.instantiate(SIMD_MODULE), (result) => describeInstantiated(W, result));
    const ours = await run(cranewasm);
    expect(ours).not.toHaveProperty('threw');
    expect(ours).toEqual(await run(node));
  });
});

describe('Module.customSections()', () => {
  const bytesOf = (buffers) => buffers.map((buffer) => [...new Uint8Array(buffer)]);
  const ours = new cranewasm.Module(VALID['custom sections']);
  const theirs = new node.Module(VALID['custom sections']);

  test.each(['meta', 'other', '', '\u00fcber', 'name', 'missing', 'META'])('returns the sections called %p as Node does, in module order', (sectionName) => {
    expect(bytesOf(cranewasm.Module.customSections(ours, sectionName)))
      .toEqual(bytesOf(node.Module.customSections(theirs, sectionName)));
  });

  test('several sections of one name come in module order', () => {
    expect(bytesOf(cranewasm.Module.customSections(ours, 'meta'))).toEqual([[1, 2, 3], [], [4, 5]]);
  });

  test('returns fresh ArrayBuffers of this realm on every call', () => {
    const first = cranewasm.Module.customSections(ours, 'meta');
    expect(Object.getPrototypeOf(first)).toBe(Array.prototype);
    for (const buffer of first) expect(buffer).toBeInstanceOf(ArrayBuffer);
    new Uint8Array(first[0]).fill(0);
    const second = cranewasm.Module.customSections(ours, 'meta');
    expect(second[0]).not.toBe(first[0]);
    expect([...new Uint8Array(second[0])]).toEqual([1, 2, 3]);
  });

  test.each([
    ['a missing name', []],
    ['an undefined name', [undefined]],
    ['a null name', [null]],
    ['a number', [0]],
    ['an object with toString', [{ toString: () => 'meta' }]],
    ['a Symbol', [Symbol('meta')]],
    ['a throwing toString', [{ toString() { throw new SyntaxError('from toString'); } }]],
  ])('takes %s as Node does', (_, args) => {
    const describe = (buffers) => bytesOf(buffers);
    const result = outcome(() => cranewasm.Module.customSections(ours, ...args), describe);
    expect(result).toEqual(outcome(() => node.Module.customSections(theirs, ...args), describe));
  });

  test('checks the module before converting the name, as Node does', () => {
    const log = [];
    const sectionName = { toString() { log.push('toString'); return 'meta'; } };
    expect(outcome(() => cranewasm.Module.customSections({}, sectionName))).toEqual(outcome(() => node.Module.customSections({}, sectionName)));
    expect(log).toEqual([]);
  });
});

// jest's realms share Node's ArrayBuffer and Uint8Array, which hides values of the wrong realm;
// a bare vm context does not. The addon's values all come from Node's main realm.
describe('in a realm of its own, every value handed out belongs to that realm', () => {
  const vm = require('vm');
  const fs = require('fs');
  const path = require('path');

  function loadInFreshRealm() {
    const context = vm.createContext({});
    const filename = path.join(__dirname, '..', 'index.js');
    const wrapper = vm.runInContext(
      `(function (exports, require, module) {${fs.readFileSync(filename, 'utf8')}\n})`, context, { filename },
    );
    const module = { exports: {} };
    wrapper(module.exports, (id) => require(id.startsWith('./') ? `.${id}` : id), module);
    const realm = vm.runInContext('({ Array, Object, ArrayBuffer, Uint8Array, Error, TypeError, RangeError, Promise })', context);
    return { W: module.exports, realm };
  }

  const { W, realm } = loadInFreshRealm();
  const caught = (fn) => {
    try {
      fn();
    } catch (err) {
      return err;
    }
    throw new Error('expected a throw');
  };

  test('the realm is not this one', () => {
    expect(realm.ArrayBuffer).not.toBe(ArrayBuffer);
    expect(realm.Array).not.toBe(Array);
  });

  test('descriptor arrays and objects', () => {
    for (const list of [W.Module.imports(new W.Module(VALID['every import kind'])), W.Module.exports(new W.Module(VALID['every export kind']))]) {
      expect(Object.getPrototypeOf(list)).toBe(realm.Array.prototype);
      for (const item of list) expect(Object.getPrototypeOf(item)).toBe(realm.Object.prototype);
    }
  });

  test('custom section buffers', () => {
    const buffers = W.Module.customSections(new W.Module(VALID['custom sections']), 'meta');
    expect(buffers.length).toBe(3);
    for (const buffer of buffers) expect(buffer instanceof realm.ArrayBuffer).toBe(true);
  });

  test('errors and promises', async () => {
    expect(caught(() => new W.Module(new Uint8Array([1]))) instanceof realm.Error).toBe(true);
    expect(caught(() => W.validate('bytes')) instanceof realm.TypeError).toBe(true);
    expect(caught(() => new W.Memory({ initial: 1, shared: true })) instanceof realm.TypeError).toBe(true);
    expect(caught(() => new W.Memory({ initial: 1, maximum: 1, shared: true }).grow(1)) instanceof realm.RangeError).toBe(true);
    // A memory's buffers are made by the addon in Node's main context (as unshared ones are).
    expect(Object.prototype.toString.call(new W.Memory({ initial: 1, maximum: 1, shared: true }).buffer))
      .toBe('[object SharedArrayBuffer]');
    expect(caught(() => new W.Memory({ initial: 1 }).grow(1e6)) instanceof realm.RangeError).toBe(true);
    expect(caught(() => new W.Table({ element: 'anyfunc', initial: 1 }).get(1)) instanceof realm.RangeError).toBe(true);
    const compiled = W.compile(VALID['the empty module']);
    expect(compiled instanceof realm.Promise).toBe(true);
    expect(await compiled).toBeInstanceOf(W.Module);
    const failed = W.compile(new Uint8Array([1, 2]));
    expect(failed instanceof realm.Promise).toBe(true);
    const err = await failed.catch((e) => e);
    expect(err instanceof realm.Error && err instanceof W.CompileError).toBe(true);
    const linkError = await W.instantiate(VALID['every import kind'], {}).catch((e) => e);
    expect(linkError instanceof realm.Error).toBe(true);
  });

  test('instantiation results', async () => {
    const instantiated = W.instantiate(VALID['the empty module']);
    expect(instantiated instanceof realm.Promise).toBe(true);
    const result = await instantiated;
    expect(Object.getPrototypeOf(result)).toBe(realm.Object.prototype);
    expect(result.instance).toBeInstanceOf(W.Instance);
    expect(Object.getPrototypeOf(result.instance.exports)).toBe(null);
    const memory = new W.Memory({ initial: 1 });
    expect(Object.getPrototypeOf(memory)).toBe(W.Memory.prototype);
    expect(Object.getPrototypeOf(W.Memory.prototype)).toBe(realm.Object.prototype);
  });

  // Each copy of index.js hands the binding its own error classes: a trap must be a
  // RuntimeError of the namespace whose instance trapped, also once another copy is loaded (as
  // Node's namespaces of two realms do).
  test('a trap is a RuntimeError of the namespace whose function trapped, whichever copy loaded last', () => {
    const b = new ModuleBuilder();
    b.export('trap', 'function', b.function([], [], [OP.unreachable]));
    const bytes = b.toBytes();
    const trapOf = (namespace) => caught(() => new namespace.Instance(new namespace.Module(bytes)).exports.trap());
    expect(trapOf(W)).toBeInstanceOf(W.RuntimeError);
    loadInFreshRealm();
    expect(trapOf(W)).toBeInstanceOf(W.RuntimeError);
    expect(trapOf(cranewasm)).toBeInstanceOf(cranewasm.RuntimeError);
  });
});

// Module bytes of 1 MB and more are copied by two threads into memory advised for huge pages
// (runtime::copy_bytes); the module must keep exactly the bytes given at the call, whatever the
// view's alignment, and not see writes made after compile() returned.
describe('large modules keep the bytes given at the call', () => {
  // A module of one custom section "big" whose payload's bytes follow a pattern, at an offset
  // `skew` into a larger buffer (an unaligned view).
  function bigModule(payloadLength, skew) {
    const nameBytes = name('big');
    const size = uleb(nameBytes.length + payloadLength);
    const head = [...HEADER, 0, ...size, ...nameBytes];
    const buffer = new Uint8Array(skew + head.length + payloadLength);
    const bytes = buffer.subarray(skew);
    bytes.set(head);
    for (let i = 0; i < payloadLength; i++) bytes[head.length + i] = (i * 7 + (i >>> 12)) & 0xff;
    return { bytes, payloadStart: head.length };
  }
  const sameBytes = (module, namespace, expected) => {
    const [section] = namespace.Module.customSections(module, 'big');
    return Buffer.from(section).equals(Buffer.from(expected));
  };

  test.each([
    ['just below 1 MB', (1 << 20) - 40, 0],
    ['3 MB, unaligned', (3 << 20) + 1, 1],
    ['4 MB and an odd tail, unaligned', (4 << 20) + 4099, 3],
    ['9 MB, unaligned', (9 << 20) + 13, 5],
  ])('%s', async (_, length, skew) => {
    const { bytes, payloadStart } = bigModule(length, skew);
    const expected = bytes.slice(payloadStart);
    const compiling = cranewasm.compile(bytes);
    bytes.fill(0xee, payloadStart, payloadStart + 4096); // after the call: not seen
    bytes.fill(0xee, bytes.length - 4096);
    const compiled = await compiling;
    expect(sameBytes(compiled, cranewasm, expected)).toBe(true);
    bytes.set(expected, payloadStart);
    const made = new cranewasm.Module(bytes);
    expect(sameBytes(made, cranewasm, expected)).toBe(true);
    // Node agrees on the section.
    expect(sameBytes(new node.Module(bytes), node, expected)).toBe(true);
  });
});

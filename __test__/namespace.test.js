// The shape of the namespace against Node's built-in: every member's property descriptors, names,
// lengths, toStringTags and prototype chains; `new` checks; the error classes; brand checks of
// every method, getter and setter.
'use strict';

const { cranewasm, node, NODE_ONLY, outcome, memberShape, namespaceShape } = require('./helpers/differential.js');
const { ModuleBuilder } = require('./helpers/wasm-builder.js');

const EMPTY_MODULE = new ModuleBuilder().toBytes();
const MEMBERS = Reflect.ownKeys(node).filter((key) => typeof key === 'string' && !NODE_ONLY.includes(key));
const INTERFACES = ['Module', 'Instance', 'Memory', 'Table', 'Global'];
const ERROR_CLASSES = ['CompileError', 'LinkError', 'RuntimeError'];

describe('the namespace object', () => {
  test('has the members of Node 20 in the same order, and JSTag', () => {
    expect(Reflect.ownKeys(cranewasm)).toEqual([
      'compile', 'validate', 'instantiate', 'compileStreaming', 'instantiateStreaming',
      'Module', 'Instance', 'Table', 'Memory', 'Global', 'Tag', 'Exception', 'CompileError', 'LinkError', 'RuntimeError',
      'JSTag', Symbol.toStringTag,
    ]);
    expect(MEMBERS).toEqual(Reflect.ownKeys(cranewasm).filter((key) => typeof key === 'string' && key !== 'JSTag'));
  });

  test("has the attributes, prototype and toStringTag of Node's", () => {
    expect(namespaceShape(cranewasm)).toEqual(namespaceShape(node));
    expect(Object.prototype.toString.call(cranewasm)).toBe('[object WebAssembly]');
  });
});

// Members cranewasm has beyond Node 20's: the type reflection proposal's Tag.prototype.type().
const CRANEWASM_EXTRAS = { Tag: ['type'] };

describe.each(MEMBERS)('WebAssembly.%s', (name) => {
  test("has the shape of Node's: descriptors, name, length, prototype object and chain", () => {
    const ours = memberShape(cranewasm, name);
    for (const extra of CRANEWASM_EXTRAS[name] || []) {
      expect(ours.prototype.keys).toContain(extra);
      ours.prototype.keys = ours.prototype.keys.filter((key) => key !== extra);
      delete ours.prototype.properties[extra];
    }
    expect(ours).toEqual(memberShape(node, name));
  });
});

describe('constructors', () => {
  test.each(INTERFACES)('%s throws a TypeError without new, as Node', (name) => {
    for (const args of [[], [EMPTY_MODULE], [{ initial: 1, element: 'anyfunc', value: 'i32' }]]) {
      const ours = outcome(() => cranewasm[name](...args));
      expect(ours).toEqual(outcome(() => node[name](...args)));
      expect(ours.message).toBe(`WebAssembly.${name}(): WebAssembly.${name} must be invoked with 'new'`);
    }
  });

  test.each(['compile', 'validate', 'instantiate', 'compileStreaming', 'instantiateStreaming'])(
    '%s is not a constructor', (name) => {
      const Ours = cranewasm[name];
      const Node = node[name];
      expect(() => new Ours(EMPTY_MODULE)).toThrow(TypeError);
      expect(() => new Node(EMPTY_MODULE)).toThrow(TypeError);
    },
  );

  test('a Module subclass constructs branded instances of itself, as in Node', () => {
    for (const W of [cranewasm, node]) {
      class Sub extends W.Module {}
      const module = new Sub(EMPTY_MODULE);
      expect(module).toBeInstanceOf(Sub);
      expect(module).toBeInstanceOf(W.Module);
      expect(Object.getPrototypeOf(module)).toBe(Sub.prototype);
      expect(W.Module.exports(module)).toEqual([]);
      expect(Object.prototype.toString.call(module)).toBe('[object WebAssembly.Module]');
    }
  });

  test('Reflect.construct with another new.target takes its prototype', () => {
    function Other() {}
    const ours = Reflect.construct(cranewasm.Module, [EMPTY_MODULE], Other);
    const theirs = Reflect.construct(node.Module, [EMPTY_MODULE], Other);
    expect(Object.getPrototypeOf(ours)).toBe(Other.prototype);
    expect(Object.getPrototypeOf(theirs)).toBe(Other.prototype);
    expect(cranewasm.Module.imports(ours)).toEqual(node.Module.imports(theirs));
  });

  test('Module objects have no own properties and the right toStringTag', () => {
    const module = new cranewasm.Module(EMPTY_MODULE);
    expect(Reflect.ownKeys(module)).toEqual(Reflect.ownKeys(new node.Module(EMPTY_MODULE)));
    expect(Reflect.ownKeys(module)).toEqual([]);
    expect(module).toBeInstanceOf(cranewasm.Module);
    expect(module).not.toBeInstanceOf(node.Module);
    expect(Object.prototype.toString.call(module)).toBe('[object WebAssembly.Module]');
  });
});

describe('error classes', () => {
  // Everything about an error but its stack text, which names different call sites.
  const anatomy = (err) => ({
    ownKeys: Reflect.ownKeys(err),
    message: Object.getOwnPropertyDescriptor(err, 'message'),
    cause: Object.getOwnPropertyDescriptor(err, 'cause'),
    name: err.name,
    string: String(err),
    tag: Object.prototype.toString.call(err),
    isError: err instanceof Error,
    firstStackLine: err.stack.split('\n')[0],
  });

  describe.each(ERROR_CLASSES)('%s', (name) => {
    const Ours = cranewasm[name];
    const Node = node[name];

    test.each([
      ['new, message', (E) => new E('boom')],
      ['call, message', (E) => E('boom')],
      ['new, no message', (E) => new E()],
      ['call, undefined message', (E) => E(undefined)],
      ['new, object message', (E) => new E({ toString: () => 'converted' })],
      ['new, cause', (E) => new E('boom', { cause: 42 })],
      ['call, cause', (E) => E('boom', { cause: undefined })],
      ['new, options without cause', (E) => new E('boom', {})],
    ])('%s: builds the error Node builds', (_, make) => {
      const ours = make(Ours);
      expect(ours).toBeInstanceOf(Ours);
      expect(anatomy(ours)).toEqual(anatomy(make(Node)));
    });

    test('the stack starts at the caller, not inside cranewasm', () => {
      const frames = new Ours('boom').stack.split('\n');
      expect(frames[0]).toBe(`${name}: boom`);
      expect(frames[1]).toContain('namespace.test.js');
    });

    test('a Symbol message throws the same TypeError', () => {
      expect(outcome(() => new Ours(Symbol('s')))).toEqual(outcome(() => new Node(Symbol('s'))));
    });

    test('subclasses work as with Node', () => {
      const make = (E) => {
        class Sub extends E {}
        const err = new Sub('sub');
        return { ...anatomy(err), isSub: err instanceof Sub, isBase: err instanceof E };
      };
      expect(make(Ours)).toEqual(make(Node));
    });

    test('is distinct from the other error classes and from Node\'s', () => {
      const err = new Ours('x');
      for (const other of ERROR_CLASSES.filter((n) => n !== name)) expect(err).not.toBeInstanceOf(cranewasm[other]);
      expect(err).not.toBeInstanceOf(Node);
    });
  });
});

describe('brand checks', () => {
  // Receivers that are not objects of the interface in either implementation.
  const RECEIVERS = {
    undefined: () => undefined,
    null: () => null,
    number: () => 1,
    'plain object': () => ({}),
    'the prototype': (W, name) => W[name].prototype,
    'an object inheriting the prototype': (W, name) => Object.create(W[name].prototype),
    'a Module': (W) => new W.Module(EMPTY_MODULE),
  };

  const cases = [];
  for (const name of INTERFACES) {
    for (const key of Reflect.ownKeys(node[name].prototype)) {
      if (key === 'constructor' || typeof key === 'symbol') continue;
      const descriptor = Object.getOwnPropertyDescriptor(node[name].prototype, key);
      for (const part of ['get', 'set', 'value']) {
        if (typeof descriptor[part] !== 'function') continue;
        for (const receiver of Object.keys(RECEIVERS)) {
          if (name === 'Module' && receiver === 'a Module') continue;
          cases.push([`${name}.prototype.${key}`, part, receiver, name, key]);
        }
      }
    }
  }

  test('cover every method, getter and setter of the interfaces', () => {
    const members = new Set(cases.map(([member, part]) => `${member} ${part}`));
    expect([...members].sort()).toEqual([
      'Global.prototype.value get', 'Global.prototype.value set', 'Global.prototype.valueOf value',
      'Instance.prototype.exports get',
      'Memory.prototype.buffer get', 'Memory.prototype.grow value',
      'Table.prototype.get value', 'Table.prototype.grow value', 'Table.prototype.length get',
      'Table.prototype.set value',
    ]);
  });

  test.each(cases)('%s (%s) on %s throws the TypeError Node throws', (_, part, receiver, name, key) => {
    const call = (W) => {
      const fn = Object.getOwnPropertyDescriptor(W[name].prototype, key)[part];
      return fn.call(RECEIVERS[receiver](W, name), 0, 0);
    };
    const ours = outcome(() => call(cranewasm));
    expect(ours.threw).toBe('TypeError');
    expect(ours).toEqual(outcome(() => call(node)));
  });

  test.each(['imports', 'exports', 'customSections'])(
    'Module.%s refuses non-Modules as Node does', (key) => {
      for (const [receiver, make] of Object.entries(RECEIVERS)) {
        if (receiver === 'a Module') continue;
        const ours = outcome(() => cranewasm.Module[key](make(cranewasm, 'Module'), 'name'));
        expect(ours.threw).toBe('TypeError');
        expect(ours).toEqual(outcome(() => node.Module[key](make(node, 'Module'), 'name')));
      }
    },
  );

  test('objects of Node\'s own WebAssembly are not cranewasm objects', () => {
    const nodeModule = new node.Module(EMPTY_MODULE);
    expect(() => cranewasm.Module.exports(nodeModule)).toThrow(TypeError);
    expect(() => new cranewasm.Instance(nodeModule)).toThrow('WebAssembly.Instance(): Argument 0 must be a WebAssembly.Module');
    const nodeMemory = new node.Memory({ initial: 0 });
    expect(() => cranewasm.Memory.prototype.grow.call(nodeMemory, 0)).toThrow('WebAssembly.Memory.grow(): Receiver is not a WebAssembly.Memory');
    const nodeTable = new node.Table({ initial: 0, element: 'anyfunc' });
    expect(() => cranewasm.Table.prototype.get.call(nodeTable, 0)).toThrow('WebAssembly.Table.get(): Receiver is not a WebAssembly.Table');
    const nodeGlobal = new node.Global({ value: 'i32' }, 1);
    expect(() => cranewasm.Global.prototype.valueOf.call(nodeGlobal)).toThrow('WebAssembly.Global.valueOf(): Receiver is not a WebAssembly.Global');
  });

  test('a Proxy of a Module is not a Module, as in Node', () => {
    const ours = outcome(() => cranewasm.Module.imports(new Proxy(new cranewasm.Module(EMPTY_MODULE), {})));
    expect(ours).toEqual(outcome(() => node.Module.imports(new Proxy(new node.Module(EMPTY_MODULE), {}))));
    expect(ours.threw).toBe('TypeError');
  });
});

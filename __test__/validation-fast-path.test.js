// Function bodies in the validation fast path's domain (crates/engine/src/compiler/
// fast_validation.rs: numbers, locals, globals, memory 0, blocks, branches, calls), against
// Node's built-in: invalid ones must be refused exactly where V8 refuses them (validate() false,
// a CompileError naming the function and a byte offset), valid ones, including the corners of
// unreachable code and LEBs of every width, accepted and run to the same results.
'use strict';

const { cranewasm, node, outcome } = require('./helpers/differential.js');
const { ModuleBuilder, uleb } = require('./helpers/wasm-builder.js');

// A module with a memory, a funcref table, an immutable and a mutable i32 global, a helper
// `(i32) -> i32` (function 0), and the function under test (function 1) of type
// `params -> results` with body `body` (without its final `end`) and `locals`, exported as `f`.
function module({ params = ['i32', 'i32'], results = ['i32'], body, locals = [], memory = true, table = true }) {
  const b = new ModuleBuilder();
  if (memory) b.memory({ min: 1 });
  if (table) b.table({ element: 'funcref', min: 2 });
  b.global({ type: 'i32' });
  b.global({ type: 'i32', mutable: true });
  b.function(['i32'], ['i32'], [0x20, 0, 0x41, 1, 0x6a]);
  const f = b.function(params, results, body, locals);
  b.export('f', 'function', f);
  return b.toBytes();
}

// `value` as an unsigned LEB padded to `n` bytes.
function padded(value, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const byte = value & 0x7f;
    value >>>= 7;
    out.push(i < n - 1 ? byte | 0x80 : byte);
  }
  return out;
}

const INVALID = {
  'i32.add of i64 operands': { body: [0x42, 0, 0x42, 0, 0x6a] },
  'an i64 where unreachable code needs an i32': { body: [0x00, 0x42, 0, 0x6a] },
  'too few operands': { body: [0x20, 0, 0x6a] },
  'a value left in a block': { body: [0x02, 0x40, 0x41, 0, 0x0b, 0x41, 0] },
  'a block ending without its result': { body: [0x02, 0x7f, 0x0b] },
  'br_table targets of different arities': {
    body: [0x02, 0x40, 0x02, 0x7f, 0x41, 0, 0x20, 0, 0x0e, 1, 0, 1, 0x0b, 0x1a, 0x0b, 0x41, 0],
  },
  'br_table targets of different types': {
    body: [0x02, 0x7e, 0x02, 0x7f, 0x41, 0, 0x20, 0, 0x0e, 1, 0, 1, 0x0b, 0x0b, 0x1a, 0x41, 0],
  },
  'br to a label that does not exist': { body: [0x0c, 1] },
  'br_if carrying the wrong type': { body: [0x02, 0x7f, 0x42, 0, 0x20, 0, 0x0d, 0, 0x1a, 0x41, 0, 0x0b] },
  'an if without else that must produce a value': { body: [0x20, 0, 0x04, 0x7f, 0x41, 1, 0x0b] },
  'else outside an if': { body: [0x02, 0x40, 0x05, 0x0b, 0x41, 0] },
  'a load aligned beyond its width': { body: [0x20, 0, 0x28, 3, 0] },
  'a store8 aligned to 2 bytes': { body: [0x20, 0, 0x20, 1, 0x3a, 1, 0, 0x41, 0] },
  'a load without a memory': { body: [0x20, 0, 0x28, 2, 0], memory: false },
  'memory.size without a memory': { body: [0x3f, 0], memory: false },
  'memory.grow of an i64': { body: [0x42, 1, 0x40, 0] },
  'memory.fill with two operands': { body: [0x20, 0, 0x20, 1, 0xfc, 11, 0, 0x41, 0] },
  'a memarg offset of 2^32': { body: [0x20, 0, 0x28, 2, 0x80, 0x80, 0x80, 0x80, 0x10] },
  'global.set of an immutable global': { body: [0x20, 0, 0x24, 0, 0x41, 0] },
  'a global that does not exist': { body: [0x23, 2] },
  'a local that does not exist': { body: [0x20, 9] },
  'local.set of the wrong type': { body: [0x42, 0, 0x21, 0, 0x41, 0] },
  'a call with an i64 argument': { body: [0x42, 0, 0x10, 0] },
  'a call to a function that does not exist': { body: [0x20, 0, 0x10, 7] },
  'call_indirect without a table': { body: [0x20, 0, 0x20, 1, 0x11, 0, 0], table: false },
  'call_indirect of a type that does not exist': { body: [0x20, 0, 0x20, 1, 0x11, 9, 0] },
  'select of an i32 and an i64': { body: [0x20, 0, 0x42, 0, 0x20, 1, 0x1b, 0x1a, 0x41, 0] },
  'drop of nothing': { body: [0x1a, 0x41, 0] },
  'a block type that is no type': { body: [0x02, 0x09, 0x0b, 0x41, 0] },
  'an i32.const too large for 32 bits': { body: [0x41, 0x80, 0x80, 0x80, 0x80, 0x10] },
  'a local index LEB of six bytes': { body: [0x20, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00] },
  'return of the wrong type': { body: [0x42, 0, 0x0f] },
  'an unknown opcode': { body: [0x20, 0, 0x27] },
  'more locals than allowed': { body: [0x20, 0], locals: new Array(50001).fill('i32') },
};

const VALID = {
  'operands of any type after unreachable': { body: [0x00, 0x6a, 0x1a, 0x41, 0] },
  'select after unreachable': { body: [0x00, 0x1b] },
  'br_table to labels of different types in unreachable code': {
    body: [0x02, 0x7f, 0x02, 0x7d, 0x00, 0x41, 0, 0x0e, 1, 0, 1, 0x0b, 0x1a, 0x41, 7, 0x0b],
  },
  'br_if passing its value on': { body: [0x02, 0x7f, 0x20, 0, 0x20, 1, 0x0d, 0, 0x41, 1, 0x6a, 0x0b] },
  'LEBs padded to five bytes': {
    body: [0x20, ...padded(0, 5), 0x20, ...padded(1, 5), 0x6a, 0x10, ...padded(0, 5), 0x41, ...padded(3, 5), 0x6a],
  },
  'a block of a function type with parameters': {
    // Type 1 is (i32, i32) -> (i32): the function's own.
    body: [0x20, 0, 0x20, 1, 0x02, 1, 0x6a, 0x0b],
  },
  // Block type 0 is the helper's (i32) -> (i32).
  'an if without else passing its parameter on': { body: [0x20, 0, 0x20, 1, 0x04, 0, 0x41, 2, 0x6b, 0x0b] },
  'loads, stores and bulk memory': {
    body: [
      0x41, 0, 0x20, 0, 0x36, 2, 8, // i32.store offset=8
      0x41, 16, 0x41, 8, 0x41, 4, 0xfc, 10, 0, 0, // memory.copy 16 <- 8, 4 bytes
      0x41, 0, 0x41, 0, 0x41, 4, 0xfc, 11, 0, // memory.fill 0..4 with 0
      0x41, 0, 0x28, 2, 16, // i32.load offset=16
      0x3f, 0, 0x6a, // + memory.size
    ],
  },
  'a loop with br_table and call_indirect': {
    locals: ['i32'],
    body: [
      0x02, 0x40, 0x03, 0x40, // block loop
      0x20, 2, 0x41, 1, 0x6a, 0x22, 2, // local.tee 2 (local 2 + 1)
      0x20, 0, 0x4e, 0x0d, 1, // br_if 1 when local 2 >= param 0
      0x20, 2, 0x41, 3, 0x71, 0x0e, 2, 0, 0, 0, // br_table 0 0 (loop)
      0x0b, 0x0b,
      0x20, 2, 0x20, 1, 0x6a,
    ],
  },
  'the saturating and sign-extending conversions': {
    body: [0x20, 0, 0xb2, 0xfc, 0, 0x20, 1, 0xac, 0xc4, 0xa7, 0x6a, 0xc0],
  },
};

describe('invalid bodies: refused as Node refuses them', () => {
  for (const [title, spec] of Object.entries(INVALID)) {
    test(title, async () => {
      const bytes = module(spec);
      expect(node.validate(bytes)).toBe(false);
      expect(cranewasm.validate(bytes)).toBe(false);
      const ours = outcome(() => new cranewasm.Module(bytes));
      const theirs = outcome(() => new node.Module(bytes));
      expect(ours.threw).toBe(theirs.threw);
      expect(ours.threw).toBe('CompileError');
      // Both name function #1, the function under test; the offset is in its body, the last
      // bytes of the module (wasmparser's offsets are not always V8's: V8 points at the
      // operator, wasmparser now and then at its immediate or the operator after).
      const where = (message) => message.match(/Compiling function #(\d+)\b.*@\+(\d+)$/)?.slice(1).map(Number);
      const [index, offset] = where(ours.message);
      expect(index).toBe(1);
      expect(where(theirs.message)[0]).toBe(1);
      const bodyBytes = spec.body.length + 2 * (spec.locals?.length ?? 0) + 8;
      expect(offset).toBeGreaterThanOrEqual(bytes.length - bodyBytes);
      expect(offset).toBeLessThanOrEqual(bytes.length);
      await expect(cranewasm.compile(bytes)).rejects.toThrow(cranewasm.CompileError);
    });
  }
});

describe('valid bodies: accepted, and they run as on Node', () => {
  for (const [title, spec] of Object.entries(VALID)) {
    test(title, async () => {
      const bytes = module(spec);
      expect(node.validate(bytes)).toBe(true);
      expect(cranewasm.validate(bytes)).toBe(true);
      const run = (engine) =>
        outcome(() => {
          const { f } = new engine.Instance(new engine.Module(bytes), {}).exports;
          return [f(5, 9), f(0, 0), f(-3, 100)];
        });
      expect(run(cranewasm)).toEqual(run(node));
      const compiled = await cranewasm.compile(bytes);
      expect(compiled).toBeInstanceOf(cranewasm.Module);
    });
  }
});

test('the first invalid body among many valid ones is the one reported', () => {
  // 3,000 valid bodies (the validation tasks take them in batches), then bad ones: the error
  // names the first bad function, as Node's does.
  const b = new ModuleBuilder();
  for (let i = 0; i < 3000; i++) {
    b.function(['i32', 'i32'], ['i32'], [0x20, 0, 0x20, 1, 0x6a, 0x41, ...uleb(i), 0x6c]);
  }
  b.function(['i32'], ['i32'], [0x42, 0]); // #3000: an i64 where an i32 is returned
  b.function(['i32'], ['i32'], [0x1a]); // #3001: drop of nothing
  const bytes = b.toBytes();
  const ours = outcome(() => new cranewasm.Module(bytes));
  const theirs = outcome(() => new node.Module(bytes));
  expect(ours.threw).toBe('CompileError');
  expect(theirs.threw).toBe('CompileError');
  expect(ours.message).toMatch(/Compiling function #3000\b/);
  expect(theirs.message).toMatch(/Compiling function #3000\b/);
});

// What the single-pass tier covers beyond scalar code (issue 17): atomics, compared with Node's
// WebAssembly, with every function asserted to be single-pass code (compileStatus().fallbacks
// is 0), so that the comparison is about that tier's code.
'use strict';

const engine = require('../engine');
const { cranewasm, node } = require('./helpers/differential.js');
const { outcome } = require('./helpers/differential');

let wabt;
beforeAll(async () => {
  wabt = await require('wabt')();
});

const saved = engine.getCompileOptions();
beforeEach(() => engine.setCompileOptions({ firstTier: 'singlepass', lazy: false, tierUp: 'off' }));
afterEach(() => engine.setCompileOptions(saved));

function wat(text, features = {}) {
  const all = { threads: true, multi_value: true, reference_types: true, bulk_memory: true, ...features };
  const parsed = wabt.parseWat('coverage.wat', text, all);
  try {
    parsed.resolveNames();
    parsed.validate(all);
    return parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
}

// A compiled module on cranewasm, asserted to have no function left to another tier.
function singlepassModule(bytes) {
  const module = new cranewasm.Module(bytes);
  expect(engine.compileStatus(module)).toMatchObject({ singlepass: expect.any(Number), fallbacks: 0 });
  expect(engine.compileStatus(module).singlepass).toBeGreaterThan(0);
  return module;
}

describe('atomics', () => {
  // Each operator with `pad` values live below its operands, so that its operands and result
  // take every register of the pool (byte forms of rsi/rdi/r8+ need a REX prefix).
  const OPS = [
    ['i32.atomic.rmw8.add_u', 'i32'], ['i32.atomic.rmw8.sub_u', 'i32'], ['i32.atomic.rmw8.xchg_u', 'i32'],
    ['i32.atomic.rmw8.and_u', 'i32'], ['i32.atomic.rmw8.or_u', 'i32'], ['i32.atomic.rmw8.xor_u', 'i32'],
    ['i64.atomic.rmw16.add_u', 'i64'], ['i64.atomic.rmw16.xor_u', 'i64'], ['i64.atomic.rmw32.sub_u', 'i64'],
    ['i64.atomic.rmw.and', 'i64'], ['i32.atomic.rmw.or', 'i32'], ['i64.atomic.rmw.xchg', 'i64'],
  ];
  function source() {
    const funcs = [];
    for (let pad = 0; pad <= 9; pad++) {
      const pads = Array.from({ length: pad }, (_, k) => `(i32.add (local.get 0) (i32.const ${k}))`).join(' ');
      const sum = '(i32.add)'.repeat(pad);
      for (const [op, t] of OPS) {
        const wrap = t === 'i64' ? '(i32.wrap_i64)' : '';
        funcs.push(`(func (export "${op}/${pad}") (param i32 ${t}) (result i32)
          ${pads} (${op} (local.get 0) (local.get 1)) ${wrap} ${sum})`);
      }
      funcs.push(`(func (export "cas8/${pad}") (param i32 i32 i32) (result i32)
        ${pads} (i32.atomic.rmw8.cmpxchg_u (local.get 0) (local.get 1) (local.get 2)) ${sum})`);
      funcs.push(`(func (export "store8/${pad}") (param i32 i32) (result i32)
        ${pads} (i32.atomic.store8 offset=1 (local.get 0) (local.get 1)) (i32.atomic.load8_u offset=1 (local.get 0)) ${sum})`);
    }
    return `(module (memory (export "memory") 1 1 shared) ${funcs.join('\n')})`;
  }

  function exercise(W, module) {
    const e = new W.Instance(module).exports;
    const log = [];
    for (const name of Object.keys(e).filter((n) => n !== 'memory').sort()) {
      const t = name.startsWith('i64') ? (x) => BigInt(x) : (x) => x;
      const args = name.startsWith('cas8') ? [[8, 0x1ff, 0x2a5], [8, 0xa5, 0x1ff], [8, 0xff, 3]] : [[8, t(0x1234567f)], [8, t(-1)], [7, t(0x81)]];
      for (const a of args) log.push([name, a.map(String), outcome(() => String(e[name](...a)))]);
    }
    log.push(Array.from(new Uint8Array(e.memory.buffer, 0, 24)));
    return log;
  }

  test('narrow and wide read-modify-writes in every pool register give what Node gives', () => {
    const bytes = wat(source());
    const ours = exercise(cranewasm, singlepassModule(bytes));
    const theirs = exercise(node, new node.Module(bytes));
    expect(ours).toEqual(theirs);
    expect(ours.some((entry) => entry[2] && entry[2].message === 'operation does not support unaligned accesses')).toBe(true);
  });
});

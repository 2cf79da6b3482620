// The compile benchmark's own module: about 3 MB of code in 4,000 functions whose bodies are
// made of the shapes compilers meet in real programs (arithmetic chains, counted loops, loads
// and stores of every width, branches, br_table switches, direct calls, call_indirect through
// a table, i64 and f64 work, globals). Sizes are spread as in real modules: many small
// functions, a few large ones. The binary is emitted directly and is the same on every run
// (a seeded generator, no clock or Math.random), so every run compiles the same bytes.
//
// Nothing is meant to run except the export `first` (function 0: `x + 1`), the cheap call
// the benchmark makes; other bodies only have to be valid.
'use strict';

const FUNCTIONS = 4000;
const TABLE_SIZE = 1024;
const MIN_BODY = 30; // bytes, roughly: a body grows segment by segment until past its target
const MAX_BODY = 4000;
const GLOBALS = 8;

const I32 = 0x7f;
const I64 = 0x7e;
const F64 = 0x7c;

// Signatures: [params, result]. Every body has the same declared locals after its params (see
// `Locals`), so segments can work on any function.
const TYPES = [
  [[I32, I32], I32],
  [[I32], I32],
  [[I32, I32, I32], I32],
  [[I64, I32], I64],
  [[F64, F64], F64],
];
const TYPE_WEIGHTS = [5, 3, 2, 1, 1];
const DECLARED = [[6, I32], [2, I64], [2, F64]];

// mulberry32: small, fast, and the same everywhere.
function random(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (n) => Math.floor(next() * n);
  next.pick = (list) => list[next.int(list.length)];
  next.weighted = (weights) => {
    let r = next() * weights.reduce((a, b) => a + b, 0);
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i];
      if (r < 0) return i;
    }
    return weights.length - 1;
  };
  return next;
}

function uleb(value, out) {
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
}

function sleb(value, out) {
  let v = BigInt(value);
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

function vector(items, encode, out) {
  uleb(items.length, out);
  for (const item of items) encode(item, out);
}

function section(id, content, out) {
  out.push(id);
  uleb(content.length, out);
  for (let i = 0; i < content.length; i += 65536) out.push(...content.slice(i, i + 65536));
}

// The local indices of one function by type: its params, then DECLARED.
class Locals {
  constructor(params) {
    this.i32 = [];
    this.i64 = [];
    this.f64 = [];
    const add = (type, index) => this[{ [I32]: 'i32', [I64]: 'i64', [F64]: 'f64' }[type]].push(index);
    params.forEach((type, i) => add(type, i));
    let index = params.length;
    for (const [count, type] of DECLARED) for (let i = 0; i < count; i++) add(type, index++);
  }
}

// Emits one body's instructions; each segment leaves the stack as it found it.
class BodyWriter {
  constructor(rand, locals, functionTypes) {
    this.rand = rand;
    this.locals = locals;
    this.functionTypes = functionTypes;
    this.code = [];
  }

  op(...bytes) {
    this.code.push(...bytes);
  }

  get(list) {
    this.op(0x20);
    uleb(this.rand.pick(list), this.code);
  }

  set(list) {
    this.op(0x21);
    uleb(this.rand.pick(list), this.code);
  }

  i32Const(value) {
    this.op(0x41);
    sleb(value | 0, this.code);
  }

  // An i32 expression of `depth` levels of binary operators over locals and constants.
  i32Expr(depth) {
    const r = this.rand;
    if (depth === 0 || r() < 0.25) {
      if (r() < 0.7) this.get(this.locals.i32);
      else this.i32Const(r.int(1 << 20) - (1 << 19));
      return;
    }
    this.i32Expr(depth - 1);
    this.i32Expr(depth - 1);
    // add sub mul and or xor shl shr_s shr_u rotl, and a comparison now and then
    this.op(r.pick([0x6a, 0x6b, 0x6c, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x6a, 0x6c, 0x48, 0x4f]));
  }

  // An in-bounds address for an access of 8 bytes at most (memory is one 64 KiB page).
  address() {
    this.i32Expr(1);
    this.i32Const(0xfff0);
    this.op(0x71);
  }

  arithmetic() {
    this.i32Expr(2 + this.rand.int(3));
    this.set(this.locals.i32);
  }

  memory() {
    const r = this.rand;
    const offset = r.int(8) * 8;
    switch (r.int(6)) {
      case 0: // i32.store
        this.address();
        this.i32Expr(2);
        this.op(0x36, 0x02);
        uleb(offset, this.code);
        break;
      case 1: // i32.load8_u / load16_s into an i32 local
        this.address();
        this.op(r() < 0.5 ? 0x2d : 0x2e, 0x00);
        uleb(offset, this.code);
        this.set(this.locals.i32);
        break;
      case 2: // i32.load, added into a local
        this.address();
        this.op(0x28, 0x02);
        uleb(offset, this.code);
        this.get(this.locals.i32);
        this.op(0x6a);
        this.set(this.locals.i32);
        break;
      case 3: // i64.load / i64.store
        this.address();
        this.op(0x29, 0x03);
        uleb(offset, this.code);
        this.set(this.locals.i64);
        this.address();
        this.get(this.locals.i64);
        this.op(0x37, 0x03);
        uleb(offset, this.code);
        break;
      case 4: // f64.load, f64.store
        this.address();
        this.op(0x2b, 0x03);
        uleb(offset, this.code);
        this.set(this.locals.f64);
        this.address();
        this.get(this.locals.f64);
        this.op(0x39, 0x03);
        uleb(offset, this.code);
        break;
      default: // i32.store8 of a loaded byte: a copy
        this.address();
        this.address();
        this.op(0x2d, 0x00, 0x00);
        this.op(0x3a, 0x00);
        uleb(offset, this.code);
    }
  }

  wide() {
    const r = this.rand;
    if (r() < 0.5) {
      // i64: extend, multiply, rotate, add
      this.get(this.locals.i64);
      this.i32Expr(1);
      this.op(0xad); // i64.extend_i32_u
      this.op(r.pick([0x7e, 0x7c, 0x85, 0x89])); // mul add xor rotl
      this.op(0x42);
      sleb(r.int(1 << 30), this.code);
      this.op(0x7c);
      this.set(this.locals.i64);
    } else {
      // f64: convert, multiply-add, sqrt, compare back to i32
      this.get(this.locals.f64);
      this.i32Expr(1);
      this.op(0xb7); // f64.convert_i32_s
      this.op(r.pick([0xa0, 0xa2, 0xa1])); // add mul sub
      this.op(0x9f); // sqrt
      this.op(0x44);
      const c = Buffer.alloc(8);
      c.writeDoubleLE(1 + r(), 0);
      this.code.push(...c);
      this.op(0xa0);
      this.set(this.locals.f64);
      this.get(this.locals.f64);
      this.get(this.locals.f64);
      this.op(0x64); // f64.gt
      this.get(this.locals.i32);
      this.op(0x6a);
      this.set(this.locals.i32);
    }
  }

  global() {
    const index = this.rand.int(GLOBALS);
    this.op(0x23);
    uleb(index, this.code);
    this.i32Expr(1);
    this.op(0x6a, 0x24);
    uleb(index, this.code);
  }

  // Pushes arguments of `type` from locals and stores its result into a local.
  args(type) {
    const [params] = TYPES[type];
    for (const p of params) {
      if (p === I32) this.i32Expr(1);
      else if (p === I64) this.get(this.locals.i64);
      else this.get(this.locals.f64);
    }
  }

  keep(type) {
    const result = TYPES[type][1];
    this.set(result === I32 ? this.locals.i32 : result === I64 ? this.locals.i64 : this.locals.f64);
  }

  call() {
    const callee = this.rand.int(FUNCTIONS);
    const type = this.functionTypes[callee];
    this.args(type);
    this.op(0x10);
    uleb(callee, this.code);
    this.keep(type);
  }

  callIndirect() {
    const type = this.rand.weighted(TYPE_WEIGHTS);
    this.args(type);
    this.i32Expr(1);
    this.i32Const(TABLE_SIZE - 1);
    this.op(0x71, 0x11);
    uleb(type, this.code);
    this.op(0x00);
    this.keep(type);
  }

  branch(depth) {
    this.i32Expr(2);
    this.op(0x04, 0x40); // if (no result)
    this.segments(depth + 1, 1 + this.rand.int(3));
    if (this.rand() < 0.6) {
      this.op(0x05);
      this.segments(depth + 1, 1 + this.rand.int(3));
    }
    this.op(0x0b);
  }

  switch(depth) {
    const arms = 2 + this.rand.int(5);
    this.op(0x02, 0x40); // the exit block
    for (let i = 0; i < arms; i++) this.op(0x02, 0x40);
    this.i32Expr(1);
    this.op(0x0e);
    uleb(arms - 1, this.code);
    for (let i = 0; i < arms - 1; i++) uleb(this.rand.int(arms), this.code);
    uleb(arms - 1, this.code);
    for (let i = 0; i < arms; i++) {
      this.op(0x0b);
      this.segments(depth + 1, 1 + this.rand.int(2));
      this.op(0x0c);
      uleb(arms - 1 - i, this.code); // br to the exit block
    }
    this.op(0x0b);
  }

  // A counted loop: block { loop { …; i += 1; br_if loop (i < n) } }, its counter and bound in
  // i32 locals chosen once.
  loop(depth) {
    const [counter, bound] = [this.rand.pick(this.locals.i32), this.rand.pick(this.locals.i32)];
    this.i32Const(0);
    this.op(0x21);
    uleb(counter, this.code);
    this.op(0x02, 0x40, 0x03, 0x40);
    this.segments(depth + 1, 2 + this.rand.int(4), counter);
    this.op(0x20);
    uleb(counter, this.code);
    this.i32Const(1);
    this.op(0x6a, 0x22); // local.tee
    uleb(counter, this.code);
    this.op(0x20);
    uleb(bound, this.code);
    this.i32Const(255);
    this.op(0x71, 0x49, 0x0d, 0x00, 0x0b, 0x0b); // and lt_u br_if 0 end end
  }

  // `count` segments; nested ones at most three deep. `counter`, when given, is a loop's and
  // is not written by the segments inside it (the loop must stay counted).
  segments(depth, count, counter) {
    for (let i = 0; i < count; i++) this.segment(depth, counter);
  }

  segment(depth, counter) {
    const saved = this.locals.i32;
    if (counter !== undefined) this.locals = { ...this.locals, i32: saved.filter((l) => l !== counter) };
    const leaf = [this.arithmetic, this.memory, this.memory, this.wide, this.global, this.call, this.callIndirect];
    const nested = [this.branch, this.switch, this.loop];
    const r = this.rand();
    if (depth < 3 && r < 0.3) this.rand.pick(nested).call(this, depth);
    else this.rand.pick(leaf).call(this);
    if (counter !== undefined) this.locals = { ...this.locals, i32: saved };
  }
}

function body(rand, index, type, functionTypes) {
  const [params, result] = TYPES[type];
  const locals = new Locals(params);
  const writer = new BodyWriter(rand, locals, functionTypes);
  if (index === 0) {
    // `first`: (x) => x + 1, the benchmark's cheap call.
    writer.op(0x20, 0x00, 0x41, 0x01, 0x6a);
  } else {
    // Log-uniform target size: many small bodies, a few large.
    const target = Math.round(MIN_BODY * Math.exp(rand() * Math.log(MAX_BODY / MIN_BODY)));
    while (writer.code.length < target) writer.segment(0);
    writer.get(result === I32 ? locals.i32 : result === I64 ? locals.i64 : locals.f64);
  }
  writer.op(0x0b);
  const out = [];
  vector(index === 0 ? [] : DECLARED, ([count, t], o) => { uleb(count, o); o.push(t); }, out);
  out.push(...writer.code);
  const sized = [];
  uleb(out.length, sized);
  return sized.concat(out);
}

/** The module's bytes (the same on every call). */
function syntheticModule() {
  const rand = random(0x5eed);
  const functionTypes = [1]; // function 0 is `first`: (i32) -> i32
  for (let i = 1; i < FUNCTIONS; i++) functionTypes.push(rand.weighted(TYPE_WEIGHTS));

  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types = [];
  vector(TYPES, ([params, result], o) => {
    o.push(0x60);
    vector(params, (p, oo) => oo.push(p), o);
    vector([result], (r, oo) => oo.push(r), o);
  }, types);
  section(1, types, out);

  const functions = [];
  vector(functionTypes, (t, o) => uleb(t, o), functions);
  section(3, functions, out);

  const table = [];
  vector([TABLE_SIZE], (n, o) => { o.push(0x70, 0x00); uleb(n, o); }, table); // funcref, min n
  section(4, table, out);

  const memory = [];
  vector([1], (n, o) => { o.push(0x00); uleb(n, o); }, memory);
  section(5, memory, out);

  const globals = [];
  vector(Array.from({ length: GLOBALS }, (_, i) => i), (i, o) => {
    o.push(I32, 0x01, 0x41);
    sleb(i * 7919, o);
    o.push(0x0b);
  }, globals);
  section(6, globals, out);

  const exports = [];
  const name = (s, o) => vector([...Buffer.from(s)], (b, oo) => oo.push(b), o);
  vector([['first', 0x00, 0], ['memory', 0x02, 0]], ([n, kind, index], o) => {
    name(n, o);
    o.push(kind);
    uleb(index, o);
  }, exports);
  section(7, exports, out);

  const elements = [];
  vector([0], (_, o) => {
    o.push(0x00, 0x41, 0x00, 0x0b); // table 0, offset i32.const 0
    vector(Array.from({ length: TABLE_SIZE }, () => rand.int(FUNCTIONS)), (f, oo) => uleb(f, oo), o);
  }, elements);
  section(9, elements, out);

  const code = [];
  uleb(FUNCTIONS, code);
  for (let i = 0; i < FUNCTIONS; i++) {
    const b = body(rand, i, functionTypes[i], functionTypes);
    for (let j = 0; j < b.length; j += 65536) code.push(...b.slice(j, j + 65536));
  }
  section(10, code, out);
  return Uint8Array.from(out);
}

module.exports = { syntheticModule, uleb, sleb, section };

if (require.main === module) {
  const start = process.hrtime.bigint();
  const bytes = syntheticModule();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  console.log(`${bytes.length} bytes, ${FUNCTIONS} functions, valid: ${WebAssembly.validate(bytes)}, ${ms.toFixed(0)} ms`);
}

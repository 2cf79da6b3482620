// Generated WebAssembly binaries for the tiering tests (__test__/tiering.test.js and
// tiering-driver.js): modules of thousands of functions with sizeable bodies, written straight as
// bytes (no toolchain, no spread of huge arrays), deterministic for a given seed.
'use strict';

function uleb(n, out) {
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb32(n, out) {
  n |= 0;
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function nameBytes(s, out) {
  const b = Buffer.from(s, 'utf8');
  uleb(b.length, out);
  for (const x of b) out.push(x);
  return out;
}

function sectionBuffer(id, payload) {
  return Buffer.concat([Buffer.from(uleb(payload.length, [id])), payload]);
}

// A vector of byte chunks (Buffers) as one Buffer.
function vecBuffer(chunks) {
  return Buffer.concat([Buffer.from(uleb(chunks.length, [])), ...chunks]);
}

// xorshift32: the same module for the same seed.
function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}

const I32 = 0x7f;
const LOCALS = 8; // params 0, 1 and locals 2..7, all i32
const BINOPS = [0x6a /* add */, 0x6b /* sub */, 0x6c /* mul */, 0x71 /* and */, 0x72 /* or */,
  0x73 /* xor */, 0x77 /* rotl */, 0x78 /* rotr */];

// The body of function `index` (type (i32 i32) -> i32): about `statements` statements of i32
// arithmetic over its locals, some inside `if`s and a short counted loop, ending in a checksum of
// its locals; functions after the first also call their predecessor once (so direct calls exist).
function body(index, statements, next) {
  const code = [1, LOCALS - 2, I32]; // one local declaration: 6 i32 locals
  const get = (l) => code.push(0x20, l);
  const set = (l) => code.push(0x21, l);
  const stmt = () => {
    get(next() % LOCALS);
    code.push(0x41); sleb32(next() & 0xffff, code);
    code.push(BINOPS[next() % BINOPS.length]);
    get(next() % LOCALS);
    code.push(BINOPS[next() % BINOPS.length]);
    set(next() % (LOCALS - 1)); // never the loop counter
  };
  for (let i = 0; i < statements; i++) {
    const r = next() % 16;
    if (r === 0) { // if (local) { statements }
      get(next() % LOCALS);
      code.push(0x04, 0x40);
      stmt(); stmt();
      code.push(0x0b);
    } else if (r === 1 && i + 4 < statements) { // a loop of 3 iterations counted in local 7
      code.push(0x41, 3); set(7);
      code.push(0x03, 0x40); // loop
      stmt(); stmt();
      get(7); code.push(0x41, 1, 0x6b); set(7); // l7 -= 1
      get(7); code.push(0x0d, 0); // br_if 0
      code.push(0x0b);
    } else {
      stmt();
    }
  }
  if (index > 0) { // l2 ^= f(index - 1)(l0, l1 & 0xff)
    get(0); get(1); code.push(0x41); sleb32(0xff, code); code.push(0x71);
    code.push(0x10); uleb(index - 1, code);
    get(2); code.push(0x73); set(2);
  }
  get(0);
  for (let l = 1; l < LOCALS; l++) { get(l); code.push(0x73); }
  code.push(0x0b);
  return code;
}

// A module of `functions` functions of type (i32 i32) -> i32, each of about `statements`
// statements (roughly 10 bytes each), exporting `f<i>` for every i in `exports` (default: the
// first and the last) and carrying a name section ("f<i>") when `names`.
function bigModule({ functions = 1000, statements = 100, seed = 1, exports, names = false } = {}) {
  const next = rng(seed);
  const header = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const type = sectionBuffer(1, Buffer.from([1, 0x60, 2, I32, I32, 1, I32]));
  const funcSection = [];
  uleb(functions, funcSection);
  for (let i = 0; i < functions; i++) funcSection.push(0);
  const exported = exports || [0, functions - 1];
  const exportEntries = exported.map((i) => Buffer.from(uleb(i, nameBytes(`f${i}`, []).concat([0]))));
  const bodies = [];
  for (let i = 0; i < functions; i++) {
    const code = body(i, statements, next);
    bodies.push(Buffer.concat([Buffer.from(uleb(code.length, [])), Buffer.from(code)]));
  }
  const parts = [header, type, sectionBuffer(3, Buffer.from(funcSection)), sectionBuffer(7, vecBuffer(exportEntries)),
    sectionBuffer(10, vecBuffer(bodies))];
  if (names) {
    const entries = [];
    for (let i = 0; i < functions; i++) entries.push(Buffer.from(nameBytes(`f${i}`, uleb(i, []))));
    const sub = vecBuffer(entries);
    parts.push(sectionBuffer(0, Buffer.concat([Buffer.from(nameBytes('name', [])), Buffer.from(uleb(sub.length, [1])), sub])));
  }
  return new Uint8Array(Buffer.concat(parts));
}

module.exports = { bigModule };

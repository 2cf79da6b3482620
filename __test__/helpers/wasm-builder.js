// Hand-assembles WebAssembly binaries for the tests, so that every module a test feeds to both
// cranewasm and Node's WebAssembly is spelled out byte by byte next to the test, with no toolchain.
'use strict';

const SECTION = {
  custom: 0, type: 1, import: 2, function: 3, table: 4, memory: 5, global: 6, export: 7,
  start: 8, element: 9, code: 10, data: 11, dataCount: 12,
};

const VALTYPE = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b, funcref: 0x70, externref: 0x6f };
const KIND = { function: 0, table: 1, memory: 2, global: 3, tag: 4 };

// Opcodes the tests' function bodies use.
const OP = {
  unreachable: 0x00, nop: 0x01, end: 0x0b, localGet: 0x20, globalGet: 0x23, i32Const: 0x41,
  i64Const: 0x42, f32Const: 0x43, f64Const: 0x44, i32Add: 0x6a, refNull: 0xd0, refFunc: 0xd2,
};

function uleb(n) {
  const out = [];
  let v = BigInt(n);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return out;
}

function sleb(n) {
  const out = [];
  let v = BigInt(n);
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function utf8(s) {
  return [...Buffer.from(s, 'utf8')];
}

function name(s) {
  const bytes = utf8(s);
  return [...uleb(bytes.length), ...bytes];
}

function vec(items) {
  return [...uleb(items.length), ...items.flat()];
}

function section(id, payload) {
  return [id, ...uleb(payload.length), ...payload];
}

// A value type's bytes: a name of VALTYPE, or the bytes themselves (an array, e.g. [0x63, 0]
// for `(ref null 0)`).
function valtype(t) {
  if (Array.isArray(t)) return t;
  if (!(t in VALTYPE)) throw new Error(`wasm-builder: unknown value type ${t}`);
  return [VALTYPE[t]];
}

function limits({ min, max, shared = false }) {
  const flags = (max === undefined ? 0 : 1) | (shared ? 2 : 0);
  return [flags, ...uleb(min), ...(max === undefined ? [] : uleb(max))];
}

const tableType = ({ element = 'funcref', min, max }) => [...valtype(element), ...limits({ min, max })];
const globalType = ({ type, mutable = false }) => [...valtype(type), mutable ? 1 : 0];

// A constant expression producing the default value of `type`.
function defaultInit(type) {
  switch (type) {
    case 'i32': return [OP.i32Const, 0, OP.end];
    case 'i64': return [OP.i64Const, 0, OP.end];
    case 'f32': return [OP.f32Const, 0, 0, 0, 0, OP.end];
    case 'f64': return [OP.f64Const, 0, 0, 0, 0, 0, 0, 0, 0, OP.end];
    default: return [OP.refNull, ...valtype(type), OP.end];
  }
}

class ModuleBuilder {
  constructor() {
    this.types = [];
    this.imports = [];
    this.functions = [];
    this.tables = [];
    this.memories = [];
    this.globals = [];
    this.exports = [];
    this.start = undefined;
    this.customs = { start: [], end: [] };
    this.importedFunctions = 0;
  }

  // Returns the type index, reusing an identical signature.
  type(params = [], results = []) {
    const bytes = [0x60, ...vec(params.map(valtype)), ...vec(results.map(valtype))];
    const key = bytes.join(',');
    const found = this.types.findIndex((t) => t.join(',') === key);
    if (found >= 0) return found;
    this.types.push(bytes);
    return this.types.length - 1;
  }

  importFunction(module, field, params = [], results = []) {
    const type = this.type(params, results);
    this.imports.push([...name(module), ...name(field), KIND.function, ...uleb(type)]);
    return this.importedFunctions++;
  }

  importTable(module, field, type) {
    this.imports.push([...name(module), ...name(field), KIND.table, ...tableType(type)]);
    return this;
  }

  importMemory(module, field, type) {
    this.imports.push([...name(module), ...name(field), KIND.memory, ...limits(type)]);
    return this;
  }

  importGlobal(module, field, type) {
    this.imports.push([...name(module), ...name(field), KIND.global, ...globalType(type)]);
    return this;
  }

  // `body` is the instruction bytes without the final `end`; returns the function index.
  function(params = [], results = [], body = [], locals = []) {
    const type = this.type(params, results);
    const localDecls = vec(locals.map((t) => [1, ...valtype(t)]));
    this.functions.push({ type, code: [...localDecls, ...body, OP.end] });
    return this.importedFunctions + this.functions.length - 1;
  }

  table(type) {
    this.tables.push(tableType(type));
    return this;
  }

  memory(type) {
    this.memories.push(limits(type));
    return this;
  }

  global(type, init = defaultInit(type.type)) {
    this.globals.push([...globalType(type), ...init]);
    return this;
  }

  export(field, kind, index) {
    if (!(kind in KIND)) throw new Error(`wasm-builder: unknown export kind ${kind}`);
    this.exports.push([...name(field), KIND[kind], ...uleb(index)]);
    return this;
  }

  startFunction(index) {
    this.start = index;
    return this;
  }

  // A custom section before all others (`where = 'start'`) or after all others.
  custom(field, payload = [], where = 'end') {
    this.customs[where].push(section(SECTION.custom, [...name(field), ...payload]));
    return this;
  }

  toBytes() {
    const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    const add = (id, items) => {
      if (items.length > 0) out.push(...section(id, vec(items)));
    };
    for (const c of this.customs.start) out.push(...c);
    add(SECTION.type, this.types);
    add(SECTION.import, this.imports);
    add(SECTION.function, this.functions.map((f) => uleb(f.type)));
    add(SECTION.table, this.tables);
    add(SECTION.memory, this.memories);
    add(SECTION.global, this.globals);
    add(SECTION.export, this.exports);
    if (this.start !== undefined) out.push(...section(SECTION.start, uleb(this.start)));
    add(SECTION.code, this.functions.map((f) => [...uleb(f.code.length), ...f.code]));
    for (const c of this.customs.end) out.push(...c);
    return new Uint8Array(out);
  }
}

module.exports = { ModuleBuilder, OP, SECTION, uleb, sleb, name, section, vec };

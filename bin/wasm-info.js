// What the cranewasm command line needs to know about a module beyond the JS API: the sections
// and their sizes, function signatures (of imports and exports), and the limits and types of
// imported memories, tables and globals. Reads the binary format's module-level sections only
// (code is not decoded); call it on bytes that validate.
'use strict';

const SECTION_NAMES = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export',
  'start', 'element', 'code', 'data', 'data count', 'tag'];

const VALUE_TYPES = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' };
const KINDS = ['function', 'table', 'memory', 'global', 'tag'];

class Reader {
  constructor(bytes, offset = 0, end = bytes.length) {
    this.bytes = bytes;
    this.offset = offset;
    this.end = end;
  }

  byte() {
    if (this.offset >= this.end) throw new Error('unexpected end of the module');
    return this.bytes[this.offset++];
  }

  // An unsigned LEB128 of up to 32 bits.
  u32() {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new Error('bad LEB128');
    }
  }

  // Skips a signed LEB128 (of any width).
  skipLeb() {
    while (this.byte() & 0x80);
  }

  name() {
    const length = this.u32();
    if (this.offset + length > this.end) throw new Error('unexpected end of the module');
    const text = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.offset, length).toString('utf8');
    this.offset += length;
    return text;
  }

  valueType() {
    const b = this.byte();
    if (b === 0x63 || b === 0x64) {
      // (ref null? ht): a type index, or an abstract heap type's one-byte negative code.
      const first = this.bytes[this.offset];
      const heap = first >= 0x40 && first < 0x80 ? VALUE_TYPES[this.byte()] || 'heap' : this.u32();
      return `(ref ${b === 0x63 ? 'null ' : ''}${typeof heap === 'number' ? heap : heap.replace(/ref$/, '')})`;
    }
    return VALUE_TYPES[b] || `0x${b.toString(16)}`;
  }

  // One type of the type section (3.0: `sub`, `sub final`, struct and array types too); a
  // function type's signature, null for the others.
  subType() {
    let form = this.byte();
    if (form === 0x50 || form === 0x4f) {
      for (let n = this.u32(); n > 0; n--) this.u32();
      form = this.byte();
    }
    const field = () => { this.valueType(); this.byte(); }; // storage type (i8 0x78, i16 0x77), mutability
    if (form === 0x5f) {
      for (let n = this.u32(); n > 0; n--) field();
      return null;
    }
    if (form === 0x5e) {
      field();
      return null;
    }
    if (form !== 0x60) throw new Error('unexpected type form');
    const params = [];
    for (let k = this.u32(); k > 0; k--) params.push(this.valueType());
    const results = [];
    for (let k = this.u32(); k > 0; k--) results.push(this.valueType());
    return { params, results };
  }

  limits() {
    const flags = this.byte();
    const min = this.u32();
    const max = flags & 1 ? this.u32() : undefined;
    return { min, max, shared: Boolean(flags & 2) };
  }

  // A constant expression (a global's initializer): skipped up to its `end`.
  skipConstExpr() {
    for (;;) {
      const op = this.byte();
      switch (op) {
        case 0x0b: return;
        case 0x41: case 0x42: this.skipLeb(); break; // i32.const, i64.const
        case 0x43: this.offset += 4; break; // f32.const
        case 0x44: this.offset += 8; break; // f64.const
        case 0x23: case 0xd2: this.u32(); break; // global.get, ref.func
        case 0xd0: this.byte(); break; // ref.null
        case 0xfd: this.u32(); this.offset += 16; break; // v128.const
        default: throw new Error(`unexpected opcode 0x${op.toString(16)} in a constant expression`);
      }
    }
  }
}

// { sections: [{ id, name, size }], types, imports, functions (type index of each defined
// function), exports: [{ name, kind, index }], start, counts }.
function parseModule(bytes) {
  const r = new Reader(bytes, 8);
  const sections = [];
  const types = [];
  const imports = [];
  const functions = [];
  const tables = [];
  const memories = [];
  const globals = [];
  const exports = [];
  let start;
  while (r.offset < r.end) {
    const id = r.byte();
    const size = r.u32();
    const end = r.offset + size;
    const s = new Reader(bytes, r.offset, end);
    const section = { id, name: SECTION_NAMES[id] || `unknown ${id}`, size };
    switch (id) {
      case 0: section.customName = s.name(); break;
      case 1:
        for (let n = s.u32(); n > 0; n--) {
          // A recursion group (`rec`) holds several types; any other entry is one.
          const count = s.bytes[s.offset] === 0x4e ? (s.byte(), s.u32()) : 1;
          for (let k = 0; k < count; k++) types.push(s.subType());
        }
        break;
      case 2:
        for (let n = s.u32(); n > 0; n--) {
          const entry = { module: s.name(), name: s.name(), kind: KINDS[s.byte()] };
          switch (entry.kind) {
            case 'function': entry.type = types[s.u32()]; break;
            case 'table': entry.element = s.valueType(); Object.assign(entry, s.limits()); break;
            case 'memory': Object.assign(entry, s.limits()); break;
            case 'global': entry.valueType = s.valueType(); entry.mutable = s.byte() === 1; break;
            // A tag: attribute 0 (exception), then its function type.
            case 'tag': s.byte(); entry.type = types[s.u32()]; break;
            default: throw new Error('unexpected import kind');
          }
          imports.push(entry);
        }
        break;
      case 3:
        for (let n = s.u32(); n > 0; n--) functions.push(s.u32());
        break;
      case 4:
        for (let n = s.u32(); n > 0; n--) tables.push({ element: s.valueType(), ...s.limits() });
        break;
      case 5:
        for (let n = s.u32(); n > 0; n--) memories.push(s.limits());
        break;
      case 6:
        for (let n = s.u32(); n > 0; n--) {
          globals.push({ valueType: s.valueType(), mutable: s.byte() === 1 });
          s.skipConstExpr();
        }
        break;
      case 7:
        for (let n = s.u32(); n > 0; n--) exports.push({ name: s.name(), kind: KINDS[s.byte()], index: s.u32() });
        break;
      case 8: start = s.u32(); break;
      default: break;
    }
    sections.push(section);
    r.offset = end;
  }

  const importedFunctions = imports.filter((i) => i.kind === 'function');
  const functionType = (index) => (index < importedFunctions.length
    ? importedFunctions[index].type
    : types[functions[index - importedFunctions.length]]);
  const all = {
    table: [...imports.filter((i) => i.kind === 'table'), ...tables],
    memory: [...imports.filter((i) => i.kind === 'memory'), ...memories],
    global: [...imports.filter((i) => i.kind === 'global'), ...globals],
  };
  for (const e of exports) {
    if (e.kind === 'function') {
      e.type = functionType(e.index);
    } else {
      const entity = (all[e.kind] || [])[e.index] || {};
      for (const key of ['min', 'max', 'shared', 'element', 'valueType', 'mutable']) {
        if (entity[key] !== undefined) e[key] = entity[key];
      }
    }
  }
  const count = (kind, defined) => ({ imported: imports.filter((i) => i.kind === kind).length, defined: defined.length });
  return {
    sections,
    types,
    imports,
    exports,
    start,
    functionType,
    counts: {
      functions: count('function', functions),
      tables: count('table', tables),
      memories: count('memory', memories),
      globals: count('global', globals),
    },
    memories,
    tables,
  };
}

// `(param i32 i32) (result i64)`, in the text format's words.
function signature(type) {
  if (!type) return '(type ?)';
  const parts = [];
  if (type.params.length) parts.push(`(param ${type.params.join(' ')})`);
  if (type.results.length) parts.push(`(result ${type.results.join(' ')})`);
  return parts.join(' ');
}

function limits({ min, max, shared }) {
  return `${min}${max === undefined ? '' : ` ${max}`}${shared ? ' shared' : ''}`;
}

// An import or export as in the text format: `(func (param i32))`, `(memory 1 2)`, …
function describeEntity(entry) {
  switch (entry.kind) {
    case 'function': return `(func${entry.type && (entry.type.params.length || entry.type.results.length) ? ` ${signature(entry.type)}` : ''})`;
    case 'table': return `(table ${limits(entry)} ${entry.element})`;
    case 'memory': return `(memory ${limits(entry)})`;
    case 'global': return `(global ${entry.mutable ? `(mut ${entry.valueType})` : entry.valueType})`;
    default: return `(${entry.kind})`;
  }
}

module.exports = { parseModule, signature, describeEntity };

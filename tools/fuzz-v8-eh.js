// Random exception-handling programs for the differential fuzzer against V8 (tools/fuzz-v8.js),
// in the legacy form Node 20's V8 runs: try / catch / catch_all / rethrow / delegate / throw,
// across functions, through JS imports that throw JS errors or WebAssembly.Exceptions or call
// back into the instance, with traps (which no handler may catch) now and then.
//
// Every function is (i32) -> i32 and keeps an accumulator (local 1) that each statement mixes
// something into, so the result tells which handlers ran and in what order. Calls only go to
// functions of a higher index, and JS re-entry is bounded, so every program terminates.
'use strict';

// splitmix64 over BigInt, seeded like the Rust fuzzer's.
function rng(seed) {
  let state = BigInt.asUintN(64, BigInt(seed));
  const next = () => {
    state = BigInt.asUintN(64, state + 0x9e3779b97f4a7c15n);
    let z = state;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    return z ^ (z >> 31n);
  };
  return {
    below: (n) => Number(next() % BigInt(n)),
    oneIn(n) {
      return this.below(n) === 0;
    },
  };
}

function uleb(n) {
  const out = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n) {
  const out = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

const str = (s) => [...uleb(s.length), ...Buffer.from(s, 'utf8')];
const vec = (items) => [...uleb(items.length), ...items.flat()];
const section = (id, payload) => [id, ...uleb(payload.length), ...payload];

const OP = {
  unreachable: 0x00, block: 0x02, if: 0x04, else: 0x05, try: 0x06, catch: 0x07, throw: 0x08,
  rethrow: 0x09, end: 0x0b, call: 0x10, delegate: 0x18, catchAll: 0x19, localGet: 0x20,
  localSet: 0x21, i32Const: 0x41, i32Eqz: 0x45, i32Add: 0x6a, i32Mul: 0x6c, i32RemU: 0x70,
  i32And: 0x71,
};
const EMPTY = 0x40;
const IMPORTED = 1; // function 0 is the JS import; wasm functions start at 1
// Tags: 0 carries an i32, 1 carries nothing.
const TAG_I32 = 0;
const TAG_NONE = 1;

// acc = acc * 31 + c
const mix = (c) => [OP.localGet, 1, OP.i32Const, 31, OP.i32Mul, OP.i32Const, ...sleb(c), OP.i32Add, OP.localSet, 1];
// acc = acc + (value on the stack)
const addTop = [OP.localGet, 1, OP.i32Add, OP.localSet, 1];

/**
 * The body statements of function `index` of `count`. `labels` is the stack of enclosing
 * labels, innermost last: 'block', 'try', or 'catch' (inside a catch clause: `rethrow` may
 * name it).
 */
function statements(r, index, count, labels, budget) {
  const out = [];
  const n = 1 + r.below(4);
  for (let i = 0; i < n && budget.left > 0; i++) {
    budget.left--;
    const depth = labels.length;
    const choice = r.below(depth > 12 ? 6 : 11);
    switch (choice) {
      case 0:
      case 1:
        out.push(...mix(r.below(1000)));
        break;
      case 2: // throw, now and then only when acc has some bit set
        if (r.oneIn(2)) {
          out.push(OP.localGet, 1, OP.i32Const, ...sleb(1 << r.below(8)), OP.i32And, OP.if, EMPTY);
          out.push(...throwStatement(r));
          out.push(OP.end);
        } else {
          out.push(...throwStatement(r));
        }
        break;
      case 3: // call a later function, or the JS import
        if (index + 1 < count && !r.oneIn(3)) {
          out.push(OP.localGet, 1, OP.call, ...uleb(IMPORTED + index + 1 + r.below(count - index - 1)), OP.localSet, 1);
        } else {
          out.push(OP.localGet, 1, OP.call, 0, OP.localSet, 1);
        }
        break;
      case 4: { // rethrow an enclosing caught exception
        const catches = [];
        labels.forEach((label, at) => {
          if (label === 'catch') catches.push(depth - 1 - at);
        });
        if (catches.length) out.push(OP.rethrow, ...uleb(catches[r.below(catches.length)]));
        else out.push(...mix(7));
        break;
      }
      case 5: // a trap no handler may catch
        out.push(OP.localGet, 1, OP.i32Const, ...sleb(3 + r.below(200)), OP.i32RemU, OP.i32Eqz, OP.if, EMPTY, OP.unreachable, OP.end);
        break;
      case 6: // if / else
        out.push(OP.localGet, 1, OP.i32Const, ...sleb(1 << r.below(8)), OP.i32And, OP.if, EMPTY);
        out.push(...statements(r, index, count, [...labels, 'block'], budget));
        out.push(OP.else);
        out.push(...statements(r, index, count, [...labels, 'block'], budget));
        out.push(OP.end);
        break;
      default: // try with handlers, or try ... delegate
        out.push(...tryStatement(r, index, count, labels, budget));
    }
  }
  return out;
}

function throwStatement(r) {
  return r.oneIn(3) ? [OP.throw, TAG_NONE] : [OP.localGet, 1, OP.i32Const, ...sleb(r.below(100)), OP.i32Add, OP.throw, TAG_I32];
}

function tryStatement(r, index, count, labels, budget) {
  const out = [OP.try, EMPTY];
  out.push(...statements(r, index, count, [...labels, 'try'], budget));
  if (r.oneIn(5)) {
    // delegate to an enclosing label (labels.length: to the caller)
    out.push(OP.delegate, ...uleb(r.below(labels.length + 1)));
    return out;
  }
  const inner = [...labels, 'catch'];
  let handlers = 0;
  if (r.oneIn(2)) {
    out.push(OP.catch, TAG_I32, ...addTop, ...mix(11));
    out.push(...statements(r, index, count, inner, budget));
    handlers++;
  }
  if (r.oneIn(2)) {
    out.push(OP.catch, TAG_NONE, ...mix(13));
    out.push(...statements(r, index, count, inner, budget));
    handlers++;
  }
  if (r.oneIn(2) || handlers === 0) {
    out.push(OP.catchAll, ...mix(17));
    out.push(...statements(r, index, count, inner, budget));
  }
  out.push(OP.end);
  return out;
}

/** One program: its bytes and how to link, call and compare it. */
function generate(r) {
  const count = 1 + r.below(6);
  const bodies = [];
  for (let i = 0; i < count; i++) {
    const budget = { left: 4 + r.below(40) };
    const body = [OP.localGet, 0, OP.localSet, 1, ...mix(i + 1), ...statements(r, i, count, [], budget), OP.localGet, 1, OP.end];
    bodies.push([...uleb(body.length + 3), 1, 1, 0x7f, ...body]); // one i32 local (acc)
  }
  // What the JS import does with its argument x, by a rule fixed per program.
  const rule = [r.below(5), r.below(5), r.below(5), r.below(5), r.below(5)];
  const types = [
    [0x60, ...vec([[0x7f]]), ...vec([[0x7f]])], // 0: (i32) -> i32
    [0x60, ...vec([[0x7f]]), 0], // 1: (i32) -> ()
    [0x60, 0, 0], // 2: () -> ()
  ];
  const exports = [];
  for (let i = 0; i < count; i++) exports.push([...str(`f${i}`), 0, ...uleb(IMPORTED + i)]);
  exports.push([...str('t0'), 4, TAG_I32], [...str('t1'), 4, TAG_NONE]);
  const bytes = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec([[...str('env'), ...str('js'), 0, 0]])),
    ...section(3, vec(bodies.map(() => [0]))),
    ...section(13, vec([[0, 1], [0, 2]])),
    ...section(7, vec(exports)),
    ...section(10, vec(bodies)),
  ]);
  let current = null; // the run in progress: { ns, instance, log, depth }
  const program = {
    text: `functions ${count}, import rule ${rule.join(',')}`,
    calls: Array.from({ length: count }, (_, i) => ({ name: `f${i}`, params: ['i32'] })),
    imports(ns, log) {
      current = { ns, instance: null, log, depth: 0 };
      const run = current;
      return {
        env: {
          js(x) {
            log.push(['js', x]);
            switch (rule[((x % 5) + 5) % 5]) {
              case 0: {
                const err = new Error(`js ${x}`);
                err.fromImport = x;
                throw err;
              }
              case 1:
                throw new ns.Exception(run.instance.exports.t0, [x ^ 0x55]);
              case 2:
                throw new ns.Exception(run.instance.exports.t1, []);
              case 3:
                if (run.depth < 3) {
                  run.depth++;
                  try {
                    return run.instance.exports[`f${((x >>> 3) % count + count) % count}`](x >>> 1) ^ 1;
                  } finally {
                    run.depth--;
                  }
                }
                return x + 5;
              default:
                return (x * 7 + 3) | 0;
            }
          },
        },
      };
    },
    link(instance) {
      current.instance = instance;
    },
    describeError(ns, err) {
      if (err instanceof ns.Exception) {
        const { t0, t1 } = current.instance.exports;
        if (err.is(t0)) return { exception: 't0', payload: err.getArg(t0, 0) };
        if (err.is(t1)) return { exception: 't1' };
        return { exception: 'other tag' };
      }
      if (err instanceof Error && 'fromImport' in err) return { jsError: err.fromImport, message: err.message };
      return { threw: err && err.constructor && err.constructor.name, message: err && String(err.message) };
    },
  };
  return { bytes, description: null, program };
}

module.exports = { generate, rng };

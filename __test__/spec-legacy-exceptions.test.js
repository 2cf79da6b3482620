'use strict';
// The spec's legacy exception-handling scripts (try/catch/catch_all/rethrow/delegate, vendored in
// __test__/spec/legacy-exceptions/), run on cranewasm at every tier and on Node 20's engine,
// which has the legacy form. The spectest generator's parser does not read this syntax, so the
// scripts are run here: wabt assembles each module; assert_return, assert_exception,
// assert_trap and assert_invalid are checked; `module quote` (text-format) assertions are
// skipped, as in the other sets.

const fs = require('fs');
const path = require('path');
const W = require('..');
const { setCompileOptions, getCompileOptions } = require('../engine');
const { loadWabt } = require('./helpers/execution.js');

const DIR = path.join(__dirname, 'spec', 'legacy-exceptions');
const SCRIPTS = fs.readdirSync(DIR).filter((f) => f.endsWith('.wast')).sort();

let wabt;
beforeAll(async () => {
  wabt = await loadWabt();
});

// S-expressions: lists of atoms (strings keep their quotes) with their source text and line.
function parse(text) {
  const forms = [];
  const stack = [];
  let i = 0;
  let line = 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') { line++; i++; continue; }
    if (/\s/.test(c)) { i++; continue; }
    if (text.startsWith(';;', i)) { while (i < text.length && text[i] !== '\n') i++; continue; }
    if (text.startsWith('(;', i)) { const end = text.indexOf(';)', i); line += text.slice(i, end).split('\n').length - 1; i = end + 2; continue; }
    if (c === '(') { stack.push({ items: [], start: i, line }); i++; continue; }
    if (c === ')') {
      const node = stack.pop();
      node.text = text.slice(node.start, i + 1);
      i++;
      if (stack.length) stack[stack.length - 1].items.push(node);
      else forms.push(node);
      continue;
    }
    let j = i;
    if (c === '"') {
      j++;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      j++;
    } else {
      while (j < text.length && !/[\s()]/.test(text[j])) j++;
    }
    stack[stack.length - 1].items.push(text.slice(i, j));
    i = j;
  }
  return forms;
}

const head = (form) => (typeof form.items[0] === 'string' ? form.items[0] : '');
const unquote = (s) => JSON.parse(s);

function constant(form) {
  const [op, value] = form.items;
  switch (op) {
    case 'i32.const': return Number(BigInt.asIntN(32, BigInt(value.replace(/_/g, ''))));
    case 'i64.const': return BigInt.asIntN(64, BigInt(value.replace(/_/g, '')));
    case 'f32.const': return Math.fround(Number(value));
    case 'f64.const': return Number(value);
    default: throw new Error(`unsupported constant ${op}`);
  }
}

// One script's assertions run against `WA`: a list of [line, verdict] (verdict '' = passed).
function runScript(WA, forms) {
  const results = [];
  const instances = {};
  const registry = {};
  let current;
  const assemble = (form, validate = true) => {
    const parsed = wabt.parseWat('script.wat', form.text, { exceptions: true, tail_call: true, reference_types: true });
    try {
      parsed.resolveNames();
      if (validate) parsed.validate();
      return parsed.toBinary({}).buffer;
    } finally {
      parsed.destroy();
    }
  };
  const invoke = (form) => {
    const items = form.items.slice(1);
    const instance = items[0].startsWith('$') ? instances[items.shift()] : current;
    const name = unquote(items.shift());
    return () => instance.exports[name](...items.map(constant));
  };
  const check = (line, f) => {
    let verdict;
    try {
      verdict = f();
    } catch (err) {
      verdict = `threw ${err && err.constructor && err.constructor.name}: ${err && err.message}`;
    }
    results.push([line, verdict || '']);
  };
  for (const form of forms) {
    switch (head(form)) {
      case 'module': {
        const name = typeof form.items[1] === 'string' && form.items[1].startsWith('$') ? form.items[1] : undefined;
        const instance = new WA.Instance(new WA.Module(assemble(form)), registry);
        current = instance;
        if (name) instances[name] = instance;
        break;
      }
      case 'register': {
        const as = unquote(form.items[1]);
        const instance = form.items[2] ? instances[form.items[2]] : current;
        registry[as] = instance.exports;
        break;
      }
      case 'assert_return':
        check(form.line, () => {
          const result = invoke(form.items[1])();
          const expected = form.items.slice(2).map(constant);
          const actual = expected.length > 1 ? result : [result].slice(0, expected.length);
          if (expected.length === 0 && result !== undefined) return `returned ${result}`;
          for (let i = 0; i < expected.length; i++) {
            if (!Object.is(actual[i], expected[i])) return `got ${actual[i]}, expected ${expected[i]}`;
          }
          return '';
        });
        break;
      case 'assert_exception':
      case 'assert_trap': {
        const kind = head(form) === 'assert_exception' ? WA.Exception : WA.RuntimeError;
        check(form.line, () => {
          try {
            invoke(form.items[1])();
          } catch (err) {
            return err instanceof kind ? '' : `threw ${err.constructor.name}: ${err.message}`;
          }
          return 'returned normally';
        });
        break;
      }
      case 'assert_invalid':
        check(form.line, () => {
          const bytes = assemble(form.items[1], false);
          if (WA.validate(bytes) !== false) return 'validate() did not return false';
          try {
            new WA.Module(bytes);
          } catch (err) {
            return err instanceof WA.CompileError ? '' : `threw ${err.constructor.name}`;
          }
          return 'compiled';
        });
        break;
      case 'assert_malformed':
        break; // module quote: the text format's business
      default:
        throw new Error(`unsupported directive ${head(form)} at line ${form.line}`);
    }
  }
  return results;
}

const CONFIGS = {
  lazy: { lazy: true, firstTier: 'baseline', tierUp: 'dynamic' },
  baseline: { lazy: false, firstTier: 'baseline', tierUp: 'off' },
  optimized: { lazy: false, firstTier: 'optimized', tierUp: 'off' },
  singlepass: { lazy: false, firstTier: 'singlepass', tierUp: 'off' },
};

describe.each(SCRIPTS)('legacy-exceptions/%s', (script) => {
  const forms = parse(fs.readFileSync(path.join(DIR, script), 'utf8'));

  test("passes on Node 20's engine (checks the runner)", () => {
    const results = runScript(WebAssembly, forms);
    expect(results.length).toBeGreaterThan(0);
    expect(results.filter(([, verdict]) => verdict)).toEqual([]);
  });

  test.each(Object.keys(CONFIGS))('passes on cranewasm, %s', (config) => {
    const saved = getCompileOptions();
    setCompileOptions(CONFIGS[config]);
    try {
      const results = runScript(W, forms);
      expect(results.length).toBeGreaterThan(0);
      expect(results.filter(([, verdict]) => verdict)).toEqual([]);
    } finally {
      setCompileOptions(saved);
    }
  });
});

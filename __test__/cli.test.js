// The command line (bin/cranewasm.js), run as a user runs it: `run` (arguments converted per
// parameter type, results one per line, compared with the same call on Node's engine; arity and
// argument errors; imports: the missing ones listed, or stubbed; traps), `inspect`, `compile`,
// `validate`, `--help`, `--version`, and the exit status of each outcome (0, 1 for the module,
// 2 for the command line).
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { loadWabt, wat } = require('./helpers/execution');

const ROOT = path.join(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'cranewasm.js');
const node = globalThis.WebAssembly;
let dir;
const files = {};

function cli(args, env = {}) {
  const childEnv = { ...process.env };
  for (const key of Object.keys(childEnv)) if (key.startsWith('CRANEWASM_')) delete childEnv[key];
  const out = spawnSync(process.execPath, [BIN, ...args], { env: { ...childEnv, ...env }, encoding: 'utf8', timeout: 120000 });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

const MODULES = {
  math: `(module
    (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
    (func (export "all") (param i32 i64 f32 f64) (result i32 i64 f32 f64)
      local.get 0 local.get 1 local.get 2 local.get 3)
    (func (export "none"))
    (func (export "refs") (param funcref externref) (result funcref externref) local.get 0 local.get 1)
    (func (export "simd") (param v128))
    (func (export "simdResult") (result v128) (v128.const i64x2 0 0))
    (memory (export "mem") 1 2)
    (global (export "g") (mut i64) (i64.const 0)))`,
  trap: `(module
    (func $inner (export "inner") (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
    (func $middle (param i32) (result i32) (call $inner (local.get 0)))
    (func (export "outer") (param i32) (result i32) (call $middle (local.get 0)))
    (func (export "unreachable") unreachable))`,
  imports: `(module
    (import "env" "f" (func $f (param i32) (result i32)))
    (import "env" "pair" (func $pair (result i64 f64)))
    (import "env" "mem" (memory 2 10))
    (import "env" "tab" (table 3 funcref))
    (import "env" "g" (global i32))
    (import "env" "gm" (global (mut f64)))
    (func (export "callf") (param i32) (result i32) (call $f (local.get 0)))
    (func (export "pages") (result i32) (memory.size))
    (func (export "sum") (result f64) (local $d f64)
      (call $pair) (local.set $d) (f64.convert_i64_s) (local.get $d) (f64.add)
      (global.get 1) (f64.add) (f64.convert_i32_s (global.get 0)) (f64.add)))`,
  start: `(module (func $s (drop (i32.div_u (i32.const 1) (i32.const 0)))) (start $s))`,
  spin: '(module (func (export "spin") (loop $l (br $l))))',
  command: `(module (global $ran (mut i32) (i32.const 0))
    (func (export "_start") (global.set $ran (i32.const 1)) (if (global.get $ran) (then unreachable))))`,
};

beforeAll(async () => {
  await loadWabt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cranewasm-cli-'));
  for (const [name, text] of Object.entries(MODULES)) {
    files[name] = path.join(dir, `${name}.wasm`);
    fs.writeFileSync(files[name], Buffer.from(wat(text)));
  }
  files.invalid = path.join(dir, 'invalid.wasm');
  fs.writeFileSync(files.invalid, Buffer.from([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 0x60, 0]));
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function expectUsage(out, message) {
  expect(out.status).toBe(2);
  expect(out.stdout).toBe('');
  expect(out.stderr).toMatch(/^cranewasm: /);
  expect(out.stderr.split('\nUsage:')[0]).toContain(message);
  expect(out.stderr).toMatch(/\nUsage: cranewasm /);
}

describe('help, version, commands and options', () => {
  test('--help and -h print the commands and exit 0', () => {
    for (const flag of ['--help', '-h']) {
      const out = cli([flag]);
      expect(out.status).toBe(0);
      expect(out.stderr).toBe('');
      for (const command of ['run', 'inspect', 'compile', 'validate', 'help']) expect(out.stdout).toMatch(new RegExp(`\\n  ${command} `));
      expect(out.stdout).toContain('--version');
    }
  });

  test('each command has its help (help COMMAND, COMMAND --help), exit 0', () => {
    for (const command of ['run', 'inspect', 'compile', 'validate']) {
      const a = cli(['help', command]);
      const b = cli([command, '--help']);
      expect(a.status).toBe(0);
      expect(b).toEqual(a);
      expect(a.stdout).toContain(`Usage: cranewasm ${command}`);
    }
    expect(cli(['run', '-h']).stdout).toContain('--trap-unknown-imports');
  });

  test('--version and -V print the package version', () => {
    const { version } = require('../package.json');
    for (const flag of ['--version', '-V']) {
      expect(cli([flag])).toEqual({ status: 0, stdout: `cranewasm ${version}\n`, stderr: '' });
    }
  });

  test('no command, an unknown command and unknown options are errors with exit 2', () => {
    expectUsage(cli([]), 'a command is required');
    expectUsage(cli(['frobnicate']), 'unknown command \'frobnicate\'');
    expectUsage(cli(['--frobnicate']), 'unknown option \'--frobnicate\'');
    expectUsage(cli(['help', 'frobnicate']), 'unknown command \'frobnicate\'');
    expectUsage(cli(['run', '--frobnicate', files.math]), 'unknown option \'--frobnicate\'');
    expectUsage(cli(['inspect', '--invoke', 'x', files.math]), 'unknown option \'--invoke\'');
    expectUsage(cli(['run', '--invoke']), 'option \'--invoke\' needs a value');
    expectUsage(cli(['inspect', '--json=1', files.math]), 'option \'--json\' takes no value');
  });

  test('a missing or extra FILE is an error with exit 2', () => {
    for (const command of ['run', 'inspect', 'compile', 'validate']) expectUsage(cli([command]), 'a FILE is required');
    for (const command of ['inspect', 'compile', 'validate']) expectUsage(cli([command, files.math, 'extra']), 'unexpected argument \'extra\'');
  });

  test('a file that cannot be read is an error with exit 1', () => {
    for (const command of ['run', 'inspect', 'compile', 'validate']) {
      const out = cli([command, path.join(dir, 'missing.wasm')]);
      expect(out).toEqual({ status: 1, stdout: '', stderr: `cranewasm: cannot read ${path.join(dir, 'missing.wasm')}: no such file\n` });
    }
  });

  test('a bad CRANEWASM_* variable is an error naming it', () => {
    const out = cli(['run', '--invoke', 'none', files.math], { CRANEWASM_LAZY: 'maybe' });
    expect(out.status).toBe(1);
    expect(out.stderr).toContain('CRANEWASM_LAZY="maybe" is invalid: it must be 0 or 1');
  });
});

describe('run', () => {
  // The printed lines of a call on Node's engine, formatted as the CLI formats them.
  function nodeLines(file, name, args) {
    const instance = new node.Instance(new node.Module(fs.readFileSync(file)));
    const result = instance.exports[name](...args);
    return (Array.isArray(result) ? result : result === undefined ? [] : [result]).map(String);
  }

  test.each([
    ['add', ['2', '3'], [2, 3]],
    ['add', ['-1', '0x10'], [-1, 16]],
    ['add', ['4294967295', '1'], [-1, 1]], // unsigned spelling of -1
    ['add', ['2147483647', '1'], [2147483647, 1]],
    ['all', ['-7', '9223372036854775807', '0.1', '-2.5e-3'], [-7, 9223372036854775807n, 0.1, -2.5e-3]],
    ['all', ['0', '18446744073709551615', 'inf', 'nan'], [0, -1n, Infinity, NaN]],
    ['all', ['0', '-9223372036854775808', '-inf', '1e308'], [0, -9223372036854775808n, -Infinity, 1e308]],
    ['none', [], []],
  ])('--invoke %s %p prints what Node\'s engine returns, one per line', (name, args, values) => {
    const out = cli(['run', '--invoke', name, files.math, ...args]);
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    const expected = nodeLines(files.math, name, values);
    expect(out.stdout).toBe(expected.length ? `${expected.join('\n')}\n` : '');
  });

  test('options may follow FILE; arguments start at the first that is not an option, or after --', () => {
    expect(cli(['run', files.math, '--invoke', 'add', '-1', '-2'])).toEqual({ status: 0, stdout: '-3\n', stderr: '' });
    expect(cli(['run', '--invoke', 'add', files.math, '--', '1', '2'])).toEqual({ status: 0, stdout: '3\n', stderr: '' });
    expect(cli(['run', files.math, '--invoke', 'all', '--', '0', '0', '-0', '-inf'])).toEqual({ status: 0, stdout: '0\n0\n-0\n-Infinity\n', stderr: '' });
    expectUsage(cli(['run', files.math, '--invoke', 'add', '1', '--frobnicate']), 'argument 2 of \'add\' ("--frobnicate") is not an i32');
    expectUsage(cli(['run', files.math, '--frobnicate']), 'unknown option \'--frobnicate\'');
  });

  test('an f32 argument is rounded to f32', () => {
    expect(cli(['run', '--invoke', 'all', files.math, '0', '0', '0.1', '0']).stdout.split('\n')[2]).toBe(String(Math.fround(0.1)));
  });

  test('references: null in, null out', () => {
    expect(cli(['run', '--invoke', 'refs', files.math, 'null', 'null'])).toEqual({ status: 0, stdout: 'null\nnull\n', stderr: '' });
  });

  test('wrong arity is an error with exit 2, nothing runs', () => {
    expectUsage(cli(['run', '--invoke', 'add', files.math, '1']), '\'add\' takes 2 arguments (i32, i32), but 1 was given');
    expectUsage(cli(['run', '--invoke', 'add', files.math, '1', '2', '3']), '\'add\' takes 2 arguments (i32, i32), but 3 were given');
    expectUsage(cli(['run', '--invoke', 'none', files.math, '1']), '\'none\' takes 0 arguments, but 1 was given');
    expectUsage(cli(['run', '--invoke', 'add', files.math]), '\'add\' takes 2 arguments (i32, i32), but 0 were given');
  });

  test.each([
    ['add', ['1.5', '1'], 'argument 1 of \'add\' ("1.5") is not an i32'],
    ['add', ['1', '4294967296'], 'argument 2 of \'add\' ("4294967296") is not an i32'],
    ['add', ['1', '-2147483649'], 'argument 2 of \'add\' ("-2147483649") is not an i32'],
    ['add', ['x', '1'], 'argument 1 of \'add\' ("x") is not an i32'],
    ['add', ['', '1'], 'argument 1 of \'add\' ("") is not an i32'],
    ['all', ['0', '18446744073709551616', '0', '0'], 'argument 2 of \'all\' ("18446744073709551616") is not an i64'],
    ['all', ['0', '1n', '0', '0'], 'argument 2 of \'all\' ("1n") is not an i64'],
    ['all', ['0', '0', 'fast', '0'], 'argument 3 of \'all\' ("fast") is not an f32'],
    ['all', ['0', '0', '0', '1.2.3'], 'argument 4 of \'all\' ("1.2.3") is not an f64'],
    ['refs', ['1', 'null'], 'argument 1 of \'refs\' ("1") is not a funcref'],
    ['simd', ['0'], 'argument 1 of \'simd\' is of type v128, which cannot be given on the command line'],
  ])('--invoke %s %p: a bad argument is an error with exit 2', (name, args, message) => {
    expectUsage(cli(['run', '--invoke', name, files.math, ...args]), message);
  });

  test('a v128 result is an error with exit 2', () => {
    expectUsage(cli(['run', '--invoke', 'simdResult', files.math]), '\'simdResult\' returns a v128');
  });

  test('an export that is not there, or not a function, is an error with exit 2', () => {
    expectUsage(cli(['run', '--invoke', 'nope', files.math]), `${files.math} exports no function named 'nope' (its exported functions: add, all, none, refs, simd, simdResult)`);
    expectUsage(cli(['run', '--invoke', 'mem', files.math]), 'exports no function named \'mem\'');
  });

  test('arguments without --invoke are an error with exit 2', () => {
    expectUsage(cli(['run', files.math, '1']), 'arguments given but no --invoke NAME');
  });

  test('without --invoke: _start is called, else the module is only instantiated', () => {
    expect(cli(['run', files.math])).toEqual({ status: 0, stdout: '', stderr: '' });
    const out = cli(['run', files.command]);
    expect(out.status).toBe(1);
    expect(out.stderr).toMatch(/^RuntimeError: unreachable\n\s+at /);
  });

  test('a trap prints the error class, message and stack, and exits 1', () => {
    const out = cli(['run', '--invoke', 'outer', files.trap, '0']);
    expect(out.status).toBe(1);
    expect(out.stdout).toBe('');
    let nodeError;
    try {
      new node.Instance(new node.Module(fs.readFileSync(files.trap))).exports.outer(0);
    } catch (err) {
      nodeError = err;
    }
    const firstLine = out.stderr.split('\n')[0];
    expect(firstLine).toBe(`RuntimeError: ${nodeError.message}`);
    // The stack follows (its wasm frames come with the stack-trace work).
    expect(out.stderr.split('\n')[1]).toMatch(/^\s+at /);
    expect(cli(['run', '--invoke', 'outer', files.trap, '1'])).toEqual({ status: 0, stdout: '1\n', stderr: '' });
  });

  test('CRANEWASM_TIMEOUT bounds the call: a RuntimeError, exit 1', () => {
    const out = cli(['run', '--invoke', 'spin', files.spin], { CRANEWASM_TIMEOUT: '100' });
    expect(out.status).toBe(1);
    expect(out.stderr).toMatch(/^RuntimeError: cranewasm: call timed out \(timeout: 100 ms\)\n\s+at /);
  });

  test('a trap in the start function too', () => {
    const out = cli(['run', files.start]);
    expect(out.status).toBe(1);
    expect(out.stderr).toMatch(/^RuntimeError: divide by zero\n\s+at /);
  });

  test('a module that does not compile is an error with exit 1 naming the CompileError', () => {
    const out = cli(['run', files.invalid]);
    expect(out.status).toBe(1);
    expect(out.stderr).toMatch(new RegExp(`^cranewasm: ${files.invalid.replace(/[.\\]/g, '\\$&')}: CompileError: WebAssembly.compile\\(\\): `));
  });

  test('a module with imports: an error listing them, exit 1', () => {
    const out = cli(['run', '--invoke', 'callf', files.imports, '1']);
    expect(out.status).toBe(1);
    expect(out.stdout).toBe('');
    expect(out.stderr).toBe(`cranewasm: ${files.imports} has 6 imports that cranewasm run does not provide:
  env.f: (func (param i32) (result i32))
  env.pair: (func (result i64 f64))
  env.mem: (memory 2 10)
  env.tab: (table 3 funcref)
  env.g: (global i32)
  env.gm: (global (mut f64))
Pass --trap-unknown-imports or --default-values-unknown-imports to stub them (running WASI programs comes with WASI support).
`);
  });

  test('--default-values-unknown-imports: functions return zeros, memories and tables have their declared size', () => {
    const run = (name, ...args) => cli(['run', '--default-values-unknown-imports', '--invoke', name, files.imports, ...args]);
    expect(run('callf', '5')).toEqual({ status: 0, stdout: '0\n', stderr: '' });
    expect(run('pages')).toEqual({ status: 0, stdout: '2\n', stderr: '' });
    expect(run('sum')).toEqual({ status: 0, stdout: '0\n', stderr: '' });
  });

  test('--trap-unknown-imports: calling a function import throws a RuntimeError naming it, exit 1', () => {
    const out = cli(['run', '--trap-unknown-imports', '--invoke', 'callf', files.imports, '5']);
    expect(out.status).toBe(1);
    expect(out.stderr).toMatch(/^RuntimeError: unknown import: env\.f has not been defined\n\s+at /);
    expect(cli(['run', '--trap-unknown-imports', '--invoke', 'pages', files.imports])).toEqual({ status: 0, stdout: '2\n', stderr: '' });
  });

  test('the two stub options together are an error with exit 2', () => {
    expectUsage(cli(['run', '--trap-unknown-imports', '--default-values-unknown-imports', files.imports]), 'cannot be used together');
  });

  // The .wasm files of the packages the tests use: each needs its imports, and instantiates
  // with stubs (none of them is a WASI command).
  test.each([
    'node_modules/sql.js/dist/sql-wasm.wasm',
    'node_modules/brotli-wasm/pkg.node/brotli_wasm_bg.wasm',
    'node_modules/esbuild-wasm/esbuild.wasm',
  ])('the real module %s: its imports are listed, and it instantiates with stubs', (file) => {
    const full = path.join(ROOT, file);
    const imports = node.Module.imports(new node.Module(fs.readFileSync(full)));
    const listed = cli(['run', full]);
    expect(listed.status).toBe(1);
    for (const i of imports) expect(listed.stderr).toContain(`\n  ${i.module}.${i.name}: (`);
    expect(cli(['run', '--default-values-unknown-imports', full])).toEqual({ status: 0, stdout: '', stderr: '' });
  });

  test('a function of a real module runs (brotli\'s allocator returns a pointer)', () => {
    const full = path.join(ROOT, 'node_modules/brotli-wasm/pkg.node/brotli_wasm_bg.wasm');
    const out = cli(['run', '--trap-unknown-imports', '--invoke', '__wbindgen_malloc', full, '64']);
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    expect(Number(out.stdout)).toBeGreaterThan(0);
  });
});

describe('inspect', () => {
  test('--json: imports and exports as the JS API lists them, with their types; sections; features', () => {
    const out = cli(['inspect', '--json', files.imports]);
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    const info = JSON.parse(out.stdout);
    const bytes = fs.readFileSync(files.imports);
    const module = new node.Module(bytes);
    expect(info.imports.map(({ module: m, name, kind }) => ({ module: m, name, kind }))).toEqual(node.Module.imports(module));
    expect(info.exports.map(({ name, kind }) => ({ name, kind }))).toEqual(node.Module.exports(module));
    expect(info.imports).toEqual([
      { module: 'env', name: 'f', kind: 'function', params: ['i32'], results: ['i32'] },
      { module: 'env', name: 'pair', kind: 'function', params: [], results: ['i64', 'f64'] },
      { module: 'env', name: 'mem', kind: 'memory', min: 2, max: 10, shared: false },
      { module: 'env', name: 'tab', kind: 'table', min: 3, shared: false, element: 'funcref' },
      { module: 'env', name: 'g', kind: 'global', valueType: 'i32', mutable: false },
      { module: 'env', name: 'gm', kind: 'global', valueType: 'f64', mutable: true },
    ]);
    expect(info.size).toBe(bytes.length);
    expect(info.sections.map((s) => s.name)).toEqual(['type', 'import', 'function', 'export', 'code']);
    // Section sizes and headers add up to the module.
    const headers = info.sections.reduce((n, s) => n + 1 + Buffer.from([s.size]).length + (s.size >= 128 ? 1 : 0), 0);
    expect(8 + headers + info.sections.reduce((n, s) => n + s.size, 0)).toBe(bytes.length);
    expect(info.counts).toEqual({
      functions: { imported: 2, defined: 3 }, tables: { imported: 1, defined: 0 },
      memories: { imported: 1, defined: 0 }, globals: { imported: 2, defined: 0 },
    });
    expect(info.features).toEqual(['mutable-globals', 'multi-value']);
  });

  test.each([
    ['(module)', []],
    ['(module (func (param i32) (result i32) (i32.extend8_s (local.get 0))))', ['sign-extension-ops']],
    ['(module (func (param f32) (result i32) (i32.trunc_sat_f32_s (local.get 0))))', ['nontrapping-float-to-int-conversions']],
    ['(module (memory 1) (func (memory.fill (i32.const 0) (i32.const 0) (i32.const 0))))', ['bulk-memory']],
    ['(module (table 1 externref))', ['reference-types']],
    ['(module (func (result v128) (v128.const i32x4 0 0 0 0)))', ['simd']],
  ])('features of %s', (text, features) => {
    const file = path.join(dir, 'features.wasm');
    fs.writeFileSync(file, Buffer.from(wat(text)));
    expect(JSON.parse(cli(['inspect', '--json', file]).stdout).features).toEqual(features);
  });

  test('the text form: sections with sizes, counts, imports and exports with types, features', () => {
    const out = cli(['inspect', files.math]);
    expect(out.status).toBe(0);
    const size = fs.statSync(files.math).size;
    expect(out.stdout).toContain(`${files.math}: ${size} bytes\n`);
    expect(out.stdout).toMatch(/\n {2}code +\d+ bytes\n/);
    expect(out.stdout).toContain('\nExports (8):\n');
    expect(out.stdout).toMatch(/\n {2}all +\(func \(param i32 i64 f32 f64\) \(result i32 i64 f32 f64\)\)\n/);
    expect(out.stdout).toMatch(/\n {2}mem +\(memory 1 2\)\n/);
    expect(out.stdout).toMatch(/\n {2}g +\(global \(mut i64\)\)\n/);
    expect(out.stdout).toContain('\nFeatures beyond the MVP: mutable-globals, multi-value, reference-types, simd\n');
  });

  test('a type section with a recursion group, a struct type and `sub final`', () => {
    // (rec (type (func (param (ref null 1)) (result i32))) (type (struct (field (mut i32)))))
    // (type (sub final (func (param (ref func))))), and an import of the first type.
    const types = [2, 0x4e, 2, 0x60, 1, 0x63, 1, 1, 0x7f, 0x5f, 1, 0x7f, 1, 0x4f, 0, 0x60, 1, 0x64, 0x70, 0];
    const imports = [1, 1, 0x61, 1, 0x66, 0, 0];
    const file = path.join(dir, 'rec.wasm');
    fs.writeFileSync(file, Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, types.length, ...types, 2, imports.length, ...imports]));
    const out = cli(['inspect', file]);
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(/\n {2}a\.f +\(func \(param \(ref null 1\)\) \(result i32\)\)\n/);
  });

  test('an invalid module is an error with exit 1', () => {
    const out = cli(['inspect', files.invalid]);
    expect(out.status).toBe(1);
    expect(out.stderr).toContain('CompileError: WebAssembly.Module(): ');
  });
});

describe('compile and validate', () => {
  test('compile --json: validation, then each tier, every function compiled', () => {
    const out = cli(['compile', '--json', files.trap]);
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    const info = JSON.parse(out.stdout);
    expect(info.timings.map((t) => [t.step, t.functions, t.compiled])).toEqual([
      ['validate', 4, 0], ['baseline', 4, 4], ['optimized', 4, 4],
    ]);
    for (const t of info.timings) expect(t.ms).toBeGreaterThan(0);
    expect(info.threads).toBeGreaterThanOrEqual(1);
  });

  test('compile: the text form, and the compile options of the environment are left as they were', () => {
    const out = cli(['compile', files.math], { CRANEWASM_COMPILE_THREADS: '1' });
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(/^.*math\.wasm: \d+ bytes, 6 functions, valid \(1 compile thread\)\n {2}decode and validate +[\d.]+ ms\n {2}baseline tier +[\d.]+ ms \(6 functions compiled\)\n {2}optimizing tier +[\d.]+ ms \(6 functions compiled\)\n$/);
  });

  test('compile: an invalid module is an error with exit 1', () => {
    const out = cli(['compile', files.invalid]);
    expect(out.status).toBe(1);
    expect(out.stderr).toContain('CompileError');
  });

  test('validate: valid exits 0, invalid exits 1 with the reason', () => {
    expect(cli(['validate', files.math])).toEqual({ status: 0, stdout: 'valid\n', stderr: '' });
    const out = cli(['validate', files.invalid]);
    expect(out.status).toBe(1);
    expect(out.stdout).toMatch(/^invalid\nWebAssembly.Module\(\): /);
  });
});

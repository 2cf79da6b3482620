#!/usr/bin/env node
// The cranewasm command line, modelled on `wasmtime run`:
//   cranewasm run [OPTIONS] FILE [ARGS…]   instantiate a module and call an export
//   cranewasm inspect [--json] FILE        imports, exports, sections and sizes, features used
//   cranewasm compile [--json] FILE        validate, then compile at each tier, with timings
//   cranewasm validate FILE                check a module
// Exit status: 0 on success, 2 for a command line that is wrong (unknown command or option, a
// missing or extra operand, wrong arity or a bad argument for the invoked function, no such
// export), 1 when the module fails (cannot be read, compiled or linked, traps, throws).
'use strict';

const fs = require('fs');
const path = require('path');
const { performance } = require('perf_hooks');
const { parseModule, signature, describeEntity } = require('./wasm-info.js');

const PROGRAM = 'cranewasm';

// A mistake in the command line: its message and the usage of `command`, exit status 2.
class UsageError extends Error {
  constructor(message, command) {
    super(message);
    this.command = command;
  }
}

// A failure of the module (compile, link, I/O): the message, exit status 1.
class Failure extends Error {}

const COMMANDS = {
  run: {
    usage: 'cranewasm run [OPTIONS] FILE [--invoke NAME] [ARGS...]',
    summary: 'Instantiate a module and call one of its exports',
    description: `Compiles and instantiates FILE, then calls the export named by --invoke with ARGS,
converted to its parameter types (i32 and i64: decimal or 0x hex integers, signed or
unsigned; f32 and f64: numbers, inf, -inf, nan; funcref and externref: null), and
prints its results one per line. Without --invoke it calls \`_start\` if the module
exports one, else only instantiates it (which runs its start function). A module with
imports needs one of the --*-unknown-imports options, which also give imported
memories, tables and globals of the declared types and minimum sizes. A WASI command
(imports from wasi_snapshot_preview1 or wasi_unstable, no --invoke) runs with
cranewasm/wasi: ARGS are its arguments, --dir and --env its directories and variables,
and the exit status is its own. Options may come before or right after FILE; ARGS start at the first
argument after FILE that does not start with --, or after a --.`,
    options: [
      ['--invoke NAME', 'The exported function to call'],
      ['--trap-unknown-imports', 'Stub every import; functions throw a RuntimeError'],
      ['--default-values-unknown-imports', 'Stub every import; functions return zeros'],
      ['--dir HOST[::GUEST]', 'WASI: give the program directory HOST (seen as GUEST); repeatable'],
      ['--env NAME[=VALUE]', 'WASI: set a variable of the program (NAME alone: the host\'s value); repeatable'],
    ],
  },
  inspect: {
    usage: 'cranewasm inspect [--json] FILE',
    summary: 'Show the imports, exports, sections and sizes, and features of a module',
    description: 'Validates FILE and describes it. Features are the proposals beyond the MVP that it uses (each one without which it does not validate).',
    options: [['--json', 'Print one JSON object']],
  },
  compile: {
    usage: 'cranewasm compile [--json] FILE',
    summary: 'Validate a module, then compile it at each tier, with timings',
    description: `Times, on cranewasm's compile threads: decoding and validation alone (what a lazy compile
does before it resolves), then an eager compile of every function at the baseline tier,
then at the optimizing tier (each including decoding and validation again).`,
    options: [['--json', 'Print one JSON object']],
  },
  validate: {
    usage: 'cranewasm validate FILE',
    summary: 'Check that a module is valid (exit status 1 if not)',
    description: 'Prints "valid", or "invalid" and the reason.',
    options: [],
  },
};

function version() {
  return require('../package.json').version;
}

function help(command) {
  if (command !== undefined) {
    const c = COMMANDS[command];
    const lines = [c.summary, '', `Usage: ${c.usage}`, '', c.description, '', 'Options:'];
    for (const [flag, text] of [...c.options, ['-h, --help', 'Print this help']]) lines.push(`  ${flag.padEnd(36)} ${text}`);
    return lines.join('\n');
  }
  const lines = [`cranewasm ${version()}: a WebAssembly engine for Node.js`, '', 'Usage: cranewasm [OPTIONS] COMMAND [ARGS...]', '', 'Commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push(`  ${'help'.padEnd(10)} Print this help, or a command's`, '', 'Options:',
    `  ${'-h, --help'.padEnd(14)} Print this help`, `  ${'-V, --version'.padEnd(14)} Print the version`, '',
    'Run `cranewasm help COMMAND` for the options of a command.',
    'Environment: the CRANEWASM_* variables of the README (e.g. CRANEWASM_TIMEOUT=ms bounds every call).');
  return lines.join('\n');
}

// Options of `command` up to its first operand (or `--`); the rest are operands. `spec` maps
// each option to 'flag' or 'value'; `--name=value` is accepted for values.
// With `longOnly`, only `--name` arguments are options (after FILE, where `-1` is an argument).
function parseOptions(command, argv, spec, { longOnly = false, options = {} } = {}) {
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') { i++; break; }
    if ((arg === '-h' && !longOnly) || arg === '--help') return { help: true };
    if (!arg.startsWith(longOnly ? '--' : '-') || arg === '-') break;
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const kind = spec[name];
    if (kind === undefined) throw new UsageError(`unknown option '${name}'`, command);
    if (kind === 'flag') {
      if (eq !== -1) throw new UsageError(`option '${name}' takes no value`, command);
      options[name] = true;
    } else {
      let value;
      if (eq !== -1) value = arg.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i];
      else throw new UsageError(`option '${name}' needs a value`, command);
      if (kind === 'list') (options[name] = options[name] || []).push(value);
      else options[name] = value;
    }
  }
  return { options, operands: argv.slice(i) };
}

function readModule(file) {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new Failure(`cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
}

// The one FILE operand of a command that takes no other.
function oneFile(command, operands) {
  if (operands.length === 0) throw new UsageError('a FILE is required', command);
  if (operands.length > 1) throw new UsageError(`unexpected argument '${operands[1]}'`, command);
  return operands[0];
}

// The engine; a bad CRANEWASM_* variable fails its load with a message naming it.
function loadEngine() {
  try {
    return require('..');
  } catch (err) {
    const message = `${err && err.message}`;
    if (message.startsWith('cranewasm: CRANEWASM_')) throw new Failure(message.slice('cranewasm: '.length));
    throw err;
  }
}

// Compiles `bytes` (CompileError → a Failure naming the file).
async function compileModule(WebAssembly, bytes, file) {
  try {
    return await WebAssembly.compile(bytes);
  } catch (err) {
    if (err instanceof WebAssembly.CompileError) throw new Failure(`${file}: ${err.name}: ${err.message}`);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// run
// ---------------------------------------------------------------------------------------------

const I32_MIN = -(2n ** 31n);
const U32_MAX = 2n ** 32n - 1n;
const I64_MIN = -(2n ** 63n);
const U64_MAX = 2n ** 64n - 1n;

function parseInteger(text) {
  const m = /^([+-]?)(0x[0-9a-f]+|\d+)$/i.exec(text);
  if (m === null) return undefined;
  const magnitude = BigInt(m[2]);
  return m[1] === '-' ? -magnitude : magnitude;
}

function parseFloatArg(text) {
  const m = /^([+-]?)(inf|infinity|nan)$/i.exec(text);
  if (m !== null) {
    if (m[2].toLowerCase() === 'nan') return NaN;
    return m[1] === '-' ? -Infinity : Infinity;
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) && !/^[+-]?0x[0-9a-f]+$/i.test(text)) return undefined;
  const sign = text.startsWith('-') ? -1 : 1;
  const n = Number(text.replace(/^[+-]/, ''));
  return Number.isNaN(n) ? undefined : sign * n;
}

// ARG converted to `type`, or a UsageError.
function convertArgument(text, type, position, name) {
  const bad = (what) => new UsageError(`argument ${position} of '${name}' (${JSON.stringify(text)}) is not ${what}`, 'run');
  switch (type) {
    case 'i32': {
      const v = parseInteger(text);
      if (v === undefined || v < I32_MIN || v > U32_MAX) throw bad('an i32 (an integer from -2147483648 to 4294967295)');
      return Number(BigInt.asIntN(32, v));
    }
    case 'i64': {
      const v = parseInteger(text);
      if (v === undefined || v < I64_MIN || v > U64_MAX) throw bad('an i64 (an integer from -2^63 to 2^64-1)');
      return BigInt.asIntN(64, v);
    }
    case 'f32': case 'f64': {
      const v = parseFloatArg(text);
      if (v === undefined) throw bad(`an ${type} (a number, inf, -inf or nan)`);
      return type === 'f32' ? Math.fround(v) : v;
    }
    case 'funcref': case 'externref':
      if (text !== 'null') throw bad(`a ${type} (only null can be given on the command line)`);
      return null;
    default:
      throw new UsageError(`argument ${position} of '${name}' is of type ${type}, which cannot be given on the command line`, 'run');
  }
}

function formatResult(value, type) {
  switch (type) {
    case 'i32': case 'i64': return String(value);
    case 'f32': case 'f64': return Object.is(value, -0) ? '-0' : String(value);
    case 'funcref': return value === null ? 'null' : `<funcref ${value.name}>`;
    case 'externref': return value === null ? 'null' : `<externref ${typeof value}>`;
    default: return String(value);
  }
}

function defaultValue(type) {
  switch (type) {
    case 'i64': return 0n;
    case 'i32': case 'f32': case 'f64': return 0;
    default: return null;
  }
}

const REF_TYPE = { funcref: 'anyfunc', externref: 'externref' };

// The import object `cranewasm run` gives: stubs of every import, or a Failure listing them.
function provideImports(WebAssembly, info, file, mode) {
  if (info.imports.length === 0) return {};
  if (mode === undefined) {
    const list = info.imports.map((i) => `  ${i.module}.${i.name}: ${describeEntity(i)}`).join('\n');
    throw new Failure(`${file} has ${info.imports.length} import${info.imports.length === 1 ? '' : 's'} that cranewasm run does not provide:\n${list}\n` +
      'Pass --trap-unknown-imports or --default-values-unknown-imports to stub them (running WASI programs comes with WASI support).');
  }
  const importObject = Object.create(null);
  for (const i of info.imports) {
    const where = `${i.module}.${i.name}`;
    let value;
    switch (i.kind) {
      case 'function': {
        const results = i.type ? i.type.results : [];
        value = mode === 'trap'
          ? () => { throw new WebAssembly.RuntimeError(`unknown import: ${where} has not been defined`); }
          : () => (results.length === 1 ? defaultValue(results[0]) : results.length === 0 ? undefined : results.map(defaultValue));
        break;
      }
      case 'memory':
        if (i.shared) throw new Failure(`${file}: the shared memory import ${where} cannot be provided (shared memories come with threads)`);
        value = new WebAssembly.Memory({ initial: i.min, maximum: i.max });
        break;
      case 'table':
        value = new WebAssembly.Table({ element: REF_TYPE[i.element], initial: i.min, maximum: i.max });
        break;
      case 'global':
        if (i.valueType === 'v128') throw new Failure(`${file}: the v128 global import ${where} cannot be provided`);
        value = new WebAssembly.Global({ value: REF_TYPE[i.valueType] || i.valueType, mutable: i.mutable }, defaultValue(i.valueType));
        break;
      default:
        throw new Failure(`${file}: the ${i.kind} import ${where} cannot be provided`);
    }
    if (importObject[i.module] === undefined) importObject[i.module] = Object.create(null);
    importObject[i.module][i.name] = value;
  }
  return importObject;
}

// A trap or an exception out of wasm: its class, message and stack (err.stack has both).
class Trap extends Error {
  constructor(error) {
    super('trap');
    this.error = error;
  }
}

function describeThrown(err) {
  if (err instanceof Error || (err && typeof err.stack === 'string')) {
    const stack = `${err.stack}`;
    const head = `${err.name}: ${err.message}`;
    return stack.startsWith(head) ? stack : `${head}\n${stack}`;
  }
  return `uncaught exception: ${String(err)}`;
}

async function run(argv) {
  const spec = {
    '--invoke': 'value', '--trap-unknown-imports': 'flag', '--default-values-unknown-imports': 'flag', '--dir': 'list', '--env': 'list',
  };
  const parsed = parseOptions('run', argv, spec);
  if (parsed.help) return { out: help('run') };
  const { options, operands } = parsed;
  if (operands.length === 0) throw new UsageError('a FILE is required', 'run');
  // Options may also follow FILE (`run FILE --invoke NAME ARGS...`), up to the first argument
  // that does not start with `--`, or a `--`.
  const after = parseOptions('run', operands.slice(1), spec, { longOnly: true, options });
  if (after.help) return { out: help('run') };
  const file = operands[0];
  const args = after.operands;
  if (options['--trap-unknown-imports'] && options['--default-values-unknown-imports']) {
    throw new UsageError('--trap-unknown-imports and --default-values-unknown-imports cannot be used together', 'run');
  }
  const mode = options['--trap-unknown-imports'] ? 'trap' : options['--default-values-unknown-imports'] ? 'default' : undefined;

  const bytes = readModule(file);
  const WebAssembly = loadEngine();
  const module = await compileModule(WebAssembly, bytes, file);
  const info = parseModule(bytes);
  const wasiVersion = info.imports.some((i) => i.module === 'wasi_snapshot_preview1') ? 'preview1'
    : info.imports.some((i) => i.module === 'wasi_unstable') ? 'unstable' : undefined;
  if (wasiVersion === undefined && (options['--dir'] || options['--env'])) {
    throw new UsageError(`--dir and --env are for WASI programs, and ${file} imports no WASI functions`, 'run');
  }
  if (wasiVersion !== undefined && options['--invoke'] === undefined) return runWasi(WebAssembly, module, info, file, mode, options, args, wasiVersion);

  // What to call, and its arguments, checked before anything runs.
  let name = options['--invoke'];
  let type;
  let values = [];
  if (name !== undefined) {
    const entry = info.exports.find((e) => e.name === name);
    if (entry === undefined || entry.kind !== 'function') {
      const functions = info.exports.filter((e) => e.kind === 'function').map((e) => e.name);
      throw new UsageError(`${file} exports no function named '${name}' (its exported functions: ${functions.length ? functions.join(', ') : 'none'})`, 'run');
    }
    type = entry.type;
    if (args.length !== type.params.length) {
      throw new UsageError(`'${name}' takes ${type.params.length} argument${type.params.length === 1 ? '' : 's'}` +
        `${type.params.length ? ` (${type.params.join(', ')})` : ''}, but ${args.length} ${args.length === 1 ? 'was' : 'were'} given`, 'run');
    }
    values = args.map((text, i) => convertArgument(text, type.params[i], i + 1, name));
    if (type.results.includes('v128')) {
      throw new UsageError(`'${name}' returns a v128, which JavaScript (and so the command line) cannot receive`, 'run');
    }
  } else {
    if (args.length > 0) {
      throw new UsageError(`arguments given but no --invoke NAME to pass them to (the command-line arguments of WASI programs come with WASI support)`, 'run');
    }
    const start = info.exports.find((e) => e.name === '_start' && e.kind === 'function');
    if (start !== undefined) {
      name = '_start';
      type = start.type;
      if (type.params.length > 0) throw new UsageError(`'_start' takes arguments (${type.params.join(', ')}): use --invoke`, 'run');
    }
  }

  const importObject = provideImports(WebAssembly, info, file, mode);
  let instance;
  try {
    instance = await WebAssembly.instantiate(module, importObject);
  } catch (err) {
    if (err instanceof WebAssembly.LinkError) throw new Failure(`${file}: ${err.name}: ${err.message}`);
    throw new Trap(err); // the start function trapped or threw
  }
  if (name === undefined) return { out: '' };

  let result;
  try {
    result = instance.exports[name](...values);
  } catch (err) {
    throw new Trap(err);
  }
  const results = type.results.length === 1 ? [result] : type.results.length === 0 ? [] : [...result];
  return { out: results.map((v, i) => formatResult(v, type.results[i])).join('\n') };
}

// A WASI command: its imports from WASI are cranewasm/wasi's, its arguments ARGS (after FILE as
// argv[0]), its environment the --env K=V given (K alone: the host's value), its directories the
// --dir HOST[::GUEST] given; the exit status is the program's.
async function runWasi(WebAssembly, module, info, file, mode, options, args, version) {
  const { WASI } = require('../wasi.js');
  const env = {};
  for (const entry of options['--env'] || []) {
    const eq = entry.indexOf('=');
    if (eq === 0) throw new UsageError(`--env ${entry}: the variable has no name`, 'run');
    if (eq === -1) {
      if (process.env[entry] !== undefined) env[entry] = process.env[entry];
    } else {
      env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
  }
  const preopens = {};
  for (const dir of options['--dir'] || []) {
    const split = dir.indexOf('::');
    const host = split === -1 ? dir : dir.slice(0, split);
    const guest = split === -1 ? dir : dir.slice(split + 2);
    if (!host || !guest) throw new UsageError(`--dir ${dir}: expected HOST or HOST::GUEST`, 'run');
    preopens[guest] = host;
  }
  let wasi;
  try {
    wasi = new WASI({ version, args: [file, ...args], env, preopens, returnOnExit: true });
  } catch (err) {
    throw new Failure(`${file}: ${err.message}`);
  }
  const bindingName = version === 'preview1' ? 'wasi_snapshot_preview1' : 'wasi_unstable';
  const others = { ...info, imports: info.imports.filter((i) => i.module !== bindingName) };
  const importObject = { ...provideImports(WebAssembly, others, file, mode), ...wasi.getImportObject() };
  let instance;
  try {
    instance = await WebAssembly.instantiate(module, importObject);
  } catch (err) {
    if (err instanceof WebAssembly.LinkError) throw new Failure(`${file}: ${err.name}: ${err.message}`);
    throw new Trap(err);
  }
  let status;
  try {
    if (typeof instance.exports._start === 'function') status = wasi.start(instance);
    else {
      wasi.initialize(instance);
      status = 0;
    }
  } catch (err) {
    if (err && typeof err.code === 'string' && err.code.startsWith('ERR_')) throw new Failure(`${file}: ${err.message}`);
    throw new Trap(err);
  }
  return { out: '', status };
}

// ---------------------------------------------------------------------------------------------
// inspect, compile, validate
// ---------------------------------------------------------------------------------------------

function validModule(WebAssembly, bytes, file) {
  if (WebAssembly.validate(bytes)) return;
  try {
    new WebAssembly.Module(bytes); // eslint-disable-line no-new
  } catch (err) {
    throw new Failure(`${file}: ${err.name}: ${err.message}`);
  }
  throw new Failure(`${file}: invalid module`);
}

function bytesText(n) {
  return `${n.toLocaleString('en-US')} byte${n === 1 ? '' : 's'}`;
}

async function inspect(argv) {
  const parsed = parseOptions('inspect', argv, { '--json': 'flag' });
  if (parsed.help) return { out: help('inspect') };
  const file = oneFile('inspect', parsed.operands);
  const bytes = readModule(file);
  const WebAssembly = loadEngine();
  validModule(WebAssembly, bytes, file);
  const info = parseModule(bytes);
  const features = require('../binding.js').usedFeatures(bytes) || [];
  const exportEntry = (e) => {
    const out = { name: e.name, kind: e.kind };
    if (e.kind === 'function') Object.assign(out, { params: e.type.params, results: e.type.results });
    for (const key of ['min', 'max', 'shared', 'element', 'valueType', 'mutable']) if (e[key] !== undefined) out[key] = e[key];
    return out;
  };
  const importEntry = (i) => {
    const out = { module: i.module, ...exportEntry(i) };
    return out;
  };
  const summary = {
    file,
    size: bytes.length,
    sections: info.sections.map((s) => (s.id === 0 ? { name: s.name, customName: s.customName, size: s.size } : { name: s.name, size: s.size })),
    counts: info.counts,
    imports: info.imports.map(importEntry),
    exports: info.exports.map(exportEntry),
    start: info.start === undefined ? null : info.start,
    features,
  };
  if (parsed.options['--json']) return { out: JSON.stringify(summary, null, 2) };

  const lines = [`${file}: ${bytesText(bytes.length)}`, '', 'Sections:'];
  for (const s of info.sections) {
    const label = s.id === 0 ? `custom "${s.customName}"` : s.name;
    lines.push(`  ${label.padEnd(24)} ${bytesText(s.size).padStart(16)}`);
  }
  const c = info.counts;
  lines.push('', 'Counts (imported + defined):');
  for (const kind of ['functions', 'tables', 'memories', 'globals']) {
    lines.push(`  ${kind.padEnd(10)} ${c[kind].imported} + ${c[kind].defined}`);
  }
  const width = (list, key) => Math.max(0, ...list.map(key)) + 2;
  lines.push('', `Imports (${info.imports.length}):`);
  const iw = width(info.imports, (i) => `${i.module}.${i.name}`.length);
  for (const i of info.imports) lines.push(`  ${`${i.module}.${i.name}`.padEnd(iw)}${describeEntity(i)}`);
  lines.push('', `Exports (${info.exports.length}):`);
  const ew = width(info.exports, (e) => e.name.length);
  for (const e of info.exports) lines.push(`  ${e.name.padEnd(ew)}${describeEntity(e)}`);
  if (info.start !== undefined) {
    const t = info.functionType(info.start);
    lines.push('', `Start function: ${info.start}${t && (t.params.length || t.results.length) ? ` ${signature(t)}` : ''}`);
  }
  lines.push('', `Features beyond the MVP: ${features.length ? features.join(', ') : 'none'}`);
  return { out: lines.join('\n') };
}

async function compile(argv) {
  const parsed = parseOptions('compile', argv, { '--json': 'flag' });
  if (parsed.help) return { out: help('compile') };
  const file = oneFile('compile', parsed.operands);
  const bytes = readModule(file);
  const WebAssembly = loadEngine();
  const engine = require('../engine.js'); // after loadEngine(), which checked the environment
  validModule(WebAssembly, bytes, file);
  const original = engine.getCompileOptions();
  const steps = [
    { step: 'validate', label: 'decode and validate', options: { lazy: true, firstTier: 'baseline' } },
    { step: 'baseline', label: 'baseline tier', options: { lazy: false, firstTier: 'baseline', tierUp: 'off' } },
    { step: 'optimized', label: 'optimizing tier', options: { lazy: false, firstTier: 'optimized' } },
  ];
  const timings = [];
  try {
    for (const s of steps) {
      engine.setCompileOptions(s.options);
      const start = performance.now();
      const module = await compileModule(WebAssembly, bytes, file);
      const ms = performance.now() - start;
      const status = engine.compileStatus(module);
      timings.push({ step: s.step, ms: Number(ms.toFixed(3)), functions: status.functions, compiled: status[s.step] === undefined ? 0 : status[s.step], label: s.label });
    }
  } finally {
    engine.setCompileOptions(original);
  }
  const threads = original.threads;
  if (parsed.options['--json']) {
    return { out: JSON.stringify({ file, size: bytes.length, threads, timings: timings.map(({ label, ...t }) => t) }, null, 2) };
  }
  const lines = [`${file}: ${bytesText(bytes.length)}, ${timings[0].functions} functions, valid (${threads} compile thread${threads === 1 ? '' : 's'})`];
  for (const t of timings) {
    const detail = t.step === 'validate' ? '' : ` (${t.compiled} functions compiled)`;
    lines.push(`  ${t.label.padEnd(20)} ${`${t.ms.toFixed(2)} ms`.padStart(12)}${detail}`);
  }
  return { out: lines.join('\n') };
}

async function validate(argv) {
  const parsed = parseOptions('validate', argv, {});
  if (parsed.help) return { out: help('validate') };
  const file = oneFile('validate', parsed.operands);
  const bytes = readModule(file);
  const WebAssembly = loadEngine();
  if (WebAssembly.validate(bytes)) return { out: 'valid' };
  let reason = '';
  try {
    new WebAssembly.Module(bytes); // eslint-disable-line no-new
  } catch (err) {
    reason = `\n${err.message}`;
  }
  return { out: `invalid${reason}`, status: 1 };
}

const HANDLERS = { run, inspect, compile, validate };

async function main(argv) {
  const [first, ...rest] = argv;
  if (first === undefined) throw new UsageError('a command is required');
  if (first === '-h' || first === '--help') return { out: help() };
  if (first === '-V' || first === '--version') return { out: `${PROGRAM} ${version()}` };
  if (first === 'help') {
    if (rest.length > 1) throw new UsageError(`unexpected argument '${rest[1]}'`);
    if (rest.length === 1 && !COMMANDS[rest[0]]) throw new UsageError(`unknown command '${rest[0]}'`);
    return { out: help(rest[0]) };
  }
  if (first.startsWith('-')) throw new UsageError(`unknown option '${first}'`);
  const handler = HANDLERS[first];
  if (handler === undefined) throw new UsageError(`unknown command '${first}'`);
  return handler(rest);
}

main(process.argv.slice(2)).then(({ out, status = 0 }) => {
  if (out) process.stdout.write(`${out}\n`);
  process.exitCode = status;
}, (err) => {
  if (err instanceof UsageError) {
    const usage = err.command ? COMMANDS[err.command].usage : 'cranewasm [OPTIONS] COMMAND [ARGS...]';
    const more = err.command ? `cranewasm help ${err.command}` : 'cranewasm --help';
    process.stderr.write(`${PROGRAM}: ${err.message}\nUsage: ${usage}\nRun '${more}' for more.\n`);
    process.exitCode = 2;
  } else if (err instanceof Failure) {
    process.stderr.write(`${PROGRAM}: ${err.message}\n`);
    process.exitCode = 1;
  } else if (err instanceof Trap) {
    process.stderr.write(`${describeThrown(err.error)}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`${PROGRAM}: internal error: ${err && err.stack ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  }
});

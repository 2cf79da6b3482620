// Every CRANEWASM_* environment variable, in one table: its name, the values it allows, what it
// means and how its value is read. index.js checks them all when cranewasm is loaded, so that a
// bad value stops the load with an error naming the variable and its allowed values instead of
// being ignored; README.md reproduces the table (`markdownTable()`, checked by a test).
//
// To add a variable: add a row below (a `parse` from the kinds that follow, or a new one that
// returns the value or `undefined` when the text is not allowed), then paste the output of
// `node -e "console.log(require('./environment.js').markdownTable())"` into README.md.
//
// The compile options are also read by the engine itself (crates/engine/src/compiler/options.rs,
// `from_env`), with the same spellings; by the time it reads them, this check has passed.
'use strict';

// Kinds of values. Each takes the trimmed text and returns the value, or undefined if it is not
// allowed; `allowed` says what is, for the table and the error.
function flag() {
  const TRUE = ['1', 'true', 'yes', 'on'];
  const FALSE = ['0', 'false', 'no', 'off'];
  return {
    allowed: '`0` or `1` (also `false`/`true`, `no`/`yes`, `off`/`on`)',
    parse(text) {
      const t = text.toLowerCase();
      if (TRUE.includes(t)) return true;
      if (FALSE.includes(t)) return false;
      return undefined;
    },
  };
}

function oneOf(choices) {
  return {
    allowed: choices.map((c) => `\`${c}\``).join(', '),
    parse(text) {
      const t = text.toLowerCase();
      return choices.includes(t) ? t : undefined;
    },
  };
}

function integer(min, max) {
  return {
    allowed: max === undefined ? `an integer from ${min}` : `an integer from ${min} to ${max}`,
    parse(text) {
      if (!/^\d+$/.test(text)) return undefined;
      const n = Number(text);
      if (!Number.isSafeInteger(n) || n < min || (max !== undefined && n > max)) return undefined;
      return n;
    },
  };
}

function nonNegativeNumber(unit) {
  return {
    allowed: `a non-negative number (${unit})`,
    parse(text) {
      if (!/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return undefined;
      const n = Number(text);
      return Number.isFinite(n) ? n : undefined;
    },
  };
}

function absolutePath() {
  return {
    allowed: 'an absolute directory path',
    parse(text) {
      return require('path').isAbsolute(text) ? text : undefined;
    },
  };
}

// The most compile threads (crates/engine/src/compiler/options.rs, MAX_THREADS).
const MAX_THREADS = 256;

const VARIABLES = [
  {
    name: 'CRANEWASM_LAZY',
    ...flag(),
    meaning: 'Compile each function when it is first called (`1`, the default) or all of them before compilation resolves (`0`). As `setCompileOptions({ lazy })`.',
  },
  {
    name: 'CRANEWASM_FIRST_TIER',
    ...oneOf(require('./binding.js').tiers()),
    meaning: 'The tier functions are first compiled with (default `singlepass`, the single-pass compiler, which falls back to `baseline` per function for what it does not cover; `baseline` is Cranelift without optimizations). As `setCompileOptions({ firstTier })`.',
  },
  {
    name: 'CRANEWASM_SINGLEPASS_FALLBACKS',
    ...flag(),
    meaning: 'Print one line to stderr for each function the single-pass tier leaves to the baseline tier, with the reason (the first operator it does not cover): a developer\'s aid (default `0`).',
  },
  {
    name: 'CRANEWASM_TIER_UP',
    ...oneOf(['off', 'eager', 'dynamic']),
    meaning: 'When functions get optimized code after their first tier: never, all in the background at once, or hot ones (default `dynamic`). As `setCompileOptions({ tierUp })`.',
  },
  {
    name: 'CRANEWASM_COMPILE_THREADS',
    ...integer(1, MAX_THREADS),
    meaning: 'Threads of the compile pool (default: one per core). As `setCompileOptions({ threads })`.',
  },
  {
    name: 'CRANEWASM_BOUNDS_CHECKS',
    ...flag(),
    meaning: 'Memory accesses check their bounds in code, and memories reserve address space for their size only, not 8 GiB (`1`); or rely on guard regions (`0`, the default; memories fall back to bounds checks when no reservation can be had). As `setCompileOptions({ boundsChecks })`.',
  },
  {
    name: 'CRANEWASM_DISABLE_FEATURES',
    ...oneOf(['multi-memory']),
    meaning: 'Refuse modules that need this WebAssembly 3.0 feature, as an engine without it would (a `CompileError`): for code or test scripts written before it, such as the threads proposal\'s scripts, which expect modules with two memories to be invalid (the spec harness sets it for them). Unset by default: every feature of the engine is on.',
  },
  {
    name: 'CRANEWASM_CACHE',
    ...absolutePath(),
    meaning: 'Keep compiled code in this directory (created when first written) and start later compiles of the same bytes from it: the persistent code cache, off by default. Its entries are machine code: use a directory only this user can write. As `setCacheDirectory(dir)`.',
  },
  {
    name: 'CRANEWASM_CACHE_SIZE',
    ...integer(1),
    meaning: 'The most bytes the code cache directory\'s entries may take (default 1073741824, 1 GiB); the least recently used go first. As `setCacheDirectory(dir, { maxSize })`.',
  },
  {
    name: 'CRANEWASM_TIMEOUT',
    ...nonNegativeNumber('milliseconds'),
    meaning: 'A deadline on every outermost call from JS into wasm made through the standard namespace; past it the call traps with a RuntimeError. As `new Sandbox({ timeout })` for every instance.',
  },
  {
    name: 'CRANEWASM_FUEL',
    ...integer(0),
    meaning: 'Fuel given to every such call; running out traps with a RuntimeError. As `new Sandbox({ fuel })`, refilled per call.',
  },
  {
    name: 'CRANEWASM_MEMORY_LIMIT',
    ...integer(0),
    meaning: 'Bytes the memories of each instance made through the standard namespace may take together; `memory.grow` past it returns -1, instantiation past it throws a RangeError. As `new Sandbox({ memoryLimit })`, per instance.',
  },
  {
    name: 'CRANEWASM_PERF_MAP',
    ...flag(),
    meaning: 'Append a line per function placed in code memory (every tier, and the trampolines) to `/tmp/perf-<pid>.map`, so that Linux `perf` names wasm functions (`1`); code memory is then shared anonymous memory, which `perf` reads the map for. Off by default (`0`).',
  },
  {
    name: 'CRANEWASM_V8_CALLS',
    ...flag(),
    meaning: 'Calls between JS and wasm whose values are all numbers go through V8\'s C++ API (`1`, the default, when the addon was built with Node\'s headers), or every call goes through Node-API, the fallback (`0`), to compare or to rule the V8 path out.',
  },
  {
    name: 'CRANEWASM_REGISTER_WORKERS',
    ...flag(),
    meaning: '`require(\'cranewasm/register\')` also registers cranewasm in the Worker threads created after it (`1`, the default), or leaves them on Node\'s engine (`0`).',
  },
];

// The value of one variable (the parsed value, or undefined when unset or empty). Throws an Error
// naming the variable and its allowed values for any other text.
function read(name, env = require('process').env) {
  const variable = VARIABLES.find((v) => v.name === name);
  if (variable === undefined) throw new Error(`cranewasm: no environment variable ${name} in environment.js`);
  const raw = env[name];
  if (raw === undefined) return undefined;
  const text = `${raw}`.trim();
  if (text === '') return undefined;
  const value = variable.parse(text);
  if (value === undefined) {
    throw new Error(`cranewasm: ${name}=${JSON.stringify(raw)} is invalid: it must be ${variable.allowed.replace(/`/g, '')}`);
  }
  return value;
}

// Checks every variable of the table; throws for the first bad one.
function check(env = require('process').env) {
  for (const { name } of VARIABLES) read(name, env);
}

function markdownTable() {
  const escape = (text) => text.replace(/\|/g, '\\|');
  const rows = VARIABLES.map((v) => `| \`${v.name}\` | ${escape(v.allowed)} | ${escape(v.meaning)} |`);
  return ['| Variable | Allowed values | Meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

module.exports = { VARIABLES, read, check, markdownTable };

// `require('cranewasm/engine')`: the non-standard controls of cranewasm's compiler, beside the
// standard `WebAssembly` namespace (which stays exactly the standard one). Types: index.d.ts
// (`WebAssembly.Engine`).
//
// - getCompileOptions() / setCompileOptions(options): lazy or eager compilation, the first
//   tier, the tier-up policy and the number of compile threads, for modules compiled from then
//   on. An unknown key or a bad value is a TypeError naming it. The same settings come from
//   the environment (environment.js): CRANEWASM_LAZY=0|1, CRANEWASM_FIRST_TIER=singlepass|baseline|optimized,
//   CRANEWASM_TIER_UP=off|eager|dynamic, CRANEWASM_COMPILE_THREADS=n, CRANEWASM_BOUNDS_CHECKS=0|1.
// - compileStatus(module): how many of the module's functions run code of each tier now.
// - tierUp(module): a promise that resolves once every function has optimized code.
// - moduleCacheStats(): { hits, misses, live } of the in-process module cache (compiling bytes
//   identical to a live module's reuses its code).
// - sharedMemoryFromBuffer(buffer), encodeMessage(value), decodeMessage(value): Memory and
//   Module objects across threads by hand, where cranewasm/register does not do it.
// - serialize(module) / deserialize(bytes): a module's wasm bytes and the machine code its
//   functions run now, as a Uint8Array, and back to a Module that runs without compiling what
//   was cached. Refused bytes throw a DeserializeError (its `kind` says why). The bytes are
//   machine code: deserialize only bytes from a trusted place.
// - setCacheDirectory(dir, { maxSize }) / getCacheDirectory() / cacheStats(): the persistent
//   code cache (also CRANEWASM_CACHE=<dir>, CRANEWASM_CACHE_SIZE=<bytes>); off by default.
'use strict';

require('./index.js'); // fills internal.moduleBrand
const internal = require('./internal.js');
const native = require('./binding.js');
const util = require('util');

const TIERS = native.tiers(); // in order: 'singlepass', 'baseline', 'optimized'
const POLICIES = ['off', 'eager', 'dynamic'];
const MAX_THREADS = 256;

function nativeModule(module, caller) {
  const brand = internal.moduleBrand;
  if (typeof module !== 'object' || module === null || !brand || !brand.has(module)) {
    throw new TypeError(`${caller}: Argument 0 must be a WebAssembly.Module`);
  }
  return brand.get(module);
}

function call(f) {
  try {
    return f();
  } catch (err) {
    throw new Error(`cranewasm: ${err && err.message}`);
  }
}

/** The options modules compiled from now on get. */
function getCompileOptions() {
  const o = call(() => native.getCompileOptions());
  return {
    lazy: o.lazy,
    firstTier: o.firstTier,
    tierUp: o.tierUp,
    threads: o.threads,
    interruptChecks: o.interruptChecks,
    boundsChecks: o.boundsChecks,
  };
}

// The options setCompileOptions() takes, each with its check and what it allows (for the error).
const COMPILE_OPTIONS = {
  lazy: { ok: (v) => typeof v === 'boolean', allowed: 'a boolean' },
  firstTier: { ok: (v) => TIERS.includes(v), allowed: `one of ${TIERS.map((t) => `'${t}'`).join(', ')}` },
  tierUp: { ok: (v) => POLICIES.includes(v), allowed: `one of ${POLICIES.map((t) => `'${t}'`).join(', ')}` },
  threads: { ok: (v) => Number.isInteger(v) && v >= 1 && v <= MAX_THREADS, allowed: `an integer from 1 to ${MAX_THREADS}` },
  interruptChecks: { ok: (v) => typeof v === 'boolean', allowed: 'a boolean' },
  boundsChecks: { ok: (v) => typeof v === 'boolean', allowed: 'a boolean' },
};

function describeValue(value) {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol') return value.toString();
  if (typeof value === 'function') return 'a function';
  if (value !== null && typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}

/**
 * Changes some of the options (the others keep their values); returns the new options. An
 * unknown key or a bad value is a TypeError naming it, and then nothing changes.
 */
function setCompileOptions(options) {
  const caller = 'setCompileOptions()';
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${caller}: Argument 0 must be an object`);
  }
  const known = Object.keys(COMPILE_OPTIONS);
  for (const key of Object.keys(options)) {
    if (!Object.prototype.hasOwnProperty.call(COMPILE_OPTIONS, key)) {
      throw new TypeError(`${caller}: unknown option ${JSON.stringify(key)} (known: ${known.join(', ')})`);
    }
  }
  const next = getCompileOptions();
  for (const key of known) {
    const value = options[key];
    if (value === undefined) continue;
    if (!COMPILE_OPTIONS[key].ok(value)) {
      throw new TypeError(`${caller}: ${key} must be ${COMPILE_OPTIONS[key].allowed}, got ${describeValue(value)}`);
    }
    next[key] = value;
  }
  call(() => native.setCompileOptions(next));
  return getCompileOptions();
}

/** Counts of the module's defined functions by the tier of the code they run now. */
function compileStatus(module) {
  const m = nativeModule(module, 'compileStatus()');
  const s = call(() => m.compileStatus());
  const status = { functions: s.functions, uncompiled: s.uncompiled };
  TIERS.forEach((tier, i) => {
    status[tier] = s.byTier[i];
  });
  return {
    ...status,
    cheaperSettings: s.cheaperSettings,
    fallbacks: s.fallbacks,
    lazy: s.lazy,
    firstTier: s.firstTier,
    tierUp: s.tierUp,
  };
}

/** Resolves once every function of `module` has optimized code (compiling what is missing). */
function tierUp(module) {
  return new Promise((resolve, reject) => {
    const m = nativeModule(module, 'tierUp()');
    const task = call(() => m.tierUp());
    task.then(() => resolve(), (err) => reject(new Error(`cranewasm: ${err && err.message}`)));
  });
}

// ---------------------------------------------------------------------------------------------
// Sandbox: limits for the instances made through it
// ---------------------------------------------------------------------------------------------

const SANDBOX_OPTIONS = ['timeout', 'fuel', 'memoryLimit', 'tableLimit', 'instanceLimit', 'boundsChecks'];

// An optional non-negative number option (fuel, limits: integers).
function sandboxOption(options, name, integer) {
  const value = options[name];
  if (value === undefined) return undefined;
  const caller = 'new Sandbox()';
  if (typeof value !== 'number') throw new TypeError(`${caller}: ${name} must be a number, got ${typeof value}`);
  if (Number.isNaN(value)) throw new RangeError(`${caller}: ${name} must not be NaN`);
  if (value < 0) throw new RangeError(`${caller}: ${name} must not be negative, got ${value}`);
  if (!Number.isFinite(value)) throw new RangeError(`${caller}: ${name} must be finite`);
  if (integer && !Number.isSafeInteger(value)) throw new RangeError(`${caller}: ${name} must be a safe integer, got ${value}`);
  return value;
}

const sandboxes = new WeakMap(); // Sandbox → NativeSandbox

function nativeSandbox(sandbox, caller) {
  const n = sandboxes.get(sandbox);
  if (n === undefined) throw new TypeError(`${caller}: receiver is not a Sandbox`);
  return n;
}

/**
 * Limits for the instances made through it: a deadline on each outermost call from JS into
 * their code, fuel (deterministic metering of wasm operators), and caps on the memory, table
 * elements and instances they create.
 */
class Sandbox {
  constructor(options = {}) {
    const caller = 'new Sandbox()';
    if (options === null || (typeof options !== 'object' && typeof options !== 'undefined')) {
      throw new TypeError(`${caller}: options must be an object`);
    }
    for (const key of Object.keys(options)) {
      if (!SANDBOX_OPTIONS.includes(key)) {
        throw new TypeError(`${caller}: unknown option ${JSON.stringify(key)} (known: ${SANDBOX_OPTIONS.join(', ')})`);
      }
    }
    const timeout = sandboxOption(options, 'timeout', false);
    const fuel = sandboxOption(options, 'fuel', true);
    const memoryLimit = sandboxOption(options, 'memoryLimit', true);
    const tableLimit = sandboxOption(options, 'tableLimit', true);
    const instanceLimit = sandboxOption(options, 'instanceLimit', true);
    // Like the WebAssembly objects, a Sandbox cannot be cloned (structuredClone, postMessage).
    const self = internal.platformObject('Sandbox', new.target);
    const { boundsChecks } = options;
    if (boundsChecks !== undefined && typeof boundsChecks !== 'boolean') {
      throw new TypeError(`${caller}: boundsChecks must be a boolean, got ${typeof boundsChecks}`);
    }
    const sandbox = call(() => new native.NativeSandbox({ timeout, fuel, memoryLimit, tableLimit, instanceLimit }));
    if (boundsChecks) sandbox.setBoundsChecks(true);
    sandboxes.set(self, sandbox);
    return self;
  }

  /**
   * As WebAssembly.instantiate: bytes give a promise of { module, instance }, a Module a
   * promise of an Instance; the instance belongs to this sandbox. Compile options
   * (`{ builtins, importedStringConstants }`) apply to bytes, as for WebAssembly.instantiate.
   */
  instantiate(source, importObject, options) {
    const sandbox = nativeSandbox(this, 'Sandbox.instantiate()');
    const thrower = new internal.ErrorThrower('Sandbox.instantiate()');
    return new Promise((resolve) => {
      if (typeof source !== 'object' || source === null || util.types.isProxy(source)) {
        throw thrower.typeError('Argument 0 must be a buffer source or a WebAssembly.Module object');
      }
      resolve(internal.instantiateSource(source, importObject, thrower, sandbox, options));
    });
  }

  /** Fuel left (0 when the sandbox has no fuel option); assign to refill. */
  get fuel() {
    return nativeSandbox(this, 'Sandbox.fuel').fuel;
  }

  set fuel(value) {
    const sandbox = nativeSandbox(this, 'Sandbox.fuel');
    const fuel = sandboxOption({ fuel: value }, 'fuel', true);
    if (fuel === undefined) throw new TypeError('Sandbox.fuel: must be a number, got undefined');
    sandbox.fuel = fuel;
  }
}

// A shared WebAssembly.Memory's SharedArrayBuffer crosses threads (postMessage, workerData) but
// the Memory object does not (Node-API objects cannot be cloned): in a Worker, this gives back a
// WebAssembly.Memory over the same linear memory, for a SharedArrayBuffer that is (or aliases)
// a shared memory's `buffer` in any thread; null for any other value.
function sharedMemoryFromBuffer(buffer) {
  const nativeMemory = native.sharedMemoryFromBuffer(buffer);
  return nativeMemory ? internal.newMemoryObject(nativeMemory) : null;
}

/** What the in-process module cache did: { hits, misses, live }. */
function moduleCacheStats() {
  const s = call(() => native.moduleCacheStats());
  return { hits: s.hits, misses: s.misses, live: s.live };
}

// Module and shared Memory objects across threads without cranewasm/register (which installs
// this in postMessage, workerData and structuredClone): clone.js.
const clone = require('./clone.js');

/** `value` for postMessage: its Modules and shared Memories as markers in an envelope. */
function encodeMessage(value) {
  return clone.encode(value);
}

/** A received envelope's value with this thread's Modules and Memories; others as they are. */
function decodeMessage(value) {
  return clone.decode(value);
}

/**
 * Why deserialize() refused its bytes. `kind`: 'format' (not serialized by cranewasm, or
 * another format version), 'corrupt' (truncated or altered: the checksum or a field does not
 * check out), 'build' (another build of cranewasm), 'cpu' (code relying on CPU features this
 * machine lacks), 'options' (compiled with other compile options or wasm features than this
 * process's), or 'argument' (not a BufferSource).
 */
class DeserializeError extends Error {
  constructor(message, kind) {
    super(message);
    this.kind = kind;
  }
}
Object.defineProperty(DeserializeError.prototype, 'name', {
  value: 'DeserializeError', writable: true, enumerable: false, configurable: true,
});

/**
 * The module's wasm bytes and the machine code each of its functions runs now (the best tier
 * reached so far; functions never called under lazy compilation are left out), as a Uint8Array
 * for deserialize() in a process of the same cranewasm build on a machine with the same CPU
 * features and the same compile options.
 */
function serialize(module) {
  const m = nativeModule(module, 'serialize()');
  const buffer = call(() => native.serializeModule(m));
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/**
 * A WebAssembly.Module from serialize()'s bytes: the wasm bytes they carry are decoded and
 * validated again, the cached code is installed as it is (nothing cached is compiled), the
 * other functions compile lazily as usual and tier-up goes on. Throws a DeserializeError for
 * bytes it cannot use. The bytes are machine code that will run: only from a trusted place.
 */
function deserialize(bytes) {
  let view;
  if (ArrayBuffer.isView(bytes)) {
    view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } else if (bytes instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && bytes instanceof SharedArrayBuffer)) {
    view = new Uint8Array(bytes);
  } else {
    throw new DeserializeError('deserialize(): Argument 0 must be a buffer source', 'argument');
  }
  const outcome = call(() => native.deserializeModule(view.slice()));
  if (outcome !== null && typeof outcome === 'object' && typeof outcome.kind === 'string' && typeof outcome.message === 'string') {
    throw new DeserializeError(`deserialize(): ${outcome.message}`, outcome.kind);
  }
  return internal.newModuleObject(outcome);
}

/**
 * Turns the persistent code cache on in `directory` (created when first written), bounded to
 * `maxSize` bytes (default 1 GiB; least recently used entries go first), or off (`null`).
 * Modules compiled from then on start from the code an earlier run left there and keep their
 * entry current as they tier up. Returns { directory, maxSize }. The entries are machine code:
 * the directory must be as trusted as the code that runs.
 */
function setCacheDirectory(directory, options = {}) {
  const caller = 'setCacheDirectory()';
  if (directory !== null && (typeof directory !== 'string' || directory === '' || directory.includes('\0'))) {
    throw new TypeError(`${caller}: Argument 0 must be a directory path (a non-empty string) or null`);
  }
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${caller}: Argument 1 must be an object`);
  }
  for (const key of Object.keys(options)) {
    if (key !== 'maxSize') throw new TypeError(`${caller}: unknown option ${JSON.stringify(key)} (known: maxSize)`);
  }
  let { maxSize } = options;
  if (maxSize === undefined) maxSize = 2 ** 30;
  if (!Number.isSafeInteger(maxSize) || maxSize < 1) {
    throw new TypeError(`${caller}: maxSize must be a positive integer (bytes), got ${describeValue(maxSize)}`);
  }
  const path = require('path');
  const settings = call(() => native.setCacheDirectory(directory === null ? null : path.resolve(directory), maxSize));
  return { directory: settings.directory ?? null, maxSize: settings.maxSize };
}

/** The persistent code cache's settings: { directory (null when off), maxSize }. */
function getCacheDirectory() {
  const settings = call(() => native.getCacheDirectory());
  return { directory: settings.directory ?? null, maxSize: settings.maxSize };
}

/** What the persistent code cache did: { hits, misses, damaged, writes, evictions, failures }. */
function cacheStats() {
  const s = call(() => native.cacheStats());
  return { hits: s.hits, misses: s.misses, damaged: s.damaged, writes: s.writes, evictions: s.evictions, failures: s.failures };
}

module.exports = { serialize, deserialize, DeserializeError, setCacheDirectory, getCacheDirectory, cacheStats, getCompileOptions, setCompileOptions, compileStatus, tierUp, moduleCacheStats, Sandbox, sharedMemoryFromBuffer, encodeMessage, decodeMessage };

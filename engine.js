// `require('cranewasm/engine')`: the non-standard controls of cranewasm's compiler, beside the
// standard `WebAssembly` namespace (which stays exactly the standard one). Types: index.d.ts
// (`WebAssembly.Engine`).
//
// - getCompileOptions() / setCompileOptions(options): lazy or eager compilation, the first
//   tier, the tier-up policy and the number of compile threads, for modules compiled from then
//   on. The same settings come from the environment: CRANEWASM_LAZY=0|1,
//   CRANEWASM_FIRST_TIER=baseline|optimized, CRANEWASM_TIER_UP=off|eager|dynamic,
//   CRANEWASM_COMPILE_THREADS=n, CRANEWASM_BOUNDS_CHECKS=0|1 (checked at load by index.js).
// - compileStatus(module): how many of the module's functions run code of each tier now.
// - tierUp(module): a promise that resolves once every function has optimized code.
'use strict';

require('./index.js'); // fills internal.moduleBrand
const internal = require('./internal.js');
const native = require('./binding.js');
const util = require('util');

const TIERS = ['baseline', 'optimized'];
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

/** Changes some of the options (the others keep their values); returns the new options. */
function setCompileOptions(options) {
  const caller = 'setCompileOptions()';
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${caller}: Argument 0 must be an object`);
  }
  const next = getCompileOptions();
  const { lazy, firstTier, tierUp, threads, interruptChecks, boundsChecks } = options;
  if (lazy !== undefined) {
    if (typeof lazy !== 'boolean') throw new TypeError(`${caller}: lazy must be a boolean`);
    next.lazy = lazy;
  }
  if (firstTier !== undefined) {
    if (!TIERS.includes(firstTier)) throw new TypeError(`${caller}: firstTier must be one of ${TIERS.join(', ')}`);
    next.firstTier = firstTier;
  }
  if (tierUp !== undefined) {
    if (!POLICIES.includes(tierUp)) throw new TypeError(`${caller}: tierUp must be one of ${POLICIES.join(', ')}`);
    next.tierUp = tierUp;
  }
  if (threads !== undefined) {
    if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
      throw new RangeError(`${caller}: threads must be an integer from 1 to ${MAX_THREADS}`);
    }
    next.threads = threads;
  }
  if (interruptChecks !== undefined) {
    if (typeof interruptChecks !== 'boolean') throw new TypeError(`${caller}: interruptChecks must be a boolean`);
    next.interruptChecks = interruptChecks;
  }
  if (boundsChecks !== undefined) {
    if (typeof boundsChecks !== 'boolean') throw new TypeError(`${caller}: boundsChecks must be a boolean`);
    next.boundsChecks = boundsChecks;
  }
  call(() => native.setCompileOptions(next));
  return getCompileOptions();
}

/** Counts of the module's defined functions by the tier of the code they run now. */
function compileStatus(module) {
  const m = nativeModule(module, 'compileStatus()');
  const s = call(() => m.compileStatus());
  return {
    functions: s.functions,
    uncompiled: s.uncompiled,
    baseline: s.baseline,
    optimized: s.optimized,
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
    task.then((done) => {
      if (done) resolve();
      else reject(new Error('cranewasm: tierUp(): optimized code could not be made for every function'));
    }, (err) => reject(new Error(`cranewasm: ${err && err.message}`)));
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
    sandboxOption(options, 'memoryLimit', true);
    sandboxOption(options, 'tableLimit', true);
    const instanceLimit = sandboxOption(options, 'instanceLimit', true);
    const { boundsChecks } = options;
    if (boundsChecks !== undefined && typeof boundsChecks !== 'boolean') {
      throw new TypeError(`${caller}: boundsChecks must be a boolean, got ${typeof boundsChecks}`);
    }
    const sandbox = call(() => new native.NativeSandbox(timeout, fuel, instanceLimit));
    if (boundsChecks) sandbox.setBoundsChecks(true);
    sandboxes.set(this, sandbox);
  }

  /**
   * As WebAssembly.instantiate: bytes give a promise of { module, instance }, a Module a
   * promise of an Instance; the instance belongs to this sandbox.
   */
  instantiate(source, importObject) {
    const sandbox = nativeSandbox(this, 'Sandbox.instantiate()');
    const thrower = new internal.ErrorThrower('Sandbox.instantiate()');
    return new Promise((resolve) => {
      if (typeof source !== 'object' || source === null || util.types.isProxy(source)) {
        throw thrower.typeError('Argument 0 must be a buffer source or a WebAssembly.Module object');
      }
      resolve(internal.instantiateSource(source, importObject, thrower, sandbox));
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

module.exports = { getCompileOptions, setCompileOptions, compileStatus, tierUp, Sandbox };

// `require('cranewasm/wasi')`: WASI preview 1 for cranewasm instances, with node:wasi's API
// (Node 20's: `version` is required, `returnOnExit` defaults to true) and its errors for misuse.
// The WASI functions are the engine's (crates/engine/src/runtime/wasi.rs): the import object
// holds native function objects that an instance links directly, so wasm calls them without
// going through JS, and they read and write the bound memory with every pointer bounds-checked.
'use strict';

const { inspect } = require('util');
require('./index.js'); // sets up the realm and the Memory brand in internal.js
const internal = require('./internal.js');
const native = require('./binding.js');

function describe(value) {
  if (value == null) return `${value}`;
  if (typeof value === 'function' && value.name) return `function ${value.name}`;
  if (typeof value === 'object') {
    if (value.constructor && value.constructor.name) return `an instance of ${value.constructor.name}`;
    return inspect(value, { depth: -1 });
  }
  let inspected = inspect(value, { colors: false });
  if (inspected.length > 28) inspected = `${inspected.slice(0, 25)}...`;
  return `type ${typeof value} (${inspected})`;
}

function nodeError(Class, code, message) {
  const error = new Class(message);
  Object.defineProperty(error, 'code', { value: code, enumerable: true, writable: true, configurable: true });
  return error;
}

function invalidType(name, expected, value) {
  const what = name.includes('.') ? 'property' : 'argument';
  return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "${name}" ${what} must be ${expected}. Received ${describe(value)}`);
}

function validateObject(value, name) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidType(name, 'of type object', value);
}

function validateInt32(value, name) {
  if (typeof value !== 'number') throw invalidType(name, 'of type number', value);
  if (!Number.isInteger(value)) {
    throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be an integer. Received ${inspect(value)}`);
  }
  if (value < 0 || value > 2147483647) {
    throw nodeError(RangeError, 'ERR_OUT_OF_RANGE',
      `The value of "${name}" is out of range. It must be >= 0 && <= 2147483647. Received ${inspect(value)}`);
  }
}

const kState = Symbol('cranewasm.wasi');
// What proc_exit throws under returnOnExit, as node:wasi throws its own kExitCode symbol.
const kExitCode = Symbol('kExitCode');

class WASI {
  constructor(options = {}) {
    validateObject(options, 'options');
    if (typeof options.version !== 'string') throw invalidType('options.version', 'of type string', options.version);
    let bindingName;
    switch (options.version) {
      case 'unstable': bindingName = 'wasi_unstable'; break;
      case 'preview1': bindingName = 'wasi_snapshot_preview1'; break;
      default:
        throw nodeError(TypeError, 'ERR_INVALID_ARG_VALUE',
          `The property 'options.version' unsupported WASI version. Received ${inspect(options.version)}`);
    }
    if (options.args !== undefined && !Array.isArray(options.args)) {
      throw invalidType('options.args', 'an instance of Array', options.args);
    }
    const args = (options.args || []).map(String);
    const env = [];
    if (options.env !== undefined) {
      validateObject(options.env, 'options.env');
      for (const [key, value] of Object.entries(options.env)) {
        if (value !== undefined) env.push(`${key}=${value}`);
      }
    }
    const preopens = [];
    if (options.preopens !== undefined) {
      validateObject(options.preopens, 'options.preopens');
      // guest path → host directory; the program reaches nothing outside these directories.
      for (const [key, value] of Object.entries(options.preopens)) preopens.push(String(key), String(value));
    }
    const { stdin = 0, stdout = 1, stderr = 2 } = options;
    validateInt32(stdin, 'options.stdin');
    validateInt32(stdout, 'options.stdout');
    validateInt32(stderr, 'options.stderr');
    let returnOnExit = true;
    if (options.returnOnExit !== undefined) {
      if (typeof options.returnOnExit !== 'boolean') {
        throw invalidType('options.returnOnExit', 'of type boolean', options.returnOnExit);
      }
      returnOnExit = options.returnOnExit;
    }
    const wasi = new native.NativeWasi(args, env, preopens, [stdin, stdout, stderr], options.version === 'unstable');
    const wasiImport = {};
    for (const { name, value } of wasi.imports(internal.realm)) wasiImport[name] = value;
    const state = { wasi, bindingName, started: false, exitCode: 0 };
    // proc_exit is node:wasi's, in JS: it ends the program wherever it is called (in start(),
    // initialize() or any later export): with returnOnExit, by throwing kExitCode up to start()
    // (which returns the code) or to whoever called the export; without, by exiting the process.
    // Every other function is the engine's (its own proc_exit, for embedders of the engine, is
    // not used here).
    wasiImport.proc_exit = returnOnExit
      ? function proc_exit(rval) {
        state.exitCode = rval;
        throw kExitCode;
      }
      : function proc_exit(rval) {
        process.exit(rval);
      };
    this.wasiImport = wasiImport;
    this[kState] = state;
  }

  // node:wasi's finalizeBindings: a WASI starts once, even when the instance is refused.
  #bind(instance) {
    const state = this[kState];
    if (state.started) throw nodeError(Error, 'ERR_WASI_ALREADY_STARTED', 'WASI instance has already started');
    state.started = true;
    validateObject(instance, 'instance');
    validateObject(instance.exports, 'instance.exports');
    const { memory } = instance.exports;
    const nativeMemory = internal.memoryBrand.get(memory);
    if (nativeMemory === undefined) {
      throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', '"instance.exports.memory" property must be a WebAssembly.Memory object');
    }
    state.wasi.setMemory(nativeMemory);
  }

  start(instance) {
    this.#bind(instance);
    const { _start, _initialize } = instance.exports;
    if (typeof _start !== 'function') throw invalidType('instance.exports._start', 'of type function', _start);
    if (_initialize !== undefined) throw invalidType('instance.exports._initialize', 'undefined', _initialize);
    try {
      _start();
    } catch (error) {
      if (error !== kExitCode) throw error;
    }
    return this[kState].exitCode;
  }

  initialize(instance) {
    this.#bind(instance);
    const { _start, _initialize } = instance.exports;
    if (_start !== undefined) throw invalidType('instance.exports._start', 'undefined', _start);
    if (_initialize !== undefined) {
      if (typeof _initialize !== 'function') throw invalidType('instance.exports._initialize', 'of type function', _initialize);
      _initialize();
    }
  }

  getImportObject() {
    return { [this[kState].bindingName]: this.wasiImport };
  }
}

module.exports = { WASI };

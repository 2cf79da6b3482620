// The engine-agnostic script runner: executes the commands of one manifest, in order, through the
// public JS API of the `WebAssembly` namespace object it is given (cranewasm's, or Node's own to
// check the harness), and returns one result per command: {id, type, status: 'pass' | 'fail' |
// 'skip', message}. Errors are judged by class only (messages differ between engines):
// traps are namespace.RuntimeError, stack exhaustion RangeError, invalid and malformed modules
// namespace.CompileError, unlinkable modules namespace.LinkError.
'use strict';

const { spectestHost } = require('./spectest-host');
const { HostRefs, toJs, matches, describeExpected, describeActual, describeStoredBits } = require('./values');

/** A failure of the assertion (as opposed to an exception of the engine under test). */
class Failure extends Error {}

function describeError(e) {
  if (e instanceof Error || (e && typeof e === 'object' && 'message' in e)) {
    const name = e.name || (e.constructor && e.constructor.name) || 'Error';
    return `${name}: ${String(e.message).split('\n')[0]}`;
  }
  return `non-Error ${typeof e} ${String(e)}`;
}

function bytesOf(base64) {
  return new Uint8Array(Buffer.from(base64, 'base64'));
}

class ScriptRun {
  /**
   * @param manifest one script's manifest (tools/spectest's output)
   * @param WebAssembly the namespace object under test
   */
  constructor(manifest, WebAssembly) {
    this.manifest = manifest;
    this.WebAssembly = WebAssembly;
    this.hostRefs = new HostRefs();
    // The import object of every instantiation: the spectest module and registered instances.
    this.registry = { spectest: spectestHost(WebAssembly) };
    this.instances = [];
    // Why an instance is missing, by instance index (its module command failed).
    this.missing = [];
    // Why a name is missing from the registry, by name (its register command failed).
    this.unregistered = new Map();
    this.wrappers = new Map();
  }

  /** Runs one command and returns its result. */
  run(command) {
    const result = { id: command.id, type: command.type, status: 'pass' };
    if (command.type === 'skip') {
      return { ...result, type: command.directive, status: 'skip', message: command.reason };
    }
    try {
      const problem = this[command.type](command);
      if (problem !== undefined) return { ...result, status: 'fail', message: problem };
    } catch (e) {
      const message = e instanceof Failure ? e.message : `harness error: ${describeError(e)}`;
      return { ...result, status: 'fail', message };
    }
    return result;
  }

  instance(index) {
    const instance = this.instances[index];
    if (instance === undefined) {
      throw new Failure(`instance unavailable: ${this.missing[index] || 'its module was skipped'}`);
    }
    return instance;
  }

  /**
   * new Instance() with the script's imports: {instance} or {error, cause}, where `cause` names a
   * failed registration the module imports from (for messages; empty when there is none).
   */
  instantiate(module) {
    try {
      return { instance: new this.WebAssembly.Instance(module, this.registry) };
    } catch (error) {
      let cause = '';
      try {
        const needed = this.WebAssembly.Module.imports(module).find((i) => this.unregistered.has(i.module));
        if (needed) cause = `; it imports from "${needed.module}", whose register failed: ${this.unregistered.get(needed.module)}`;
      } catch {
        // Without the imports list there is no cause to add.
      }
      return { error, cause };
    }
  }

  compile(command, what) {
    try {
      return new this.WebAssembly.Module(bytesOf(command.wasm));
    } catch (e) {
      throw new Failure(`${what}: new Module() threw ${describeError(e)}`);
    }
  }

  /** The instance of wrapper module `index` (see tools/spectest/src/wrapper.rs). */
  wrapper(index) {
    if (!this.wrappers.has(index)) {
      const spec = this.manifest.wrappers[index];
      let outcome;
      try {
        const exported = this.instance(spec.instance).exports[spec.field];
        const module = new this.WebAssembly.Module(bytesOf(spec.wasm));
        outcome = new this.WebAssembly.Instance(module, { test: { f: exported } });
      } catch (e) {
        outcome = new Failure(
          e instanceof Failure ? e.message : `wrapper module for ${JSON.stringify(spec.field)}: ${describeError(e)}`,
        );
      }
      this.wrappers.set(index, outcome);
    }
    const outcome = this.wrappers.get(index);
    if (outcome instanceof Failure) throw outcome;
    return outcome;
  }

  /**
   * Performs an action. Returns the JS result, or, for a wasm-checked action, what the wrapper's
   * check function returned (0 = all results match). Exceptions of the engine propagate.
   */
  perform(action) {
    const instance = this.instance(action.instance);
    if (action.wrapper !== undefined) {
      const check = this.wrapper(action.wrapper).exports[action.check];
      return check();
    }
    const exported = instance.exports[action.field];
    if (action.type === 'get') {
      if (!(exported instanceof this.WebAssembly.Global)) {
        throw new Failure(`export ${JSON.stringify(action.field)} is not a WebAssembly.Global`);
      }
      return exported.value;
    }
    if (typeof exported !== 'function') {
      throw new Failure(`export ${JSON.stringify(action.field)} is not a function`);
    }
    return exported(...action.args.map((arg) => toJs(arg, this.hostRefs)));
  }

  /** Performs an action expected to throw an instance of `errorClass`. */
  expectThrow(command, errorClass, what) {
    try {
      this.perform(command.action);
    } catch (e) {
      if (e instanceof Failure) throw e;
      if (e instanceof errorClass) return undefined;
      return `expected a ${what} (${command.text}), got ${describeError(e)}`;
    }
    return `expected a ${what} (${command.text}), returned normally`;
  }

  module(command) {
    const module = this.compile(command, 'module');
    const { instance, error, cause } = this.instantiate(module);
    if (instance) {
      this.instances[command.instance] = instance;
      return undefined;
    }
    this.missing[command.instance] = `the module at line ${command.line} failed: ${describeError(error)}${cause}`;
    return `module: new Instance() threw ${describeError(error)}${cause}`;
  }

  /** `module definition` (WebAssembly 3.0 scripts): the module compiles; `module instance`
   * commands (converted to `module`) instantiate it. */
  module_definition(command) {
    this.compile(command, 'module_definition');
    return undefined;
  }

  register(command) {
    try {
      this.registry[command.as] = this.instance(command.instance).exports;
    } catch (e) {
      this.unregistered.set(command.as, e.message);
      throw e;
    }
    this.unregistered.delete(command.as);
    return undefined;
  }

  action(command) {
    try {
      this.perform(command.action);
    } catch (e) {
      if (e instanceof Failure) throw e;
      return `threw ${describeError(e)}`;
    }
    return undefined;
  }

  assert_return(command) {
    const { action, expected } = command;
    let actual;
    try {
      actual = this.perform(action);
    } catch (e) {
      if (e instanceof Failure) throw e;
      return `threw ${describeError(e)}`;
    }
    if (action.wrapper !== undefined) return this.wrappedOutcome(action, expected, actual);

    let results;
    if (expected.length === 0) {
      if (actual === undefined) return undefined;
      return `expected no result, got ${describeActual(actual)}`;
    } else if (expected.length === 1) {
      results = [actual];
    } else {
      if (!Array.isArray(actual) || actual.length !== expected.length) {
        return `expected ${expected.length} results, got ${describeActual(actual)}`;
      }
      results = actual;
    }
    const wrong = expected.findIndex((e, i) => !matches(results[i], e, this.hostRefs));
    if (wrong === -1) return undefined;
    const prefix = expected.length > 1 ? `result ${wrong}: ` : '';
    return `${prefix}got ${describeActual(results[wrong])}, expected ${describeExpected(expected[wrong])}`;
  }

  /** Interprets a wrapper's check result: 0, or 1 + index of the first wrong result. */
  wrappedOutcome(action, expected, code) {
    if (code === 0) return undefined;
    if (!Number.isInteger(code) || code < 1 || code > expected.length) {
      return `wrapper check returned ${describeActual(code)}`;
    }
    const i = code - 1;
    let got = 'a different value';
    try {
      const view = new DataView(this.wrapper(action.wrapper).exports.m.buffer);
      got = describeStoredBits(view, 16 * i, expected[i].type);
    } catch {
      // The verdict stands without the diagnostic.
    }
    return `${expected.length > 1 ? `result ${i}: ` : ''}got ${got}, expected ${describeExpected(expected[i])}`;
  }

  assert_trap(command) {
    return this.expectThrow(command, this.WebAssembly.RuntimeError, 'RuntimeError');
  }

  /** assert_exception: a wasm exception leaves the call, as a WebAssembly.Exception. */
  assert_exception(command) {
    return this.expectThrow(command, this.WebAssembly.Exception, 'WebAssembly.Exception');
  }

  assert_exhaustion(command) {
    return this.expectThrow(command, RangeError, 'RangeError');
  }

  /** assert_invalid and assert_malformed: validate() is false and new Module() throws CompileError. */
  assert_invalid(command) {
    const bytes = bytesOf(command.wasm);
    const problems = [];
    const valid = this.WebAssembly.validate(bytes);
    if (valid !== false) problems.push(`validate() returned ${describeActual(valid)}`);
    try {
      new this.WebAssembly.Module(bytes);
      problems.push('new Module() succeeded');
    } catch (e) {
      if (!(e instanceof this.WebAssembly.CompileError)) problems.push(`new Module() threw ${describeError(e)}`);
    }
    if (problems.length === 0) return undefined;
    return `expected a CompileError (${command.text}): ${problems.join('; ')}`;
  }

  assert_malformed(command) {
    return this.assert_invalid(command);
  }

  assert_unlinkable(command) {
    const module = this.compile(command, 'assert_unlinkable');
    const { error, cause } = this.instantiate(module);
    if (error === undefined) return `expected a LinkError (${command.text}), instantiated`;
    if (error instanceof this.WebAssembly.LinkError) return undefined;
    // The JS API throws TypeError, not LinkError, when an import's module is not an object in the
    // import object ("read the imports", step 3.2). No spec script does that today; Node agrees.
    if (error instanceof TypeError && this.importsMissingModule(module)) return undefined;
    return `expected a LinkError (${command.text}), got ${describeError(error)}${cause}`;
  }

  importsMissingModule(module) {
    return this.WebAssembly.Module.imports(module).some((i) => typeof this.registry[i.module] !== 'object');
  }

  assert_uninstantiable(command) {
    const module = this.compile(command, 'assert_uninstantiable');
    const { error, cause } = this.instantiate(module);
    if (error === undefined) return `expected a RuntimeError (${command.text}), instantiated`;
    if (error instanceof this.WebAssembly.RuntimeError) return undefined;
    return `expected a RuntimeError (${command.text}), got ${describeError(error)}${cause}`;
  }
}

/** Runs a whole manifest synchronously (the worker uses ScriptRun directly, to report progress). */
function runManifest(manifest, WebAssembly) {
  const run = new ScriptRun(manifest, WebAssembly);
  return manifest.commands.map((command) => run.run(command));
}

module.exports = { ScriptRun, runManifest, describeError };

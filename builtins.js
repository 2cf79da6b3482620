// The JS API's builtins (the JS String Builtins proposal, now in the JS API spec): the
// WebAssemblyCompileOptions dictionary `{ builtins, importedStringConstants }` that compile,
// validate, new Module, instantiate and the streaming functions take; the compile-time imports a
// Module object remembers; and, at instantiation, the `wasm:js-string` functions and the string
// constants that stand in for those imports. index.js calls in here at five points: converting
// the options (compileOptions), after a compile (checkCompiled, remember), in Module.imports()
// (isCompileTimeImport), in "read the imports" (instantiation: isProvided, value) and for the
// names of exported builtins (instantiation: builtinName).
//
// The builtins are host functions written in JS: wasm calls them through the same exit path as
// any JS import, where the binding answers the common cases of test, cast, length, equals and
// charCodeAt itself (src/builtins.rs). Their traps are RuntimeErrors marked with `TRAP` (a wasm
// trap, not a JS exception: exception handling must not catch them).
'use strict';

const JS_STRING = 'js-string';
const JS_STRING_MODULE = 'wasm:js-string';

// The original String functions, as the spec requires (no lookup on String at call time).
const { fromCharCode, fromCodePoint } = String;
const uncurry = (method) => Function.prototype.call.bind(method);
const charCodeAt = uncurry(String.prototype.charCodeAt);
const codePointAt = uncurry(String.prototype.codePointAt);
const substring = uncurry(String.prototype.substring);
const toWellFormed = uncurry(String.prototype.toWellFormed);

/** Marks the RuntimeErrors of builtin traps (own property, value true). */
const TRAP = Symbol('cranewasm.trap');

// The names of the js-string set, in the spec's order. fromCharCodeArray and intoCharCodeArray
// take a GC array (ref null (array (mut i16))): a module may declare that type, but cranewasm
// makes no array values (no GC), so they are only ever called with null, and trap as the spec
// says for a null array (src/builtins.rs checks their types).
const JS_STRING_NAMES = new Set([
  'cast', 'test', 'fromCharCodeArray', 'intoCharCodeArray', 'fromCharCode', 'fromCodePoint',
  'charCodeAt', 'codePointAt', 'length', 'concat', 'substring', 'equals', 'compare',
]);

// ---------------------------------------------------------------------------------------------
// WebAssemblyCompileOptions
// ---------------------------------------------------------------------------------------------

/** The options of a compile without any: no builtins, no string constants. */
const NO_OPTIONS = Object.freeze({ builtins: Object.freeze([]), importedStringConstants: null });

// WebIDL USVString: ToString (a TypeError for a Symbol), lone surrogates replaced by U+FFFD.
function toUSVString(value) {
  return toWellFormed(`${value}`);
}

/**
 * The WebIDL conversion of a `WebAssemblyCompileOptions` argument (argument `position`, for the
 * messages): undefined and null are the empty dictionary; other non-objects are a TypeError;
 * members are read in WebIDL's (lexicographic) order, `builtins` as a sequence (any iterable),
 * `importedStringConstants` as a nullable USVString. Errors thrown by getters and iterators
 * propagate.
 */
function compileOptions(value, thrower, position) {
  if (value === undefined || value === null) return NO_OPTIONS;
  if (typeof value !== 'object' && typeof value !== 'function') {
    throw thrower.typeError(`Argument ${position} must be an object (WebAssemblyCompileOptions)`);
  }
  let builtins = NO_OPTIONS.builtins;
  const builtinsValue = value.builtins;
  if (builtinsValue !== undefined) {
    if ((typeof builtinsValue !== 'object' && typeof builtinsValue !== 'function') || builtinsValue === null ||
        typeof builtinsValue[Symbol.iterator] !== 'function') {
      throw thrower.typeError(`Argument ${position}: builtins must be a sequence of strings`);
    }
    builtins = [];
    for (const name of builtinsValue) builtins.push(toUSVString(name));
  }
  let importedStringConstants = null;
  const constantsValue = value.importedStringConstants;
  if (constantsValue !== undefined && constantsValue !== null) importedStringConstants = toUSVString(constantsValue);
  if (builtins.length === 0 && importedStringConstants === null) return NO_OPTIONS;
  return { builtins, importedStringConstants };
}

// ---------------------------------------------------------------------------------------------
// Compile time
// ---------------------------------------------------------------------------------------------

/** Module object → { jsString, stringModule } for modules compiled with builtins or constants. */
const compileTimeImports = new WeakMap();

/**
 * "Validate builtins and imported string for a WebAssembly module" on a compiled NativeModule:
 * the CompileError message when the options do not fit the module (duplicate set names, a builtin
 * or string constant imported with a type that does not match), else undefined. Unknown set
 * names are ignored, as the spec says (a later set may be unknown to this engine).
 */
function checkCompiled(native, nativeModule, options) {
  if (options === NO_OPTIONS) return undefined;
  const seen = new Set();
  for (const name of options.builtins) {
    if (seen.has(name)) return `builtins: "${name}" is given more than once`;
    seen.add(name);
  }
  const message = native.checkCompileTimeImports(nativeModule, seen.has(JS_STRING), options.importedStringConstants ?? undefined);
  return message === null || message === undefined ? undefined : `${message}`;
}

/** Records what a new Module object's compile options make compile-time imports. */
function remember(moduleObject, options) {
  if (options === NO_OPTIONS) return;
  const jsString = options.builtins.includes(JS_STRING);
  const stringModule = options.importedStringConstants;
  if (!jsString && stringModule === null) return;
  compileTimeImports.set(moduleObject, { jsString, stringModule });
}

/** The compile options a Module object was given, as far as they matter (clone.js sends them). */
function remembered(moduleObject) {
  const record = compileTimeImports.get(moduleObject);
  if (record === undefined) return NO_OPTIONS;
  return { builtins: record.jsString ? [JS_STRING] : [], importedStringConstants: record.stringModule };
}

// The spec's order: the string-constants module wins over a builtin set of the same name.
function kindOf(record, moduleName, name) {
  if (record === undefined) return undefined;
  if (record.stringModule !== null && moduleName === record.stringModule) return 'string';
  if (record.jsString && moduleName === JS_STRING_MODULE && JS_STRING_NAMES.has(name)) return 'builtin';
  return undefined;
}

/** Whether Module.imports() leaves the import out (a builtin or a string constant). */
function isCompileTimeImport(moduleObject, moduleName, name) {
  return kindOf(compileTimeImports.get(moduleObject), moduleName, name) !== undefined;
}

// ---------------------------------------------------------------------------------------------
// Instantiation: the js-string set and the string constants
// ---------------------------------------------------------------------------------------------

/**
 * A new instantiation of the js-string set (each instance gets its own functions, as the spec
 * says), made with the realm's RuntimeError. Methods, so that like exported functions they are
 * no constructors; `length` is each builtin's parameter count. Integer parameters are converted
 * as an exported function's (ToInt32, `| 0`/`>>> 0`; a no-op when wasm calls) and read as
 * unsigned, as the spec's polyfill does.
 */
function jsStringSet(RuntimeError) {
  const trap = (message) => {
    const error = new RuntimeError(message);
    Object.defineProperty(error, TRAP, { value: true });
    // A trap's stack has no frames of this file: the caller's (wasm frames are added as the
    // error leaves wasm, as for any import's error).
    try {
      const stack = `${error.stack}`.split('\n').filter((line) => !line.includes(__filename)).join('\n');
      Object.defineProperty(error, 'stack', { value: stack, writable: true, configurable: true });
    } catch {
      // An unusual Error.prepareStackTrace: the stack stays as it is.
    }
    throw error;
  };
  const unwrap = (value) => (typeof value === 'string' ? value : trap('illegal cast'));
  return {
    cast(string) {
      return unwrap(string);
    },
    test(string) {
      return typeof string === 'string' ? 1 : 0;
    },
    // eslint-disable-next-line no-unused-vars
    fromCharCodeArray(array, start, end) {
      // The array is null: no other value of its type exists without GC.
      trap('dereferencing a null pointer');
    },
    // eslint-disable-next-line no-unused-vars
    intoCharCodeArray(string, array, start) {
      trap('dereferencing a null pointer');
    },
    fromCharCode(charCode) {
      return fromCharCode(charCode >>> 0);
    },
    fromCodePoint(codePoint) {
      const value = codePoint >>> 0;
      if (value > 0x10ffff) trap(`Invalid code point ${value}`);
      return fromCodePoint(value);
    },
    charCodeAt(string, index) {
      const at = index >>> 0;
      const s = unwrap(string);
      if (at >= s.length) trap('string offset out of bounds');
      return charCodeAt(s, at);
    },
    codePointAt(string, index) {
      const at = index >>> 0;
      const s = unwrap(string);
      if (at >= s.length) trap('string offset out of bounds');
      return codePointAt(s, at);
    },
    length(string) {
      return unwrap(string).length;
    },
    concat(first, second) {
      return unwrap(first) + unwrap(second);
    },
    substring(string, start, end) {
      const from = start >>> 0;
      const to = end >>> 0;
      const s = unwrap(string);
      if (from > to || from > s.length) return '';
      return substring(s, from, to);
    },
    equals(first, second) {
      if (first !== null && typeof first !== 'string') trap('illegal cast');
      if (second !== null && typeof second !== 'string') trap('illegal cast');
      return first === second ? 1 : 0;
    },
    compare(first, second) {
      const a = unwrap(first);
      const b = unwrap(second);
      if (a === b) return 0;
      return a < b ? -1 : 1;
    },
  };
}

/**
 * Per instantiation: what "read the imports" takes for the compile-time imports of
 * `moduleObject` instead of looking in the import object (`readImports()`: the module's import
 * descriptors), or undefined when the module has none.
 */
function instantiation(moduleObject, native, RuntimeError, readImports) {
  const record = compileTimeImports.get(moduleObject);
  if (record === undefined) return undefined;
  let set;
  let builtinNames; // by function index: the builtin's name, or undefined
  return {
    /**
     * The name of an exported function with function index `index`: the import's name for an
     * imported builtin (the JS API's "name of the WebAssembly function"), else undefined.
     */
    builtinName(index) {
      if (builtinNames === undefined) {
        builtinNames = [];
        for (const { module: moduleName, name, kind } of readImports()) {
          if (kind === 'function') builtinNames.push(kindOf(record, moduleName, name) === 'builtin' ? name : undefined);
        }
      }
      return builtinNames[index];
    },
    /** Whether the import is provided here (a builtin or a string constant), not read. */
    isProvided(moduleName, name) {
      return kindOf(record, moduleName, name) !== undefined;
    },
    /**
     * The value the binding links for a provided import: the builtin function, or a new
     * immutable (ref extern) global holding the import's name; undefined for any other.
     */
    value(moduleName, name) {
      switch (kindOf(record, moduleName, name)) {
        case 'string':
          return native.createGlobal('(ref extern)', false, name);
        case 'builtin':
          if (set === undefined) {
            set = jsStringSet(RuntimeError);
            // The binding answers the common cases of some builtins without calling them.
            for (const builtin of Object.keys(set)) native.markBuiltin(set[builtin], builtin);
          }
          return set[name];
        default:
          return undefined;
      }
    },
  };
}

/**
 * Whether `value`, thrown by an import, is a builtin's trap: for exception handling, which must
 * let it pass wasm handlers (catch_all, catch_all_ref) as a trap rather than catch it as a JS
 * exception.
 */
function isTrap(value) {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && Object.hasOwn(value, TRAP);
}

module.exports = {
  NO_OPTIONS,
  TRAP,
  isTrap,
  compileOptions,
  checkCompiled,
  remember,
  remembered,
  isCompileTimeImport,
  instantiation,
  jsStringSet,
};

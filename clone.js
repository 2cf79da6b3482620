// Module and shared Memory objects across threads: what `postMessage`, `workerData`,
// `receiveMessageOnPort`, BroadcastChannel and `structuredClone` do with V8's own, for
// cranewasm's (which V8 cannot clone: they are not V8 wasm objects). docs/architecture.md,
// "Objects across threads".
//
// Sending: V8 serializes the message first, untouched, so a message without cranewasm objects
// costs nothing more. Only when V8 throws a DataCloneError is the message walked (plain
// objects, arrays, Maps and Sets, in V8's order; cycles and shared references kept), and if it
// holds a Module or a shared Memory it is copied with each of them replaced by a *marker*, a
// plain object: a Module's carries a token (a small SharedArrayBuffer that src/clone.rs maps to
// the compiled code, and keeps alive while any thread holds it), a Memory's its
// SharedArrayBuffer (which leads back to the linear memory, see sharedMemoryFromBuffer). The
// copy goes inside an *envelope*, `{ __cranewasm_clone__: 'envelope/1', value }`, and V8
// serializes that. What V8 refuses in it (an unshared Memory, a Table, a Global, an Instance, a
// function, ...) still throws, and a DataCloneError names cranewasm's objects as V8 names its
// own ("#<Memory> could not be cloned.").
//
// Receiving: a message that is an envelope (one property check, on every message) is unwrapped
// and its markers are replaced by Module and Memory objects of the receiving thread, before any
// listener sees it. A Module received is the sender's compiled code, not compiled again (and
// with its tier-up state: code optimized in one thread runs in all); a Memory is the same
// linear memory. A thread without cranewasm's hooks (a Worker left on Node's engine) sees the
// envelope as it is.
//
// Nothing here leaks when a message is never received: a token lives as long as some
// SharedArrayBuffer over it does, in a message or in a thread, and V8 frees those with the
// message, the port or the Worker.
'use strict';

const util = require('util');
const internal = require('./internal.js');
const native = require('./binding.js');

const KEY = '__cranewasm_clone__';
const ENVELOPE = 'envelope/1';
const MODULE = 'Module';
const MEMORY = 'Memory';

const hasOwn = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

// The containers a walk enters: those V8 serializes by their contents, and which a copy keeps
// exactly. Other objects (class instances, typed arrays, errors, ...) are left as they are.
const ARRAY = 1;
const PLAIN = 2;
const MAP = 3;
const SET = 4;
function containerKind(value) {
  if (util.types.isProxy(value)) return 0;
  if (Array.isArray(value)) return ARRAY;
  if (util.types.isMap(value)) return MAP;
  if (util.types.isSet(value)) return SET;
  // An ordinary object of any realm (a message's objects are made in its port's realm, which
  // may not be this module's, e.g. under a vm context): its prototype is null or some realm's
  // Object.prototype.
  const prototype = Object.getPrototypeOf(value);
  if (prototype === null || (Object.getPrototypeOf(prototype) === null && Object.prototype.toString.call(value) === '[object Object]')) return PLAIN;
  return 0;
}

// What a cranewasm object becomes in a message: a marker, or undefined if it cannot cross
// (V8 then refuses it).
function markerOf(value) {
  const state = internal.cloneState(value);
  if (state === undefined) return undefined;
  if (state.kind === MODULE) {
    const token = native.moduleCloneToken(state.native);
    if (!token) return undefined; // a build without SharedArrayBuffer support
    return { [KEY]: MODULE, token, builtins: state.options.builtins, importedStringConstants: state.options.importedStringConstants };
  }
  return { [KEY]: MEMORY, buffer: state.buffer };
}

// Whether `value` holds a Module or shared Memory of cranewasm where V8 would look for it.
function holdsCloneable(value, seen = new Set()) {
  if (typeof value !== 'object' || value === null || seen.has(value)) return false;
  seen.add(value);
  if (internal.cloneState(value) !== undefined) return true;
  switch (containerKind(value)) {
    case ARRAY:
    case PLAIN:
      for (const key of Object.keys(value)) {
        if (holdsCloneable(value[key], seen)) return true;
      }
      return false;
    case MAP:
      for (const [key, entry] of Map.prototype.entries.call(value)) {
        if (holdsCloneable(key, seen) || holdsCloneable(entry, seen)) return true;
      }
      return false;
    case SET:
      for (const entry of Set.prototype.values.call(value)) {
        if (holdsCloneable(entry, seen)) return true;
      }
      return false;
    default:
      return false;
  }
}

// A copy of `value` with markers for cranewasm's objects; `copies` keeps each object's one copy
// (shared references and cycles stay so).
function withMarkers(value, copies) {
  if (typeof value !== 'object' || value === null) return value;
  if (copies.has(value)) return copies.get(value);
  const marker = markerOf(value);
  if (marker !== undefined) {
    copies.set(value, marker);
    return marker;
  }
  let copy;
  switch (containerKind(value)) {
    case ARRAY:
      copy = new Array(value.length);
      copies.set(value, copy);
      for (const key of Object.keys(value)) copy[key] = withMarkers(value[key], copies);
      return copy;
    case PLAIN:
      copy = Object.getPrototypeOf(value) === null ? Object.create(null) : {};
      copies.set(value, copy);
      for (const key of Object.keys(value)) {
        Object.defineProperty(copy, key, { value: withMarkers(value[key], copies), writable: true, enumerable: true, configurable: true });
      }
      return copy;
    case MAP:
      copy = new Map();
      copies.set(value, copy);
      for (const [key, entry] of Map.prototype.entries.call(value)) copy.set(withMarkers(key, copies), withMarkers(entry, copies));
      return copy;
    case SET:
      copy = new Set();
      copies.set(value, copy);
      for (const entry of Set.prototype.values.call(value)) copy.add(withMarkers(entry, copies));
      return copy;
    default:
      copies.set(value, value);
      return value;
  }
}

/**
 * `value` ready for V8's serializer: an envelope with markers for the Modules and shared
 * Memories it holds, or `value` itself when it holds none.
 */
function encode(value) {
  if (!holdsCloneable(value)) return value;
  return { [KEY]: ENVELOPE, value: withMarkers(value, new Map()) };
}

function isEnvelope(value) {
  return typeof value === 'object' && value !== null && !util.types.isProxy(value)
    && hasOwn(value, KEY) && value[KEY] === ENVELOPE && hasOwn(value, 'value');
}

function isMarker(value) {
  return typeof value === 'object' && value !== null && containerKind(value) === PLAIN && hasOwn(value, KEY)
    && (value[KEY] === MODULE || value[KEY] === MEMORY);
}

// The object a marker stands for, in this thread; the marker itself if it leads nowhere.
function revive(marker) {
  if (marker[KEY] === MODULE) {
    const nativeModule = native.moduleFromCloneToken(marker.token);
    if (!nativeModule) return marker;
    const builtins = Array.isArray(marker.builtins) ? marker.builtins.filter((name) => typeof name === 'string') : [];
    const constants = typeof marker.importedStringConstants === 'string' ? marker.importedStringConstants : null;
    return internal.newModuleObject(nativeModule, { builtins, importedStringConstants: constants });
  }
  const nativeMemory = native.sharedMemoryFromBuffer(marker.buffer);
  return nativeMemory ? internal.newMemoryObject(nativeMemory) : marker;
}

// Replaces the markers in a freshly deserialized value (ours to change) in place.
function reviveIn(value, revived) {
  if (typeof value !== 'object' || value === null) return value;
  if (revived.has(value)) return revived.get(value);
  if (isMarker(value)) {
    const object = revive(value);
    revived.set(value, object);
    return object;
  }
  revived.set(value, value);
  switch (containerKind(value)) {
    case ARRAY:
    case PLAIN:
      for (const key of Object.keys(value)) {
        const entry = value[key];
        const next = reviveIn(entry, revived);
        if (next !== entry) value[key] = next;
      }
      break;
    case MAP: {
      const entries = [...value];
      let changed = false;
      for (const entry of entries) {
        const key = reviveIn(entry[0], revived);
        const item = reviveIn(entry[1], revived);
        changed = changed || key !== entry[0] || item !== entry[1];
        entry[0] = key;
        entry[1] = item;
      }
      if (changed) {
        value.clear();
        for (const [key, item] of entries) value.set(key, item);
      }
      break;
    }
    case SET: {
      const entries = [...value];
      const next = entries.map((entry) => reviveIn(entry, revived));
      if (next.some((entry, i) => entry !== entries[i])) {
        value.clear();
        for (const entry of next) value.add(entry);
      }
      break;
    }
    default:
      break;
  }
  return value;
}

/** The value an envelope carries, with this thread's objects for its markers; others as they are. */
function decode(value) {
  return isEnvelope(value) ? reviveIn(value.value, new Map()) : value;
}

// V8 names an object it cannot clone after its constructor: cranewasm's are bound functions
// ("#<bound Memory>"); V8's own say "#<Memory>".
const BOUND_NAME = /^#<bound (Module|Instance|Memory|Table|Global|Tag|Exception)> could not be cloned\.$/;

function isDataCloneError(err) {
  return typeof err === 'object' && err !== null && err.name === 'DataCloneError';
}

function asNodeWould(err) {
  const match = isDataCloneError(err) ? BOUND_NAME.exec(`${err.message}`) : null;
  return match ? new DOMException(`#<${match[1]}> could not be cloned.`, 'DataCloneError') : err;
}

// Node's own first message to a new Worker (lib/internal/worker.js), of which only workerData is
// the user's: the Worker's code reads the rest before any hook can run there. (A Worker of
// cranewasm/register's encodes its workerData itself; this is for Worker classes looked up
// before the registration.)
function isLoadScript(value) {
  return typeof value === 'object' && value !== null && containerKind(value) === PLAIN && value.type === 'loadScript'
    && hasOwn(value, 'workerData') && hasOwn(value, 'publicPort');
}

function encodeMessage(value) {
  if (!isLoadScript(value)) return encode(value);
  const workerData = encode(value.workerData);
  return workerData === value.workerData ? value : { ...value, workerData };
}

// Runs `send(value)`; when V8 refuses the value and it holds cranewasm objects that can cross,
// sends its envelope instead.
function sendEncoded(send, value) {
  try {
    return send(value);
  } catch (err) {
    if (!isDataCloneError(err)) throw err;
    let encoded;
    try {
      encoded = encodeMessage(value);
    } catch {
      throw asNodeWould(err); // a getter that throws now: V8's error stands
    }
    if (encoded === value) throw asNodeWould(err);
    try {
      return send(encoded);
    } catch (again) {
      throw asNodeWould(again);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The hooks (cranewasm/register installs them in every thread it runs in)
// ---------------------------------------------------------------------------------------------

const INSTALLED = Symbol.for('cranewasm.clonesObjects');
// Node's EventTarget dispatches a MessagePort's messages through this method (a registered
// symbol, lib/internal/event_target.js), for every kind of listener and for `onmessage`.
const HYBRID_DISPATCH = Symbol.for('nodejs.internal.kHybridDispatch');

function install() {
  const workerThreads = require('worker_threads');
  const { MessagePort } = workerThreads;
  if (typeof MessagePort !== 'function' || hasOwn(MessagePort.prototype, INSTALLED)) return;
  Object.defineProperty(MessagePort.prototype, INSTALLED, { value: true });

  // Sending: Worker.prototype.postMessage, a Worker's parentPort, MessageChannel ports and
  // BroadcastChannel all end in MessagePort.prototype.postMessage.
  const postMessage = MessagePort.prototype.postMessage;
  if (typeof postMessage === 'function') {
    const wrapped = {
      postMessage(...args) {
        if (args.length === 0) return Reflect.apply(postMessage, this, args);
        return sendEncoded((value) => Reflect.apply(postMessage, this, [value, ...args.slice(1)]), args[0]);
      },
    }.postMessage;
    Object.defineProperty(wrapped, 'length', { value: postMessage.length });
    MessagePort.prototype.postMessage = wrapped;
  }

  // Receiving: every listener, `onmessage`, a Worker's 'message' events (its port's).
  const dispatch = MessagePort.prototype[HYBRID_DISPATCH];
  if (typeof dispatch === 'function') {
    Object.defineProperty(MessagePort.prototype, HYBRID_DISPATCH, {
      value: function hybridDispatch(value, type, event) {
        return Reflect.apply(dispatch, this, [type === 'message' ? decode(value) : value, type, event]);
      },
      writable: true, enumerable: false, configurable: true,
    });
  }

  const receive = workerThreads.receiveMessageOnPort;
  if (typeof receive === 'function') {
    workerThreads.receiveMessageOnPort = {
      receiveMessageOnPort(...args) {
        const received = Reflect.apply(receive, this, args);
        if (received !== undefined && isEnvelope(received.message)) received.message = decode(received.message);
        return received;
      },
    }.receiveMessageOnPort;
  }

  // structuredClone: V8 clones its Modules and shared Memories in one thread too.
  const clone = globalThis.structuredClone;
  if (typeof clone === 'function') {
    const wrapped = {
      structuredClone(...args) {
        if (args.length === 0) return Reflect.apply(clone, this, args);
        return decode(sendEncoded((value) => Reflect.apply(clone, this, [value, ...args.slice(1)]), args[0]));
      },
    }.structuredClone;
    Object.defineProperty(wrapped, 'length', { value: clone.length });
    Object.defineProperty(globalThis, 'structuredClone', { ...Object.getOwnPropertyDescriptor(globalThis, 'structuredClone'), value: wrapped });
  }

  installAtomicsBridge();

  // A Worker's workerData, in the Worker (its parent encoded it).
  if (!workerThreads.isMainThread && isEnvelope(workerThreads.workerData)) {
    workerThreads.workerData = decode(workerThreads.workerData);
  }
  require('module').syncBuiltinESMExports();
}

// JS's Atomics.wait/notify and wasm's wait/notify on one shared memory wake each other
// (src/js_atomics.rs): JS's notify also wakes wasm's waiters; wasm's notify also V8's (through
// V8's own notify, kept here before the wrap), for which JS waits are recorded with their cell.
function installAtomicsBridge() {
  if (typeof Atomics !== 'object' || typeof native.installAtomicsBridge !== 'function') return;
  const { wait, notify, waitAsync, load } = Atomics;
  // The counts of wasm waits and JS waits under way in the process: while both are 0, JS's
  // notify is V8's alone (an Int32Array over each word; read with a sequentially consistent
  // load, after the caller's store).
  const [wasmWaits, jsWaits] = native.waiterCountViews().map((view) => new Int32Array(view));
  native.installAtomicsBridge((buffer, index, count) => Reflect.apply(notify, Atomics, [new Int32Array(buffer), index, count]));
  const typedArrayPrototype = Object.getPrototypeOf(Int32Array.prototype);
  const bufferOf = Object.getOwnPropertyDescriptor(typedArrayPrototype, 'buffer').get;
  const byteOffsetOf = Object.getOwnPropertyDescriptor(typedArrayPrototype, 'byteOffset').get;
  const lengthOf = Object.getOwnPropertyDescriptor(typedArrayPrototype, 'length').get;
  // [SharedArrayBuffer, byte offset] of a cell Atomics would wait on or notify, or undefined
  // (then V8's own checks, which run next, throw or the buffer is not shared). The index is
  // converted as V8 converts it; an object's valueOf runs a second time. Only for an Int32Array
  // or BigInt64Array and an index in range (else V8's checks throw).
  const cell = (typedArray, index) => {
    try {
      if (!util.types.isInt32Array(typedArray) && !util.types.isBigInt64Array(typedArray)) return undefined;
      const buffer = Reflect.apply(bufferOf, typedArray, []);
      if (!util.types.isSharedArrayBuffer(buffer)) return undefined;
      const element = util.types.isBigInt64Array(typedArray) ? 8 : 4;
      const at = Math.trunc(Number(index)) || 0;
      if (!(at >= 0 && at < Reflect.apply(lengthOf, typedArray, []))) return undefined;
      return [buffer, Reflect.apply(byteOffsetOf, typedArray, []) + at * element];
    } catch {
      return undefined;
    }
  };
  // Starts a JS wait on the cell `at` with V8's `waitFunction` and the caller's `args`, on the
  // caller's typed array, or on a view of the buffer other waiters of the cell wait on through
  // another backing store (src/js_atomics.rs, jsWait): [the result, the cell waited on].
  const startWait = (waitFunction, typedArray, at, args) => {
    if (at === undefined) return [Reflect.apply(waitFunction, Atomics, args), undefined];
    const joined = native.jsWait(at[0], at[1], true);
    const waited = joined == null ? at : [joined, at[1]];
    try {
      if (joined == null) return [Reflect.apply(waitFunction, Atomics, args), waited];
      const element = util.types.isBigInt64Array(typedArray) ? BigInt64Array : Int32Array;
      const rest = Array.prototype.slice.call(args, 2);
      return [Reflect.apply(waitFunction, Atomics, [new element(joined), at[1] / element.BYTES_PER_ELEMENT, ...rest]), waited];
    } catch (err) {
      native.jsWait(waited[0], waited[1], false);
      throw err;
    }
  };
  const define = (name, f, length) => {
    Object.defineProperty(f, 'length', { value: length });
    Object.defineProperty(Atomics, name, { ...Object.getOwnPropertyDescriptor(Atomics, name), value: f });
  };
  define('wait', {
    wait(typedArray, index) {
      const at = cell(typedArray, index);
      const [result, waited] = startWait(wait, typedArray, at, arguments);
      if (waited !== undefined) native.jsWait(waited[0], waited[1], false);
      return result;
    },
  }.wait, wait.length);
  if (typeof waitAsync === 'function') {
    define('waitAsync', {
      waitAsync(typedArray, index) {
        const at = cell(typedArray, index);
        const [result, waited] = startWait(waitAsync, typedArray, at, arguments);
        if (waited !== undefined) {
          const done = () => native.jsWait(waited[0], waited[1], false);
          if (result && result.async === true) Promise.prototype.then.call(result.value, done, done);
          else done();
        }
        return result;
      },
    }.waitAsync, waitAsync.length);
  }
  define('notify', {
    notify(typedArray, index, count) {
      if (load(wasmWaits, 0) === 0 && load(jsWaits, 0) === 0) return Reflect.apply(notify, Atomics, arguments);
      const at = cell(typedArray, index);
      if (at === undefined) return Reflect.apply(notify, Atomics, arguments); // not shared: V8's alone
      // V8 wakes JS's waiters, through the buffer whose backing store they wait on (after a
      // growth it may not be this one; none when they wait on several).
      const target = native.jsNotifyTarget(at[0], at[1]);
      let woken;
      if (target === at[0]) {
        woken = Reflect.apply(notify, Atomics, arguments);
      } else {
        Reflect.apply(notify, Atomics, [typedArray, index, 0]); // V8's checks of the arguments
        const element = util.types.isBigInt64Array(typedArray) ? BigInt64Array : Int32Array;
        woken = target === null ? 0
          : Reflect.apply(notify, Atomics, [new element(target), at[1] / element.BYTES_PER_ELEMENT, count]);
      }
      const limit = count === undefined ? Infinity : Math.max(0, Math.trunc(Number(count)) || 0);
      if (woken >= limit) return woken;
      return woken + native.notifyWasmWaiters(at[0], at[1], Math.min(limit - woken, 0xffffffff));
    },
  }.notify, notify.length);
}

/** The options of a new Worker with an encoded workerData (or the options as they are). */
function workerOptions(options) {
  if (typeof options !== 'object' || options === null || !hasOwn(options, 'workerData')) return options;
  const workerData = options.workerData;
  const encoded = encode(workerData);
  return encoded === workerData ? options : { ...options, workerData: encoded };
}

module.exports = { encode, decode, install, workerOptions, asNodeWould };

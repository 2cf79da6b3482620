// Types of `require('cranewasm')` and `import … from 'cranewasm'`: the standard WebAssembly
// namespace, as TypeScript's lib.dom declares it, adapted to what cranewasm implements (Node 20's
// shape, without the exception-handling interfaces Tag and Exception, since the engine compiles
// WebAssembly 2.0). The interfaces are structurally those of lib.dom, so lib.dom's objects (the
// global `WebAssembly.Module`, …) are accepted wherever cranewasm expects its own, and cranewasm's
// are accepted where lib.dom's are expected, except Memory (and so Instance and Exports, which may
// hold one) against lib.dom versions that declare `toFixedLengthBuffer`/`toResizableBuffer`
// (TypeScript 5.9+): neither Node 20's engine nor cranewasm has them.
//
// `require('cranewasm/register')` installs this namespace as `globalThis.WebAssembly`; Node's own
// namespace then stays reachable as `globalThis[Symbol.for('cranewasm.originalWebAssembly')]`
// (see register.d.ts).

declare namespace WebAssembly {
  /** Bytes of a module: an ArrayBuffer, any TypedArray or a DataView (only the viewed range counts). */
  type BufferSource = ArrayBufferView | ArrayBuffer;

  /**
   * What the streaming functions read from their source: a fetch `Response` (`new Response(bytes,
   * { headers: { 'content-type': 'application/wasm' } })`). At run time it must be an instance of
   * the global `Response`; this structural type only spares users a dependency on DOM types.
   */
  interface StreamingResponse {
    readonly headers: { get(name: string): string | null };
    readonly ok: boolean;
    readonly status: number;
    readonly bodyUsed: boolean;
    readonly body: unknown;
  }

  /** The second argument of the error constructors, as for `Error`. */
  interface ErrorOptions {
    cause?: unknown;
  }

  /** Thrown when bytes fail to decode or validate (`new Module`, `compile`, `instantiate`, …). */
  interface CompileError extends Error {}
  var CompileError: {
    prototype: CompileError;
    new (message?: string, options?: ErrorOptions): CompileError;
    (message?: string, options?: ErrorOptions): CompileError;
  };

  /** Thrown when imports do not match what a module declares. */
  interface LinkError extends Error {}
  var LinkError: {
    prototype: LinkError;
    new (message?: string, options?: ErrorOptions): LinkError;
    (message?: string, options?: ErrorOptions): LinkError;
  };

  /** Thrown when WebAssembly code traps. */
  interface RuntimeError extends Error {}
  var RuntimeError: {
    prototype: RuntimeError;
    new (message?: string, options?: ErrorOptions): RuntimeError;
    (message?: string, options?: ErrorOptions): RuntimeError;
  };

  /** A compiled, stateless module (`Object.prototype.toString` gives `[object WebAssembly.Module]`). */
  interface Module {}
  var Module: {
    prototype: Module;
    /**
     * Compiles synchronously; throws `CompileError` for invalid bytes (or imports that do not
     * fit `options`), `TypeError` for a non-BufferSource.
     */
    new (bytes: BufferSource, options?: WebAssemblyCompileOptions): Module;
    /** The module's imports, in declaration order. */
    imports(moduleObject: Module): ModuleImportDescriptor[];
    /** The module's exports, in declaration order. */
    exports(moduleObject: Module): ModuleExportDescriptor[];
    /** Fresh copies of the payloads of every custom section called `sectionName`, in module order. */
    customSections(moduleObject: Module, sectionName: string): ArrayBuffer[];
  };

  /**
   * An instantiated module: `new Instance(module, imports)` links and instantiates synchronously
   * (running the start function); `exports` is a frozen null-prototype object of the exports.
   */
  interface Instance {
    readonly exports: Exports;
  }
  var Instance: {
    prototype: Instance;
    new (module: Module, importObject?: Imports): Instance;
  };

  /**
   * A linear memory of 64 KiB pages, made by `new Memory(descriptor)` or exported by an instance.
   */
  interface Memory<A extends AddressType = 'i32'> {
    /**
     * The memory's bytes; a new (fixed-length) ArrayBuffer after each growth, the old one detached.
     * A SharedArrayBuffer at run time for a `shared` memory (typed ArrayBuffer, as lib.dom does).
     */
    readonly buffer: ArrayBuffer;
    /**
     * Grows by `delta` pages; returns the previous size in pages (`RangeError` past the maximum).
     * Both are bigints for an `i64` memory (memory64).
     */
    grow(delta: AddressValue<A>): AddressValue<A>;
  }
  var Memory: {
    prototype: Memory;
    new <A extends AddressType = 'i32'>(descriptor: MemoryDescriptor<A>): Memory<A>;
  };

  /**
   * A table of references, made by `new Table(descriptor, value?)` or exported by an instance.
   * Its elements are `TableValue`s: for `anyfunc`, an exported wasm function or null; for
   * `externref`, any JS value.
   */
  interface Table<A extends AddressType = 'i32'> {
    /** The number of elements (a bigint for an `i64` table, as are indices and deltas). */
    readonly length: AddressValue<A>;
    get(index: AddressValue<A>): TableValue;
    /** Grows by `delta` elements set to `value`; returns the previous length. */
    grow(delta: AddressValue<A>, value?: TableValue): AddressValue<A>;
    set(index: AddressValue<A>, value?: TableValue): void;
  }
  var Table: {
    prototype: Table;
    new <A extends AddressType = 'i32'>(descriptor: TableDescriptor<A>, value?: TableValue): Table<A>;
  };

  /**
   * A global, made by `new Global(descriptor, value?)` or exported by an instance. Setting
   * `value` on an immutable global throws `TypeError`.
   */
  interface Global<T extends ValueType = ValueType> {
    value: ValueTypeMap[T];
    valueOf(): ValueTypeMap[T];
  }
  var Global: {
    prototype: Global;
    new <T extends ValueType = ValueType>(descriptor: GlobalDescriptor<T>, v?: ValueTypeMap[T]): Global<T>;
  };

  /** An exception tag, made by `new Tag({ parameters })` or exported by an instance. */
  interface Tag {
    /** The tag's type (the type reflection proposal's; Node 20 has none). */
    type(): TagType;
  }
  var Tag: {
    prototype: Tag;
    new (type: TagType): Tag;
  };

  interface TagType {
    parameters: TagValueType[];
  }

  /** The value types a tag's parameters may have. */
  type TagValueType = ValueType | 'v128' | 'funcref';

  /**
   * A wasm exception as JS sees it: made by `new Exception(tag, payload, options?)`, or thrown
   * by wasm (an exception no wasm handler caught). Thrown into wasm, it is caught by its tag.
   */
  interface Exception {
    /** Payload value `index`; `TypeError` unless `tag` is the exception's tag. */
    getArg(tag: Tag, index: number): unknown;
    /** Whether `tag` is the exception's tag. */
    is(tag: Tag): boolean;
    /** The stack at construction, with `{ traceStack: true }`. */
    readonly stack?: string;
  }
  var Exception: {
    prototype: Exception;
    new (tag: Tag, payload: Iterable<unknown>, options?: ExceptionOptions): Exception;
  };

  interface ExceptionOptions {
    traceStack?: boolean;
  }

  /** The tag of JS exceptions thrown through wasm: one externref parameter, the thrown value. */
  var JSTag: Tag;

  /** The address type of a memory or table: `i64` for memory64 and table64. */
  type AddressType = 'i32' | 'i64';
  /** Sizes and indices of a memory or table: numbers for `i32`, bigints for `i64` (memory64). */
  type AddressValue<A extends AddressType = 'i32'> = A extends 'i64' ? bigint : number;

  interface MemoryDescriptor<A extends AddressType = 'i32'> {
    /** `i64` for a 64-bit memory (memory64), whose sizes are bigints. */
    address?: A;
    /** Pages of 64 KiB, at most 65536 (262144 for an `i64` memory). */
    initial: AddressValue<A>;
    /** At least `initial`, at most 65536; required when `shared`. */
    maximum?: AddressValue<A>;
    shared?: boolean;
  }

  interface TableDescriptor<A extends AddressType = 'i32'> {
    element: TableKind;
    /** `i64` for a 64-bit table (table64), whose sizes and indices are bigints. */
    address?: A;
    /** At most 10000000. */
    initial: AddressValue<A>;
    maximum?: AddressValue<A>;
  }

  interface GlobalDescriptor<T extends ValueType = ValueType> {
    mutable?: boolean;
    value: T;
  }

  interface ModuleImportDescriptor {
    module: string;
    name: string;
    kind: ImportExportKind;
  }

  interface ModuleExportDescriptor {
    name: string;
    kind: ImportExportKind;
  }

  interface WebAssemblyInstantiatedSource {
    module: Module;
    instance: Instance;
  }

  /** The JS type of each wasm value type, as Global's `value` and Table's elements carry it. */
  interface ValueTypeMap {
    /** An exported wasm function, or null. */
    anyfunc: Function | null;
    /** Any JS value. */
    externref: unknown;
    f32: number;
    f64: number;
    i32: number;
    i64: bigint;
  }

  type ValueType = keyof ValueTypeMap;
  /** An element of a Table (of either kind). */
  type TableValue = ValueTypeMap['anyfunc'] | ValueTypeMap['externref'];
  type TableKind = 'anyfunc' | 'externref';
  type ImportExportKind = 'function' | 'table' | 'memory' | 'global' | 'tag';
  type ExportValue = Function | Global | Memory | Table | Tag;
  type Exports = Record<string, ExportValue>;
  /** A function, Global, Memory, Table or Tag, or a number (bigint for i64) for an immutable global import. */
  type ImportValue = ExportValue | number | bigint;
  /** Module names to objects (or functions) whose properties are the imported values. */
  type ModuleImports = Record<string, ImportValue>;
  type Imports = Record<string, ModuleImports>;

  /**
   * Compile options (the JS API's `WebAssemblyCompileOptions`, from JS String Builtins). A Module
   * keeps the options it was compiled with; imports they provide are left out of
   * `Module.imports()` and not looked up in the import object.
   */
  interface WebAssemblyCompileOptions {
    /**
     * Builtin sets to provide: `'js-string'` makes the imports of `"wasm:js-string"` named after a
     * builtin (`cast`, `test`, `fromCharCode`, `fromCodePoint`, `charCodeAt`, `codePointAt`,
     * `length`, `concat`, `substring`, `equals`, `compare`) the engine's, checked against their
     * types at compile time. Unknown names are ignored; a name given twice is a CompileError.
     * Any iterable object (a WebIDL sequence), but not a string.
     */
    builtins?: Iterable<string> & object;
    /**
     * A module name whose imports are string constants: each (an immutable `externref` or
     * `(ref extern)` global) holds its import's name.
     */
    importedStringConstants?: string | null;
  }

  /**
   * Whether `bytes` are a valid module (and, with `options`, whether its imports fit them). Never
   * throws for bad bytes; `TypeError` for a non-BufferSource.
   */
  function validate(bytes: BufferSource, options?: WebAssemblyCompileOptions): boolean;

  /** Compiles on the compile threads; the bytes are copied when the call is made. */
  function compile(bytes: BufferSource, options?: WebAssemblyCompileOptions): Promise<Module>;

  /** Compiles (off the JS thread) and instantiates bytes. */
  function instantiate(
    bytes: BufferSource,
    importObject?: Imports,
    options?: WebAssemblyCompileOptions,
  ): Promise<WebAssemblyInstantiatedSource>;
  /** Instantiates a compiled module (with the compile options it was compiled with). */
  function instantiate(moduleObject: Module, importObject?: Imports): Promise<Instance>;

  /** Compiles the body of a `Response` with Content-Type `application/wasm`. */
  function compileStreaming(
    source: StreamingResponse | PromiseLike<StreamingResponse>,
    options?: WebAssemblyCompileOptions,
  ): Promise<Module>;

  /** Compiles and instantiates the body of a `Response`. */
  function instantiateStreaming(
    source: StreamingResponse | PromiseLike<StreamingResponse>,
    importObject?: Imports,
    options?: WebAssemblyCompileOptions,
  ): Promise<WebAssemblyInstantiatedSource>;

  // ---- Non-standard: `require('cranewasm/engine')` (types only here; the namespace itself has
  // no such properties) ----

  /** How modules are compiled. Each module keeps the options it was compiled with. */
  interface CompileOptions {
    /** Compile each function on its first call (`compile()` resolves after validation). Default true. */
    lazy: boolean;
    /**
     * The tier functions are first compiled with. Default `'singlepass'`: wasm straight to
     * machine code in one pass, each function it does not cover (see `CompileStatus.fallbacks`)
     * left to the baseline tier. `'baseline'` is Cranelift without optimizations for every
     * function; `'optimized'` skips the lower tiers.
     */
    firstTier: 'singlepass' | 'baseline' | 'optimized';
    /**
     * When first-tier code is replaced by optimized code: `'dynamic'` (default) for hot functions,
     * judged by a budget calls and loop iterations spend; `'eager'` for every function, in the
     * background, right after compilation; `'off'` never.
     */
    tierUp: 'off' | 'eager' | 'dynamic';
    /** Threads compiling in the background. Default: one per core. */
    threads: number;
    /**
     * Whether loops check for interrupts (termination, deadlines). Default true; false only to
     * measure what the checks cost: such code cannot be stopped while it loops.
     */
    interruptChecks: boolean;
    /**
     * Whether memory accesses check their bounds explicitly, so that memories need address
     * space for their size only instead of an 8 GiB guard reservation (for many instances,
     * `ulimit -v`, small containers). Default false (also `CRANEWASM_BOUNDS_CHECKS=0|1`); an
     * instance whose memory could not get a guard reservation runs checked code anyway.
     */
    boundsChecks: boolean;
  }

  /** A module's defined functions, counted by the tier of the code they run now. */
  interface CompileStatus {
    functions: number;
    uncompiled: number;
    singlepass: number;
    baseline: number;
    optimized: number;
    /**
     * Functions whose optimizing-tier code was compiled with cheaper settings (no e-graph, or
     * the baseline's), their shape (a huge body, a long chain of constant operations, deep
     * loop nests) being one that would make the optimizer take over 10× the baseline's time
     * or over 1 GB. They count as `optimized`: they tier up no further.
     */
    cheaperSettings: number;
    /**
     * Functions the single-pass tier did not cover (an operator, a signature or an option it
     * does not handle yet), compiled by the baseline tier instead; counted once compiled.
     */
    fallbacks: number;
    lazy: boolean;
    firstTier: CompileOptions['firstTier'];
    tierUp: CompileOptions['tierUp'];
  }

  /**
   * `require('cranewasm/engine')`. Options also come from the environment: `CRANEWASM_LAZY=0|1`,
   * `CRANEWASM_FIRST_TIER=singlepass|baseline|optimized`, `CRANEWASM_TIER_UP=off|eager|dynamic`,
   * `CRANEWASM_COMPILE_THREADS=n`, `CRANEWASM_BOUNDS_CHECKS=0|1`.
   */
  interface Engine {
    /** The options modules compiled from now on get. */
    getCompileOptions(): CompileOptions;
    /** Changes the given options for modules compiled from now on; returns all of them. */
    setCompileOptions(options: Partial<CompileOptions>): CompileOptions;
    compileStatus(module: Module): CompileStatus;
    /** Resolves once every function of `module` has optimized code (compiling what is missing). */
    tierUp(module: Module): Promise<void>;
    /**
     * What the in-process module cache did: compiles that reused a live module's code (`hits`),
     * compiles that compiled (`misses`), and distinct compiled modules alive now (`live`).
     */
    moduleCacheStats(): { hits: number; misses: number; live: number };
    /**
     * The module's wasm bytes and the machine code each of its functions runs now, for
     * `deserialize` in a process of the same cranewasm build, CPU features and compile options.
     */
    serialize(module: Module): Uint8Array;
    /**
     * A Module from `serialize`'s bytes, running the cached code without compiling it. Throws a
     * `DeserializeError` for bytes it cannot use. The bytes are machine code: only from a
     * trusted place.
     */
    deserialize(bytes: BufferSource): Module;
    DeserializeError: DeserializeErrorConstructor;
    /**
     * Turns the persistent code cache on in `directory` (also `CRANEWASM_CACHE=<dir>`), bounded
     * to `maxSize` bytes (default 1 GiB), or off (`null`). Its entries are machine code: use a
     * directory only this user can write.
     */
    setCacheDirectory(directory: string | null, options?: { maxSize?: number }): CacheSettings;
    getCacheDirectory(): CacheSettings;
    /** What the persistent code cache did since the process started. */
    cacheStats(): { hits: number; misses: number; damaged: number; writes: number; evictions: number; failures: number };
    /** Limits for the instances made through a sandbox. */
    Sandbox: SandboxConstructor;
    /**
     * A WebAssembly.Memory over the shared memory whose SharedArrayBuffer `buffer` is (the
     * `buffer` of a shared memory of any thread, e.g. posted to a Worker); null for any other value.
     */
    sharedMemoryFromBuffer(buffer: unknown): Memory | null;
    /**
     * Without `cranewasm/register` (which does this in postMessage, workerData and
     * structuredClone): `value` ready for `postMessage` to another thread of this process, its
     * Modules and shared Memories replaced by markers inside an envelope; `value` itself when it
     * holds none.
     */
    encodeMessage<T>(value: T): T | object;
    /**
     * The other side of `encodeMessage`: a received envelope's value, with Module and Memory
     * objects of this thread (the same compiled code, the same linear memory) for its markers;
     * any other value as it is.
     */
    decodeMessage(value: unknown): unknown;
  }

  /** The persistent code cache's settings. */
  interface CacheSettings {
    directory: string | null;
    maxSize: number;
  }

  /** Why `deserialize` refused its bytes. */
  interface DeserializeError extends Error {
    readonly name: 'DeserializeError';
    kind: 'format' | 'corrupt' | 'build' | 'cpu' | 'options' | 'argument';
  }

  interface DeserializeErrorConstructor {
    new (message: string, kind: DeserializeError['kind']): DeserializeError;
    readonly prototype: DeserializeError;
  }

  /** The limits of a `Sandbox`; each is optional. */
  interface SandboxOptions {
    /**
     * Milliseconds each outermost call from JS into the sandbox's code may take, time in its
     * imports included; past it the call throws a `RuntimeError` (the instance stays usable).
     */
    timeout?: number;
    /**
     * Fuel to start with: wasm operators cost 1 (`nop`, `drop`, `block`, `loop`, `end`,
     * `else`, `unreachable` and `return` cost 0, as Wasmtime's defaults). Running out throws a
     * `RuntimeError`; assign `fuel` to refill. Without it the code is not metered.
     */
    fuel?: number;
    /**
     * Bytes over all memories the sandbox's instances define: `memory.grow` past it returns -1,
     * `Memory.prototype.grow` and instantiation past it throw a `RangeError`.
     */
    memoryLimit?: number;
    /** Elements over all tables the sandbox's instances define (the same rules as `memoryLimit`). */
    tableLimit?: number;
    /** How many instances the sandbox may make; past it instantiation throws a `RangeError`. */
    instanceLimit?: number;
    /**
     * The sandbox's instances run code with explicit bounds checks, and the memories they
     * define reserve address space for their size only (see `CompileOptions.boundsChecks`).
     */
    boundsChecks?: boolean;
  }

  interface Sandbox {
    /** As `WebAssembly.instantiate(bytes, imports, options)`; the instance belongs to the sandbox. */
    instantiate(
      bytes: BufferSource,
      importObject?: Imports,
      options?: WebAssemblyCompileOptions,
    ): Promise<WebAssemblyInstantiatedSource>;
    /** As `WebAssembly.instantiate(module, imports)`; the instance belongs to the sandbox. */
    instantiate(module: Module, importObject?: Imports): Promise<Instance>;
    /** Fuel left (0 without the `fuel` option); assign to refill. */
    fuel: number;
  }

  interface SandboxConstructor {
    new (options?: SandboxOptions): Sandbox;
    readonly prototype: Sandbox;
  }
}

export = WebAssembly;

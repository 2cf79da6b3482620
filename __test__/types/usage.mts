// ESM usage of cranewasm's types, checked with `tsc --strict` against lib.dom (the global
// `WebAssembly`) and @types/node. Each `@ts-expect-error` must be an error: tsc fails otherwise.
import 'cranewasm/register';
import cranewasm, {
  compile, validate, instantiate, compileStreaming, instantiateStreaming,
  Module, Instance, Memory, Table, Global, CompileError, LinkError, RuntimeError,
} from 'cranewasm';
import engine = require('cranewasm/engine');
import { setCompileOptions, getCompileOptions, compileStatus, tierUp, Sandbox } from 'cranewasm/engine';

const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);

// The named exports are the namespace's members.
const ok: boolean = validate(bytes) && cranewasm.validate(bytes);
const mod: Module = await compile(bytes);
const inst: Instance = await instantiate(mod, { env: { f: () => 1, n: 1, big: 1n } });
const src: cranewasm.WebAssemblyInstantiatedSource = await instantiate(bytes);
const streamed: Module = await compileStreaming(new Response(bytes, { headers: { 'content-type': 'application/wasm' } }));
void instantiateStreaming(fetch('https://example.invalid/m.wasm'), {});
for (const d of Module.exports(src.module)) {
  const kind: 'function' | 'table' | 'memory' | 'global' | 'tag' = d.kind;
  void kind;
}
const sections: ArrayBuffer[] = Module.customSections(mod, 'name');

// Compile options (JS String Builtins) on every function that compiles.
const stringOptions: cranewasm.WebAssemblyCompileOptions = { builtins: ['js-string'], importedStringConstants: 'strings' };
const withBuiltins: Module = new Module(bytes, stringOptions);
const detected: boolean = validate(bytes, { builtins: new Set(['js-string']) });
void compile(bytes, { importedStringConstants: null });
void instantiate(bytes, {}, stringOptions);
void compileStreaming(fetch('https://example.invalid/m.wasm'), stringOptions);
void instantiateStreaming(fetch('https://example.invalid/m.wasm'), undefined, stringOptions);
// @ts-expect-error builtins is a list of names, not one name
void compile(bytes, { builtins: 'js-string' });
// @ts-expect-error instantiate(module, …) takes no compile options: the module has its own
void instantiate(withBuiltins, {}, stringOptions);

// lib.dom's objects (the global namespace's types) are accepted where cranewasm expects its own.
const domModule: WebAssembly.Module = new WebAssembly.Module(bytes);
void instantiate(domModule);
void new Instance(domModule, { env: { mem: new WebAssembly.Memory({ initial: 1 }) } });
const fromDomInstance: Instance = new WebAssembly.Instance(domModule);
const fromDomMemory: Memory = new WebAssembly.Memory({ initial: 1 });
const fromDomTable: Table = new WebAssembly.Table({ element: 'anyfunc', initial: 1 });
const fromDomGlobal: Global<'i32'> = new WebAssembly.Global({ value: 'i32' }, 1);
const domImports: WebAssembly.Imports = { env: { g: new WebAssembly.Global({ value: 'f64' }, 0) } };
void instantiate(bytes, domImports);

// And cranewasm's where lib.dom's are expected.
void WebAssembly.instantiate(mod);
const toDomModule: WebAssembly.Module = mod;
const toDomTable: WebAssembly.Table = new Table({ element: 'externref', initial: 2 }, 'x');
const toDomGlobal: WebAssembly.Global<'i64'> = new Global({ value: 'i64', mutable: true }, 5n);
const toDomError: WebAssembly.RuntimeError = new RuntimeError('trap');
const errors: Error[] = [new CompileError('c'), new LinkError('l', { cause: 1 }), RuntimeError('r')];
// lib.dom (TypeScript 5.9+) declares Memory's resizable-buffer methods, which neither Node 20's
// engine nor cranewasm has: the one direction that does not hold.
// @ts-expect-error toFixedLengthBuffer/toResizableBuffer are missing
const toDomMemory: WebAssembly.Memory = new Memory({ initial: 1, maximum: 2 });
// @ts-expect-error and so an Instance, whose exports may hold a Memory
const toDomInstance: WebAssembly.Instance = inst;

// Values are typed, not `any`.
const table = new Table({ element: 'anyfunc', initial: 1 });
// @ts-expect-error a table element is unknown (a function or null for anyfunc), not a number
const n: number = table.get(0);
const g = new Global({ value: 'i64' }, 1n);
const big: bigint = g.value;
// @ts-expect-error an i64 global holds a bigint
const notNumber: number = g.value;
const mem = new Memory({ initial: 1 });
const pages: number = mem.grow(1);
const view = new Uint8Array(mem.buffer);
// memory64 and table64: sizes and indices are bigints.
const mem64 = new Memory({ address: 'i64', initial: 1n, maximum: 2n });
const pages64: bigint = mem64.grow(1n);
// @ts-expect-error an i64 memory grows by a bigint
mem64.grow(1);
const table64 = new Table({ element: 'anyfunc', address: 'i64', initial: 1n });
const length64: bigint = table64.length;
void table64.get(0n);
// @ts-expect-error an i64 table's size is a bigint
void new Table({ element: 'anyfunc', address: 'i64', initial: 1 });
const exported = inst.exports['f'];
if (typeof exported === 'function') exported();
// @ts-expect-error an export is a Function | Global | Memory | Table, not callable as such
inst.exports['f']();

// The engine module, as named imports and as `import =`.
const opts = setCompileOptions({ tierUp: 'eager', lazy: false });
const tier: 'singlepass' | 'baseline' | 'optimized' = getCompileOptions().firstTier;
// @ts-expect-error unknown option (a typo of tierUp)
setCompileOptions({ tierup: 'off' });
// @ts-expect-error not one of the tier-up policies
engine.setCompileOptions({ tierUp: 'sometimes' });
const status = compileStatus(mod);
const optimized: number = status.optimized;
await tierUp(mod);
const sandbox = new Sandbox({ timeout: 100, fuel: 1000 });
const boxed: Instance = await sandbox.instantiate(mod);
const boxedSource: cranewasm.WebAssemblyInstantiatedSource = await sandbox.instantiate(bytes, {}, { builtins: ['js-string'] });
sandbox.fuel = 10;

export {
  ok, inst, streamed, sections, fromDomInstance, fromDomMemory, fromDomTable, fromDomGlobal,
  toDomModule, toDomTable, toDomGlobal, toDomError, errors, toDomMemory, toDomInstance, n, big, notNumber, pages,
  view, opts, tier, optimized, boxed, detected, boxedSource,
};

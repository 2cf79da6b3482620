// CommonJS usage of cranewasm's types (`require`), checked with `tsc --strict` (see usage.mts).
import WebAssembly = require('cranewasm');
import registered = require('cranewasm/register');
import engine = require('cranewasm/engine');

const mod: WebAssembly.Module = new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
const inst: WebAssembly.Instance = new registered.Instance(mod);
const same: typeof WebAssembly = registered;
const status: WebAssembly.CompileStatus = engine.compileStatus(mod);
const serialized: Uint8Array = engine.serialize(mod);
const copy: WebAssembly.Module = engine.deserialize(serialized);
const cache: WebAssembly.CacheSettings = engine.setCacheDirectory('/tmp/cache', { maxSize: 1 << 20 });
const refused: boolean = new engine.DeserializeError('bad', 'corrupt').kind === 'corrupt';
void copy; void cache; void refused; void engine.cacheStats().hits;
// @ts-expect-error compile takes bytes, not a string
void WebAssembly.compile('not bytes');
const tag: WebAssembly.Tag = new WebAssembly.Tag({ parameters: ['i32', 'externref'] });
const exception: WebAssembly.Exception = new WebAssembly.Exception(tag, [1, null], { traceStack: true });
const isTag: boolean = exception.is(WebAssembly.JSTag) || exception.getArg(tag, 0) === 1;
// @ts-expect-error a tag's parameters are value types
void new WebAssembly.Tag({ parameters: ['i128'] });
void isTag;

export = { inst, same, status };

// `import … from 'cranewasm'`: the namespace of index.js (the same objects as `require`, so
// there is one cranewasm per process whichever way it is loaded) as the default export, and its
// members as named exports. Node's CommonJS interop cannot see them, since index.js exports one
// object built at run time.
import WebAssembly from './index.js';

export const {
  compile,
  validate,
  instantiate,
  compileStreaming,
  instantiateStreaming,
  Module,
  Instance,
  Memory,
  Table,
  Global,
  CompileError,
  LinkError,
  RuntimeError,
  Tag,
  Exception,
  JSTag,
} = WebAssembly;

export default WebAssembly;

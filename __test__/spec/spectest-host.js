// The `spectest` module the spec scripts import from, as the reference interpreter defines it
// (spec/interpreter/host/spectest.ml), built from the engine's own WebAssembly.Global, Table and
// Memory. One per script. Each object is created on first import, by a getter, so that an engine
// which cannot create one (yet) fails exactly the instantiations that import it, with the
// engine's own error.
'use strict';

function spectestHost(WebAssembly) {
  const print = () => {};
  const host = {
    print,
    print_i32: print,
    print_i64: print,
    print_f32: print,
    print_f64: print,
    print_i32_f32: print,
    print_f64_f64: print,
  };
  const lazy = {
    global_i32: () => new WebAssembly.Global({ value: 'i32', mutable: false }, 666),
    global_i64: () => new WebAssembly.Global({ value: 'i64', mutable: false }, 666n),
    global_f32: () => new WebAssembly.Global({ value: 'f32', mutable: false }, 666.6),
    global_f64: () => new WebAssembly.Global({ value: 'f64', mutable: false }, 666.6),
    table: () => new WebAssembly.Table({ element: 'anyfunc', initial: 10, maximum: 20 }),
    table64: () => new WebAssembly.Table({ element: 'anyfunc', address: 'i64', initial: 10n, maximum: 20n }),
    memory: () => new WebAssembly.Memory({ initial: 1, maximum: 2 }),
    // The threads proposal's spectest (its spec/interpreter/host/spectest.ml) adds this one.
    shared_memory: () => new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true }),
  };
  for (const [name, create] of Object.entries(lazy)) {
    let value;
    Object.defineProperty(host, name, {
      enumerable: true,
      get() {
        if (value === undefined) value = create();
        return value;
      },
    });
  }
  return host;
}

module.exports = { spectestHost };

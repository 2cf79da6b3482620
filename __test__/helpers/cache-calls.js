// The calls the code-cache tests make on their module, and what each gave: a result (BigInts as
// "<n>n", undefined as null) or "<error class>: <message>", then the values `env.log` was called
// with. cache-driver.js runs them on cranewasm; code-cache.test.js on Node's engine, to compare.
'use strict';

function callAll(namespace, module) {
  const logged = [];
  const { exports: e } = new namespace.Instance(module, { env: { log: (v) => logged.push(v) } });
  const out = [];
  for (const [name, args] of [['fib', [22]], ['sum', [100000]], ['div', [-7, 2]], ['div', [1, 0]], ['shout', [3]]]) {
    try {
      const v = e[name](...args);
      out.push(typeof v === 'bigint' ? `${v}n` : v === undefined ? null : v);
    } catch (err) {
      out.push(`${err.constructor.name}: ${err.message}`);
    }
  }
  out.push(logged.join(','));
  return out;
}

module.exports = { callAll };

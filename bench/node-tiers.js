// Part of `npm run bench`'s tiers section: runs the kernels (bench/kernel-cases.js) on Node's
// built-in WebAssembly in this process, whose V8 flags choose the tier (bench/index.js starts it
// with `--liftoff-only` or `--no-liftoff`, and `--no-wasm-lazy-compilation`), and prints the
// median time of each and its result as one JSON line.
'use strict';

const { KERNELS, kernelExports } = require('./kernel-cases');

const rounds = Number(process.argv[2]) || 7;
const instance = kernelExports(WebAssembly);
const out = [];
for (const [name, run] of KERNELS) {
  const result = run(instance); // warm-up
  const times = [];
  for (let i = 0; i < rounds; i++) {
    const start = process.hrtime.bigint();
    run(instance);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  out.push({ name, median: times[times.length >> 1], result: String(result) });
}
console.log(JSON.stringify(out));

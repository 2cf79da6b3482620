'use strict';
// Corrupts a serialized module thousands of ways and checks that deserialize() refuses every
// corruption with a DeserializeError (never a crash, never another error): run in a process of
// its own by serialize.test.js. argv: <module.wasm> <cases> <seed>. Prints one JSON line.

const fs = require('fs');
const crypto = require('crypto');
const { blake3 } = require('./blake3');
const W = require('../..');
const engine = require('../../engine.js');

const [wasmPath, casesText, seedText] = process.argv.slice(2);
const cases = Number(casesText);
let seed = Number(seedText) >>> 0 || 1;
function random() {
  // xorshift32: reproducible from the seed.
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed / 2 ** 32;
}
const below = (n) => Math.floor(random() * n);

async function main() {
  const bytes = fs.readFileSync(wasmPath);
  const module = new W.Module(bytes);
  const { exports } = new W.Instance(module, { env: { log() {} } });
  exports.fib(15);
  exports.sum(100);
  await engine.tierUp(module);
  const good = engine.serialize(module);
  // The original must load.
  engine.deserialize(good);

  const counts = { total: 0, byKind: {}, accepted: 0, unexpected: [] };
  const refused = (mutated, label, mayLoad) => {
    counts.total += 1;
    try {
      engine.deserialize(mutated);
      if (mayLoad) counts.accepted += 1;
      else counts.unexpected.push(`${label}: accepted`);
    } catch (err) {
      if (!(err instanceof engine.DeserializeError)) {
        counts.unexpected.push(`${label}: ${err && err.name}: ${err && err.message}`);
        return;
      }
      counts.byKind[err.kind] = (counts.byKind[err.kind] || 0) + 1;
    }
  };
  const withChecksum = (body) => {
    const out = new Uint8Array(body.length + 32);
    out.set(body);
    out.set(blake3(body), body.length);
    return out;
  };
  const body = good.subarray(0, good.length - 32);
  for (let i = 0; i < cases; i++) {
    const which = i % 6;
    if (which === 0) {
      // Truncation anywhere, including to nothing.
      const length = below(good.length);
      refused(good.slice(0, length), `truncated to ${length}`, false);
    } else if (which === 1 || which === 2) {
      // One bit flipped anywhere (checksum included).
      const mutated = good.slice();
      const at = below(mutated.length);
      mutated[at] ^= 1 << below(8);
      refused(mutated, `bit flip at ${at}`, false);
    } else if (which === 3) {
      // A run of random bytes overwritten.
      const mutated = good.slice();
      const at = below(mutated.length);
      const n = 1 + below(16);
      for (let k = at; k < Math.min(mutated.length, at + n); k++) mutated[k] = below(256);
      refused(mutated, `overwrite at ${at}`, mutated.every((b, k) => b === good[k]));
    } else if (which === 4) {
      // Arbitrary bytes, half of them behind the magic.
      const garbage = crypto.randomBytes(below(300));
      const mutated = i % 12 === 4 ? Buffer.concat([Buffer.from(good.subarray(0, 12)), garbage]) : garbage;
      refused(new Uint8Array(mutated), 'garbage', false);
    } else {
      // A field changed under a valid checksum: the structural checks must hold (loading is
      // allowed when the change is harmless, e.g. inside machine code; nothing is run).
      const mutated = body.slice();
      const at = 12 + below(mutated.length - 12);
      mutated[at] ^= 1 << below(8);
      refused(withChecksum(mutated), `field at ${at} (checksum fixed)`, true);
    }
  }
  // A truncated copy with its checksum recomputed: every field boundary.
  for (let length = 12; length < body.length; length += Math.max(1, Math.floor(body.length / 200))) {
    refused(withChecksum(body.slice(0, length)), `checksummed truncation to ${length}`, false);
  }
  console.log(JSON.stringify(counts));
}

main().catch((err) => {
  console.log(JSON.stringify({ fatal: String(err && err.stack) }));
  process.exitCode = 1;
});

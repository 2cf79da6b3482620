// Serves WebAssembly modules over HTTP on 127.0.0.1, the way streaming compilation meets them:
// in small chunks with pauses, stalling, truncated or cut off. Also generates modules of any size
// (the builder in wasm-builder.js spreads arrays, which is for small modules only).
'use strict';

const http = require('http');

const { uleb } = require('./wasm-builder.js');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A server on 127.0.0.1 at a free port; `handler(req, res)` answers every request.
async function serve(handler) {
  const server = http.createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch((err) => {
      // A client that went away mid-body is not the test's failure.
      if (!res.destroyed) res.destroy(err);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

const WASM = { 'content-type': 'application/wasm' };

function drainedOrClosed(res) {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

// Writes `bytes` in chunks of `min` to `max` bytes (sizes from a fixed pseudo-random sequence),
// pausing `delay` ms after every `every` chunks. Stops early, returning false, if the client
// goes away.
async function sendInChunks(res, bytes, { min = 64, max = 1024, delay = 1, every = 1, seed = 1 } = {}) {
  let x = seed;
  let count = 0;
  for (let at = 0; at < bytes.length;) {
    if (res.destroyed) return false;
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const size = min + (x % (max - min + 1));
    const chunk = bytes.subarray(at, at + size);
    at += chunk.length;
    if (!res.write(chunk)) await drainedOrClosed(res);
    if (delay > 0 && ++count % every === 0) await sleep(delay);
  }
  return !res.destroyed;
}

function section(id, parts) {
  const payload = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([id, ...uleb(payload.length)]), payload]);
}

function nameSection(functionNames) {
  const entries = [Buffer.from(uleb(functionNames.length))];
  for (const [index, name] of functionNames) {
    const utf8 = Buffer.from(name);
    entries.push(Buffer.from([...uleb(index), ...uleb(utf8.length)]), utf8);
  }
  const map = Buffer.concat(entries);
  return section(0, [Buffer.from([4, ...Buffer.from('name'), 1, ...uleb(map.length)]), map]);
}

// A module of `count` functions (i32) -> i32, each adding `adds` small constants to its argument
// (7 bytes per addition), and an exported function "sum" (index `count`) that returns the sum of
// all of them for its argument. Options: `badFunction` (an index) gets a body that does not
// validate (it returns an i64); `names` adds a name section naming every function "f<index>",
// `before` the other sections or after them (the usual place). Returns the bytes, where each
// body starts and ends (`bodies[i]` = [start, end)), and `sum(x)` as JS computes it.
function bigModule(count, adds, { badFunction, names } = {}) {
  const type = section(1, [Buffer.from([2, 0x60, 1, 0x7f, 1, 0x7f, 0x60, 0, 1, 0x7f])]);
  const types = Buffer.alloc(count + 1);
  if (badFunction !== undefined) types[badFunction] = 1; // () -> i32
  const functions = section(3, [Buffer.from(uleb(count + 1)), types]);
  const exports = section(7, [Buffer.from([1, 3, ...Buffer.from('sum'), 0, ...uleb(count)])]);
  const bodies = [];
  let constants = 0;
  for (let i = 0; i < count; i++) {
    let code;
    if (i === badFunction) {
      code = Buffer.from([0, 0x42, 0, 0x0b]); // i64.const 0
    } else {
      code = Buffer.alloc(1 + adds * 7 + 3);
      let p = 1; // no locals
      for (let j = 0; j < adds; j++) {
        const k = (i * 7 + j) & 63;
        constants = (constants + k) | 0;
        code.set([0x20, 0, 0x41, k, 0x6a, 0x21, 0], p); // local.set 0 (i32.add (local.get 0) k)
        p += 7;
      }
      code.set([0x20, 0, 0x0b], p);
    }
    bodies.push(Buffer.from(uleb(code.length)), code);
  }
  const sum = [0, 0x41, 0];
  for (let i = 0; i < count; i++) sum.push(0x20, 0, 0x10, ...uleb(i), 0x6a);
  sum.push(0x0b);
  bodies.push(Buffer.from(uleb(sum.length)), Buffer.from(sum));
  const code = section(10, [Buffer.from(uleb(count + 1)), ...bodies]);
  const header = Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
  const namesSection = names && nameSection([...Array(count + 1).keys()].map((i) => [i, `f${i}`]));
  const parts = [header];
  if (names === 'before') parts.push(namesSection);
  parts.push(type, functions, exports);
  const codeStart = parts.reduce((n, p) => n + p.length, 0);
  parts.push(code);
  if (names === 'after') parts.push(namesSection);
  const bytes = new Uint8Array(Buffer.concat(parts));
  // Where the bodies are: after the code section's id, size and count.
  const ranges = [];
  const payloadLength = uleb(count + 1).length + bodies.reduce((n, b) => n + b.length, 0);
  let at = codeStart + 1 + uleb(payloadLength).length + uleb(count + 1).length;
  for (let i = 0; i < bodies.length; i += 2) {
    at += bodies[i].length;
    ranges.push([at, at + bodies[i + 1].length]);
    at += bodies[i + 1].length;
  }
  return { bytes, bodies: ranges, codeEnd: at, sum: (x) => (Math.imul(count, x) + constants) | 0 };
}

module.exports = { serve, sendInChunks, bigModule, sleep, WASM };

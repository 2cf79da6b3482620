// BLAKE3 (32-byte hash, no key), in plain JS for the tests that re-seal serialized modules with a
// valid checksum (the format's checksum is BLAKE3; Node's crypto has no BLAKE3). Written from
// the BLAKE3 specification's reference implementation; checked against its published test
// vectors in __test__/serialize.test.js. Slow (tens of MB/s) and only for tests.
'use strict';

const IV = new Uint32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);
const PERMUTATION = [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8];
const CHUNK_START = 1;
const CHUNK_END = 2;
const PARENT = 4;
const ROOT = 8;
const BLOCK_LEN = 64;
const CHUNK_LEN = 1024;

const rotr = (x, n) => (x >>> n) | (x << (32 - n));

function g(s, a, b, c, d, x, y) {
  s[a] = (s[a] + s[b] + x) | 0;
  s[d] = rotr(s[d] ^ s[a], 16);
  s[c] = (s[c] + s[d]) | 0;
  s[b] = rotr(s[b] ^ s[c], 12);
  s[a] = (s[a] + s[b] + y) | 0;
  s[d] = rotr(s[d] ^ s[a], 8);
  s[c] = (s[c] + s[d]) | 0;
  s[b] = rotr(s[b] ^ s[c], 7);
}

// The compression function: the first 8 words of its output (a chaining value).
function compress(cv, block, counter, blockLen, flags) {
  const s = new Int32Array(16);
  for (let i = 0; i < 8; i++) s[i] = cv[i];
  for (let i = 0; i < 4; i++) s[8 + i] = IV[i];
  s[12] = counter % 0x100000000;
  s[13] = Math.floor(counter / 0x100000000);
  s[14] = blockLen;
  s[15] = flags;
  let m = Int32Array.from(block);
  for (let round = 0; round < 7; round++) {
    g(s, 0, 4, 8, 12, m[0], m[1]);
    g(s, 1, 5, 9, 13, m[2], m[3]);
    g(s, 2, 6, 10, 14, m[4], m[5]);
    g(s, 3, 7, 11, 15, m[6], m[7]);
    g(s, 0, 5, 10, 15, m[8], m[9]);
    g(s, 1, 6, 11, 12, m[10], m[11]);
    g(s, 2, 7, 8, 13, m[12], m[13]);
    g(s, 3, 4, 9, 14, m[14], m[15]);
    if (round < 6) m = Int32Array.from(PERMUTATION, (p) => m[p]);
  }
  const out = new Uint32Array(8);
  for (let i = 0; i < 8; i++) out[i] = s[i] ^ s[i + 8];
  return out;
}

// 64 bytes of `bytes` from `at` (zero-padded past the end) as 16 little-endian words.
function words(bytes, at, len) {
  const block = new Uint8Array(BLOCK_LEN);
  block.set(bytes.subarray(at, at + len));
  const view = new DataView(block.buffer);
  return Array.from({ length: 16 }, (_, i) => view.getUint32(4 * i, true));
}

// A chunk's last compression, not yet done: [cv, block words, counter, block length, flags].
function chunkOutput(bytes, start, end, counter) {
  let cv = IV;
  let at = start;
  let flags = CHUNK_START;
  // Every block but the last (a chunk always has at least one block, maybe empty).
  while (end - at > BLOCK_LEN) {
    cv = compress(cv, words(bytes, at, BLOCK_LEN), counter, BLOCK_LEN, flags);
    flags = 0;
    at += BLOCK_LEN;
  }
  return [cv, words(bytes, at, end - at), counter, end - at, flags | CHUNK_END];
}

const parentOutput = (left, right) => [IV, [...left, ...right], 0, BLOCK_LEN, PARENT];
const chainingValue = ([cv, block, counter, len, flags]) => compress(cv, block, counter, len, flags);

/** BLAKE3 of `bytes` (Uint8Array or Buffer): a 32-byte Buffer. */
function blake3(bytes) {
  bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack = [];
  let chunks = 0;
  let at = 0;
  // Every chunk but the last goes into the tree at once; the last is finished below.
  while (bytes.length - at > CHUNK_LEN) {
    let cv = chainingValue(chunkOutput(bytes, at, at + CHUNK_LEN, chunks));
    chunks += 1;
    for (let total = chunks; total % 2 === 0; total /= 2) cv = chainingValue(parentOutput(stack.pop(), cv));
    stack.push(cv);
    at += CHUNK_LEN;
  }
  let output = chunkOutput(bytes, at, bytes.length, chunks);
  while (stack.length > 0) output = parentOutput(stack.pop(), chainingValue(output));
  const [cv, block, , len, flags] = output;
  const root = compress(cv, block, 0, len, flags | ROOT);
  const out = Buffer.alloc(32);
  for (let i = 0; i < 8; i++) out.writeUInt32LE(root[i], 4 * i);
  return out;
}

module.exports = { blake3 };

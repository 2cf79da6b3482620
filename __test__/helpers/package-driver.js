// Runs one real npm package's workload on one engine, in a process of its own, and prints a JSON
// report: { engine: what the package did with globalThis.WebAssembly, output: the workload's
// results }. Used by packages.test.js, which runs it once per engine and compares the outputs.
//
//   node package-driver.js <cranewasm|node> <brotli-wasm|hash-wasm|sql.js|@automerge/automerge|a workload of eh-workloads.js>
//
// With "cranewasm", `require('cranewasm/register')` is loaded before the package, as a user
// would. Either way, the namespace's entry points are wrapped (before the package is loaded) to
// record every Module and Instance the package makes and whose classes they are instances of.
'use strict';

const crypto = require('crypto');
const path = require('path');

const [engineName, packageName] = process.argv.slice(2);
const ROOT = path.join(__dirname, '..', '..');

if (engineName === 'cranewasm') require(path.join(ROOT, 'register.js'));
else if (engineName !== 'node') throw new Error(`unknown engine ${engineName}`);

const engine = globalThis.WebAssembly;
const cranewasm = require(path.join(ROOT, 'index.js'));
const nodeWebAssembly = engineName === 'cranewasm' ? globalThis[Symbol.for('cranewasm.originalWebAssembly')] : engine;
const other = engineName === 'cranewasm' ? nodeWebAssembly : cranewasm;

// --- Instrumentation: counts calls and checks the classes of what the engine gives back ---

// created[kind] = { count, ofEngine, ofOther }: how many objects of that kind the package got
// (Memory and Table: those its instances export) and how many are instances of the classes of
// the engine under test and of the other engine.
const calls = {};
const created = {};
const memories = []; // exported memories, to report their final sizes (growth must match too)

function record(kind, value) {
  const entry = created[kind] || (created[kind] = { count: 0, ofEngine: 0, ofOther: 0 });
  entry.count++;
  if (value instanceof engine[kind]) entry.ofEngine++;
  if (other[kind] && value instanceof other[kind]) entry.ofOther++; // (an engine may have no Tag)
  if (kind === 'Instance') {
    for (const exported of Object.values(value.exports)) {
      if (exported instanceof engine.Memory || exported instanceof other.Memory) {
        record('Memory', exported);
        memories.push(exported);
      }
      else if (exported instanceof engine.Table || exported instanceof other.Table) record('Table', exported);
    }
  }
}

function recordResult(result) {
  if (result instanceof engine.Instance || result instanceof other.Instance) record('Instance', result);
  else if (result instanceof engine.Module || result instanceof other.Module) record('Module', result);
  else if (result && typeof result === 'object') {
    if (result.module) record('Module', result.module);
    if (result.instance) record('Instance', result.instance);
  }
  return result;
}

function count(name) {
  calls[name] = (calls[name] || 0) + 1;
}

for (const name of ['validate', 'compile', 'instantiate', 'compileStreaming', 'instantiateStreaming']) {
  const original = engine[name];
  engine[name] = function (...args) {
    count(name);
    const result = original.apply(this, args);
    return result instanceof Promise ? result.then(recordResult) : result;
  };
}

for (const name of ['Module', 'Instance', 'Memory', 'Table', 'Global', 'Tag', 'Exception']) {
  const original = engine[name];
  if (original === undefined) continue; // an engine without exception handling has no Tag
  engine[name] = new Proxy(original, {
    construct(target, args, newTarget) {
      count(`new ${name}`);
      const value = Reflect.construct(target, args, newTarget === engine[name] ? target : newTarget);
      if (name === 'Module' || name === 'Instance') recordResult(value);
      else if (name === 'Tag') record(name, value);
      return value;
    },
  });
}

// --- Workloads ---

// Deterministic pseudo-random bytes (xorshift32), so that both runs see the same input.
function pseudoRandomBytes(length, seed) {
  const bytes = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');

// A text that compresses well but not trivially: words drawn pseudo-randomly from a small list.
function pseudoText(words, seed) {
  const list = ['wasm', 'engine', 'cranelift', 'module', 'instance', 'memory', 'table', 'global',
    'trap', 'import', 'export', 'stack', 'frame', 'vector', 'é', 'ü', '漢字', '🦀', '\n'];
  const picks = pseudoRandomBytes(words, seed);
  let text = '';
  for (const pick of picks) text += list[pick % list.length] + ' ';
  return text;
}

const brotliInputs = () => ({
  empty: new Uint8Array(0),
  one: new Uint8Array([42]),
  hello: Buffer.from('hello world '.repeat(1000)),
  text: Buffer.from(pseudoText(100000, 7)),
  random: pseudoRandomBytes(200000, 11),
});

async function brotliWasm() {
  const brotli = require('brotli-wasm');
  const output = { oneShot: {}, stream: {} };
  for (const [name, input] of Object.entries(brotliInputs())) {
    for (const quality of [undefined, 1, 5, 11]) {
      if (quality === 11 && input.length > 150000) continue; // keep the slowest level to small inputs
      const compressed = brotli.compress(input, quality === undefined ? undefined : { quality });
      const decompressed = brotli.decompress(compressed);
      output.oneShot[`${name}/q${quality}`] = {
        inputLength: input.length,
        compressedLength: compressed.length,
        compressed: sha256(compressed),
        roundTrip: Buffer.from(decompressed).equals(Buffer.from(input)),
      };
    }
    output.stream[name] = brotliStream(brotli, input);
  }
  // A corrupt stream must fail the same way.
  try {
    brotli.decompress(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    output.corrupt = 'no error';
  } catch (err) {
    output.corrupt = String(err && err.message !== undefined ? err.message : err);
  }
  output.exportsMemoryIsEngines = brotli.__wasm.memory instanceof engine.Memory;
  return output;
}

// The streaming API, fed in chunks of 4 KiB with a small output buffer.
function brotliStream(brotli, input) {
  const { BrotliStreamResultCode } = brotli;
  const CHUNK = 4096;
  const OUT = 1024;
  const compressedParts = [];
  const compressor = new brotli.CompressStream(6);
  let resultCode;
  for (let offset = 0; offset < input.length; offset += CHUNK) {
    let chunk = input.subarray(offset, offset + CHUNK);
    do {
      const result = compressor.compress(chunk, OUT);
      compressedParts.push(result.buf);
      resultCode = result.code;
      chunk = chunk.subarray(result.input_offset);
    } while (resultCode === BrotliStreamResultCode.NeedsMoreOutput);
  }
  do {
    const result = compressor.compress(undefined, OUT);
    compressedParts.push(result.buf);
    resultCode = result.code;
  } while (resultCode === BrotliStreamResultCode.NeedsMoreOutput);
  const compressed = Buffer.concat(compressedParts);
  const totalOut = compressor.total_out();
  compressor.free();

  const decompressedParts = [];
  const decompressor = new brotli.DecompressStream();
  for (let offset = 0; offset < compressed.length; offset += CHUNK) {
    let chunk = compressed.subarray(offset, offset + CHUNK);
    do {
      const result = decompressor.decompress(chunk, OUT);
      decompressedParts.push(result.buf);
      resultCode = result.code;
      chunk = chunk.subarray(result.input_offset);
    } while (resultCode === BrotliStreamResultCode.NeedsMoreOutput);
  }
  decompressor.free();
  const decompressed = Buffer.concat(decompressedParts);
  return {
    compressedLength: compressed.length,
    totalOut,
    compressed: sha256(compressed),
    finalCode: resultCode,
    roundTrip: decompressed.equals(Buffer.from(input)),
  };
}

async function hashWasm() {
  const hw = require('hash-wasm');
  const inputs = {
    empty: '',
    abc: 'abc',
    unicode: 'Größe 漢字 🦀',
    bytes: pseudoRandomBytes(1 << 20, 3),
  };
  const oneShot = {
    md4: (x) => hw.md4(x),
    md5: (x) => hw.md5(x),
    sha1: (x) => hw.sha1(x),
    sha224: (x) => hw.sha224(x),
    sha256: (x) => hw.sha256(x),
    sha384: (x) => hw.sha384(x),
    sha512: (x) => hw.sha512(x),
    'sha3-256': (x) => hw.sha3(x, 256),
    'keccak-512': (x) => hw.keccak(x, 512),
    'blake2b-256': (x) => hw.blake2b(x, 256),
    'blake2s-128': (x) => hw.blake2s(x, 128),
    blake3: (x) => hw.blake3(x),
    'blake3-keyed': (x) => hw.blake3(x, 256, 'k'.repeat(32)),
    crc32: (x) => hw.crc32(x),
    crc32c: (x) => hw.crc32(x, 0x82f63b78),
    crc64: (x) => hw.crc64(x),
    adler32: (x) => hw.adler32(x),
    ripemd160: (x) => hw.ripemd160(x),
    sm3: (x) => hw.sm3(x),
    whirlpool: (x) => hw.whirlpool(x),
    xxhash32: (x) => hw.xxhash32(x, 0x1234),
    xxhash64: (x) => hw.xxhash64(x, 1, 2),
    xxhash3: (x) => hw.xxhash3(x, 3, 4),
    xxhash128: (x) => hw.xxhash128(x),
  };
  const output = { oneShot: {}, streaming: {}, kdf: {} };
  for (const [algorithm, hash] of Object.entries(oneShot)) {
    for (const [name, input] of Object.entries(inputs)) output.oneShot[`${algorithm}/${name}`] = await hash(input);
  }

  // Streaming create() API: chunked updates, binary digest, init() reuse, save()/load().
  const creators = {
    sha256: () => hw.createSHA256(),
    sha512: () => hw.createSHA512(),
    'sha3-512': () => hw.createSHA3(512),
    blake3: () => hw.createBLAKE3(),
    md5: () => hw.createMD5(),
    xxhash64: () => hw.createXXHash64(5, 6),
    crc32: () => hw.createCRC32(),
    'hmac-sha256': () => hw.createHMAC(hw.createSHA256(), 'secret key'),
  };
  const big = inputs.bytes;
  for (const [algorithm, create] of Object.entries(creators)) {
    const hasher = await create();
    hasher.init();
    for (let offset = 0, size = 1; offset < big.length; offset += size, size = (size * 3) % 65521 + 1) {
      hasher.update(big.subarray(offset, offset + size));
    }
    const chunked = hasher.digest('hex');
    hasher.init();
    hasher.update('abc');
    let half = null; // save() throws for hashers that do not support it (HMAC)
    try {
      half = Buffer.from(hasher.save()).toString('hex');
    } catch (err) {
      if (err.message !== 'save() not supported') throw err;
    }
    hasher.update(inputs.unicode);
    const binary = Buffer.from(hasher.digest('binary')).toString('hex');
    let restored = null;
    if (half !== null) {
      hasher.load(Buffer.from(half, 'hex'));
      hasher.update(inputs.unicode);
      restored = hasher.digest('hex');
    }
    output.streaming[algorithm] = { chunked, binary, restored, state: half === null ? null : sha256(Buffer.from(half, 'hex')) };
  }

  const salt = Uint8Array.from({ length: 16 }, (_, i) => i * 7);
  const argon2 = { password: 'password', salt, parallelism: 1, iterations: 2, memorySize: 512, hashLength: 32 };
  output.kdf.argon2id = await hw.argon2id({ ...argon2, outputType: 'encoded' });
  output.kdf.argon2i = await hw.argon2i({ ...argon2, outputType: 'hex' });
  output.kdf.argon2d = await hw.argon2d({ ...argon2, outputType: 'hex' });
  output.kdf.argon2Verify = await hw.argon2Verify({ password: 'password', hash: output.kdf.argon2id });
  output.kdf.bcrypt = await hw.bcrypt({ password: 'password', salt, costFactor: 5, outputType: 'encoded' });
  output.kdf.bcryptVerify = await hw.bcryptVerify({ password: 'password', hash: output.kdf.bcrypt });
  output.kdf.pbkdf2 = await hw.pbkdf2({
    password: 'password', salt, iterations: 1000, hashLength: 32, hashFunction: hw.createSHA512(), outputType: 'hex',
  });
  output.kdf.scrypt = await hw.scrypt({
    password: 'password', salt, costFactor: 1024, blockSize: 8, parallelism: 1, hashLength: 32, outputType: 'hex',
  });
  return output;
}

async function sqlJs() {
  const initSqlJs = require('sql.js');
  const SQL = await initSqlJs();
  const output = {};
  const db = new SQL.Database();
  db.create_function('js_mix', (a, b) => `${a}:${b}`.toUpperCase());
  db.run(`
    CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL, data BLOB);
    CREATE INDEX item_name ON item (name);
    CREATE TABLE tag (item_id INTEGER REFERENCES item(id), tag TEXT);
  `);
  const insert = db.prepare('INSERT INTO item (name, price, data) VALUES (?, ?, ?)');
  const bytes = pseudoRandomBytes(64, 5);
  for (let i = 0; i < 500; i++) {
    insert.run([`item-${(i * 7919) % 500}`, (i * 1.25) / 3, bytes.subarray(0, i % 64)]);
  }
  insert.free();
  db.run("INSERT INTO tag SELECT id, CASE id % 3 WHEN 0 THEN 'red' WHEN 1 THEN 'green' ELSE 'blue' END FROM item");

  output.count = db.exec('SELECT count(*), sum(price), avg(price), min(name), max(name), total(length(data)) FROM item');
  output.groups = db.exec(`
    SELECT tag, count(*) AS n, round(sum(price), 6), group_concat(item.id, ',')
    FROM item JOIN tag ON tag.item_id = item.id WHERE item.id % 50 = 0 GROUP BY tag ORDER BY tag`);
  output.window = db.exec(`
    SELECT id, name, rank() OVER (ORDER BY price DESC), printf('%.17g', price * 3.14159)
    FROM item ORDER BY name LIMIT 10`);
  output.recursive = db.exec(`
    WITH RECURSIVE fib(n, a, b) AS (SELECT 0, 0, 1 UNION ALL SELECT n + 1, b, a + b FROM fib WHERE n < 70)
    SELECT n, a FROM fib WHERE n % 10 = 0`);
  output.bigSort = db.exec(`
    WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < 20000)
    SELECT sum(x * x), count(DISTINCT x % 97), hex(zeroblob(3)) FROM (SELECT x FROM seq ORDER BY (x * 2654435761) % 1000003)`);
  output.json = db.exec(`SELECT json_object('a', 1, 'b', json_array(1, 2.5, 'x')), json_extract('{"k":[1,{"z":7}]}', '$.k[1].z')`);
  output.udf = db.exec("SELECT js_mix(name, id) FROM item WHERE id IN (1, 2, 3) ORDER BY id");
  // Strings and blobs of tens of MiB: the heap must grow (memory.grow from wasm, buffer detached).
  output.growth = db.exec("SELECT length(hex(zeroblob(12000000))), substr(hex(zeroblob(9000000) || x'ff'), -4)");
  output.math = db.exec("SELECT 1e308 * 10, -0.0, 9223372036854775807, 0.1 + 0.2, abs(-5), 7 / 2, 7.0 / 2, upper('straße')");

  const select = db.prepare('SELECT id, name, price, hex(data) AS data FROM item WHERE id BETWEEN $lo AND $hi ORDER BY id');
  select.bind({ $lo: 10, $hi: 14 });
  output.rows = [];
  while (select.step()) output.rows.push(select.getAsObject());
  select.free();

  try {
    db.exec('SELEC oops');
    output.syntaxError = 'no error';
  } catch (err) {
    output.syntaxError = err.message;
  }
  try {
    db.exec("INSERT INTO item (name) VALUES (NULL)");
    output.constraintError = 'no error';
  } catch (err) {
    output.constraintError = err.message;
  }

  const image = db.export();
  output.exportedLength = image.length;
  db.close();

  // Reopen the exported image and read it back.
  const reopened = new SQL.Database(image);
  output.reopened = reopened.exec('SELECT count(*), sum(id) FROM item');
  reopened.close();
  return output;
}

// @automerge/automerge: a wasm-bindgen crate built with exception handling: its module imports
// tags (`__wbindgen_jstag`, `__wbindgen_wrapped_jstag`, WebAssembly.Tag objects of its glue).
async function automerge() {
  const A = require('@automerge/automerge');
  const output = {};
  // Fixed actors and change times, so that both runs build the same bytes.
  const first = { actor: '0123456789abcdef0123456789abcdef' };
  const second = { actor: 'fedcba9876543210fedcba9876543210' };
  const at = { time: 0 };
  let doc = A.from({ n: 1, list: [1, 2], text: 'hello' }, first);
  doc = A.change(doc, at, (d) => {
    d.n = 2;
    d.list.push(3);
    A.splice(d, ['text'], 5, 0, ' world');
  });
  for (let i = 0; i < 200; i++) doc = A.change(doc, at, (d) => { d.list.push(i * 7); d.n += i; });
  output.doc = JSON.parse(JSON.stringify(doc));
  const saved = A.save(doc);
  output.savedLength = saved.length;
  output.reloaded = JSON.parse(JSON.stringify(A.load(saved)));
  const other = A.change(A.clone(doc, second), at, (d) => { d.n = -1; d.text = 'fork'; });
  output.merged = JSON.parse(JSON.stringify(A.merge(A.clone(doc, first), other)));
  output.errors = [];
  // Malformed documents: Rust errors, thrown through wasm as exceptions.
  for (const bad of [new Uint8Array([1, 2, 3]), new Uint8Array(100), saved.slice(0, saved.length >> 1)]) {
    try {
      A.load(bad);
      output.errors.push('loaded');
    } catch (err) {
      output.errors.push(`${err.constructor.name}: ${err.message}`);
    }
  }
  // A JS exception thrown in a change callback, through the library.
  try {
    A.change(doc, at, () => { throw new RangeError('in the callback'); });
  } catch (err) {
    output.errors.push(`${err.constructor.name}: ${err.message}`);
  }
  output.afterErrors = A.change(doc, at, (d) => { d.n = 42; }).n;
  return output;
}

const workloads = {
  ...require('./eh-workloads'), // programs and packages that need exception handling (first: a
  // name defined here wins)
  'brotli-wasm': brotliWasm,
  'hash-wasm': hashWasm,
  'sql.js': sqlJs,
  '@automerge/automerge': automerge,
};

(async () => {
  const workload = workloads[packageName];
  if (!workload) throw new Error(`unknown package ${packageName}`);
  const output = await workload({ engine });
  const report = {
    engine: {
      name: engineName,
      globalIsCranewasm: globalThis.WebAssembly === cranewasm,
      globalIsNode: globalThis.WebAssembly === nodeWebAssembly,
      calls,
      created,
      memoryBytes: memories.map((memory) => memory.buffer.byteLength),
    },
    output,
  };
  process.stdout.write(JSON.stringify(report));
})().catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});

// wasm-vips (libvips built by Emscripten with -pthread: its pthreads are Workers, each sent the
// Module and the shared Memory with postMessage) on one engine, in a process of its own; prints a
// JSON report of its results. workers-clone.test.js runs it on both engines and compares.
//
//   node vips-driver.js <cranewasm|node> [dynamic]
//
// With "cranewasm", `require('cranewasm/register')` is loaded first, as a user would; the
// package is unmodified. "dynamic" also loads vips's side modules (JPEG XL, HEIF, SVG), which
// Emscripten links at run time into every pthread too.
'use strict';

const crypto = require('crypto');

const { useEngine } = require('./threaded-engine');

const [engineName, dynamic] = process.argv.slice(2);
const tokensSent = useEngine(engineName);
const { Worker } = require('worker_threads');

const sha = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');

async function main() {
  let workers = 0;
  const Vips = require('wasm-vips');
  const vips = await Vips(dynamic ? {} : { dynamicLibraries: [] });
  const out = { version: vips.version(), concurrency: vips.concurrency() };

  // A synthetic image large enough that libvips splits the work over its thread pool.
  const base = vips.Image.xyz(1024, 768).extractBand(0).cast('uchar')
    .bandjoin([vips.Image.xyz(1024, 768).extractBand(1).cast('uchar'), vips.Image.gaussnoise(1024, 768, { sigma: 20, mean: 128, seed: 42 }).cast('uchar')])
    .copy({ interpretation: 'srgb' });
  const pipelines = {
    blur: () => base.gaussblur(4),
    resize: () => base.resize(0.37, { kernel: 'lanczos3' }),
    rotate: () => base.rotate(17.5),
    sharpen: () => base.sharpen({ sigma: 1.5 }),
    colourspace: () => base.colourspace('lab').colourspace('srgb'),
    hist: () => base.extractBand(2).histFind(),
  };
  out.results = {};
  for (const [name, make] of Object.entries(pipelines)) {
    const image = make();
    out.results[name] = {
      size: [image.width, image.height, image.bands],
      avg: image.avg(),
      deviate: image.deviate(),
      raw: sha(image.writeToMemory()),
    };
  }
  out.png = sha(base.resize(0.25).writeToBuffer('.png'));
  out.jpeg = base.resize(0.25).writeToBuffer('.jpg', { Q: 80 }).length;
  if (dynamic) out.loaders = ['jxlsave_buffer', 'heifsave_buffer'].map((op) => { try { return !!vips.Image.black(8, 8).writeToBuffer(op === 'jxlsave_buffer' ? '.jxl' : '.avif').length; } catch (err) { return `error: ${err.message}`; } });
  vips.shutdown();
  return out;
}

main().then((output) => {
  const WebAssembly = globalThis.WebAssembly;
  const node = globalThis[Symbol.for('cranewasm.originalWebAssembly')];
  process.stdout.write(`${JSON.stringify({ engine: engineName, globalIsCranewasm: node !== undefined && WebAssembly !== node, tokens: tokensSent(), output })}\n`);
  process.exit(0);
}, (err) => {
  process.stderr.write(`${err && err.stack}\n`);
  process.exit(1);
});

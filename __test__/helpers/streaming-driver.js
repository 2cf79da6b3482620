'use strict';
// Runs one streaming scenario in a process of its own (started with --expose-gc) and prints a
// JSON result: `node --expose-gc streaming-driver.js <scenario>`.

const path = require('path');
const { serve, sendInChunks, bigModule, sleep, WASM } = require('./module-server');

const WA = require(path.join(__dirname, '..', '..'));
const binding = require(path.join(__dirname, '..', '..', 'binding.js'));

const turn = () => new Promise((resolve) => setImmediate(resolve));

async function collect(rounds = 4) {
  for (let i = 0; i < rounds; i++) {
    global.gc();
    await turn();
  }
}

const scenarios = {
  // Jobs that end early, over and over: 300 jobs (the first 100 warm the allocator up), of which
  // 9 in 10 are downloads aborted (AbortController) after about 1 MB of a 3 MB module, and 1 in
  // 10 fails on bad bytes near its start. Neither the bytes received nor the units queued nor
  // the native jobs may accumulate.
  async failedJobs() {
    const { bytes } = bigModule(4000, 100);
    const bad = bytes.slice();
    bad.fill(0xff, 50000, 50016);
    const sent = new Map(); // request number -> resolves when its first megabyte is out
    let requests = 0;
    const server = await serve(async (req, res) => {
      const n = requests++;
      const module = req.url === '/bad' ? bad : bytes;
      res.writeHead(200, WASM);
      await sendInChunks(res, module.subarray(0, 1e6), { min: 16384, max: 65536, delay: 0 });
      sent.get(n)?.();
      if (req.url === '/bad') {
        await sendInChunks(res, module.subarray(1e6), { min: 16384, max: 65536, delay: 0 });
        res.end();
      }
      // Otherwise the rest never comes: the client aborts.
    });
    const round = async (i) => {
      if (i % 10 === 9) {
        const error = await WA.compileStreaming(fetch(`${server.url}bad`)).catch((e) => e);
        if (!(error instanceof WA.CompileError)) throw new Error(`expected a CompileError, got ${error}`);
        return;
      }
      const controller = new AbortController();
      const firstMegabyte = new Promise((resolve) => sent.set(requests, resolve));
      const compiling = WA.compileStreaming(fetch(server.url, { signal: controller.signal }));
      await firstMegabyte;
      await sleep(2);
      controller.abort();
      const error = await compiling.catch((e) => e);
      if (!error || error.name !== 'AbortError') throw new Error(`expected an AbortError, got ${error}`);
    };
    for (let i = 0; i < 100; i++) await round(i);
    await collect();
    const before = process.memoryUsage().rss;
    for (let i = 100; i < 300; i++) {
      await round(i);
      if (i % 20 === 19) await collect(1);
    }
    await server.close();
    // Units of the aborted jobs may still be finishing: wait for them, then collect.
    for (let i = 0; i < 200 && binding.streamingStats().pending > 0; i++) await sleep(10);
    await collect();
    const after = process.memoryUsage().rss;
    const stats = binding.streamingStats();
    return {
      requests,
      rssBeforeMiB: before / 2 ** 20,
      rssAfterMiB: after / 2 ** 20,
      liveJobs: stats.liveJobs,
      pending: stats.pending,
      skipped: stats.skipped,
    };
  },
};

(async () => {
  try {
    process.stdout.write(JSON.stringify(await scenarios[scenario()]()));
  } catch (err) {
    process.stdout.write(JSON.stringify({ error: String(err && err.stack) }));
  }
})();

function scenario() {
  const name = process.argv[2];
  if (!(name in scenarios)) throw new Error(`unknown scenario ${name}`);
  return name;
}

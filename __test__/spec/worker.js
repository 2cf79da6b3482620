// Child process that runs scripts for the supervisor (supervisor.js): loads the engine chosen by
// CRANEWASM_SPEC_ENGINE, runs the scripts it is sent one after the other, and reports each result
// as soon as it has it.
'use strict';

const { loadEngine } = require('./engine');
const { loadManifest } = require('./manifests');
const { ScriptRun, describeError } = require('./runner');

// Yield to the event loop at least this often, so messages are not held back.
const YIELD_MS = 100;

const yieldToEventLoop = () => new Promise((resolve) => setImmediate(resolve));

async function runScripts(set, files) {
  let WebAssembly;
  try {
    WebAssembly = loadEngine();
  } catch (e) {
    process.send({ type: 'fatal', message: `cannot load the engine: ${describeError(e)}` });
    return;
  }
  for (const file of files) {
    process.send({ type: 'start', file });
    const manifest = loadManifest(set, file);
    const run = new ScriptRun(manifest, WebAssembly);
    let yieldedAt = Date.now();
    for (const command of manifest.commands) {
      // One message per result: IPC writes go out at once, so when a later command hangs or
      // crashes the process, the supervisor still has everything before it.
      process.send({ type: 'result', file, result: run.run(command) });
      if (Date.now() - yieldedAt >= YIELD_MS) {
        await yieldToEventLoop();
        yieldedAt = Date.now();
      }
    }
    process.send({ type: 'done', file });
    await yieldToEventLoop();
  }
}

// Sends are asynchronous and disconnecting drops what is still queued: disconnect only once the
// last message has gone out (IPC keeps order, so everything before it has too).
function sendLastAndDisconnect(message) {
  process.send(message, () => process.disconnect());
}

process.once('message', (message) => {
  runScripts(message.set, message.files).then(
    () => sendLastAndDisconnect({ type: 'finished' }),
    (e) => sendLastAndDisconnect({ type: 'fatal', message: `worker error: ${describeError(e)}` }),
  );
});

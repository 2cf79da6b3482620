'use strict';
// Node's own stop mechanisms on wasm (issue 12, point 2): worker.terminate(), process.exit()
// with a worker in wasm, vm timeouts and breakOnSigint. Each scenario runs in a fresh process
// (__test__/helpers/control-driver.js) on cranewasm and on Node's built-in WebAssembly, which
// is the oracle: same outcome, same error codes and messages.
//
// Latency bounds here are loose (the CI machine is shared by parallel test files); the
// measured latencies are reported by `npm run bench` (section "Control").

const { execFileSync, spawn } = require('child_process');
const path = require('path');

const driver = path.join(__dirname, 'helpers', 'control-driver.js');

function run(scenario, engine, kind) {
  const output = execFileSync(process.execPath, [driver, scenario, engine, kind], {
    encoding: 'utf8',
    timeout: 60000,
  });
  const result = JSON.parse(output);
  if (result.error && typeof result.error === 'string') throw new Error(result.error);
  return result;
}

// Runs the `exit` scenario: resolves with the exit code and the time from process.exit() to
// the process's end (both clocks are the system's monotonic clock).
function runExit(engine, kind) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [driver, 'exit', engine, kind], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`exit (${engine}, ${kind}) hung`)); }, 30000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const end = process.hrtime.bigint();
      const { exiting } = JSON.parse(out);
      resolve({ code, exitMs: Number(end - BigInt(exiting)) / 1e6 });
    });
  });
}

// Where Node's own engine hangs too (a loop of bulk memory operations: V8 checks nothing in
// its memory.fill/copy), only cranewasm is run.
const NODE_HANGS = new Set(['bulk']);

describe('worker.terminate() of a worker running wasm', () => {
  test.each(['loop', 'recursion', 'import', 'jsloop', 'bulk', 'start'])('spinning in %s', (kind) => {
    const ours = run('terminate', 'cranewasm', kind);
    expect(ours).toMatchObject({ exitCode: 1, after: 42, secondWorker: 42 });
    expect(ours.terminateMs).toBeLessThan(1000);
    if (!NODE_HANGS.has(kind)) {
      const theirs = run('terminate', 'node', kind);
      const { terminateMs: _a, ...a } = ours;
      const { terminateMs: _b, ...b } = theirs;
      expect(a).toEqual(b);
    }
  });
});

describe('process.exit(code) while a worker runs wasm', () => {
  test.each(['loop', 'recursion', 'bulk', 'start'])('spinning in %s: the process exits with the code', async (kind) => {
    const ours = await runExit('cranewasm', kind);
    expect(ours.code).toBe(3);
    expect(ours.exitMs).toBeLessThan(2000);
    if (!NODE_HANGS.has(kind)) expect((await runExit('node', kind)).code).toBe(3);
  });
});

describe('vm timeouts', () => {
  test.each(['loop', 'recursion', 'jsloop', 'bulk'])('a script spending its time in %s', (kind) => {
    const ours = run('vmTimeout', 'cranewasm', kind);
    for (const r of ours.results) {
      expect(r.error).toEqual({
        code: 'ERR_SCRIPT_EXECUTION_TIMEOUT',
        message: `Script execution timed out after ${r.timeout}ms`,
      });
      expect(r.elapsedMs).toBeGreaterThanOrEqual(r.timeout - 1);
      expect(r.elapsedMs).toBeLessThan(r.timeout + 1000);
    }
    expect(ours.after).toBe(42);
    expect(ours.fresh).toBe(42);
    if (!NODE_HANGS.has(kind)) {
      const theirs = run('vmTimeout', 'node', kind);
      const strip = (x) => ({ ...x, results: x.results.map(({ elapsedMs, ...r }) => r) });
      expect(strip(ours)).toEqual(strip(theirs));
    }
  });
});

describe('breakOnSigint', () => {
  test.each(['loop', 'recursion'])('SIGINT while a script spins in %s', (kind) => {
    const ours = run('sigint', 'cranewasm', kind);
    const theirs = run('sigint', 'node', kind);
    expect(ours.error).toEqual({
      code: 'ERR_SCRIPT_EXECUTION_INTERRUPTED',
      message: 'Script execution was interrupted by `SIGINT`',
    });
    const { elapsedMs: _a, ...a } = ours;
    const { elapsedMs: _b, ...b } = theirs;
    expect(a).toEqual(b);
  });
});

// A real package that uses node:wasi, unmodified, under cranewasm/register: CRuby's WebAssembly
// build (@ruby/3.4-wasm-wasi, 36 MB with its standard library) through its Node entry
// (@ruby/wasm-wasi/dist/node: `new WASI(...)` of `require('wasi')`, `wasi.initialize(instance)`,
// then Ruby code evaluated through the instance's exports). helpers/ruby-wasi-driver.js runs
// one Ruby program in a process of its own, once with `-r register.js` (cranewasm's engine and
// cranewasm/wasi) and once on plain Node (V8 and node:wasi); the program's stdout and stderr
// (written through WASI's fd_write) and what the JS side saw must be the same.
'use strict';

const { execFile } = require('child_process');
const path = require('path');
const { promisify } = require('util');

const execFileAsync = promisify(execFile);
const ROOT = path.join(__dirname, '..');
const DRIVER = path.join(__dirname, 'helpers', 'ruby-wasi-driver.js');

async function run(flags) {
  const { stdout, stderr } = await execFileAsync(process.execPath, [...flags, DRIVER], {
    cwd: ROOT,
    maxBuffer: 16 << 20,
    timeout: 90000,
  });
  const lines = stdout.trimEnd().split('\n');
  return { rubyOut: lines.slice(0, -1), report: JSON.parse(lines[lines.length - 1]), stderr };
}

test('Ruby (ruby.wasm) through its node:wasi entry gives the same output on cranewasm as on Node', async () => {
  const [ours, node] = await Promise.all([
    run(['-r', path.join(ROOT, 'register.js')]),
    // Node 20's V8 crashes (SIGSEGV) in its lazily compiled baseline code on this program, about
    // one run in five (every run with --liftoff-only); compiled eagerly it runs every time. The
    // flag changes how V8 compiles, not what node:wasi does.
    run(['--no-warnings', '--no-wasm-lazy-compilation']),
  ]);
  expect(ours.report.engine).toEqual({ wasiIsCranewasms: true, moduleIsCranewasms: true, instanceIsCranewasms: true });
  expect(node.report.engine).toEqual({ wasiIsCranewasms: false, moduleIsCranewasms: false, instanceIsCranewasms: false });
  expect(ours.rubyOut).toEqual(node.rubyOut);
  expect(ours.stderr).toBe(node.stderr);
  expect({ ...ours.report, engine: null }).toEqual({ ...node.report, engine: null });
  // And it is the program's output, not two equal failures.
  expect(ours.rubyOut[0]).toMatch(/^Ruby 3\.4\.\d+ \(wasm32-wasi\)$/);
  expect(ours.rubyOut).toContain('env: hello false');
  expect(ours.rubyOut).toContain('815915283247897734345611269596115894272000000000');
  expect(ours.rubyOut).toContain('[2, 10, :done, false]');
  expect(ours.rubyOut).toContain('slept: true');
  expect(ours.rubyOut).toContain('no files outside: false false');
  expect(ours.stderr).toBe('to stderr: 6\n');
  expect(ours.report.value).toBe('1|two|3.5');
  expect(ours.report.raised.message).toMatch(/no such thing \(NameError\)/);
});

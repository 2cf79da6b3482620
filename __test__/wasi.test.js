// cranewasm/wasi against node:wasi: the same API errors, the same program output and exit codes,
// the same errno for out-of-bounds pointers, and the non-filesystem tests of the official WASI
// test suite (tools/wasi-testsuite.js).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const cranewasm = require('..');
const { WASI } = require('../wasi.js');
const NodeWASI = require('node:wasi').WASI;

let wabt;
beforeAll(async () => {
  wabt = await require('wabt')();
});

function wat(text) {
  const module = wabt.parseWat('t.wat', text);
  const { buffer } = module.toBinary({});
  module.destroy();
  return Buffer.from(buffer);
}

const imports = `
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)`;

// Writes its args and environment to stdout, then exits with 40 + the number of variables.
const echo = () => wat(`(module ${imports}
  (func (export "_start")
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (drop (call $args_get (i32.const 1024) (i32.const 4096)))
    (i32.store (i32.const 16) (i32.const 4096))
    (i32.store (i32.const 20) (i32.load (i32.const 4)))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8)))
    (drop (call $environ_sizes_get (i32.const 0) (i32.const 4)))
    (drop (call $environ_get (i32.const 1024) (i32.const 8192)))
    (i32.store (i32.const 16) (i32.const 8192))
    (i32.store (i32.const 20) (i32.load (i32.const 4)))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8)))
    (call $proc_exit (i32.add (i32.const 40) (i32.load (i32.const 0))))))`);

// Exits with the errno of one call.
const errnoOf = (call) => wat(`(module ${imports}
  (func (export "_start") (call $proc_exit ${call})))`);

function withStdout(run) {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cranewasm-wasi-')), 'out');
  const fd = fs.openSync(file, 'w');
  try {
    const code = run(fd);
    return { code, out: fs.readFileSync(file, 'utf8') };
  } finally {
    fs.closeSync(fd);
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

function runBoth(bytes, options) {
  const ours = withStdout((stdout) => {
    const wasi = new WASI({ version: 'preview1', ...options, stdout });
    const instance = new cranewasm.Instance(new cranewasm.Module(bytes), wasi.getImportObject());
    return wasi.start(instance);
  });
  const node = withStdout((stdout) => {
    const wasi = new NodeWASI({ version: 'preview1', ...options, stdout });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), wasi.getImportObject());
    return wasi.start(instance);
  });
  return { ours, node };
}

function thrown(fn) {
  try {
    fn();
  } catch (error) {
    return { class: error.constructor.name, code: error.code, message: error.message };
  }
  return 'no error';
}

describe('the API, as node:wasi', () => {
  test('constructor option errors', () => {
    const cases = [undefined, {}, { version: 1 }, { version: 'x' }, { version: 'preview1', args: 1 },
      { version: 'preview1', args: 'a' }, { version: 'preview1', env: 1 }, { version: 'preview1', env: null },
      { version: 'preview1', stdin: -1 }, { version: 'preview1', stdout: 'a' }, { version: 'preview1', stderr: 1.5 },
      { version: 'preview1', returnOnExit: 1 }, { version: 'preview1', preopens: 1 }, null, 5];
    for (const options of cases) {
      const expected = thrown(() => new NodeWASI(options));
      expect(expected).not.toBe('no error');
      expect([options, thrown(() => new WASI(options))]).toEqual([options, expected]);
    }
  });

  test('import object and wasiImport', () => {
    for (const version of ['preview1', 'unstable']) {
      const ours = new WASI({ version });
      const node = new NodeWASI({ version });
      expect(Object.keys(ours.getImportObject())).toEqual(Object.keys(node.getImportObject()));
      expect(Object.keys(ours.wasiImport).sort()).toEqual(Object.keys(node.wasiImport).sort());
      expect(ours.getImportObject()[Object.keys(ours.getImportObject())[0]]).toBe(ours.wasiImport);
    }
  });

  test('start() and initialize() misuse', () => {
    const memory = () => ({ ours: new cranewasm.Memory({ initial: 1 }), node: new WebAssembly.Memory({ initial: 1 }) });
    const instances = [
      () => undefined,
      () => ({}),
      () => ({ exports: {} }),
      (m) => ({ exports: { memory: m } }),
      (m) => ({ exports: { memory: m, _start() {}, _initialize() {} } }),
      () => ({ exports: { memory: {}, _start() {} } }),
    ];
    for (const method of ['start', 'initialize']) {
      for (const make of instances) {
        const m = memory();
        const expected = thrown(() => new NodeWASI({ version: 'preview1' })[method](make(m.node)));
        expect(thrown(() => new WASI({ version: 'preview1' })[method](make(m.ours)))).toEqual(expected);
      }
    }
    // Called twice.
    const m = memory();
    const node = new NodeWASI({ version: 'preview1' });
    node.start({ exports: { memory: m.node, _start() {} } });
    const ours = new WASI({ version: 'preview1' });
    expect(ours.start({ exports: { memory: m.ours, _start() {} } })).toBe(0);
    expect(thrown(() => ours.start({ exports: { memory: m.ours, _start() {} } })))
      .toEqual(thrown(() => node.start({ exports: { memory: m.node, _start() {} } })));
    // A refused instance still starts the WASI: the next start() is refused too.
    const thenGood = (W, m) => thrown(() => {
      const wasi = new W({ version: 'preview1' });
      thrown(() => wasi.start({ exports: { _start() {} } }));
      wasi.start({ exports: { memory: m, _start() {} } });
    });
    expect(thenGood(WASI, m.ours)).toEqual(thenGood(NodeWASI, m.node));
    expect(thenGood(WASI, m.ours).code).toBe('ERR_WASI_ALREADY_STARTED');
    // initialize() of a reactor.
    const reactor = new WASI({ version: 'preview1' });
    let called = 0;
    expect(reactor.initialize({ exports: { memory: m.ours, _initialize() { called++; } } })).toBeUndefined();
    expect(called).toBe(1);
  });
});

describe('programs', () => {
  test('args, env, fd_write and proc_exit give the same output and code', () => {
    const { ours, node } = runBoth(echo(), { args: ['prog', 'a b', 'ü'], env: { A: '1', EMPTY: '', U: undefined } });
    expect(ours).toEqual(node);
    expect(ours.code).toBe(42);
    expect(ours.out).toBe('prog\0a b\0ü\0A=1\0EMPTY=\0');
  });

  test('out-of-bounds pointers and lengths answer an errno, as node:wasi (EFAULT for its EOVERFLOW)', () => {
    const calls = [
      '(call $fd_write (i32.const 1) (i32.const 65530) (i32.const 1) (i32.const 8))',
      '(block (result i32) (i32.store (i32.const 16) (i32.const 65000)) (i32.store (i32.const 20) (i32.const 1000)) (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8)))',
      '(block (result i32) (i32.store (i32.const 16) (i32.const 0)) (i32.store (i32.const 20) (i32.const 1)) (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 65534)))',
      '(call $fd_write (i32.const 1) (i32.const 16) (i32.const 0x7fffffff) (i32.const 8))',
      '(call $fd_write (i32.const 77) (i32.const 16) (i32.const 0) (i32.const 8))',
      '(call $random_get (i32.const 65000) (i32.const 1000))',
      '(call $random_get (i32.const -1) (i32.const 2))',
      '(call $args_sizes_get (i32.const 65534) (i32.const 0))',
      '(call $args_get (i32.const 65534) (i32.const 0))',
      '(call $clock_time_get (i32.const 99) (i64.const 0) (i32.const 0))',
      '(call $clock_time_get (i32.const 1) (i64.const 0) (i32.const 65532))',
    ];
    for (const call of calls) {
      const { ours, node } = runBoth(errnoOf(call), { args: ['prog', 'x'] });
      // node:wasi (uvwasi) answers EOVERFLOW (61) for a pointer out of bounds; cranewasm answers
      // EFAULT (21), the errno WASI defines for a bad address and the one Wasmtime answers.
      const expected = { ...node, code: node.code === 61 ? 21 : node.code };
      expect([call, ours]).toEqual([call, expected]);
      expect([call, ours.code]).not.toEqual([call, 0]);
    }
  });

  test('wasi_unstable layouts: clock subscriptions as node:wasi, filestat as snapshot 0 defines it', () => {
    for (const [version, module] of [['unstable', 'wasi_unstable'], ['preview1', 'wasi_snapshot_preview1']]) {
      // Writes "abc" to fd 1 (a file), fd_filestat_get(1) at 100, then polls one relative clock
      // subscription of 1 ms (userdata 7) with the layout of `version` at 300; events at 500.
      const clockAt = version === 'unstable' ? 8 : 0;
      const bytes = wat(`(module
        (import "${module}" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
        (import "${module}" "fd_filestat_get" (func $stat (param i32 i32) (result i32)))
        (import "${module}" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
        (memory (export "memory") 1)
        (data (i32.const 64) "abc")
        (func (export "_start")
          (i32.store (i32.const 16) (i32.const 64)) (i32.store (i32.const 20) (i32.const 3))
          (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8)))
          (i32.store (i32.const 96) (call $stat (i32.const 1) (i32.const 100)))
          (i64.store (i32.const 300) (i64.const 7))
          (i32.store8 (i32.const 308) (i32.const 0))
          (i32.store (i32.const ${316 + clockAt}) (i32.const 1))
          (i64.store (i32.const ${324 + clockAt}) (i64.const 1000000))
          (i32.store (i32.const 296) (call $poll (i32.const 300) (i32.const 500) (i32.const 1) (i32.const 292)))))`);
      const memoryOf = (WASI, W) => {
        let memory;
        withStdout((stdout) => {
          const wasi = new WASI({ version, stdout });
          const instance = new W.Instance(new W.Module(bytes), wasi.getImportObject());
          wasi.start(instance);
          memory = Buffer.from(instance.exports.memory.buffer.slice(0, 600));
        });
        return memory;
      };
      const ours = memoryOf(WASI, cranewasm);
      const node = memoryOf(NodeWASI, WebAssembly);
      const view = (m) => ({
        statErrno: m.readUInt32LE(96),
        filetype: m[116],
        // unstable: nlink u32 at 120, size at 124; preview1: nlink u64 at 124, size at 132
        fields: version === 'unstable' ? [m.readUInt32LE(120), m.readBigUInt64LE(124)] : [m.readBigUInt64LE(124), m.readBigUInt64LE(132)],
        pollErrno: m.readUInt32LE(296),
        nevents: m.readUInt32LE(292),
        event: [m.readBigUInt64LE(500), m.readUInt16LE(508), m[510]],
      });
      // wasi_unstable's filestat has a 32-bit nlink (snapshot 0's linkcount), as Wasmtime writes
      // it; node:wasi (uvwasi) writes preview 1's layout there. Everything else is node's.
      const nodeView = version === 'unstable' ? { ...view(node), fields: [1, 3n] } : view(node);
      expect([version, view(ours)]).toEqual([version, nodeView]);
      expect(view(ours).fields).toEqual(version === 'unstable' ? [1, 3n] : [1n, 3n]);
      expect(view(ours).event).toEqual([7n, 0, 0]);
    }
  });

  test('the stdin, stdout and stderr options name the host fds of fds 0, 1 and 2, as node:wasi', () => {
    // Reads up to 64 bytes from fd 0, writes them to fd 1 and then to fd 2.
    const bytes = wat(`(module
      (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
      ${imports}
      (func (export "_start")
        (i32.store (i32.const 16) (i32.const 1024)) (i32.store (i32.const 20) (i32.const 64))
        (drop (call $fd_read (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 8)))
        (i32.store (i32.const 20) (i32.load (i32.const 8)))
        (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8)))
        (drop (call $fd_write (i32.const 2) (i32.const 16) (i32.const 1) (i32.const 8)))))`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cranewasm-wasi-stdio-'));
    const run = (WASI, W, tag) => {
      fs.writeFileSync(path.join(dir, `in-${tag}`), 'input text\n');
      const stdin = fs.openSync(path.join(dir, `in-${tag}`), 'r');
      const stdout = fs.openSync(path.join(dir, `out-${tag}`), 'w');
      const stderr = fs.openSync(path.join(dir, `err-${tag}`), 'w');
      const wasi = new WASI({ version: 'preview1', stdin, stdout, stderr });
      const code = wasi.start(new W.Instance(new W.Module(bytes), wasi.getImportObject()));
      for (const fd of [stdin, stdout, stderr]) fs.closeSync(fd);
      return { code, out: fs.readFileSync(path.join(dir, `out-${tag}`), 'utf8'), err: fs.readFileSync(path.join(dir, `err-${tag}`), 'utf8') };
    };
    const ours = run(WASI, cranewasm, 'ours');
    const node = run(NodeWASI, WebAssembly, 'node');
    fs.rmSync(dir, { recursive: true, force: true });
    expect(ours).toEqual({ code: 0, out: 'input text\n', err: 'input text\n' });
    expect(ours).toEqual(node);
  });

  test('clocks and random', () => {
    const bytes = wat(`(module ${imports}
      (func (export "_start")
        (drop (call $clock_time_get (i32.const 1) (i64.const 0) (i32.const 0)))
        (drop (call $clock_time_get (i32.const 1) (i64.const 0) (i32.const 8)))
        (drop (call $clock_time_get (i32.const 0) (i64.const 0) (i32.const 16)))
        (drop (call $random_get (i32.const 64) (i32.const 32))))
      (func (export "read") (param i32) (result i64) (i64.load (local.get 0))))`);
    const wasi = new WASI({ version: 'preview1' });
    const instance = new cranewasm.Instance(new cranewasm.Module(bytes), wasi.getImportObject());
    expect(wasi.start(instance)).toBe(0);
    const read = instance.exports.read;
    expect(read(8) >= read(0)).toBe(true);
    const realtime = Number(read(16) / 1000000n);
    expect(Math.abs(realtime - Date.now())).toBeLessThan(60000);
    const random = [64, 72, 80, 88].map(read);
    expect(random.some((v) => v !== 0n)).toBe(true);
  });

  test("proc_exit in a reactor (in _initialize or a later export) throws, as node:wasi's does", () => {
    const reactor = (inInit) => wat(`(module
      (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
      (memory (export "memory") 1)
      (func (export "_initialize") ${inInit ? '(call $proc_exit (i32.const 5))' : ''})
      (func (export "quit") (call $proc_exit (i32.const 6))))`);
    const describeThrow = (fn) => {
      try {
        fn();
        return 'returned';
      } catch (e) {
        return typeof e === 'symbol' ? `symbol ${e.description}` : `${typeof e} ${e}`;
      }
    };
    for (const inInit of [true, false]) {
      const outcome = (W, Engine) => {
        const wasi = new W({ version: 'preview1' });
        const instance = new Engine.Instance(new Engine.Module(reactor(inInit)), wasi.getImportObject());
        return [describeThrow(() => wasi.initialize(instance)), describeThrow(() => instance.exports.quit())];
      };
      expect(outcome(WASI, cranewasm)).toEqual(outcome(NodeWASI, WebAssembly));
      expect(outcome(WASI, cranewasm)).toEqual(inInit ? ['symbol kExitCode', 'symbol kExitCode'] : ['returned', 'symbol kExitCode']);
    }
  });

  test('returnOnExit: false exits the process with the code, as node:wasi', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cranewasm-wasi-')), 'exit.wasm');
    fs.writeFileSync(file, errnoOf('(i32.const 9)'));
    const script = (useNode) => `
      const { WASI } = require(${JSON.stringify(useNode ? 'node:wasi' : path.resolve(__dirname, '../wasi.js'))});
      const W = ${useNode ? 'WebAssembly' : `require(${JSON.stringify(path.resolve(__dirname, '..'))})`};
      const wasi = new WASI({ version: 'preview1', returnOnExit: false });
      const instance = new W.Instance(new W.Module(require('fs').readFileSync(${JSON.stringify(file)})), wasi.getImportObject());
      wasi.start(instance);
      console.log('not reached');`;
    const ours = spawnSync(process.execPath, ['--no-warnings', '-e', script(false)], { encoding: 'utf8' });
    const node = spawnSync(process.execPath, ['--no-warnings', '-e', script(true)], { encoding: 'utf8' });
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    expect({ status: ours.status, stdout: ours.stdout }).toEqual({ status: node.status, stdout: node.stdout });
    expect(ours.status).toBe(9);
  });
});

describe('the sandbox: nothing outside the preopened directories', () => {
  const fsImports = `
    (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "path_filestat_get" (func $path_filestat_get (param i32 i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "path_create_directory" (func $path_create_directory (param i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "path_unlink_file" (func $path_unlink_file (param i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "path_rename" (func $path_rename (param i32 i32 i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "path_symlink" (func $path_symlink (param i32 i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "path_link" (func $path_link (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
    (memory (export "memory") 1)`;
  const quote = (text) => [...Buffer.from(text)].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('');
  // Runs `call` (which may name the path at 1024 with length $len and a second at 2048 with
  // length $len2) and exits with its errno.
  const program = (call, first, second = '') => wat(`(module ${fsImports}
    (data (i32.const 1024) "${quote(first)}") (data (i32.const 2048) "${quote(second)}")
    (func (export "_start") (call $proc_exit ${call
      .replaceAll('$len2', `(i32.const ${Buffer.byteLength(second)})`)
      .replaceAll('$len', `(i32.const ${Buffer.byteLength(first)})`)})))`);
  const open = (flags) => `(call $path_open (i32.const 3) (i32.const ${flags}) (i32.const 1024) $len (i32.const 0) (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 0))`;

  let top;
  let root;
  beforeEach(() => {
    top = fs.mkdtempSync(path.join(os.tmpdir(), 'cranewasm-wasi-sandbox-'));
    root = path.join(top, 'root');
    fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(root, 'inside'), 'in');
    fs.writeFileSync(path.join(top, 'secret'), 'secret');
    fs.symlinkSync('/etc/passwd', path.join(root, 'abs'));
    fs.symlinkSync('../secret', path.join(root, 'up'));
    fs.symlinkSync('..', path.join(root, 'dirup'));
    fs.symlinkSync('sub/../inside', path.join(root, 'within'));
  });
  afterEach(() => fs.rmSync(top, { recursive: true, force: true }));

  const run = (bytes) => {
    const wasi = new WASI({ version: 'preview1', preopens: { '/sandbox': root } });
    const instance = new cranewasm.Instance(new cranewasm.Module(bytes), wasi.getImportObject());
    return wasi.start(instance);
  };
  const NOTCAPABLE = 76;

  test('paths inside open', () => {
    for (const p of ['inside', 'sub/../inside', './inside', 'within', 'sub', '.']) {
      expect([p, run(program(open(1), p))]).toEqual([p, 0]);
    }
  });

  test('.., absolute paths and symlinks cannot escape', () => {
    for (const p of ['../secret', '/etc/passwd', 'abs', 'up', 'dirup/secret', 'sub/../../secret', '..', 'dirup']) {
      for (const follow of [1, 0]) {
        const code = run(program(open(follow), p));
        // Not followed, a final symlink is ELOOP; followed (or not final), it is out of reach.
        const expected = follow === 0 && ['abs', 'up', 'dirup'].includes(p) ? 32 : NOTCAPABLE;
        expect([p, follow, code]).toEqual([p, follow, expected]);
      }
      expect([p, run(program(`(call $path_filestat_get (i32.const 3) (i32.const 1) (i32.const 1024) $len (i32.const 4096))`, p))])
        .toEqual([p, NOTCAPABLE]);
    }
  });

  test('changes outside are refused and leave the host untouched', () => {
    const calls = [
      ['(call $path_create_directory (i32.const 3) (i32.const 1024) $len)', '../made'],
      ['(call $path_create_directory (i32.const 3) (i32.const 1024) $len)', '/tmp/cranewasm-wasi-made'],
      ['(call $path_create_directory (i32.const 3) (i32.const 1024) $len)', 'dirup/made'],
      ['(call $path_unlink_file (i32.const 3) (i32.const 1024) $len)', '../secret'],
      ['(call $path_unlink_file (i32.const 3) (i32.const 1024) $len)', 'dirup/secret'],
      ['(call $path_rename (i32.const 3) (i32.const 1024) $len (i32.const 3) (i32.const 2048) $len2)', 'inside', '../moved'],
      ['(call $path_rename (i32.const 3) (i32.const 1024) $len (i32.const 3) (i32.const 2048) $len2)', '../secret', 'stolen'],
      ['(call $path_symlink (i32.const 1024) $len (i32.const 3) (i32.const 2048) $len2)', 'x', '../link'],
    ];
    for (const [call, first, second] of calls) {
      expect([first, second, run(program(call, first, second))]).toEqual([first, second, NOTCAPABLE]);
    }
    expect(fs.readdirSync(top).sort()).toEqual(['root', 'secret']);
    expect(fs.existsSync('/tmp/cranewasm-wasi-made')).toBe(false);
    expect(fs.readFileSync(path.join(root, 'inside'), 'utf8')).toBe('in');
    // A symlink made inside that points out is made, but cannot be followed out.
    expect(run(program('(call $path_symlink (i32.const 1024) $len (i32.const 3) (i32.const 2048) $len2)', '../secret', 'made-link'))).toBe(0);
    // One to an absolute path is refused.
    expect(run(program('(call $path_symlink (i32.const 1024) $len (i32.const 3) (i32.const 2048) $len2)', '/etc/passwd', 'abs-link'))).toBe(NOTCAPABLE);
    expect(run(program(open(1), 'made-link'))).toBe(NOTCAPABLE);
  });

  test('hard links cannot reach outside, nor be made outside', () => {
    // path_link(3, flags, first, 3, second): flags 1 follows a symlink at the source.
    const link = (flags) => `(call $path_link (i32.const 3) (i32.const ${flags}) (i32.const 1024) $len (i32.const 3) (i32.const 2048) $len2)`;
    const cases = [
      [link(0), '../secret', 'stolen'],
      [link(1), '../secret', 'stolen'],
      [link(0), '/etc/passwd', 'stolen'],
      [link(1), 'up', 'stolen'], // a symlink to ../secret, followed
      [link(1), 'abs', 'stolen'], // a symlink to /etc/passwd, followed
      [link(1), 'dirup/secret', 'stolen'],
      [link(0), 'inside', '../planted'],
      [link(0), 'inside', 'dirup/planted'],
      [link(0), 'inside', '/tmp/cranewasm-wasi-planted'],
    ];
    for (const [call, first, second] of cases) {
      expect([first, second, run(program(call, first, second))]).toEqual([first, second, NOTCAPABLE]);
    }
    expect(fs.readdirSync(root).sort()).toEqual(['abs', 'dirup', 'inside', 'sub', 'up', 'within']);
    expect(fs.readdirSync(top).sort()).toEqual(['root', 'secret']);
    expect(fs.existsSync('/tmp/cranewasm-wasi-planted')).toBe(false);
    // Inside, a hard link is made; linking the symlink itself (not followed) links the symlink.
    expect(run(program(link(0), 'inside', 'sub/again'))).toBe(0);
    expect(fs.readFileSync(path.join(root, 'sub', 'again'), 'utf8')).toBe('in');
    expect(run(program(link(0), 'up', 'up-too'))).toBe(0);
    expect(fs.readlinkSync(path.join(root, 'up-too'))).toBe('../secret');
    expect(run(program(open(1), 'up-too'))).toBe(NOTCAPABLE);
  });

  test('rights: an fd opened for reading cannot write, and rights cannot be raised, as node:wasi', () => {
    // Opens "inside" with only fd_read (bit 1) and fd_seek, tries fd_write, then tries to add
    // fd_write with fd_fdstat_set_rights, then dropping to nothing but fd_read; writes the
    // three errnos (as bytes) to stdout.
    const bytes = wat(`(module
      (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_fdstat_set_rights" (func $set_rights (param i32 i64 i64) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 1024) "inside")
      (func (export "_start") (local $fd i32)
        (i32.store8 (i32.const 200) (call $path_open (i32.const 3) (i32.const 1) (i32.const 1024) (i32.const 6)
          (i32.const 0) (i64.const 6) (i64.const 0) (i32.const 0) (i32.const 0)))
        (local.set $fd (i32.load (i32.const 0)))
        (i32.store (i32.const 16) (i32.const 1024)) (i32.store (i32.const 20) (i32.const 6))
        (i32.store8 (i32.const 201) (call $fd_write (local.get $fd) (i32.const 16) (i32.const 1) (i32.const 8)))
        (i32.store8 (i32.const 202) (call $set_rights (local.get $fd) (i64.const 70) (i64.const 0)))
        (i32.store8 (i32.const 203) (call $set_rights (local.get $fd) (i64.const 2) (i64.const 0)))
        (i32.store (i32.const 16) (i32.const 200)) (i32.store (i32.const 20) (i32.const 4))
        (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8)))))`);
    const { ours, node } = runBoth(bytes, { preopens: { '/sandbox': root } });
    expect(ours).toEqual(node);
    expect([...ours.out].map((c) => c.charCodeAt(0))).toEqual([0, NOTCAPABLE, NOTCAPABLE, 0]);
    expect(fs.readFileSync(path.join(root, 'inside'), 'utf8')).toBe('in');
  });

  test('a program without preopens sees no directory', () => {
    const wasi = new WASI({ version: 'preview1' });
    const instance = new cranewasm.Instance(new cranewasm.Module(program(open(1), 'inside')), wasi.getImportObject());
    expect(wasi.start(instance)).toBe(8); // EBADF: fd 3 does not exist
  });
});

describe('under a Sandbox', () => {
  const { Sandbox } = require('../engine.js');
  // Writes "tick" then spins calling WASI functions forever.
  const spinner = () => wat(`(module
    (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
    (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 64) "tick")
    (func (export "_start")
      (i32.store (i32.const 16) (i32.const 64)) (i32.store (i32.const 20) (i32.const 4))
      (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8)))
      (loop (drop (call $yield)) (drop (call $clock (i32.const 1) (i64.const 0) (i32.const 0))) (br 0))))`);

  for (const [what, options, message] of [
    ['a deadline', { timeout: 200 }, /timed out/],
    ['fuel', { fuel: 100000 }, /fuel/],
  ]) {
    test(`a WASI program stops at ${what}, and its output so far is there`, async () => {
      const sandbox = new Sandbox(options);
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cranewasm-wasi-')), 'out');
      const stdout = fs.openSync(file, 'w');
      const wasi = new WASI({ version: 'preview1', stdout });
      const { instance } = await sandbox.instantiate(spinner(), wasi.getImportObject());
      let error;
      try {
        wasi.start(instance);
      } catch (e) {
        error = e;
      }
      fs.closeSync(stdout);
      expect(fs.readFileSync(file, 'utf8')).toBe('tick');
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
      expect(error).toBeInstanceOf(cranewasm.RuntimeError);
      expect(error.message).toMatch(message);
    });
  }
});

describe('blocking WASI calls under a Sandbox, a terminated Worker, and limits', () => {
  const { Sandbox } = require('../engine.js');
  const { Worker } = require('worker_threads');
  // Writes "tick", then polls one relative clock subscription of `seconds` (preview 1 layout at
  // 300, the event at 500), then writes "tock".
  const sleeper = (seconds) => wat(`(module
    (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 64) "tick") (data (i32.const 72) "tock")
    (func $say (param i32)
      (i32.store (i32.const 16) (local.get 0)) (i32.store (i32.const 20) (i32.const 4))
      (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8))))
    (func (export "_start")
      (call $say (i32.const 64))
      (i64.store (i32.const 300) (i64.const 7))
      (i32.store8 (i32.const 308) (i32.const 0))
      (i32.store (i32.const 316) (i32.const 1))
      (i64.store (i32.const 324) (i64.const ${BigInt(Math.round(seconds * 1e9))}))
      (drop (call $poll (i32.const 300) (i32.const 500) (i32.const 1) (i32.const 292)))
      (call $say (i32.const 72))))`);

  // Runs `bytes` as a WASI command in `sandbox` with stdout to a file: { error, out, ms }.
  async function runIn(sandbox, bytes, options = {}) {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cranewasm-wasi-')), 'out');
    const stdout = fs.openSync(file, 'w');
    const wasi = new WASI({ version: 'preview1', stdout, ...options });
    const { instance } = await sandbox.instantiate(bytes, wasi.getImportObject());
    let error;
    let code;
    const start = Date.now();
    try {
      code = wasi.start(instance);
    } catch (e) {
      error = e;
    }
    const ms = Date.now() - start;
    fs.closeSync(stdout);
    const out = fs.readFileSync(file, 'utf8');
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    return { error, code, out, ms };
  }

  test('a sleeping program (poll_oneoff on a clock) stops at the Sandbox deadline', async () => {
    const { error, out, ms } = await runIn(new Sandbox({ timeout: 200 }), sleeper(60));
    expect(error).toBeInstanceOf(cranewasm.RuntimeError);
    expect(error.message).toMatch(/timed out \(timeout: 200 ms\)/);
    expect(out).toBe('tick');
    expect(ms).toBeGreaterThanOrEqual(190);
    expect(ms).toBeLessThan(5000);
  });

  test('a sleep shorter than the deadline ends normally, and the program goes on', async () => {
    const { error, code, out, ms } = await runIn(new Sandbox({ timeout: 5000 }), sleeper(0.05));
    expect(error).toBeUndefined();
    expect(code).toBe(0);
    expect(out).toBe('ticktock');
    expect(ms).toBeGreaterThanOrEqual(45);
  });

  test('a program blocked reading a pipe that stays open stops at the deadline', async () => {
    // fd_read on stdin, a pipe from this process that never gets data nor closes.
    const script = `
      const cranewasm = require(${JSON.stringify(path.resolve(__dirname, '..'))});
      const { Sandbox } = require(${JSON.stringify(path.resolve(__dirname, '../engine.js'))});
      const { WASI } = require(${JSON.stringify(path.resolve(__dirname, '../wasi.js'))});
      const bytes = Buffer.from(process.argv[1], 'base64');
      (async () => {
        const wasi = new WASI({ version: 'preview1' });
        const { instance } = await new Sandbox({ timeout: 300 }).instantiate(bytes, wasi.getImportObject());
        const start = Date.now();
        try { wasi.start(instance); console.log('returned'); }
        catch (e) { console.log(e instanceof cranewasm.RuntimeError, e.message, Date.now() - start >= 290); }
        process.exit(0);
      })();`;
    const reader = wat(`(module
      (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "_start")
        (i32.store (i32.const 16) (i32.const 64)) (i32.store (i32.const 20) (i32.const 16))
        (drop (call $fd_read (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 8)))))`);
    const child = require('child_process').spawn(process.execPath, ['-e', script, reader.toString('base64')], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const status = await new Promise((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
      child.on('exit', (code, signal) => { clearTimeout(timer); resolve(signal || code); });
    });
    child.stdin.destroy();
    expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
    expect(stdout).toBe('true cranewasm: call timed out (timeout: 300 ms) true\n');
  });

  test('with NONBLOCK set on stdin (fd_fdstat_set_flags), a read of an empty pipe answers EAGAIN at once, as node:wasi', async () => {
    const bytes = wat(`(module
      (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_fdstat_set_flags" (func $set_flags (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
      (memory (export "memory") 1)
      (func (export "_start")
        (drop (call $set_flags (i32.const 0) (i32.const 4)))
        (i32.store (i32.const 16) (i32.const 64)) (i32.store (i32.const 20) (i32.const 16))
        (call $proc_exit (call $fd_read (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 8)))))`);
    const script = (useNode) => `
      const { WASI } = require(${JSON.stringify(useNode ? 'node:wasi' : path.resolve(__dirname, '../wasi.js'))});
      const W = ${useNode ? 'WebAssembly' : `require(${JSON.stringify(path.resolve(__dirname, '..'))})`};
      const wasi = new WASI({ version: 'preview1' });
      const instance = new W.Instance(new W.Module(Buffer.from(process.argv[1], 'base64')), wasi.getImportObject());
      process.stdout.write(String(wasi.start(instance)));
      process.exit(0);`;
    const run = (useNode) => new Promise((resolve) => {
      const child = require('child_process').spawn(process.execPath, ['--no-warnings', '-e', script(useNode), bytes.toString('base64')], { stdio: ['pipe', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => { out += d; });
      const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
      child.on('exit', (code, signal) => { clearTimeout(timer); child.stdin.destroy(); resolve({ status: signal || code, out }); });
    });
    const [ours, node] = await Promise.all([run(false), run(true)]);
    expect(ours).toEqual({ status: 0, out: '6' }); // EAGAIN
    expect(ours).toEqual(node);
  });

  test('worker.terminate() stops a WASI sleep at once', async () => {
    const worker = new Worker(`
      const { parentPort, workerData } = require('worker_threads');
      const cranewasm = require(workerData.root);
      const { WASI } = require(workerData.root + '/wasi.js');
      const wasi = new WASI({ version: 'preview1', stdout: require('fs').openSync('/dev/null', 'w') });
      const instance = new cranewasm.Instance(new cranewasm.Module(workerData.bytes), wasi.getImportObject());
      parentPort.postMessage('sleeping');
      wasi.start(instance);
      parentPort.postMessage('woke up');`, { eval: true, workerData: { root: path.resolve(__dirname, '..'), bytes: sleeper(60) } });
    const messages = [];
    worker.on('message', (m) => messages.push(m));
    await new Promise((resolve) => worker.once('message', resolve));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const start = Date.now();
    await worker.terminate();
    // The 60 s sleep ended within the engine's poll slice (terminate() waits for the thread).
    expect(Date.now() - start).toBeLessThan(2000);
    expect(messages[0]).toBe('sleeping');
  });

  test("a vm timeout stops a WASI sleep (V8's TerminateExecution, as for running wasm)", () => {
    const vm = require('vm');
    const wasi = new WASI({ version: 'preview1', stdout: fs.openSync('/dev/null', 'w') });
    const instance = new cranewasm.Instance(new cranewasm.Module(sleeper(60)), wasi.getImportObject());
    const start = Date.now();
    let error;
    try {
      vm.runInNewContext('wasi.start(instance)', { wasi, instance }, { timeout: 200 });
    } catch (e) {
      error = e;
    }
    expect(error && error.code).toBe('ERR_SCRIPT_EXECUTION_TIMEOUT');
    expect(Date.now() - start).toBeLessThan(5000);
  });

  test('a WASI program under a memory limit sees memory.grow fail, and exits with its code', async () => {
    // Grows its memory by one page at a time until memory.grow fails, writes how many pages it
    // got, and exits with 3.
    const grower = wat(`(module
      (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
      (memory (export "memory") 1)
      (func (export "_start") (local $n i32)
        (block $done (loop $more
          (br_if $done (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
          (local.set $n (i32.add (local.get $n) (i32.const 1)))
          (br_if $done (i32.ge_u (local.get $n) (i32.const 1000)))
          (br $more)))
        (i32.store8 (i32.const 64) (i32.add (i32.const 48) (local.get $n)))
        (i32.store (i32.const 16) (i32.const 64)) (i32.store (i32.const 20) (i32.const 1))
        (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8)))
        (call $proc_exit (i32.const 3))))`);
    const { error, code, out } = await runIn(new Sandbox({ memoryLimit: 4 * 65536 }), grower);
    expect(error).toBeUndefined();
    expect(code).toBe(3);
    expect(out).toBe('3'); // 1 page + 3 grown = the 4-page limit
  });

  test('fuel: a metered program sleeps and goes on, and the sleep costs no fuel (only wasm does)', async () => {
    const left = [];
    for (const seconds of [0.01, 0.2]) {
      const sandbox = new Sandbox({ fuel: 100000 });
      expect(await runIn(sandbox, sleeper(seconds))).toMatchObject({ error: undefined, code: 0, out: 'ticktock' });
      left.push(sandbox.fuel);
    }
    expect(left[0]).toBeLessThan(100000);
    expect(left[1]).toBe(left[0]);
  });
});

describe('poll_oneoff on fds, as node:wasi', () => {
  // Polls stdin for reading together with a 5 s clock (preview 1 layout): writes the number of
  // events and the first event's userdata, errno, type and nbytes to stdout as text.
  const poller = () => wat(`(module
    (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (func $num (param i64) (local $p i32)
      ;; decimal digits of the value at 1000.., then a space
      (local.set $p (i32.const 1100))
      (loop $d
        (local.set $p (i32.sub (local.get $p) (i32.const 1)))
        (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get 0) (i64.const 10)))))
        (local.set 0 (i64.div_u (local.get 0) (i64.const 10)))
        (br_if $d (i64.ne (local.get 0) (i64.const 0))))
      (i32.store8 (i32.const 1100) (i32.const 32))
      (i32.store (i32.const 16) (local.get $p)) (i32.store (i32.const 20) (i32.sub (i32.const 1101) (local.get $p)))
      (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8))))
    (func (export "_start")
      ;; subscription 0: fd_read on fd 0, userdata 11
      (i64.store (i32.const 300) (i64.const 11)) (i32.store8 (i32.const 308) (i32.const 1))
      (i32.store (i32.const 316) (i32.const 0))
      ;; subscription 1: clock, 5 s relative, userdata 22
      (i64.store (i32.const 348) (i64.const 22)) (i32.store8 (i32.const 356) (i32.const 0))
      (i32.store (i32.const 364) (i32.const 1)) (i64.store (i32.const 372) (i64.const 5000000000))
      (drop (call $poll (i32.const 300) (i32.const 500) (i32.const 2) (i32.const 292)))
      (call $num (i64.extend_i32_u (i32.load (i32.const 292))))
      (call $num (i64.load (i32.const 500)))
      (call $num (i64.extend_i32_u (i32.load16_u (i32.const 508))))
      (call $num (i64.extend_i32_u (i32.load8_u (i32.const 510))))
      (call $num (i64.load (i32.const 516)))))`);

  test('an fd subscription waits until the pipe has data (not ready at once), before its clock', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cranewasm-wasi-poll-'));
    fs.writeFileSync(path.join(dir, 'poll.wasm'), poller());
    const script = (useNode) => `
      const { WASI } = require(${JSON.stringify(useNode ? 'node:wasi' : path.resolve(__dirname, '../wasi.js'))});
      const W = ${useNode ? 'WebAssembly' : `require(${JSON.stringify(path.resolve(__dirname, '..'))})`};
      const wasi = new WASI({ version: 'preview1' });
      const instance = new W.Instance(new W.Module(require('fs').readFileSync(${JSON.stringify(path.join(dir, 'poll.wasm'))})), wasi.getImportObject());
      process.stderr.write('R');
      const start = Date.now();
      wasi.start(instance);
      process.stdout.write(String(Date.now() - start >= 250 && Date.now() - start < 4500));`;
    const run = (useNode) => new Promise((resolve) => {
      const child = require('child_process').spawn(process.execPath, ['--no-warnings', '-e', script(useNode)], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => { out += d; });
      // 300 ms after the program starts polling (it writes R to stderr first), stdin gets data.
      child.stderr.once('data', () => setTimeout(() => child.stdin.write('abc'), 300));
      child.on('exit', (code) => { child.stdin.destroy(); resolve({ code, out }); });
    });
    const [ours, node] = await Promise.all([run(false), run(true)]);
    fs.rmSync(dir, { recursive: true, force: true });
    // One event: userdata 11, errno 0, type fd_read, 3 bytes ready; after the write, not at once.
    expect(ours).toEqual({ code: 0, out: '1 11 0 1 3 true' });
    // node:wasi (uvwasi) reports 0 for the bytes available on a pipe; cranewasm reports how many
    // there are (FIONREAD), as WASI's `nbytes` is defined and as Wasmtime does.
    expect({ ...ours, out: ours.out.replace('1 11 0 1 3 ', '1 11 0 1 0 ') }).toEqual(node);
  });
});

describe('cranewasm run of WASI commands', () => {
  const base = path.resolve(__dirname, '..', '..', 'shared', 'wasi-testsuite', 'tests');
  const cli = (...args) => spawnSync(process.execPath, [path.resolve(__dirname, '../bin/cranewasm.js'), 'run', ...args], { encoding: 'utf8' });
  const as = (name) => path.join(base, 'assemblyscript', 'testsuite', 'wasm32-wasip1', `${name}.wasm`);
  (fs.existsSync(base) ? test : test.skip)('output, exit status, arguments, environment and directories', () => {
    expect(cli(as('fd_write-to-stdout'))).toMatchObject({ status: 0, stdout: 'hello' });
    expect(cli(as('proc_exit-failure')).status).toBe(33);
    expect(cli(as('args_get-multiple-arguments'), '--', 'first', 'the "second" arg', '3').status).toBe(0);
    expect(cli(as('args_get-multiple-arguments'), '--', 'first', 'second', '3').status).not.toBe(0);
    expect(cli('--env', 'a=text', '--env', 'b=escap " ing', '--env', 'c=new\nline', as('environ_get-multiple-variables')).status).toBe(0);
    expect(cli('--env', 'a=other', '--env', 'b=escap " ing', '--env', 'c=new\nline', as('environ_get-multiple-variables')).status).not.toBe(0);
    const top = fs.mkdtempSync(path.join(os.tmpdir(), 'cranewasm-wasi-cli-'));
    const rust = path.join(base, 'rust', 'testsuite', 'wasm32-wasip1');
    fs.cpSync(path.join(rust, 'fs-tests.dir'), path.join(top, 'root'), { recursive: true });
    expect(cli('--dir', `${path.join(top, 'root')}::/`, path.join(rust, 'fd_readdir.wasm')).status).toBe(0);
    expect(cli(path.join(rust, 'fd_readdir.wasm')).status).not.toBe(0); // no directory given
    fs.rmSync(top, { recursive: true, force: true });
  });
  test('--dir and --env are refused for a module without WASI imports', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cranewasm-wasi-cli-')), 'm.wasm');
    fs.writeFileSync(file, wat('(module (func (export "_start")))'));
    const result = cli('--dir', '.', file);
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/imports no WASI functions/);
  });
});

describe('cranewasm/register', () => {
  test("require('node:wasi') and import from 'node:wasi' give cranewasm's WASI, which runs the program", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cranewasm-wasi-register-'));
    fs.writeFileSync(path.join(dir, 'echo.wasm'), echo());
    const register = path.resolve(__dirname, '../register.js');
    const body = (WASI) => `
      const bytes = require('fs').readFileSync(${JSON.stringify(path.join(dir, 'echo.wasm'))});
      const wasi = new ${WASI}({ version: 'preview1', args: ['p', 'q'], env: { K: 'v' } });
      const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), wasi.getImportObject());
      const code = wasi.start(instance);
      console.log('', code, ${WASI} === require(${JSON.stringify(path.resolve(__dirname, '../wasi.js'))}).WASI);`;
    fs.writeFileSync(path.join(dir, 'cjs.js'), body("(require('node:wasi').WASI)"));
    fs.writeFileSync(path.join(dir, 'esm.mjs'), `import { WASI } from 'node:wasi';\nimport { createRequire } from 'module';\nconst require = createRequire(import.meta.url);\n${body('WASI')}`);
    const plain = spawnSync(process.execPath, [path.join(dir, 'cjs.js')], { encoding: 'utf8' });
    const cjs = spawnSync(process.execPath, ['-r', register, path.join(dir, 'cjs.js')], { encoding: 'utf8' });
    const esm = spawnSync(process.execPath, ['-r', register, path.join(dir, 'esm.mjs')], { encoding: 'utf8' });
    fs.rmSync(dir, { recursive: true, force: true });
    // Node's own engine and node:wasi give the same output and code.
    expect(plain.stdout).toBe('p\0q\0K=v\0 41 false\n');
    expect(cjs).toMatchObject({ status: 0, stdout: 'p\0q\0K=v\0 41 true\n' });
    expect(esm).toMatchObject({ status: 0, stdout: 'p\0q\0K=v\0 41 true\n' });
    expect(cjs.stderr).toBe('');
  });
});

describe('wasi-testsuite (tools/wasi-testsuite.js)', () => {
  const base = path.resolve(__dirname, '..', '..', 'shared', 'wasi-testsuite');
  const suite = fs.existsSync(base) ? require('../tools/wasi-testsuite.js') : null;
  // Every preview1 test passes (72 of 72 when written; node:wasi passed 60 in the same run:
  // `npm run test:wasi-suite` prints both). A failure listed here would need its reason.
  const knownFailures = {};
  (suite ? test : test.skip)('every test passes on cranewasm/wasi', () => {
    const tests = suite.listTests(base);
    expect(tests.length).toBeGreaterThanOrEqual(72);
    const failures = tests
      .filter((t) => !(t.id in knownFailures))
      .map((t) => [t.id, suite.runTest(t, 'cranewasm')])
      .filter(([, r]) => !r.pass);
    expect(failures).toEqual([]);
  });
});

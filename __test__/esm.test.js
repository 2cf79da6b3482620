// ESM entry points: named exports of 'cranewasm' (every value index.d.ts declares), 'cranewasm/
// engine' and 'cranewasm/register', run in a child Node (jest itself loads CommonJS). The package
// imports itself by name, as a dependent would (package.json "exports").
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..');

/** The values (not types) the namespace of index.d.ts declares. */
function declaredValues() {
  const dts = fs.readFileSync(path.join(ROOT, 'index.d.ts'), 'utf8');
  const names = new Set();
  for (const m of dts.matchAll(/^ {2}(?:var|function) (\w+)/gm)) names.add(m[1]);
  return [...names].sort();
}

function runModule(source) {
  // Inside the package directory, so that the bare specifier 'cranewasm' is a self-reference.
  const dir = fs.mkdtempSync(path.join(ROOT, '__test__', '.esm-'));
  try {
    const file = path.join(dir, 'main.mjs');
    fs.writeFileSync(file, source);
    const result = spawnSync(process.execPath, [file], { encoding: 'utf8', env: { ...process.env } });
    if (result.status !== 0) throw new Error(`child failed (${result.status}): ${result.stderr}`);
    return JSON.parse(result.stdout);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('every value index.d.ts declares is a named export, the same object as require gives', () => {
  const names = declaredValues();
  expect(names).toEqual(expect.arrayContaining(['compile', 'Module', 'Instance', 'Memory', 'Table', 'Global',
    'validate', 'instantiate', 'compileStreaming', 'instantiateStreaming', 'CompileError', 'LinkError', 'RuntimeError']));
  const out = runModule(`
    import * as ns from 'cranewasm';
    import def, { compile, Module } from 'cranewasm';
    import { createRequire } from 'module';
    const require = createRequire(import.meta.url);
    const cjs = require('cranewasm');
    const names = ${JSON.stringify(names)};
    const m = await compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    console.log(JSON.stringify({
      missing: names.filter((n) => !(n in ns)),
      different: names.filter((n) => ns[n] !== cjs[n]),
      defaultIsNamespace: def === cjs,
      notNodes: names.filter((n) => ns[n] === globalThis.WebAssembly[n]),
      isModule: m instanceof Module && !(m instanceof globalThis.WebAssembly.Module),
    }));
  `);
  expect(out).toEqual({ missing: [], different: [], defaultIsNamespace: true, notNodes: [], isModule: true });
});

test("import 'cranewasm/register' installs the namespace; 'cranewasm/engine' has named exports", () => {
  const out = runModule(`
    const nodes = globalThis.WebAssembly;
    await import('cranewasm/register');
    const cw = await import('cranewasm');
    const { getCompileOptions, setCompileOptions, compileStatus, tierUp, Sandbox } = await import('cranewasm/engine');
    const mod = new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 4, 1, 2, 0, 11]));
    console.log(JSON.stringify({
      registered: globalThis.WebAssembly === cw.default && globalThis.WebAssembly !== nodes,
      original: globalThis[Symbol.for('cranewasm.originalWebAssembly')] === nodes,
      cranewasmModule: mod instanceof cw.Module,
      status: compileStatus(mod).functions,
      types: [getCompileOptions, setCompileOptions, tierUp, Sandbox].map((f) => typeof f),
    }));
  `);
  expect(out).toEqual({
    registered: true, original: true, cranewasmModule: true, status: 1, types: ['function', 'function', 'function', 'function'],
  });
});

// The prebuilt platform package that matches this machine, in the napi-rs layout
// (npm/<platform>/: `cranewasm-linux-x64-gnu` holds `cranewasm.linux-x64-gnu.node`), or null when
// no such package exists for it. Shared by binding.js (the loader) and scripts/build.js (the
// install script, which skips the build from source when the package is installed and loads).
'use strict';

const process = require('process');

/** Platforms with a package: the engine's signal handling is x86-64 Linux only for now. */
const TRIPLES = {
  'linux-x64-gnu': { platform: 'linux', arch: 'x64', libc: 'glibc' },
};

function isGlibc() {
  // Node's process report names the glibc version it runs against; musl builds have none.
  try {
    const report = process.report && process.report.getReport();
    return Boolean(report && report.header && report.header.glibcVersionRuntime);
  } catch {
    return false;
  }
}

function platformTriple() {
  for (const [triple, t] of Object.entries(TRIPLES)) {
    if (t.platform === process.platform && t.arch === process.arch && (t.libc !== 'glibc' || isGlibc())) {
      return triple;
    }
  }
  return null;
}

/** `{ name, file }` of the matching platform package (file: the .node inside it), or null. */
function platformPackage() {
  const triple = platformTriple();
  if (!triple) return null;
  return { triple, name: `cranewasm-${triple}`, file: `cranewasm.${triple}.node` };
}

module.exports = { TRIPLES, platformTriple, platformPackage };

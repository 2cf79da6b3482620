#!/bin/sh
# Builds the C and C++ exception-handling test programs of __test__/fixtures/eh/ (sources in
# __test__/fixtures/eh/src/) with Emscripten and -fwasm-exceptions. The outputs (.js glue + .wasm)
# are committed, so that tests and CI do not need Emscripten; rerun this after changing a source.
#
# Built with Debian 12's emscripten package, `apt-get install emscripten`:
#   emcc 3.1.6 (3.1.6~dfsg-5), clang 14.0.6, binaryen 108. It emits the legacy exception-handling
#   instructions (try/catch/catch_all/rethrow/delegate and throw, one tag __cpp_exception), which
#   is what -fwasm-exceptions produced before exnref, and what Node 20's V8 runs.
# Debian's emscripten finds acorn in /usr/share/nodejs (NODE_PATH below) when Node is not Debian's.
set -eu
cd "$(dirname "$0")/../__test__/fixtures/eh"
export NODE_PATH="${NODE_PATH:-/usr/share/nodejs}"
em++ --version | sed -n 1p

COMMON="-fwasm-exceptions -sMODULARIZE -sENVIRONMENT=node -sALLOW_MEMORY_GROWTH \
  -sEXPORTED_RUNTIME_METHODS=ccall,UTF8ToString -sINCOMING_MODULE_JS_API=wasmBinary,callHost,print,printErr"

# exprcalc: synchronous compilation (new WebAssembly.Module / new WebAssembly.Instance).
em++ -std=c++17 -O2 $COMMON -sWASM_ASYNC_COMPILATION=0 -sEXPORT_NAME=createExprcalc \
  src/exprcalc.cpp -o exprcalc.js
# The same program at -O0: no inlining, so many more try/delegate blocks and calls between them.
em++ -std=c++17 -O0 $COMMON -sWASM_ASYNC_COMPILATION=0 -sEXPORT_NAME=createExprcalc \
  src/exprcalc.cpp -o exprcalc-O0.js
# ledger: asynchronous WebAssembly.instantiate (the test hands it the bytes as wasmBinary; this
# Emscripten's own loader would try fetch() on a file path under Node 18+).
em++ -std=c++17 -O2 $COMMON -sEXPORT_NAME=createLedger src/ledger.cpp -o ledger.js

# jsonq (C): setjmp/longjmp as wasm exception handling (a __c_longjmp tag).
emcc -O2 -sSUPPORT_LONGJMP=wasm $COMMON -sWASM_ASYNC_COMPILATION=0 -sEXPORT_NAME=createJsonq \
  src/jsonq.c -o jsonq.js

# The same modules with the standard exception handling (try_table, throw_ref, exnref), which
# Emscripten 3.1.6 cannot emit: binaryen's --translate-to-exnref rewrites the legacy instructions
# (npm binaryen 132; a test hands these to the same glue as wasmBinary). Features listed are
# those the modules use, plus multivalue for the translation's (i32, exnref) blocks.
WASM_OPT="${WASM_OPT:-npx --yes -p binaryen@132.0.0 wasm-opt}"
for name in exprcalc ledger jsonq; do
  $WASM_OPT "$name.wasm" --mvp-features --enable-exception-handling --enable-reference-types \
    --enable-multivalue --enable-sign-ext --enable-mutable-globals --enable-bulk-memory \
    --enable-nontrapping-float-to-int --translate-to-exnref -o "$name-exnref.wasm"
done

ls -l *.js *.wasm

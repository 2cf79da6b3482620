;; Self-test of the spec harness (not part of the spec suite): every assertion whose line ends in
;; `;; FAIL` must fail on a correct engine, every other one must pass. __test__/spec-harness.test.js
;; runs it on Node's WebAssembly, so a harness that cannot tell right from wrong is caught.

(module
  (func (export "f32_canonical") (result f32) (f32.reinterpret_i32 (i32.const 0x7fc00000)))
  (func (export "f32_neg_canonical") (result f32) (f32.reinterpret_i32 (i32.const 0xffc00000)))
  (func (export "f32_arithmetic") (result f32) (f32.reinterpret_i32 (i32.const 0x7fc00001)))
  (func (export "f32_signaling") (result f32) (f32.reinterpret_i32 (i32.const 0x7f800001)))
  (func (export "f32_neg_zero") (result f32) (f32.const -0))
  (func (export "f64_canonical") (result f64) (f64.reinterpret_i64 (i64.const 0x7ff8000000000000)))
  (func (export "f64_arithmetic") (result f64) (f64.reinterpret_i64 (i64.const 0x7ff8000000000001)))
  (func (export "f64_signaling") (result f64) (f64.reinterpret_i64 (i64.const 0x7ff0000000000001)))
  (func (export "f32_bits") (param f32) (result i32) (i32.reinterpret_f32 (local.get 0)))
  (func (export "f64_bits") (param f64) (result i64) (i64.reinterpret_f64 (local.get 0)))
  (func (export "f32_id") (param f32) (result f32) (local.get 0))
  (func (export "i32_i64_f32") (result i32 i64 f32) (i32.const 1) (i64.const -2) (f32.const nan:0x400000))
  (func (export "i32_f64") (result i32 f64) (i32.const 7) (f64.const -0.5))
  (func (export "i64_min") (result i64) (i64.const 0x8000000000000000))
  (func (export "v128_bytes") (result v128) (v128.const i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 -1))
  (func (export "v128_f32x4") (result v128)
    (v128.const i32x4 0x7fc00000 0x7fc00001 0x3f800000 0x80000000))
  (func (export "v128_f64x2") (result v128) (v128.const i64x2 0x7ff8000000000000 0x0000000000000001))
  (func (export "v128_add") (param v128 v128) (result v128) (i32x4.add (local.get 0) (local.get 1)))
  (func (export "unreachable") (unreachable))
  (func (export "nothing"))
  (func $recurse (export "recurse") (call $recurse))
  (func (export "extern_id") (param externref) (result externref) (local.get 0))
  (func (export "func_null") (result funcref) (ref.null func))
  (func $g (export "func_some") (result funcref) (ref.func $g))
  (global (export "g_i32") i32 (i32.const 42))
  (global (export "g_nan") f32 (f32.const nan:0x400000))
  (global (export "g_mut_nan") (mut f64) (f64.const nan:0x8000000000001))
)

;; NaN patterns, checked inside wasm.
(assert_return (invoke "f32_canonical") (f32.const nan:canonical))
(assert_return (invoke "f32_neg_canonical") (f32.const nan:canonical))
(assert_return (invoke "f32_canonical") (f32.const nan:arithmetic))
(assert_return (invoke "f32_arithmetic") (f32.const nan:canonical)) ;; FAIL
(assert_return (invoke "f32_arithmetic") (f32.const nan:arithmetic))
(assert_return (invoke "f32_signaling") (f32.const nan:arithmetic)) ;; FAIL
(assert_return (invoke "f32_arithmetic") (f32.const nan:0x400001))
(assert_return (invoke "f32_arithmetic") (f32.const nan:0x400002)) ;; FAIL
(assert_return (invoke "f32_arithmetic") (f32.const -nan:0x400001)) ;; FAIL
(assert_return (invoke "f64_canonical") (f64.const nan:canonical))
(assert_return (invoke "f64_arithmetic") (f64.const nan:canonical)) ;; FAIL
(assert_return (invoke "f64_arithmetic") (f64.const nan:arithmetic))
(assert_return (invoke "f64_signaling") (f64.const nan:arithmetic)) ;; FAIL
;; A NaN argument keeps its payload (only inside wasm).
(assert_return (invoke "f32_bits" (f32.const nan:0x1)) (i32.const 0x7f800001))
(assert_return (invoke "f32_bits" (f32.const -nan:0x1)) (i32.const 0x7f800001)) ;; FAIL
(assert_return (invoke "f64_bits" (f64.const nan:0x1)) (i64.const 0x7ff0000000000001))
(assert_return (invoke "f32_id" (f32.const nan:0x1)) (f32.const nan:0x1))
(assert_return (invoke "f32_id" (f32.const nan:0x1)) (f32.const nan:0x2)) ;; FAIL
;; Signed zeros and exact values, checked in JS.
(assert_return (invoke "f32_neg_zero") (f32.const -0))
(assert_return (invoke "f32_neg_zero") (f32.const 0)) ;; FAIL
(assert_return (invoke "f32_id" (f32.const 0x1p-149)) (f32.const 0x1p-149))
(assert_return (invoke "f32_id" (f32.const 0x1p-149)) (f32.const 0x1p-148)) ;; FAIL
(assert_return (invoke "i64_min") (i64.const -0x8000000000000000))
(assert_return (invoke "i64_min") (i64.const 0x7fffffffffffffff)) ;; FAIL
;; Multiple results: JS (array) and wasm (a NaN among them).
(assert_return (invoke "i32_f64") (i32.const 7) (f64.const -0.5))
(assert_return (invoke "i32_f64") (i32.const 7) (f64.const 0.5)) ;; FAIL
(assert_return (invoke "i32_i64_f32") (i32.const 1) (i64.const -2) (f32.const nan:canonical))
(assert_return (invoke "i32_i64_f32") (i32.const 1) (i64.const 2) (f32.const nan:canonical)) ;; FAIL
(assert_return (invoke "i32_i64_f32") (i32.const 1) (i64.const -2) (f32.const 0)) ;; FAIL
;; v128, lane by lane in the shape of the expectation.
(assert_return (invoke "v128_bytes") (v128.const i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 -1))
(assert_return (invoke "v128_bytes") (v128.const i16x8 0x100 0x302 0x504 0x706 0x908 0xb0a 0xd0c 0xff0e))
(assert_return (invoke "v128_bytes") (v128.const i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)) ;; FAIL
(assert_return (invoke "v128_bytes") (v128.const i8x16 1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 -1)) ;; FAIL
(assert_return (invoke "v128_f32x4") (v128.const f32x4 nan:canonical nan:arithmetic 1 -0))
(assert_return (invoke "v128_f32x4") (v128.const f32x4 nan:canonical nan:canonical 1 -0)) ;; FAIL
(assert_return (invoke "v128_f32x4") (v128.const f32x4 nan:canonical nan:arithmetic 1 0)) ;; FAIL
(assert_return (invoke "v128_f64x2") (v128.const f64x2 nan:canonical 0x0.0000000000001p-1022))
(assert_return (invoke "v128_f64x2") (v128.const f64x2 nan:canonical 0)) ;; FAIL
(assert_return (invoke "v128_add" (v128.const i32x4 1 2 3 4) (v128.const i32x4 -1 -1 -1 -1)) (v128.const i32x4 0 1 2 3))
(assert_return (invoke "v128_add" (v128.const i32x4 1 2 3 4) (v128.const i32x4 -1 -1 -1 -1)) (v128.const i32x4 0 1 2 4)) ;; FAIL
(invoke "v128_add" (v128.const i32x4 1 2 3 4) (v128.const i32x4 -1 -1 -1 -1))
;; Traps, exhaustion, plain actions.
(assert_trap (invoke "unreachable") "unreachable")
(assert_trap (invoke "nothing") "unreachable") ;; FAIL
(assert_trap (invoke "v128_add" (v128.const i32x4 0 0 0 0) (v128.const i32x4 0 0 0 0)) "no trap") ;; FAIL
(assert_exhaustion (invoke "recurse") "call stack exhausted")
(assert_exhaustion (invoke "nothing") "call stack exhausted") ;; FAIL
(invoke "nothing")
(invoke "unreachable") ;; FAIL
;; References.
(assert_return (invoke "extern_id" (ref.extern 1)) (ref.extern 1))
(assert_return (invoke "extern_id" (ref.extern 1)) (ref.extern 2)) ;; FAIL
(assert_return (invoke "extern_id" (ref.null extern)) (ref.null extern))
(assert_return (invoke "extern_id" (ref.extern 1)) (ref.null extern)) ;; FAIL
(assert_return (invoke "func_null") (ref.null func))
(assert_return (invoke "func_some") (ref.func))
(assert_return (invoke "func_null") (ref.func)) ;; FAIL
;; Globals, in JS and (NaN) inside wasm, including a mutable one.
(assert_return (get "g_i32") (i32.const 42))
(assert_return (get "g_i32") (i32.const 43)) ;; FAIL
(assert_return (get "g_nan") (f32.const nan:canonical))
(assert_return (get "g_nan") (f32.const nan:0x400001)) ;; FAIL
(assert_return (get "g_mut_nan") (f64.const nan:arithmetic))
(assert_return (get "g_mut_nan") (f64.const nan:canonical)) ;; FAIL

;; Module assertions.
(assert_invalid (module (func (result i32))) "type mismatch")
(assert_invalid (module (func)) "valid module") ;; FAIL
(assert_malformed (module binary "\00asm\01\00\00\00\00") "unexpected end")
(assert_malformed (module binary "\00asm\01\00\00\00") "valid module") ;; FAIL
(assert_malformed (module quote "(func") "text format: skipped")
(assert_unlinkable (module (import "spectest" "nonexistent" (func))) "unknown import")
(assert_unlinkable (module (import "nonexistent" "f" (func))) "unknown import module")
(assert_unlinkable (module (import "spectest" "print_i32" (func (param i32)))) "links") ;; FAIL
(assert_unlinkable (module (import "spectest" "global_i32" (global i64))) "incompatible import type")
(assert_trap (module (func $start unreachable) (start $start)) "unreachable")
(assert_trap (module (func $start) (start $start)) "instantiates") ;; FAIL

;; The spectest host module, registration and named modules.
(module $M
  (import "spectest" "global_i32" (global $g i32))
  (import "spectest" "memory" (memory 1))
  (import "spectest" "table" (table 10 funcref))
  (import "spectest" "print_i32" (func $print (param i32)))
  (func (export "get") (result i32) (call $print (global.get $g)) (global.get $g))
  (func (export "size") (result i32) (memory.size))
)
(register "M" $M)
(module $N (import "M" "get" (func $get (result i32))) (func (export "get") (result i32) (call $get)))
(assert_return (invoke $M "get") (i32.const 666))
(assert_return (invoke $N "get") (i32.const 666))
(assert_return (invoke $M "size") (i32.const 1))
(assert_return (invoke $N "get") (i32.const 667)) ;; FAIL
(module (import "M" "missing" (func))) ;; FAIL
(assert_return (invoke "anything") (i32.const 0)) ;; FAIL

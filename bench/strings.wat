;; The JS String Builtins kernel of `npm run bench` (bench/index.js): a string hash that calls
;; "wasm:js-string" "charCodeAt" once per code unit. cranewasm compiles it with
;; { builtins: ['js-string'] }; Node 20 has no builtins, and runs it with the same functions
;; written in JS (the spec's polyfill) as its import object.
(module
  (import "wasm:js-string" "length" (func $length (param externref) (result i32)))
  (import "wasm:js-string" "charCodeAt" (func $charCodeAt (param externref i32) (result i32)))
  (func (export "hash") (param $s externref) (result i32)
    (local $i i32) (local $h i32) (local $n i32)
    (local.set $n (call $length (local.get $s)))
    (if (i32.eqz (local.get $n)) (then (return (i32.const 0))))
    (loop $next
      (local.set $h
        (i32.add
          (i32.mul (local.get $h) (i32.const 31))
          (call $charCodeAt (local.get $s) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $h)))

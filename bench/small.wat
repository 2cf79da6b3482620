;; The "small module" instantiated by `npm run bench`: a memory, a table, globals, a few
;; functions and segments — what a tiny real module declares.
(module
  (import "env" "log" (func $log (param i32)))
  (memory (export "memory") 1)
  (table (export "table") 4 funcref)
  (global $counter (mut i32) (i32.const 0))
  (global (export "answer") i32 (i32.const 42))
  (func $inc (export "inc") (result i32)
    (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
    (global.get $counter))
  (func $add (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func $store (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func $report (export "report") (call $log (global.get $counter)))
  (elem (i32.const 0) $inc $add $store $report)
  (data (i32.const 16) "hello, world"))

;; Benchmark kernels for `npm run bench` (bench/index.js). Regenerate kernels.wasm with
;; `npx wat2wasm bench/kernels.wat -o bench/kernels.wasm` (wabt, a dev dependency).
(module
  (import "env" "f" (func $f))
  (memory (export "memory") 256)

  ;; Boundary costs.
  (func (export "nop"))
  (func (export "call_import") (param $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (call $f)
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next))))

  ;; Integer: total Collatz steps of 1..n (64-bit arithmetic, unpredictable branches).
  (func (export "collatz") (param $n i32) (result i64)
    (local $i i32) (local $x i64) (local $steps i64)
    (local.set $i (i32.const 1))
    (block $done
      (loop $outer
        (br_if $done (i32.gt_u (local.get $i) (local.get $n)))
        (local.set $x (i64.extend_i32_u (local.get $i)))
        (block $one
          (loop $inner
            (br_if $one (i64.le_u (local.get $x) (i64.const 1)))
            (if (i64.eqz (i64.and (local.get $x) (i64.const 1)))
              (then (local.set $x (i64.shr_u (local.get $x) (i64.const 1))))
              (else (local.set $x (i64.add (i64.mul (local.get $x) (i64.const 3)) (i64.const 1)))))
            (local.set $steps (i64.add (local.get $steps) (i64.const 1)))
            (br $inner)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $outer)))
    (local.get $steps))

  ;; Floating point: points of a size x size grid inside the Mandelbrot set (at most 200 iterations).
  (func (export "mandelbrot") (param $size i32) (result i32)
    (local $px i32) (local $py i32) (local $k i32) (local $count i32)
    (local $cr f64) (local $ci f64) (local $zr f64) (local $zi f64) (local $t f64)
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $py) (local.get $size)))
        (local.set $ci (f64.sub (f64.div (f64.mul (f64.convert_i32_u (local.get $py)) (f64.const 2.5))
                                         (f64.convert_i32_u (local.get $size))) (f64.const 1.25)))
        (local.set $px (i32.const 0))
        (block $cols_done
          (loop $cols
            (br_if $cols_done (i32.ge_u (local.get $px) (local.get $size)))
            (local.set $cr (f64.sub (f64.div (f64.mul (f64.convert_i32_u (local.get $px)) (f64.const 3.0))
                                             (f64.convert_i32_u (local.get $size))) (f64.const 2.0)))
            (local.set $zr (f64.const 0)) (local.set $zi (f64.const 0)) (local.set $k (i32.const 0))
            (block $escaped
              (loop $iter
                (br_if $escaped (f64.gt (f64.add (f64.mul (local.get $zr) (local.get $zr))
                                                 (f64.mul (local.get $zi) (local.get $zi))) (f64.const 4)))
                (br_if $escaped (i32.ge_u (local.get $k) (i32.const 200)))
                (local.set $t (f64.add (f64.sub (f64.mul (local.get $zr) (local.get $zr))
                                                (f64.mul (local.get $zi) (local.get $zi))) (local.get $cr)))
                (local.set $zi (f64.add (f64.mul (f64.mul (f64.const 2) (local.get $zr)) (local.get $zi)) (local.get $ci)))
                (local.set $zr (local.get $t))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (br $iter)))
            (if (i32.ge_u (local.get $k) (i32.const 200))
              (then (local.set $count (i32.add (local.get $count) (i32.const 1)))))
            (local.set $px (i32.add (local.get $px) (i32.const 1)))
            (br $cols)))
        (local.set $py (i32.add (local.get $py) (i32.const 1)))
        (br $rows)))
    (local.get $count))

  ;; Memory-bound: sieve of Eratosthenes over n bytes of linear memory; returns the prime count.
  (func (export "sieve") (param $n i32) (result i32)
    (local $i i32) (local $j i32) (local $count i32)
    (memory.fill (i32.const 0) (i32.const 1) (local.get $n))
    (local.set $i (i32.const 2))
    (block $done
      (loop $outer
        (br_if $done (i32.gt_u (i32.mul (local.get $i) (local.get $i)) (local.get $n)))
        (if (i32.load8_u (local.get $i))
          (then
            (local.set $j (i32.mul (local.get $i) (local.get $i)))
            (block $marked
              (loop $mark
                (br_if $marked (i32.ge_u (local.get $j) (local.get $n)))
                (i32.store8 (local.get $j) (i32.const 0))
                (local.set $j (i32.add (local.get $j) (local.get $i)))
                (br $mark)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $outer)))
    (local.set $i (i32.const 2))
    (block $counted
      (loop $count_loop
        (br_if $counted (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $count (i32.add (local.get $count) (i32.load8_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $count_loop)))
    (local.get $count))

  ;; Memory-bound: sums n i32s with a stride walk (cache-unfriendly reads).
  (func (export "strided_sum") (param $n i32) (param $stride i32) (result i32)
    (local $i i32) (local $k i32) (local $sum i32) (local $addr i32)
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
        (local.set $addr (i32.and (i32.mul (local.get $k) (local.get $stride)) (i32.const 0xfffffc)))
        (local.set $sum (i32.add (local.get $sum) (i32.load (local.get $addr))))
        (i32.store (local.get $addr) (local.get $sum))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $loop)))
    (local.get $sum))

  ;; Call-heavy: naive recursive Fibonacci.
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1)))
                     (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
)

;; SIMD kernels of `npm run bench`, assembled into simd.wasm with
;; `npx wat2wasm bench/simd.wat -o bench/simd.wasm` (wabt, a dev dependency).
;; Each works on memory the module fills itself (`fill_bytes`, `fill_floats`: a deterministic
;; generator), so both engines see the same data; results are checksums both must agree on.
(module
  (memory (export "memory") 256) ;; 16 MiB

  ;; An LCG: state * 1103515245 + 12345, the byte is bits 16..23.
  (func $next (param $state i32) (result i32)
    (i32.add (i32.mul (local.get $state) (i32.const 1103515245)) (i32.const 12345)))

  ;; Fills n bytes at ptr from seed.
  (func (export "fill_bytes") (param $ptr i32) (param $n i32) (param $seed i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $ptr) (local.get $n)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (local.set $seed (call $next (local.get $seed)))
        (i32.store8 (local.get $ptr) (i32.shr_u (local.get $seed) (i32.const 16)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 1)))
        (br $l))))

  ;; Fills n f32s at ptr with values in [-1, 1) from seed.
  (func (export "fill_floats") (param $ptr i32) (param $n i32) (param $seed i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $ptr) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (local.set $seed (call $next (local.get $seed)))
        (f32.store (local.get $ptr)
          (f32.sub
            (f32.mul (f32.convert_i32_u (i32.shr_u (local.get $seed) (i32.const 16))) (f32.const 0x1p-15))
            (f32.const 1)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 4)))
        (br $l))))

  ;; The dot product of n f32s (n a multiple of 16) at a and b, in four f32x4 accumulators.
  (func (export "dot") (param $a i32) (param $b i32) (param $n i32) (result f64)
    (local $end i32) (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b)))))
        (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (v128.load offset=16 (local.get $a)) (v128.load offset=16 (local.get $b)))))
        (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul (v128.load offset=32 (local.get $a)) (v128.load offset=32 (local.get $b)))))
        (local.set $s3 (f32x4.add (local.get $s3) (f32x4.mul (v128.load offset=48 (local.get $a)) (v128.load offset=48 (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (i32.const 64)))
        (local.set $b (i32.add (local.get $b) (i32.const 64)))
        (br $l)))
    (local.set $s0 (f32x4.add (f32x4.add (local.get $s0) (local.get $s1)) (f32x4.add (local.get $s2) (local.get $s3))))
    (f64.promote_f32
      (f32.add
        (f32.add (f32x4.extract_lane 0 (local.get $s0)) (f32x4.extract_lane 1 (local.get $s0)))
        (f32.add (f32x4.extract_lane 2 (local.get $s0)) (f32x4.extract_lane 3 (local.get $s0))))))

  ;; Alpha blend of n bytes (n a multiple of 16): out = (a * alpha + b * (256 - alpha)) >> 8.
  (func (export "blend") (param $a i32) (param $b i32) (param $out i32) (param $n i32) (param $alpha i32)
    (local $end i32) (local $wa v128) (local $wb v128) (local $va v128) (local $vb v128)
    (local.set $wa (i16x8.splat (local.get $alpha)))
    (local.set $wb (i16x8.splat (i32.sub (i32.const 256) (local.get $alpha))))
    (local.set $end (i32.add (local.get $a) (local.get $n)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $va (v128.load (local.get $a)))
        (local.set $vb (v128.load (local.get $b)))
        (v128.store (local.get $out)
          (i8x16.narrow_i16x8_u
            (i16x8.shr_u
              (i16x8.add
                (i16x8.mul (i16x8.extend_low_i8x16_u (local.get $va)) (local.get $wa))
                (i16x8.mul (i16x8.extend_low_i8x16_u (local.get $vb)) (local.get $wb)))
              (i32.const 8))
            (i16x8.shr_u
              (i16x8.add
                (i16x8.mul (i16x8.extend_high_i8x16_u (local.get $va)) (local.get $wa))
                (i16x8.mul (i16x8.extend_high_i8x16_u (local.get $vb)) (local.get $wb)))
              (i32.const 8))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $l))))

  ;; The sums of 3x3 neighbourhoods of one 8-pixel run, times 3641 / 32768 (about / 9), as
  ;; i16x8: `p` points to the pixel left of the run, in a row of `w` bytes.
  (func $box8 (param $p i32) (param $w i32) (result v128)
    (local $sum v128) (local $row i32) (local $i i32)
    (local.set $row (i32.sub (local.get $p) (local.get $w)))
    (loop $rows
      (local.set $sum
        (i16x8.add (local.get $sum)
          (i16x8.add
            (i16x8.add
              (i16x8.extend_low_i8x16_u (v128.load (local.get $row)))
              (i16x8.extend_low_i8x16_u (v128.load offset=1 (local.get $row))))
            (i16x8.extend_low_i8x16_u (v128.load offset=2 (local.get $row))))))
      (local.set $row (i32.add (local.get $row) (local.get $w)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $rows (i32.lt_u (local.get $i) (i32.const 3))))
    (i16x8.q15mulr_sat_s (local.get $sum) (i16x8.splat (i32.const 3641))))

  ;; A 3x3 box blur of a w x h byte image at src into dst (w a multiple of 16; the border and
  ;; the last 16 columns are left as they are).
  (func (export "blur") (param $src i32) (param $dst i32) (param $w i32) (param $h i32)
    (local $y i32) (local $x i32) (local $p i32)
    (local.set $y (i32.const 1))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $y) (i32.sub (local.get $h) (i32.const 1))))
        (local.set $x (i32.const 0))
        (block $cols_done
          (loop $cols
            (br_if $cols_done (i32.ge_u (local.get $x) (i32.sub (local.get $w) (i32.const 16))))
            (local.set $p (i32.add (local.get $src) (i32.add (i32.mul (local.get $y) (local.get $w)) (local.get $x))))
            (v128.store offset=1
              (i32.add (local.get $dst) (i32.add (i32.mul (local.get $y) (local.get $w)) (local.get $x)))
              (i8x16.narrow_i16x8_u
                (call $box8 (local.get $p) (local.get $w))
                (call $box8 (i32.add (local.get $p) (i32.const 8)) (local.get $w))))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (br $cols)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $rows))))

  ;; The sum of n bytes at ptr, with i32x4 lanes, as a checksum.
  (func (export "checksum") (param $ptr i32) (param $n i32) (result i32)
    (local $end i32) (local $acc v128)
    (local.set $end (i32.add (local.get $ptr) (local.get $n)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (local.set $acc (i32x4.add (local.get $acc)
          (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u (v128.load (local.get $ptr))))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 16)))
        (br $l)))
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
      (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc)))))
)

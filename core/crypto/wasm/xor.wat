;; XOR kernels for XTS and CBC decryption on 128-bit SIMD (core/crypto/wasm/xor-kernel.ts).
;;
;; Source of the bytes in xor-wasm.ts (generated, committed so builds need no wabt).
;; Regenerate after editing, from the repository root:
;;   wat2wasm core/crypto/wasm/xor.wat -o /tmp/xor.wasm   (wabt >= 1.0.25; older releases
;;                                                        need --enable-simd, newer reject it)
;;   then paste `base64 -w0 /tmp/xor.wasm` into XOR_WASM_BASE64 in xor-wasm.ts.
;;
;; All pointers are byte offsets into the exported memory; lengths are multiples of 16.
;; Tweaks and data are little-endian 128-bit values (IEEE 1619 §5.2), as on the host.
(module
  (memory (export "mem") 1)

  ;; dst[block] = src[block] xor T, for `units` units of `unitBytes` bytes. Unit u starts
  ;; from the 16-byte tweak at tw + 16u; T is multiplied by alpha (doubling in GF(2^128),
  ;; reduction polynomial x^128 + x^7 + x^2 + x + 1, carry 0x87) after every block:
  ;; both 64-bit halves shift left by one, the low half's top bit moves into the high half
  ;; and the high half's top bit folds back into the low half as 0x87 (the top bits become
  ;; masks by an arithmetic shift of the 32-bit lanes, then swap halves with one shuffle). Four units run side
  ;; by side so their doubling chains overlap (each chain alone is latency-bound); the
  ;; remaining units go one at a time. dst may equal src.
  (func (export "xts_xor")
    (param $dst i32) (param $src i32) (param $tw i32) (param $units i32) (param $ub i32)
    (local $delta i32) (local $end i32) (local $twEnd i32) (local $twEnd4 i32) (local $red v128)
    (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $s3 i32)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $red (v128.const i64x2 0x87 1))
    (local.set $delta (i32.sub (local.get $dst) (local.get $src)))
    (local.set $twEnd (i32.add (local.get $tw) (i32.shl (local.get $units) (i32.const 4))))
    (local.set $twEnd4
      (i32.add (local.get $tw) (i32.shl (i32.and (local.get $units) (i32.const -4)) (i32.const 4))))
    (local.set $s0 (local.get $src))
    (block $done4
      (loop $group
        (br_if $done4 (i32.ge_u (local.get $tw) (local.get $twEnd4)))
        (local.set $t0 (v128.load offset=0 (local.get $tw)))
        (local.set $t1 (v128.load offset=16 (local.get $tw)))
        (local.set $t2 (v128.load offset=32 (local.get $tw)))
        (local.set $t3 (v128.load offset=48 (local.get $tw)))
        (local.set $s1 (i32.add (local.get $s0) (local.get $ub)))
        (local.set $s2 (i32.add (local.get $s1) (local.get $ub)))
        (local.set $s3 (i32.add (local.get $s2) (local.get $ub)))
        (local.set $end (local.get $s1))
        (loop $block4
          (v128.store (i32.add (local.get $s0) (local.get $delta))
            (v128.xor (v128.load (local.get $s0)) (local.get $t0)))
          (local.set $t0
            (v128.xor
              (i64x2.shl (local.get $t0) (i32.const 1))
              (v128.and
                (i8x16.shuffle 12 13 14 15 12 13 14 15 4 5 6 7 4 5 6 7
                  (i32x4.shr_s (local.get $t0) (i32.const 31))
                  (local.get $t0))
                (local.get $red))))
          (local.set $s0 (i32.add (local.get $s0) (i32.const 16)))
          (v128.store (i32.add (local.get $s1) (local.get $delta))
            (v128.xor (v128.load (local.get $s1)) (local.get $t1)))
          (local.set $t1
            (v128.xor
              (i64x2.shl (local.get $t1) (i32.const 1))
              (v128.and
                (i8x16.shuffle 12 13 14 15 12 13 14 15 4 5 6 7 4 5 6 7
                  (i32x4.shr_s (local.get $t1) (i32.const 31))
                  (local.get $t1))
                (local.get $red))))
          (local.set $s1 (i32.add (local.get $s1) (i32.const 16)))
          (v128.store (i32.add (local.get $s2) (local.get $delta))
            (v128.xor (v128.load (local.get $s2)) (local.get $t2)))
          (local.set $t2
            (v128.xor
              (i64x2.shl (local.get $t2) (i32.const 1))
              (v128.and
                (i8x16.shuffle 12 13 14 15 12 13 14 15 4 5 6 7 4 5 6 7
                  (i32x4.shr_s (local.get $t2) (i32.const 31))
                  (local.get $t2))
                (local.get $red))))
          (local.set $s2 (i32.add (local.get $s2) (i32.const 16)))
          (v128.store (i32.add (local.get $s3) (local.get $delta))
            (v128.xor (v128.load (local.get $s3)) (local.get $t3)))
          (local.set $t3
            (v128.xor
              (i64x2.shl (local.get $t3) (i32.const 1))
              (v128.and
                (i8x16.shuffle 12 13 14 15 12 13 14 15 4 5 6 7 4 5 6 7
                  (i32x4.shr_s (local.get $t3) (i32.const 31))
                  (local.get $t3))
                (local.get $red))))
          (local.set $s3 (i32.add (local.get $s3) (i32.const 16)))
          (br_if $block4 (i32.lt_u (local.get $s0) (local.get $end))))
        ;; s3 now points just past the group's last unit
        (local.set $s0 (local.get $s3))
        (local.set $tw (i32.add (local.get $tw) (i32.const 64)))
        (br $group)))
    (block $done
      (loop $unit
        (br_if $done (i32.ge_u (local.get $tw) (local.get $twEnd)))
        (local.set $t0 (v128.load (local.get $tw)))
        (local.set $end (i32.add (local.get $s0) (local.get $ub)))
        (loop $block
          (v128.store (i32.add (local.get $s0) (local.get $delta))
            (v128.xor (v128.load (local.get $s0)) (local.get $t0)))
          (local.set $t0
            (v128.xor
              (i64x2.shl (local.get $t0) (i32.const 1))
              (v128.and
                (i8x16.shuffle 12 13 14 15 12 13 14 15 4 5 6 7 4 5 6 7
                  (i32x4.shr_s (local.get $t0) (i32.const 31))
                  (local.get $t0))
                (local.get $red))))
          (local.set $s0 (i32.add (local.get $s0) (i32.const 16)))
          (br_if $block (i32.lt_u (local.get $s0) (local.get $end))))
        (local.set $tw (i32.add (local.get $tw) (i32.const 16)))
        (br $unit))))

  ;; CBC decryption's chaining step over `units` independent chains of `unitBytes` bytes:
  ;; dst holds the ECB-decrypted blocks, prev the ciphertext. Block 0 of unit u is XORed with
  ;; the IV at iv + 16u, every later block with the previous ciphertext block. dst != prev.
  (func (export "cbc_xor")
    (param $dst i32) (param $prev i32) (param $iv i32) (param $units i32) (param $ub i32)
    (local $end i32) (local $ivEnd i32)
    (local.set $ivEnd (i32.add (local.get $iv) (i32.shl (local.get $units) (i32.const 4))))
    (block $done
      (loop $unit
        (br_if $done (i32.ge_u (local.get $iv) (local.get $ivEnd)))
        (v128.store (local.get $dst)
          (v128.xor (v128.load (local.get $dst)) (v128.load (local.get $iv))))
        (local.set $end (i32.add (local.get $dst) (local.get $ub)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (block $last
          (loop $block
            (br_if $last (i32.ge_u (local.get $dst) (local.get $end)))
            (v128.store (local.get $dst)
              (v128.xor (v128.load (local.get $dst)) (v128.load (local.get $prev))))
            (local.set $prev (i32.add (local.get $prev) (i32.const 16)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
            (br $block)))
        ;; skip the unit's last ciphertext block: it chains nothing
        (local.set $prev (i32.add (local.get $prev) (i32.const 16)))
        (local.set $iv (i32.add (local.get $iv) (i32.const 16)))
        (br $unit)))))

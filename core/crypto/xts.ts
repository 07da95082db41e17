/**
 * XTS-AES (IEEE 1619) built on whole-buffer AES-ECB (docs/DESIGN.md constraint 3): all unit
 * tweaks in one ECB call with the tweak key; the GF(2^128) doubling chain in JS on
 * `Int32Array` (values stay small integers in V8) fused with the first XOR; one ECB call over
 * the buffer; XOR again. Units are whole multiples of 16 bytes (no ciphertext stealing —
 * disk sectors never need it). Key order as IEEE 1619 / dm-crypt: first half data key,
 * second half tweak key (docs/spec/luks1.md §4).
 */
import type { AesBlockCipher } from './provider.js';

/** An `Int32Array` over `u8` when 4-byte aligned, else undefined. */
export function int32View(u8: Uint8Array): Int32Array | undefined {
  if (u8.byteOffset % 4 !== 0 || u8.length % 4 !== 0) return undefined;
  return new Int32Array(u8.buffer, u8.byteOffset, u8.length >> 2);
}

/** Like {@link int32View} but copies unaligned input into a fresh aligned array. */
export function int32Of(u8: Uint8Array): Int32Array {
  return int32View(u8) ?? new Int32Array(Uint8Array.from(u8).buffer);
}

/**
 * XORs the tweak chain into `d`: for unit u (of `unitWords` 32-bit words) block j gets
 * `E_K2(iv_u) · α^j`, α-multiplication on little-endian 128-bit values (IEEE 1619 §5.2).
 * With `src` given, computes `d = src ⊕ tweak` instead of `d ^= tweak`. The chain is
 * recomputed rather than stored: a few register operations per block are cheaper than
 * writing and re-reading a tweak buffer as large as the data.
 */
function xorTweaks(d: Int32Array, src: Int32Array, t0s: Int32Array, unitWords: number): void {
  const units = d.length / unitWords;
  for (let u = 0; u < units; u++) {
    let a = t0s[4 * u] as number;
    let b = t0s[4 * u + 1] as number;
    let c = t0s[4 * u + 2] as number;
    let e = t0s[4 * u + 3] as number;
    const end = (u + 1) * unitWords;
    for (let i = u * unitWords; i < end; i += 4) {
      d[i] = (src[i] as number) ^ a;
      d[i + 1] = (src[i + 1] as number) ^ b;
      d[i + 2] = (src[i + 2] as number) ^ c;
      d[i + 3] = (src[i + 3] as number) ^ e;
      const carry = (e >> 31) & 0x87;
      e = (e << 1) | (c >>> 31);
      c = (c << 1) | (b >>> 31);
      b = (b << 1) | (a >>> 31);
      a = (a << 1) ^ carry;
    }
  }
}

/**
 * XTS-encrypts (or decrypts) `data` in place as units of `unitSize` bytes; unit k's tweak
 * input is the 16-byte IV at `ivs[16k]`. `data` must be 4-byte aligned (callers copy
 * otherwise).
 */
export function xtsProcess(
  dataCipher: AesBlockCipher,
  tweakCipher: AesBlockCipher,
  data: Uint8Array,
  unitSize: number,
  ivs: Uint8Array,
  decrypt: boolean
): void {
  const d = int32View(data);
  if (!d) throw new RangeError('xtsProcess needs 4-byte aligned data');
  const units = data.length / unitSize;
  const t0s = int32Of(tweakCipher.encryptBlocks(ivs.subarray(0, units * 16)));
  const unitWords = unitSize >> 2;
  xorTweaks(d, d, t0s, unitWords);
  const out = int32Of(decrypt ? dataCipher.decryptBlocks(data) : dataCipher.encryptBlocks(data));
  xorTweaks(d, out, t0s, unitWords);
}

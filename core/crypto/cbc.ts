/**
 * Per-sector AES-CBC (docs/spec/luks1.md §4: each unit is its own chain starting from its IV;
 * docs/spec/legacy-aes.md §1). Decryption is one ECB-decrypt over the whole buffer, then an XOR
 * with the ciphertext shifted by one block (docs/DESIGN.md constraint 3); encryption is sequential
 * within a chain, so it batches across chains instead.
 */
import type { AesBlockCipher } from './provider.js';
import { int32Of, int32View } from './xts.js';

/**
 * CBC-encrypts `data` in place, unit k chained from the IV at `ivs[16k]`. Chains are
 * sequential, but different units are independent: with many short units (512-byte sectors)
 * block j of every unit goes through one ECB call ("interleaved", `unitSize / 16` calls per
 * buffer); with few long units, one CBC call per unit is fewer calls.
 */
export function cbcEncrypt(
  cipher: AesBlockCipher,
  data: Uint8Array,
  unitSize: number,
  ivs: Uint8Array
): void {
  const units = data.length / unitSize;
  const d = int32View(data);
  if (!d || unitSize / 16 >= units) {
    cipher.encryptCbcUnits(data, unitSize, ivs);
    return;
  }
  cbcEncryptInterleaved(cipher, d, unitSize, int32Of(ivs));
}

/** Interleaved CBC encryption (see {@link cbcEncrypt}); exported for tests. */
export function cbcEncryptInterleaved(
  cipher: AesBlockCipher,
  d: Int32Array,
  unitSize: number,
  iv: Int32Array
): void {
  const unitWords = unitSize >> 2;
  const units = d.length / unitWords;
  const x = new Int32Array(units * 4);
  const xb = new Uint8Array(x.buffer);
  for (let j = 0; j < unitWords; j += 4) {
    // Gather block j of every unit, XORed with its chaining value (IV or previous block).
    for (let u = 0, i = j, k = 0; u < units; u++, i += unitWords, k += 4) {
      const p = j === 0 ? iv : d;
      const q = j === 0 ? k : i - 4;
      x[k] = (d[i] as number) ^ (p[q] as number);
      x[k + 1] = (d[i + 1] as number) ^ (p[q + 1] as number);
      x[k + 2] = (d[i + 2] as number) ^ (p[q + 2] as number);
      x[k + 3] = (d[i + 3] as number) ^ (p[q + 3] as number);
    }
    const c = int32Of(cipher.encryptBlocks(xb));
    for (let u = 0, i = j, k = 0; u < units; u++, i += unitWords, k += 4) {
      d[i] = c[k] as number;
      d[i + 1] = c[k + 1] as number;
      d[i + 2] = c[k + 2] as number;
      d[i + 3] = c[k + 3] as number;
    }
  }
  x.fill(0);
}

/** CBC-decrypts `data` in place (4-byte aligned), unit k chained from the IV at `ivs[16k]`. */
export function cbcDecrypt(
  cipher: AesBlockCipher,
  data: Uint8Array,
  unitSize: number,
  ivs: Uint8Array
): void {
  const d = int32View(data);
  if (!d) throw new RangeError('cbcDecrypt needs 4-byte aligned data');
  const o = int32Of(cipher.decryptBlocks(data));
  const iv = int32Of(ivs);
  const unitWords = unitSize >> 2;
  const units = d.length / unitWords;
  for (let u = 0; u < units; u++) {
    const start = u * unitWords;
    // Backwards, so each block still sees the previous block's ciphertext.
    for (let i = start + unitWords - 4; i > start; i -= 4) {
      d[i] = (o[i] as number) ^ (d[i - 4] as number);
      d[i + 1] = (o[i + 1] as number) ^ (d[i - 3] as number);
      d[i + 2] = (o[i + 2] as number) ^ (d[i - 2] as number);
      d[i + 3] = (o[i + 3] as number) ^ (d[i - 1] as number);
    }
    const v = 4 * u;
    d[start] = (o[start] as number) ^ (iv[v] as number);
    d[start + 1] = (o[start + 1] as number) ^ (iv[v + 1] as number);
    d[start + 2] = (o[start + 2] as number) ^ (iv[v + 2] as number);
    d[start + 3] = (o[start + 3] as number) ^ (iv[v + 3] as number);
  }
}

/**
 * Per-sector AES-CBC (spec/luks1.md §4: each unit is its own chain starting from its IV;
 * spec/legacy-aes.md §1). Decryption is one ECB-decrypt over the whole buffer, then an XOR
 * with the ciphertext shifted by one block (DESIGN.md constraint 3); encryption is inherently
 * sequential within a chain and goes through the provider's long-lived CBC context.
 */
import type { AesBlockCipher } from './provider.js';
import { int32Of, int32View } from './xts.js';

/** CBC-encrypts `data` in place, unit k chained from the IV at `ivs[16k]`. */
export function cbcEncrypt(
  cipher: AesBlockCipher,
  data: Uint8Array,
  unitSize: number,
  ivs: Uint8Array
): void {
  cipher.encryptCbcUnits(data, unitSize, ivs);
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

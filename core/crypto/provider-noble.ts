/**
 * Pure-JS AES provider on @noble/ciphers: the independent reference the native provider is
 * cross-tested against, and a fallback where `node:crypto` lacks AES (docs/DESIGN.md constraint 2).
 */
import { cbc, ecb } from '@noble/ciphers/aes.js';
import { fail } from '../api/errors.js';
import type { AesBlockCipher, AesProvider } from './provider.js';
import { copySecret, wipe } from './secret.js';

class NobleAes implements AesBlockCipher {
  readonly keyBytes: number;
  private key: Uint8Array | undefined;

  constructor(key: Uint8Array) {
    if (![16, 24, 32].includes(key.length)) {
      throw fail('UNSUPPORTED_CIPHER', `AES key of ${key.length} bytes is not supported`);
    }
    this.keyBytes = key.length;
    this.key = copySecret(key);
  }

  private k(): Uint8Array {
    if (!this.key) throw fail('INTERNAL', 'AES context used after dispose');
    return this.key;
  }

  encryptBlocks(src: Uint8Array): Uint8Array {
    return ecb(this.k(), { disablePadding: true }).encrypt(src);
  }

  decryptBlocks(src: Uint8Array): Uint8Array {
    return ecb(this.k(), { disablePadding: true }).decrypt(src);
  }

  encryptCbcUnits(data: Uint8Array, unitSize: number, ivs: Uint8Array): void {
    const key = this.k();
    for (let off = 0, k = 0; off < data.length; off += unitSize, k++) {
      const iv = ivs.subarray(k * 16, k * 16 + 16);
      const out = cbc(key, iv, { disablePadding: true }).encrypt(
        data.subarray(off, off + unitSize)
      );
      data.set(out, off);
    }
  }

  dispose(): void {
    wipe(this.key);
    this.key = undefined;
  }
}

/** Pure-JS provider (@noble/ciphers). */
export const nobleProvider: AesProvider = {
  name: 'noble',
  create: (key) => new NobleAes(key),
};

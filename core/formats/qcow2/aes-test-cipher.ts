/**
 * Test-only AES-128-CBC plain64 `DataCipher` (docs/spec/legacy-aes.md §1) built directly on
 * node:crypto, independent of core/crypto, for the legacy AES interop suites.
 */
import { createCipheriv, createDecipheriv } from '../../crypto/node-crypto.js';
import type { DataCipher } from '../../crypto/data-cipher.js';

/** Test-local AES-128-CBC plain64 cipher (docs/spec/legacy-aes.md §1), one CBC chain per sector. */
export function testAesCipher(passphrase: string): DataCipher {
  const key = Buffer.alloc(16);
  key.write(passphrase.slice(0, 16), 'latin1');
  const run1 = (data: Uint8Array, iv0: number, dec: boolean): Uint8Array => {
    for (let s = 0; s < data.length / 512; s++) {
      const iv = Buffer.alloc(16);
      iv.writeBigUInt64LE(BigInt(iv0 + s));
      const c = dec
        ? createDecipheriv('aes-128-cbc', key, iv).setAutoPadding(false)
        : createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
      const sec = data.subarray(s * 512, s * 512 + 512);
      sec.set(Buffer.concat([c.update(sec), c.final()]));
    }
    return data;
  };
  return {
    sectorSize: 512,
    encrypt: async (d, iv) => run1(d, iv, false),
    decrypt: async (d, iv) => run1(d, iv, true),
    dispose: async () => void key.fill(0),
  };
}

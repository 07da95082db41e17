/** Bulk data encryption for an unlocked LUKS volume, backed by the crypto worker pool. */
import { createCryptoPool, INLINE_FIRST } from '../../crypto/crypto-pool.js';
import { wipe } from '../../crypto/secret.js';
import type { DataCipher } from '../../crypto/data-cipher.js';
import type { UnlockedLuks } from './unlocked.js';

/**
 * A `DataCipher` for the volume's data (master key, data cipher, sector size). It holds its own
 * copy of the key, so `u.dispose()` may be called independently; `dispose()` wipes the copy.
 * IV sectors are supplied by the caller (raw LUKS: ivTweak + payload-relative sector; qcow2:
 * host offset / 512 — docs/spec/qcow2-luks.md §3).
 */
export async function dataCipherFor(
  u: UnlockedLuks,
  opts: { threads?: number } = {}
): Promise<DataCipher> {
  const key = u.masterKey.slice();
  const pool = createCryptoPool(u.spec, key, {
    sectorSize: u.sectorSize,
    // Sparse images with little data never start workers (issue #15).
    inlineFirst: INLINE_FIRST,
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
  });
  return {
    sectorSize: u.sectorSize,
    encrypt: (data, iv) => pool.encrypt(data, iv),
    decrypt: (data, iv) => pool.decrypt(data, iv),
    dispose: async () => {
      try {
        await pool.close();
      } finally {
        wipe(key);
      }
    },
  };
}

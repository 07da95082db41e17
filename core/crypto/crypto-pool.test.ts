/** Worker pool vs inline sector cipher on random data. */
import assert from 'node:assert/strict';
import { randomBytes as nodeRandom } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { isVaultError } from '../api/errors.js';
import { parseLuksCipher } from './cipher-spec.js';
import { createCryptoPool, prewarmCryptoWorkers, type CryptoPool } from './crypto-pool.js';
import { createSectorCipher } from './sector-cipher.js';

const rnd = (n: number) => new Uint8Array(nodeRandom(n));

describe('crypto pool', () => {
  const pools: CryptoPool[] = [];
  after(async () => {
    await Promise.all(pools.map((p) => p.close()));
  });

  for (const [mode, keyBytes, sectorSize, threads] of [
    ['xts-plain64', 64, 512, 2],
    ['cbc-essiv:sha256', 32, 4096, 2],
    ['xts-plain64', 32, 512, 0],
    ['cbc-plain64', 16, 512, 1],
  ] as const) {
    it(`aes-${mode}, ${sectorSize}-byte sectors, ${threads} threads matches inline`, async () => {
      const spec = parseLuksCipher('aes', mode, keyBytes);
      const key = rnd(keyBytes);
      const inline = createSectorCipher(spec, key, sectorSize);
      const pool = createCryptoPool(spec, key, { threads, sectorSize });
      pools.push(pool);
      key.fill(0); // the pool has its own copies
      const sizes = [sectorSize, 64 * 1024, 1024 * 1024, 3 * 1024 * 1024 + 8 * sectorSize];
      const results = await Promise.all(
        sizes.map(async (size, i) => {
          const data = rnd(size);
          const expected = data.slice();
          const ivSector = 1000 * i + 2 ** 32;
          inline.encrypt(expected, ivSector);
          const enc = await pool.encrypt(data, ivSector);
          assert.deepEqual(enc, expected);
          inline.decrypt(expected, ivSector);
          const dec = await pool.decrypt(enc, ivSector);
          assert.deepEqual(dec, expected);
          return dec.length;
        })
      );
      assert.deepEqual(results, sizes);
      inline.dispose();
    });
  }

  it('works on views that do not own their buffer (copied, not transferred)', async () => {
    const spec = parseLuksCipher('aes', 'xts-plain64', 64);
    const key = rnd(64);
    const pool = createCryptoPool(spec, key, { threads: 2 });
    pools.push(pool);
    const inline = createSectorCipher(spec, key);
    const backing = rnd(4096 + 3);
    const view = backing.subarray(3, 3 + 4096);
    const expected = view.slice();
    inline.encrypt(expected, 9);
    const out = await pool.encrypt(view, 9);
    assert.deepEqual(out, expected);
    assert.equal(backing.length, 4099, 'backing buffer must not be detached');
  });

  it('prewarmed workers serve two pools with different ciphers', async () => {
    prewarmCryptoWorkers(3);
    const specs = [
      parseLuksCipher('aes', 'xts-plain64', 64),
      parseLuksCipher('aes', 'cbc-essiv:sha256', 32),
    ];
    for (const spec of specs) {
      const key = rnd(spec.keyBytes);
      const pool = createCryptoPool(spec, key, { threads: 2 });
      pools.push(pool);
      const inline = createSectorCipher(spec, key);
      const plain = rnd(1024 * 1024);
      const expected = plain.slice();
      inline.encrypt(expected, 77);
      inline.dispose();
      const enc = await pool.encrypt(plain.slice(), 77);
      assert.deepEqual(enc, expected);
      assert.deepEqual(await pool.decrypt(enc, 77), plain);
    }
  });

  it('inline first, then workers: the results match across the switch', async () => {
    const spec = parseLuksCipher('aes', 'xts-plain64', 64);
    const key = rnd(64);
    const reference = createSectorCipher(spec, key, 512);
    const pool = createCryptoPool(spec, key, { threads: 2, inlineFirst: 1024 * 1024 });
    pools.push(pool);
    // 3 × 512 KiB: the first two inline (within the budget), the third through the workers.
    for (let i = 0; i < 3; i++) {
      const data = rnd(512 * 1024);
      const expected = data.slice();
      reference.encrypt(expected, i * 1024);
      const got = await pool.encrypt(data.slice(), i * 1024);
      assert.deepEqual(got, expected, `call ${i}`);
      assert.deepEqual(await pool.decrypt(got, i * 1024), data, `call ${i} back`);
    }
    reference.dispose();
  });

  it('rejects bad input with typed errors and refuses use after close', async () => {
    const spec = parseLuksCipher('aes', 'xts-plain64', 64);
    const pool = createCryptoPool(spec, rnd(64), { threads: 1 });
    await assert.rejects(pool.encrypt(new Uint8Array(100), 0), (e: unknown) =>
      isVaultError(e, 'INVALID_ARGUMENT')
    );
    await assert.rejects(pool.encrypt(new Uint8Array(512), -5), (e: unknown) =>
      isVaultError(e, 'INVALID_ARGUMENT')
    );
    const ok = await pool.encrypt(new Uint8Array(512), 0);
    assert.equal(ok.length, 512);
    await pool.close();
    await assert.rejects(pool.encrypt(new Uint8Array(512), 0), (e: unknown) => isVaultError(e));
    assert.throws(
      () => createCryptoPool(spec, rnd(32)),
      (e: unknown) => isVaultError(e)
    );
  });
});

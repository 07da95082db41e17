/** The pool's zero-copy path: shared-memory buffers are processed in place by the workers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLuksCipher } from './cipher-spec.js';
import { createCryptoPool, sharedBuffer } from './crypto-pool.js';
import { createSectorCipher } from './sector-cipher.js';
import { randomBytes } from './random.js';
import { inlineDataCipher } from './data-cipher.js';
import { encryptThenWrite } from '../formats/encryption.js';

const MiB = 1024 * 1024;

test('shared buffers are encrypted in place, split across workers, equal to inline', async () => {
  const spec = parseLuksCipher('aes', 'xts-plain64', 64);
  const key = randomBytes(64);
  const inline = createSectorCipher(spec, key);
  const pool = createCryptoPool(spec, key, { threads: 2 });
  try {
    const plain = randomBytes(3 * MiB);
    const shared = sharedBuffer(plain.length);
    shared.set(plain);
    const out = await pool.encrypt(shared, 777);
    assert.equal(out.buffer, shared.buffer, 'same memory, no transfer');
    const expected = plain.slice();
    inline.encrypt(expected, 777);
    assert.deepEqual(shared, expected);
    // A view into the middle of shared memory works in place too.
    const view = shared.subarray(512 * 3, 512 * 1003);
    await pool.decrypt(view, 777 + 3);
    assert.deepEqual(view, plain.subarray(512 * 3, 512 * 1003));
  } finally {
    inline.dispose();
    await pool.close();
  }
});

test('encryptThenWrite writes every slice at its offset, encrypted with consecutive IVs', async () => {
  const spec = parseLuksCipher('aes', 'cbc-essiv:sha256', 32);
  const key = randomBytes(32);
  const sc = createSectorCipher(spec, key);
  const check = createSectorCipher(spec, key);
  try {
    const plain = randomBytes(2 * MiB + 4096);
    const out = new Uint8Array(plain.length);
    await encryptThenWrite(inlineDataCipher(sc), plain.slice(), 42, async (enc, off) => {
      out.set(enc, off);
    });
    const expected = plain.slice();
    check.encrypt(expected, 42);
    assert.deepEqual(out, expected);
  } finally {
    sc.dispose();
    check.dispose();
  }
});

test('many concurrent jobs on a few reused shared buffers (registered once per worker)', async () => {
  const spec = parseLuksCipher('aes', 'xts-plain64', 32);
  const key = randomBytes(32);
  const inline = createSectorCipher(spec, key);
  const pool = createCryptoPool(spec, key, { threads: 2 });
  try {
    const buffers = [sharedBuffer(256 * 1024), sharedBuffer(256 * 1024), sharedBuffer(64 * 1024)];
    for (let round = 0; round < 5; round++) {
      const jobs = buffers.flatMap((b, i) => {
        const plain = randomBytes(b.length);
        b.set(plain);
        const halves = [b.subarray(0, b.length / 2), b.subarray(b.length / 2)];
        return halves.map(async (h, k) => {
          const iv = 1000 * round + 100 * i + k * (h.length / 512);
          const out = await pool.encrypt(h, iv);
          assert.equal(out.buffer, b.buffer);
          const expected = plain.slice(k * h.length, (k + 1) * h.length);
          inline.encrypt(expected, iv);
          assert.deepEqual(h, expected, `round ${round}, buffer ${i}, half ${k}`);
        });
      });
      await Promise.all(jobs);
    }
  } finally {
    inline.dispose();
    await pool.close();
  }
});

/** Anti-forensic split/merge (spec/luks1.md §6, §10.2). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVaultError } from '../api/errors.js';
import { hex } from '../testing/bytes.js';
import { afMerge, afSplit } from './af.js';
import { randomBytes } from './random.js';

describe('AF split / merge', () => {
  it('spec/luks1.md §10.2: sha256, 40-byte key, 3 stripes (partial digest block)', () => {
    const material = new Uint8Array(120).map((_, i) => i);
    assert.equal(
      hex(afMerge(material, 40, 3, 'sha256')),
      '512bb18e314d508ff96bf0476fe763960d7fee88a203f1a8f60786529f022801fa236647e64a8536'
    );
  });

  for (const h of ['sha1', 'sha256', 'sha512'] as const) {
    for (const n of [16, 32, 64]) {
      it(`round trip: ${n}-byte key, ${h}, 4000 stripes`, () => {
        const key = randomBytes(n);
        const split = afSplit(key, 4000, h);
        assert.equal(split.length, n * 4000);
        assert.deepEqual(afMerge(split, n, 4000, h), key);
        // Trailing sector padding is ignored.
        const padded = new Uint8Array(Math.ceil(split.length / 512) * 512 + 512);
        padded.set(split);
        assert.deepEqual(afMerge(padded, n, 4000, h), key);
        // One flipped bit anywhere gives a different key.
        const mid = Math.floor(split.length / 2);
        split[mid] = (split[mid] as number) ^ 1;
        assert.notDeepEqual(afMerge(split, n, 4000, h), key);
      });
    }
  }

  it('round trip with the noble-backed hashes and a 24-byte key', () => {
    for (const h of ['sha224', 'sha384', 'ripemd160'] as const) {
      const key = randomBytes(24);
      assert.deepEqual(afMerge(afSplit(key, 50, h), 24, 50, h), key);
    }
  });

  it('refuses short material and absurd sizes', () => {
    assert.throws(
      () => afMerge(new Uint8Array(100), 32, 4000, 'sha256'),
      (e: unknown) => isVaultError(e, 'TRUNCATED')
    );
    assert.throws(
      () => afMerge(new Uint8Array(100), 0, 1, 'sha256'),
      (e: unknown) => isVaultError(e)
    );
    assert.throws(
      () => afMerge(new Uint8Array(100), 32, 2 ** 31, 'sha256'),
      (e: unknown) => isVaultError(e)
    );
  });
});

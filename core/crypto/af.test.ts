/**
 * Anti-forensic split/merge (docs/spec/luks1.md §6, §10.2), cross-checked against a plain
 * transcription of the spec that hashes each block with a fresh `node:crypto` hash (noble
 * where this Node lacks the algorithm).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { isVaultError } from '../api/errors.js';
import { hex } from '../testing/bytes.js';
import { afMerge, afSplit } from './af.js';
import { digestSize, HASH_NAMES, messageHasher, nobleHash, type HashName } from './hash.js';
import { randomBytes } from './random.js';

function nodeHas(h: HashName): boolean {
  try {
    createHash(h);
    return true;
  } catch {
    return false;
  }
}

/** Reference hash: `node:crypto` (OpenSSL) if it has `h`, else @noble/hashes. */
function refHash(h: HashName, msg: Uint8Array): Uint8Array {
  if (nodeHas(h)) return new Uint8Array(createHash(h).update(msg).digest());
  return nobleHash(h)(msg);
}

/** docs/spec/luks1.md §6 AF-merge written out directly: one fresh hash per block, no reuse. */
function refMerge(material: Uint8Array, n: number, stripes: number, h: HashName): Uint8Array {
  const d = digestSize(h);
  const acc = new Uint8Array(n);
  for (let s = 0; s < stripes; s++) {
    for (let i = 0; i < n; i++) acc[i] = (acc[i] as number) ^ (material[s * n + i] as number);
    if (s === stripes - 1) break;
    for (let j = 0; j * d < n; j++) {
      const block = acc.subarray(j * d, Math.min(n, (j + 1) * d));
      const msg = new Uint8Array(4 + block.length);
      new DataView(msg.buffer).setUint32(0, j);
      msg.set(block, 4);
      block.set(refHash(h, msg).subarray(0, block.length));
    }
  }
  return acc;
}

// Around every digest size (20, 28, 32, 48, 64): exact multiples and partial last blocks.
const KEY_LENGTHS = [1, 16, 17, 20, 21, 28, 32, 33, 47, 48, 63, 64, 65, 100, 129];
const STRIPES = [1, 2, 3, 16];

describe('AF diffusion against the reference', () => {
  for (const h of HASH_NAMES) {
    const ref = nodeHas(h) ? 'node:crypto' : '@noble/hashes';
    it(`${h}: afMerge matches (reference: ${ref})`, () => {
      for (const n of KEY_LENGTHS) {
        for (const stripes of STRIPES) {
          const material = randomBytes(n * stripes);
          assert.deepEqual(afMerge(material, n, stripes, h), refMerge(material, n, stripes, h));
        }
      }
      for (const n of [33, 64]) {
        const material = randomBytes(n * 4000);
        assert.deepEqual(afMerge(material, n, 4000, h), refMerge(material, n, 4000, h));
      }
    });

    it(`${h}: afSplit output merges back under the reference`, () => {
      for (const n of [17, 32, 33, 65]) {
        const key = randomBytes(n);
        assert.deepEqual(refMerge(afSplit(key, 7, h), n, 7, h), key);
      }
    });

    it(`${h}: one messageHasher over many messages of any length`, () => {
      const hasher = messageHasher(h);
      const out = new Uint8Array(digestSize(h));
      try {
        for (let len = 0; len <= 300; len += 7) {
          const msg = randomBytes(len);
          hasher.digestInto(msg, out);
          assert.deepEqual(out, refHash(h, msg), `length ${len}`);
        }
      } finally {
        hasher.dispose();
      }
    });
  }
});

describe('AF split / merge', () => {
  it('docs/spec/luks1.md §10.2: sha256, 40-byte key, 3 stripes (partial digest block)', () => {
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

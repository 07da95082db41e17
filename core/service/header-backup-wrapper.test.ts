// The qcow2+LUKS header backup wrapper (header-backup-wrapper.ts): round trip, and every kind
// of damage refused before a restore could use it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVaultError } from '../api/errors.js';
import { patternBytes } from '../testing/bytes.js';
import {
  decodeWrapper,
  encodeWrapper,
  isWrapper,
  type QcowLuksBackupMeta,
} from './header-backup-wrapper.js';

const meta: QcowLuksBackupMeta = {
  kind: 'image-vault qcow2+LUKS header backup',
  createdAt: '2026-12-05T08:00:00.000Z',
  qcow2: { version: 3, virtualSize: 16 << 20, clusterSize: 65536 },
  region: { offset: 262144, length: 8192 },
  luks: {
    version: 1,
    uuid: '11111111-2222-3333-4444-555555555555',
    keyBytes: 64,
    keyFingerprint: 'ab'.repeat(32),
    activeSlots: [0],
    cipher: 'aes-xts-plain64',
  },
};

describe('qcow2+LUKS header backup wrapper', () => {
  const region = patternBytes(8192, 7);
  const bytes = encodeWrapper({ meta, region });

  it('round-trips the description and the region', () => {
    assert.ok(isWrapper(bytes));
    assert.equal(Buffer.from(bytes.subarray(0, 8)).toString('latin1'), 'IVQ2LUKS');
    const d = decodeWrapper(bytes);
    assert.deepEqual(d.meta, meta);
    assert.deepEqual(d.region, region);
  });

  it('refuses a flipped byte anywhere (checksum), a truncation, another version', () => {
    for (const at of [20, 16 + 100, bytes.length - 40, bytes.length - 1]) {
      const b = bytes.slice();
      b[at] = (b[at] ?? 0) ^ 1;
      assert.throws(
        () => decodeWrapper(b),
        (e) => isVaultError(e, 'CORRUPT'),
        `byte ${at}`
      );
    }
    assert.throws(
      () => decodeWrapper(bytes.subarray(0, bytes.length - 1)),
      (e) => isVaultError(e, 'CORRUPT')
    );
    const v2 = bytes.slice();
    v2[11] = 2;
    assert.throws(
      () => decodeWrapper(v2),
      (e) => isVaultError(e, 'UNSUPPORTED_FEATURE')
    );
  });

  it('refuses region bytes that do not match the recorded length', () => {
    assert.throws(
      () => encodeWrapper({ meta, region: region.subarray(1) }),
      (e) => isVaultError(e, 'INTERNAL')
    );
  });
});

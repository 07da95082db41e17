/** Cipher spec parsing (docs/spec/luks1.md §4, docs/spec/luks2.md §3). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVaultError } from '../api/errors.js';
import {
  describeCipher,
  describeCipherMode,
  parseDmCipher,
  parseLuksCipher,
  parseUserCipher,
} from './cipher-spec.js';
import { randomUuid } from './random.js';
import { constantTimeEqual, wipe } from './secret.js';

const unsupported = (f: () => unknown) =>
  assert.throws(f, (e: unknown) => isVaultError(e, 'UNSUPPORTED_CIPHER'));

describe('parseLuksCipher', () => {
  it('parses the common LUKS1 header combinations', () => {
    assert.deepEqual(parseLuksCipher('aes', 'xts-plain64', 64), {
      cipherName: 'aes',
      blockMode: 'xts',
      ivgen: 'plain64',
      keyBytes: 64,
    });
    assert.deepEqual(parseLuksCipher('aes', 'cbc-essiv:sha256', 16), {
      cipherName: 'aes',
      blockMode: 'cbc',
      ivgen: 'essiv',
      ivgenHash: 'sha256',
      keyBytes: 16,
    });
    assert.equal(parseLuksCipher('aes', 'ecb', 32).ivgen, 'none');
    assert.equal(parseLuksCipher('aes', 'cbc-null', 32).ivgen, 'none');
    assert.equal(parseLuksCipher('aes', 'cbc-plain64be', 24).ivgen, 'plain64be');
    assert.equal(parseLuksCipher('aes', 'xts-plain', 32).ivgen, 'plain');
  });

  it('ignores :hash on non-ESSIV generators, like QEMU', () => {
    const s = parseLuksCipher('aes', 'xts-plain64:sha256', 64);
    assert.equal(s.ivgen, 'plain64');
    assert.equal(s.ivgenHash, undefined);
  });

  it('refuses other ciphers with the spec name in the message', () => {
    assert.throws(
      () => parseLuksCipher('serpent', 'xts-plain64', 64),
      (e: unknown) =>
        isVaultError(e, 'UNSUPPORTED_CIPHER') &&
        e.message === 'Cipher serpent-xts-plain64 is not supported'
    );
    for (const [name, mode, kb] of [
      ['twofish', 'cbc-essiv:sha256', 32],
      ['AES', 'xts-plain64', 64],
      ['aes', 'ctr-plain64', 32],
      ['aes', 'xts', 64],
      ['aes', 'xts-benbi', 64],
      ['aes', 'cbc-essiv', 32],
      ['aes', 'cbc-essiv:sha1', 32], // 20-byte digest is no AES key
      ['aes', 'cbc-essiv:md5', 32],
      ['aes', 'xts-plain64', 16], // 8-byte halves
      ['aes', 'xts-plain64', 65],
      ['aes', 'cbc-plain64', 64],
      ['aes', 'ecb-plain', 32],
    ] as const) {
      unsupported(() => parseLuksCipher(name, mode, kb));
    }
  });

  it('parseDmCipher splits at the first dash', () => {
    assert.equal(parseDmCipher('aes-xts-plain64', 64).blockMode, 'xts');
    assert.equal(parseDmCipher('aes-cbc-essiv:sha256', 32).ivgenHash, 'sha256');
    unsupported(() => parseDmCipher('cipher_null-ecb', 0));
    unsupported(() => parseDmCipher('aes', 32));
  });

  it('describeCipher round-trips', () => {
    for (const [m, kb] of [
      ['xts-plain64', 64],
      ['cbc-essiv:sha256', 16],
      ['cbc-plain', 32],
      ['xts-plain64be', 32],
      ['cbc-null', 16],
      ['ecb', 16],
    ] as const) {
      const spec = parseLuksCipher('aes', m, kb);
      assert.equal(describeCipherMode(spec), m);
      assert.equal(describeCipher(spec), `aes-${m}`);
      assert.deepEqual(parseDmCipher(describeCipher(spec), kb), spec);
    }
  });
});

describe('parseUserCipher', () => {
  it('maps user names to header fields; XTS doubles the key', () => {
    const cases: [string, string, number][] = [
      ['aes-256-xts-plain64', 'xts-plain64', 64],
      ['aes-128-xts-plain64', 'xts-plain64', 32],
      ['aes-256-cbc-essiv:sha256', 'cbc-essiv:sha256', 32],
      ['aes-128-cbc-essiv:sha256', 'cbc-essiv:sha256', 16],
      ['aes-128-cbc-plain64', 'cbc-plain64', 16],
      ['aes-256-cbc-plain', 'cbc-plain', 32],
      ['aes-256-xts-plain', 'xts-plain', 64],
      ['aes-256-cbc-plain64be', 'cbc-plain64be', 32],
      ['aes-xts-plain64', 'xts-plain64', 64],
      ['aes-192-xts-plain64', 'xts-plain64', 48],
    ];
    for (const [input, cipherMode, keyBytes] of cases) {
      assert.deepEqual(parseUserCipher(input), { cipherName: 'aes', cipherMode, keyBytes }, input);
    }
  });

  it('refuses unknown names and 24-byte CBC keys (QEMU 7.2 aborts on them)', () => {
    for (const bad of [
      'serpent-256-xts-plain64',
      'aes-512-xts-plain64',
      'aes-192-cbc-plain64',
      'xts',
      '',
    ]) {
      unsupported(() => parseUserCipher(bad));
    }
  });
});

describe('random and secret helpers', () => {
  it('randomUuid is a lowercase v4 UUID', () => {
    const u = randomUuid();
    assert.match(u, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(u, randomUuid());
  });

  it('constantTimeEqual and wipe', () => {
    const a = new Uint8Array([1, 2, 3]);
    assert.ok(constantTimeEqual(a, new Uint8Array([1, 2, 3])));
    assert.ok(!constantTimeEqual(a, new Uint8Array([1, 2, 4])));
    assert.ok(!constantTimeEqual(a, new Uint8Array([1, 2])));
    wipe(a, undefined);
    assert.deepEqual(a, new Uint8Array(3));
  });
});

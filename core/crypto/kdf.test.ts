/** Hashes, PBKDF2 (RFC 6070, docs/spec/luks1.md §10.1), calibration, Argon2 (docs/spec/luks2.md §7). */
import assert from 'node:assert/strict';
import { getHashes, pbkdf2Sync } from 'node:crypto';
import { describe, it } from 'node:test';
import { isVaultError } from '../api/errors.js';
import { fromHex, hex } from '../testing/bytes.js';
import { argon2Noble, argon2Wasm } from './argon2.js';
import { digestSize, hash, HASH_NAMES, parseHashName } from './hash.js';
import { calibratePbkdf2, pbkdf2, pbkdf2Noble } from './pbkdf2.js';

const te = (s: string) => new TextEncoder().encode(s);

describe('hash', () => {
  it('known digests of "abc" for every supported name', () => {
    const expected: Record<string, string> = {
      sha1: 'a9993e364706816aba3e25717850c26c9cd0d89d',
      sha224: '23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7',
      sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      sha384:
        'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7',
      sha512:
        'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
      ripemd160: '8eb208f7e05d987a9b044a8e98c6b087f15a0bfc',
    };
    for (const h of HASH_NAMES) {
      const d = hash(h, te('a'), te('bc'));
      assert.equal(hex(d), expected[h], h);
      assert.equal(d.length, digestSize(h));
    }
  });

  it('parses only the lowercase spec names', () => {
    assert.equal(parseHashName('sha256'), 'sha256');
    assert.equal(parseHashName('ripemd160'), 'ripemd160');
    for (const bad of ['SHA256', 'md5', 'whirlpool', 'sha3-256', '', 'sha256\0']) {
      assert.throws(
        () => parseHashName(bad),
        (e: unknown) => isVaultError(e, 'UNSUPPORTED_CIPHER')
      );
    }
  });
});

describe('PBKDF2', () => {
  // RFC 6070 (PBKDF2-HMAC-SHA1); the 16777216-iteration vector is omitted for speed.
  const rfc6070: [string, string, number, number, string][] = [
    ['password', 'salt', 1, 20, '0c60c80f961f0e71f3a9b524af6012062fe037a6'],
    ['password', 'salt', 2, 20, 'ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957'],
    ['password', 'salt', 4096, 20, '4b007901b765489abead49d926f721d065a429c1'],
    [
      'passwordPASSWORDpassword',
      'saltSALTsaltSALTsaltSALTsaltSALTsalt',
      4096,
      25,
      '3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038',
    ],
    ['pass\0word', 'sa\0lt', 4096, 16, '56fa6aa75548099dcc37d7f03425e0c3'],
  ];
  for (const [pw, salt, c, len, expected] of rfc6070) {
    it(`RFC 6070 sha1 c=${c} dkLen=${len}`, () => {
      assert.equal(hex(pbkdf2('sha1', te(pw), te(salt), c, len)), expected);
      assert.equal(hex(pbkdf2Noble('sha1', te(pw), te(salt), c, len)), expected);
    });
  }

  it('PBKDF2-HMAC-SHA256 vectors', () => {
    const v: [number, number, string][] = [
      [1, 32, '120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b'],
      [2, 32, 'ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43'],
      [4096, 32, 'c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a'],
    ];
    for (const [c, len, expected] of v) {
      assert.equal(hex(pbkdf2('sha256', te('password'), te('salt'), c, len)), expected);
    }
  });

  it('docs/spec/luks1.md §10.1: slot key and master-key digest', () => {
    const slotSalt = fromHex('62189a6ab82d47d7828b505b81c814c4e51c251af86c75a148f61d41f905e33c');
    assert.equal(
      hex(pbkdf2('sha256', te('correct horse'), slotSalt, 1000, 64)),
      '12f04b824369be9a333c7645b6838c4dec02511efb8e48c63fca6a47e8445f89' +
        '57da4666d00ad5b8e1bdc7977bbf356788ebe48fe8d7338106e3f4c2c4a1a252'
    );
    const mk = new Uint8Array(64).map((_, i) => i);
    const mkSalt = fromHex('ca0c09585d7c0b24b30abf3c26a21aa287e10ac3c0e45575c5f8311dc6072395');
    assert.equal(
      hex(pbkdf2('sha256', mk, mkSalt, 1000, 20)),
      'c16293ec64c3b3b333abfc07a6c0667f8107189d'
    );
  });

  it('docs/spec/luks2.md §7: keyslot 0 area key and the 32-byte digest', () => {
    const salt = fromHex('59c22bcf761efc057ccb4243c787ef5b46e3c59f5bad50494cd2d0c2c5718cc2');
    assert.equal(
      hex(pbkdf2('sha256', te('correct horse'), salt, 1000, 64)),
      'ff5a04d3a2e1a9442e31ff5e6f12f8683ab66af0de5f678ad57b5363f7b5205a' +
        'bb8cf0618de937151358f9e36fc01487981fd63d44b8d78bc3f3cc5fcf8715ea'
    );
    const dsalt = fromHex('519b0a080a32911e3537b5290cd7d1e76baa391d5e259c898163e7f08ee36d28');
    const vk = new Uint8Array(64).map((_, i) => i);
    assert.equal(
      hex(pbkdf2('sha256', vk, dsalt, 1000, 32)),
      '4305ec7ab31cabf26900af9a72cde03c9ca66a465c613995db414e261f0a926b'
    );
  });

  it('noble path agrees with OpenSSL for every hash (test-only native reference)', () => {
    const available = new Set(getHashes().map((h) => h.toLowerCase()));
    for (const h of HASH_NAMES) {
      const ours = pbkdf2(h, te('pw'), te('salty'), 1234, 70);
      assert.equal(ours.length, 70);
      assert.deepEqual(ours, pbkdf2Noble(h, te('pw'), te('salty'), 1234, 70));
      if (available.has(h)) {
        assert.deepEqual(ours, new Uint8Array(pbkdf2Sync('pw', 'salty', 1234, 70, h)), h);
      }
    }
  });

  it('refuses out-of-range parameters', () => {
    for (const [c, len] of [
      [0, 32],
      [1.5, 32],
      [2 ** 32, 32],
      [1000, 0],
      [1000, 1e9],
    ] as const) {
      assert.throws(
        () => pbkdf2('sha256', te('a'), te('b'), c, len),
        (e: unknown) => isVaultError(e, 'INVALID_ARGUMENT')
      );
    }
  });

  it('calibratePbkdf2 returns ≥ 1000 and grows with the target time', () => {
    const small = calibratePbkdf2('sha256', 64, 1);
    const big = calibratePbkdf2('sha256', 64, 2000);
    assert.ok(small >= 1000);
    assert.ok(Number.isSafeInteger(big) && big <= 0xffffffff);
    // 2000× the time: even with heavy scheduling noise it must be far larger.
    assert.ok(big > small * 20, `${big} vs ${small}`);
    assert.ok(big > 100_000, `${big} iterations for 2 s is implausibly low`);
    assert.ok(calibratePbkdf2('sha1', 20, 10) >= 1000);
    assert.throws(
      () => calibratePbkdf2('sha256', 64, 0),
      (e: unknown) => isVaultError(e)
    );
  });
});

describe('Argon2', () => {
  it('docs/spec/luks2.md §7: argon2id keyslot 1 area key (t=4, m=32 MiB, p=1)', async () => {
    const salt = fromHex('65c866a6cede8670664257fbb3a81c996207920bc17bc9e83f87ebad7653f8a0');
    const p = { time: 4, memoryKiB: 32768, parallel: 1 };
    const expected =
      '89f321f7e02b359ac177782af569af0467a3bd58a9db1965716667891c58883e' +
      '33c5c0b0484b10b97c2a897fc7eb1cf2e82bd2929e469f96d15f90d95e4fe929';
    assert.equal(hex(argon2Noble('argon2id', te('second'), salt, p, 64)), expected);
    assert.equal(hex(argon2Wasm('argon2id', te('second'), salt, p, 64)), expected);
  });

  it('argon2i differs from argon2id and parameters are checked', async () => {
    const salt = new Uint8Array(32).fill(1);
    const p = { time: 1, memoryKiB: 64, parallel: 2 };
    assert.notDeepEqual(
      argon2Noble('argon2i', te('x'), salt, p, 32),
      argon2Noble('argon2id', te('x'), salt, p, 32)
    );
    for (const bad of [
      { time: 0, memoryKiB: 64, parallel: 1 },
      { time: 1, memoryKiB: 4, parallel: 1 },
      { time: 1, memoryKiB: 64, parallel: 0 },
      { time: 1, memoryKiB: 2 ** 40, parallel: 1 },
    ]) {
      assert.throws(
        () => argon2Noble('argon2id', te('x'), salt, bad, 32),
        (e: unknown) => isVaultError(e, 'UNSUPPORTED_FEATURE')
      );
      assert.throws(
        () => argon2Wasm('argon2id', te('x'), salt, bad, 32),
        (e: unknown) => isVaultError(e, 'UNSUPPORTED_FEATURE')
      );
    }
  });
});

/** Sector ciphers: docs/spec/luks1.md §10.3 table, docs/spec/legacy-aes.md vector, provider cross-checks. */
import assert from 'node:assert/strict';
import { randomBytes as nodeRandom } from 'node:crypto';
import { describe, it } from 'node:test';
import { isVaultError } from '../api/errors.js';
import { fromHex, hex } from '../testing/bytes.js';
import { parseLuksCipher } from './cipher-spec.js';
import { createIvGenerator } from './ivgen.js';
import { nobleProvider } from './provider-noble.js';
import { nodeProvider } from './provider-node.js';
import { createLegacyAesCipher, createSectorCipher } from './sector-cipher.js';

const seq = (n: number) => new Uint8Array(n).map((_, i) => i);

describe('docs/spec/luks1.md §10.3 sector encryption table', () => {
  const rows: [string, number, number, number, string][] = [
    [
      'xts-plain64',
      64,
      0,
      0x5a,
      '31a029ae0c7dd86950175da6af2a1b245170331ec1757d5511f9a2ef04f0c0f9',
    ],
    [
      'xts-plain64',
      64,
      4736,
      0x5a,
      'e9123c138780100609276907e5290540a08c8eebf8889d1e2d43a94a4a1c1f9f',
    ],
    ['cbc-plain', 16, 0, 0, 'c6a13b37878f5b826f4f8162a1c8d879'],
    ['cbc-plain64', 16, 0, 0, 'c6a13b37878f5b826f4f8162a1c8d879'],
    ['cbc-plain', 16, 5, 0, '789dc76ccb52ce1c3db90ecb357af60e'],
    ['cbc-plain64', 16, 5, 0, '789dc76ccb52ce1c3db90ecb357af60e'],
    ['cbc-plain', 16, 2 ** 32 + 5, 0, '789dc76ccb52ce1c3db90ecb357af60e'],
    ['cbc-plain64', 16, 2 ** 32 + 5, 0, '0a18a6e750989acc6fbc58d73b08b2fb'],
    ['cbc-essiv:sha256', 16, 0, 0, 'cfbcd8b00b97a2022be8bb75168c55cf'],
    ['cbc-essiv:sha256', 16, 5, 0, 'cf353a91aa5f5ddd71a62976229fedd6'],
    ['cbc-essiv:sha256', 16, 2 ** 32 + 5, 0, '3059d84689da69397690556b734bf2a2'],
  ];
  for (const provider of [nodeProvider, nobleProvider]) {
    for (const [mode, keyBytes, sector, fill, expected] of rows) {
      it(`aes-${mode} sector ${sector} (${provider.name})`, () => {
        const c = createSectorCipher(
          parseLuksCipher('aes', mode, keyBytes),
          seq(keyBytes),
          512,
          provider
        );
        const buf = new Uint8Array(512).fill(fill);
        c.encrypt(buf, sector);
        assert.equal(hex(buf.subarray(0, expected.length / 2)), expected);
        c.decrypt(buf, sector);
        assert.ok(buf.every((b) => b === fill));
        c.dispose();
      });
    }
  }

  it('ESSIV IVs: salt = SHA-256(whole key) as an AES-256 key (§10.3 details)', () => {
    const ivs = new Uint8Array(16);
    const g16 = createIvGenerator(
      parseLuksCipher('aes', 'cbc-essiv:sha256', 16),
      seq(16),
      nodeProvider
    );
    g16.fill(ivs, 5, 1, 1);
    assert.equal(hex(ivs), '95cb2429690590ef31fec63972e51424');
    const g32 = createIvGenerator(
      parseLuksCipher('aes', 'cbc-essiv:sha256', 32),
      seq(32),
      nodeProvider
    );
    g32.fill(ivs, 5, 1, 1);
    assert.equal(hex(ivs), '1d3cc413699a46f844afd0adc387f14e');
  });

  it('plain / plain64 / plain64be IV layouts', () => {
    const s = 2 ** 40 + 0x01020304;
    const ivs = new Uint8Array(16);
    const gen = (mode: string) =>
      createIvGenerator(parseLuksCipher('aes', mode, 16), seq(16), nodeProvider);
    gen('cbc-plain').fill(ivs, s, 1, 1);
    assert.equal(hex(ivs), '04030201' + '00'.repeat(12));
    gen('cbc-plain64').fill(ivs, s, 1, 1);
    assert.equal(hex(ivs), '0403020100010000' + '00'.repeat(8));
    gen('cbc-plain64be').fill(ivs, s, 1, 1);
    assert.equal(hex(ivs), '00'.repeat(8) + '0000010001020304');
  });

  it('§10.1 keyslot 0 key material decrypts with the slot key (xts-plain64, sector 0)', () => {
    const slotKey = fromHex(
      '12f04b824369be9a333c7645b6838c4dec02511efb8e48c63fca6a47e8445f89' +
        '57da4666d00ad5b8e1bdc7977bbf356788ebe48fe8d7338106e3f4c2c4a1a252'
    );
    const c = createSectorCipher(parseLuksCipher('aes', 'xts-plain64', 64), slotKey);
    const sector = new Uint8Array(512);
    sector.set(fromHex('02006fc583ba9e9b226412c0d5c879902e33570fe473af37e3742fdcda742fdc'));
    c.decrypt(sector, 0); // XTS blocks are independent: the unknown tail does not matter
    assert.equal(
      hex(sector.subarray(0, 32)),
      'efec9c8f34275aad5cc21f99ab4d81f972c85c650aa4eaa520f40b5cdf41cf4e'
    );
  });
});

describe('legacy AES (docs/spec/legacy-aes.md §1)', () => {
  it('passphrase abc123, sector 2048, zeros', () => {
    for (const provider of [nodeProvider, nobleProvider]) {
      const c = createLegacyAesCipher(new TextEncoder().encode('abc123'), provider);
      const buf = new Uint8Array(512);
      c.encrypt(buf, 2048);
      assert.equal(hex(buf.subarray(0, 16)), 'ff711cd9bb90056f58f2da866330f2cf');
      c.decrypt(buf, 2048);
      assert.ok(buf.every((b) => b === 0));
    }
  });

  it('truncates at 16 bytes and at the first NUL', () => {
    const enc = (pw: string) => {
      const c = createLegacyAesCipher(new TextEncoder().encode(pw));
      const b = new Uint8Array(512);
      c.encrypt(b, 7);
      return hex(b);
    };
    assert.equal(enc('0123456789abcdefXYZ'), enc('0123456789abcdef'));
    assert.equal(enc('abc\0def'), enc('abc'));
    assert.notEqual(enc('abc'), enc('abd'));
  });
});

describe('node provider vs noble provider, random inputs', () => {
  const modes: [string, number[]][] = [];
  for (const iv of ['plain', 'plain64', 'plain64be', 'essiv:sha256', 'null']) {
    modes.push([`xts-${iv}`, [32, 48, 64]], [`cbc-${iv}`, [16, 24, 32]]);
  }
  modes.push(['ecb', [16, 24, 32]]);
  for (const [mode, sizes] of modes) {
    for (const keyBytes of sizes) {
      for (const sectorSize of [512, 4096]) {
        it(`aes-${mode} ${keyBytes}-byte key, ${sectorSize}-byte sectors`, () => {
          const spec = parseLuksCipher('aes', mode, keyBytes);
          const key = new Uint8Array(nodeRandom(keyBytes));
          const data = new Uint8Array(nodeRandom(sectorSize * 5));
          const sector = 2 ** 32 - 16 + (data[0] as number);
          const a = createSectorCipher(spec, key, sectorSize, nodeProvider);
          const b = createSectorCipher(spec, key, sectorSize, nobleProvider);
          const x = data.slice();
          const y = data.slice();
          a.encrypt(x, sector);
          b.encrypt(y, sector);
          assert.deepEqual(x, y);
          assert.notDeepEqual(x, data);
          b.decrypt(x, sector);
          assert.deepEqual(x, data);
          a.decrypt(y, sector);
          assert.deepEqual(y, data);
          // Unit k uses IV sector ivSector + k·sectorSize/512 (docs/spec/luks2.md §4).
          const tail = data.slice(sectorSize);
          a.encrypt(tail, sector + sectorSize / 512);
          const whole = data.slice();
          a.encrypt(whole, sector);
          assert.deepEqual(whole.subarray(sectorSize), tail);
          a.dispose();
          b.dispose();
        });
      }
    }
  }
});

describe('sector cipher argument checks', () => {
  const spec = parseLuksCipher('aes', 'xts-plain64', 64);
  const key = seq(64);
  const code = (f: () => void, c: string) =>
    assert.throws(f, (e: unknown) => isVaultError(e) && e.code === c);

  it('refuses bad key length, sector size, data length and IV sector', () => {
    code(() => createSectorCipher(spec, seq(32)), 'INVALID_ARGUMENT');
    code(() => createSectorCipher(spec, key, 1000), 'UNSUPPORTED_FEATURE');
    const c = createSectorCipher(spec, key);
    code(() => c.encrypt(new Uint8Array(100), 0), 'INVALID_ARGUMENT');
    code(() => c.encrypt(new Uint8Array(512), -1), 'INVALID_ARGUMENT');
    code(() => c.encrypt(new Uint8Array(512), 2 ** 53), 'INVALID_ARGUMENT');
    code(() => c.encrypt(new Uint8Array(512), 1.5), 'INVALID_ARGUMENT');
    c.dispose();
    code(() => c.decrypt(new Uint8Array(512), 0), 'INTERNAL');
  });

  it('copies the key: wiping the caller buffer does not change the cipher', () => {
    const k = seq(64);
    const c = createSectorCipher(spec, k);
    k.fill(0);
    const buf = new Uint8Array(512).fill(0x5a);
    c.encrypt(buf, 0);
    assert.equal(hex(buf.subarray(0, 4)), '31a029ae');
  });
});

describe('CBC encryption paths', () => {
  it('interleaved (many short units) equals one CBC chain per unit', async () => {
    const { cbcEncryptInterleaved } = await import('./cbc.js');
    for (const provider of [nodeProvider, nobleProvider]) {
      const key = new Uint8Array(nodeRandom(32));
      const aes = provider.create(key);
      const data = new Uint8Array(nodeRandom(512 * 40));
      const ivs = new Uint8Array(nodeRandom(16 * 40));
      const a = data.slice();
      const b = data.slice();
      aes.encryptCbcUnits(a, 512, ivs);
      cbcEncryptInterleaved(aes, new Int32Array(b.buffer), 512, new Int32Array(ivs.slice().buffer));
      assert.deepEqual(a, b);
      aes.dispose();
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVaultError } from '../../api/errors.js';
import { parseDmCipher } from '../../crypto/cipher-spec.js';
import { pbkdf2 } from '../../crypto/pbkdf2.js';
import { MemoryDevice } from '../../io/memory-device.js';
import { fromHex, hex } from '../../testing/bytes.js';
import { headerIOForDevice } from './header-io.js';
import { inspectLuks } from './inspect.js';
import { buildKeyMaterial } from './key-material.js';
import {
  addKeyslot,
  changePassphrase,
  removeKeyslots,
  testPassphrase,
  unlockLuks,
} from './keyslots.js';
import { buildLuks2Copy } from './luks2-write.js';

const enc = (s: string) => new TextEncoder().encode(s);
const PASS = enc('correct horse');
const VK = Uint8Array.from({ length: 64 }, (_, i) => i);
const SLOT_SALT = fromHex('59c22bcf761efc057ccb4243c787ef5b46e3c59f5bad50494cd2d0c2c5718cc2');
const DIGEST_SALT = fromHex('519b0a080a32911e3537b5290cd7d1e76baa391d5e259c898163e7f08ee36d28');
const DIGEST = fromHex('4305ec7ab31cabf26900af9a72cde03c9ca66a465c613995db414e261f0a926b');
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const HDR = 16384;
const DATA_OFFSET = 16777216;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The docs/spec/luks2.md §7 volume (pbkdf2 keyslot 0 only), as cryptsetup lays it out. */
function vectorMeta(): Json {
  return {
    keyslots: {
      '0': {
        type: 'luks2',
        key_size: 64,
        af: { type: 'luks1', stripes: 4000, hash: 'sha256' },
        area: {
          type: 'raw',
          offset: '32768',
          size: '258048',
          encryption: 'aes-xts-plain64',
          key_size: 64,
        },
        kdf: { type: 'pbkdf2', hash: 'sha256', iterations: 1000, salt: b64(SLOT_SALT) },
      },
    },
    tokens: {},
    segments: {
      '0': {
        type: 'crypt',
        offset: String(DATA_OFFSET),
        size: 'dynamic',
        iv_tweak: '0',
        encryption: 'aes-xts-plain64',
        sector_size: 4096,
      },
    },
    digests: {
      '0': {
        type: 'pbkdf2',
        keyslots: ['0'],
        segments: ['0'],
        hash: 'sha256',
        iterations: 1000,
        salt: b64(DIGEST_SALT),
        digest: b64(DIGEST),
      },
    },
    config: { json_size: '12288', keyslots_size: '16744448' },
  };
}

async function build(
  mutate: (m: Json) => void = () => {},
  opts: { seq2?: bigint; damage?: 'primary' | 'both' } = {}
) {
  const meta = vectorMeta();
  mutate(meta);
  const fields = {
    hdrSize: HDR,
    seqid: 4n,
    uuid: '11111111-2222-3333-4444-555555555555',
    json: JSON.stringify(meta),
  };
  const dev = new MemoryDevice(new Uint8Array(DATA_OFFSET + 65536));
  await dev.write(buildLuks2Copy(fields, 0), 0);
  await dev.write(buildLuks2Copy({ ...fields, seqid: opts.seq2 ?? 4n }, HDR), HDR);
  if (opts.damage) await dev.write(new Uint8Array([1]), 5000);
  if (opts.damage === 'both') await dev.write(new Uint8Array([1]), HDR + 5000);
  const slotKey = pbkdf2('sha256', PASS, SLOT_SALT, 1000, 64);
  await dev.write(
    buildKeyMaterial(parseDmCipher('aes-xts-plain64', 64), slotKey, VK, 4000, 'sha256'),
    32768
  );
  return { dev, io: headerIOForDevice(dev, await dev.size()) };
}

async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e) => isVaultError(e) && e.code === code);
}

describe('LUKS2 (docs/spec/luks2.md §7 vector)', () => {
  it('unlocks the pbkdf2 keyslot to the known volume key', async () => {
    const { io } = await build();
    const u = await unlockLuks(io, PASS);
    assert.equal(u.version, 2);
    assert.equal(u.slot, 0);
    assert.equal(hex(u.masterKey), hex(VK));
    assert.equal(u.sectorSize, 4096);
    assert.equal(u.payloadOffset, DATA_OFFSET);
    assert.equal(u.ivTweak, 0);
    assert.equal(u.payloadSize, undefined);
    u.dispose();
    await rejects(unlockLuks(io, enc('wrong')), 'WRONG_PASSPHRASE');
  });

  it('inspects version, cipher, sector size and keyslots', async () => {
    const { io } = await build((m) => {
      m.keyslots['1'] = {
        ...m.keyslots['0'],
        area: { ...m.keyslots['0'].area, offset: '290816' },
        kdf: { type: 'argon2id', time: 4, memory: 32768, cpus: 1, salt: b64(new Uint8Array(32)) },
      };
      m.digests['0'].keyslots.push('1');
    });
    const info = await inspectLuks(io);
    assert.equal(info.version, 2);
    assert.equal(info.cipherAlg, 'aes-256');
    assert.equal(info.cipherMode, 'xts');
    assert.equal(info.ivgenAlg, 'plain64');
    assert.equal(info.sectorSize, 4096);
    assert.equal(info.payloadOffset, DATA_OFFSET);
    assert.equal(info.masterKeyIters, 1000);
    assert.deepEqual(info.slots[1], {
      slot: 1,
      active: true,
      stripes: 4000,
      keyOffset: 568,
      cipher: 'aes-xts-plain64',
      priority: 1,
      iterations: 4,
      kdf: 'argon2id',
      memoryKiB: 32768,
      parallel: 1,
    });
  });

  it('falls back to the secondary header and prefers the higher seqid', async () => {
    const { io } = await build(() => {}, { damage: 'primary' });
    assert.equal(await testPassphrase(io, PASS), 0);
    const both = await build(() => {}, { damage: 'both' });
    await rejects(inspectLuks(both.io), 'CORRUPT');
    // Secondary with a higher seqid and different content wins.
    const meta = vectorMeta();
    meta.segments['0'].sector_size = 512;
    const newer = await build();
    await newer.dev.write(
      buildLuks2Copy({ hdrSize: HDR, seqid: 9n, uuid: 'x', json: JSON.stringify(meta) }, HDR),
      HDR
    );
    assert.equal((await inspectLuks(newer.io)).sectorSize, 512);
  });

  const hostile: [string, (m: Json) => void, string][] = [
    ['json_size mismatch', (m) => (m.config.json_size = '4096'), 'CORRUPT'],
    ['area outside the keyslots area', (m) => (m.keyslots['0'].area.offset = '4096'), 'CORRUPT'],
    ['64-bit number not a string', (m) => (m.segments['0'].offset = 16777216), 'CORRUPT'],
  ];
  for (const [name, mutate, code] of hostile) {
    it(`${name} → ${code}`, async () => {
      const { io } = await build(mutate);
      await rejects(inspectLuks(io), code);
    });
  }

  for (const [name, mutate, reason] of [
    ['key_size huge', (m: Json) => (m.keyslots['0'].key_size = 1 << 30), /key size/],
    [
      'argon2 memory absurd',
      (m: Json) =>
        (m.keyslots['0'].kdf = {
          type: 'argon2id',
          time: 4,
          memory: 2 ** 40,
          cpus: 1,
          salt: b64(SLOT_SALT),
        }),
      /memory cost/,
    ],
  ] as const) {
    it(`${name}: the keyslot is listed as unusable, the header loads`, async () => {
      const { io } = await build(mutate);
      const info = await inspectLuks(io);
      assert.match(info.slots[0]!.unusableReason ?? '', reason);
      await rejects(testPassphrase(io, PASS), 'WRONG_PASSPHRASE');
    });
  }

  it('hdr_size outside the allowed set → CORRUPT', async () => {
    const { dev, io } = await build();
    const copy = buildLuks2Copy(
      { hdrSize: HDR, seqid: 5n, uuid: 'u', json: JSON.stringify(vectorMeta()) },
      0
    );
    new DataView(copy.buffer).setBigUint64(8, 20000n);
    await dev.write(copy, 0);
    await dev.write(new Uint8Array(4096), HDR); // no secondary either
    await rejects(inspectLuks(io), 'CORRUPT');
  });

  for (const [name, mutate] of [
    [
      'mandatory requirement',
      (m: Json) => (m.config.requirements = { mandatory: ['some-future-feature'] }),
    ],
    [
      'integrity',
      (m: Json) =>
        (m.segments['0'].integrity = {
          type: 'hmac(sha256)',
          journal_encryption: 'none',
          journal_integrity: 'none',
        }),
    ],
  ] as const) {
    it(`${name}: inspect lists it, unlock refuses`, async () => {
      const { io } = await build(mutate);
      assert.ok((await inspectLuks(io)).unsupportedReason);
      await rejects(unlockLuks(io, PASS), 'UNSUPPORTED_FEATURE');
    });
  }

  it('keyslot add / change / remove round trip', async () => {
    const { io, dev } = await build();
    assert.equal(await addKeyslot(io, PASS, enc('second'), { iterations: 1000 }), 1);
    assert.equal(await testPassphrase(io, enc('second')), 1);
    assert.equal((await inspectLuks(io)).slots[1]!.keyOffset, (32768 + 258048) / 512);
    await rejects(addKeyslot(io, PASS, enc('x'), { slot: 1, iterations: 1000 }), 'KEYSLOT_ACTIVE');
    assert.deepEqual(
      await changePassphrase(io, enc('second'), enc('third'), { iterations: 1000 }),
      {
        slot: 2,
        removed: [1],
      }
    );
    await rejects(testPassphrase(io, enc('second')), 'WRONG_PASSPHRASE');
    const before = dev.bytes().slice(32768, 32768 + 4096);
    assert.deepEqual(await removeKeyslots(io, { passphrase: PASS }), [0]);
    assert.notDeepEqual(dev.bytes().slice(32768, 32768 + 4096), before);
    await rejects(removeKeyslots(io, { slot: 2 }), 'LAST_KEYSLOT');
    await rejects(removeKeyslots(io, { slot: 0 }), 'KEYSLOT_INACTIVE');
    const u = await unlockLuks(io, enc('third'));
    assert.equal(hex(u.masterKey), hex(VK));
    u.dispose();
    // Both header copies were rewritten with a higher seqid.
    const view = new DataView(dev.bytes().buffer);
    assert.equal(view.getBigUint64(16), view.getBigUint64(HDR + 16));
    assert.ok(view.getBigUint64(16) > 4n);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVaultError } from '../../api/errors.js';
import { parseLuksCipher } from '../../crypto/cipher-spec.js';
import { pbkdf2 } from '../../crypto/pbkdf2.js';
import { createSectorCipher } from '../../crypto/sector-cipher.js';
import { MemoryDevice } from '../../io/memory-device.js';
import { fromHex, hex } from '../../testing/bytes.js';
import type { HeaderIO } from '../encryption.js';
import { headerIOForDevice } from './header-io.js';
import { inspectLuks } from './inspect.js';
import { buildKeyMaterial } from './key-material.js';
import { testPassphrase, unlockLuks } from './keyslots.js';
import {
  disabledSlot,
  LUKS1_HEADER_SIZE,
  luks1Geometry,
  serializeLuks1Header,
  type Luks1Header,
} from './luks1-header.js';

const enc = (s: string) => new TextEncoder().encode(s);
const PASS = enc('correct horse');
const MK = Uint8Array.from({ length: 64 }, (_, i) => i);
const SLOT_SALT = fromHex('62189a6ab82d47d7828b505b81c814c4e51c251af86c75a148f61d41f905e33c');
const MK_SALT = fromHex('ca0c09585d7c0b24b30abf3c26a21aa287e10ac3c0e45575c5f8311dc6072395');
const MK_DIGEST = fromHex('c16293ec64c3b3b333abfc07a6c0667f8107189d');

/** The docs/spec/luks1.md §10.1 header (key material regenerated: AF stripes are random). */
function vectorHeader(): Luks1Header {
  const { keyOffsets } = luks1Geometry(64);
  const slots = keyOffsets.map((o) => disabledSlot(o));
  slots[0] = { active: true, iterations: 1000, salt: SLOT_SALT, keyOffset: 8, stripes: 4000 };
  return {
    cipherName: 'aes',
    cipherMode: 'xts-plain64',
    hashSpec: 'sha256',
    payloadOffset: 4096,
    keyBytes: 64,
    mkDigest: MK_DIGEST,
    mkDigestSalt: MK_SALT,
    mkDigestIterations: 1000,
    uuid: '11111111-2222-3333-4444-555555555555',
    slots,
  };
}

async function vectorDevice(): Promise<{ dev: MemoryDevice; io: HeaderIO }> {
  const dev = new MemoryDevice(new Uint8Array(3 * 1024 * 1024));
  const spec = parseLuksCipher('aes', 'xts-plain64', 64);
  const slotKey = pbkdf2('sha256', PASS, SLOT_SALT, 1000, 64);
  await dev.write(serializeLuks1Header(vectorHeader()), 0);
  await dev.write(buildKeyMaterial(spec, slotKey, MK, 4000, 'sha256'), 8 * 512);
  return { dev, io: headerIOForDevice(dev, 3 * 1024 * 1024) };
}

async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e) => isVaultError(e) && e.code === code);
}

describe('LUKS1 header vector (docs/spec/luks1.md §10.1)', () => {
  it('slot key and master-key digest match the published values', () => {
    const slotKey = pbkdf2('sha256', PASS, SLOT_SALT, 1000, 64);
    assert.equal(
      hex(slotKey),
      '12f04b824369be9a333c7645b6838c4dec02511efb8e48c63fca6a47e8445f8957da4666d00ad5b8e1bdc7977bbf356788ebe48fe8d7338106e3f4c2c4a1a252'
    );
    assert.equal(hex(pbkdf2('sha256', MK, MK_SALT, 1000, 20)), hex(MK_DIGEST));
    // First 32 bytes of cryptsetup's key material decrypt to stripe 0's start.
    const sector = new Uint8Array(512);
    sector.set(fromHex('02006fc583ba9e9b226412c0d5c879902e33570fe473af37e3742fdcda742fdc'));
    const sc = createSectorCipher(parseLuksCipher('aes', 'xts-plain64', 64), slotKey);
    sc.decrypt(sector, 0);
    sc.dispose();
    assert.equal(
      hex(sector.subarray(0, 32)),
      'efec9c8f34275aad5cc21f99ab4d81f972c85c650aa4eaa520f40b5cdf41cf4e'
    );
  });

  it('a header built from the vector unlocks to the known master key', async () => {
    const { io } = await vectorDevice();
    const u = await unlockLuks(io, PASS);
    assert.equal(u.version, 1);
    assert.equal(u.slot, 0);
    assert.equal(hex(u.masterKey), hex(MK));
    assert.equal(u.payloadOffset, 4096 * 512);
    assert.equal(u.sectorSize, 512);
    u.dispose();
    assert.ok(
      u.masterKey.every((b) => b === 0),
      'dispose wipes the key'
    );
  });

  it('inspect shows qemu-img info style fields', async () => {
    const { io } = await vectorDevice();
    const info = await inspectLuks(io);
    assert.equal(info.version, 1);
    assert.equal(info.cipherAlg, 'aes-256');
    assert.equal(info.cipherMode, 'xts');
    assert.equal(info.ivgenAlg, 'plain64');
    assert.equal(info.hashAlg, 'sha256');
    assert.equal(info.payloadOffset, 2097152);
    assert.equal(info.masterKeyIters, 1000);
    assert.equal(info.uuid, '11111111-2222-3333-4444-555555555555');
    assert.deepEqual(
      info.slots.map((s) => [s.active, s.keyOffset, s.stripes]),
      [8, 512, 1016, 1520, 2024, 2528, 3032, 3536].map((o, i) => [i === 0, o, 4000])
    );
    assert.equal(info.unsupportedReason, undefined);
  });

  it('wrong passphrase is WRONG_PASSPHRASE', async () => {
    const { io } = await vectorDevice();
    await rejects(unlockLuks(io, enc('correct horse\n')), 'WRONG_PASSPHRASE');
    await rejects(testPassphrase(io, enc('nope')), 'WRONG_PASSPHRASE');
  });
});

describe('hostile LUKS1 headers', () => {
  async function withHeader(mutate: (b: Uint8Array, dv: DataView) => void, length = 3 << 20) {
    const { dev } = await vectorDevice();
    const bytes = dev.bytes();
    mutate(bytes, new DataView(bytes.buffer));
    const d = new MemoryDevice(bytes.subarray(0, Math.min(bytes.length, length)));
    return headerIOForDevice(d, Math.min(bytes.length, length));
  }
  const cases: [string, (b: Uint8Array, dv: DataView) => void, string][] = [
    ['bad magic', (b) => (b[0] = 0x4d), 'NOT_AN_IMAGE'],
    ['key_bytes huge', (_b, dv) => dv.setUint32(108, 0xfffffff0), 'CORRUPT'],
    ['key_bytes zero', (_b, dv) => dv.setUint32(108, 0), 'CORRUPT'],
    [
      'stripes != 4000 in a disabled slot',
      (_b, dv) => dv.setUint32(208 + 48 * 5 + 44, 3999),
      'CORRUPT',
    ],
    ['overlapping key areas', (_b, dv) => dv.setUint32(208 + 48 * 1 + 40, 100), 'CORRUPT'],
    ['key area inside the 592-byte header', (_b, dv) => dv.setUint32(208 + 40, 1), 'CORRUPT'],
    ['key area overlapping the payload', (_b, dv) => dv.setUint32(104, 3000), 'CORRUPT'],
    ['active slot with 0 iterations', (_b, dv) => dv.setUint32(208 + 4, 0), 'CORRUPT'],
    ['bad slot marker', (_b, dv) => dv.setUint32(208 + 48 * 2, 0x12345678), 'CORRUPT'],
    ['mk iterations 0', (_b, dv) => dv.setUint32(164, 0), 'CORRUPT'],
    ['cipher name without NUL', (b) => b.fill(0x61, 8, 40), 'CORRUPT'],
    ['version 3', (_b, dv) => dv.setUint16(6, 3), 'UNSUPPORTED_FEATURE'],
  ];
  for (const [name, mutate, code] of cases) {
    it(`${name} → ${code}`, async () => {
      const io = await withHeader(mutate);
      await rejects(inspectLuks(io), code);
      await rejects(unlockLuks(io, PASS), code);
    });
  }

  it('truncated header and truncated key area → TRUNCATED', async () => {
    await rejects(inspectLuks(await withHeader(() => {}, 300)), 'TRUNCATED');
    await rejects(inspectLuks(await withHeader(() => {}, LUKS1_HEADER_SIZE + 10)), 'TRUNCATED');
    await rejects(unlockLuks(await withHeader(() => {}, 100_000), PASS), 'TRUNCATED');
  });

  it('unsupported cipher is listed, and unlock refuses before trying', async () => {
    const io = await withHeader((b) => {
      b.fill(0, 8, 40);
      b.set(enc('serpent'), 8);
    });
    const info = await inspectLuks(io);
    assert.equal(info.cipherAlg, 'serpent-256');
    assert.match(info.unsupportedReason ?? '', /serpent/);
    await rejects(unlockLuks(io, enc('anything')), 'UNSUPPORTED_CIPHER');
  });
});

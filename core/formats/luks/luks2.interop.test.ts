/**
 * Interop: LUKS2 volumes made by cryptsetup 2.6 (pbkdf2 / argon2id, 512- and 4096-byte
 * sectors; data written with the offline `cryptsetup reencrypt --encrypt` recipes of
 * docs/spec/README.md) inspect and decrypt correctly in our code.
 */
import assert from 'node:assert/strict';
import { copyFile, readFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileDevice } from '../../io/file-device.js';
import { patternBytes } from '../../testing/bytes.js';
import { passphraseFile, peerTestOptions, run, runOk, scratchDir } from '../../testing/peers.js';
import { dataCipherFor } from './data-cipher.js';
import { headerIOForDevice } from './header-io.js';
import { inspectLuks } from './inspect.js';
import {
  addKeyslot,
  changePassphrase,
  removeKeyslots,
  testPassphrase,
  unlockLuks,
} from './keyslots.js';
import { openRawLuks } from './raw-luks.js';
import { writeFile } from 'node:fs/promises';

const enc = (s: string) => new TextEncoder().encode(s);
const PASS = 'abc123';
const MiB = 1024 * 1024;
const FAST_PBKDF2 = ['--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '1000'];
const FAST_ARGON = [
  '--pbkdf',
  'argon2id',
  '--pbkdf-force-iterations',
  '4',
  '--pbkdf-memory',
  '32768',
  '--pbkdf-parallel',
  '1',
];

/** Our argon2id keyslots with the fast costs cryptsetup's tests use. */
const FAST_OURS_ARGON = { iterations: 4, memoryKiB: 32768, parallel: 1 };

describe('cryptsetup LUKS2 in our code', peerTestOptions('cryptsetup'), () => {
  let dir = '';
  let cleanup: () => Promise<void> = async () => {};
  let pw = '';
  const plain = patternBytes(4 * MiB, 11);
  let plainPath = '';
  before(async () => {
    ({ dir, cleanup } = await scratchDir('iv-luks2-'));
    pw = await passphraseFile(dir, 'pw', PASS);
    plainPath = join(dir, 'plain.bin');
    await writeFile(plainPath, plain);
  });
  after(() => cleanup());

  async function attached(name: string, extra: string[]): Promise<string> {
    const path = join(dir, name);
    await copyFile(plainPath, path);
    await truncate(path, plain.length + 32 * MiB);
    await runOk('cryptsetup', [
      'reencrypt',
      '--encrypt',
      '--type',
      'luks2',
      '--batch-mode',
      '--key-file',
      pw,
      '--reduce-device-size',
      '32M',
      ...extra,
      path,
    ]);
    return path;
  }

  async function readAll(
    path: string,
    pass = PASS
  ): Promise<{ data: Uint8Array; sectorSize: number }> {
    const img = await openRawLuks(await FileDevice.open(path), {
      passphrase: enc(pass),
      threads: 0,
    });
    try {
      const data = new Uint8Array(Math.min(img.virtualSize, plain.length));
      await img.read(data, 0);
      return { data, sectorSize: img.info.sectorSize ?? 0 };
    } finally {
      await img.close();
    }
  }

  for (const [name, extra, sector, kdf] of [
    ['pbkdf2, 512-byte sectors', [...FAST_PBKDF2, '--sector-size', '512'], 512, 'pbkdf2'],
    ['argon2id, 4096-byte sectors', [...FAST_ARGON, '--sector-size', '4096'], 4096, 'argon2id'],
    [
      'argon2i (2 lanes), 512-byte sectors',
      [
        ...FAST_ARGON.map((a) => (a === 'argon2id' ? 'argon2i' : a === '1' ? '2' : a)),
        '--sector-size',
        '512',
      ],
      512,
      'argon2i',
    ],
    [
      'pbkdf2 sha512, aes-cbc-essiv:sha256 256-bit, 4096',
      [
        ...FAST_PBKDF2,
        '--hash',
        'sha512',
        '--cipher',
        'aes-cbc-essiv:sha256',
        '--key-size',
        '256',
        '--sector-size',
        '4096',
      ],
      4096,
      'pbkdf2',
    ],
  ] as const) {
    it(`attached header, ${name}: inspect and data`, async () => {
      const path = await attached(`a-${sector}-${kdf}-${name.length}.img`, [...extra]);
      const dev = await FileDevice.open(path);
      const info = await inspectLuks(headerIOForDevice(dev, await dev.size()));
      await dev.close();
      const json = JSON.parse(
        await runOk('cryptsetup', ['luksDump', '--dump-json-metadata', path])
      );
      assert.equal(info.version, 2);
      assert.equal(info.sectorSize, sector);
      assert.equal(info.payloadOffset, Number(json.segments['0'].offset));
      assert.equal(info.slots[0]!.kdf, kdf);
      assert.equal(info.slots[0]!.iterations, kdf === 'pbkdf2' ? 1000 : 4);
      assert.equal(info.unsupportedReason, undefined);
      const { data } = await readAll(path);
      assert.ok(
        Buffer.from(data).equals(Buffer.from(plain)),
        'decrypted payload equals the plaintext'
      );
    });
  }

  it('detached header (data encrypted in place), 4096-byte sectors: IVs count 512-byte units', async () => {
    const data = join(dir, 'detached.img');
    const hdr = join(dir, 'detached.hdr');
    await copyFile(plainPath, data);
    await runOk('cryptsetup', [
      'reencrypt',
      '--encrypt',
      '--type',
      'luks2',
      '--header',
      hdr,
      '--batch-mode',
      '--key-file',
      pw,
      ...FAST_PBKDF2,
      '--sector-size',
      '4096',
      data,
    ]);
    const hdev = await FileDevice.open(hdr);
    const u = await unlockLuks(headerIOForDevice(hdev, await hdev.size()), enc(PASS));
    await hdev.close();
    assert.equal(u.version, 2);
    assert.equal(u.sectorSize, 4096);
    assert.equal(u.payloadOffset, 0);
    const cipher = await dataCipherFor(u, { threads: 0 });
    u.dispose();
    const ct = new Uint8Array(await readFile(data));
    assert.ok(!Buffer.from(ct.subarray(0, 4096)).equals(Buffer.from(plain.subarray(0, 4096))));
    const pt = await cipher.decrypt(ct, u.ivTweak);
    await cipher.dispose();
    assert.ok(Buffer.from(pt).equals(Buffer.from(plain)));
  });

  it('luksAddKey argon2id slot and luksKillSlot on LUKS2', async () => {
    const path = await attached('slots2.img', [...FAST_PBKDF2]);
    const other = await passphraseFile(dir, 'other', 'second');
    await runOk('cryptsetup', [
      'luksAddKey',
      '--batch-mode',
      '--key-file',
      pw,
      ...FAST_ARGON,
      path,
      other,
    ]);
    const dev = await FileDevice.open(path);
    const io = headerIOForDevice(dev, await dev.size());
    try {
      assert.equal(await testPassphrase(io, enc('second')), 1);
      await runOk('cryptsetup', ['luksKillSlot', '--batch-mode', '--key-file', other, path, '0']);
      await assert.rejects(testPassphrase(io, enc(PASS)), /does not open/);
      assert.equal(await testPassphrase(io, enc('second')), 1);
      const info = await inspectLuks(io);
      assert.equal(info.slots.length, 32);
      assert.deepEqual(
        info.slots.filter((s) => s.active).map((s) => [s.slot, s.kdf]),
        [[1, 'argon2id']]
      );
    } finally {
      await dev.close();
    }
  });

  it('our LUKS2 add / change / remove are accepted by cryptsetup', async () => {
    const path = await attached('ours2.img', [...FAST_ARGON, '--sector-size', '4096']);
    const files = {
      a: pw,
      b: await passphraseFile(dir, 'b2', 'bravo'),
      c: await passphraseFile(dir, 'c2', 'charlie'),
    };
    const opens = async (f: string) =>
      (await run('cryptsetup', ['open', '--test-passphrase', '--key-file', f, path])).code === 0;
    const dev = await FileDevice.open(path, { write: true });
    const io = headerIOForDevice(dev, await dev.size());
    try {
      assert.equal(await addKeyslot(io, enc(PASS), enc('bravo'), FAST_OURS_ARGON), 1);
    } finally {
      await dev.close();
    }
    await runOk('cryptsetup', ['luksDump', path]);
    assert.equal(await opens(files.a), true);
    assert.equal(await opens(files.b), true);
    assert.equal(await opens(files.c), false);
    const dev2 = await FileDevice.open(path, { write: true });
    const io2 = headerIOForDevice(dev2, await dev2.size());
    try {
      assert.deepEqual(await changePassphrase(io2, enc('bravo'), enc('charlie'), FAST_OURS_ARGON), {
        slot: 2,
        removed: [1],
      });
      assert.deepEqual(await removeKeyslots(io2, { slot: 0 }), [0]);
    } finally {
      await dev2.close();
    }
    const json = JSON.parse(await runOk('cryptsetup', ['luksDump', '--dump-json-metadata', path]));
    assert.deepEqual(Object.keys(json.keyslots), ['2']);
    // Keyslots added to an argon2id volume are argon2id (luks2-keyslots.ts).
    assert.equal(json.keyslots['2'].kdf.type, 'argon2id');
    assert.equal(json.keyslots['2'].kdf.memory, 32768);
    assert.deepEqual(json.digests['0'].keyslots, ['2']);
    assert.equal(await opens(files.a), false);
    assert.equal(await opens(files.b), false);
    assert.equal(await opens(files.c), true);
    const { data } = await readAll(path, 'charlie');
    assert.ok(Buffer.from(data).equals(Buffer.from(plain)));
  });
});

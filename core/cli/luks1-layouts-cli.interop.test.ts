/**
 * Interop (CLI): LUKS1 layouts of cryptsetup's 1.0 era — key material right after the 592-byte
 * header (sector 2), slots packed without 4 KiB alignment — built from the spec (docs/spec/luks1.md
 * §1–§3) by moving a cryptsetup-made volume's key material, are accepted by cryptsetup and by
 * us; real overlaps (another slot, the header, the payload) are refused by both.
 */
import assert from 'node:assert/strict';
import { open, readFile, truncate, writeFile, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli } from '../testing/cli.js';
import { qemuIoLuks } from '../testing/luks-peers.js';
import { cryptsetupVerdict } from '../testing/luks2-edit.js';
import {
  passphraseFile,
  peerTestOptions,
  qemuSecret,
  runOk,
  scratchDir,
} from '../testing/peers.js';

/** Sectors of key material for a 32-byte key (4000 stripes). */
const KM = 250;

/** Rewrites keyslot offsets (and moves slot 0's material, the only active one). */
async function relocate(path: string, offsets: number[], payload?: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    const hdr = Buffer.alloc(592);
    await fh.read(hdr, 0, 592, 0);
    const old0 = hdr.readUInt32BE(208 + 40);
    const material = Buffer.alloc(KM * 512);
    await fh.read(material, 0, material.length, old0 * 512);
    offsets.forEach((o, i) => hdr.writeUInt32BE(o, 208 + 48 * i + 40));
    if (payload !== undefined) hdr.writeUInt32BE(payload, 104);
    await fh.write(material, 0, material.length, offsets[0]! * 512);
    await fh.write(hdr, 0, 592, 0);
  } finally {
    await fh.close();
  }
}

/** cryptsetup 1.0: slot i at 2 + 250·i, no alignment. */
const PACKED = Array.from({ length: 8 }, (_, i) => 2 + KM * i);

describe('old LUKS1 layouts (CLI)', peerTestOptions('cryptsetup', 'qemu-io'), () => {
  let dir = '';
  let cleanup: () => Promise<void> = async () => {};
  let pw = '';
  let pw2 = '';
  let base = '';
  let n = 0;

  before(async () => {
    ({ dir, cleanup } = await scratchDir('iv-luks1old-'));
    pw = await passphraseFile(dir, 'pw', 'abc123');
    pw2 = await passphraseFile(dir, 'pw2', 'second');
    base = join(dir, 'base.img');
    await writeFile(base, '');
    await truncate(base, 8 << 20);
    await runOk('cryptsetup', [
      'luksFormat',
      '--batch-mode',
      '--type',
      'luks1',
      '--cipher',
      'aes-cbc-essiv:sha256',
      '--key-size',
      '256',
      '--pbkdf-force-iterations',
      '1000',
      '--key-file',
      pw,
      base,
    ]);
    const secret = await qemuSecret(dir, 's', 'abc123');
    await qemuIoLuks(base, secret, ['write -P 0x6b 0 64k', 'write -P 0x21 1M 4k']);
  });
  after(() => cleanup());

  async function variant(offsets: number[], payload?: number): Promise<string> {
    const p = join(dir, `v${n++}.img`);
    await copyFile(base, p);
    await relocate(p, offsets, payload);
    return p;
  }

  it('key material from sector 2, slots packed: cryptsetup and we open it, read and add keys', async () => {
    const path = await variant(PACKED);
    const cs = await cryptsetupVerdict(path, pw);
    assert.deepEqual([cs.isLuks, cs.dump, cs.opens], [true, true, true]);
    const info = JSON.parse((await cli('info', '--json', path)).stdout);
    const slots = info['format-specific'].data.slots;
    assert.deepEqual(
      slots.map((s: { 'key-offset': number }) => s['key-offset'] / 512),
      PACKED
    );
    assert.equal((await cli('keyslot', 'test', path, '--passphrase-file', pw)).code, 0);
    const out = join(dir, 'old.raw');
    const r = await cli('convert', '-O', 'raw', '--source-passphrase-file', pw, path, out);
    assert.equal(r.code, 0, r.stderr);
    const data = await readFile(out);
    assert.ok(data.subarray(0, 65536).every((b) => b === 0x6b));
    assert.ok(data.subarray(1 << 20, (1 << 20) + 4096).every((b) => b === 0x21));
    const add = await cli(
      'keyslot',
      'add',
      path,
      '--passphrase-file',
      pw,
      '--new-passphrase-file',
      pw2,
      '--iterations',
      '1000'
    );
    assert.equal(add.code, 0, add.stderr);
    assert.equal(
      (await cryptsetupVerdict(path, pw2)).opens,
      true,
      'cryptsetup opens our slot 1 at sector 252'
    );
  });

  const refused: [string, number[], number | undefined, RegExp][] = [
    [
      'slot 1 overlapping slot 0',
      PACKED.map((o, i) => (i === 1 ? o - 1 : o)),
      undefined,
      /keyslots 0 and 1 key material overlap/,
    ],
    [
      'slot 0 inside the 592-byte header',
      PACKED.map((o, i) => (i === 0 ? 1 : o)),
      undefined,
      /keyslot 0 key material overlaps the header/,
    ],
    [
      'slot 7 running into the payload',
      PACKED,
      2001,
      /keyslot 7 key material overlaps the payload/,
    ],
  ];
  for (const [name, offsets, payload, message] of refused) {
    it(`refused by both: ${name}`, async () => {
      const path = await variant(offsets, payload);
      assert.equal((await cryptsetupVerdict(path, pw)).isLuks, false);
      const r = await cli('info', path);
      assert.equal(r.code, 1);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /\[CORRUPT\]/);
    });
  }
});

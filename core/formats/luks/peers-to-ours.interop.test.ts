/**
 * Interop: LUKS1 volumes made by cryptsetup 2.6 and qemu-img 7.2 open in our code, and our
 * raw-LUKS reads equal `qemu-img convert -O raw`.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileDevice } from '../../io/file-device.js';
import { hex } from '../../testing/bytes.js';
import {
  passphraseFile,
  peerTestOptions,
  qemuSecret,
  runOk,
  scratchDir,
} from '../../testing/peers.js';
import { headerIOForDevice } from './header-io.js';
import { inspectLuks } from './inspect.js';
import { testPassphrase, unlockLuks } from './keyslots.js';
import { openRawLuks } from './raw-luks.js';
import {
  cryptsetupAddKey,
  cryptsetupLuksFormat,
  qemuIoLuks,
  qemuLuksImage,
} from '../../testing/luks-peers.js';

const enc = (s: string) => new TextEncoder().encode(s);
const PASS = 'abc123';

describe(
  'peer-made LUKS1 in our code',
  peerTestOptions('cryptsetup', 'qemu-img', 'qemu-io'),
  () => {
    let dir = '';
    let cleanup: () => Promise<void> = async () => {};
    let pw = '';
    let secret: string[] = [];
    before(async () => {
      ({ dir, cleanup } = await scratchDir('iv-luks-peers-'));
      pw = await passphraseFile(dir, 'pw', PASS);
      secret = await qemuSecret(dir, 's', PASS);
    });
    after(() => cleanup());

    async function inspectFile(path: string) {
      const dev = await FileDevice.open(path);
      try {
        return await inspectLuks(headerIOForDevice(dev, await dev.size()));
      } finally {
        await dev.close();
      }
    }

    /** Our decrypted payload vs qemu-img convert's, byte for byte. */
    async function compareWithQemu(path: string): Promise<Uint8Array> {
      const out = `${path}.raw`;
      await runOk('qemu-img', [
        'convert',
        ...secret,
        '--image-opts',
        `driver=luks,file.filename=${path},key-secret=s`,
        '-O',
        'raw',
        out,
      ]);
      const expected = new Uint8Array(await readFile(out));
      const img = await openRawLuks(await FileDevice.open(path), {
        passphrase: enc(PASS),
        threads: 0,
      });
      try {
        assert.equal(img.virtualSize, expected.length);
        const got = new Uint8Array(img.virtualSize);
        await img.read(got, 0);
        assert.ok(
          Buffer.from(got).equals(Buffer.from(expected)),
          'payload equals qemu-img convert'
        );
        return got;
      } finally {
        await img.close();
      }
    }

    const VARIANTS: [string, string[]][] = [
      ['default aes-xts-plain64 512-bit', []],
      ['aes-xts-plain64 256-bit sha1', ['--key-size', '256', '--hash', 'sha1']],
      ['aes-cbc-essiv:sha256 128-bit', ['--cipher', 'aes-cbc-essiv:sha256', '--key-size', '128']],
      [
        'aes-cbc-essiv:sha256 256-bit sha512',
        ['--cipher', 'aes-cbc-essiv:sha256', '--key-size', '256', '--hash', 'sha512'],
      ],
      [
        'aes-cbc-plain 128-bit sha512',
        ['--cipher', 'aes-cbc-plain', '--key-size', '128', '--hash', 'sha512'],
      ],
      ['aes-cbc-plain64 256-bit', ['--cipher', 'aes-cbc-plain64', '--key-size', '256']],
      ['aes-xts-essiv:sha256 512-bit', ['--cipher', 'aes-xts-essiv:sha256']],
    ];
    VARIANTS.forEach(([name, args], i) => {
      it(`cryptsetup ${name}: unlocks, data equals qemu-img convert`, async () => {
        const path = join(dir, `cs${i}.img`);
        await runOk('truncate', ['-s', '4M', path]);
        await cryptsetupLuksFormat(path, pw, args);
        await qemuIoLuks(path, secret, ['write -P 0x77 4096 4096', 'write -P 0x3c 1000k 24k']);
        const info = await inspectFile(path);
        assert.equal(
          info.payloadOffset,
          Number(
            /Payload offset:\s+(\d+)/.exec(await runOk('cryptsetup', ['luksDump', path]))![1]
          ) * 512
        );
        const got = await compareWithQemu(path);
        assert.ok(got.subarray(4096, 8192).every((b) => b === 0x77));
        assert.ok(got.subarray(1000 * 1024, 1024 * 1024).every((b) => b === 0x3c));
      });
    });

    it('cryptsetup plain64be (not QEMU-readable) unlocks; the master key matches --volume-key-file', async () => {
      const path = join(dir, 'be.img');
      await runOk('truncate', ['-s', '4M', path]);
      const vk = join(dir, 'vk.bin');
      const key = Uint8Array.from({ length: 32 }, (_, i) => 0x40 + i);
      await writeFile(vk, key);
      await cryptsetupLuksFormat(path, pw, [
        '--cipher',
        'aes-cbc-plain64be',
        '--key-size',
        '256',
        '--volume-key-file',
        vk,
      ]);
      const dev = await FileDevice.open(path);
      const u = await unlockLuks(headerIOForDevice(dev, await dev.size()), enc(PASS));
      assert.equal(hex(u.masterKey), hex(key));
      assert.equal(u.spec.ivgen, 'plain64be');
      u.dispose();
      await dev.close();
    });

    it('cryptsetup luksAddKey / luksKillSlot are honoured', async () => {
      const path = join(dir, 'slots.img');
      await runOk('truncate', ['-s', '4M', path]);
      const other = await passphraseFile(dir, 'other', 'other pass\n');
      await cryptsetupLuksFormat(path, pw);
      await cryptsetupAddKey(path, pw, other, ['--key-slot', '3']);
      const dev = await FileDevice.open(path);
      const io = headerIOForDevice(dev, await dev.size());
      assert.equal(await testPassphrase(io, enc('other pass\n')), 3);
      assert.equal(await testPassphrase(io, enc(PASS)), 0);
      await runOk('cryptsetup', ['luksKillSlot', '--batch-mode', '--key-file', other, path, '0']);
      await assert.rejects(testPassphrase(io, enc(PASS)), /does not open/);
      assert.equal(await testPassphrase(io, enc('other pass\n')), 3);
      const info = await inspectLuks(io);
      assert.deepEqual(
        info.slots.map((s) => s.active),
        [false, false, false, true, false, false, false, false]
      );
      await dev.close();
    });

    it('qemu-img create -f luks (payload 4040) unlocks; data equals qemu-img convert', async () => {
      const path = join(dir, 'qemu.luks');
      await qemuLuksImage(path, '4M', secret, ['write -P 0x5a 0 64k', 'write -P 0xa5 3M 4k']);
      const info = await inspectFile(path);
      assert.equal(info.payloadOffset, 2068480);
      const qinfo = JSON.parse(await runOk('qemu-img', ['info', '--output=json', path]));
      assert.equal(info.masterKeyIters, qinfo['format-specific'].data['master-key-iters']);
      assert.equal(info.uuid, qinfo['format-specific'].data.uuid);
      const got = await compareWithQemu(path);
      assert.equal(got.length, 4 * 1024 * 1024);
      assert.ok(got.subarray(0, 65536).every((b) => b === 0x5a));
    });
  }
);

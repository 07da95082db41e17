/** qcow v1 reading against qemu 7.2 (docs/spec/legacy-aes.md §3), plain and AES-encrypted. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileDevice } from '../../io/file-device.js';
import { peerTestOptions, qemuSecret, runOk, scratchDir } from '../../testing/peers.js';
import { testAesCipher } from '../qcow2/aes-test-cipher.js';
import { probeFormat } from '../probe.js';
import { openQcow } from './qcow.js';

const opts = peerTestOptions('qemu-img', 'qemu-io');
let dir = '';
let cleanup: () => Promise<void> = async () => {};

describe('qcow v1', opts, () => {
  before(async () => ({ dir, cleanup } = await scratchDir('qcow1-')));
  after(() => cleanup());

  it('plain v1 image reads like qemu-img convert', async () => {
    const path = join(dir, 'plain.qcow');
    await runOk('qemu-img', ['create', '-f', 'qcow', path, '16M']);
    await runOk('qemu-io', [
      '-f',
      'qcow',
      '-c',
      'write -P 0x42 1M 1k',
      '-c',
      'write -P 0x17 8M 64k',
      path,
    ]);
    await runOk('qemu-img', ['convert', '-O', 'raw', path, join(dir, 'plain.raw')]);
    const dev = await FileDevice.open(path);
    assert.equal(await probeFormat(dev), 'qcow');
    const img = await openQcow(dev);
    const ours = new Uint8Array(img.virtualSize);
    await img.read(ours, 0);
    assert.ok(Buffer.from(ours).equals(await readFile(join(dir, 'plain.raw'))));
    await img.close();
  });

  it('AES v1 image (passphrase abc123) decrypts with guest-sector IVs', async () => {
    const sec = await qemuSecret(dir, 's', 'abc123');
    const path = join(dir, 'aes.qcow');
    await runOk('qemu-img', [
      'create',
      '-f',
      'qcow',
      ...sec,
      '-o',
      'encrypt.format=aes,encrypt.key-secret=s',
      path,
      '16M',
    ]);
    const io = ['--image-opts', `driver=qcow,file.filename=${path},encrypt.key-secret=s`];
    await runOk('qemu-io', [
      ...sec,
      ...io,
      '-c',
      'write -P 0x42 1M 1k',
      '-c',
      'write -P 0x43 8M 4k',
    ]);
    await runOk('qemu-img', ['convert', ...sec, ...io, '-O', 'raw', join(dir, 'aes.raw')]);
    const expected = await readFile(join(dir, 'aes.raw'));
    const img = await openQcow(await FileDevice.open(path), {
      unlock: async () => testAesCipher('abc123'),
    });
    assert.equal(img.info().encrypted, true);
    const ours = new Uint8Array(img.virtualSize);
    await img.read(ours, 0);
    assert.ok(Buffer.from(ours).equals(expected));
    assert.equal(ours[1024 * 1024], 0x42);
    await img.close();
  });
});

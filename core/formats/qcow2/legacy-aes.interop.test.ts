/**
 * Legacy AES (crypt_method 1) against qemu 7.2 (docs/spec/legacy-aes.md): qemu-made images decrypt
 * identically with guest-sector IVs; our AES images pass `qemu-img check` and `compare`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileDevice } from '../../io/file-device.js';
import { patternBytes } from '../../testing/bytes.js';
import { peerTestOptions, qemuSecret, run, runOk, scratchDir } from '../../testing/peers.js';
import { testAesCipher } from './aes-test-cipher.js';
import { checkQcow2 } from './check.js';
import { createQcow2 } from './create.js';
import { openQcow2 } from './reader.js';

const opts = peerTestOptions('qemu-img', 'qemu-io');
const M = 1024 * 1024;

let dir = '';
let cleanup: () => Promise<void> = async () => {};

describe('legacy AES qcow2 (crypt_method 1)', opts, () => {
  before(async () => ({ dir, cleanup } = await scratchDir('qcow2-aes-')));
  after(() => cleanup());

  it('spec test vector: sector 2048 of zeros', async () => {
    const c = testAesCipher('abc123');
    const out = await c.encrypt(new Uint8Array(512), 2048);
    assert.equal(
      Buffer.from(out.subarray(0, 16)).toString('hex'),
      'ff711cd9bb90056f58f2da866330f2cf'
    );
  });

  for (const compat of ['1.1', '0.10']) {
    it(`qemu-made AES image (compat ${compat}) decrypts like qemu-img convert`, async () => {
      const sec = await qemuSecret(dir, 's', 'abc123');
      const path = join(dir, `aes-${compat}.qcow2`);
      await runOk('qemu-img', [
        'create',
        '-f',
        'qcow2',
        ...sec,
        '-o',
        `encrypt.format=aes,encrypt.key-secret=s,compat=${compat}`,
        path,
        '4M',
      ]);
      const io = ['--image-opts', `driver=qcow2,file.filename=${path},encrypt.key-secret=s`];
      await runOk('qemu-io', [
        ...sec,
        ...io,
        '-c',
        'write -P 0x42 1M 1k',
        '-c',
        'write -P 0x43 0 64k',
        '-c',
        'write -P 0x44 3M 4k',
      ]);
      const out = join(dir, `aes-${compat}.raw`);
      await runOk('qemu-img', ['convert', ...sec, ...io, '-O', 'raw', out]);
      const expected = await readFile(out);
      const img = await openQcow2(await FileDevice.open(path), {
        unlock: async (kind, region) => {
          assert.equal(kind, 'aes');
          assert.equal(region, undefined);
          return testAesCipher('abc123');
        },
      });
      assert.equal(img.cryptMethod, 1);
      const ours = new Uint8Array(img.virtualSize);
      await img.read(ours, 0);
      assert.ok(Buffer.from(ours).equals(expected));
      // unaligned read inside an encrypted sector
      const part = new Uint8Array(700);
      await img.read(part, M + 300);
      assert.ok(Buffer.from(part).equals(expected.subarray(M + 300, M + 1000)));
      await img.close();
      const cdev = await FileDevice.open(path);
      const ck = await checkQcow2(cdev);
      await cdev.close();
      assert.equal(ck.corruptions + ck.leaks, 0, ck.messages.join('\n'));
    });
  }

  it('reading without a passphrase fails with NEEDS_PASSPHRASE, info still works', async () => {
    const img = await openQcow2(await FileDevice.open(join(dir, 'aes-1.1.qcow2')));
    assert.equal(img.info().encrypted, true);
    await assert.rejects(img.read(new Uint8Array(512), M), { code: 'NEEDS_PASSPHRASE' });
    const zeros = new Uint8Array(512).fill(1);
    await img.read(zeros, 2 * M); // unallocated: no decryption needed
    assert.ok(zeros.every((b) => b === 0));
    await img.close();
  });

  it('our AES image passes qemu-img check and compare (with the secret)', async () => {
    const sec = await qemuSecret(dir, 's', 'abc123');
    const path = join(dir, 'ours-aes.qcow2');
    const size = 3 * M + 4096;
    const src = new Uint8Array(size);
    src.set(patternBytes(M, 21), 0);
    src.set(patternBytes(1000, 22), 2 * M); // partial cluster: rest must be encrypted zeros
    src.set(patternBytes(4096, 23), 3 * M);
    await writeFile(join(dir, 'ours-aes.raw'), src);
    const w = await createQcow2(await FileDevice.open(path, { createTruncate: true }), {
      virtualSize: size,
      encryption: { kind: 'aes', cipher: testAesCipher('abc123') },
    });
    for (let p = 0; p < size; p += M) await w.write(src.subarray(p, Math.min(size, p + M)), p);
    await w.close();
    const io = ['--image-opts', `driver=qcow2,file.filename=${path},encrypt.key-secret=s`];
    const ck = await run('qemu-img', ['check', ...sec, ...io]);
    assert.equal(ck.code, 0, ck.stdout + ck.stderr);
    const cmp = await run('qemu-img', [
      'compare',
      ...sec,
      '--image-opts',
      io[1]!,
      `driver=raw,file.filename=${join(dir, 'ours-aes.raw')}`,
    ]);
    assert.equal(cmp.code, 0, cmp.stdout + cmp.stderr);
  });
});

/**
 * Issue #3 acceptance through the CLI, us → peer: images and keyslot changes we make are accepted by qemu-img and cryptsetup exactly as they should be, with guest data unchanged.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli } from '../testing/cli.js';
import { patternBytes } from '../testing/bytes.js';
import {
  luksFixture,
  qemuAccepts,
  qemuRaw as qemuRawIn,
  cryptsetupLuksFormat,
} from '../testing/luks-peers.js';
import { passphraseFile, peerTestOptions, qemuSecret, run, runOk } from '../testing/peers.js';

const opts = peerTestOptions('qemu-img', 'qemu-io', 'cryptsetup');
const FAST = ['-o', 'iterations=1000'];

describe('LUKS made by our CLI, opened by qemu-img and cryptsetup', opts, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let pw: string;
  let pw2: string;
  let bad: string;
  before(async () => {
    ({ dir, cleanup, pw, pw2, bad } = await luksFixture());
  });
  after(async () => cleanup?.());
  const qemuRaw = (image: string, driver: 'qcow2' | 'luks', pwFile: string) =>
    qemuRawIn(dir, image, driver, pwFile);

  const ourCiphers = [
    'aes-256-xts-plain64',
    'aes-128-xts-plain64',
    'aes-256-cbc-essiv:sha256',
    'aes-128-cbc-plain64',
    'aes-256-cbc-plain',
  ];
  for (const cipher of ourCiphers) {
    for (const hash of cipher === 'aes-256-xts-plain64'
      ? ['sha1', 'sha256', 'sha512']
      : ['sha256']) {
      test(`our qcow2+LUKS and raw LUKS (${cipher}, ${hash}) open in qemu-img and cryptsetup`, async () => {
        const src = join(dir, 'src.raw');
        const data = Buffer.alloc(6 << 20);
        data.set(patternBytes(200000, 21), 0);
        data.set(patternBytes(65536, 22), 4 << 20);
        await writeFile(src, data);
        const tag = `${cipher}-${hash}`.replace(/\W+/g, '_');
        const q = join(dir, `o-${tag}.qcow2`);
        const o = ['-o', `cipher=${cipher},hash=${hash},iterations=1000`];
        let r = await cli(
          'convert',
          '-O',
          'qcow2',
          '--encrypt',
          ...o,
          '--passphrase-file',
          pw,
          src,
          q
        );
        assert.equal(r.code, 0, r.stderr);
        await runOk('qemu-img', [
          'check',
          '--object',
          `secret,id=k,file=${pw}`,
          '--image-opts',
          `driver=qcow2,file.filename=${q},encrypt.key-secret=k`,
        ]);
        assert.deepEqual(await qemuRaw(q, 'qcow2', pw), data);
        const l = join(dir, `o-${tag}.luks`);
        r = await cli('convert', '-O', 'luks', ...o, '--passphrase-file', pw, src, l);
        assert.equal(r.code, 0, r.stderr);
        await runOk('cryptsetup', ['luksDump', l]);
        await runOk('cryptsetup', ['open', '--test-passphrase', '--key-file', pw, l]);
        assert.deepEqual(await qemuRaw(l, 'luks', pw), data);
        assert.equal(
          (await run('cryptsetup', ['open', '--test-passphrase', '--key-file', bad, l])).code === 0,
          false
        );
      });
    }
  }

  test('keyslot add / change / remove: qemu-img accepts exactly the right passphrases', async () => {
    const img = join(dir, 'slots.qcow2');
    const p3 = await passphraseFile(dir, 'pw3', 'third');
    assert.equal(
      (await cli('create', '-f', 'qcow2', '--encrypt', ...FAST, '--passphrase-file', pw, img, '8M'))
        .code,
      0
    );
    const s = await qemuSecret(dir, 's', 'abc123');
    await runOk('qemu-io', [
      ...s,
      '--image-opts',
      `driver=qcow2,file.filename=${img},encrypt.key-secret=s`,
      '-c',
      'write -P 0x42 1M 128k',
    ]);
    const data = await qemuRaw(img, 'qcow2', pw);

    let r = await cli(
      'keyslot',
      'add',
      img,
      '--passphrase-file',
      pw,
      '--new-passphrase-file',
      pw2,
      '--iterations',
      '1000'
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await qemuAccepts(img, 'qcow2', pw), true);
    assert.equal(await qemuAccepts(img, 'qcow2', pw2), true);

    r = await cli('keyslot', 'remove', img, '--slot', '0');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await qemuAccepts(img, 'qcow2', pw), false);
    assert.equal(await qemuAccepts(img, 'qcow2', pw2), true);
    assert.equal((await cli('keyslot', 'test', img, '--passphrase-file', pw)).code, 4);

    r = await cli(
      'keyslot',
      'change',
      img,
      '--passphrase-file',
      pw2,
      '--new-passphrase-file',
      p3,
      '--iterations',
      '1000'
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await qemuAccepts(img, 'qcow2', pw2), false);
    assert.equal(await qemuAccepts(img, 'qcow2', p3), true);

    r = await cli('keyslot', 'remove', img, '--passphrase-file', p3);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /LAST_KEYSLOT/);
    assert.equal(await qemuAccepts(img, 'qcow2', p3), true);

    const list = JSON.parse((await cli('keyslot', 'list', '--json', img)).stdout);
    assert.equal(list.filter((x: { active: boolean }) => x.active).length, 1);
    await runOk('qemu-img', [
      'check',
      '--object',
      `secret,id=k,file=${p3}`,
      '--image-opts',
      `driver=qcow2,file.filename=${img},encrypt.key-secret=k`,
    ]);
    assert.deepEqual(await qemuRaw(img, 'qcow2', p3), data);
  });

  test('LUKS2 from cryptsetup is recognised by info', async () => {
    const img = join(dir, 'l2.img');
    await runOk('truncate', ['-s', '20M', img]);
    await cryptsetupLuksFormat(img, pw, [], 'luks2');
    const info = JSON.parse((await cli('info', '--json', img)).stdout);
    assert.equal(info.format, 'luks');
    assert.equal(info['format-specific'].data.version, 2);
    assert.equal(
      info['format-specific'].data.slots.filter((s: { active: boolean }) => s.active).length,
      1
    );
  });
});

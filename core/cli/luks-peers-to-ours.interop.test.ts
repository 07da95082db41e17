/**
 * Issue #3 acceptance through the CLI, peer → us: qemu-img/cryptsetup-made LUKS images read identically in our code with every valid passphrase; wrong or revoked ones exit 4.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cli } from '../testing/cli.js';
import {
  luksFixture,
  qemuRaw as qemuRawIn,
  ourRaw as ourRawIn,
  cryptsetupAddKey,
  cryptsetupLuksFormat,
  qemuIoLuks,
  qemuLuksImage,
} from '../testing/luks-peers.js';
import { peerTestOptions, qemuSecret, runOk, runQemuRetrying } from '../testing/peers.js';

const opts = peerTestOptions('qemu-img', 'qemu-io', 'cryptsetup');

describe('LUKS made by qemu-img and cryptsetup, read by our CLI', opts, () => {
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
  const ourRaw = (image: string, pwFile: string) => ourRawIn(dir, image, pwFile);

  const qemuCiphers: [string, string][] = [
    ['aes-256-xts-plain64 sha256 (default)', ''],
    ['aes-128-xts-plain64 sha1', 'encrypt.cipher-alg=aes-128,encrypt.hash-alg=sha1'],
    [
      'aes-256-cbc-essiv:sha256 sha512',
      'encrypt.cipher-mode=cbc,encrypt.ivgen-alg=essiv,encrypt.hash-alg=sha512',
    ],
    ['aes-128-cbc-plain64 sha256', 'encrypt.cipher-alg=aes-128,encrypt.cipher-mode=cbc'],
    [
      'aes-256-cbc-plain sha1',
      'encrypt.cipher-mode=cbc,encrypt.ivgen-alg=plain,encrypt.hash-alg=sha1',
    ],
    ['aes-256-xts-plain sha512', 'encrypt.ivgen-alg=plain,encrypt.hash-alg=sha512'],
  ];
  for (const [name, extra] of qemuCiphers) {
    test(`qemu-made qcow2+LUKS ${name} reads identically; wrong passphrase exits 4`, async () => {
      const img = join(dir, `q-${name.replace(/\W+/g, '_')}.qcow2`);
      const sec = await qemuSecret(dir, 's', 'abc123');
      await runQemuRetrying('qemu-img', [
        'create',
        '-f',
        'qcow2',
        ...sec,
        '-o',
        `encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=10${extra ? ',' + extra : ''}`,
        img,
        '16M',
      ]);
      await runOk('qemu-io', [
        ...sec,
        '--image-opts',
        `driver=qcow2,file.filename=${img},encrypt.key-secret=s`,
        '-c',
        'write -P 0x5a 1M 64k',
        '-c',
        'write -P 0x11 0 512',
        '-c',
        'write -P 0x77 9M 3k',
      ]);
      assert.deepEqual(await ourRaw(img, pw), await qemuRaw(img, 'qcow2', pw));
      const wrong = await cli(
        'convert',
        '-O',
        'raw',
        '--source-passphrase-file',
        bad,
        img,
        join(dir, 'x.raw')
      );
      assert.equal(wrong.code, 4);
      assert.match(wrong.stderr, /WRONG_PASSPHRASE/);
      const info = JSON.parse((await cli('info', '--json', img)).stdout);
      const q = JSON.parse(await runOk('qemu-img', ['info', '--output=json', img]));
      const ours = info['format-specific'].data.encrypt;
      const theirs = q['format-specific'].data.encrypt;
      for (const k of [
        'cipher-alg',
        'cipher-mode',
        'ivgen-alg',
        'hash-alg',
        'uuid',
        'payload-offset',
        'master-key-iters',
      ]) {
        assert.equal(ours[k], theirs[k], k);
      }
      assert.deepEqual(ours.slots, theirs.slots);
    });
  }

  test('qemu-made raw LUKS, and slots added/removed with qemu-img amend', async () => {
    const img = join(dir, 'q.luks');
    const s = await qemuSecret(dir, 's', 'abc123');
    const n = await qemuSecret(dir, 'n', 'second passphrase\n');
    await qemuLuksImage(img, '8M', s, ['write -P 0x77 0 4k', 'write -P 0x78 7M 1M']);
    await runQemuRetrying('qemu-img', [
      'amend',
      ...s,
      ...n,
      '--image-opts',
      `driver=luks,file.filename=${img},key-secret=s`,
      '-o',
      'state=active,new-secret=n,iter-time=10,keyslot=3',
    ]);
    const expected = await qemuRaw(img, 'luks', pw);
    assert.deepEqual(await ourRaw(img, pw), expected);
    assert.deepEqual(await ourRaw(img, pw2), expected);
    assert.match((await cli('keyslot', 'test', img, '--passphrase-file', pw2)).stdout, /keyslot 3/);
    await runQemuRetrying('qemu-img', [
      'amend',
      ...n,
      '--image-opts',
      `driver=luks,file.filename=${img},key-secret=n`,
      '-o',
      'state=inactive,keyslot=0',
    ]);
    assert.equal((await cli('keyslot', 'test', img, '--passphrase-file', pw)).code, 4);
    assert.deepEqual(await ourRaw(img, pw2), expected);
  });

  const cryptsetupCiphers: [string, string[]][] = [
    ['aes-xts-plain64 512-bit', ['--cipher', 'aes-xts-plain64', '--key-size', '512']],
    [
      'aes-xts-plain64 256-bit sha1',
      ['--cipher', 'aes-xts-plain64', '--key-size', '256', '--hash', 'sha1'],
    ],
    ['aes-cbc-essiv:sha256 128-bit', ['--cipher', 'aes-cbc-essiv:sha256', '--key-size', '128']],
    [
      'aes-cbc-essiv:sha256 256-bit sha512',
      ['--cipher', 'aes-cbc-essiv:sha256', '--key-size', '256', '--hash', 'sha512'],
    ],
  ];
  for (const [name, args] of cryptsetupCiphers) {
    test(`cryptsetup-made LUKS1 ${name}: data via qemu-io reads identically`, async () => {
      const img = join(dir, `c-${name.replace(/\W+/g, '_')}.img`);
      await runOk('truncate', ['-s', '8M', img]);
      await cryptsetupLuksFormat(img, pw, args);
      const s = await qemuSecret(dir, 's', 'abc123');
      await qemuIoLuks(img, s, ['write -P 0x77 4096 4096', 'write -P 0x99 5M 100k']);
      await cryptsetupAddKey(img, pw, pw2);
      const expected = await qemuRaw(img, 'luks', pw);
      assert.deepEqual(await ourRaw(img, pw), expected);
      assert.deepEqual(await ourRaw(img, pw2), expected);
      await runOk('cryptsetup', ['luksKillSlot', '--batch-mode', '--key-file', pw2, img, '0']);
      const revoked = await cli('keyslot', 'test', img, '--passphrase-file', pw);
      assert.equal(revoked.code, 4);
    });
  }

  test('cryptsetup aes-cbc-plain64be (QEMU cannot read it) unlocks in our code', async () => {
    const img = join(dir, 'be.img');
    await runOk('truncate', ['-s', '4M', img]);
    await cryptsetupLuksFormat(img, pw, ['--cipher', 'aes-cbc-plain64be', '--key-size', '256']);
    assert.match((await cli('keyslot', 'test', img, '--passphrase-file', pw)).stdout, /keyslot 0/);
  });
});

/**
 * Issue #3 acceptance, through the CLI, both directions: qemu-img/cryptsetup-made LUKS
 * images read identically in our code with every valid passphrase (wrong ones exit 4);
 * images and keyslot changes we make are accepted by qemu-img and cryptsetup exactly as
 * they should be, with guest data unchanged.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli } from '../testing/cli.js';
import { patternBytes } from '../testing/bytes.js';
import {
  passphraseFile,
  peerTestOptions,
  qemuSecret,
  run,
  runOk,
  runQemuRetrying,
  scratchDir,
} from '../testing/peers.js';

const opts = peerTestOptions('qemu-img', 'qemu-io', 'cryptsetup');
const FAST = ['-o', 'iterations=1000'];

describe('LUKS through the CLI vs qemu-img and cryptsetup', opts, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let pw: string; // "abc123"
  let pw2: string; // "second passphrase\n" (trailing newline is part of it)
  let bad: string;
  before(async () => {
    ({ dir, cleanup } = await scratchDir());
    pw = await passphraseFile(dir, 'pw', 'abc123');
    pw2 = await passphraseFile(dir, 'pw2', 'second passphrase\n');
    bad = await passphraseFile(dir, 'bad', 'abc124');
  });
  after(async () => cleanup?.());

  /** Opens `image` in qemu with passphrase file `pwFile`; true when it accepts it. */
  async function qemuAccepts(
    image: string,
    driver: 'qcow2' | 'luks',
    pwFile: string
  ): Promise<boolean> {
    const key = driver === 'qcow2' ? 'encrypt.key-secret' : 'key-secret';
    // qemu-img info opens without I/O and never checks the passphrase: read a sector instead.
    const r = await run('qemu-io', [
      '--object',
      `secret,id=k,file=${pwFile}`,
      '-r',
      '--image-opts',
      `driver=${driver},file.filename=${image},${key}=k`,
      '-c',
      'read 0 512',
    ]);
    if (r.code !== 0) assert.match(r.stderr, /Invalid password|Unable to decrypt|no keyslot/i);
    return r.code === 0;
  }

  async function qemuRaw(image: string, driver: 'qcow2' | 'luks', pwFile: string): Promise<Buffer> {
    const key = driver === 'qcow2' ? 'encrypt.key-secret' : 'key-secret';
    const out = join(dir, 'qemu-out.raw');
    await runOk('qemu-img', [
      'convert',
      '--object',
      `secret,id=k,file=${pwFile}`,
      '--image-opts',
      `driver=${driver},file.filename=${image},${key}=k`,
      '-O',
      'raw',
      out,
    ]);
    return readFile(out);
  }

  async function ourRaw(image: string, pwFile: string): Promise<Buffer> {
    const out = join(dir, 'our-out.raw');
    const r = await cli(
      'convert',
      '-O',
      'raw',
      '--overwrite',
      '--no-verify',
      '--source-passphrase-file',
      pwFile,
      image,
      out
    );
    assert.equal(r.code, 0, r.stderr);
    return readFile(out);
  }

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
    await runQemuRetrying('qemu-img', [
      'create',
      '-f',
      'luks',
      ...s,
      '-o',
      'key-secret=s,iter-time=10',
      img,
      '8M',
    ]);
    await runOk('qemu-io', [
      ...s,
      '--image-opts',
      `driver=luks,file.filename=${img},key-secret=s`,
      '-c',
      'write -P 0x77 0 4k',
      '-c',
      'write -P 0x78 7M 1M',
    ]);
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
      await runOk('cryptsetup', [
        'luksFormat',
        '--batch-mode',
        '--type',
        'luks1',
        '--key-file',
        pw,
        '--pbkdf-force-iterations',
        '1000',
        ...args,
        img,
      ]);
      const s = await qemuSecret(dir, 's', 'abc123');
      await runOk('qemu-io', [
        ...s,
        '--image-opts',
        `driver=luks,file.filename=${img},key-secret=s`,
        '-c',
        'write -P 0x77 4096 4096',
        '-c',
        'write -P 0x99 5M 100k',
      ]);
      await runOk('cryptsetup', [
        'luksAddKey',
        '--batch-mode',
        '--key-file',
        pw,
        '--pbkdf-force-iterations',
        '1000',
        img,
        pw2,
      ]);
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
    await runOk('cryptsetup', [
      'luksFormat',
      '--batch-mode',
      '--type',
      'luks1',
      '--key-file',
      pw,
      '--pbkdf-force-iterations',
      '1000',
      '--cipher',
      'aes-cbc-plain64be',
      '--key-size',
      '256',
      img,
    ]);
    assert.match((await cli('keyslot', 'test', img, '--passphrase-file', pw)).stdout, /keyslot 0/);
  });

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
    await runOk('cryptsetup', [
      'luksFormat',
      '--batch-mode',
      '--type',
      'luks2',
      '--key-file',
      pw,
      '--pbkdf',
      'pbkdf2',
      '--pbkdf-force-iterations',
      '1000',
      img,
    ]);
    const info = JSON.parse((await cli('info', '--json', img)).stdout);
    assert.equal(info.format, 'luks');
    assert.equal(info['format-specific'].data.version, 2);
    assert.equal(
      info['format-specific'].data.slots.filter((s: { active: boolean }) => s.active).length,
      1
    );
  });
});

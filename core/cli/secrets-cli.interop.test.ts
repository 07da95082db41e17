/**
 * Issue #13, "The CLI does what it is told": qemu-img's secret spellings carry over
 * (`--object secret,id=…,file=…`, `-o encrypt.key-secret=…`, `--image-opts` with one
 * `…encrypt.key-secret` per layer), and an encrypted backing chain opens with one passphrase
 * per layer, a wrong one named by its layer. Checked against qemu-img / qemu-io.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli } from '../testing/cli.js';
import {
  passphraseFile,
  peerTestOptions,
  qemuSecret,
  runOk,
  runQemuRetrying,
  scratchDir,
} from '../testing/peers.js';

const opts = peerTestOptions('qemu-img', 'qemu-io');

describe('qemu-img secrets and per-layer passphrases through the CLI', opts, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let base: string;
  let over: string;
  let objects: string[];
  let fileA: string;
  let fileB: string;
  let theirs: Buffer;
  const overOpts = (a: string, b: string) =>
    `driver=qcow2,file.filename=${over},encrypt.key-secret=${b},backing.encrypt.key-secret=${a}`;

  before(async () => {
    ({ dir, cleanup } = await scratchDir());
    base = join(dir, 'base.qcow2');
    over = join(dir, 'over.qcow2');
    objects = [
      ...(await qemuSecret(dir, 'sa', 'pass-A')),
      ...(await qemuSecret(dir, 'sb', 'B-pass')),
    ];
    fileA = join(dir, 'sa.secret');
    fileB = join(dir, 'sb.secret');
    const luks = (id: string) =>
      `encrypt.format=luks,encrypt.key-secret=${id},encrypt.iter-time=10`;
    await runQemuRetrying('qemu-img', [
      'create',
      '-f',
      'qcow2',
      ...objects,
      '-o',
      luks('sa'),
      base,
      '4M',
    ]);
    await runQemuRetrying('qemu-img', [
      'create',
      '-f',
      'qcow2',
      ...objects,
      '-o',
      luks('sb'),
      '-b',
      base,
      '-F',
      'qcow2',
      over,
      '4M',
    ]);
    const baseOpts = `driver=qcow2,file.filename=${base},encrypt.key-secret=sa`;
    await runOk('qemu-io', [
      ...objects,
      '--image-opts',
      baseOpts,
      '-c',
      'write -P 0xaa 0 1M',
      '-c',
      'write -P 0xa1 3M 64k',
    ]);
    await runOk('qemu-io', [
      ...objects,
      '--image-opts',
      overOpts('sa', 'sb'),
      '-c',
      'write -P 0xbb 512k 128k',
    ]);
    const raw = join(dir, 'theirs.raw');
    await runOk('qemu-img', [
      'convert',
      ...objects,
      '--image-opts',
      overOpts('sa', 'sb'),
      '-O',
      'raw',
      raw,
    ]);
    theirs = await readFile(raw);
    // The chain mixes both layers' data: a read with one passphrase for both could not pass.
    assert.equal(theirs[0], 0xaa);
    assert.equal(theirs[512 * 1024], 0xbb);
  });
  after(async () => cleanup?.());

  test('--image-opts with backing.encrypt.key-secret reads the chain as qemu-img convert', async () => {
    const out = join(dir, 'ours-opts.raw');
    const r = await cli(
      'convert',
      ...objects,
      '--image-opts',
      '-O',
      'raw',
      overOpts('sa', 'sb'),
      out
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await readFile(out), theirs);
  });

  test('--backing-passphrase-file gives the backing layer its own passphrase', async () => {
    const out = join(dir, 'ours-files.raw');
    const r = await cli(
      'convert',
      '--source-passphrase-file',
      fileB,
      '--backing-passphrase-file',
      fileA,
      '-O',
      'raw',
      over,
      out
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await readFile(out), theirs);
    // --source-secret: the image's passphrase from an --object secret.
    const out2 = join(dir, 'ours-source-secret.raw');
    const r2 = await cli(
      'convert',
      ...objects,
      '--source-secret',
      'sb',
      '--backing-passphrase-file',
      fileA,
      '-O',
      'raw',
      over,
      out2
    );
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual(await readFile(out2), theirs);
  });

  test('a wrong passphrase is named by the layer it failed on', async () => {
    const wrong = await passphraseFile(dir, 'wrong', 'not-it');
    const out = join(dir, 'never.raw');
    const back = await cli(
      'convert',
      '--source-passphrase-file',
      fileB,
      '--backing-passphrase-file',
      wrong,
      '-O',
      'raw',
      over,
      out
    );
    assert.notEqual(back.code, 0);
    assert.match(back.stderr, /WRONG_PASSPHRASE/);
    assert.ok(back.stderr.includes(`The backing file ${base}:`), back.stderr);
    // Without a backing passphrase the overlay's is tried on the base too, and fails there.
    const same = await cli('convert', '--source-passphrase-file', fileB, '-O', 'raw', over, out);
    assert.ok(same.stderr.includes(`The backing file ${base}:`), same.stderr);
    const top = await cli(
      'convert',
      ...objects,
      '--image-opts',
      '-O',
      'raw',
      overOpts('sa', 'sa'),
      out
    );
    assert.match(top.stderr, /WRONG_PASSPHRASE/);
    assert.ok(!top.stderr.includes('backing file'), top.stderr);
  });

  test('-o encrypt.key-secret makes images qemu opens with the same secret', async () => {
    const made = join(dir, 'made.qcow2');
    const r = await cli(
      'create',
      '-f',
      'qcow2',
      '--object',
      `secret,id=s0,file=${fileA}`,
      '-o',
      'encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10',
      made,
      '4M'
    );
    assert.equal(r.code, 0, r.stderr);
    const s0 = ['--object', `secret,id=s0,file=${fileA}`];
    const madeOpts = `driver=qcow2,file.filename=${made},encrypt.key-secret=s0`;
    await runOk('qemu-io', [...s0, '--image-opts', madeOpts, '-c', 'write -P 0x5a 1M 64k']);
    await runOk('qemu-io', [...s0, '--image-opts', madeOpts, '-c', 'read -P 0x5a 1M 64k']);
    // A conversion's output with a base64 secret; qemu-img reads it as our source.
    const b64 = join(dir, 'b64.secret');
    await writeFile(b64, Buffer.from('B-pass').toString('base64'));
    const conv = join(dir, 'conv.qcow2');
    const c = await cli(
      'convert',
      ...objects,
      '--object',
      `secret,id=o,file=${b64},format=base64`,
      '--image-opts',
      '-o',
      'encrypt.format=luks,encrypt.key-secret=o,encrypt.iter-time=10',
      overOpts('sa', 'sb'),
      conv
    );
    assert.equal(c.code, 0, c.stderr);
    const back = join(dir, 'conv.raw');
    await runOk('qemu-img', [
      'convert',
      ...objects,
      '--image-opts',
      `driver=qcow2,file.filename=${conv},encrypt.key-secret=sb`,
      '-O',
      'raw',
      back,
    ]);
    assert.deepEqual(await readFile(back), theirs);
  });

  test('data= secrets, unknown ids and unknown keys are refused', async () => {
    const out = join(dir, 'never.qcow2');
    const data = await cli(
      'create',
      '--object',
      'secret,id=s0,data=hunter2',
      '-o',
      'encrypt.format=luks,encrypt.key-secret=s0',
      out,
      '4M'
    );
    assert.equal(data.code, 1);
    assert.match(
      data.stderr,
      /data=… is refused: the command line is readable by every user.*INVALID_ARGUMENT/
    );
    const unknown = await cli(
      'create',
      '--object',
      `secret,id=s0,file=${fileA}`,
      '-o',
      'encrypt.format=luks,encrypt.key-secret=s9',
      out,
      '4M'
    );
    assert.match(unknown.stderr, /No secret with id "s9".*INVALID_ARGUMENT/);
    const key = await cli(
      'convert',
      '--image-opts',
      `driver=qcow2,file.filename=${over},cache.direct=on`,
      out
    );
    assert.match(key.stderr, /"cache\.direct" is not supported.*INVALID_ARGUMENT/);
    const plain = await cli(
      'create',
      '--object',
      `secret,id=s0,file=${fileA}`,
      '-o',
      'encrypt.key-secret=s0',
      out,
      '4M'
    );
    assert.match(
      plain.stderr,
      /encrypt\.key-secret cannot be honoured: the image is not encrypted/
    );
  });
});

describe('a three-layer encrypted chain, one secret per layer', opts, () => {
  test('backing.backing.encrypt.key-secret reaches the base; a wrong one names it', async () => {
    const { dir, cleanup } = await scratchDir();
    try {
      const objects = [
        ...(await qemuSecret(dir, 'sa', 'layer-0')),
        ...(await qemuSecret(dir, 'sb', 'layer-1')),
        ...(await qemuSecret(dir, 'sc', 'layer-2')),
      ];
      const luks = (id: string) =>
        `encrypt.format=luks,encrypt.key-secret=${id},encrypt.iter-time=10`;
      const [base, mid, top] = ['base', 'mid', 'top'].map((n) => join(dir, `${n}.qcow2`)) as [
        string,
        string,
        string,
      ];
      await runQemuRetrying('qemu-img', [
        'create',
        '-f',
        'qcow2',
        ...objects,
        '-o',
        luks('sa'),
        base,
        '2M',
      ]);
      for (const [img, back, id] of [
        [mid, base, 'sb'],
        [top, mid, 'sc'],
      ] as const) {
        await runQemuRetrying('qemu-img', [
          'create',
          '-f',
          'qcow2',
          ...objects,
          '-o',
          luks(id),
          '-b',
          back,
          '-F',
          'qcow2',
          img,
          '2M',
        ]);
      }
      const chain = (a: string) =>
        `driver=qcow2,file.filename=${top},encrypt.key-secret=sc,backing.encrypt.key-secret=sb,backing.backing.encrypt.key-secret=${a}`;
      const ioOpts = (img: string, secrets: string) =>
        `driver=qcow2,file.filename=${img},${secrets}`;
      await runOk('qemu-io', [
        ...objects,
        '--image-opts',
        ioOpts(base, 'encrypt.key-secret=sa'),
        '-c',
        'write -P 0x10 0 1M',
      ]);
      await runOk('qemu-io', [
        ...objects,
        '--image-opts',
        ioOpts(mid, 'encrypt.key-secret=sb,backing.encrypt.key-secret=sa'),
        '-c',
        'write -P 0x20 256k 64k',
      ]);
      await runOk('qemu-io', [
        ...objects,
        '--image-opts',
        chain('sa'),
        '-c',
        'write -P 0x30 768k 64k',
      ]);
      const theirs = join(dir, 'theirs.raw');
      await runOk('qemu-img', [
        'convert',
        ...objects,
        '--image-opts',
        chain('sa'),
        '-O',
        'raw',
        theirs,
      ]);
      const ours = join(dir, 'ours.raw');
      const r = await cli('convert', ...objects, '--image-opts', '-O', 'raw', chain('sa'), ours);
      assert.equal(r.code, 0, r.stderr);
      const bytes = await readFile(ours);
      assert.deepEqual(bytes, await readFile(theirs));
      assert.deepEqual([bytes[0], bytes[256 * 1024], bytes[768 * 1024]], [0x10, 0x20, 0x30]);
      const wrong = await cli(
        'convert',
        ...objects,
        '--image-opts',
        '-O',
        'raw',
        chain('sb'),
        ours + '2'
      );
      assert.match(wrong.stderr, /WRONG_PASSPHRASE/);
      assert.ok(wrong.stderr.includes(`The backing file ${base}:`), wrong.stderr);
      assert.ok(!wrong.stderr.includes(`The backing file ${mid}:`), wrong.stderr);
    } finally {
      await cleanup();
    }
  });
});

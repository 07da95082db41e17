/**
 * Issue #17: `image-vault rekey` over many images (the batch runner with the rekey helper's
 * rotation as its action). Two qcow2+LUKS images with known guest data are rotated while
 * qemu-io holds a third: the held one is skipped and byte-identical; the rotated ones open in
 * qemu-io with the new passphrase only and still read the same data. The same command again
 * rotates the freed one and reports the others as already done.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BatchReport } from '../api/types.js';
import { sha256Hex } from '../testing/bytes.js';
import { cli } from '../testing/cli.js';
import { holdWithQemuIo } from '../testing/lock-peers.js';
import { peerTestOptions, run, runOk, runQemuRetrying, scratchDir } from '../testing/peers.js';

const opts = peerTestOptions('qemu-img', 'qemu-io');

describe('rekey over many images, one held by qemu-io', opts, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const pw = (name: string) => join(dir, `${name}.pw`);
  const img = (name: string) => join(dir, name);
  const names = ['one.qcow2', 'two.qcow2', 'held.qcow2'];
  const open = (p: string, pass: string) => [
    '--object',
    `secret,id=k,file=${pw(pass)}`,
    '--image-opts',
    `driver=qcow2,file.filename=${p},encrypt.key-secret=k`,
  ];

  before(async () => {
    ({ dir, cleanup } = await scratchDir());
    for (const name of ['A', 'N']) await writeFile(pw(name), `passphrase ${name}`);
    for (const n of names) {
      await runQemuRetrying('qemu-img', [
        'create',
        '-f',
        'qcow2',
        '--object',
        `secret,id=k,file=${pw('A')}`,
        '-o',
        'encrypt.format=luks,encrypt.key-secret=k,encrypt.iter-time=10',
        img(n),
        '8M',
      ]);
      await runOk('qemu-io', [...open(img(n), 'A'), '-c', 'write -P 0x5a 1M 2M']);
    }
  });
  after(async () => cleanup?.());

  /** Whether qemu-io opens `p` with `pass` and reads the data written in `before`. */
  async function readsData(p: string, pass: string): Promise<boolean> {
    const r = await run('qemu-io', ['-r', ...open(p, pass), '-c', 'read -P 0x5a 1M 2M']);
    if (r.code === 0 && !/error|failed|fail/i.test(r.stdout + r.stderr)) return true;
    assert.match(r.stderr + r.stdout, /Invalid password|cannot unlock/i);
    return false;
  }

  const rotate = () =>
    cli(
      'rekey',
      ...names.map(img),
      '--passphrase-file',
      pw('A'),
      '--new-passphrase-file',
      pw('N'),
      '--jobs',
      '2',
      '--json'
    );

  test('rotates the free images, skips the held one, and a re-run finishes it', async () => {
    const heldBefore = sha256Hex(await readFile(img('held.qcow2')));
    const holder = await holdWithQemuIo(img('held.qcow2'), open(img('held.qcow2'), 'A'));
    let first;
    try {
      first = await rotate();
    } finally {
      await holder.release();
    }
    assert.equal(first.code, 2, first.stderr);
    const report = JSON.parse(first.stdout) as BatchReport;
    assert.equal(report.operation, 'rekey');
    assert.deepEqual(
      report.images.map((i) => [i.status, i.code ?? null]),
      [
        ['changed', null],
        ['changed', null],
        ['skipped', 'IMAGE_IN_USE'],
      ]
    );
    assert.equal(report.images[2]?.holder?.holder, 'qemu-io');
    assert.equal(sha256Hex(await readFile(img('held.qcow2'))), heldBefore);
    for (const n of ['one.qcow2', 'two.qcow2']) {
      assert.equal(await readsData(img(n), 'N'), true, `${n}: new passphrase, same data`);
      assert.equal(await readsData(img(n), 'A'), false, `${n}: old passphrase refused`);
    }
    const check = await run('qemu-img', ['check', ...open(img('one.qcow2'), 'N')]);
    assert.equal(check.code, 0, check.stdout + check.stderr);

    const second = await rotate();
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(
      (JSON.parse(second.stdout) as BatchReport).images.map((i) => i.status),
      ['unchanged', 'unchanged', 'changed']
    );
    assert.equal(await readsData(img('held.qcow2'), 'N'), true);
    assert.equal(await readsData(img('held.qcow2'), 'A'), false);
  });
});

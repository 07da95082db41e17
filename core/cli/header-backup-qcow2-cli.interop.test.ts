/**
 * Interop (CLI, qemu-img): `header backup|restore` of the LUKS region inside a qcow2 image (our
 * wrapper, docs/decisions.md "Header backup and restore"). After `qemu-img amend` changed the
 * keyslots, a restore brings the old passphrase back and drops the new one, `qemu-img check` is
 * clean and `qemu-img compare` sees the same guest data; a backup of another image, a tampered
 * wrapper, or a backup of the other container kind is refused with the image unchanged. The
 * dry run goes through the contract (argument and result schemas), as every face calls it.
 */
import assert from 'node:assert/strict';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { invokeOperation } from '../api/dispatch.js';
import { createVaultService } from '../service/vault-service.js';
import { cli } from '../testing/cli.js';
import { cryptsetupLuksFormat } from '../testing/luks-peers.js';
import { fileSha256 } from '../testing/luks2-edit.js';
import {
  passphraseFile,
  peerTestOptions,
  qemuSecret,
  run,
  runOk,
  runQemuRetrying,
  scratchDir,
} from '../testing/peers.js';

describe(
  'qcow2+LUKS header backup/restore (CLI, qemu-img)',
  peerTestOptions('qemu-img', 'qemu-io', 'cryptsetup'),
  () => {
    let dir = '';
    let cleanup = async () => {};
    let s: string[] = [];
    let pw = '';
    const opts = (img: string, id = 's') =>
      `driver=qcow2,file.filename=${img},encrypt.key-secret=${id}`;
    before(async () => {
      ({ dir, cleanup } = await scratchDir('iv-hdrq-'));
      s = await qemuSecret(dir, 's', 'abc123');
      pw = await passphraseFile(dir, 'pw', 'abc123');
      await qemuSecret(dir, 'n', 'newpass');
    });
    after(() => cleanup());

    async function qcow2(name: string): Promise<string> {
      const p = join(dir, name);
      await runQemuRetrying('qemu-img', [
        'create',
        '-q',
        '-f',
        'qcow2',
        ...s,
        '-o',
        'encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=10',
        p,
        '16M',
      ]);
      return p;
    }
    const opensWith = async (img: string, id: string) =>
      (
        await run('qemu-img', [
          'check',
          '--object',
          `secret,id=${id},file=${join(dir, `${id}.secret`)}`,
          '--image-opts',
          opts(img, id),
        ])
      ).code === 0;

    it('restores the old passphrase after qemu-img amend; check clean, guest data unchanged', async () => {
      const img = await qcow2('a.qcow2');
      await runOk('qemu-io', [...s, '--image-opts', opts(img), '-c', 'write -P 0x5a 1M 64k']);
      const before = join(dir, 'a.raw');
      await runOk('qemu-img', ['convert', ...s, '--image-opts', opts(img), '-O', 'raw', before]);
      const bak = join(dir, 'a.hdr');
      const b = await cli('header', 'backup', '--json', img, bak);
      assert.equal(b.code, 0, b.stderr);
      const br = JSON.parse(b.stdout);
      assert.equal(br.format, 'qcow2-luks');
      assert.equal((await readFile(bak)).subarray(0, 8).toString('latin1'), 'IVQ2LUKS');

      const n = ['--object', `secret,id=n,file=${join(dir, 'n.secret')}`];
      await runQemuRetrying('qemu-img', [
        'amend',
        ...s,
        ...n,
        '--image-opts',
        opts(img),
        '-o',
        'encrypt.state=active,encrypt.new-secret=n,encrypt.iter-time=10',
      ]);
      await runOk('qemu-img', [
        'amend',
        ...n,
        '--image-opts',
        opts(img, 'n'),
        '-o',
        'encrypt.state=inactive,encrypt.keyslot=0',
      ]);
      assert.equal(await opensWith(img, 's'), false);

      const api = createVaultService({ threads: 0 });
      const dry = (await invokeOperation(api, 'headerRestore', [
        { path: img, file: bak, dryRun: true },
      ])) as {
        restored: boolean;
        backupSlots: number[];
        imageSlots: number[];
        mismatches: string[];
      };
      assert.deepEqual(
        [dry.restored, dry.backupSlots, dry.imageSlots, dry.mismatches],
        [false, [0], [1], []]
      );

      const r = await cli('header', 'restore', img, bak, '--passphrase-file', pw);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await opensWith(img, 's'), true, 'the old passphrase is back');
      assert.equal(await opensWith(img, 'n'), false, 'the newer one is gone');
      const cmp = await run('qemu-img', [
        'compare',
        ...s,
        '--image-opts',
        opts(img),
        `driver=raw,file.filename=${before}`,
      ]);
      assert.equal(cmp.code, 0, cmp.stdout + cmp.stderr);
      // The .bak is a wrapper of the replaced header: restoring it brings "newpass" back.
      const undo = await cli('header', 'restore', img, `${img}.header.bak`);
      assert.equal(undo.code, 0, undo.stderr);
      assert.equal(await opensWith(img, 'n'), true);
    });

    it('refuses another image, a tampered backup, and the other container kind', async () => {
      const a = await qcow2('b.qcow2');
      const other = await qcow2('c.qcow2');
      const bak = join(dir, 'c.hdr');
      assert.equal((await cli('header', 'backup', other, bak)).code, 0);
      const before = await fileSha256(a);
      const wrong = await cli('header', 'restore', a, bak);
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /UUID differs.*WRONG_IMAGE/);

      const tampered = join(dir, 'tampered.hdr');
      const bytes = await readFile(bak);
      bytes[bytes.length - 1000] = (bytes[bytes.length - 1000] ?? 0) ^ 1;
      await writeFile(tampered, bytes);
      const bad = await cli('header', 'restore', '--force', a, tampered);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /checksum.*CORRUPT/);

      const raw = join(dir, 'raw.luks');
      await writeFile(raw, '');
      await truncate(raw, 8 * 1024 * 1024);
      await cryptsetupLuksFormat(raw, pw);
      const rawBak = join(dir, 'raw.hdr');
      assert.equal((await cli('header', 'backup', raw, rawBak)).code, 0);
      const kind1 = await cli('header', 'restore', '--force', a, rawBak);
      assert.match(kind1.stderr, /raw LUKS header.*WRONG_IMAGE/);
      const kind2 = await cli('header', 'restore', '--force', raw, bak);
      assert.match(kind2.stderr, /inside a qcow2 image.*WRONG_IMAGE/);
      assert.equal(await fileSha256(a), before, 'nothing written');
    });
  }
);

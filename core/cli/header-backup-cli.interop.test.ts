/**
 * Interop (CLI): `header backup|restore` on raw LUKS1 and LUKS2 against `cryptsetup
 * luksHeaderBackup|luksHeaderRestore`, both ways: our backup file is byte for byte
 * cryptsetup's, cryptsetup restores ours and we restore theirs, judged by `cryptsetup open
 * --test-passphrase` and `luksDump`; data bytes are never touched; the replaced header is kept
 * in IMAGE.header.bak (itself equal to cryptsetup's backup of it); wrong or damaged backups and
 * held images are refused with the file unchanged.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli } from '../testing/cli.js';
import { holdWithQemuIo } from '../testing/lock-peers.js';
import { cryptsetupAddKey, cryptsetupLuksFormat, luksFixture } from '../testing/luks-peers.js';
import type { LuksFixture } from '../testing/luks-peers.js';
import { cryptsetupVerdict, fileSha256 } from '../testing/luks2-edit.js';
import { peerTestOptions, qemuSecret, runOk } from '../testing/peers.js';

describe(
  'header backup/restore vs cryptsetup (CLI)',
  peerTestOptions('cryptsetup', 'qemu-io'),
  () => {
    let fx: LuksFixture;
    let n = 0;
    const file = (what: string) => join(fx.dir, `${what}-${n++}`);
    before(async () => {
      fx = await luksFixture();
    });
    after(() => fx?.cleanup());

    async function volume(type: 'luks1' | 'luks2', extra: string[] = []): Promise<string> {
      const p = file(`${type}.img`);
      await writeFile(p, '');
      await truncate(p, 20 * 1024 * 1024);
      await cryptsetupLuksFormat(p, fx.pw, extra, type);
      return p;
    }
    async function theirBackup(image: string): Promise<string> {
      const b = file('theirs.bak');
      await runOk('cryptsetup', ['luksHeaderBackup', image, '--header-backup-file', b]);
      return b;
    }
    /** Adds pw2, then kills slot 0: the original passphrase stops working. */
    async function changeKeyslots(image: string): Promise<void> {
      // PBKDF2 for LUKS2 too: forced iterations would otherwise be argon2 passes.
      await cryptsetupAddKey(image, fx.pw, fx.pw2, ['--pbkdf', 'pbkdf2']);
      await runOk('cryptsetup', ['luksKillSlot', '--batch-mode', '--key-file', fx.pw2, image, '0']);
      assert.equal((await cryptsetupVerdict(image, fx.pw)).opens, false);
    }
    /** sha256 of the file from `from` on (the data behind the header). */
    async function tailSha(image: string, from: number): Promise<string> {
      const b = await readFile(image);
      return createHash('sha256').update(b.subarray(from)).digest('hex');
    }

    for (const type of ['luks1', 'luks2'] as const) {
      it(`${type}: our backup is cryptsetup's, byte for byte, and each tool restores the other's`, async () => {
        const image = await volume(type);
        const dataOffset = type === 'luks1' ? 4096 * 512 : 16 * 1024 * 1024;
        const data = await tailSha(image, dataOffset);
        const ours = file('ours.bak');
        const r = await cli('header', 'backup', '--json', image, ours);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(JSON.parse(r.stdout).format, 'cryptsetup');
        const theirs = await theirBackup(image);
        assert.ok(
          (await readFile(ours)).equals(await readFile(theirs)),
          'same bytes as cryptsetup'
        );
        assert.equal((await cli('header', 'backup', image, ours)).code, 1, 'an existing file');

        // We restore cryptsetup's backup: the old passphrase is back, the new one gone.
        await changeKeyslots(image);
        const replaced = await theirBackup(image);
        const rr = await cli(
          'header',
          'restore',
          '--json',
          image,
          theirs,
          '--passphrase-file',
          fx.pw
        );
        assert.equal(rr.code, 0, rr.stderr);
        const res = JSON.parse(rr.stdout);
        assert.deepEqual([res.restored, res.backupSlots, res.imageSlots], [true, [0], [1]]);
        let v = await cryptsetupVerdict(image, fx.pw);
        assert.ok(v.dump && v.opens, 'cryptsetup opens the old passphrase after our restore');
        assert.equal((await cryptsetupVerdict(image, fx.pw2)).opens, false);
        assert.equal(res.replacedHeader, `${image}.header.bak`);
        assert.ok((await readFile(res.replacedHeader)).equals(await readFile(replaced)), '.bak');
        assert.equal(await tailSha(image, dataOffset), data, 'data untouched');

        // cryptsetup restores our backup.
        await changeKeyslots(image);
        await runOk('cryptsetup', ['luksHeaderRestore', '-q', image, '--header-backup-file', ours]);
        v = await cryptsetupVerdict(image, fx.pw);
        assert.ok(v.opens, 'cryptsetup restores our backup');
        assert.match(v.dumpText, new RegExp(`^Version:\\s+${type === 'luks1' ? 1 : 2}$`, 'm'));

        // Restoring the .bak undoes our restore: pw2 opens again (a second .bak is made).
        const undo = await cli('header', 'restore', image, res.replacedHeader);
        assert.equal(undo.code, 0, undo.stderr);
        assert.match(undo.stdout, /header\.1\.bak/);
        assert.ok((await cryptsetupVerdict(image, fx.pw2)).opens);
        assert.equal(await tailSha(image, dataOffset), data, 'data untouched');
      });
    }

    it('refuses a backup of another volume unless --force, a wrong passphrase, a damaged backup', async () => {
      const image = await volume('luks2');
      const other = await volume('luks2');
      const otherBak = await theirBackup(other);
      const before = await fileSha256(image);
      const r = await cli('header', 'restore', image, otherBak);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /WRONG_IMAGE/);
      assert.match(r.stderr, /UUID differs.*another master key/);
      const dry = await cli('header', 'restore', '--dry-run', '--json', image, otherBak);
      assert.equal(dry.code, 0, dry.stderr);
      assert.equal(JSON.parse(dry.stdout).mismatches.length, 2);

      const own = await theirBackup(image);
      const wrong = await cli('header', 'restore', image, own, '--passphrase-file', fx.bad);
      assert.equal(wrong.code, 4, wrong.stderr);
      const broken = file('broken.bak');
      const bytes = await readFile(own);
      // One JSON byte in each copy: both checksums fail.
      bytes[4096 + 10] = (bytes[4096 + 10] ?? 0) ^ 0x20;
      bytes[16384 + 4096 + 10] = (bytes[16384 + 4096 + 10] ?? 0) ^ 0x20;
      await writeFile(broken, bytes);
      const bad = await cli('header', 'restore', image, broken);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /CORRUPT/);
      assert.equal(await fileSha256(image), before, 'nothing written by the refusals');

      const forced = await cli('header', 'restore', '--force', image, otherBak);
      assert.equal(forced.code, 0, forced.stderr);
      assert.ok((await cryptsetupVerdict(image, fx.pw)).opens);
      assert.equal(
        (await runOk('cryptsetup', ['luksUUID', image])).trim(),
        (await runOk('cryptsetup', ['luksUUID', other])).trim()
      );
    });

    it('refuses a key size that differs (cryptsetup refuses it too), and an image held by QEMU', async () => {
      const image = await volume('luks1');
      const small = await volume('luks1', ['--key-size', '256']);
      const smallBak = await theirBackup(small);
      const before = await fileSha256(image);
      const r = await cli('header', 'restore', '--force', image, smallBak);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /(key size|data offset).*WRONG_IMAGE/);

      const own = await theirBackup(image);
      const secret = await qemuSecret(fx.dir, 's', 'abc123');
      const holder = await holdWithQemuIo(image, [
        ...secret,
        '--image-opts',
        `driver=luks,file.filename=${image},key-secret=s`,
      ]);
      try {
        const held = await cli('header', 'restore', image, own);
        assert.equal(held.code, 5, held.stderr);
        assert.match(held.stderr, /IMAGE_IN_USE/);
      } finally {
        await holder.release();
      }
      assert.equal(await fileSha256(image), before);
    });
  }
);

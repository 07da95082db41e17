// qcow2+LUKS in the app: the keyslot dialog offers a header backup when none is known; back up,
// change the passphrases, restore the header (the explanation says what comes back); QEMU then
// opens the image with the old passphrase only, and the guest data is unchanged.
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { qemuSecret, run, runOk, runQemuRetrying } from '../core/testing/peers.js';
import { fillNew, openApp, openViaBrowser, type AppFixture } from './helpers.js';

const FIRST = 'first-Quartz-Harbor-42';
const SECOND = 'second-Maple-Lantern-77';

describe('header backup and restore (e2e), serve', () => {
  let app: AppFixture;
  let image = '';
  let secret: string[] = [];
  const opts = (img: string, id = 's') =>
    `driver=qcow2,file.filename=${img},encrypt.key-secret=${id}`;
  before(async () => {
    app = await openApp('header-backup', 'serve');
    image = join(app.dir, 'vm.qcow2');
    secret = await qemuSecret(app.dir, 's', FIRST);
    await runQemuRetrying('qemu-img', [
      'create',
      '-q',
      '-f',
      'qcow2',
      ...secret,
      '-o',
      'encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=10',
      image,
      '16M',
    ]);
    await runOk('qemu-io', [...secret, '--image-opts', opts(image), '-c', 'write -P 0x5a 1M 64k']);
    await runOk('qemu-img', [
      'convert',
      ...secret,
      '--image-opts',
      opts(image),
      '-O',
      'raw',
      join(app.dir, 'before.raw'),
    ]);
  });
  after(async () => app?.close());

  it('offers a backup before a keyslot change, and makes it', async () => {
    const { page, dir } = app;
    await openViaBrowser(page, dir, 'vm.qcow2');
    await page.getByRole('heading', { name: 'vm.qcow2' }).waitFor();
    await page.getByText('No backup of this header is known').waitFor();
    await page.getByRole('button', { name: 'Add passphrase' }).click();
    const dlg = page.getByRole('dialog', { name: 'Add a passphrase' });
    await dlg.getByText('No header backup of this image is known').waitFor();
    await app.shot('keyslot-prompt');
    await dlg.getByRole('button', { name: 'Back up header first…' }).click();
    const bk = page.getByRole('dialog', { name: 'Back up the header' });
    assert.equal(await bk.getByLabel('Backup file name').inputValue(), 'vm.qcow2.header-backup');
    await app.shot('backup-dialog');
    await bk.getByRole('button', { name: 'Back up' }).click();
    await bk.getByRole('status').filter({ hasText: 'with keyslot 0' }).waitFor({ timeout: 60_000 });
    await app.shot('backup-done');
    await bk.getByRole('button', { name: 'Done' }).click();
    await dlg.getByText('No header backup of this image is known').waitFor({ state: 'detached' });
    await access(join(dir, 'vm.qcow2.header-backup'));

    // Now the change: add SECOND, then remove FIRST.
    await dlg.getByLabel('Current passphrase', { exact: true }).fill(FIRST);
    await fillNew(dlg, SECOND);
    await dlg.getByText('Advanced settings').click();
    await dlg.getByLabel('Unlock time (ms)').fill('10');
    await dlg.getByRole('button', { name: 'Add passphrase' }).click();
    await dlg.getByRole('status').filter({ hasText: 'keyslot 1' }).waitFor({ timeout: 60_000 });
    await dlg.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('button', { name: 'Remove passphrase' }).click();
    const rm = page.getByRole('dialog', { name: 'Remove a passphrase' });
    await rm.getByLabel('Passphrase to remove', { exact: true }).fill(FIRST);
    await rm.getByRole('button', { name: 'Remove passphrase' }).click();
    await rm
      .getByRole('status')
      .filter({ hasText: 'Removed keyslot 0' })
      .waitFor({ timeout: 60_000 });
    await rm.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('button', { name: 'Keyslot 0: empty' }).waitFor();
    await page.getByText(/Last backup: .*vm\.qcow2\.header-backup/).waitFor();
  });

  it('restores the header: the explanation says what rolls back, QEMU agrees', async () => {
    const { page, dir } = app;
    await page.getByRole('button', { name: 'Restore header…' }).click();
    const dlg = page.getByRole('dialog', { name: 'Restore the header' });
    assert.equal(
      await dlg.getByLabel('Backup file').inputValue(),
      join(dir, 'vm.qcow2.header-backup')
    );
    const preview = dlg.getByRole('status', { name: 'What the restore changes' });
    await preview.waitFor();
    assert.match(await preview.innerText(), /with keyslot 0\./);
    assert.match(await preview.innerText(), /now uses keyslot 1\./);
    await dlg.getByText('Passphrases added or changed after the backup stop working').waitFor();
    await app.shot('restore-1280x800');
    await page.setViewportSize({ width: 800, height: 600 });
    await app.shot('restore-800x600');
    await page.setViewportSize({ width: 1280, height: 800 });

    await dlg.getByLabel('A passphrase of the backup (recommended)', { exact: true }).fill(SECOND);
    await dlg.getByRole('button', { name: 'Restore header' }).click();
    const err = dlg.getByRole('alert').filter({ hasText: 'does not open the backup' });
    await err.waitFor({ timeout: 60_000 });
    await dlg.getByLabel('A passphrase of the backup (recommended)', { exact: true }).fill(FIRST);
    await dlg.getByRole('button', { name: 'Restore header' }).click();
    await dlg.getByRole('status').filter({ hasText: 'Restored' }).waitFor({ timeout: 60_000 });
    await app.shot('restore-done');
    await dlg.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('button', { name: /Keyslot 0: in use/ }).waitFor();
    await page.getByRole('button', { name: 'Keyslot 1: empty' }).waitFor();
    await access(`${image}.header.bak`);

    for (const [pass, opens] of [
      [FIRST, true],
      [SECOND, false],
    ] as const) {
      const s = await qemuSecret(dir, 'k', pass);
      const r = await run('qemu-img', ['check', ...s, '--image-opts', opts(image, 'k')]);
      assert.equal(r.code === 0, opens, `${pass}: ${r.stderr}`);
    }
    const cmp = await run('qemu-img', [
      'compare',
      ...secret,
      '--image-opts',
      opts(image),
      `driver=raw,file.filename=${join(dir, 'before.raw')}`,
    ]);
    assert.equal(cmp.code, 0, cmp.stdout + cmp.stderr);
  });
});

// Create an encrypted qcow2 → add a second passphrase → remove the first → test both.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { qemuSecret, run, runOk } from '../core/testing/peers.js';
import { FACES, fillNew, openApp, type AppFixture } from './helpers.js';

const FIRST = 'first-Quartz-Harbor-42';
const SECOND = 'second-Maple-Lantern-77';
const THIRD = 'third-Cedar-Beacon-31';

for (const face of FACES) {
  describe(`create and manage passphrases (e2e), ${face}`, () => {
    let app: AppFixture;
    before(async () => {
      app = await openApp('keyslots', face);
    });
    after(async () => app?.close());

    it('creates an encrypted qcow2 image with a fast unlock time', async () => {
      const { page, dir } = app;
      await page.getByRole('button', { name: 'New encrypted image' }).click();
      const dlg = page.getByRole('dialog', { name: 'New disk image' });
      await dlg.getByRole('radio', { name: /qcow2 \+ LUKS/ }).check();
      await dlg.getByLabel('Disk size').fill('16');
      await dlg.getByLabel('Unit').selectOption('MiB');
      await dlg.getByLabel('Save in folder').fill(dir);
      await dlg.getByLabel('File name').fill('vault.qcow2');
      await app.shot('create-step1');
      await dlg.getByRole('button', { name: 'Next' }).click();
      await fillNew(dlg, FIRST, 'Passphrase');
      await dlg.getByText('Advanced settings').click();
      await dlg.getByLabel('Unlock time (ms)').fill('10');
      await app.shot('create-step2');
      await dlg.getByRole('button', { name: 'Create image' }).click();
      await dlg.getByRole('heading', { name: 'Image created' }).waitFor({ timeout: 60_000 });
      await app.shot('create-done');
      await dlg.getByRole('button', { name: 'Show image' }).click();
      await page.getByRole('heading', { name: 'vault.qcow2' }).waitFor();
      await page.getByRole('button', { name: /Keyslot 0: in use/ }).waitFor();
      await app.shot('details');
      const info = JSON.parse(
        await runOk('qemu-img', ['info', '--output=json', join(dir, 'vault.qcow2')])
      );
      assert.equal(info['format-specific'].data.encrypt.format, 'luks');
    });

    it('adds a second passphrase', async () => {
      const { page } = app;
      await page.getByRole('button', { name: 'Add passphrase' }).click();
      const dlg = page.getByRole('dialog', { name: 'Add a passphrase' });
      await dlg.getByLabel('Current passphrase', { exact: true }).fill(FIRST);
      await fillNew(dlg, SECOND);
      await dlg.getByText('Advanced settings').click();
      await dlg.getByLabel('Unlock time (ms)').fill('10');
      await dlg.getByRole('button', { name: 'Add passphrase' }).click();
      await dlg.getByRole('status').filter({ hasText: 'keyslot 1' }).waitFor({ timeout: 60_000 });
      await app.shot('added');
      await dlg.getByRole('button', { name: 'Done' }).click();
      await page.getByRole('button', { name: /Keyslot 1: in use/ }).waitFor();
    });

    it('changes the second passphrase (added to a free slot, then the old one removed)', async () => {
      const { page } = app;
      await page.getByRole('button', { name: 'Change passphrase' }).click();
      const dlg = page.getByRole('dialog', { name: 'Change a passphrase' });
      await dlg.getByLabel('Current passphrase', { exact: true }).fill(SECOND);
      await fillNew(dlg, THIRD);
      await dlg.getByText('Advanced settings').click();
      await dlg.getByLabel('Unlock time (ms)').fill('10');
      await dlg.getByRole('button', { name: 'Change passphrase' }).click();
      await dlg
        .getByRole('status')
        .filter({ hasText: 'keyslot 2; the old one was removed from keyslot 1' })
        .waitFor({ timeout: 60_000 });
      await app.shot('changed');
      await dlg.getByRole('button', { name: 'Done' }).click();
      await page.getByRole('button', { name: /Keyslot 2: in use/ }).waitFor();
      await page.getByRole('button', { name: 'Keyslot 1: empty' }).waitFor();
    });

    it('removes the first passphrase', async () => {
      const { page } = app;
      await page.getByRole('button', { name: 'Remove passphrase' }).click();
      const dlg = page.getByRole('dialog', { name: 'Remove a passphrase' });
      await dlg.getByLabel('Passphrase to remove', { exact: true }).fill(FIRST);
      await dlg.getByRole('button', { name: 'Remove passphrase' }).click();
      await dlg
        .getByRole('status')
        .filter({ hasText: 'Removed keyslot 0' })
        .waitFor({ timeout: 60_000 });
      await app.shot('removed');
      await dlg.getByRole('button', { name: 'Done' }).click();
      await page.getByRole('button', { name: 'Keyslot 0: empty' }).waitFor();
    });

    it('tests: the removed first passphrase is wrong, the changed one opens', async () => {
      const { page, dir } = app;
      await page.getByRole('button', { name: 'Test passphrase' }).click();
      const dlg = page.getByRole('dialog', { name: 'Test a passphrase' });
      await dlg.getByLabel('Passphrase', { exact: true }).fill(FIRST);
      await dlg.getByRole('button', { name: 'Test' }).click();
      const wrong = dlg.getByRole('alert');
      await wrong.waitFor({ timeout: 60_000 });
      assert.match(await wrong.innerText(), /Wrong passphrase/);
      await app.shot('test-wrong');
      await dlg.getByLabel('Passphrase', { exact: true }).fill(THIRD);
      await dlg.getByRole('button', { name: 'Test' }).click();
      const right = dlg.getByRole('status');
      await right.waitFor({ timeout: 60_000 });
      assert.match(await right.innerText(), /opens keyslot 2/);
      await app.shot('test-right');
      const info = JSON.parse(
        await runOk('qemu-img', ['info', '--output=json', join(dir, 'vault.qcow2')])
      );
      const slots = info['format-specific'].data.encrypt.slots as { active: boolean }[];
      assert.deepEqual(
        slots.map((s) => s.active),
        [false, false, true, false, false, false, false, false]
      );
      // QEMU agrees: only the changed passphrase opens the image.
      const image = join(dir, 'vault.qcow2');
      for (const [pass, opens] of [
        [FIRST, false],
        [SECOND, false],
        [THIRD, true],
      ] as const) {
        const s = await qemuSecret(dir, 'k', pass);
        const r = await run('qemu-img', [
          'check',
          ...s,
          '--image-opts',
          `driver=qcow2,file.filename=${image},encrypt.key-secret=k`,
        ]);
        assert.equal(r.code === 0, opens, `${pass}: ${r.stderr}`);
      }
    });
  });
}

// The UI shell (issue #14), as a user sees it: a typed path to a file opens it, a folder of
// files is not "empty", a text file is flagged, Library rows have their actions, a reload
// keeps the session and reads the remembered images, keyslots are revoked from the grid with
// a remaining passphrase, a migrated image joins the Library linked to its original, and the
// `.tar` that export writes is imported through the picker.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { runOk } from '../core/testing/peers.js';
import { FACES, fillNew, openApp, typeLocation, type AppFixture } from './helpers.js';
import { FIRST, HANDED, LEGACY, SECOND, makeUiFiles, type UiFiles } from './ui-fixtures.js';

const NEW = 'fresh-Copper-Window-58';

/** Opens Open…, types `path` into Location and presses Enter. */
async function typePath(page: Page, path: string) {
  await toLibrary(page);
  await page.getByRole('button', { name: 'Open…' }).click();
  const dlg = page.getByRole('dialog', { name: 'Open a disk image' });
  const location = dlg.getByLabel('Location');
  // The dialog opens with focus in its first field.
  await page.waitForFunction(() => document.activeElement?.getAttribute('id') !== null);
  assert.equal(await location.evaluate((el) => el === document.activeElement), true);
  await typeLocation(dlg, path);
  await location.press('Enter');
  return dlg;
}

async function toLibrary(page: Page) {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('button', { name: 'Library' })
    .click();
  await page.getByRole('heading', { name: 'Library', level: 1 }).waitFor();
}

for (const face of FACES) {
  describe(`UI shell (e2e), ${face}`, () => {
    let app: AppFixture;
    let f: UiFiles;
    before(async () => {
      app = await openApp('uishell', face);
      f = await makeUiFiles(app.dir);
    });
    after(async () => app?.close());

    it('a typed path to a file opens it; a text file is flagged; a folder of files is listed', async () => {
      const { page } = app;
      await typePath(page, f.plain);
      await page.getByRole('heading', { name: 'plain.qcow2' }).waitFor();
      await typePath(page, f.vault);
      await page.getByRole('heading', { name: 'vault.qcow2' }).waitFor();

      await typePath(page, f.notes);
      await page.getByRole('heading', { name: 'notes.txt' }).waitFor();
      await page
        .locator('.alert.warn')
        .filter({ hasText: 'looks like text, not a disk image' })
        .waitFor();
      await app.shot('text-file-flagged');

      const dlg = await typePath(page, f.onlyFiles);
      await dlg.getByRole('option', { name: 'disk-a.img' }).waitFor();
      assert.equal(await dlg.getByText('This folder is empty.').count(), 0);
      await dlg.getByRole('button', { name: 'Cancel' }).click();
      // Focus goes back to the button that opened the dialog.
      assert.equal(
        await page
          .getByRole('button', { name: 'Open…' })
          .evaluate((el) => el === document.activeElement),
        true
      );
      // A folder picker shows the files of a folder without subfolders, too.
      await page.getByRole('button', { name: 'Import bundle…' }).click();
      const imp = page.getByRole('dialog', { name: 'Import a bundle' });
      await imp.getByRole('button', { name: 'Folder…' }).click();
      const folder = page.getByRole('dialog', { name: 'Choose the bundle folder' });
      await typeLocation(folder, f.onlyFiles);
      await folder.getByRole('button', { name: 'Go' }).click();
      await folder.getByRole('option', { name: 'readme.txt' }).waitFor();
      assert.equal(await folder.getByText('This folder is empty.').count(), 0);
      await app.shot('folder-picker-files');
      await folder.getByRole('button', { name: 'Cancel' }).click();
      await imp.getByRole('button', { name: 'Close' }).first().click();
    });

    it('Library rows have their actions; a legacy image offers migration', async () => {
      const { page } = app;
      await typePath(page, f.legacy);
      const mig = page.getByRole('dialog', { name: 'Migrate to LUKS' });
      await mig.waitFor();
      await mig.getByRole('button', { name: 'Close' }).first().click();
      await toLibrary(page);
      const rows = page.getByRole('table', { name: 'Images' });
      for (const name of ['plain.qcow2', 'vault.qcow2', 'legacy.qcow2', 'notes.txt'])
        await rows.getByRole('button', { name: `Open ${name}` }).waitFor();
      await rows.getByRole('button', { name: 'Migrate legacy.qcow2' }).waitFor();
      await rows.getByRole('button', { name: 'Convert vault.qcow2' }).click();
      await page
        .getByRole('dialog', { name: /Convert/ })
        .getByRole('button', { name: 'Cancel' })
        .click();
      await rows.getByRole('button', { name: 'Hand over vault.qcow2' }).click();
      await page
        .getByRole('dialog', { name: 'Hand over an image' })
        .getByRole('button', { name: 'Cancel' })
        .click();
      await rows.getByRole('button', { name: 'Remove notes.txt from the library' }).click();
      assert.equal(await rows.getByRole('button', { name: 'Open notes.txt' }).count(), 0);
      await app.shot('library-rows');
    });

    it('a reload keeps the session and reads every remembered image', async () => {
      const { page } = app;
      await page.reload();
      await page.getByRole('heading', { name: 'Library', level: 1 }).waitFor();
      const rows = page.getByRole('table', { name: 'Images' });
      await rows.getByRole('cell', { name: 'qcow2' }).first().waitFor();
      assert.equal(await page.getByText(/could not be read/).count(), 0);
      await rows.getByRole('button', { name: 'Open vault.qcow2' }).click();
      await page.getByRole('heading', { name: 'vault.qcow2' }).waitFor();
      await page.getByRole('button', { name: /Keyslot 1: in use/ }).waitFor();
      assert.equal(await page.getByText(/could not be read/).count(), 0);
      await app.shot('after-reload-details');
    });

    it('revokes a keyslot from the grid with a passphrase that stays', async () => {
      const { page } = app;
      await page.getByRole('button', { name: /Keyslot 1: in use/ }).click();
      const panel = page.getByRole('region', { name: 'Keyslot 1' });
      await panel.getByText('PBKDF2').waitFor();
      await app.shot('slot-details');
      await panel.getByRole('button', { name: 'Revoke keyslot 1…' }).click();
      const dlg = page.getByRole('dialog', { name: 'Revoke keyslot 1' });
      const proof = dlg.getByLabel('A passphrase that stays', { exact: true });
      assert.equal(await proof.evaluate((el) => el === document.activeElement), true);
      // Its own passphrase proves nothing about the slots that remain (luksKillSlot).
      await proof.fill(SECOND);
      await dlg.getByLabel(/Revoke keyslot 1: the passphrase in it will no longer open/).check();
      await dlg.getByRole('button', { name: 'Revoke keyslot 1' }).click();
      await dlg
        .getByRole('alert')
        .filter({ hasText: 'does not open any keyslot other than 1' })
        .waitFor({ timeout: 60_000 });
      await app.shot('revoke-wrong-proof');
      await proof.fill(FIRST);
      await proof.press('Enter');
      await dlg
        .getByRole('status')
        .filter({ hasText: 'Revoked keyslot 1' })
        .waitFor({ timeout: 60_000 });
      await dlg.getByRole('button', { name: 'Done' }).click();
      await page.getByRole('button', { name: 'Keyslot 1: empty' }).waitFor();
      const info = JSON.parse(await runOk('qemu-img', ['info', '--output=json', f.vault]));
      const slots = info['format-specific'].data.encrypt.slots as { active: boolean }[];
      assert.deepEqual(
        slots.slice(0, 2).map((s) => s.active),
        [true, false]
      );
      // The last slot stays guarded: its own passphrase and an explicit tick.
      await page.getByRole('button', { name: /Keyslot 0: in use/ }).click();
      await page
        .getByRole('region', { name: 'Keyslot 0' })
        .getByRole('button', { name: 'Revoke keyslot 0…' })
        .click();
      const last = page.getByRole('dialog', { name: 'Revoke keyslot 0' });
      await last.getByText('This is the only passphrase left.').waitFor();
      await last.getByLabel('Passphrase of keyslot 0', { exact: true }).waitFor();
      await app.shot('revoke-last-guarded');
      await last.getByRole('button', { name: 'Cancel' }).click();
    });

    it('imports the .tar that export writes, picked by typing its path', async () => {
      const { page } = app;
      await toLibrary(page);
      await page.getByRole('button', { name: 'Import bundle…' }).click();
      const dlg = page.getByRole('dialog', { name: 'Import a bundle' });
      await dlg.getByRole('button', { name: '.tar file…' }).click();
      const pick = page.getByRole('dialog', { name: 'Choose the bundle file (.tar)' });
      await (await typeLocation(pick, f.tar)).press('Enter');
      await dlg.getByRole('article', { name: 'Bundle summary' }).getByText('Sam').first().waitFor();
      await app.shot('tar-summary');
      await dlg.getByRole('button', { name: 'Next' }).click();
      await dlg.getByLabel('Handed-over passphrase', { exact: true }).fill(HANDED);
      await fillNew(dlg, NEW, 'Your new passphrase');
      await dlg.getByText('Advanced settings').click();
      await dlg.getByLabel('Unlock time (ms)').fill('10');
      await dlg.getByRole('button', { name: 'Next' }).click();
      await dlg.getByLabel('Save the image in folder').fill(app.dir);
      await dlg.getByLabel('File name').fill('from-tar.qcow2');
      await dlg.getByRole('button', { name: 'Import', exact: true }).click();
      await dlg.getByText('Import finished.').waitFor({ timeout: 120_000 });
      await page.waitForTimeout(300);
      await app.shot('tar-imported');
      await dlg.getByRole('button', { name: 'Close' }).last().click();
      await page
        .getByRole('table', { name: 'Images' })
        .getByRole('button', { name: 'Open from-tar.qcow2' })
        .waitFor();
      await page.getByText('Imported from a bundle').first().waitFor();
    });

    if (face === 'serve') {
      it('a migrated image joins the Library, linked to its original and back', async () => {
        const { page, server } = app;
        const b64 = (s: string) => ({ $b64: Buffer.from(s).toString('base64') });
        const target = join(app.dir, 'legacy-luks.qcow2');
        // Started outside this window (as the CLI or another tab would): the window follows
        // the job's events and adds the result.
        const res = await fetch(`http://127.0.0.1:${server!.port}/api/startMigrate`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${server!.token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify([
            {
              source: f.legacy,
              target,
              oldPassphrase: b64(LEGACY),
              passphrase: b64(NEW),
              force: true,
              encryption: { iterations: 1000 },
            },
          ]),
        });
        assert.equal(res.status, 200, await res.text());
        await toLibrary(page);
        const rows = page.getByRole('table', { name: 'Images' });
        await rows
          .getByRole('button', { name: 'Open legacy-luks.qcow2' })
          .waitFor({ timeout: 60_000 });
        const newRow = rows.getByRole('row').filter({ hasText: 'legacy-luks.qcow2' }).first();
        await newRow.getByText('Migrated from').waitFor();
        const oldRow = rows
          .getByRole('row')
          .filter({ has: page.getByRole('button', { name: 'Open legacy.qcow2' }) });
        await oldRow.getByText('Migrated to').waitFor();
        await app.shot('migrated-linked');
        await oldRow.getByRole('button', { name: 'legacy-luks.qcow2' }).click();
        await page.getByRole('heading', { name: 'legacy-luks.qcow2' }).waitFor();
        await page.getByText('Migrated from').waitFor();
        await page.getByRole('button', { name: f.legacy }).click();
        await page.getByRole('heading', { name: 'legacy.qcow2' }).waitFor();
      });
    }
  });
}

// Create an encrypted qcow2 → add a second passphrase → remove the first → test both.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runOk } from '../core/testing/peers.js';
import { fillNew, openApp, type AppFixture } from './helpers.js';

const FIRST = 'first-Quartz-Harbor-42';
const SECOND = 'second-Maple-Lantern-77';

describe('create and manage passphrases (e2e)', () => {
  let app: AppFixture;
  before(async () => {
    app = await openApp('keyslots');
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

  it('tests both: the first is reported as wrong, the second opens', async () => {
    const { page, dir } = app;
    await page.getByRole('button', { name: 'Test passphrase' }).click();
    const dlg = page.getByRole('dialog', { name: 'Test a passphrase' });
    await dlg.getByLabel('Passphrase', { exact: true }).fill(FIRST);
    await dlg.getByRole('button', { name: 'Test' }).click();
    const wrong = dlg.getByRole('alert');
    await wrong.waitFor({ timeout: 60_000 });
    assert.match(await wrong.innerText(), /Wrong passphrase/);
    await app.shot('test-wrong');
    await dlg.getByLabel('Passphrase', { exact: true }).fill(SECOND);
    await dlg.getByRole('button', { name: 'Test' }).click();
    const right = dlg.getByRole('status');
    await right.waitFor({ timeout: 60_000 });
    assert.match(await right.innerText(), /opens keyslot 1/);
    await app.shot('test-right');
    const info = JSON.parse(
      await runOk('qemu-img', ['info', '--output=json', join(dir, 'vault.qcow2')])
    );
    const slots = info['format-specific'].data.encrypt.slots as { active: boolean }[];
    assert.deepEqual(
      slots.map((s) => s.active),
      [false, true, false, false, false, false, false, false]
    );
  });
});

// An image a running qemu-io writes (issue #13, "Locks"): the app shows it "In use" in Details
// and in the Library, and the actions that would be refused are disabled with the reason;
// once qemu-io lets go, a refresh enables them again.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { holdWithQemuIo, type QemuHolder } from '../core/testing/lock-peers.js';
import { peerTestOptions, qemuSecret, runQemuRetrying } from '../core/testing/peers.js';
import { openApp, openViaBrowser, type AppFixture } from './helpers.js';

describe('an image in use (e2e)', peerTestOptions('qemu-img', 'qemu-io'), () => {
  let app: AppFixture;
  let img: string;
  let holder: QemuHolder | undefined;
  before(async () => {
    app = await openApp('in-use');
    img = join(app.dir, 'running.qcow2');
    const s = await qemuSecret(app.dir, 's', 'vm-passphrase-Teal-Otter-19');
    await runQemuRetrying('qemu-img', [
      'create',
      '-f',
      'qcow2',
      ...s,
      '-o',
      'encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=10',
      img,
      '16M',
    ]);
    holder = await holdWithQemuIo(img, [
      ...s,
      '--image-opts',
      `driver=qcow2,file.filename=${img},encrypt.key-secret=s`,
    ]);
  });
  after(async () => {
    await holder?.release();
    await app?.close();
  });

  it('shows the holder and disables what would be refused', async () => {
    const { page } = app;
    await openViaBrowser(page, app.dir, 'running.qcow2');
    await page.getByRole('heading', { name: 'running.qcow2' }).waitFor();
    const reason = page.locator('#in-use-reason');
    await reason.waitFor();
    assert.match(
      await reason.innerText(),
      new RegExp(`qemu-io \\(PID ${holder?.pid}\\) is writing this image`)
    );
    for (const name of ['Add passphrase', 'Change passphrase', 'Remove passphrase']) {
      const button = page.getByRole('button', { name });
      assert.equal(await button.isDisabled(), true, name);
      assert.match((await button.getAttribute('title')) ?? '', /Stop the VM/);
    }
    // A writer also makes reads inconsistent: testing, converting and handing over wait too.
    for (const name of ['Test passphrase', 'Convert…', 'Hand over…']) {
      assert.equal(await page.getByRole('button', { name }).isDisabled(), true, name);
    }
    assert.equal(await page.locator('.badge.warn', { hasText: 'In use' }).count(), 1);
    await app.shot('details-in-use');
  });

  it('marks the Library row, and clears it once the VM lets go', async () => {
    const { page } = app;
    await page.getByRole('button', { name: 'Library' }).first().click();
    const row = page.getByRole('row', { name: /running\.qcow2/ });
    await row.locator('.badge.warn', { hasText: 'In use' }).waitFor();
    await app.shot('library-in-use');
    await holder?.release();
    holder = undefined;
    await row.getByRole('button', { name: 'Open running.qcow2' }).click();
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.locator('#in-use-reason').waitFor({ state: 'detached' });
    assert.equal(await page.getByRole('button', { name: 'Add passphrase' }).isDisabled(), false);
  });
});

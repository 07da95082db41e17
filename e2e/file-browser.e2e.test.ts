// The in-app file browser: a slow answer for an earlier folder never replaces the folder the
// user asked for since (the first listing is still loading when a quick user types a path).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openApp, type AppFixture } from './helpers.js';

describe('file browser (e2e)', () => {
  let app: AppFixture;
  before(async () => {
    app = await openApp('browser');
    await writeFile(join(app.dir, 'pick-me.img'), new Uint8Array(4096));
  });
  after(async () => app?.close());

  it('keeps the typed folder when the first listing answers last', async () => {
    const { page } = app;
    let first = true;
    let releaseFirst = () => {};
    const firstHeld = new Promise<void>((r) => (releaseFirst = r));
    await page.route('**/api/listDirectory', async (route) => {
      if (first) {
        first = false;
        await firstHeld; // the dialog's own first listing (the start folder) answers late
      }
      await route.continue();
    });
    await page.getByRole('button', { name: 'Open…' }).click();
    const dlg = page.getByRole('dialog', { name: 'Open a disk image' });
    const location = dlg.getByLabel('Location');
    await location.fill(app.dir);
    await dlg.getByRole('button', { name: 'Go' }).click();
    const option = dlg.getByRole('option', { name: 'pick-me.img' });
    await option.waitFor();
    // Let the late answer arrive, then check it changed nothing.
    const late = page.waitForResponse('**/api/listDirectory');
    releaseFirst();
    await late;
    await page.waitForTimeout(200);
    assert.equal(await option.count(), 1, 'the typed folder is still listed');
    assert.equal(await location.inputValue(), app.dir);
    await app.shot('typed-folder-kept');
    await page.unroute('**/api/listDirectory');
  });
});

// Start converting a large-ish random image to qcow2 + LUKS, cancel → no output left behind.
import assert from 'node:assert/strict';
import { randomFillSync } from 'node:crypto';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FACES, fillNew, openApp, openViaBrowser, type AppFixture } from './helpers.js';

const MiB = 1024 * 1024;

for (const face of FACES) {
  describe(`cancel a conversion (e2e), ${face}`, () => {
    let app: AppFixture;
    before(async () => {
      app = await openApp('convert', face);
      // 1 GiB raw: random data in every other 8 MiB (the rest sparse), so there is real work.
      const fh = await open(join(app.dir, 'big.img'), 'w');
      const buf = Buffer.alloc(8 * MiB);
      for (let off = 0; off < 1024 * MiB; off += 16 * MiB) {
        randomFillSync(buf);
        await fh.write(buf, 0, buf.length, off);
      }
      await fh.truncate(1024 * MiB);
      await fh.close();
    });
    after(async () => app?.close());

    it('cancels the running job and leaves neither a target nor a .partial file', async () => {
      const { page, dir } = app;
      await openViaBrowser(page, dir, 'big.img');
      await page.getByRole('heading', { name: 'big.img' }).waitFor();
      await page.getByRole('button', { name: 'Convert…' }).click();
      const dlg = page.getByRole('dialog', { name: 'Convert image' });
      await dlg.getByLabel('Convert to').selectOption('qcow2-luks');
      await fillNew(dlg, 'convert-Silver-Comet-90');
      await dlg.getByLabel('File name').fill('big-luks.qcow2');
      await app.shot('form');
      await dlg.getByRole('button', { name: 'Start conversion' }).click();
      await dlg.getByRole('progressbar').waitFor();
      // Progress reports bytes once copying starts (after the passphrase's key derivation); the
      // total is the data to copy (512 MiB), not the virtual size: holes are skipped.
      await dlg.getByText(/ of 512(\.0)? MiB/).waitFor({ timeout: 60_000 });
      await app.shot('running');
      await dlg.getByRole('button', { name: 'Cancel' }).click();
      await dlg.getByText('Conversion cancelled').waitFor({ timeout: 60_000 });
      await app.shot('cancelled');
      let left: string[] = [];
      for (let i = 0; i < 50; i++) {
        left = (await readdir(dir)).filter((f) => f.startsWith('big-luks'));
        if (left.length === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(left, []);
      await dlg.getByRole('button', { name: 'Close', exact: true }).last().click();
      await page.getByRole('button', { name: 'Jobs' }).click();
      await page
        .getByRole('listitem', { name: /big\.img/ })
        .getByText('Cancelled')
        .waitFor();
      await app.shot('jobs-panel');
    });
  });
}

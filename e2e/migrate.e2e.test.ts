// Pick a legacy AES image made by qemu-img → migrate → the result opens in qemu-img with the
// new passphrase and `qemu-img compare` equals the original.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { peerTestOptions, qemuSecret, run, runOk } from '../core/testing/peers.js';
import { FACES, fillNew, openApp, openViaBrowser, type AppFixture } from './helpers.js';

const OLD = 'legacy-Old-Secret-1';
const NEW = 'fresh-Copper-Window-58';

for (const face of FACES) {
  describe(
    `migrate a legacy AES image (e2e), ${face}`,
    peerTestOptions('qemu-img', 'qemu-io'),
    () => {
      let app: AppFixture;
      let src: string;
      before(async () => {
        app = await openApp('migrate', face);
        src = join(app.dir, 'legacy.qcow2');
        const s = await qemuSecret(app.dir, 's', OLD);
        await runOk('qemu-img', [
          'create',
          '-f',
          'qcow2',
          ...s,
          '-o',
          'encrypt.format=aes,encrypt.key-secret=s',
          src,
          '16M',
        ]);
        // Recognisable content: a boot-sector signature plus patterns, so the heuristic has data.
        const mbr = join(app.dir, 'mbr.bin');
        const sector = new Uint8Array(512);
        sector[510] = 0x55;
        sector[511] = 0xaa;
        await writeFile(mbr, sector);
        const opts = `driver=qcow2,file.filename=${src},encrypt.key-secret=s`;
        await runOk('qemu-io', [
          ...s,
          '--image-opts',
          opts,
          '-c',
          'write -P 0x42 1M 64k',
          '-c',
          'write -P 0x17 5M 128k',
        ]);
      });
      after(async () => app?.close());

      it('detects the legacy image on pick and migrates it', async () => {
        const { page } = app;
        // The desktop window takes the file dropped on it; a browser cannot see a dropped
        // file's path, so there the user picks it.
        if (face === 'desktop') await app.dropFile(src);
        else await openViaBrowser(page, app.dir, 'legacy.qcow2');
        const dlg = page.getByRole('dialog', { name: 'Migrate to LUKS' });
        await dlg.waitFor();
        await app.shot('offer');
        await dlg.getByLabel('Old passphrase', { exact: true }).fill(OLD);
        await dlg.getByRole('button', { name: 'Check passphrase' }).click();
        const verdict = dlg.getByRole('status');
        await verdict.waitFor({ timeout: 60_000 });
        await app.shot('verdict');
        const anyway = dlg.getByLabel('Continue with this passphrase anyway');
        if (await anyway.isVisible()) await anyway.check();
        await dlg.getByRole('button', { name: 'Next' }).click();
        await fillNew(dlg, NEW);
        await dlg.getByText('Advanced settings').click();
        await dlg.getByLabel('Unlock time (ms)').fill('10');
        await dlg.getByRole('button', { name: 'Next' }).click();
        assert.equal(await dlg.getByLabel('File name').inputValue(), 'legacy-luks.qcow2');
        await app.shot('target');
        await dlg.getByRole('button', { name: 'Start migration' }).click();
        await dlg.getByText('Migration finished.').waitFor({ timeout: 120_000 });
        await app.shot('finished');
        await dlg.getByRole('button', { name: 'Keep original' }).click();
        await dlg.getByText('The original was kept as it is.').waitFor();
        await app.shot('kept');
      });

      it('produces an image qemu-img opens with the new passphrase, equal to the original', async () => {
        const dst = join(app.dir, 'legacy-luks.qcow2');
        const info = JSON.parse(await runOk('qemu-img', ['info', '--output=json', dst]));
        assert.equal(info['format-specific'].data.encrypt.format, 'luks');
        const s = await qemuSecret(app.dir, 'o', OLD);
        const n = await qemuSecret(app.dir, 'n', NEW);
        const cmp = await run('qemu-img', [
          'compare',
          ...s,
          ...n,
          '--image-opts',
          `driver=qcow2,file.filename=${src},encrypt.key-secret=o`,
          `driver=qcow2,file.filename=${dst},encrypt.key-secret=n`,
        ]);
        assert.equal(cmp.code, 0, cmp.stderr + cmp.stdout);
        const wrong = await qemuSecret(app.dir, 'w', OLD);
        const bad = await run('qemu-img', [
          'compare',
          ...wrong,
          '--image-opts',
          `driver=qcow2,file.filename=${dst},encrypt.key-secret=w`,
          `driver=qcow2,file.filename=${dst},encrypt.key-secret=w`,
        ]);
        assert.notEqual(bad.code, 0);
      });
    }
  );
}

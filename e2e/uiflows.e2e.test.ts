// Issue #14 in Chromium, as the user sees it: a migration after "Continue anyway" says what its
// verification proves (and offers no trash), the checks before a job starts report at the
// field at fault and keep every input, a failed job looks failed in the Jobs panel, and an
// import whose libvirt step fails reports the partial success. Screenshots at 1280×800 and
// 800×600 go to /tmp/shots-uiflows/.
import assert from 'node:assert/strict';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { createImage } from '../core/service/create.js';
import { createVaultService } from '../core/service/index.js';
import { peerTestOptions, qemuSecret, runOk } from '../core/testing/peers.js';
import { fillNew, openApp, openViaBrowser, typeLocation, type AppFixture } from './helpers.js';

const OLD = 'legacy-Old-Secret-1';
const SRC_PASS = 'source-Maple-Lantern-7';
const NEW = 'fresh-Copper-Window-58';
const SHOTS = '/tmp/shots-uiflows';
const enc = (s: string) => new TextEncoder().encode(s);

/** Screenshots at the two window sizes the issue names. */
async function shots(page: Page, name: string): Promise<void> {
  await mkdir(SHOTS, { recursive: true });
  await page.waitForTimeout(300); // let bars and dialogs settle
  for (const [w, h] of [
    [1280, 800],
    [800, 600],
  ] as const) {
    await page.setViewportSize({ width: w, height: h });
    await page.screenshot({ path: join(SHOTS, `${name}-${w}x${h}.png`) });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** The text of the problem shown right under a field (its `aria-describedby`). */
async function problemUnder(field: Locator): Promise<string> {
  const ids = (await field.getAttribute('aria-describedby')) ?? '';
  const page = field.page();
  const texts = await Promise.all(
    ids
      .split(' ')
      .filter((id) => id.endsWith('-problem'))
      .map((id) => page.locator(`[id="${id}"]`).innerText())
  );
  return texts.join(' ');
}

/** Closes a dialog a failed earlier test may have left open. */
async function closeDialogs(page: Page): Promise<void> {
  for (let i = 0; i < 3 && (await page.getByRole('dialog').count()) > 0; i++) {
    await page.keyboard.press('Escape');
    await page.waitForTimeout(200);
  }
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('button', { name: 'Library' })
    .click();
}

describe(
  'truthful results and checks before jobs (e2e, issue #14)',
  peerTestOptions('qemu-img', 'qemu-io'),
  () => {
    let app: AppFixture;
    let legacy: string;
    let luks: string;
    let huge: string;
    before(async () => {
      app = await openApp('uiflows', 'serve');
      legacy = join(app.dir, 'legacy.qcow2');
      const s = await qemuSecret(app.dir, 's', OLD);
      await runOk('qemu-img', [
        'create',
        '-f',
        'qcow2',
        ...s,
        '-o',
        'encrypt.format=aes,encrypt.key-secret=s',
        legacy,
        '16M',
      ]);
      await runOk('qemu-io', [
        ...s,
        '--image-opts',
        `driver=qcow2,file.filename=${legacy},encrypt.key-secret=s`,
        '-c',
        'write -P 0x42 1M 64k',
        '-c',
        'write -P 0x17 5M 128k',
      ]);
      luks = join(app.dir, 'server.qcow2');
      await createImage({
        path: luks,
        format: 'qcow2',
        virtualSize: 8 * 2 ** 20,
        passphrase: enc(SRC_PASS),
        encryption: { iterations: 1000 },
      });
      // 1 PiB virtual, nothing allocated: fits while sparse, and a raw copy cannot be created.
      huge = join(app.dir, 'huge.qcow2');
      await createImage({ path: huge, format: 'qcow2', virtualSize: 2 ** 50 });
      await writeFile(join(app.dir, 'taken.qcow2'), 'someone else’s file');
    });
    after(async () => app?.close());

    it('after "Continue anyway" the result says what was verified and offers no trash', async () => {
      const { page } = app;
      await openViaBrowser(page, app.dir, 'legacy.qcow2');
      const dlg = page.getByRole('dialog', { name: 'Migrate to LUKS' });
      await dlg.waitFor();
      const old = dlg.getByLabel('Old passphrase', { exact: true });
      await old.fill('not-the-old-one');
      await old.press('Enter'); // Enter checks the passphrase
      await dlg.getByText('The passphrase looks wrong.').waitFor({ timeout: 60_000 });
      await dlg.getByLabel('Continue with this passphrase anyway').check();
      await dlg.getByRole('button', { name: 'Next' }).click();

      // The shared new-passphrase pattern: generated, shown with Copy, confirmed as saved.
      await dlg.getByRole('button', { name: 'Generate a strong passphrase' }).click();
      const shown = dlg.getByLabel('Generated new passphrase', { exact: true });
      assert.match(await shown.inputValue(), /^([a-z2-9]{4}-){5}[a-z2-9]{4}$/);
      await dlg.getByRole('button', { name: 'Copy' }).waitFor();
      assert.equal(
        await dlg
          .getByRole('meter', { name: 'Passphrase strength' })
          .last()
          .getAttribute('aria-valuetext'),
        'Very strong'
      );
      await dlg.getByRole('button', { name: 'Next' }).click();
      await dlg
        .getByText('Copy or write down the passphrase, then tick “I have saved it”.')
        .waitFor();
      await shots(page, 'passphrase-generated');
      await dlg.getByLabel('I have saved it (copied or written down)').check();
      await dlg.getByText('Advanced settings').click();
      await dlg.getByLabel('Unlock time (ms)').fill('10');
      await dlg.getByRole('button', { name: 'Next' }).click();

      // Pre-start check: the name is taken → said under the name, inputs kept, Back offered.
      await dlg.getByLabel('File name').fill('taken.qcow2');
      await dlg.getByRole('button', { name: 'Start migration' }).click();
      await dlg.getByText(/taken\.qcow2 already exists\. Choose another name\./).waitFor();
      assert.equal(await dlg.getByLabel('File name').inputValue(), 'taken.qcow2');
      await dlg.getByRole('button', { name: 'Back' }).waitFor();
      await shots(page, 'migrate-name-taken');
      await dlg.getByLabel('File name').fill('legacy-luks.qcow2');
      await dlg.getByRole('button', { name: 'Start migration' }).click();

      await dlg
        .getByText('Copied, but not proven right: you overrode the passphrase check.')
        .waitFor({ timeout: 120_000 });
      await dlg.getByText(/equals what the passphrase you gave decrypts/).waitFor();
      await dlg
        .getByText(
          /the old passphrase looked wrong — of \d+ sampled sectors, 0 looked like real data/
        )
        .waitFor();
      assert.equal(await dlg.getByRole('button', { name: /Move original to trash/ }).count(), 0);
      assert.equal(await dlg.getByText(/Verified: the new image reads back exactly/).count(), 0);
      await shots(page, 'migrate-override-result');
      await dlg.getByRole('button', { name: 'Keep original' }).click();
      await dlg.getByText('The original was kept as it is.').waitFor();
      await dlg.getByRole('button', { name: 'Close' }).first().click();
    });

    it('checks a convert before it starts: passphrase, name, plain output, space; keeps inputs', async () => {
      const { page } = app;
      await closeDialogs(page);
      await openViaBrowser(page, app.dir, 'server.qcow2');
      await page.getByRole('heading', { name: 'server.qcow2' }).waitFor();
      await page.getByRole('button', { name: 'Convert…' }).click();
      const dlg = page.getByRole('dialog', { name: 'Convert image' });
      await dlg.getByLabel('Convert to').selectOption('raw');
      await dlg.getByText('The output will not be encrypted.').waitFor();
      const pass = dlg.getByLabel('Passphrase of the source image', { exact: true });
      await pass.fill('a-wrong-one');
      await dlg.getByLabel('File name').fill('taken.qcow2');
      await dlg.getByRole('button', { name: /Start conversion/ }).click();
      await dlg
        .getByText('Confirm below that the output may be written without encryption.')
        .waitFor();
      await dlg.getByLabel('Write the decrypted data without encryption').check();
      await pass.press('Enter');
      await dlg
        .getByText('This passphrase does not open the source image.')
        .waitFor({ timeout: 60_000 });
      assert.match(await problemUnder(pass), /does not open the source image/);
      await dlg.getByText(/taken\.qcow2 already exists/).waitFor();
      // Every input is still there as typed.
      assert.equal(await pass.inputValue(), 'a-wrong-one');
      assert.equal(await dlg.getByLabel('File name').inputValue(), 'taken.qcow2');
      await shots(page, 'convert-prestart-problems');
      await pass.fill(SRC_PASS);
      await dlg.getByLabel('Replace the existing taken.qcow2').check();
      await dlg.getByRole('button', { name: /Start conversion/ }).click();
      await dlg.getByText('Conversion finished.').waitFor({ timeout: 120_000 });
      await shots(page, 'convert-plain-finished');
      await dlg.getByRole('button', { name: 'Close' }).first().click();
    });

    it('warns about the worst-case space, and a failed job looks failed in the Jobs panel', async () => {
      const { page } = app;
      await closeDialogs(page);
      await openViaBrowser(page, app.dir, 'huge.qcow2');
      await page.getByRole('heading', { name: 'huge.qcow2' }).waitFor();
      await page.getByRole('button', { name: 'Convert…' }).click();
      const dlg = page.getByRole('dialog', { name: 'Convert image' });
      await dlg.getByLabel('Convert to').selectOption('raw');
      await dlg.getByRole('button', { name: /Start conversion/ }).click();
      await dlg
        .getByText(/may need up to [\d.]+ TiB .* It fits only while the image stays sparse\./)
        .waitFor();
      await dlg.getByRole('button', { name: /Start conversion anyway/ }).waitFor();
      await shots(page, 'convert-space-warning');
      await dlg.getByRole('button', { name: /Start conversion anyway/ }).click();
      // ext4 refuses a 1 PiB file: the job fails while creating the image.
      await dlg.getByText(/^Failed while creating the new image\.$/).waitFor({ timeout: 60_000 });
      await dlg.getByRole('button', { name: 'Back' }).waitFor();
      await shots(page, 'convert-failed-dialog');
      await dlg.getByRole('button', { name: 'Close' }).first().click();

      await page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('button', { name: 'Jobs' })
        .click();
      const card = page.getByRole('listitem', { name: 'Convert huge.qcow2 → huge-converted.img' });
      await card.waitFor();
      assert.match((await card.getAttribute('class')) ?? '', /\bfailed\b/);
      await card.getByText('Failed while creating the new image').waitFor();
      await card.getByRole('alert').waitFor();
      assert.match(
        await card.getByRole('alert').innerText(),
        /larger than the target’s file system allows/
      );
      await card.getByRole('button', { name: 'Retry…' }).waitFor();
      const list = await page.getByRole('list', { name: 'Job list' }).innerText();
      assert.ok(!/Convert\s+Convert|Migrate\s+Migrate/.test(list), 'no doubled kind labels');
      await shots(page, 'jobs-failed');
      await card.getByRole('button', { name: 'Retry…' }).click();
      await page.getByRole('dialog', { name: 'Convert image' }).waitFor();
      await page
        .getByRole('dialog', { name: 'Convert image' })
        .getByRole('button', { name: 'Cancel' })
        .click();
      await card.getByRole('button', { name: /^Clear / }).click();
      assert.equal(await card.count(), 0);
    });

    it('an import whose libvirt step fails reports what succeeded and retries only that', async () => {
      const { page } = app;
      await closeDialogs(page);
      // A bundle handed over with a passphrase, made by the service as the sender would.
      const sender = createVaultService({ threads: 1 });
      const started = await sender.startExport({
        source: luks,
        bundleDir: join(app.dir, 'for-sam'),
        recipient: 'Sam',
        sourcePassphrase: enc(SRC_PASS),
        recipientPassphrase: enc('handed-Over-Secret-42'),
        encryption: { iterations: 1000 },
      });
      const done = await sender.waitForJob(started.id);
      assert.equal(done.state, 'succeeded', JSON.stringify(done.error));

      // libvirt answers the pre-start check, then goes away before the secret is defined: a
      // stand-in virsh on PATH (the service runs in this process) answers `uri` only.
      const bin = join(app.dir, 'bin');
      await mkdir(bin, { recursive: true });
      await writeFile(
        join(bin, 'virsh'),
        '#!/bin/sh\nfor a; do [ "$a" = uri ] && { echo qemu:///system; exit 0; }; done\n' +
          'echo "error: failed to connect to the hypervisor\nerror: Failed to connect socket to \'/run/libvirt/libvirt-sock\': Connection refused" >&2\nexit 1\n'
      );
      await chmod(join(bin, 'virsh'), 0o755);
      const path = process.env.PATH;
      process.env.PATH = `${bin}:${path}`;
      try {
        await page
          .getByRole('navigation', { name: 'Main' })
          .getByRole('button', { name: 'Library' })
          .click();
        await page.getByRole('button', { name: 'Import bundle…' }).click();
        const dlg = page.getByRole('dialog', { name: 'Import a bundle' });
        await dlg.getByRole('button', { name: 'Folder…' }).click();
        const browser = page.getByRole('dialog', { name: 'Choose the bundle folder' });
        await typeLocation(browser, app.dir);
        await browser.getByRole('button', { name: 'Go' }).click();
        await browser.getByRole('option', { name: 'for-sam', exact: true }).click();
        await browser.getByText('This folder holds manifest.json: it can be used.').waitFor();
        await browser.getByRole('button', { name: 'Use this bundle' }).click();
        await dlg.getByRole('button', { name: 'Next' }).click();
        await dlg
          .getByLabel('Handed-over passphrase', { exact: true })
          .fill('handed-Over-Secret-42');
        await fillNew(dlg, NEW, 'Your new passphrase');
        await dlg.getByText('Advanced settings').click();
        await dlg.getByLabel('Unlock time (ms)').fill('10');
        await dlg.getByRole('button', { name: 'Next' }).click();
        await dlg.getByLabel('Save the image in folder').fill(app.dir);
        await dlg.getByLabel('File name').fill('received.qcow2');

        // Pre-start check: a libvirt connection that does not answer is reported at its field.
        await dlg.getByLabel('Set up libvirt for unattended boot').check();
        await dlg.getByLabel('libvirt connection').fill('test+unix:///nowhere?socket=/nonexistent');
        process.env.PATH = path; // the real virsh for the check that must fail
        await dlg.getByRole('button', { name: 'Import', exact: true }).click();
        await dlg
          .getByText(/libvirt does not answer at test\+unix|virsh was not found/)
          .waitFor({ timeout: 30_000 });
        assert.equal(await dlg.getByLabel('File name').inputValue(), 'received.qcow2');
        await shots(page, 'import-libvirt-unreachable');

        process.env.PATH = `${bin}:${path}`;
        await dlg.getByLabel('libvirt connection').fill('qemu:///system');
        await dlg.getByRole('button', { name: 'Import', exact: true }).click();
        await dlg.getByText('Imported, but one step failed.').waitFor({ timeout: 120_000 });
        const steps = dlg.getByRole('list', { name: 'Import steps' });
        await steps.getByText(/Done: copy and verify the image/).waitFor();
        await steps.getByText(/Done: replace the sender’s secret/).waitFor();
        await steps.getByText(/Failed: set up the libvirt secret/).waitFor();
        await steps.getByText(/Connection refused/).waitFor();
        await dlg.getByRole('button', { name: /Retry setting up libvirt/ }).waitFor();
        await shots(page, 'import-partial');

        await page
          .getByRole('navigation', { name: 'Main' })
          .getByRole('button', { name: 'Jobs' })
          .click()
          .catch(() => undefined);
      } finally {
        process.env.PATH = path;
      }
    });

    it('the Jobs panel shows the partial import as such', async () => {
      const { page } = app;
      const dlg = page.getByRole('dialog', { name: 'Import a bundle' });
      if (await dlg.isVisible())
        await dlg.getByRole('button', { name: 'Close', exact: true }).first().click();
      await page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('button', { name: 'Jobs' })
        .click();
      const card = page.getByRole('listitem', { name: 'Import for-sam' });
      await card.getByText('Finished, but one step failed').waitFor();
      assert.match((await card.getAttribute('class')) ?? '', /\bpartial\b/);
      await shots(page, 'jobs-partial');
    });
  }
);

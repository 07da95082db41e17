// Every screen and dialog at 1280×800 and 800×600 (issue #14): axe-core finds no serious or
// critical violation, the Library and Details do not overflow sideways at 800×600, and only one
// element scrolls vertically at a time (no double scrollbars). Screenshots of each.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { axeSerious, describeFindings, overflow } from './a11y.js';
import { FACES, openApp, typeLocation, type AppFixture } from './helpers.js';
import { makeUiFiles, type UiFiles } from './ui-fixtures.js';

const SIZES = [
  { width: 1280, height: 800 },
  { width: 800, height: 600 },
] as const;

async function library(page: Page) {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('button', { name: 'Library' })
    .click();
  await page.getByRole('heading', { name: 'Library', level: 1 }).waitFor();
}

async function openPath(page: Page, path: string) {
  await library(page);
  await page.getByRole('button', { name: 'Open…' }).click();
  const dlg = page.getByRole('dialog', { name: 'Open a disk image' });
  const location = await typeLocation(dlg, path);
  await location.press('Enter');
  // A typed path to a file is the choice: the picker closes, or says why it did not.
  for (let i = 0; i < 600 && (await dlg.count()) > 0; i++) {
    const alert = dlg.getByRole('alert');
    if ((await alert.count()) > 0) {
      throw new Error(`the picker refused ${path}: ${await alert.first().innerText()}`);
    }
    await page.waitForTimeout(100);
  }
}

for (const face of FACES) {
  describe(`every screen: axe, 800×600 (e2e), ${face}`, () => {
    let app: AppFixture;
    let f: UiFiles;
    const failures: string[] = [];
    before(async () => {
      app = await openApp('a11y', face);
      f = await makeUiFiles(app.dir);
      try {
        await openPath(app.page, f.plain);
        await app.page.getByRole('heading', { name: 'plain.qcow2' }).waitFor({ timeout: 90_000 });
      } catch (e) {
        await app.shot('setup-failed');
        throw e;
      }
      await openPath(app.page, f.vault);
      await app.page.getByRole('heading', { name: 'vault.qcow2' }).waitFor({ timeout: 90_000 });
      await openPath(app.page, f.legacy);
      const mig = app.page.getByRole('dialog', { name: 'Migrate to LUKS' });
      await mig.getByRole('button', { name: 'Close' }).first().click();
      await mig.waitFor({ state: 'detached' });
    });
    after(async () => app?.close());

    /** Checks the page as it is: axe at each size, and a screenshot at each size. */
    async function check(name: string, opts: { layout?: boolean } = {}) {
      const { page } = app;
      for (const size of SIZES) {
        await page.setViewportSize(size);
        await page.waitForTimeout(150);
        const found = await axeSerious(page);
        if (found.length > 0) failures.push(describeFindings(`${name} ${size.width}`, found));
        await app.shot(`${name}-${size.width}x${size.height}`);
        if (opts.layout && size.width === 800) {
          const o = await overflow(page);
          assert.ok(
            o.doc.scroll <= o.doc.client,
            `${name}: page ${o.doc.scroll} > ${o.doc.client}`
          );
          assert.ok(
            o.content.scroll <= o.content.client,
            `${name}: content ${o.content.scroll} wider than ${o.content.client}`
          );
          assert.ok(o.verticalScrollers.length <= 1, `${name}: ${o.verticalScrollers.join(', ')}`);
        }
      }
      await page.setViewportSize(SIZES[0]);
    }

    it('Library, Details, Jobs: no sideways overflow at 800×600, no serious axe finding', async () => {
      const { page } = app;
      await library(page);
      await page
        .getByRole('table', { name: 'Images' })
        .getByRole('cell', { name: 'qcow2' })
        .first()
        .waitFor();
      await check('library', { layout: true });
      await page.getByRole('button', { name: 'Open vault.qcow2' }).click();
      await page.getByRole('button', { name: /Keyslot 0: in use/ }).click();
      await check('details-luks', { layout: true });
      await library(page);
      await page.getByRole('button', { name: 'Open legacy.qcow2' }).click();
      await page.getByRole('heading', { name: 'legacy.qcow2' }).waitFor();
      await check('details-legacy', { layout: true });
      await page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('button', { name: 'Jobs' })
        .click();
      await check('jobs', { layout: true });
    });

    it('every dialog: no serious axe finding; focus starts in the first field', async () => {
      const { page } = app;
      const dialogs: [string, () => Promise<void>, string][] = [
        ['open', () => page.getByRole('button', { name: 'Open…' }).click(), 'Open a disk image'],
        [
          'create',
          () => page.getByRole('button', { name: 'New encrypted image' }).click(),
          'New disk image',
        ],
        [
          'import',
          () => page.getByRole('button', { name: 'Import bundle…' }).click(),
          'Import a bundle',
        ],
        [
          'export',
          () => page.getByRole('button', { name: 'Hand over…' }).click(),
          'Hand over an image',
        ],
        [
          'convert',
          () => page.getByRole('button', { name: 'Convert plain.qcow2' }).click(),
          'Convert',
        ],
        [
          'migrate',
          () => page.getByRole('button', { name: 'Migrate legacy.qcow2' }).click(),
          'Migrate to LUKS',
        ],
      ];
      for (const [name, open, title] of dialogs) {
        await library(page);
        await open();
        const dlg = page.getByRole('dialog', { name: title }).first();
        await dlg.waitFor();
        // Focus moves in an effect after the dialog mounts (and after a probe, for some): wait
        // for it to land inside the dialog, then judge where.
        await page
          .waitForFunction(() => document.activeElement?.closest('[role="dialog"]') != null, null, {
            timeout: 5000,
          })
          .catch(() => {});
        const focus = await page.evaluate(() => {
          const el = document.activeElement;
          return { tag: el?.tagName ?? '', label: el?.getAttribute('aria-label') ?? '' };
        });
        assert.notEqual(focus.tag, 'BODY', `${name}: focus moves into the dialog`);
        assert.notEqual(focus.label, 'Close', `${name}: focus starts on a field, not on Close`);
        await check(`dialog-${name}`);
        await page.keyboard.press('Escape');
        await dlg.waitFor({ state: 'detached' });
      }
      // Keyslot dialogs, from Details.
      await page.getByRole('button', { name: 'Open vault.qcow2' }).click();
      for (const label of [
        'Test passphrase',
        'Add passphrase',
        'Change passphrase',
        'Remove passphrase',
      ]) {
        const opener = page.getByRole('button', { name: label });
        await opener.click();
        const dlg = page.getByRole('dialog');
        await dlg.waitFor();
        const inField = await page
          .waitForFunction(() => document.activeElement?.tagName === 'INPUT', null, {
            timeout: 5000,
          })
          .then(
            () => true,
            () => false
          );
        assert.ok(inField, `${label}: focus starts in the passphrase field`);
        await check(`dialog-${label.toLowerCase().replace(/ /g, '-')}`);
        await page.keyboard.press('Escape');
        await dlg.waitFor({ state: 'detached' });
        // The dialog gives focus back from a timer after it leaves the DOM: wait for it.
        const returned = await page
          .waitForFunction(
            (name) => {
              const el = document.activeElement;
              return (
                el?.tagName === 'BUTTON' &&
                (el.getAttribute('aria-label') ?? el.textContent ?? '').includes(name)
              );
            },
            label,
            { timeout: 3000 }
          )
          .then(
            () => true,
            () => false
          );
        assert.equal(returned, true, `${label}: focus returns`);
      }
      assert.deepEqual(failures, []);
    });

    if (face === 'serve') {
      it('the locked screen (a new browser session without the link)', async () => {
        const context = await app.browser.newContext({ viewport: SIZES[1] });
        const page = await context.newPage();
        await page.goto(app.server!.url.replace(/#.*$/, ''));
        await page.getByRole('heading', { name: /Open the link/ }).waitFor();
        const found = await axeSerious(page);
        await context.close();
        assert.deepEqual(found, [], describeFindings('locked', found));
      });
    }
  });
}

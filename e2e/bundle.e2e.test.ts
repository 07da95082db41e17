// Hand over an encrypted qcow2 (issue #6): export a bundle through the wizard with a generated
// recipient passphrase → the folder holds image, manifest, XML and README → import it with
// rotation to a new passphrase → qemu-img opens the result with the new passphrase only, and
// `qemu-img compare` equals the source's guest content.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { peerTestOptions, qemuSecret, run, runOk, runQemuRetrying } from '../core/testing/peers.js';
import { fillNew, openApp, openViaBrowser, typeLocation, type AppFixture } from './helpers.js';

const SOURCE_PASS = 'source-Granite-Owl-31';
const NEW_PASS = 'mine-Velvet-Comet-64';
const RECIPIENT = 'Alex at the branch office';

describe('export and import a bundle (e2e)', peerTestOptions('qemu-img', 'qemu-io'), () => {
  let app: AppFixture;
  let src: string;
  let bundleDir: string;
  let handedOver = '';
  before(async () => {
    app = await openApp('bundle');
    src = join(app.dir, 'server.qcow2');
    bundleDir = join(app.dir, 'for-alex');
    const s = await qemuSecret(app.dir, 's', SOURCE_PASS);
    await runQemuRetrying('qemu-img', [
      'create',
      '-f',
      'qcow2',
      ...s,
      '-o',
      'encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=10',
      src,
      '16M',
    ]);
    await runOk('qemu-io', [
      ...s,
      '--image-opts',
      `driver=qcow2,file.filename=${src},encrypt.key-secret=s`,
      '-c',
      'write -P 0x5a 0 64k',
      '-c',
      'write -P 0xc3 3M 192k',
      '-c',
      'write -P 0x11 15M 4k',
    ]);
  });
  after(async () => app?.close());

  it('shows the libvirt plan of a LUKS image, with nothing secret in it', async () => {
    const { page } = app;
    await openViaBrowser(page, app.dir, 'server.qcow2');
    await page.getByRole('heading', { name: 'server.qcow2' }).waitFor();
    await page.getByRole('button', { name: 'Show libvirt setup' }).click();
    await page.locator('pre.code-block').first().waitFor();
    const text = (await page.locator('pre.code-block').allTextContents()).join('\n');
    assert.match(text, /<secret ephemeral='no' private='yes'>|<secret /);
    assert.match(text, /<disk type='file' device='disk'>|<disk /);
    assert.ok(text.includes(src), 'disk XML names the image path');
    assert.ok(!text.includes(SOURCE_PASS), 'no passphrase in the plan');
    await page.getByRole('list', { name: 'libvirt steps' }).scrollIntoViewIfNeeded();
    await page
      .getByRole('heading', { name: 'Run it in libvirt' })
      .evaluate((h) => h.scrollIntoView({ block: 'start' }));
    await app.shot('libvirt-plan');
  });

  it('exports a bundle with a generated recipient passphrase', async () => {
    const { page } = app;
    await page.getByRole('button', { name: 'Hand over…' }).click();
    const dlg = page.getByRole('dialog', { name: 'Hand over an image' });
    await dlg.waitFor();
    await dlg.getByLabel('Recipient', { exact: true }).fill(RECIPIENT);
    await dlg.getByLabel('Passphrase of this image', { exact: true }).fill(SOURCE_PASS);
    await app.shot('export-image');
    await dlg.getByRole('button', { name: 'Next' }).click();

    const generated = dlg.getByLabel('Generated passphrase', { exact: true });
    await generated.waitFor();
    handedOver = await generated.inputValue();
    assert.match(handedOver, /^([a-z2-9]{4}-){5}[a-z2-9]{4}$/);
    await dlg.getByText('Send this passphrase separately, not with the bundle.').waitFor();
    await dlg.getByRole('button', { name: 'Next' }).click();
    await dlg.getByText('Confirm that you copied or wrote down the passphrase.').waitFor();
    await dlg.getByLabel('I have copied or written down the passphrase').check();
    assert.equal(await dlg.getByRole('radio', { name: /New master key/ }).isChecked(), true);
    await dlg.getByText('Advanced settings').click();
    await dlg.getByLabel('Unlock time (ms)').fill('10');
    await app.shot('export-passphrase');
    await dlg.getByRole('button', { name: 'Next' }).click();

    await dlg.getByLabel('Save bundle in folder').fill(app.dir);
    await dlg.getByLabel('Bundle name').fill('for-alex');
    await dlg.getByLabel(/One .tar file/).uncheck();
    await app.shot('export-where');
    await dlg.getByRole('button', { name: 'Export bundle' }).click();
    await dlg.getByText('Bundle ready.').waitFor({ timeout: 120_000 });
    await dlg.getByRole('list', { name: 'Bundle contents' }).getByText('manifest.json').waitFor();
    await page.waitForTimeout(300); // let the progress bar's width transition end
    await app.shot('export-done');

    const names = (await readdir(bundleDir)).sort();
    assert.deepEqual(names, [
      'README.txt',
      'disk.xml',
      'manifest.json',
      'secret.xml',
      'server.qcow2',
    ]);
    assert.ok(!existsSync(`${bundleDir}.tar`), 'a folder was asked for, not a .tar');
    const manifest = JSON.parse(await readFile(join(bundleDir, 'manifest.json'), 'utf8'));
    assert.equal(manifest.recipient, RECIPIENT);
    assert.equal(manifest.freshMasterKey, true);
    for (const f of names.filter((n) => n !== 'server.qcow2')) {
      const body = await readFile(join(bundleDir, f), 'utf8');
      assert.ok(!body.includes(handedOver) && !body.includes(SOURCE_PASS), `${f} holds no secret`);
    }
    await dlg.getByRole('button', { name: 'Done' }).click();
  });

  it('imports the bundle and replaces the handed-over passphrase', async () => {
    const { page } = app;
    const manifest = JSON.parse(await readFile(join(bundleDir, 'manifest.json'), 'utf8'));
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
    assert.equal(await browser.getByRole('button', { name: 'Use this bundle' }).isDisabled(), true);
    await browser.getByRole('option', { name: 'for-alex', exact: true }).click();
    await browser.getByText('This folder holds manifest.json: it can be used.').waitFor();
    await app.shot('import-browse');
    await browser.getByRole('button', { name: 'Use this bundle' }).click();

    const summary = dlg.getByRole('article', { name: 'Bundle summary' });
    await summary.getByText(RECIPIENT).waitFor();
    await summary.getByText(manifest.sha256).waitFor();
    await summary.getByText(manifest.luksUuid).waitFor();
    await app.shot('import-summary');
    await dlg.getByRole('button', { name: 'Next' }).click();

    await dlg.getByLabel('Handed-over passphrase', { exact: true }).fill('not-the-right-one-123');
    assert.equal(
      await dlg.getByLabel('Replace it with my own passphrase (recommended)').isChecked(),
      true
    );
    await fillNew(dlg, NEW_PASS, 'Your new passphrase');
    await dlg.getByText('Advanced settings').click();
    await dlg.getByLabel('Unlock time (ms)').fill('10');
    await dlg.getByRole('button', { name: 'Next' }).click();
    await dlg
      .getByRole('alert')
      .getByText(/Wrong passphrase/)
      .waitFor();
    await dlg.getByLabel('Handed-over passphrase', { exact: true }).fill(handedOver);
    await app.shot('import-passphrase');
    await dlg.getByRole('button', { name: 'Next' }).click();

    await dlg.getByLabel('Save the image in folder').fill(app.dir);
    await dlg.getByLabel('File name').fill('imported.qcow2');
    const libvirt = dlg.getByLabel('Set up libvirt for unattended boot');
    assert.equal(await libvirt.isChecked(), false);
    await libvirt.check();
    assert.equal(await dlg.getByLabel('libvirt connection').inputValue(), 'qemu:///system');
    await app.shot('import-target-libvirt');
    await libvirt.uncheck();
    await dlg.getByRole('button', { name: 'Import', exact: true }).click();
    await dlg.getByText('Import finished.').waitFor({ timeout: 120_000 });
    await dlg
      .getByText(/Re-keyed to your passphrase; the handed-over secret no longer opens it/)
      .waitFor();
    await dlg.getByRole('heading', { name: 'Set up libvirt by hand' }).waitFor();
    const xml = (await dlg.locator('pre.code-block').allTextContents()).join('\n');
    assert.ok(xml.includes(join(app.dir, 'imported.qcow2')), 'disk XML names the imported image');
    assert.ok(!xml.includes(NEW_PASS) && !xml.includes(handedOver));
    await page.waitForTimeout(300); // let the progress bar's width transition end
    await app.shot('import-done');
    await page.emulateMedia({ colorScheme: 'dark' });
    await app.shot('import-done-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await dlg.getByRole('button', { name: 'Show imported image' }).click();
    await page.getByRole('heading', { name: 'imported.qcow2' }).waitFor();
    await app.shot('imported-details');
  });

  it('the imported image opens with the new passphrase only and equals the source', async () => {
    const dst = join(app.dir, 'imported.qcow2');
    const s = await qemuSecret(app.dir, 'src', SOURCE_PASS);
    const n = await qemuSecret(app.dir, 'new', NEW_PASS);
    const cmp = await run('qemu-img', [
      'compare',
      ...s,
      ...n,
      '--image-opts',
      `driver=qcow2,file.filename=${src},encrypt.key-secret=src`,
      `driver=qcow2,file.filename=${dst},encrypt.key-secret=new`,
    ]);
    assert.equal(cmp.code, 0, cmp.stderr + cmp.stdout);
    const h = await qemuSecret(app.dir, 'handed', handedOver);
    const old = await run('qemu-img', [
      'compare',
      ...h,
      '--image-opts',
      `driver=qcow2,file.filename=${dst},encrypt.key-secret=handed`,
      `driver=qcow2,file.filename=${dst},encrypt.key-secret=handed`,
    ]);
    assert.notEqual(old.code, 0, 'the handed-over passphrase no longer opens the image');
    // The bundle's own copy still opens with the handed-over passphrase (it was not touched).
    const inBundle = await run('qemu-img', [
      'compare',
      ...h,
      ...s,
      '--image-opts',
      `driver=qcow2,file.filename=${join(bundleDir, 'server.qcow2')},encrypt.key-secret=handed`,
      `driver=qcow2,file.filename=${src},encrypt.key-secret=src`,
    ]);
    assert.equal(inBundle.code, 0, inBundle.stderr);
  });
});

// Many images at once (issue #17): three images ticked in the Library with the keyboard, one
// of them held by a running qemu-io; "Change passphrase…" changes the two free ones and
// reports the held one as skipped, naming qemu-io and its PID, and leaves it untouched. Once
// qemu-io lets go, the same change again finishes it and reports the others as already done;
// "Rotate master key…" then gives all three a fresh master key.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isVaultError } from '../core/api/errors.js';
import { keyslotTest } from '../core/service/keyslots.js';
import { cli } from '../core/testing/cli.js';
import { holdWithQemuIo, type QemuHolder } from '../core/testing/lock-peers.js';
import { peerTestOptions, qemuSecret, runQemuRetrying } from '../core/testing/peers.js';
import { fillNew, openApp, openViaBrowser, type AppFixture } from './helpers.js';

const OLD = 'fleet-Copper-Willow-58';
const NEW = 'fleet-Amber-Falcon-93';
const ROTATED = 'fleet-Indigo-Harbor-27';
const enc = (s: string) => new TextEncoder().encode(s);

/** The keyslot `pass` opens, or null; reads even while qemu-io writes (-U). */
async function opens(path: string, pass: string): Promise<number | null> {
  try {
    return (await keyslotTest(path, enc(pass), { forceShare: true })).slot;
  } catch (e) {
    if (isVaultError(e, 'WRONG_PASSPHRASE')) return null;
    throw e;
  }
}

describe(
  'changing the passphrase of several images (e2e)',
  peerTestOptions('qemu-img', 'qemu-io'),
  () => {
    let app: AppFixture;
    let holder: QemuHolder | undefined;
    const names = ['alpha.qcow2', 'beta.luks', 'running.qcow2'];
    const at = (n: string) => join(app.dir, n);

    before(async () => {
      app = await openApp('batch');
      const s = await qemuSecret(app.dir, 's', OLD);
      const pw = join(app.dir, 's.secret');
      for (const [name, args] of [
        ['alpha.qcow2', ['-f', 'qcow2', '--encrypt', '-o', 'iterations=1000']],
        ['beta.luks', ['-f', 'luks', '--pbkdf-force-iterations', '1000']],
      ] as const) {
        const r = await cli('create', ...args, '--passphrase-file', pw, at(name), '16M');
        assert.equal(r.code, 0, r.stderr);
      }
      await runQemuRetrying('qemu-img', [
        'create',
        '-f',
        'qcow2',
        ...s,
        '-o',
        'encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=10',
        at('running.qcow2'),
        '16M',
      ]);
      holder = await holdWithQemuIo(at('running.qcow2'), [
        ...s,
        '--image-opts',
        `driver=qcow2,file.filename=${at('running.qcow2')},encrypt.key-secret=s`,
      ]);
    });
    after(async () => {
      await holder?.release();
      await app?.close();
    });

    /** Ticks every image with the keyboard and runs "Change passphrase…" to the end. */
    async function changeAll(): Promise<ReturnType<AppFixture['page']['getByRole']>> {
      const { page } = app;
      await page.getByRole('button', { name: 'Library' }).first().click();
      const all = page.getByRole('checkbox', { name: 'Select all images' });
      // The first time, tick them with the keyboard; afterwards the selection is still there.
      if (!(await all.isChecked())) {
        await all.focus();
        await page.keyboard.press('Space');
      }
      for (const n of names) {
        assert.equal(await page.getByRole('checkbox', { name: `Select ${n}` }).isChecked(), true);
      }
      const bar = page.getByRole('toolbar', { name: 'Selected images' });
      await bar.getByText('3 selected').waitFor();
      await app.shot('selected');
      await bar.getByRole('button', { name: 'Change passphrase…' }).click();
      const dlg = page.getByRole('dialog', { name: 'Change passphrase of several images' });
      await dlg.getByLabel('Current passphrase', { exact: true }).fill(OLD);
      await fillNew(dlg, NEW);
      await dlg.getByText('Advanced settings').click();
      await dlg.getByLabel('Unlock time (ms)').fill('10');
      await app.shot('dialog');
      await dlg.getByRole('button', { name: 'Change passphrases' }).click();
      await dlg.getByRole('status').filter({ hasText: 'Finished.' }).waitFor({ timeout: 60_000 });
      return dlg;
    }

    it('changes the free images and skips the one qemu-io holds, naming it', async () => {
      const { page } = app;
      for (const n of names) {
        await page.getByRole('button', { name: 'Library' }).first().click();
        await openViaBrowser(page, app.dir, n);
        await page.getByRole('heading', { name: n }).waitFor();
      }
      const dlg = await changeAll();
      const row = (n: string) => dlg.getByRole('row', { name: n });
      for (const n of ['alpha.qcow2', 'beta.luks']) {
        await row(n).getByText('Changed', { exact: true }).waitFor();
      }
      const held = row('running.qcow2');
      await held.getByText('Skipped').waitFor();
      assert.match(
        await held.innerText(),
        new RegExp(`qemu-io \\(PID ${holder?.pid}\\) is writing it\\. Left untouched\\.`)
      );
      assert.match(await held.innerText(), /IMAGE_IN_USE/);
      assert.match(
        await dlg.getByRole('status').innerText(),
        /2 changed, 0 already done, 1 skipped, 0 failed\. Run the same change again later/
      );
      await app.shot('report-skipped');

      for (const n of ['alpha.qcow2', 'beta.luks']) {
        assert.notEqual(await opens(at(n), NEW), null, `${n} opens with the new passphrase`);
        assert.equal(await opens(at(n), OLD), null, `${n} no longer opens with the old one`);
      }
      assert.equal(await opens(at('running.qcow2'), OLD), 0, 'the held image kept its passphrase');
      assert.equal(await opens(at('running.qcow2'), NEW), null);
      await dlg.getByRole('button', { name: 'Done' }).click();
    });

    it('finishes the held image once it is free; the others are already done', async () => {
      await holder?.release();
      holder = undefined;
      const dlg = await changeAll();
      await dlg
        .getByRole('row', { name: 'running.qcow2' })
        .getByText('Changed', { exact: true })
        .waitFor();
      for (const n of ['alpha.qcow2', 'beta.luks']) {
        await dlg
          .getByRole('row', { name: n })
          .getByText('Already done', { exact: true })
          .waitFor();
      }
      await app.shot('report-finished');
      assert.notEqual(await opens(at('running.qcow2'), NEW), null);
      assert.equal(await opens(at('running.qcow2'), OLD), null);
      await dlg.getByRole('button', { name: 'Done' }).click();
    });

    it('rotates the master key of all three from the same selection', async () => {
      const { page } = app;
      await page.getByRole('button', { name: 'Library' }).first().click();
      const bar = page.getByRole('toolbar', { name: 'Selected images' });
      await bar.getByRole('button', { name: 'Rotate master key…' }).click();
      const dlg = page.getByRole('dialog', { name: 'Rotate master key of several images' });
      await dlg.getByLabel('Current passphrase', { exact: true }).fill(NEW);
      await fillNew(dlg, ROTATED);
      await dlg.getByRole('button', { name: 'Rotate master keys' }).click();
      await dlg.getByRole('status').filter({ hasText: 'Finished.' }).waitFor({ timeout: 60_000 });
      for (const n of names) {
        const row = dlg.getByRole('row', { name: n });
        await row.getByText('Changed', { exact: true }).waitFor();
        assert.match(await row.innerText(), /new master key, [\d.]+ MiB re-encrypted/);
        assert.notEqual(await opens(at(n), ROTATED), null, `${n} opens with the rotated one`);
        assert.equal(await opens(at(n), NEW), null);
      }
      await app.shot('report-rotated');
      await dlg.getByRole('button', { name: 'Done' }).click();
    });
  }
);

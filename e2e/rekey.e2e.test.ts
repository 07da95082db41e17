// Details → Rotate master key… (issue #17): a qcow2+LUKS image made by qemu-img gets a new
// master key through the app; qemu-img then reads the same guest data with the same
// passphrase, and the volume key cryptsetup dumps from the header has changed.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  passphraseFile,
  peerTestOptions,
  qemuSecret,
  runOk,
  runQemuRetrying,
} from '../core/testing/peers.js';
import { dumpVolumeKey } from '../core/testing/rekey-peers.js';
import { openApp, openViaBrowser, type AppFixture } from './helpers.js';

const PASS = 'vm-passphrase-Amber-Falcon-23';

describe(
  'rotate the master key (e2e)',
  peerTestOptions('qemu-img', 'qemu-io', 'cryptsetup'),
  () => {
    let app: AppFixture;
    let img: string;
    let sec: string[];
    let pw: string;
    const opts = () => `driver=qcow2,file.filename=${img},encrypt.key-secret=s`;
    const guest = async (out: string) => {
      await runOk('qemu-img', ['convert', ...sec, '--image-opts', opts(), '-O', 'raw', out]);
      return readFile(out);
    };
    before(async () => {
      app = await openApp('rekey');
      img = join(app.dir, 'vm.qcow2');
      sec = await qemuSecret(app.dir, 's', PASS);
      pw = await passphraseFile(app.dir, 'pw', PASS);
      await runQemuRetrying('qemu-img', [
        'create',
        '-f',
        'qcow2',
        ...sec,
        '-o',
        'encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=10',
        img,
        '16M',
      ]);
      await runOk('qemu-io', [...sec, '--image-opts', opts(), '-c', 'write -P 0x5c 1M 3M']);
    });
    after(async () => app?.close());

    it('rotates from Details with progress, and the image reads the same', async () => {
      const { page, dir } = app;
      const before = await guest(join(dir, 'before.raw'));
      const oldKey = await dumpVolumeKey(dir, img, pw, 'old');
      await openViaBrowser(page, dir, 'vm.qcow2');
      await page.getByRole('heading', { name: 'vm.qcow2' }).waitFor();
      await page.getByRole('button', { name: 'Rotate master key…' }).click();
      const dlg = page.getByRole('dialog', { name: 'Rotate master key' });
      await dlg.getByLabel('Passphrase of the image', { exact: true }).fill(PASS);
      await app.shot('rekey-dialog');
      await dlg.getByRole('button', { name: 'Rotate master key' }).click();
      await dlg
        .getByRole('status')
        .filter({ hasText: 'The image has a new master key' })
        .waitFor({ timeout: 60_000 });
      await app.shot('rekey-done');
      await dlg.getByRole('button', { name: 'Done' }).click();
      assert.deepEqual(await guest(join(dir, 'after.raw')), before);
      assert.notDeepEqual(await dumpVolumeKey(dir, img, pw, 'new'), oldKey);
    });
  }
);

// Issue #16 in Chromium, on both faces: hand over a plain image "to a host's key (no
// passphrase)" signed with the sender's SSH key → one .tar; import it with the host's key as
// identity and an allowed-signers file (the signer shown as trusted), libvirt set up in the
// same flow → the libvirt secret exists, and the secret sealed beside the image (age -d)
// opens it in qemu-img with the source's content. Nobody types or sees a passphrase.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { peerTestOptions, runOk } from '../core/testing/peers.js';
import {
  libvirtTestOptions,
  loadDaemons,
  type LibvirtHandle,
} from '../core/libvirt/libvirt-test-peers.js';
import { secretExists, undefineSecret } from '../core/libvirt/virsh.js';
import { readManifest } from '../core/service/bundle-import.js';
import { FACES, openApp, openViaBrowser, type AppFixture } from './helpers.js';

const opts = {
  ...peerTestOptions('qemu-img', 'qemu-io', 'age', 'ssh-keygen'),
  ...libvirtTestOptions({ needsRoot: true }),
};

// One libvirtd for both faces (started only when none answers), stopped once at the end.
let handle: LibvirtHandle | undefined;
before(async () => {
  if (opts.skip === undefined) handle = await (await loadDaemons()).startLibvirt();
});
after(async () => {
  if (handle) await (await loadDaemons()).stopLibvirt(handle);
});

for (const face of FACES) {
  describe(`sealed and signed hand-over (e2e, ${face})`, opts, () => {
    let app: AppFixture;
    let src: string;
    let hostKey: string;
    let allowed: string;
    const home = process.env.HOME;
    before(async () => {
      app = await openApp(`bundle-sealed`, face);
      // The service runs in this process: ~/.ssh is the scratch folder's (listOwnKeys).
      process.env.HOME = app.dir;
      await mkdir(join(app.dir, '.ssh'), { mode: 0o700 });
      const sender = join(app.dir, '.ssh', 'id_ed25519');
      await runOk('ssh-keygen', [
        '-q',
        '-t',
        'ed25519',
        '-N',
        '',
        '-C',
        'sender@example.org',
        '-f',
        sender,
      ]);
      hostKey = join(app.dir, 'ssh_host_ed25519_key');
      await runOk('ssh-keygen', [
        '-q',
        '-t',
        'ed25519',
        '-N',
        '',
        '-C',
        'root@host',
        '-f',
        hostKey,
      ]);
      allowed = join(app.dir, 'allowed_signers');
      const pub = (await runOk('cat', [`${sender}.pub`])).trim();
      await writeFile(allowed, `sender@example.org ${pub}\n`);
      src = join(app.dir, 'web.qcow2');
      await runOk('qemu-img', ['create', '-f', 'qcow2', src, '16M']);
      await runOk('qemu-io', [
        '-f',
        'qcow2',
        '-c',
        'write -P 0x6b 0 128k',
        '-c',
        'write -P 0x1d 9M 64k',
        src,
      ]);
    });
    after(async () => {
      process.env.HOME = home;
      await app?.close();
    });

    it('exports sealed to a host key and signed, as one .tar', async () => {
      const { page } = app;
      await openViaBrowser(page, app.dir, 'web.qcow2');
      await page.getByRole('heading', { name: 'web.qcow2' }).waitFor();
      await page.getByRole('button', { name: 'Hand over…' }).click();
      const dlg = page.getByRole('dialog', { name: 'Hand over an image' });
      await dlg.getByLabel('Recipient', { exact: true }).fill('web host');
      await dlg.getByRole('button', { name: 'Next' }).click();
      await dlg.getByRole('radio', { name: /To a host or a person’s key/ }).check();
      await dlg
        .getByLabel('Recipient public keys')
        .fill((await runOk('cat', [`${hostKey}.pub`])).trim());
      const recipients = dlg.getByRole('list', { name: 'Recipients' });
      await recipients.getByText('root@host').waitFor();
      await dlg
        .getByLabel('Sign it (so the recipient knows it comes from you)')
        .selectOption(join(app.dir, '.ssh', 'id_ed25519'));
      await dlg.getByText('Advanced settings').click();
      await dlg.getByLabel('Unlock time (ms)').fill('10');
      await app.shot('export-keys');
      await dlg.getByRole('button', { name: 'Next' }).click();
      await dlg.getByLabel('Save bundle in folder').fill(app.dir);
      await dlg.getByLabel('Bundle name').fill('for-host');
      const summary = dlg.getByRole('definition').filter({ hasText: 'SHA256:' });
      assert.ok(
        (await summary.count()) >= 2,
        'the summary shows recipient and signer fingerprints'
      );
      await app.shot('export-keys-summary');
      await dlg.getByRole('button', { name: 'Export bundle' }).click();
      await dlg.getByText('Bundle ready.').waitFor({ timeout: 120_000 });
      await dlg.getByText(/There is no passphrase to send/).waitFor();
      await page.waitForTimeout(300);
      await app.shot('export-keys-done');
      assert.ok(existsSync(join(app.dir, 'for-host.tar')));
      await dlg.getByRole('button', { name: 'Done' }).click();
    });

    it('imports with the host key, shows the trusted signer and sets up libvirt', async () => {
      const { page } = app;
      const bundle = join(app.dir, 'for-host.tar');
      const manifest = await readManifest(bundle);
      await page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('button', { name: 'Library' })
        .click();
      await page.getByRole('button', { name: 'Import bundle…' }).click();
      const dlg = page.getByRole('dialog', { name: 'Import a bundle' });
      await dlg.getByLabel('Bundle (folder or .tar file)').fill(bundle);
      await dlg.getByRole('button', { name: 'Read' }).click();
      await dlg
        .getByRole('note', { name: 'Signature' })
        .getByText(/Not checked against an allowed-signers file/)
        .waitFor();
      const allowedField = dlg.getByLabel('Allowed signers file (optional)');
      await allowedField.fill(allowed);
      await allowedField.blur();
      await dlg
        .getByRole('note', { name: 'Signature' })
        .getByText(/Signed by sender@example.org .* trusted by your allowed-signers file/)
        .waitFor();
      await app.shot('import-sealed-summary');
      await dlg.getByRole('button', { name: 'Next' }).click();
      await dlg.getByLabel('Your key that opens it (identity)').fill(hostKey);
      assert.equal(
        await dlg.getByRole('radio', { name: /fresh random secret sealed to my key/ }).isChecked(),
        true
      );
      await app.shot('import-sealed-identity');
      await dlg.getByRole('button', { name: 'Next' }).click();
      await dlg.getByLabel('Save the image in folder').fill(app.dir);
      await dlg.getByLabel('File name').fill('web-imported.qcow2');
      assert.equal(await dlg.getByLabel('Set up libvirt for unattended boot').isChecked(), true);
      await dlg.getByRole('button', { name: 'Import', exact: true }).click();
      try {
        await dlg.getByText('Import finished.').waitFor({ timeout: 120_000 });
        await dlg.getByText(/Done: set up the libvirt secret/).waitFor();
        await page.waitForTimeout(300);
        await app.shot('import-sealed-done');
        assert.equal(
          await secretExists({ uri: 'qemu:///system', uuid: manifest.secretUuid }),
          true
        );
        const target = join(app.dir, 'web-imported.qcow2');
        const pw = join(app.dir, 'web.pw');
        await runOk('age', ['-d', '-i', hostKey, '-o', pw, `${target}.secret.age`]);
        await runOk('qemu-img', [
          'compare',
          '--object',
          `secret,id=s,file=${pw}`,
          '--image-opts',
          `driver=qcow2,file.filename=${src}`,
          `driver=qcow2,file.filename=${target},encrypt.key-secret=s`,
        ]);
      } finally {
        await undefineSecret({ uri: 'qemu:///system', uuid: manifest.secretUuid }).catch(
          () => undefined
        );
      }
    });
  });
}

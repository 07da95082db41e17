/**
 * The proof users care about (issue #6): against a real qemu:///system (libvirtd started by
 * scripts/libvirt/daemons.mjs when not already running), a domain whose disk is an encrypted
 * image starts with the passphrase held in a private libvirt secret set by `virsh.ts`, which
 * means QEMU unlocked the LUKS header unattended; with a wrong value it fails with QEMU's
 * "Invalid password". Needs root; cleans up domains, secrets, files and daemons it started.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { qemuSecret, runQemuRetrying, scratchDir } from '../testing/peers.js';
import { isVaultError } from '../api/errors.js';
import { libvirtTestOptions, loadDaemons, type LibvirtHandle } from './libvirt-test-peers.js';
import { libvirtPlan } from './plan.js';
import { minimalDomainXml } from './domain-xml.js';
import type { LibvirtDiskFormat } from './disk-xml.js';
import {
  defineAndStartDomain,
  defineSecret,
  destroyAndUndefineDomain,
  domainState,
  secretExists,
  setSecretValue,
  undefineSecret,
} from './virsh.js';

const opts = libvirtTestOptions({ needsRoot: true });
const uri = 'qemu:///system';
let handle: LibvirtHandle | undefined;

before(async () => {
  // Starts libvirtd only when qemu:///system does not answer yet (npm test starts it first).
  if (opts.skip === undefined) handle = await (await loadDaemons()).startLibvirt();
});
after(async () => {
  if (handle !== undefined) await (await loadDaemons()).stopLibvirt(handle);
});

async function makeImage(dir: string, format: LibvirtDiskFormat, pass: string): Promise<string> {
  const file = join(dir, format === 'qcow2' ? 'disk.qcow2' : 'disk.luks');
  const secret = await qemuSecret(dir, 'sec0', pass);
  const o =
    format === 'qcow2'
      ? 'encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=10'
      : 'key-secret=sec0,iter-time=10';
  await runQemuRetrying('qemu-img', ['create', '-f', format, ...secret, '-o', o, file, '16M']);
  return file;
}

for (const format of ['qcow2', 'luks'] as LibvirtDiskFormat[]) {
  test(
    `${format}: starts unattended with the secret; wrong value gives Invalid password`,
    opts,
    async () => {
      const s = await scratchDir('iv-boot-');
      // QEMU may run as libvirt-qemu where qemu.conf says so: let it traverse the directory.
      await chmod(s.dir, 0o755);
      const pass = `boot-${randomBytes(6).toString('hex')}`;
      const image = await makeImage(s.dir, format, pass);
      const plan = libvirtPlan({ imagePath: image, format, uri });
      const uuid = plan.secretUuid;
      const name = `iv-boot-${format}-${randomBytes(3).toString('hex')}`;
      const domainXml = minimalDomainXml({
        name,
        disks: [plan.diskXml],
        serialLogPath: join(s.dir, 'serial.log'),
      });
      const good = new TextEncoder().encode(pass);
      const wrong = new TextEncoder().encode(`${pass}x`);
      try {
        await defineSecret({ uri, secretXml: plan.secretXml, uuid, passphrase: good });
        assert.equal(await secretExists({ uri, uuid }), true);

        await defineAndStartDomain({ uri, domainXml, persistent: true });
        assert.equal(await domainState({ uri, name }), 'running');
        await destroyAndUndefineDomain({ uri, name });
        assert.equal(await domainState({ uri, name }), null);

        await setSecretValue({ uri, uuid, passphrase: wrong });
        for (const persistent of [true, false]) {
          await assert.rejects(
            defineAndStartDomain({ uri, domainXml, persistent }),
            (e) => isVaultError(e, 'WRONG_PASSPHRASE') && /Invalid password/.test(e.message)
          );
          assert.equal(await domainState({ uri, name }), null, 'failed start leaves no domain');
        }

        // Back to the right value: a transient start works again.
        await setSecretValue({ uri, uuid, passphrase: good, via: 'tempfile' });
        await defineAndStartDomain({ uri, domainXml });
        assert.equal(await domainState({ uri, name }), 'running');
      } finally {
        good.fill(0);
        wrong.fill(0);
        await destroyAndUndefineDomain({ uri, name }).catch(() => undefined);
        await undefineSecret({ uri, uuid });
        await s.cleanup();
      }
      assert.equal(await secretExists({ uri, uuid }), false);
    }
  );
}

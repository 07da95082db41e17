import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { run, scratchDir } from '../testing/peers.js';
import { isVaultError } from '../api/errors.js';
import { libvirtTestOptions } from './libvirt-test-peers.js';
import { secretXml } from './secret-xml.js';
import { randomUuid } from './uuid.js';
import { defineSecret, secretExists, setSecretValue, undefineSecret } from './virsh.js';
import type { SecretTransport } from './virsh.js';
import { scanProcDuring } from './proc-scan.test-helper.js';

const opts = libvirtTestOptions();

/** A passphrase with a unique marker, a space, non-ASCII bytes and a trailing newline. */
function passphrase(): Uint8Array {
  return new TextEncoder().encode(`iv-${randomBytes(8).toString('hex')} pässword\n`);
}

async function getValue(uri: string, uuid: string) {
  const r = await run('virsh', ['-c', uri, 'secret-get-value', uuid]);
  return { ...r, bytes: Buffer.from(r.stdout.trim(), 'base64') };
}

for (const via of ['stdin', 'tempfile'] as SecretTransport[]) {
  test(`embedded secret driver (${via}): value set exactly, never in argv`, opts, async () => {
    const s = await scratchDir();
    const uri = `secret:///embed?root=${s.dir}`;
    try {
      const pass = passphrase();
      const uuids: string[] = [];
      const report = await scanProcDuring(pass, 'virsh', async () => {
        // Several rounds so the sweeps certainly catch virsh processes in flight.
        for (let i = 0; i < 4; i++) {
          const uuid = randomUuid();
          uuids.push(uuid);
          const xml = secretXml({ uuid, volumePath: `/vm/disk-${i}.qcow2`, private: false });
          await defineSecret({ uri, secretXml: xml, uuid, passphrase: pass, via });
        }
      });
      assert.deepEqual(report.leaks, [], 'passphrase seen in /proc');
      assert.ok(report.sweeps > 0);
      assert.ok(
        report.seen.some((l) => l.includes('secret-set-value')),
        `the scan never caught the virsh set-value call (saw ${report.seen.length} virsh lines)`
      );
      for (const line of report.seen) assert.ok(!line.includes('pässword'));
      for (const uuid of uuids) {
        const v = await getValue(uri, uuid);
        assert.equal(v.code, 0, v.stderr);
        assert.deepEqual(new Uint8Array(v.bytes), pass);
      }
    } finally {
      await s.cleanup();
    }
  });
}

test('private secrets refuse readback; value can be replaced; undefine removes', opts, async () => {
  const s = await scratchDir();
  const uri = `secret:///embed?root=${s.dir}`;
  try {
    const uuid = randomUuid();
    const xml = secretXml({ uuid, volumePath: '/vm/private.qcow2' });
    await defineSecret({ uri, secretXml: xml, uuid, passphrase: passphrase() });
    const v = await getValue(uri, uuid);
    assert.notEqual(v.code, 0);
    assert.match(v.stderr, /private|identity/i); // embed driver: "No current identity"
    await setSecretValue({ uri, uuid, passphrase: passphrase(), via: 'tempfile' });
    assert.equal(await secretExists({ uri, uuid }), true);
    // A second secret for the same volume path is refused by libvirt.
    const other = randomUuid();
    await assert.rejects(
      defineSecret({
        uri,
        secretXml: secretXml({ uuid: other, volumePath: '/vm/private.qcow2' }),
        uuid: other,
        passphrase: passphrase(),
      }),
      (e) => isVaultError(e, 'EXISTS')
    );
    await undefineSecret({ uri, uuid });
    assert.equal(await secretExists({ uri, uuid }), false);
    await undefineSecret({ uri, uuid }); // idempotent
  } finally {
    await s.cleanup();
  }
});

test('the /proc scan does catch a secret that is on a command line (control)', opts, async () => {
  const pass = passphrase();
  const needle = new TextDecoder().decode(pass);
  const report = await scanProcDuring(pass, 'sleep', async () => {
    // Long enough for a sweep to see it on a loaded machine (0.3 s was missed at load ~10).
    await run('sh', ['-c', 'sleep 2', 'virsh-like', needle]);
  });
  assert.ok(report.leaks.length > 0, 'a secret in argv must be reported');
});

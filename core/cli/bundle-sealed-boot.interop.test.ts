/**
 * Issue #16's end-to-end proof with a real libvirtd (qemu:///system), with no passphrase
 * anywhere: a plain image is exported sealed to the host's SSH key (the fresh secret is
 * random and nobody sees it), imported with `--identity --define-secret`, and a domain using
 * the imported disk starts, so QEMU unlocked it with the libvirt secret alone. Issue #14's
 * partial success: with libvirt unreachable the import reports the image imported and
 * re-keyed and only the libvirt step failed; a re-run performs only that step.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { cli } from '../testing/cli.js';
import { patternBytes } from '../testing/bytes.js';
import { peerTestOptions, runOk, scratchDir } from '../testing/peers.js';
import {
  libvirtTestOptions,
  loadDaemons,
  type LibvirtHandle,
} from '../libvirt/libvirt-test-peers.js';
import { minimalDomainXml } from '../libvirt/domain-xml.js';
import {
  defineAndStartDomain,
  destroyAndUndefineDomain,
  domainState,
  secretExists,
  undefineSecret,
} from '../libvirt/virsh.js';

const opts = {
  ...peerTestOptions('qemu-img', 'ssh-keygen'),
  ...libvirtTestOptions({ needsRoot: true }),
};
const uri = 'qemu:///system';

describe('sealed hand-over boots unattended (qemu:///system)', opts, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let handle: LibvirtHandle | undefined;
  let hostKey: string;
  let bundle: string;
  before(async () => {
    handle = await (await loadDaemons()).startLibvirt();
    ({ dir, cleanup } = await scratchDir('iv-sealed-boot-'));
    await chmod(dir, 0o755);
    const raw = join(dir, 'plain.raw');
    const data = Buffer.alloc(16 << 20);
    data.set(patternBytes(1 << 20, 3), 2 << 20);
    await writeFile(raw, data);
    hostKey = join(dir, 'host_ed25519');
    await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'host', '-f', hostKey]);
    bundle = join(dir, 'vm.tar');
    // A plain source: the sender has no passphrase, the recipient gets a sealed random one.
    const r = await cli(
      'bundle',
      'export',
      '--to',
      `${hostKey}.pub`,
      '-o',
      'iterations=1000',
      raw,
      bundle
    );
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await cleanup?.();
    if (handle) await (await loadDaemons()).stopLibvirt(handle);
  });

  async function boots(diskXml: string): Promise<void> {
    const name = `iv-sealed-${randomBytes(3).toString('hex')}`;
    const domainXml = minimalDomainXml({
      name,
      disks: [diskXml.trim()],
      serialLogPath: join(dir, `${name}.log`),
    });
    try {
      await defineAndStartDomain({ uri, domainXml });
      assert.equal(await domainState({ uri, name }), 'running');
    } finally {
      await destroyAndUndefineDomain({ uri, name }).catch(() => undefined);
    }
  }

  test('import --identity --define-secret: the domain starts, nobody typed a passphrase', async () => {
    const target = join(dir, 'booted.qcow2');
    const r = await cli(
      'bundle',
      'import',
      '--identity',
      hostKey,
      '--define-secret',
      '--libvirt-uri',
      uri,
      bundle,
      target
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /✓ define-secret: libvirt secret ([0-9a-f-]{36}) defined/);
    const uuid = /secret ([0-9a-f-]{36}) defined/.exec(r.stdout)![1]!;
    try {
      await boots(r.stdout.slice(r.stdout.indexOf('<disk')));
    } finally {
      await undefineSecret({ uri, uuid }).catch(() => undefined);
    }
  });

  test('libvirt unreachable: imported and re-keyed, only the secret step failed; a re-run does just that', async () => {
    const target = join(dir, 'partial.qcow2');
    const down = 'qemu+unix:///system?socket=/nonexistent/libvirt-sock';
    let r = await cli(
      'bundle',
      'import',
      '--identity',
      hostKey,
      '--define-secret',
      '--libvirt-uri',
      down,
      bundle,
      target
    );
    assert.notEqual(r.code, 0);
    assert.match(r.stdout, /✓ copy: Image copied/);
    assert.match(r.stdout, /✓ rekey: Re-keyed to a fresh random secret/);
    assert.match(r.stdout, /✗ define-secret:/);
    assert.match(r.stderr, /Imported, but define-secret failed: .*Re-run the same command/);
    assert.ok((await readFile(`${target}.secret.age`)).length > 0);
    r = await cli(
      'bundle',
      'import',
      '--identity',
      hostKey,
      '--define-secret',
      '--libvirt-uri',
      uri,
      bundle,
      target
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /✓ copy: Already imported/);
    const uuid = /secret ([0-9a-f-]{36}) defined/.exec(r.stdout)![1]!;
    try {
      assert.equal(await secretExists({ uri, uuid }), true);
      await boots(r.stdout.slice(r.stdout.indexOf('<disk')));
    } finally {
      await undefineSecret({ uri, uuid }).catch(() => undefined);
    }
  });
});

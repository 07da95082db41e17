/**
 * Issue #6 acceptance through the CLI: export → import round trip (fresh master key by
 * default, rotation on import), tamper detection, XML that libvirt validates, and the proof
 * users care about — `bundle import --define-secret` against a real `qemu:///system` lets a
 * domain using the imported disk start unattended; a wrong secret value fails with QEMU's
 * "Invalid password".
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, readdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { cli } from '../testing/cli.js';
import { patternBytes } from '../testing/bytes.js';
import { passphraseFile, peerTestOptions, runOk, scratchDir } from '../testing/peers.js';
import { FileDevice } from '../io/file-device.js';
import { openQcow2 } from '../formats/qcow2/index.js';
import { isVaultError } from '../api/errors.js';
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
  setSecretValue,
  undefineSecret,
} from '../libvirt/virsh.js';

const opts = peerTestOptions('qemu-img', 'qemu-io');
const FAST = ['-o', 'iterations=1000'];

/** The LUKS master-key digest (LUKS1 header bytes 112..132) of a qcow2+LUKS image. */
async function mkDigest(path: string): Promise<string> {
  const dev = await FileDevice.open(path);
  try {
    const region = (await openQcow2(dev)).luksRegion();
    assert.ok(region);
    const buf = new Uint8Array(20);
    await region.read(buf, 112);
    return Buffer.from(buf).toString('hex');
  } finally {
    await dev.close().catch(() => undefined);
  }
}

describe('bundle export / import', opts, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let src: string;
  let srcPw: string;
  let handed: string;
  let mine: string;
  before(async () => {
    ({ dir, cleanup } = await scratchDir('iv-bundle-'));
    await chmod(dir, 0o755);
    srcPw = await passphraseFile(dir, 'src.pw', 'sx9W4-sender-pass');
    handed = await passphraseFile(dir, 'handed.pw', 'hx7Q2-handed-pass');
    mine = await passphraseFile(dir, 'mine.pw', 'recipient own\n');
    const raw = join(dir, 'data.raw');
    const data = Buffer.alloc(16 << 20);
    data.set(patternBytes(3 << 20, 9), 1 << 20);
    await writeFile(raw, data);
    src = join(dir, 'vm.qcow2');
    const r = await cli(
      'convert',
      '-O',
      'qcow2',
      '--encrypt',
      ...FAST,
      '--passphrase-file',
      srcPw,
      raw,
      src
    );
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => cleanup?.());

  async function qemuCompare(a: string, aPw: string, b: string, bPw: string) {
    await runOk('qemu-img', [
      'compare',
      '--object',
      `secret,id=a,file=${aPw}`,
      '--object',
      `secret,id=b,file=${bPw}`,
      '--image-opts',
      `driver=qcow2,file.filename=${a},encrypt.key-secret=a`,
      `driver=qcow2,file.filename=${b},encrypt.key-secret=b`,
    ]);
  }

  /** `bundle export` of the sender's image into `bundle`, handing over `handed`. */
  const exportTo = (bundle: string, ...extra: string[]) =>
    cli(
      'bundle',
      'export',
      ...extra,
      '--passphrase-file',
      srcPw,
      '--recipient-passphrase-file',
      handed,
      ...FAST,
      src,
      bundle
    );

  /** `bundle import` of `bundle` into `target` with the handed-over and a new passphrase. */
  const importTo = (bundle: string, target: string, ...extra: string[]) =>
    cli(
      'bundle',
      'import',
      '--passphrase-file',
      handed,
      '--new-passphrase-file',
      mine,
      ...FAST,
      ...extra,
      bundle,
      target
    );

  test('default export: fresh master key; import rotates the handed-over passphrase', async () => {
    const bundle = join(dir, 'bundle');
    let r = await exportTo(bundle, '--recipient', 'alice');
    assert.equal(r.code, 0, r.stderr);
    const files = (await readdir(bundle)).sort();
    assert.deepEqual(files, ['README.txt', 'disk.xml', 'manifest.json', 'secret.xml', 'vm.qcow2']);
    const manifest = JSON.parse(await readFile(join(bundle, 'manifest.json'), 'utf8'));
    const bundled = join(bundle, 'vm.qcow2');
    const srcInfo = JSON.parse((await cli('info', '--json', src)).stdout);
    assert.notEqual(manifest.luksUuid, srcInfo['format-specific'].data.encrypt.uuid);
    assert.notEqual(await mkDigest(bundled), await mkDigest(src), 'a different master key');
    assert.equal((await cli('keyslot', 'test', bundled, '--passphrase-file', srcPw)).code, 4);
    const text = JSON.stringify(manifest) + (await readFile(join(bundle, 'README.txt'), 'utf8'));
    assert.ok(!text.includes('hx7Q2') && !text.includes('sx9W4'), 'no secret in the bundle text');
    await runOk('virt-xml-validate', [join(bundle, 'secret.xml'), 'secret']);
    await qemuCompare(src, srcPw, bundled, handed);

    const target = join(dir, 'imported.qcow2');
    r = await importTo(bundle, target);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await cli('keyslot', 'test', target, '--passphrase-file', handed)).code, 4);
    assert.equal((await cli('keyslot', 'test', target, '--passphrase-file', mine)).code, 0);
    await qemuCompare(src, srcPw, target, mine);
  });

  test('keep-master-key export swaps passphrases only', async () => {
    const bundle = join(dir, 'bundle-keep');
    const r = await exportTo(bundle, '--keep-master-key');
    assert.equal(r.code, 0, r.stderr);
    const bundled = join(bundle, 'vm.qcow2');
    assert.equal(await mkDigest(bundled), await mkDigest(src));
    assert.equal((await cli('keyslot', 'test', bundled, '--passphrase-file', srcPw)).code, 4);
    await qemuCompare(src, srcPw, bundled, handed);
  });

  test('a tampered bundle is refused and leaves nothing behind', async () => {
    const bundle = join(dir, 'bundle');
    const image = join(bundle, 'vm.qcow2');
    const bytes = await readFile(image);
    const copy = join(dir, 'tampered');
    await runOk('cp', ['-r', bundle, copy]);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 1, bytes.length - 1);
    await writeFile(join(copy, 'vm.qcow2'), bytes);
    const target = join(dir, 'never.qcow2');
    const r = await cli(
      'bundle',
      'import',
      '--passphrase-file',
      handed,
      '--keep-handed-over',
      copy,
      target
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /VERIFY_FAILED/);
    assert.ok(!(await readdir(dir)).some((n) => n.startsWith('never.qcow2')));
  });

  describe(
    'unattended boot with libvirt (qemu:///system)',
    libvirtTestOptions({ needsRoot: true }),
    () => {
      let handle: LibvirtHandle | undefined;
      before(async () => {
        handle = await (await loadDaemons()).startLibvirt();
      });
      after(async () => {
        if (handle) await (await loadDaemons()).stopLibvirt(handle);
      });

      test('bundle import --define-secret: the domain starts; a wrong secret value does not', async () => {
        const uri = 'qemu:///system';
        const target = join(dir, 'booted.qcow2');
        const r = await importTo(
          join(dir, 'bundle'),
          target,
          '--define-secret',
          '--libvirt-uri',
          uri
        );
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /secret [0-9a-f-]{36} defined/);
        const manifest = JSON.parse(await readFile(join(dir, 'bundle', 'manifest.json'), 'utf8'));
        const uuid: string = manifest.secretUuid;
        const diskXml = r.stdout.slice(r.stdout.indexOf('<disk'));
        const name = `iv-bundle-${randomBytes(3).toString('hex')}`;
        const domainXml = minimalDomainXml({
          name,
          disks: [diskXml.trim()],
          serialLogPath: join(dir, 'serial.log'),
        });
        const wrong = new TextEncoder().encode('not the passphrase');
        try {
          await defineAndStartDomain({ uri, domainXml, persistent: true });
          assert.equal(await domainState({ uri, name }), 'running');
          await destroyAndUndefineDomain({ uri, name });
          await setSecretValue({ uri, uuid, passphrase: wrong });
          await assert.rejects(
            defineAndStartDomain({ uri, domainXml }),
            (e) => isVaultError(e, 'WRONG_PASSPHRASE') && /Invalid password/.test(e.message)
          );
        } finally {
          await destroyAndUndefineDomain({ uri, name }).catch(() => undefined);
          await undefineSecret({ uri, uuid }).catch(() => undefined);
        }
      });
    }
  );
});

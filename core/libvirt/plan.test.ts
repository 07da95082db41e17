import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isVaultError } from '../api/errors.js';
import { libvirtPlan, HOST_BOUND_NOTE } from './plan.js';
import { bundleReadme } from './readme.js';

const UUID = '6f1d2c3b-4a59-4e7f-8a1b-2c3d4e5f6a7b';
const SHA = 'ab'.repeat(32);

test('libvirtPlan: absolute path, given uuid, both XMLs, steps without any secret value', () => {
  const plan = libvirtPlan({ imagePath: 'vm/disk.qcow2', format: 'qcow2', uuid: UUID });
  assert.equal(plan.secretUuid, UUID);
  assert.ok(plan.secretXml.includes(`<volume>${process.cwd()}/vm/disk.qcow2</volume>`));
  assert.ok(plan.diskXml.includes(`<source file='${process.cwd()}/vm/disk.qcow2'>`));
  assert.ok(plan.diskXml.includes(`uuid='${UUID}'`));
  const all = plan.steps.join('\n');
  assert.ok(all.includes(`virsh -c qemu:///system secret-define secret.xml`));
  assert.ok(all.includes(`secret-set-value --secret ${UUID} --interactive`));
  assert.ok(all.includes(`secret-set-value --secret ${UUID} --file PASSPHRASE_FILE --plain`));
  assert.ok(!/--base64|secret-set-value[ ]\S+[ ]\S+$/m.test(all), 'no value on a command line');
  assert.ok(plan.steps.includes(HOST_BOUND_NOTE));
  assert.match(HOST_BOUND_NOTE, /12\.1/);
});

test('libvirtPlan: fresh uuid per call, custom URI quoted, raw LUKS disk', () => {
  const a = libvirtPlan({ imagePath: '/a.luks', format: 'luks', uri: 'qemu+ssh://h/system?x=1 y' });
  const b = libvirtPlan({ imagePath: '/a.luks', format: 'luks' });
  assert.notEqual(a.secretUuid, b.secretUuid);
  assert.ok(a.steps.join('\n').includes(`virsh -c 'qemu+ssh://h/system?x=1 y' secret-define`));
  assert.ok(a.diskXml.includes(`type='raw'`));
  assert.throws(
    () => libvirtPlan({ imagePath: '/a', format: 'qcow2', uuid: 'nope' }),
    (e) => isVaultError(e, 'INVALID_ARGUMENT')
  );
});

test('bundleReadme: checksum line, secret steps by file/interactive, host note, no secret', () => {
  const text = bundleReadme({
    imageFile: 'web server.qcow2',
    format: 'qcow2',
    secretUuid: UUID,
    sha256: SHA,
    recipient: 'Ops team',
    toolVersion: '0.1.0',
  });
  assert.ok(text.includes(`echo '${SHA}  web server.qcow2' | sha256sum -c -`));
  assert.ok(text.includes('Prepared for: Ops team.'));
  assert.ok(text.includes(`virsh secret-set-value --secret ${UUID} --interactive`));
  assert.ok(text.includes(`--file PASSPHRASE_FILE --plain`));
  assert.ok(text.includes('encrypt.state=inactive,encrypt.old-secret=old'));
  assert.ok(text.includes('secret,id=old,file=OLD_FILE'), 'qemu secrets by file=, never data=');
  assert.ok(!text.includes('data='));
  assert.ok(text.includes('12.1'));
  assert.ok(text.includes('Image Vault 0.1.0'));
  const raw = bundleReadme({ imageFile: 'a.luks', format: 'luks', secretUuid: UUID, sha256: SHA });
  assert.ok(raw.includes('driver=luks,file.filename=IMAGE,key-secret=old'));
  assert.ok(!raw.includes('Prepared for'));
  assert.throws(
    () => bundleReadme({ imageFile: '../x', format: 'luks', secretUuid: UUID, sha256: SHA }),
    (e) => isVaultError(e, 'INVALID_ARGUMENT')
  );
  assert.throws(
    () => bundleReadme({ imageFile: 'x', format: 'luks', secretUuid: UUID, sha256: 'zz' }),
    (e) => isVaultError(e, 'INVALID_ARGUMENT')
  );
});

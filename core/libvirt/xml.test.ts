import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isVaultError } from '../api/errors.js';
import { escapeAttr, escapeText } from './xml-escape.js';
import { secretXml } from './secret-xml.js';
import { diskXml, libvirtDiskFormat } from './disk-xml.js';
import { minimalDomainXml } from './domain-xml.js';
import { checkUuid, randomUuid } from './uuid.js';

const UUID = '0a81f5b2-8403-4b23-a8d6-21ccc2f80d6f';

test('escapeText/escapeAttr escape markup, quotes and whitespace', () => {
  assert.equal(escapeText(`a<b>&c'"`), `a&lt;b&gt;&amp;c'"`);
  assert.equal(escapeAttr(`a<b>&c'"\t\n`), 'a&lt;b&gt;&amp;c&apos;&quot;&#9;&#10;');
  assert.equal(escapeText('caf\u00e9 \u{1F600}'), 'caf\u00e9 \u{1F600}');
});

test('characters XML cannot carry are refused, not dropped', () => {
  for (const bad of ['a\u0000b', 'x\u001by', 'lone\ud800', '\uffff']) {
    assert.throws(
      () => escapeText(bad),
      (e) => isVaultError(e, 'INVALID_ARGUMENT')
    );
    assert.throws(
      () => escapeAttr(bad),
      (e) => isVaultError(e, 'INVALID_ARGUMENT')
    );
  }
});

test('randomUuid is v4 and unique; checkUuid normalises and rejects junk', () => {
  const a = randomUuid();
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(a, randomUuid());
  assert.equal(checkUuid(UUID.toUpperCase()), UUID);
  assert.throws(
    () => checkUuid('not-a-uuid'),
    (e) => isVaultError(e, 'INVALID_ARGUMENT')
  );
  assert.throws(
    () => checkUuid(`${UUID}'/><x`),
    (e) => isVaultError(e, 'INVALID_ARGUMENT')
  );
});

test('secretXml: persistent private volume secret with escaped path', () => {
  const xml = secretXml({ uuid: UUID, volumePath: `/vm/a&b <c>.qcow2` });
  assert.match(xml, /^<secret ephemeral='no' private='yes'>\n/);
  assert.ok(xml.includes(`<uuid>${UUID}</uuid>`));
  assert.ok(xml.includes(`<usage type='volume'>`));
  assert.ok(xml.includes(`<volume>/vm/a&amp;b &lt;c&gt;.qcow2</volume>`));
  assert.ok(xml.includes('<description>Image Vault: LUKS passphrase for /vm/a&amp;b'));
  const pub = secretXml({ uuid: UUID, volumePath: '/x', private: false, ephemeral: true });
  assert.match(pub, /^<secret ephemeral='yes' private='no'>/);
  assert.throws(
    () => secretXml({ uuid: UUID, volumePath: 'relative.qcow2' }),
    (e) => isVaultError(e, 'INVALID_ARGUMENT')
  );
});

test('diskXml qcow2: driver qcow2, encryption inside source', () => {
  const xml = diskXml({ imagePath: `/vm/it's.qcow2`, format: 'qcow2', secretUuid: UUID });
  assert.equal(
    xml,
    [
      `<disk type='file' device='disk'>`,
      `  <driver name='qemu' type='qcow2'/>`,
      `  <source file='/vm/it&apos;s.qcow2'>`,
      `    <encryption format='luks'>`,
      `      <secret type='passphrase' uuid='${UUID}'/>`,
      `    </encryption>`,
      `  </source>`,
      `  <target dev='vda' bus='virtio'/>`,
      `</disk>`,
      '',
    ].join('\n')
  );
});

test('diskXml raw LUKS: driver raw plus the qemu encryption engine', () => {
  const xml = diskXml({
    imagePath: '/vm/a.luks',
    format: 'luks',
    secretUuid: UUID,
    targetDev: 'vdb',
  });
  assert.ok(xml.includes(`<driver name='qemu' type='raw'/>`));
  assert.ok(xml.includes(`<encryption format='luks' engine='qemu'>`));
  assert.ok(xml.includes(`<target dev='vdb' bus='virtio'/>`));
  assert.throws(
    () => diskXml({ imagePath: '/a', format: 'luks', secretUuid: UUID, targetDev: `v'x` }),
    (e) => isVaultError(e, 'INVALID_ARGUMENT')
  );
});

test('libvirtDiskFormat maps encrypted formats and refuses the rest', () => {
  assert.equal(libvirtDiskFormat('qcow2', 'luks'), 'qcow2');
  assert.equal(libvirtDiskFormat('luks', 'luks'), 'luks');
  assert.throws(
    () => libvirtDiskFormat('qcow2'),
    (e) => isVaultError(e, 'NOT_ENCRYPTED')
  );
  assert.throws(
    () => libvirtDiskFormat('raw'),
    (e) => isVaultError(e, 'NOT_ENCRYPTED')
  );
  assert.throws(
    () => libvirtDiskFormat('qcow2', 'aes'),
    (e) => isVaultError(e, 'UNSUPPORTED_FEATURE')
  );
  assert.throws(
    () => libvirtDiskFormat('qcow', 'aes'),
    (e) => isVaultError(e, 'UNSUPPORTED_FEATURE')
  );
});

test('minimalDomainXml: TCG, 64 MiB, emulator, serial file, disks indented', () => {
  const disk = diskXml({ imagePath: '/vm/a.qcow2', format: 'qcow2', secretUuid: UUID });
  const xml = minimalDomainXml({ name: 'iv-test', disks: [disk], serialLogPath: '/tmp/s.log' });
  assert.match(xml, /^<domain type='qemu'>/);
  assert.ok(xml.includes(`<memory unit='MiB'>64</memory>`));
  assert.ok(xml.includes('<emulator>/usr/bin/qemu-system-x86_64</emulator>'));
  assert.ok(xml.includes(`<source path='/tmp/s.log'/>`));
  assert.ok(xml.includes(`    <disk type='file' device='disk'>\n      <driver`));
  assert.ok(!xml.includes('<graphics'));
  assert.throws(
    () => minimalDomainXml({ name: 'a b', disks: [] }),
    (e) => isVaultError(e, 'INVALID_ARGUMENT')
  );
  assert.ok(minimalDomainXml({ name: 'x', disks: [] }).includes(`<serial type='null'/>`));
});

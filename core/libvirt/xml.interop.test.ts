import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, scratchDir } from '../testing/peers.js';
import { libvirtTestOptions } from './libvirt-test-peers.js';
import { secretXml } from './secret-xml.js';
import { diskXml } from './disk-xml.js';
import { minimalDomainXml } from './domain-xml.js';
import { libvirtPlan } from './plan.js';

const opts = libvirtTestOptions();
const UUID = '0a81f5b2-8403-4b23-a8d6-21ccc2f80d6f';
const AWKWARD = `/var/lib/libvirt/images/it's a "test" & <more>\tü.qcow2`;

async function validate(dir: string, name: string, xml: string, schema: string) {
  const file = join(dir, name);
  await writeFile(file, xml);
  return run('virt-xml-validate', [file, schema]);
}

test('secret XML validates against libvirt secret.rng', opts, async () => {
  const s = await scratchDir();
  try {
    for (const [i, x] of [
      secretXml({ uuid: UUID, volumePath: '/vm/a.qcow2' }),
      secretXml({ uuid: UUID, volumePath: AWKWARD, private: false, ephemeral: true }),
      libvirtPlan({ imagePath: AWKWARD, format: 'luks' }).secretXml,
    ].entries()) {
      const r = await validate(s.dir, `s${i}.xml`, x, 'secret');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout + r.stderr, /validates/);
    }
    // The checker can fail: a secret without its usage volume is rejected.
    const bad = await validate(
      s.dir,
      'bad.xml',
      `<secret><usage type='volume'/></secret>`,
      'secret'
    );
    assert.notEqual(bad.code, 0);
  } finally {
    await s.cleanup();
  }
});

test('domains with qcow2+LUKS and raw LUKS disks validate against domain.rng', opts, async () => {
  const s = await scratchDir();
  try {
    const disks = [
      diskXml({ imagePath: '/vm/a.qcow2', format: 'qcow2', secretUuid: UUID }),
      diskXml({ imagePath: AWKWARD, format: 'luks', secretUuid: UUID, targetDev: 'vdb' }),
      libvirtPlan({ imagePath: '/vm/c.luks', format: 'luks' }).diskXml.replace('vda', 'vdc'),
    ];
    const xml = minimalDomainXml({ name: 'iv-validate', disks, serialLogPath: join(s.dir, 'x') });
    const r = await validate(s.dir, 'd.xml', xml, 'domain');
    assert.equal(r.code, 0, r.stderr);
    const wf = await run('xmllint', ['--noout', join(s.dir, 'd.xml')]);
    assert.equal(wf.code, 0, wf.stderr);
    // Same document with a misspelt encryption format must fail, so the check has teeth.
    const broken = xml.replace(`format='luks' engine`, `format='lux' engine`);
    const rb = await validate(s.dir, 'b.xml', broken, 'domain');
    assert.notEqual(rb.code, 0);
  } finally {
    await s.cleanup();
  }
});

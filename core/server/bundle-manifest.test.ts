import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { toVaultError, type VaultApi } from '../api/index.js';
import { createVaultService } from '../service/vault-service.js';
import { invokeOperation } from '../api/dispatch.js';

const manifest = {
  kind: 'image-vault-bundle',
  version: 1,
  tool: 'image-vault 0.1.0',
  createdAt: '2026-12-04T10:00:00.000Z',
  recipient: 'Alex',
  image: 'vm.qcow2',
  format: 'qcow2',
  virtualSize: 1048576,
  luksUuid: '11111111-2222-3333-4444-555555555555',
  cipher: 'aes-256-xts-plain64',
  sha256: 'ab'.repeat(32),
  secretUuid: '66666666-2222-3333-4444-555555555555',
  freshMasterKey: true,
};

describe('readBundleManifest through the validated dispatch', () => {
  let dir: string;
  const api: VaultApi = createVaultService({ threads: 0 });
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iv-extras-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('returns a valid manifest and refuses folders without one', async () => {
    await assert.rejects(invokeOperation(api, 'readBundleManifest', [dir]), (e) => {
      return toVaultError(e).code === 'NOT_AN_IMAGE';
    });
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
    const got = (await invokeOperation(api, 'readBundleManifest', [dir])) as typeof manifest;
    assert.equal(got.recipient, 'Alex');
    assert.equal(got.image, 'vm.qcow2');
    const { recipient: _r, ...partial } = manifest;
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(partial));
    await assert.rejects(
      invokeOperation(api, 'readBundleManifest', [dir]),
      (e) => toVaultError(e).code === 'CORRUPT' && /recipient/.test(toVaultError(e).message)
    );
  });

  it('rejects a manifest whose image escapes the folder, and bad arguments', async () => {
    await writeFile(
      join(dir, 'manifest.json'),
      JSON.stringify({ ...manifest, image: '../etc/passwd' })
    );
    await assert.rejects(
      invokeOperation(api, 'readBundleManifest', [dir]),
      (e) => toVaultError(e).code === 'CORRUPT' && /outside the bundle/.test(String(e))
    );
    await assert.rejects(
      invokeOperation(api, 'readBundleManifest', ['relative/path']),
      (e) => toVaultError(e).code === 'INVALID_ARGUMENT'
    );
  });

  it('refuses unknown methods', async () => {
    await assert.rejects(
      invokeOperation(api, 'nope', []),
      (e) => toVaultError(e).code === 'INVALID_ARGUMENT'
    );
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { toVaultError, type VaultApi } from '../api/index.js';
import { createVaultService } from '../service/vault-service.js';
import { invokeVaultMethod } from '../api/dispatch.js';

describe('readBundleManifest through the validated dispatch', () => {
  let dir: string;
  const api: VaultApi = createVaultService({ threads: 0 });
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iv-extras-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('returns a valid manifest and refuses folders without one', async () => {
    await assert.rejects(invokeVaultMethod(api, 'readBundleManifest', [dir]), (e) => {
      return toVaultError(e).code === 'NOT_AN_IMAGE';
    });
    const manifest = {
      kind: 'image-vault-bundle',
      version: 1,
      image: 'vm.qcow2',
      recipient: 'Alex',
      sha256: 'ab'.repeat(32),
    };
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
    const got = (await invokeVaultMethod(api, 'readBundleManifest', [dir])) as typeof manifest;
    assert.equal(got.recipient, 'Alex');
    assert.equal(got.image, 'vm.qcow2');
  });

  it('rejects a manifest whose image escapes the folder, and bad arguments', async () => {
    await writeFile(
      join(dir, 'manifest.json'),
      JSON.stringify({ kind: 'image-vault-bundle', version: 1, image: '../etc/passwd' })
    );
    await assert.rejects(
      invokeVaultMethod(api, 'readBundleManifest', [dir]),
      (e) => toVaultError(e).code === 'CORRUPT'
    );
    await assert.rejects(
      invokeVaultMethod(api, 'readBundleManifest', ['relative/path']),
      (e) => toVaultError(e).code === 'INVALID_ARGUMENT'
    );
  });

  it('refuses unknown methods', async () => {
    await assert.rejects(
      invokeVaultMethod(api, 'nope', []),
      (e) => toVaultError(e).code === 'INVALID_ARGUMENT'
    );
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { toVaultError, type VaultApi } from '../api/index.js';
import { invokeServerMethod } from './extras.js';

describe('loopback extras: readBundleManifest', () => {
  let dir: string;
  const api = {
    inspect: async (p: string) => ({ path: p }),
  } as unknown as VaultApi;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iv-extras-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('returns a valid manifest and refuses folders without one', async () => {
    await assert.rejects(invokeServerMethod(api, 'readBundleManifest', [dir]), (e) => {
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
    const got = (await invokeServerMethod(api, 'readBundleManifest', [dir])) as typeof manifest;
    assert.equal(got.recipient, 'Alex');
    assert.equal(got.image, 'vm.qcow2');
  });

  it('rejects a manifest whose image escapes the folder, and bad arguments', async () => {
    await writeFile(
      join(dir, 'manifest.json'),
      JSON.stringify({ kind: 'image-vault-bundle', version: 1, image: '../etc/passwd' })
    );
    await assert.rejects(
      invokeServerMethod(api, 'readBundleManifest', [dir]),
      (e) => toVaultError(e).code === 'CORRUPT'
    );
    await assert.rejects(
      invokeServerMethod(api, 'readBundleManifest', ['relative/path']),
      (e) => toVaultError(e).code === 'INVALID_ARGUMENT'
    );
  });

  it('passes every other method to the validated VaultApi dispatch', async () => {
    assert.deepEqual(await invokeServerMethod(api, 'inspect', ['/x.qcow2']), { path: '/x.qcow2' });
    await assert.rejects(
      invokeServerMethod(api, 'nope', []),
      (e) => toVaultError(e).code === 'INVALID_ARGUMENT'
    );
  });
});

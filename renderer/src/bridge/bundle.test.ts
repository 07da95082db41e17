/* eslint-disable no-restricted-imports -- this test runs in Node (npx tsx --test), not in the page */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DirectoryListing, ImageInfo, VaultApi } from '../../../core/api/index.js';
import { readBundle } from './bundle.js';
import { ApiError, errorCode } from './errors.js';
import { useBridgeForTests } from './index.js';

const DIR = '/home/alex/for-alex';

function listing(names: string[]): DirectoryListing {
  return {
    path: DIR,
    parent: '/home/alex',
    entries: names.map((name) => ({ name, path: `${DIR}/${name}`, kind: 'file', size: 1000 })),
  };
}

const info = {
  path: `${DIR}/vm.qcow2`,
  format: 'qcow2',
  virtualSize: 16 << 20,
  encrypted: true,
  encryption: {
    format: 'luks',
    version: 1,
    cipherAlg: 'aes-256',
    cipherMode: 'xts',
    ivgenAlg: 'plain64',
    uuid: 'u-1',
    slots: [],
  },
} as unknown as ImageInfo;

function fakeApi(
  names: string[],
  manifest: Record<string, unknown> = {},
  layout = 'folder'
): VaultApi {
  return {
    listDirectory: async () => listing(names),
    inspect: async () => info,
    inspectBundle: async () => {
      if (!names.includes('manifest.json')) throw new ApiError('NOT_AN_IMAGE', 'not a bundle');
      return {
        manifest: { image: 'vm.qcow2', ...manifest },
        layout,
        signed: false,
        sealed: false,
      };
    },
  } as unknown as VaultApi;
}

describe('readBundle', () => {
  it('uses the manifest for recipient, UUID and checksum', async () => {
    useBridgeForTests(
      fakeApi(['manifest.json', 'vm.qcow2', 'disk.xml'], {
        image: 'vm.qcow2',
        recipient: 'Alex',
        virtualSize: 5,
        luksUuid: 'm-uuid',
        cipher: 'aes-256-xts-plain64',
        sha256: 'ff',
        freshMasterKey: true,
      })
    );
    const b = await readBundle(DIR);
    assert.equal(b.recipient, 'Alex');
    assert.equal(b.luksUuid, 'm-uuid');
    assert.equal(b.sha256, 'ff');
    assert.equal(b.imagePath, `${DIR}/vm.qcow2`);
  });

  it('reads a .tar bundle without listing it, and refuses non-bundles', async () => {
    useBridgeForTests(fakeApi(['manifest.json'], { imageSize: 77 }, 'tar'));
    const b = await readBundle(`${DIR}.tar`);
    assert.equal(b.layout, 'tar');
    assert.equal(b.imagePath, undefined);
    assert.equal(b.fileSize, 77);
    useBridgeForTests(fakeApi(['vm.qcow2']));
    await assert.rejects(readBundle(DIR), (e) => errorCode(e) === 'NOT_AN_IMAGE');
    useBridgeForTests(fakeApi(['manifest.json', 'notes.txt']));
    await assert.rejects(readBundle(DIR), (e) => errorCode(e) === 'NOT_FOUND');
  });
});

/**
 * Issue #13: `trash` takes only images shown in the library (inspected) or just created,
 * never a folder or another file; a missing path leaves nothing in the trash.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { peerTestOptions, runOk, scratchDir } from '../testing/peers.js';
import { createVaultService } from './vault-service.js';

let dir: string;
let cleanup: () => Promise<void>;
const old = process.env.XDG_DATA_HOME;
before(async () => {
  ({ dir, cleanup } = await scratchDir('iv-trash-'));
  process.env.XDG_DATA_HOME = join(dir, 'data');
});
after(async () => {
  if (old === undefined) delete process.env.XDG_DATA_HOME;
  else process.env.XDG_DATA_HOME = old;
  await cleanup?.();
});

test(
  'trash: library images only, never a folder, nothing left for a missing path',
  peerTestOptions('qemu-img'),
  async () => {
    const api = createVaultService();
    const folder = join(dir, 'folder');
    await mkdir(folder);
    await assert.rejects(api.trash(folder), { code: 'INVALID_ARGUMENT' });
    const other = join(dir, 'notes.txt');
    await writeFile(other, 'not an image');
    await assert.rejects(api.trash(other), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(api.trash(join(dir, 'missing.qcow2')), { code: 'NOT_FOUND' });
    const trashInfo = join(dir, 'data', 'Trash', 'info');
    assert.deepEqual(await readdir(trashInfo).catch(() => []), []);
    const img = join(dir, 'vm.qcow2');
    await runOk('qemu-img', ['create', '-f', 'qcow2', img, '1M']);
    await assert.rejects(api.trash(img), { code: 'INVALID_ARGUMENT' });
    await api.inspect(img);
    const r = await api.trash(img);
    assert.ok((await stat(r.trashedTo)).isFile());
    await assert.rejects(stat(img), { code: 'ENOENT' });
    assert.deepEqual(await readdir(trashInfo), ['vm.qcow2.trashinfo']);
    assert.ok((await stat(folder)).isDirectory());
    assert.ok((await stat(other)).isFile());
  }
);

/**
 * `header repair` on a LUKS2 header inside a qcow2 LUKS region (docs/spec/qcow2-luks.md §2): QEMU
 * 7.2 writes only LUKS1 there, so the image is built with our own writers; the repair works on
 * the region exactly as on a raw LUKS2 file, and leaves the qcow2 metadata alone.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { dataCipherFor } from '../formats/luks/data-cipher.js';
import { formatLuks2 } from '../formats/luks/luks2-format.js';
import { readLuks2Volume } from '../formats/luks/luks2-volume.js';
import { createQcow2, openQcow2 } from '../formats/qcow2/index.js';
import { FileDevice } from '../io/file-device.js';
import { scratchDir } from '../testing/peers.js';
import { headerRepair } from './header.js';
import { inspectImage } from './inspect.js';
import { keyslotAdd, keyslotTest } from './keyslots.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('header repair inside qcow2', () => {
  it('a damaged secondary LUKS2 copy in the qcow2 region is found, blocks writes and is repaired', async () => {
    const { dir, cleanup } = await scratchDir('iv-hrq-');
    try {
      const path = join(dir, 'l2.qcow2');
      const dev = await FileDevice.open(path, { createExclusive: true });
      const w = await createQcow2(dev, {
        virtualSize: 1 << 20,
        encryption: {
          kind: 'luks',
          initHeader: async (alloc) => {
            const region = await alloc(16 << 20);
            const u = await formatLuks2(region, enc('abc123'), {
              pbkdf: 'pbkdf2',
              iterations: 1000,
            });
            try {
              return await dataCipherFor(u, { threads: 0 });
            } finally {
              u.dispose();
            }
          },
        },
      });
      await w.close();
      const dev2 = await FileDevice.open(path, { write: true });
      try {
        const region = (await openQcow2(dev2)).luksRegion()!;
        await region.write(new Uint8Array([1, 2, 3]), 16384 + 4096 + 10); // secondary JSON area
        await region.flush();
        assert.equal((await readLuks2Volume(region)).state.secondary.status, 'damaged');
      } finally {
        await dev2.close();
      }
      const info = await inspectImage(path);
      assert.equal(info.format, 'qcow2');
      assert.equal(info.encryption?.version, 2);
      assert.equal(info.encryption?.headerState?.secondary?.status, 'damaged');
      assert.deepEqual(await keyslotTest(path, enc('abc123')), { slot: 0 });
      await assert.rejects(
        keyslotAdd({ path, passphrase: enc('abc123'), newPassphrase: enc('x'), iterations: 1000 }),
        { code: 'NEEDS_REPAIR' }
      );
      const r = await headerRepair(path);
      assert.equal(r.action, 'repaired');
      assert.equal((await inspectImage(path)).encryption?.headerState?.needsRepair, false);
      assert.equal(
        (
          await keyslotAdd({
            path,
            passphrase: enc('abc123'),
            newPassphrase: enc('x'),
            pbkdf: 'pbkdf2',
            iterations: 1000,
          })
        ).slot,
        1
      );
    } finally {
      await cleanup();
    }
  });
});

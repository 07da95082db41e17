/** openImage: raw sources choose direct or page-cache reads by how sparse they are. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openImage } from './open-image.js';
import { bulkBuffer, isDirectAligned } from '../io/aligned-buffer.js';
import { patternBytes } from '../testing/bytes.js';
import { handleCallSizes } from '../testing/file-calls.js';
import { scratchDir } from '../testing/peers.js';

const MiB = 1024 * 1024;

test('a mostly sparse raw source is read directly, a full one through the page cache', async (t) => {
  const { dir, cleanup } = await scratchDir();
  t.after(cleanup);
  const buf = bulkBuffer(4 * MiB, [dir]);
  if (!isDirectAligned(buf)) {
    t.skip('this filesystem has no O_DIRECT');
    return;
  }
  const sparse = join(dir, 'sparse.raw');
  const fh = await open(sparse, 'w');
  await fh.truncate(64 * MiB);
  await fh.write(patternBytes(MiB, 1), 0, MiB, MiB);
  await fh.close();
  const full = join(dir, 'full.raw');
  await writeFile(full, patternBytes(8 * MiB, 2));

  for (const [path, direct] of [
    [sparse, true],
    [full, false],
  ] as const) {
    const img = await openImage(path);
    try {
      const calls = await handleCallSizes(dir, 'read', () => img.read(buf, 0));
      // One direct call of the whole buffer, or the page cache's parallel 1 MiB pieces.
      assert.deepEqual(calls, direct ? [4 * MiB] : [MiB, MiB, MiB, MiB], path);
      const expect = direct
        ? new Uint8Array(4 * MiB)
        : patternBytes(8 * MiB, 2).subarray(0, 4 * MiB);
      if (direct) expect.set(patternBytes(MiB, 1), MiB);
      assert.deepEqual(buf, expect, path);
    } finally {
      await img.close();
    }
  }
});

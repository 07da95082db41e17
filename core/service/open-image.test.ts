/**
 * openImage: raw sources read through the page cache, their holes skipped; only where the
 * file system hides holes (SEEK_HOLE refused, simulated) does a mostly sparse one read directly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openImage } from './open-image.js';
import { libc, setLibcForTests } from '../io/native/libc.js';
import { bulkBuffer, isDirectAligned } from '../io/aligned-buffer.js';
import { patternBytes } from '../testing/bytes.js';
import { handleCallSizes } from '../testing/file-calls.js';
import { scratchDir } from '../testing/peers.js';

const MiB = 1024 * 1024;

test('a sparse raw source whose holes are hidden is read directly, others through the page cache', async (t) => {
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

  const real = libc();
  for (const [path, hidden, direct] of [
    [sparse, true, true],
    [sparse, false, false],
    [full, true, false],
  ] as const) {
    // SEEK_HOLE refused (EINVAL): the file system hides holes. Locks still work.
    if (hidden) setLibcForTests({ ...real, lseek: () => -1, errno: () => 22 });
    const img = await openImage(path).finally(() => setLibcForTests(undefined));
    try {
      const calls = await handleCallSizes(dir, 'read', () => img.read(buf, 0));
      // One direct call of the whole buffer, or the page cache's parallel 1 MiB pieces.
      assert.deepEqual(calls, direct ? [4 * MiB] : [MiB, MiB, MiB, MiB], `${path} ${hidden}`);
      const expect =
        path === sparse ? new Uint8Array(4 * MiB) : patternBytes(8 * MiB, 2).subarray(0, 4 * MiB);
      if (path === sparse) expect.set(patternBytes(MiB, 1), MiB);
      assert.deepEqual(buf, expect, path);
    } finally {
      await img.close();
    }
  }
});

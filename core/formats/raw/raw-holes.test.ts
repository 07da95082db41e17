/**
 * Raw sources map their holes as zero extents (issue #15 "Sparse images at disk speed"):
 * the extent walk over a data seeker, on a real sparse file, and the fallback when the
 * native route or the file system reports no holes.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { fail } from '../../api/errors.js';
import { FileDevice } from '../../io/file-device.js';
import { MemoryDevice } from '../../io/memory-device.js';
import { libc, setLibcForTests } from '../../io/native/libc.js';
import type { DataSeeker } from '../../io/native/seek-data.js';
import { scratchDir } from '../../testing/peers.js';
import { holeExtents, openRaw } from './raw.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** A seeker over explicit `[start, end)` data runs of a `size`-byte file, counting calls. */
function fakeSeeker(size: number, runs: [number, number][]) {
  const calls = { data: 0, hole: 0 };
  const seeker: DataSeeker = {
    holesReported: true,
    nextData: (o) => {
      calls.data++;
      if (o >= size) return undefined;
      const r = runs.find(([, e]) => e > o);
      return r ? Math.max(o, r[0]) : undefined;
    },
    nextHole: (o) => {
      calls.hole++;
      if (o >= size) return undefined;
      const r = runs.find(([s, e]) => s <= o && o < e);
      return r ? r[1] : o;
    },
  };
  return { seeker, calls };
}

describe('raw hole extents', () => {
  it('widens data runs to the granularity, merges touching ones, clips to the window', () => {
    const size = 4 * MiB;
    const { seeker } = fakeSeeker(size, [
      [100 * KiB, 104 * KiB], // inside the second 64 KiB unit
      [130 * KiB, 132 * KiB], // next unit: merges with the one before
      [1 * MiB, 2 * MiB],
    ]);
    assert.deepEqual(holeExtents(seeker, 0, size, 64 * KiB), [
      { offset: 0, length: 64 * KiB, kind: 'zero' },
      { offset: 64 * KiB, length: 128 * KiB, kind: 'data' },
      { offset: 192 * KiB, length: MiB - 192 * KiB, kind: 'zero' },
      { offset: MiB, length: MiB, kind: 'data' },
      { offset: 2 * MiB, length: 2 * MiB, kind: 'zero' },
    ]);
    // A window starting inside data and ending inside a hole.
    assert.deepEqual(holeExtents(seeker, 1.5 * MiB, 2.5 * MiB, 64 * KiB), [
      { offset: 1.5 * MiB, length: 0.5 * MiB, kind: 'data' },
      { offset: 2 * MiB, length: 0.5 * MiB, kind: 'zero' },
    ]);
  });

  it('maps a file that ends in data up to its unaligned end', () => {
    const size = 1 * MiB + 1000;
    const { seeker } = fakeSeeker(size, [[MiB, size]]);
    assert.deepEqual(holeExtents(seeker, 0, size, 64 * KiB), [
      { offset: 0, length: MiB, kind: 'zero' },
      { offset: MiB, length: 1000, kind: 'data' },
    ]);
  });

  it('memory devices (no seeker) map as all data', async () => {
    const r = await openRaw(new MemoryDevice(new Uint8Array(200000)));
    assert.deepEqual(await r.map(0, 200000), [{ offset: 0, length: 200000, kind: 'data' }]);
  });
});

describe('raw holes on a real sparse file', async () => {
  const { dir, cleanup } = await scratchDir('iv-raw-holes-');
  after(cleanup);
  const path = join(dir, 'sparse.raw');
  const size = 64 * MiB;
  const fh = await open(path, 'w');
  await fh.truncate(size);
  await fh.write(Buffer.alloc(MiB, 0xab), 0, MiB, 8 * MiB);
  await fh.write(Buffer.alloc(4096, 0xcd), 0, 4096, 40 * MiB + 8192);
  await fh.close();

  it('SEEK_DATA/SEEK_HOLE: data where it was written, the rest zero', async () => {
    const r = await openRaw(await FileDevice.open(path));
    try {
      const extents = await r.map(0, size);
      const data = extents.filter((e) => e.kind === 'data');
      assert.deepEqual(data, [
        { offset: 8 * MiB, length: MiB, kind: 'data' },
        { offset: 40 * MiB, length: 64 * KiB, kind: 'data' },
      ]);
      assert.equal(
        extents.reduce((n, e) => n + e.length, 0),
        size,
        'the extents cover the disk'
      );
      // Small windows (the copy loop's) agree with the whole-disk answer.
      const windows = [];
      for (let o = 0; o < size; o += 4 * MiB) windows.push(...(await r.map(o, 4 * MiB)));
      assert.deepEqual(
        windows.filter((e) => e.kind === 'data'),
        data
      );
    } finally {
      await r.close();
    }
  });

  it('falls back to all data when SEEK_DATA is unavailable (native route refused)', async () => {
    // Locks need the native route too: open first, then make it fail as a failed load would.
    const dev = await FileDevice.open(path);
    try {
      setLibcForTests(fail('NATIVE_UNAVAILABLE', 'simulated: no koffi'));
      const r = await openRaw(dev);
      assert.deepEqual(await r.map(0, size), [{ offset: 0, length: size, kind: 'data' }]);
      const back = new Uint8Array(MiB);
      await r.read(back, 8 * MiB);
      assert.ok(back.every((b) => b === 0xab));
    } finally {
      setLibcForTests(undefined);
      await dev.close();
    }
  });

  it('falls back to all data when the kernel refuses SEEK_HOLE (EINVAL)', async () => {
    const dev = await FileDevice.open(path);
    try {
      const real = libc();
      setLibcForTests({ ...real, lseek: () => -1, errno: () => 22 });
      const r = await openRaw(dev);
      assert.deepEqual(await r.map(0, size), [{ offset: 0, length: size, kind: 'data' }]);
    } finally {
      setLibcForTests(undefined);
      await dev.close();
    }
  });
});

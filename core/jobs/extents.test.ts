/** `dataRanges` / `countDataBytes` over arbitrary (even unsorted or gappy) map answers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Extent, GuestReader } from '../formats/image.js';
import { countDataBytes, dataRanges, MAP_WINDOW, type Range } from './extents.js';

/** A reader whose map() answers with the `extents` overlapping the query (unclipped, in order). */
function fakeReader(virtualSize: number, extents: Extent[]): GuestReader {
  return {
    format: 'raw',
    virtualSize,
    granularity: 512,
    read: async () => undefined,
    map: async (offset, length) =>
      extents
        .filter((e) => e.offset < offset + length && e.offset + e.length > offset)
        .map((e) => ({ ...e })),
    close: async () => undefined,
  };
}

/**
 * Byte by byte: the first extent in (stable) offset order that covers a byte decides its
 * kind; bytes no extent covers are data; nothing past the disk's end is reported.
 */
function reference(size: number, extents: Extent[], offset: number, length: number): Range[] {
  const sorted = [...extents].sort((a, b) => a.offset - b.offset);
  const out: Range[] = [];
  for (let b = offset; b < Math.min(offset + length, size); b++) {
    const first = sorted.find((x) => x.offset <= b && b < x.offset + x.length);
    if (first?.kind === 'zero') continue;
    const last = out[out.length - 1];
    if (last && last.end === b) last.end = b + 1;
    else out.push({ start: b, end: b + 1 });
  }
  return out;
}

test('dataRanges: sorted, unsorted, gaps and overlaps, clipped to the disk', async () => {
  let seed = 5;
  const r = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (let round = 0; round < 300; round++) {
    const size = 1 + r(4000);
    const extents: Extent[] = [];
    for (let i = r(8); i > 0; i--) {
      extents.push({ offset: r(size), length: 1 + r(800), kind: r(2) ? 'data' : 'zero' });
    }
    if (r(2)) extents.sort((a, b) => a.offset - b.offset);
    const reader = fakeReader(size, extents);
    const offset = r(size);
    const length = r(size + 200);
    const got = await dataRanges(reader, offset, length);
    const clipped = await reader.map(offset, Math.min(offset + length, size) - offset);
    assert.deepEqual(got, reference(size, clipped, offset, length), `round ${round}`);
  }
});

test('dataRanges: touching data merges; nothing past the end', async () => {
  const exts: Extent[] = [
    { offset: 0, length: 100, kind: 'zero' },
    { offset: 100, length: 50, kind: 'data' },
    { offset: 150, length: 30, kind: 'data' },
    { offset: 300, length: 100, kind: 'zero' },
  ];
  assert.deepEqual(await dataRanges(fakeReader(500, exts), 0, 1000), [
    { start: 100, end: 300 },
    { start: 400, end: 500 },
  ]);
  assert.deepEqual(await dataRanges(fakeReader(500, exts), 500, 10), []);
});

test('countDataBytes walks the disk in windows', async () => {
  const size = 2 * MAP_WINDOW + 4096;
  const exts: Extent[] = [
    { offset: 0, length: MAP_WINDOW - 512, kind: 'zero' },
    { offset: MAP_WINDOW - 512, length: 1024, kind: 'data' },
    { offset: MAP_WINDOW + 512, length: MAP_WINDOW + 3584, kind: 'zero' },
  ];
  assert.equal(await countDataBytes(fakeReader(size, exts)), 1024);
  assert.equal(await countDataBytes(fakeReader(size, exts), MAP_WINDOW), 512);
});

/**
 * Helpers over `GuestReader.map()` (core/formats/image.ts): windowed walks with bounded
 * memory, data-byte totals, and a fast all-zero test.
 */
import type { Extent, GuestReader } from '../formats/image.js';
import { zeroFill } from '../io/aligned-buffer.js';

/** Map windows are this large, so one `map()` answer stays small whatever the image size. */
export const MAP_WINDOW = 1 << 30;

/** A half-open byte range `[start, end)`. */
export interface Range {
  start: number;
  end: number;
}

/**
 * The data ranges of `[offset, offset + length)`, clipped to it and to the reader's size.
 * Anything the map leaves uncovered is treated as data (read rather than assumed zero).
 * Bytes beyond `virtualSize` are zero.
 */
export async function dataRanges(
  reader: GuestReader,
  offset: number,
  length: number
): Promise<Range[]> {
  const end = Math.min(offset + length, reader.virtualSize);
  if (end <= offset) return [];
  const extents: Extent[] = await reader.map(offset, end - offset);
  // Readers answer in order; only an unsorted answer pays for a (stable) sorted copy.
  const sorted = isSorted(extents) ? extents : [...extents].sort((a, b) => a.offset - b.offset);
  const out: Range[] = [];
  let cursor = offset;
  for (const x of sorted) {
    const s = Math.max(x.offset, cursor);
    const e = Math.min(x.offset + x.length, end);
    if (e <= s) continue;
    if (s > cursor) pushRange(out, cursor, s); // gap in the map: read it
    if (x.kind !== 'zero') pushRange(out, s, e);
    cursor = e;
  }
  if (cursor < end) pushRange(out, cursor, end);
  return out;
}

/** Appends `[s, e)`, extending the last range when they touch; empty ranges are dropped. */
function pushRange(out: Range[], s: number, e: number): void {
  if (e <= s) return;
  const last = out[out.length - 1];
  if (last && last.end === s) last.end = e;
  else out.push({ start: s, end: e });
}

function isSorted(extents: Extent[]): boolean {
  for (let i = 1; i < extents.length; i++) {
    if (extents[i]!.offset < extents[i - 1]!.offset) return false;
  }
  return true;
}

/** Total bytes in data extents over the whole disk from `from` on, walked in windows. */
export async function countDataBytes(reader: GuestReader, from = 0): Promise<number> {
  let total = 0;
  for (let off = from; off < reader.virtualSize; off += MAP_WINDOW) {
    for (const r of await dataRanges(reader, off, MAP_WINDOW)) total += r.end - r.start;
  }
  return total;
}

/** Union of two sorted, non-overlapping range lists. */
export function unionRanges(a: Range[], b: Range[]): Range[] {
  const all = [...a, ...b].sort((x, y) => x.start - y.start);
  const out: Range[] = [];
  for (const r of all) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}

/** Sum of the lengths of `ranges`. */
export function rangeBytes(ranges: Range[]): number {
  return ranges.reduce((n, r) => n + (r.end - r.start), 0);
}

const ZERO = Buffer.alloc(64 * 1024);

/** True when every byte of `buf` is zero (memcmp against a zero page, 64 KiB at a time). */
export function isAllZero(buf: Uint8Array): boolean {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let off = 0; off < b.length; off += ZERO.length) {
    const n = Math.min(ZERO.length, b.length - off);
    if (b.compare(ZERO, 0, n, off, off + n) !== 0) return false;
  }
  return true;
}

/**
 * Fills `buf[0, len)` with the guest bytes at `off`: the `data` ranges (sorted, within the
 * window) are read, everything between them zeroed. Returns the number of bytes read.
 */
export async function readRanges(
  reader: GuestReader,
  buf: Uint8Array,
  off: number,
  len: number,
  data: Range[]
): Promise<number> {
  let cursor = 0;
  let read = 0;
  for (const d of data) {
    const s = d.start - off;
    const e = d.end - off;
    zeroFill(buf, cursor, s);
    await reader.read(buf.subarray(s, e), d.start);
    read += e - s;
    cursor = e;
  }
  zeroFill(buf, cursor, len);
  return read;
}

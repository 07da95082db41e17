/** Helpers shared by the format readers for `GuestReader.map()` (core/formats/image.ts). */
import type { Extent, ExtentKind } from '../image.js';

/** Appends an extent, merging with the previous one when kinds match and ranges touch. */
export function pushExtent(out: Extent[], offset: number, length: number, kind: ExtentKind): void {
  if (length <= 0) return;
  const last = out[out.length - 1];
  if (last && last.kind === kind && last.offset + last.length === offset) {
    last.length += length;
    return;
  }
  out.push({ offset, length, kind });
}

/**
 * Snaps extents to a grid of `granularity` within `[start, end)`: a cell that overlaps any
 * `data` extent becomes data, the rest zero. Input must be sorted.
 */
export function coarsen(exts: Extent[], granularity: number, start: number, end: number): Extent[] {
  const out: Extent[] = [];
  let pos = start;
  for (const e of exts) {
    if (e.kind !== 'data') continue;
    const s = Math.max(pos, start, Math.floor(e.offset / granularity) * granularity);
    const t = Math.min(end, Math.ceil((e.offset + e.length) / granularity) * granularity);
    if (t <= s) continue;
    pushExtent(out, pos, s - pos, 'zero');
    pushExtent(out, s, t - s, 'data');
    pos = t;
  }
  pushExtent(out, pos, end - pos, 'zero');
  return out;
}

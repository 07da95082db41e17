/**
 * Test-only reference for the L2 walk (resolve.ts): one L2 lookup per cluster, straight
 * from docs/spec/qcow2.md §5–§7, plus map() on top of it. Used by map.interop.test.ts.
 */
import { fail } from '../../api/errors.js';
import { MemoryDevice } from '../../io/memory-device.js';
import type { Extent } from '../image.js';
import { COMPRESSED_HI, ZERO_LO, decodeCompressed, entryOffset } from './entries.js';
import { readQcow2Header, type Qcow2Header } from './header.js';
import type { Segment } from './resolve.js';

/** Seeded PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

export interface Layer {
  /** The whole image file (the reference reads it synchronously). */
  bytes: Uint8Array;
  h: Qcow2Header;
  l1: DataView;
  backing: Layer | undefined;
  /** Tables by host offset, kept across calls like the resolver's cache (never evicts). */
  tables: Map<number, DataView>;
}

export async function layerOf(bytes: Uint8Array, backing?: Layer): Promise<Layer> {
  const h = await readQcow2Header(new MemoryDevice(bytes, false));
  const l1 = new DataView(bytes.slice(h.l1TableOffset, h.l1TableOffset + h.l1Size * 8).buffer);
  return { bytes, h, l1, backing, tables: new Map() };
}

/**
 * The L2 table of `l1i`. A table already read is found by its offset before validation (as
 * in the resolver: a second L1 entry with the same offset but stray low bits is accepted).
 */
function refTable(x: Layer, l1i: number): DataView | null {
  if (l1i >= x.h.l1Size) return null;
  const lo = x.l1.getUint32(l1i * 8 + 4);
  const off = entryOffset(x.l1.getUint32(l1i * 8), lo);
  if (off === 0) return null;
  const known = x.tables.get(off);
  if (known) return known;
  if (off % x.h.clusterSize !== 0 || (lo & 0x1ff) !== 0) {
    throw fail('CORRUPT', `L2 table offset 0x${off.toString(16)} is not cluster aligned`);
  }
  if (off + x.h.clusterSize > x.h.fileSize) {
    throw fail('CORRUPT', `L2 table at 0x${off.toString(16)} lies past the end of the file`);
  }
  const t = new DataView(x.bytes.slice(off, off + x.h.clusterSize).buffer);
  x.tables.set(off, t);
  return t;
}

function checkHost(h: Qcow2Header, host: number): void {
  if (host % h.clusterSize !== 0) {
    throw fail('CORRUPT', `Data cluster offset 0x${host.toString(16)} is not cluster aligned`);
  }
  if (host >= h.fileSize) {
    throw fail('CORRUPT', `Data cluster at 0x${host.toString(16)} lies past the end of the file`);
  }
}

/** Appends with the merge rule of `resolve()`: same kind, touching, data host-contiguous. */
function push(out: Segment[], s: Segment): void {
  const last = out[out.length - 1];
  const touching =
    last !== undefined && last.kind === s.kind && last.guest + last.length === s.guest;
  if (touching && last.kind === 'data' && s.kind === 'data') {
    if (last.host + last.length === s.host) {
      last.length += s.length;
      return;
    }
  } else if (touching && last.kind !== 'compressed') {
    last.length += s.length;
    return;
  }
  out.push(s);
}

/** One cluster (or subcluster) at a time, straight from the spec tables. */
export async function refResolve(x: Layer, offset: number, length: number): Promise<Segment[]> {
  const h = x.h;
  const cs = h.clusterSize;
  const out: Segment[] = [];
  for (let pos = offset; pos < offset + length;) {
    const ci = Math.floor(pos / cs);
    const stop = Math.min(offset + length, (ci + 1) * cs);
    const g = { guest: pos, length: stop - pos };
    const t = refTable(x, Math.floor(ci / h.l2Entries));
    const at = (ci % h.l2Entries) * h.l2EntrySize;
    const hi = t ? t.getUint32(at) : 0;
    const lo = t ? t.getUint32(at + 4) : 0;
    const host = entryOffset(hi, lo);
    if (hi & COMPRESSED_HI) {
      const ref = decodeCompressed(hi, lo, h.clusterBits);
      if (ref.offset >= h.fileSize) {
        throw fail(
          'CORRUPT',
          `Compressed cluster at 0x${ref.offset.toString(16)} lies past the end`
        );
      }
      push(out, { kind: 'compressed', ...g, clusterGuest: ci * cs, ref });
    } else if (!h.extendedL2 || !t) {
      if (lo & ZERO_LO) push(out, { kind: 'zero', ...g });
      else if (host === 0) push(out, { kind: 'unallocated', ...g });
      else {
        checkHost(h, host);
        push(out, { kind: 'data', ...g, host: host + (pos - ci * cs) });
      }
    } else {
      const alloc = t.getUint32(at + 12);
      const zero = t.getUint32(at + 8);
      if (alloc & zero) throw fail('CORRUPT', 'Corrupted subcluster allocation bitmap');
      if (alloc !== 0 && host === 0) {
        throw fail('CORRUPT', 'Allocated subclusters without a host cluster');
      }
      if (alloc !== 0) checkHost(h, host);
      const sc = cs / 32;
      for (let p = pos; p < stop;) {
        const si = Math.floor((p - ci * cs) / sc);
        const e = Math.min(stop, ci * cs + (si + 1) * sc);
        const s = { guest: p, length: e - p };
        if (alloc & (1 << si)) push(out, { kind: 'data', ...s, host: host + (p - ci * cs) });
        else if (zero & (1 << si)) push(out, { kind: 'zero', ...s });
        else push(out, { kind: 'unallocated', ...s });
        p = e;
      }
    }
    pos = stop;
  }
  return out;
}

/** What `mapSegments()` must return: compressed as data, data merged whatever the host. */
export function forMap(segs: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segs) {
    const k = s.kind === 'compressed' ? 'data' : s.kind;
    const last = out[out.length - 1];
    if (last && last.kind === k) last.length += s.length;
    else
      out.push(
        k === 'data'
          ? { kind: k, guest: s.guest, length: s.length, host: -1 }
          : { kind: k, guest: s.guest, length: s.length }
      );
  }
  return out;
}

/** map(): data ranges through the chain, then whole granules that touch data are data. */
export async function refMap(x: Layer, offset: number, length: number): Promise<Extent[]> {
  const data: [number, number][] = [];
  for (const s of await refResolve(x, offset, length)) {
    if (s.kind === 'data' || s.kind === 'compressed') data.push([s.guest, s.guest + s.length]);
    else if (s.kind === 'unallocated' && x.backing) {
      const avail = Math.max(0, Math.min(s.length, x.backing.h.size - s.guest));
      if (avail === 0) continue;
      for (const e of await refMap(x.backing, s.guest, avail)) {
        if (e.kind === 'data') data.push([e.offset, e.offset + e.length]);
      }
    }
  }
  const g = x.h.clusterSize;
  const out: Extent[] = [];
  const end = offset + length;
  for (let cell = Math.floor(offset / g) * g; cell < end; cell += g) {
    const s = Math.max(offset, cell);
    const e = Math.min(end, cell + g);
    if (e <= s) continue;
    const kind = data.some(([a, b]) => a < e && b > s) ? 'data' : 'zero';
    const last = out[out.length - 1];
    if (last && last.kind === kind) last.length += e - s;
    else out.push({ offset: s, length: e - s, kind });
  }
  return out;
}

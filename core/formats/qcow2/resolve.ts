/**
 * Guest → host translation through L1/L2 (spec/qcow2.md §5–§7), producing coalesced
 * segments so a large read becomes few device reads.
 */
import { fail } from '../../api/errors.js';
import { readExact, type BlockDevice } from '../../io/block-device.js';
import {
  COMPRESSED_HI,
  ZERO_LO,
  decodeCompressed,
  entryOffset,
  type CompressedRef,
} from './entries.js';
import type { Qcow2Header } from './header.js';
import { Lru } from './lru.js';

export type Segment =
  | { kind: 'data'; guest: number; length: number; host: number }
  | { kind: 'zero' | 'unallocated'; guest: number; length: number }
  | { kind: 'compressed'; guest: number; length: number; clusterGuest: number; ref: CompressedRef };

/** Bounded L2 cache: at most 16 MiB of tables (and at least 4 tables). */
export function l2CacheCapacity(clusterSize: number): number {
  return Math.max(4, Math.floor((16 * 1024 * 1024) / clusterSize));
}

export class L2Resolver {
  private readonly cache: Lru<number, DataView>;

  constructor(
    private readonly dev: BlockDevice,
    private readonly h: Qcow2Header,
    private readonly l1: DataView
  ) {
    this.cache = new Lru(l2CacheCapacity(h.clusterSize));
  }

  /** The L2 table for `l1Index`, or null when unallocated. */
  async table(l1Index: number): Promise<DataView | null> {
    if (l1Index >= this.h.l1Size) return null;
    const hi = this.l1.getUint32(l1Index * 8);
    const lo = this.l1.getUint32(l1Index * 8 + 4);
    const off = entryOffset(hi, lo);
    if (off === 0) return null;
    const cached = this.cache.get(off);
    if (cached) return cached;
    if (off % this.h.clusterSize !== 0 || (lo & 0x1ff) !== 0) {
      throw fail('CORRUPT', `L2 table offset 0x${off.toString(16)} is not cluster aligned`);
    }
    if (off + this.h.clusterSize > this.h.fileSize) {
      throw fail('CORRUPT', `L2 table at 0x${off.toString(16)} lies past the end of the file`);
    }
    const buf = await readExact(this.dev, this.h.clusterSize, off, 'L2 table');
    const view = new DataView(buf.buffer);
    this.cache.set(off, view);
    return view;
  }

  /** Resolves `[guestOffset, guestOffset + length)` into merged segments. */
  async resolve(guestOffset: number, length: number): Promise<Segment[]> {
    const h = this.h;
    const cs = h.clusterSize;
    const out: Segment[] = [];
    const end = guestOffset + length;
    let pos = guestOffset;
    while (pos < end) {
      const ci = Math.floor(pos / cs);
      const l1i = Math.floor(ci / h.l2Entries);
      const table = await this.table(l1i);
      if (!table) {
        const stop = Math.min(end, (l1i + 1) * h.l2Entries * cs);
        push(out, { kind: 'unallocated', guest: pos, length: stop - pos });
        pos = stop;
        continue;
      }
      const stop = Math.min(end, (ci + 1) * cs);
      this.entry(table, ci, pos, stop, out);
      pos = stop;
    }
    return out;
  }

  private entry(table: DataView, ci: number, pos: number, stop: number, out: Segment[]): void {
    const h = this.h;
    const cs = h.clusterSize;
    const at = (ci % h.l2Entries) * h.l2EntrySize;
    const hi = table.getUint32(at);
    const lo = table.getUint32(at + 4);
    const clusterGuest = ci * cs;
    if (hi & COMPRESSED_HI) {
      const ref = decodeCompressed(hi, lo, h.clusterBits);
      if (ref.offset >= h.fileSize) {
        throw fail(
          'CORRUPT',
          `Compressed cluster at 0x${ref.offset.toString(16)} lies past the end`
        );
      }
      push(out, { kind: 'compressed', guest: pos, length: stop - pos, clusterGuest, ref });
      return;
    }
    const host = entryOffset(hi, lo);
    if (!h.extendedL2) {
      if (lo & ZERO_LO) push(out, { kind: 'zero', guest: pos, length: stop - pos });
      else if (host === 0) push(out, { kind: 'unallocated', guest: pos, length: stop - pos });
      else {
        this.checkHost(host);
        push(out, {
          kind: 'data',
          guest: pos,
          length: stop - pos,
          host: host + (pos - clusterGuest),
        });
      }
      return;
    }
    const allocBits = table.getUint32(at + 12);
    const zeroBits = table.getUint32(at + 8);
    if (allocBits & zeroBits) throw fail('CORRUPT', 'Corrupted subcluster allocation bitmap');
    if (allocBits !== 0) {
      if (host === 0) throw fail('CORRUPT', 'Allocated subclusters without a host cluster');
      this.checkHost(host);
    }
    const sc = cs / 32;
    let p = pos;
    while (p < stop) {
      const si = Math.floor((p - clusterGuest) / sc);
      const e = Math.min(stop, clusterGuest + (si + 1) * sc);
      const bit = 1 << si;
      if (allocBits & bit) {
        push(out, { kind: 'data', guest: p, length: e - p, host: host + (p - clusterGuest) });
      } else if (zeroBits & bit) push(out, { kind: 'zero', guest: p, length: e - p });
      else push(out, { kind: 'unallocated', guest: p, length: e - p });
      p = e;
    }
  }

  private checkHost(host: number): void {
    if (host % this.h.clusterSize !== 0) {
      throw fail('CORRUPT', `Data cluster offset 0x${host.toString(16)} is not cluster aligned`);
    }
    if (host >= this.h.fileSize) {
      throw fail('CORRUPT', `Data cluster at 0x${host.toString(16)} lies past the end of the file`);
    }
  }
}

function push(out: Segment[], s: Segment): void {
  const last = out[out.length - 1];
  if (last && last.kind === s.kind && last.guest + last.length === s.guest) {
    if (last.kind === 'data' && s.kind === 'data') {
      if (last.host + last.length === s.host) {
        last.length += s.length;
        return;
      }
    } else if (last.kind !== 'compressed') {
      last.length += s.length;
      return;
    }
  }
  out.push(s);
}

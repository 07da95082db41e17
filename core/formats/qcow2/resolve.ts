/**
 * Guest → host translation through L1/L2 (docs/spec/qcow2.md §5–§7), producing coalesced
 * segments so a large read becomes few device reads.
 *
 * The walk is per L2 table, not per cluster: a cached table is scanned synchronously as a
 * typed-array loop (runs of all-zero entries are skipped word by word) and merged segments
 * are built directly, so mapping a sparse multi-GiB image allocates a handful of objects.
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

/** A loaded L2 table: big-endian accessors plus native words for zero tests. */
interface L2Table {
  view: DataView;
  words: Uint32Array;
}

const TWO32 = 4294967296;

/**
 * Host byte offset of a compressed L2 entry (§6): the same value as
 * `decodeCompressed(hi, lo, clusterBits).offset` without BigInt. With cluster_bits 9..21 the
 * offset has 49..61 bits, i.e. 17..29 bits of `hi`; the product below is exact and the sum
 * rounds like `Number(bigint)` (to nearest, ties to even).
 */
export function compressedOffset(hi: number, lo: number, clusterBits: number): number {
  const hiBits = 62 - (clusterBits - 8) - 32;
  return (hi & ((1 << hiBits) - 1)) * TWO32 + (lo >>> 0);
}

// Run kinds while scanning (small integers keep the hot loop monomorphic).
const DATA = 0;
const ZERO = 1;
const UNALLOC = 2;

/**
 * Builds merged segments: a run grows while kind (and for data, host contiguity) allows.
 * With `forMap`, compressed clusters are reported as `data`, data runs merge regardless of
 * host offsets and their `host` is -1 (map() only needs what reads as data).
 */
class Runs {
  readonly out: Segment[] = [];
  private kind = -1;
  private guest = 0;
  private length = 0;
  private host = 0;

  constructor(readonly forMap: boolean) {}

  add(kind: number, guest: number, length: number, host: number): void {
    if (
      kind === this.kind &&
      this.guest + this.length === guest &&
      (kind !== DATA || this.forMap || this.host + this.length === host)
    ) {
      this.length += length;
      return;
    }
    this.flush();
    this.kind = kind;
    this.guest = guest;
    this.length = length;
    this.host = host;
  }

  /** A compressed cluster (never merged with neighbours). */
  compressed(guest: number, length: number, clusterGuest: number, ref: CompressedRef): void {
    this.flush();
    this.out.push({ kind: 'compressed', guest, length, clusterGuest, ref });
  }

  finish(): Segment[] {
    this.flush();
    return this.out;
  }

  private flush(): void {
    const { guest, length } = this;
    if (this.kind === DATA) {
      this.out.push({ kind: 'data', guest, length, host: this.forMap ? -1 : this.host });
    } else if (this.kind === ZERO) this.out.push({ kind: 'zero', guest, length });
    else if (this.kind === UNALLOC) this.out.push({ kind: 'unallocated', guest, length });
    this.kind = -1;
  }
}

export class L2Resolver {
  private readonly cache: Lru<number, L2Table>;

  constructor(
    private readonly dev: BlockDevice,
    private readonly h: Qcow2Header,
    private readonly l1: DataView
  ) {
    this.cache = new Lru(l2CacheCapacity(h.clusterSize));
  }

  /** The L2 table for `l1Index`, or null when unallocated. */
  async table(l1Index: number): Promise<DataView | null> {
    let t = this.cached(l1Index);
    if (t === undefined) t = await this.load(l1Index);
    return t === null ? null : t.view;
  }

  /** Without I/O: the cached table, null when unallocated, undefined when not cached. */
  private cached(l1Index: number): L2Table | null | undefined {
    if (l1Index >= this.h.l1Size) return null;
    const off = entryOffset(this.l1.getUint32(l1Index * 8), this.l1.getUint32(l1Index * 8 + 4));
    if (off === 0) return null;
    return this.cache.get(off);
  }

  /** Validates and reads the (allocated, uncached) table of `l1Index`. */
  private async load(l1Index: number): Promise<L2Table> {
    const lo = this.l1.getUint32(l1Index * 8 + 4);
    const off = entryOffset(this.l1.getUint32(l1Index * 8), lo);
    if (off % this.h.clusterSize !== 0 || (lo & 0x1ff) !== 0) {
      throw fail('CORRUPT', `L2 table offset 0x${off.toString(16)} is not cluster aligned`);
    }
    if (off + this.h.clusterSize > this.h.fileSize) {
      throw fail('CORRUPT', `L2 table at 0x${off.toString(16)} lies past the end of the file`);
    }
    const buf = await readExact(this.dev, this.h.clusterSize, off, 'L2 table');
    const t: L2Table = {
      view: new DataView(buf.buffer, buf.byteOffset, buf.byteLength),
      words: new Uint32Array(buf.buffer, buf.byteOffset, buf.byteLength >>> 2),
    };
    this.cache.set(off, t);
    return t;
  }

  /** Resolves `[guestOffset, guestOffset + length)` into merged segments. */
  resolve(guestOffset: number, length: number): Promise<Segment[]> {
    return this.walk(guestOffset, length, new Runs(false));
  }

  /**
   * Like `resolve`, for map(): compressed clusters come back as `data` and data segments
   * merge across host discontinuities (their `host` is -1). Validation is the same.
   */
  mapSegments(guestOffset: number, length: number): Promise<Segment[]> {
    return this.walk(guestOffset, length, new Runs(true));
  }

  private async walk(guestOffset: number, length: number, runs: Runs): Promise<Segment[]> {
    const h = this.h;
    const span = h.l2Entries * h.clusterSize;
    const end = guestOffset + length;
    let pos = guestOffset;
    while (pos < end) {
      const ci = Math.floor(pos / h.clusterSize);
      const l1i = Math.floor(ci / h.l2Entries);
      const stop = Math.min(end, (l1i + 1) * span);
      let t = this.cached(l1i);
      if (t === undefined) t = await this.load(l1i);
      if (t === null) runs.add(UNALLOC, pos, stop - pos, 0);
      else this.scan(t, l1i * h.l2Entries, ci, pos, stop, runs);
      pos = stop;
    }
    return runs.finish();
  }

  /** Scans clusters `ci..` of one table (first cluster index `base`) over `[pos, end)`. */
  private scan(t: L2Table, base: number, ci: number, pos: number, end: number, runs: Runs): void {
    const cs = this.h.clusterSize;
    const words = t.words;
    const step = this.h.l2EntrySize >>> 2;
    const last = Math.ceil(end / cs);
    const wEnd = (last - base) * step;
    let w = (ci - base) * step;
    let p = pos;
    while (w < wEnd) {
      // An all-zero entry is unallocated (standard and extended alike): skip the whole run
      // with inline word tests (this loop is most of a sparse image's work).
      let z = w;
      if (step === 2) while (z < wEnd && (words[z]! | words[z + 1]!) === 0) z += 2;
      else
        while (z < wEnd && (words[z]! | words[z + 1]! | words[z + 2]! | words[z + 3]!) === 0)
          z += 4;
      if (z > w) {
        const e = Math.min(end, (base + z / step) * cs);
        runs.add(UNALLOC, p, e - p, 0);
        p = e;
        w = z;
        continue;
      }
      const c = base + w / step;
      if (step === 2) {
        // A run of normal data clusters (host-contiguous unless mapping) is one add.
        const d = this.dataRun(t.view, w, wEnd, runs.forMap);
        if (d > w) {
          const e = Math.min(end, (base + d / 2) * cs);
          const host = entryOffset(t.view.getUint32(w << 2), t.view.getUint32((w << 2) + 4));
          runs.add(DATA, p, e - p, host + (p - c * cs));
          p = e;
          w = d;
          continue;
        }
      }
      const e = Math.min(end, (c + 1) * cs);
      this.entry(t.view, w << 2, c * cs, p, e, runs);
      p = e;
      w += step;
    }
  }

  /**
   * Standard entries from word `w` on that are normal data clusters (not compressed, no zero
   * flag, host set; each host after the first one cluster past the previous unless
   * `anyHost`), each validated in order like `entry()` does. Returns the word after the run.
   */
  private dataRun(view: DataView, w: number, wEnd: number, anyHost: boolean): number {
    const cs = this.h.clusterSize;
    let prev = -1;
    let z = w;
    for (; z < wEnd; z += 2) {
      const hi = view.getUint32(z << 2);
      const lo = view.getUint32((z << 2) + 4);
      if (hi & COMPRESSED_HI || lo & ZERO_LO) break;
      const host = (hi & 0x00ffffff) * TWO32 + ((lo & 0xfffffe00) >>> 0); // entryOffset()
      if (host === 0 || (prev >= 0 && !anyHost && host !== prev + cs)) break;
      this.checkHost(host);
      prev = host;
    }
    return z;
  }

  /** One non-zero entry at byte `at`, for guest `[p, e)` of the cluster at `clusterGuest`. */
  private entry(
    table: DataView,
    at: number,
    clusterGuest: number,
    p: number,
    e: number,
    runs: Runs
  ): void {
    const h = this.h;
    const hi = table.getUint32(at);
    const lo = table.getUint32(at + 4);
    if (hi & COMPRESSED_HI) {
      const offset = compressedOffset(hi, lo, h.clusterBits);
      if (offset >= h.fileSize) {
        throw fail('CORRUPT', `Compressed cluster at 0x${offset.toString(16)} lies past the end`);
      }
      if (runs.forMap) runs.add(DATA, p, e - p, -1);
      else runs.compressed(p, e - p, clusterGuest, decodeCompressed(hi, lo, h.clusterBits));
      return;
    }
    const host = entryOffset(hi, lo);
    if (!h.extendedL2) {
      if (lo & ZERO_LO) runs.add(ZERO, p, e - p, 0);
      else if (host === 0) runs.add(UNALLOC, p, e - p, 0);
      else {
        this.checkHost(host);
        runs.add(DATA, p, e - p, host + (p - clusterGuest));
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
    // A cluster whose subclusters all agree is one run (as 32 merged ones would be).
    if (allocBits === 0xffffffff) {
      runs.add(DATA, p, e - p, host + (p - clusterGuest));
      return;
    }
    if (zeroBits === 0xffffffff || (allocBits | zeroBits) === 0) {
      runs.add(zeroBits !== 0 ? ZERO : UNALLOC, p, e - p, 0);
      return;
    }
    const sc = h.clusterSize / 32;
    let s = p;
    while (s < e) {
      const si = Math.floor((s - clusterGuest) / sc);
      const se = Math.min(e, clusterGuest + (si + 1) * sc);
      const bit = 1 << si;
      if (allocBits & bit) runs.add(DATA, s, se - s, host + (s - clusterGuest));
      else if (zeroBits & bit) runs.add(ZERO, s, se - s, 0);
      else runs.add(UNALLOC, s, se - s, 0);
      s = se;
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

/**
 * Writing guest data into a qcow2 image we created (docs/spec/qcow2.md §5, §8, §9;
 * docs/spec/qcow2-luks.md §3, §7; docs/spec/legacy-aes.md §1): whole-cluster allocation, contiguous runs,
 * all-zero clusters skipped, exact refcounts and COPIED flags, metadata written at flush.
 */
import { fail } from '../../api/errors.js';
import { readExact, type BlockDevice } from '../../io/block-device.js';
import type { DataCipher } from '../../crypto/data-cipher.js';
import { encryptThenWrite } from '../encryption.js';
import type { GuestWriter } from '../image.js';
import { ClusterAllocator, WRITER_REFCOUNT_ORDER } from './allocator.js';
import { COPIED_HI, entryOffset, writeU64 } from './entries.js';
import { buildHeader, type HeaderFields } from './header-write.js';
import { Lru } from './lru.js';
import { l2CacheCapacity } from './resolve.js';
import { isShared } from '../../crypto/crypto-pool.js';

interface L2Slot {
  host: number;
  table: Uint8Array;
  dirty: boolean;
}

/** Clusters of one write() bound for consecutive host clusters. */
interface Run {
  chunks: Uint8Array[];
  host: number;
  guest: number;
}

/** Largest run of clusters encrypted and written in one go. */
const MAX_RUN_BYTES = 16 * 1024 * 1024;

export interface WriterState {
  header: Omit<HeaderFields, 'refcountTableOffset' | 'refcountTableClusters' | 'refcountOrder'>;
  l1: Uint8Array;
  alloc: ClusterAllocator;
  cipher?: DataCipher;
}

/** A `GuestWriter` for qcow2. `close()` flushes, disposes the cipher and closes `dev`. */
export class Qcow2Writer implements GuestWriter {
  readonly virtualSize: number;
  readonly granularity: number;
  private readonly cs: number;
  private readonly l2Entries: number;
  private readonly cache: Lru<number, L2Slot>;
  private readonly zero: Buffer;
  private closed = false;
  /**
   * Set by close(): later writes are refused; writes called before it are queued on the lock
   * ahead of close()'s flush, which then waits for their data.
   */
  private closing = false;
  /** Settles when the write() holding the metadata lock releases it. */
  private metaLock: Promise<void> = Promise.resolve();
  /** Data writes under way (flush waits for them). */
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Calls may overlap: the copy loop keeps this many in flight (see write()). */
  readonly concurrentWrites = 4;

  constructor(
    private readonly dev: BlockDevice,
    private readonly st: WriterState
  ) {
    this.cs = 2 ** st.header.clusterBits;
    this.virtualSize = st.header.size;
    this.granularity = this.cs;
    this.l2Entries = this.cs / 8;
    this.cache = new Lru(l2CacheCapacity(this.cs));
    this.zero = Buffer.alloc(this.cs);
  }

  /** Host offset of the L2 table for `l1i`, reading or creating it. */
  private async l2(l1i: number, create: boolean): Promise<L2Slot | undefined> {
    const hit = this.cache.get(l1i);
    if (hit) return hit;
    const l1v = new DataView(this.st.l1.buffer, this.st.l1.byteOffset);
    const host = entryOffset(l1v.getUint32(l1i * 8), l1v.getUint32(l1i * 8 + 4));
    let slot: L2Slot;
    if (host !== 0) {
      slot = { host, table: await readExact(this.dev, this.cs, host, 'L2 table'), dirty: false };
    } else {
      if (!create) return undefined;
      const h = this.st.alloc.alloc(1);
      slot = { host: h, table: new Uint8Array(this.cs), dirty: true };
      writeU64(l1v, l1i * 8, h);
      l1v.setUint32(l1i * 8, l1v.getUint32(l1i * 8) | COPIED_HI);
    }
    const evicted = this.cache.set(l1i, slot);
    if (evicted && evicted[1].dirty) await this.dev.write(evicted[1].table, evicted[1].host);
    return slot;
  }

  /** Host offset of guest cluster `ci`, or 0 when unallocated. */
  private async lookup(ci: number): Promise<number> {
    const slot = await this.l2(Math.floor(ci / this.l2Entries), false);
    if (!slot) return 0;
    const v = new DataView(slot.table.buffer);
    const at = (ci % this.l2Entries) * 8;
    return entryOffset(v.getUint32(at), v.getUint32(at + 4));
  }

  private isZero(chunk: Uint8Array): boolean {
    return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length).equals(
      this.zero.subarray(0, chunk.length)
    );
  }

  async write(buf: Uint8Array, guestOffset: number): Promise<void> {
    if (this.closed || this.closing) {
      throw fail('INVALID_ARGUMENT', 'The image writer is closed');
    }
    const cs = this.cs;
    const end = guestOffset + buf.length;
    if (guestOffset % cs !== 0 || guestOffset < 0 || end > this.virtualSize) {
      throw fail(
        'INVALID_ARGUMENT',
        `Write at ${guestOffset}+${buf.length} is not cluster aligned`
      );
    }
    if (buf.length % cs !== 0 && end !== this.virtualSize) {
      throw fail('INVALID_ARGUMENT', 'Only the last cluster of the disk may be written short');
    }
    // Metadata (lookups, allocation, L2 tables) changes under the lock, one call at a time;
    // the data of concurrent calls then goes to disk (and through the crypto pool) in
    // parallel. The new L2 entries only reach the disk at flush(), which waits for the data.
    const unlock = await this.lock();
    let io: Promise<void>;
    try {
      const runs = await this.plan(buf, guestOffset);
      // Registered before the lock is released: a flush() (which takes the lock first) then
      // always waits for this data. Every run settles before the call does.
      io = Promise.allSettled(runs.map((r) => this.writeRun(r.chunks, r.host, r.guest))).then(
        (results) => {
          const failed = results.find((r) => r.status === 'rejected');
          if (failed) throw failed.reason;
        }
      );
      this.inFlight.add(io);
    } finally {
      unlock();
    }
    try {
      await io;
    } finally {
      this.inFlight.delete(io);
    }
  }

  /** Waits for the metadata lock; returns its release. */
  private async lock(): Promise<() => void> {
    const prev = this.metaLock;
    let release = () => {};
    this.metaLock = new Promise<void>((r) => (release = r));
    await prev;
    return release;
  }

  /**
   * Where each non-zero cluster of `buf` goes: existing clusters in place, new ones allocated
   * as contiguous runs (L2 tables created first so data stays contiguous) with their L2
   * entries set. Zero clusters that are not allocated yet are skipped.
   */
  private async plan(buf: Uint8Array, guestOffset: number): Promise<Run[]> {
    const cs = this.cs;
    const n = Math.ceil(buf.length / cs);
    const chunk = (i: number) => buf.subarray(i * cs, Math.min(buf.length, (i + 1) * cs));
    const ci0 = guestOffset / cs;
    const runs: Run[] = [];
    let i = 0;
    while (i < n) {
      const existing = await this.lookup(ci0 + i);
      if (existing !== 0) {
        runs.push({ chunks: [chunk(i)], host: existing, guest: guestOffset + i * cs });
        i++;
        continue;
      }
      if (this.isZero(chunk(i))) {
        i++;
        continue;
      }
      const run: Uint8Array[] = [];
      let j = i;
      while (j < n && run.length * cs < MAX_RUN_BYTES) {
        if (j > i && ((await this.lookup(ci0 + j)) !== 0 || this.isZero(chunk(j)))) break;
        await this.l2(Math.floor((ci0 + j) / this.l2Entries), true);
        run.push(chunk(j));
        j++;
      }
      const host = this.st.alloc.alloc(run.length);
      for (let k = 0; k < run.length; k++) await this.setEntry(ci0 + i + k, host + k * cs);
      runs.push({ chunks: run, host, guest: guestOffset + i * cs });
      i = j;
    }
    return runs;
  }

  private async setEntry(ci: number, host: number): Promise<void> {
    const slot = await this.l2(Math.floor(ci / this.l2Entries), true);
    if (!slot) throw fail('INTERNAL', 'L2 table missing');
    const v = new DataView(slot.table.buffer);
    const at = (ci % this.l2Entries) * 8;
    writeU64(v, at, host);
    v.setUint32(at, v.getUint32(at) | COPIED_HI);
    slot.dirty = true;
  }

  /** Writes whole clusters (zero-padded, encrypted when needed) at `host`. */
  private async writeRun(chunks: Uint8Array[], host: number, guest: number): Promise<void> {
    const cs = this.cs;
    const c = this.st.cipher;
    let data = contiguousRun(chunks, cs);
    // Unencrypted data is written from the caller's buffer as is; encrypted data only when
    // the buffer is shared memory the pool encrypts in place (GuestWriter.write may use the
    // caller's buffer as scratch). Otherwise copy into a fresh zero-padded run.
    if (!data || (c && !isShared(data))) {
      data = new Uint8Array(chunks.length * cs);
      chunks.forEach((chunk, k) => data?.set(chunk, k * cs));
    }
    if (!c) return this.dev.write(data, host);
    const iv = (this.st.header.cryptMethod === 2 ? host : guest) / 512;
    await encryptThenWrite(c, data, iv, (enc, off) => this.dev.write(enc, host + off));
  }

  /** Writes all metadata (a fully valid image for everything written so far) and fsyncs. */
  async flush(): Promise<void> {
    const unlock = await this.lock();
    try {
      await Promise.allSettled([...this.inFlight]);
      await this.writeMetadata();
    } finally {
      unlock();
    }
  }

  private async writeMetadata(): Promise<void> {
    const cs = this.cs;
    for (const slot of this.cache.values()) {
      if (slot.dirty) {
        await this.dev.write(slot.table, slot.host);
        slot.dirty = false;
      }
    }
    const a = this.st.alloc;
    await a.writeRefcounts(this.dev);
    await this.dev.write(this.st.l1, this.st.header.l1TableOffset);
    const hdr = buildHeader({
      ...this.st.header,
      refcountTableOffset: a.reftableCluster * cs,
      refcountTableClusters: a.reftableClusters,
      refcountOrder: WRITER_REFCOUNT_ORDER,
    });
    await this.dev.write(hdr, 0);
    if ((await this.dev.size()) < a.end * cs) await this.dev.truncate(a.end * cs);
    await this.dev.flush();
  }

  async close(): Promise<void> {
    if (this.closed || this.closing) return;
    this.closing = true;
    try {
      await this.flush();
    } finally {
      this.closed = true;
      await this.st.cipher?.dispose();
      await this.dev.close();
    }
  }
}

/** The clusters as one view when they are consecutive full clusters of one buffer. */
function contiguousRun(chunks: Uint8Array[], cs: number): Uint8Array | undefined {
  const first = chunks[0];
  if (!first) return undefined;
  for (let k = 0; k < chunks.length; k++) {
    const c = chunks[k] as Uint8Array;
    if (
      c.buffer !== first.buffer ||
      c.byteOffset !== first.byteOffset + k * cs ||
      c.length !== cs
    ) {
      return undefined;
    }
  }
  return new Uint8Array(first.buffer, first.byteOffset, chunks.length * cs);
}

/**
 * Test-only fakes of `GuestReader`/`GuestWriter` (core/formats/image.ts): an in-memory image
 * with per-cluster allocation, instrumented to count reads, writes and concurrency, with
 * optional delays and failure injection; and a raw-file writer/reader over real files.
 */
import { fail } from '../api/errors.js';
import type { Extent, GuestReader, GuestWriter } from '../formats/image.js';
import { FileDevice } from '../io/file-device.js';

export interface FakeStats {
  reads: Array<{ offset: number; length: number }>;
  writes: Array<{ offset: number; length: number }>;
  flushes: number;
  /** Distinct ArrayBuffers passed to `read` (bounds the copy loop's buffers). */
  readBuffers: Set<ArrayBufferLike>;
  activeWrites: number;
  maxActiveWrites: number;
  /** Reads that started while a write was active (proves read/write overlap). */
  readsDuringWrite: number;
}

export interface FakeOptions {
  /** Delay each write by this many ms (setTimeout), to make overlap observable. */
  writeDelayMs?: number;
  /** Delay each read by this many ms (setTimeout), like real I/O. */
  readDelayMs?: number;
  /** Throw `IO` ("simulated kill") on the write after this many successful writes. */
  failAfterWrites?: number;
  /** Shared stats object (e.g. to watch reads and writes together). */
  stats?: FakeStats;
}

export function newStats(): FakeStats {
  return {
    reads: [],
    writes: [],
    flushes: 0,
    readBuffers: new Set(),
    activeWrites: 0,
    maxActiveWrites: 0,
    readsDuringWrite: 0,
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** An image in memory: guest bytes plus which clusters are allocated. */
export class MemoryImage {
  readonly data: Uint8Array;
  readonly allocated: boolean[];

  constructor(
    readonly virtualSize: number,
    readonly granularity = 65536
  ) {
    this.data = new Uint8Array(virtualSize);
    this.allocated = new Array<boolean>(Math.ceil(virtualSize / granularity)).fill(false);
  }

  /** Writes `bytes` at `offset` and marks the clusters allocated (test setup). */
  put(offset: number, bytes: Uint8Array): void {
    this.data.set(bytes, offset);
    this.markAllocated(offset, bytes.length);
  }

  /** Marks clusters allocated without changing data (allocated zeros). */
  markAllocated(offset: number, length: number): void {
    const first = Math.floor(offset / this.granularity);
    const last = Math.ceil((offset + length) / this.granularity);
    for (let c = first; c < last; c++) this.allocated[c] = true;
  }

  reader(opts: FakeOptions = {}): GuestReader & { stats: FakeStats } {
    const stats = opts.stats ?? newStats();
    const { data, allocated, virtualSize, granularity } = this;
    return {
      format: 'qcow2',
      virtualSize,
      granularity,
      stats,
      async read(buf, off) {
        if (off < 0 || off + buf.length > virtualSize) throw fail('INTERNAL', 'read out of range');
        stats.reads.push({ offset: off, length: buf.length });
        stats.readBuffers.add(buf.buffer);
        if (stats.activeWrites > 0) stats.readsDuringWrite++;
        await (opts.readDelayMs
          ? new Promise((r) => setTimeout(r, opts.readDelayMs))
          : Promise.resolve());
        if (stats.activeWrites > 0) stats.readsDuringWrite++;
        buf.set(data.subarray(off, off + buf.length));
      },
      async map(off, len) {
        const out: Extent[] = [];
        const end = Math.min(off + len, virtualSize);
        for (let p = off; p < end;) {
          const c = Math.floor(p / granularity);
          const kind = allocated[c] ? 'data' : 'zero';
          const next = Math.min((c + 1) * granularity, end);
          const last = out[out.length - 1];
          if (last && last.kind === kind) last.length += next - p;
          else out.push({ offset: p, length: next - p, kind });
          p = next;
        }
        return out;
      },
      async close() {},
    };
  }

  writer(opts: FakeOptions = {}): GuestWriter & { stats: FakeStats } {
    const stats = opts.stats ?? newStats();
    const { virtualSize, granularity } = this;
    const put = (off: number, buf: Uint8Array) => this.put(off, buf);
    let okWrites = 0;
    return {
      virtualSize,
      granularity,
      stats,
      async write(buf, off) {
        if (off % granularity !== 0) throw fail('INTERNAL', `unaligned write at ${off}`);
        if (off + buf.length > virtualSize) throw fail('INTERNAL', 'write out of range');
        if (opts.failAfterWrites !== undefined && okWrites >= opts.failAfterWrites) {
          throw fail('IO', 'simulated kill');
        }
        stats.activeWrites++;
        stats.maxActiveWrites = Math.max(stats.maxActiveWrites, stats.activeWrites);
        try {
          if (opts.writeDelayMs) await sleep(opts.writeDelayMs);
          stats.writes.push({ offset: off, length: buf.length });
          put(off, buf);
          okWrites++;
        } finally {
          stats.activeWrites--;
        }
      },
      async flush() {
        stats.flushes++;
      },
      async close() {},
    };
  }
}

/**
 * A raw image file as a `GuestWriter`: for end-to-end tests of the job engine with real
 * temp files (the actual raw format lives in core/formats/raw).
 */
export async function rawFileWriter(
  path: string,
  virtualSize: number,
  opts: { create: boolean; failAfterWrites?: number; granularity?: number }
): Promise<GuestWriter & { writes: number }> {
  const dev = await FileDevice.open(
    path,
    // The partial exists already (withPartialOutput claims it): creating empties it.
    opts.create ? { createTruncate: true } : { write: true }
  );
  if (opts.create) await dev.truncate(virtualSize);
  const w = {
    virtualSize,
    granularity: opts.granularity ?? 65536,
    writes: 0,
    async write(buf: Uint8Array, off: number) {
      if (opts.failAfterWrites !== undefined && w.writes >= opts.failAfterWrites) {
        throw fail('IO', 'simulated kill');
      }
      await dev.write(buf, off);
      w.writes++;
    },
    flush: () => dev.flush(),
    close: () => dev.close(),
  };
  return w;
}

/** A raw image file as a `GuestReader` (everything is data; no hole detection). */
export async function rawFileReader(path: string): Promise<GuestReader> {
  const dev = await FileDevice.open(path);
  const size = await dev.size();
  return {
    format: 'raw',
    virtualSize: size,
    granularity: 65536,
    async read(buf, off) {
      const n = await dev.read(buf, off);
      buf.fill(0, n);
    },
    async map(off, len) {
      return [{ offset: off, length: Math.min(len, size - off), kind: 'data' }];
    },
    close: () => dev.close(),
  };
}

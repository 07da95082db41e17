/** Raw images: guest bytes are file bytes (no metadata). */
import { fail } from '../../api/errors.js';
import { readOrZero, type BlockDevice } from '../../io/block-device.js';
import type { Extent, GuestReader, GuestWriter } from '../image.js';
import type { DataSeeker } from '../../io/native/seek-data.js';

/**
 * Granularity reported for raw images: data runs found with `SEEK_DATA`/`SEEK_HOLE` are
 * widened to it, so reads stay large and holes smaller than it are read (as zeros).
 */
export const RAW_GRANULARITY = 65536;
/** Zero-skipping unit of raw outputs: the 4 KiB of `qemu-img convert`'s default `-S`. */
const RAW_SPARSE_UNIT = 4096;

export interface RawImage extends GuestReader {
  readonly format: 'raw';
  /** The underlying device (for callers that need the file length). */
  readonly device: BlockDevice;
}

function checkRange(offset: number, length: number, size: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || length < 0 || offset + length > size) {
    throw fail(
      'INVALID_ARGUMENT',
      `Guest range ${offset}+${length} lies outside the disk (${size})`
    );
  }
}

/** Opens `dev` as a raw disk whose virtual size is the file length. `close()` closes `dev`. */
export async function openRaw(dev: BlockDevice): Promise<RawImage> {
  const virtualSize = await dev.size();
  // Holes read as zeros: map them as zero extents (a file system that reports no holes,
  // or a device without any, maps as all data, read and zero-detected by the copy loop).
  const seeker = dev.dataSeeker ? await dev.dataSeeker() : undefined;
  const holes = seeker?.holesReported ? seeker : undefined;
  return {
    format: 'raw',
    device: dev,
    virtualSize,
    granularity: RAW_GRANULARITY,
    read: async (buf, off) => {
      checkRange(off, buf.length, virtualSize);
      await readOrZero(dev, buf, off);
    },
    map: async (offset, length): Promise<Extent[]> => {
      checkRange(offset, length, virtualSize);
      if (length === 0) return [];
      if (!holes) return [{ offset, length, kind: 'data' }];
      return holeExtents(holes, offset, offset + length, RAW_GRANULARITY);
    },
    close: () => dev.close(),
  };
}

/**
 * `[offset, end)` as data and zero extents from `seeker`, data runs widened to whole
 * `granularity` units (clipped to the range); consecutive data runs are merged.
 */
export function holeExtents(
  seeker: DataSeeker,
  offset: number,
  end: number,
  granularity: number
): Extent[] {
  const out: Extent[] = [];
  const push = (start: number, stop: number, kind: Extent['kind']) => {
    if (stop <= start) return;
    const last = out[out.length - 1];
    if (last && last.kind === kind && last.offset + last.length === start) {
      last.length = stop - last.offset;
    } else out.push({ offset: start, length: stop - start, kind });
  };
  let pos = offset;
  while (pos < end) {
    const d = seeker.nextData(pos);
    if (d === undefined || d >= end) {
      push(pos, end, 'zero');
      break;
    }
    const start = Math.max(pos, d - (d % granularity));
    push(pos, start, 'zero');
    const h = Math.max(d + 1, seeker.nextHole(d) ?? end);
    const stop = Math.min(end, Math.ceil(h / granularity) * granularity);
    push(start, stop, 'data');
    pos = stop;
  }
  return out;
}

class RawWriter implements GuestWriter {
  readonly granularity = RAW_GRANULARITY;
  /** Writes touch only their own range: two may run at once. */
  readonly concurrentWrites = 2;
  private readonly zero = Buffer.alloc(RAW_GRANULARITY);
  constructor(
    private readonly dev: BlockDevice,
    readonly virtualSize: number,
    /** After a reopen, skipped zero blocks may hold stale bytes: check and clear them. */
    private readonly verifyZeros = false
  ) {}

  async write(buf: Uint8Array, guestOffset: number): Promise<void> {
    checkRange(guestOffset, buf.length, this.virtualSize);
    // Skip all-zero blocks (the file is sparse), write the rest in coalesced runs. A fresh
    // output skips 4 KiB zero blocks as `qemu-img convert` does; a reopened one checks whole
    // granules against what may be stale there.
    let runStart = -1;
    const g = this.verifyZeros ? this.granularity : RAW_SPARSE_UNIT;
    for (let p = 0; p <= buf.length; p += g) {
      const n = Math.min(buf.length, p + g) - p;
      // A block whose first byte is set is data: no comparison needed (dense data).
      const zero =
        n === 0 ||
        (buf[p] === 0 &&
          Buffer.from(buf.buffer, buf.byteOffset + p, n).equals(this.zero.subarray(0, n)));
      if (zero && this.verifyZeros && n > 0) await this.clearStale(n, guestOffset + p);
      if (!zero && runStart < 0) runStart = p;
      if (zero && runStart >= 0) {
        await this.dev.write(buf.subarray(runStart, p), guestOffset + runStart);
        runStart = -1;
      }
    }
    if (runStart >= 0) await this.dev.write(buf.subarray(runStart), guestOffset + runStart);
  }

  private async clearStale(length: number, position: number): Promise<void> {
    const old = new Uint8Array(length);
    await readOrZero(this.dev, old, position);
    if (!Buffer.from(old.buffer).equals(this.zero.subarray(0, length))) {
      await this.dev.write(new Uint8Array(length), position);
    }
  }

  async flush(): Promise<void> {
    await this.dev.flush();
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.dev.close();
    }
  }
}

/**
 * Creates a sparse raw image: truncates `dev` to `virtualSize`; all-zero blocks are never
 * written. Writes must target ranges not written before (zeros are skipped, not written).
 */
export async function createRaw(dev: BlockDevice, virtualSize: number): Promise<GuestWriter> {
  if (!Number.isSafeInteger(virtualSize) || virtualSize < 0) {
    throw fail('INVALID_ARGUMENT', 'Invalid virtual size');
  }
  await dev.truncate(0);
  await dev.truncate(virtualSize);
  // qemu-img allocates the first block of every raw file it creates (written zeros, for its
  // alignment probe); so do we, so our raw outputs map exactly as its do (`qemu-img map`).
  if (virtualSize > 0) await dev.write(new Uint8Array(Math.min(RAW_SPARSE_UNIT, virtualSize)), 0);
  return new RawWriter(dev, virtualSize);
}

/** Reopens a raw image being written (resumable conversion); fixes its length if needed. */
export async function reopenRawWriter(dev: BlockDevice, virtualSize: number): Promise<GuestWriter> {
  if ((await dev.size()) !== virtualSize) await dev.truncate(virtualSize);
  return new RawWriter(dev, virtualSize, true);
}

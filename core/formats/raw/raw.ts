/** Raw images: guest bytes are file bytes (no metadata). */
import { fail } from '../../api/errors.js';
import { readOrZero, type BlockDevice } from '../../io/block-device.js';
import type { Extent, GuestReader, GuestWriter } from '../image.js';

/** Granularity reported for raw images (Node has no SEEK_DATA, so everything is data). */
export const RAW_GRANULARITY = 65536;

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
      return length === 0 ? [] : [{ offset, length, kind: 'data' }];
    },
    close: () => dev.close(),
  };
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
    // Skip all-zero blocks (the file is sparse), write the rest in coalesced runs.
    let runStart = -1;
    const g = this.granularity;
    for (let p = 0; p <= buf.length; p += g) {
      const chunk = buf.subarray(p, Math.min(buf.length, p + g));
      const zero =
        chunk.length === 0 ||
        Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length).equals(
          this.zero.subarray(0, chunk.length)
        );
      if (zero && this.verifyZeros && chunk.length > 0)
        await this.clearStale(chunk.length, guestOffset + p);
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
  return new RawWriter(dev, virtualSize);
}

/** Reopens a raw image being written (resumable conversion); fixes its length if needed. */
export async function reopenRawWriter(dev: BlockDevice, virtualSize: number): Promise<GuestWriter> {
  if ((await dev.size()) !== virtualSize) await dev.truncate(virtualSize);
  return new RawWriter(dev, virtualSize, true);
}

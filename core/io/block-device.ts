/**
 * Positional byte I/O over an image file (or memory, in tests).
 *
 * Every format reads and writes through this interface only, so formats can be tested on
 * in-memory devices and the file implementation stays the one place that touches `node:fs`.
 */
import { fail } from '../api/errors.js';
import type { DataSeeker } from './native/seek-data.js';

export interface BlockDevice {
  /** Path of the underlying file, when there is one (for messages and backing resolution). */
  readonly path: string | undefined;
  readonly writable: boolean;
  /** Current length in bytes. */
  size(): Promise<number>;
  /** Reads up to `buf.length` bytes at `position`; returns how many were read (short at EOF). */
  read(buf: Uint8Array, position: number): Promise<number>;
  /** Writes all of `buf` at `position`, extending the device when needed. */
  write(buf: Uint8Array, position: number): Promise<void>;
  truncate(length: number): Promise<void>;
  /**
   * Where the file's data and holes are (`SEEK_DATA`/`SEEK_HOLE`), for readers that skip
   * holes; absent on devices without holes (memory). Its answers hold until the next write.
   */
  dataSeeker?(): Promise<DataSeeker>;
  /** Durably flushes written data (fsync). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Reads exactly `length` bytes at `position` or throws `TRUNCATED` naming `what`.
 * The caller is responsible for bounding `length` by checked header fields.
 */
export async function readExact(
  dev: BlockDevice,
  length: number,
  position: number,
  what: string
): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  await readInto(dev, buf, position, what);
  return buf;
}

/** Fills `buf` from `position` or throws `TRUNCATED`. */
export async function readInto(
  dev: BlockDevice,
  buf: Uint8Array,
  position: number,
  what: string
): Promise<void> {
  const n = await dev.read(buf, position);
  if (n < buf.length) {
    throw fail(
      'TRUNCATED',
      `The file ends inside the ${what} (needed ${buf.length} bytes at offset ${position}, got ${n})`
    );
  }
}

/** Reads `buf.length` bytes, zero-filling whatever lies past the end of the device. */
export async function readOrZero(
  dev: BlockDevice,
  buf: Uint8Array,
  position: number
): Promise<void> {
  const n = await dev.read(buf, position);
  if (n < buf.length) buf.fill(0, Math.max(0, n));
}

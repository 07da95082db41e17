/**
 * Format-neutral views of an opened image, used by jobs (convert, migrate, verify) so that
 * they never need to know which container they read or write.
 */
import type { ImageFormat } from '../api/types.js';

/** What a guest byte range holds, after following the backing chain. */
export type ExtentKind = 'data' | 'zero';

export interface Extent {
  offset: number;
  length: number;
  kind: ExtentKind;
}

/** Read access to guest bytes of any supported image (decrypting when unlocked). */
export interface GuestReader {
  readonly format: ImageFormat;
  readonly virtualSize: number;
  /** Natural allocation unit (cluster size; 64 KiB for raw). Extents are aligned to it. */
  readonly granularity: number;
  /** Fills `buf` with guest bytes starting at `guestOffset` (must lie within virtualSize). */
  read(buf: Uint8Array, guestOffset: number): Promise<void>;
  /**
   * Describes `[offset, offset + length)` as consecutive extents. `zero` extents read as all
   * zeros and need not be read; `data` extents may still contain zeros. Unallocated ranges
   * are resolved through the backing chain.
   */
  map(offset: number, length: number): Promise<Extent[]>;
  close(): Promise<void>;
}

/** Write access to guest bytes of an image being produced (encrypting when encrypted). */
export interface GuestWriter {
  readonly virtualSize: number;
  /** Writes should be aligned to this unit (the last one may be short at the disk's end). */
  readonly granularity: number;
  /**
   * How many `write` calls may run at once on disjoint ranges (default 1: strictly one after
   * another). Stateless writers (raw) allow more so the disk sees a deeper queue.
   */
  readonly concurrentWrites?: number;
  /**
   * Writes guest bytes; allocates and (for encrypted images) encrypts as needed. The writer
   * may use `buf` as scratch (e.g. encrypt a shared-memory buffer in place): callers must not
   * rely on its contents afterwards.
   */
  write(buf: Uint8Array, guestOffset: number): Promise<void>;
  /** Flushes metadata and data durably (fsync). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

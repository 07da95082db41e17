/** `BlockDevice` over a file opened with `node:fs/promises`. */
import { open, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { toVaultError } from '../api/errors.js';
import type { BlockDevice } from './block-device.js';

export interface OpenFileOptions {
  /** Open read-write (default read-only: sources are never modified). */
  write?: boolean;
  /** Create the file; fails with EXISTS if it is already there. */
  createExclusive?: boolean;
  /** Create or truncate. */
  createTruncate?: boolean;
}

export class FileDevice implements BlockDevice {
  private constructor(
    readonly path: string,
    readonly writable: boolean,
    private readonly fh: FileHandle
  ) {}

  static async open(path: string, opts: OpenFileOptions = {}): Promise<FileDevice> {
    let flags = constants.O_RDONLY;
    const writable = Boolean(opts.write || opts.createExclusive || opts.createTruncate);
    if (writable) flags = constants.O_RDWR;
    if (opts.createExclusive) flags |= constants.O_CREAT | constants.O_EXCL;
    if (opts.createTruncate) flags |= constants.O_CREAT | constants.O_TRUNC;
    try {
      const fh = await open(path, flags, 0o600);
      return new FileDevice(path, writable, fh);
    } catch (e) {
      throw toVaultError(e);
    }
  }

  async size(): Promise<number> {
    return (await this.fh.stat()).size;
  }

  async read(buf: Uint8Array, position: number): Promise<number> {
    let done = 0;
    while (done < buf.length) {
      const { bytesRead } = await this.fh.read(buf, done, buf.length - done, position + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done;
  }

  async write(buf: Uint8Array, position: number): Promise<void> {
    let done = 0;
    try {
      while (done < buf.length) {
        const { bytesWritten } = await this.fh.write(buf, done, buf.length - done, position + done);
        done += bytesWritten;
      }
    } catch (e) {
      throw toVaultError(e);
    }
  }

  async truncate(length: number): Promise<void> {
    await this.fh.truncate(length);
  }

  async flush(): Promise<void> {
    await this.fh.sync();
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  /** Bytes actually allocated on disk (st_blocks × 512). */
  async allocatedBytes(): Promise<number> {
    return (await this.fh.stat()).blocks * 512;
  }
}

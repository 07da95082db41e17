/**
 * Opening an image file with its QEMU-compatible lock taken (docs/DESIGN.md "Data safety": every
 * open takes them). The lock lives exactly as long as the returned handle.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { fail, toVaultError } from '../api/errors.js';
import { lockImage, type LockMode, type LockOptions } from './image-lock.js';
import { imageUse, inUseMessage } from './image-use.js';
import { nonRegularKind, notRegularError, refuseNonRegular } from './file-kind.js';

export interface LockedOpenOptions extends LockOptions {
  /** Open read-write (default read-only). */
  write?: boolean;
  /** Create the file; fails with `EXISTS` (or `IMAGE_IN_USE` when someone holds it). */
  createExclusive?: boolean;
  /** Create it or empty it, once the lock is held (never before: a held file stays whole). */
  createTruncate?: boolean;
  /** Read while others write (`-U` / `--force-share`); reading opens only. */
  forceShare?: boolean;
  /** Mode of a created file. */
  mode?: number;
  /**
   * The lock to take, when it is not the one the open's access implies: `write` on a file
   * opened read-only holds off everyone else from a file about to be replaced.
   */
  lock?: LockMode;
}

/** The lock an open with `opts` takes. */
export function lockModeFor(opts: LockedOpenOptions): LockMode {
  if (opts.lock) return opts.lock;
  if (opts.write || opts.createExclusive || opts.createTruncate) return 'write';
  return opts.forceShare ? 'read-shared' : 'read';
}

/**
 * Opens `path` and locks it as `lockModeFor(opts)` says.
 * @throws `IMAGE_IN_USE` (someone holds it: a VM, qemu-img, another of our operations),
 *   `NATIVE_UNAVAILABLE` (no native route: nothing is opened unlocked), `EXISTS`,
 *   `NOT_FOUND`, `IO`.
 */
export async function openLockedFile(
  path: string,
  opts: LockedOpenOptions = {}
): Promise<FileHandle> {
  const mode = lockModeFor(opts);
  const writes = Boolean(opts.write || opts.createExclusive || opts.createTruncate);
  await refuseNonRegular(path);
  // O_NONBLOCK: should a FIFO appear between the check and the open, the open cannot hang.
  let flags = (writes ? constants.O_RDWR : constants.O_RDONLY) | constants.O_NONBLOCK;
  if (opts.createExclusive) flags |= constants.O_CREAT | constants.O_EXCL;
  if (opts.createTruncate) flags |= constants.O_CREAT; // truncated below, once locked
  let fh: FileHandle;
  try {
    fh = await open(path, flags, opts.mode ?? 0o600);
  } catch (e) {
    if ((e as { code?: string }).code === 'EEXIST') throw await existingFileError(path, e);
    throw toVaultError(e);
  }
  try {
    const kind = nonRegularKind(await fh.stat());
    if (kind) throw notRegularError(path, kind);
    await lockImage(fh, path, mode, opts);
    if (opts.createTruncate) await fh.truncate(0);
    return fh;
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw toVaultError(e);
  }
}

/** `EXISTS` for a file we meant to create, or `IMAGE_IN_USE` when someone holds it. */
async function existingFileError(path: string, cause: unknown) {
  const fh = await open(path, constants.O_RDONLY).catch(() => undefined);
  if (fh) {
    try {
      const use = await imageUse(fh);
      if (use) return fail('IMAGE_IN_USE', inUseMessage(path, 'write', use), cause);
    } catch {
      // cannot tell (no native route): the plain EXISTS below is true either way
    } finally {
      await fh.close().catch(() => undefined);
    }
  }
  return toVaultError(cause);
}

/** Whether `path` is held by anyone (as `imageUse` reports it); undefined when it is free. */
export async function fileUse(path: string) {
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY);
  } catch (e) {
    throw toVaultError(e);
  }
  try {
    return await imageUse(fh);
  } finally {
    await fh.close();
  }
}

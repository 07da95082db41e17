/**
 * Claiming a job's output name (`TARGET.partial`) so two of our jobs writing the same target
 * never delete or publish each other's work (README "Image locks"). The claim is an
 * exclusive OFD lock on one byte of the partial file that QEMU's scheme does not use, held
 * from before the job touches the partial until after it is renamed or removed; the image
 * locks of the partial's own opens (QEMU's bytes) work beside it.
 */
import { constants } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fail, toVaultError } from '../api/errors.js';
import { LOCK_WAIT_MS } from './image-lock.js';
import { F_WRLCK, ofdSetLock } from './native/ofd.js';

/**
 * The claimed byte: clear of libvirt's byte 0 and of QEMU's permission bytes (100 + bit and
 * 200 + bit, for up to 64 permission bits).
 */
export const OUTPUT_CLAIM_BYTE = 1000;

export interface OutputClaim {
  readonly path: string;
  /** The file did not exist: the claim created it empty. */
  readonly created: boolean;
  /** Empties the claimed file (a fresh start over a stale partial). */
  truncate(): Promise<void>;
  /** Lets go of the claim (after the rename or the removal). */
  release(): Promise<void>;
}

async function samePath(fh: FileHandle, path: string): Promise<boolean> {
  const [a, b] = await Promise.all([fh.stat(), stat(path).catch(() => undefined)]);
  return b !== undefined && a.dev === b.dev && a.ino === b.ino;
}

/**
 * Claims `path` (creating it empty, mode 0600, when missing), waiting briefly for another
 * job's claim to end. @throws `IMAGE_IN_USE` (another job writes it), `NATIVE_UNAVAILABLE`
 */
export async function claimOutput(
  path: string,
  opts: { waitMs?: number } = {}
): Promise<OutputClaim> {
  const deadline = Date.now() + (opts.waitMs ?? LOCK_WAIT_MS);
  for (;;) {
    let fh: FileHandle;
    let created = false;
    try {
      fh = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600).then(
        (h) => ((created = true), h),
        (e: { code?: string }) =>
          e.code === 'EEXIST' ? open(path, constants.O_RDWR) : Promise.reject(e)
      );
    } catch (e) {
      throw toVaultError(e);
    }
    let claimed = false;
    try {
      // The name must still be this file once claimed: a job that just finished may have
      // renamed or removed the file we opened.
      claimed =
        ofdSetLock(fh.fd, F_WRLCK, OUTPUT_CLAIM_BYTE, 1) === 'locked' && (await samePath(fh, path));
    } finally {
      if (!claimed) await fh.close().catch(() => undefined);
    }
    if (claimed) {
      return {
        path,
        created,
        truncate: () => fh.truncate(0),
        release: () => fh.close(),
      };
    }
    if (Date.now() >= deadline) {
      throw fail('IMAGE_IN_USE', `${path} is being written by another Image Vault operation`);
    }
    await sleep(10 + Math.floor(Math.random() * 40));
  }
}

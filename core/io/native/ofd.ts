/**
 * Open file description (OFD) byte-range locks: `fcntl(F_OFD_SETLK / F_OFD_GETLK)`, the
 * locks QEMU's `file-posix` driver takes on every image (README "Image locks").
 *
 * An OFD lock belongs to the open file description, not to the process: it lives as long as
 * that open file (closing the last descriptor of it releases it), two opens of one file in
 * one process conflict like two processes do, and F_OFD_GETLK never reports the caller's own
 * locks. Non-blocking only: a conflict is reported at once, never waited for in the kernel.
 */
import { constants } from 'node:os';
import { fail } from '../../api/errors.js';
import { decodeFlock, encodeFlock, F_UNLCK, type Flock } from './flock.js';
import { EACCES, EAGAIN, libc } from './libc.js';

/** fcntl commands (include/uapi/asm-generic/fcntl.h; the same on every Linux architecture). */
export const F_OFD_GETLK = 36;
export const F_OFD_SETLK = 37;

export { F_RDLCK, F_UNLCK, F_WRLCK } from './flock.js';

/** Result of `ofdSetLock`: taken, or refused because another open file holds a conflicting lock. */
export type SetLockResult = 'locked' | 'conflict';

/**
 * Takes (`F_RDLCK`/`F_WRLCK`) or releases (`F_UNLCK`) `len` bytes at `start` on `fd`.
 * `F_WRLCK` needs `fd` open for writing, `F_RDLCK` for reading.
 * @throws `NATIVE_UNAVAILABLE` when the native route did not load; `IO` when the file system
 *   refuses byte-range locks (ENOLCK, EINVAL, …).
 */
export function ofdSetLock(fd: number, type: number, start: number, len: number): SetLockResult {
  const c = libc();
  const flock = encodeFlock(c.flockLayout, { type, start, len });
  if (c.fcntlLock(fd, F_OFD_SETLK, flock) === 0) return 'locked';
  const errno = c.errno();
  if (errno === EAGAIN || errno === EACCES) return 'conflict';
  throw lockError('lock', errno);
}

/**
 * The first lock another open file holds that would conflict with a lock of `type` on
 * `len` bytes at `start`, or undefined when there is none. `pid` is -1 for OFD locks (Linux
 * does not say which process holds them) and the owner's PID for classic POSIX locks.
 * @throws `NATIVE_UNAVAILABLE`, `IO` (as `ofdSetLock`)
 */
export function ofdGetLock(
  fd: number,
  type: number,
  start: number,
  len: number
): Flock | undefined {
  const c = libc();
  const flock = encodeFlock(c.flockLayout, { type, start, len });
  if (c.fcntlLock(fd, F_OFD_GETLK, flock) !== 0) throw lockError('test a lock', c.errno());
  const found = decodeFlock(c.flockLayout, flock);
  return found.type === F_UNLCK ? undefined : found;
}

/** The errno's name (`ENOLCK`), from Node's table for this platform. */
export function errnoName(errno: number): string {
  const found = Object.entries(constants.errno).find(([, n]) => n === errno);
  return found ? found[0] : `errno ${errno}`;
}

function lockError(what: string, errno: number) {
  const name = errnoName(errno);
  const fs = ['ENOLCK', 'EINVAL', 'EOPNOTSUPP', 'ENOSYS'].includes(name)
    ? ': its file system may not support the byte-range locks QEMU uses'
    : '';
  return fail('IO', `Could not ${what} on the image (${name})${fs}`);
}

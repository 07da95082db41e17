/**
 * `lseek(SEEK_DATA / SEEK_HOLE)`: where a sparse file's data and holes are (docs/DESIGN.md
 * constraint 3), for readers that skip holes instead of reading zeros.
 *
 * `lseek` moves the descriptor's file position; everything in `core/io` reads and writes at
 * explicit positions, so that is harmless there.
 */
import { ENXIO, libc, nativeAvailable } from './libc.js';
import { errnoName } from './ofd.js';
import { fail } from '../../api/errors.js';

export const SEEK_DATA = 3;
export const SEEK_HOLE = 4;

function seek(fd: number, offset: number, whence: number): number | undefined {
  const c = libc();
  const r = c.lseek(fd, offset, whence);
  if (r >= 0) return r;
  const errno = c.errno();
  if (errno === ENXIO) return undefined;
  throw fail(
    'IO',
    `lseek(${whence === SEEK_DATA ? 'SEEK_DATA' : 'SEEK_HOLE'}) failed (${errnoName(errno)})`
  );
}

/**
 * The first data byte at or after `offset`; undefined when only a hole (or the end of the
 * file) follows. @throws `NATIVE_UNAVAILABLE`, `IO`
 */
export function nextData(fd: number, offset: number): number | undefined {
  return seek(fd, offset, SEEK_DATA);
}

/**
 * The first hole byte at or after `offset` (the end of the file counts as a hole);
 * undefined when `offset` is at or past the end. @throws `NATIVE_UNAVAILABLE`, `IO`
 */
export function nextHole(fd: number, offset: number): number | undefined {
  return seek(fd, offset, SEEK_HOLE);
}

/** Data and hole lookups over one file, with a fallback when holes cannot be found. */
export interface DataSeeker {
  /**
   * False when nothing can be skipped: the native route did not load, the kernel refused
   * SEEK_DATA, or the file system reports the whole file as data (some do, whatever is
   * allocated). Then `nextData(o)` is `o` and `nextHole(o)` the end: read everything.
   */
  readonly holesReported: boolean;
  nextData(offset: number): number | undefined;
  nextHole(offset: number): number | undefined;
}

/** A `DataSeeker` for `fd`, a file of `size` bytes. Never throws for lack of support. */
export function dataSeeker(fd: number, size: number): DataSeeker {
  const whole: DataSeeker = {
    holesReported: false,
    nextData: (o) => (o < size ? o : undefined),
    nextHole: (o) => (o < size ? size : undefined),
  };
  if (size === 0 || !nativeAvailable()) return whole;
  let firstHole: number | undefined;
  try {
    firstHole = nextHole(fd, 0);
  } catch {
    return whole; // EINVAL on kernels or file systems without SEEK_HOLE
  }
  if (firstHole === undefined || firstHole >= size) return whole;
  // The last answer of each kind covers a whole interval: a walk in small windows (the copy
  // loop maps 4 MiB at a time) asks the kernel once per hole and once per data run.
  let hole = { from: 0, to: 0, next: undefined as number | undefined };
  let data = { from: 0, to: 0 };
  return {
    holesReported: true,
    nextData: (o) => {
      if (o >= size) return undefined;
      if (o >= hole.from && o < hole.to) return hole.next;
      if (o >= data.from && o < data.to) return o;
      const d = nextData(fd, o);
      if (d === undefined) hole = { from: o, to: size, next: undefined };
      else if (d > o) hole = { from: o, to: d, next: d };
      return d;
    },
    nextHole: (o) => {
      if (o >= size) return undefined;
      if (o >= data.from && o < data.to) return data.to;
      const h = Math.min(size, nextHole(fd, o) ?? size);
      if (h > o) data = { from: o, to: h };
      return h;
    },
  };
}

/**
 * Only regular files are images (issue #13, docs/DESIGN.md "Data safety": hostile input gives
 * a typed error, never a hang): a FIFO blocks an open or a read forever, a character device
 * never ends (`/dev/zero`) or has side effects, a directory reads as `EISDIR`, and `/proc`
 * or `/sys` files (`/proc/self/mem`) report a size of 0 and are not images either.
 */
import type { Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { fail } from '../api/errors.js';

/** What a non-regular file is, in words; undefined for a regular file. */
export function nonRegularKind(st: Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** The `NOT_AN_IMAGE` error naming `path` and what it is. */
export function notRegularError(path: string, kind: string) {
  return fail('NOT_AN_IMAGE', `${path} is ${kind}, not an image file`);
}

/**
 * Refuses `path` unless it is a regular file outside `/proc` and `/sys` (symbolic links are
 * followed). A missing file passes: the open that follows reports it (or creates it).
 * @throws `NOT_AN_IMAGE` naming the path and what it is
 */
export async function refuseNonRegular(path: string): Promise<void> {
  let st: Stats;
  try {
    st = await stat(path);
  } catch {
    return;
  }
  const kind = nonRegularKind(st);
  if (kind) throw notRegularError(path, kind);
  const real = await realpath(path).catch(() => path);
  if (/^\/(proc|sys)(\/|$)/.test(real)) {
    throw notRegularError(path, `a kernel file (${real.split('/')[1]})`);
  }
}

/**
 * Reads a small file whole (a header backup, a journal) with a size bound, so that a hostile
 * or mistaken path (a disk image, /dev/zero's like) is refused instead of filling memory.
 */
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { fail, toVaultError } from '../api/errors.js';

/**
 * The bytes of `path`, or `undefined` when it does not exist and `missingOk` is set.
 * @throws `CORRUPT` naming the file as "too large to be `what`" past `maxBytes`; I/O errors
 *   as typed errors (`NOT_FOUND` when missing and not `missingOk`).
 */
export async function readSmallFile(
  path: string,
  maxBytes: number,
  what: string
): Promise<Uint8Array>;
export async function readSmallFile(
  path: string,
  maxBytes: number,
  what: string,
  missingOk: true
): Promise<Uint8Array | undefined>;
export async function readSmallFile(
  path: string,
  maxBytes: number,
  what: string,
  missingOk = false
): Promise<Uint8Array | undefined> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    if (missingOk && (e as { code?: string }).code === 'ENOENT') return undefined;
    throw toVaultError(e);
  }
  try {
    const { size } = await fh.stat();
    if (size > maxBytes) throw fail('CORRUPT', `${basename(path)} is too large to be ${what}`);
    const buf = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await fh.read(buf, done, size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buf.subarray(0, done);
  } finally {
    await fh.close();
  }
}

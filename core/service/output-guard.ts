/**
 * A conversion never writes over its own source (docs/DESIGN.md "Data safety": jobs never
 * modify their source; issue #13): the target, or the target's `.partial` that the job
 * empties first, must not be the source file, under any name.
 */
import { realpath, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fail } from '../api/errors.js';
import { partialPathFor } from '../jobs/atomic-output.js';

async function identity(path: string): Promise<string | undefined> {
  try {
    const st = await stat(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

async function canonical(path: string): Promise<string> {
  return realpath(path).catch(() => resolve(path));
}

/**
 * @throws `INVALID_ARGUMENT` when `target` or `target.partial` is `source` (the same path,
 *   a link to it, or the same file under another name)
 */
export async function refuseOwnSource(source: string, target: string): Promise<void> {
  const partial = partialPathFor(target);
  const [src, tgt, part] = await Promise.all([source, target, partial].map(identity));
  const [srcPath, tgtPath, partPath] = await Promise.all([source, target, partial].map(canonical));
  if ((src !== undefined && src === tgt) || srcPath === tgtPath) {
    throw fail(
      'INVALID_ARGUMENT',
      `The output ${target} is the source itself: choose another name`
    );
  }
  if ((src !== undefined && src === part) || srcPath === partPath) {
    throw fail(
      'INVALID_ARGUMENT',
      `The source ${source} is the output's own partial file (${partial}), which the job would empty first: copy or rename it, then convert the copy`
    );
  }
}

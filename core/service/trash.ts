/**
 * Moving an image to the freedesktop.org trash (`~/.local/share/Trash`), only for images the
 * user has seen in the library (inspected through this service) or just created, and never a
 * folder or any other non-regular file (issue #13: the loopback API is reachable by whoever
 * holds the token, and `trash` must not become a way to remove arbitrary files).
 */
import { lstat, mkdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fail, toVaultError } from '../api/errors.js';

/** The images this service may trash: real paths it inspected or created. */
export class TrashGuard {
  private readonly known = new Set<string>();

  /** Records an image shown in the library or just created (after it was read). */
  async remember(path: string): Promise<void> {
    this.known.add(await realpath(path).catch(() => resolve(path)));
  }

  /** Moves `path` to the trash. @throws `NOT_FOUND`, `INVALID_ARGUMENT` */
  async trash(path: string): Promise<{ trashedTo: string }> {
    const src = resolve(path);
    let st;
    try {
      st = await lstat(src);
    } catch (e) {
      throw toVaultError(e);
    }
    if (!st.isFile()) {
      throw fail('INVALID_ARGUMENT', `${path} is not an image file; only images can be trashed`);
    }
    if (!this.known.has(await realpath(src))) {
      throw fail(
        'INVALID_ARGUMENT',
        `${path} is not an image of the library or one just created; open it first`
      );
    }
    return moveToTrash(src);
  }
}

async function moveToTrash(src: string): Promise<{ trashedTo: string }> {
  const trash = join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'Trash');
  await mkdir(join(trash, 'files'), { recursive: true });
  await mkdir(join(trash, 'info'), { recursive: true });
  let name = basename(src);
  for (let i = 1; ; i++) {
    try {
      await stat(join(trash, 'files', name));
      name = `${basename(src)}.${i}`;
    } catch {
      break;
    }
  }
  const info = join(trash, 'info', `${name}.trashinfo`);
  await writeFile(
    info,
    `[Trash Info]\nPath=${encodeURI(src)}\nDeletionDate=${new Date().toISOString().slice(0, 19)}\n`
  );
  try {
    await rename(src, join(trash, 'files', name));
  } catch (e) {
    // Nothing left behind: the info file describes a move that did not happen.
    await rm(info, { force: true }).catch(() => undefined);
    if ((e as { code?: string }).code === 'EXDEV') {
      throw fail('UNSUPPORTED_FEATURE', 'The trash is on another disk; move the file by hand');
    }
    throw toVaultError(e);
  }
  return { trashedTo: join(trash, 'files', name) };
}

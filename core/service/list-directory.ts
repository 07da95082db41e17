/**
 * The file pickers' listing (`listDirectory`): a folder's entries, or, for a path that names a
 * file, its folder with that file marked (`file`), so a typed path to an image opens it
 * (issue #14). Hidden entries are left out; unreadable ones are skipped.
 */
import { readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fail } from '../api/errors.js';
import type { DirectoryEntry, DirectoryListing } from '../api/index.js';

export async function listDirectory(path?: string): Promise<DirectoryListing> {
  const asked = resolve(path ?? homedir());
  let dir = asked;
  let file: string | undefined;
  try {
    const s = await stat(asked);
    if (!s.isDirectory()) {
      dir = dirname(asked);
      file = asked;
    }
  } catch (e) {
    throw fail(
      (e as { code?: string }).code === 'ENOENT' ? 'NOT_FOUND' : 'IO',
      (e as { code?: string }).code === 'ENOENT'
        ? `Nothing at ${asked}: no such file or folder`
        : `Cannot open ${asked}: ${(e as Error).message}`
    );
  }
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw fail('IO', `Cannot open folder ${dir}: ${(e as Error).message}`);
  }
  const entries: DirectoryEntry[] = [];
  for (const name of names.sort((a, b) => a.localeCompare(b))) {
    if (name.startsWith('.')) continue;
    const p = join(dir, name);
    try {
      const s = await stat(p);
      entries.push({
        name,
        path: p,
        kind: s.isDirectory() ? 'directory' : s.isFile() ? 'file' : 'other',
        size: s.size,
      });
    } catch {
      // dangling links and unreadable entries are skipped
    }
  }
  const parent = dirname(dir);
  return { path: dir, parent: parent === dir ? null : parent, entries, ...(file ? { file } : {}) };
}

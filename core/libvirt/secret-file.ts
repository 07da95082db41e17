/**
 * A short-lived secret file for tools that only read secrets from files: 0600 in a fresh 0700
 * directory, overwritten with zeros and removed as soon as the tool is done (issue #6,
 * "Unattended boot"). Used when virsh cannot read the value from stdin.
 */
import { chmod, mkdtemp, open, rm, rmdir, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Writes `secret` to a private temp file, calls `use(path)`, then wipes and removes the file
 * and its directory whatever `use` did. The caller still owns (and wipes) `secret`.
 */
export async function withSecretFile<T>(
  secret: Uint8Array,
  use: (path: string) => Promise<T>,
  parent: string = tmpdir()
): Promise<T> {
  const dir = await mkdtemp(join(parent, 'image-vault-secret-'));
  const file = join(dir, 'value');
  try {
    await chmod(dir, 0o700);
    const fh = await open(file, 'wx', 0o600);
    try {
      await fh.writeFile(secret);
    } finally {
      await fh.close();
    }
    return await use(file);
  } finally {
    await wipeAndRemove(file, secret.length);
    await rmdir(dir).catch(() => rm(dir, { recursive: true, force: true }));
  }
}

async function wipeAndRemove(file: string, length: number): Promise<void> {
  try {
    const fh = await open(file, 'r+');
    try {
      await fh.write(new Uint8Array(Math.max(length, 1)), 0, Math.max(length, 1), 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Not created (or already gone): nothing to wipe.
  }
  await unlink(file).catch(() => undefined);
}

/** Test-only: a small tmpfs for full-disk tests (needs root, as the CI runs; never skips). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOk } from './peers.js';

export async function smallTmpfs(
  sizeMiB: number
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'iv-full-'));
  await runOk('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0755`, 'tmpfs', dir]);
  return {
    dir,
    cleanup: async () => {
      await runOk('umount', [dir]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * What an interrupted job left beside its target (`TARGET.partial` and its resume journal,
 * docs/DESIGN.md "Data safety"), how much space it holds, and removing it (`image-vault
 * clean TARGET`, issue #13).
 */
import { lstat, rm } from 'node:fs/promises';
import { fail, toVaultError } from '../api/errors.js';
import { claimOutput } from '../io/output-claim.js';

/** `TARGET.partial` (kept here too, so this module needs nothing from atomic-output.ts). */
const partialOf = (target: string) => `${target}.partial`;
const journalOf = (target: string) => `${target}.partial.journal`;

/** Bytes a file occupies on disk (allocated blocks); 0 when it is missing. */
async function onDisk(path: string): Promise<{ exists: boolean; bytes: number }> {
  try {
    const st = await lstat(path);
    return { exists: true, bytes: st.blocks * 512 };
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return { exists: false, bytes: 0 };
    throw toVaultError(e);
  }
}

/** Binary units, one decimal: "8.1 MiB". */
export function sizeText(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} bytes` : `${v.toFixed(1)} ${units[i]}`;
}

/**
 * "left DST.partial and its journal DST.partial.journal (8.1 MiB): run it again with --resume
 * once there is space, or remove them with `image-vault clean DST`".
 */
export async function leftoverReport(target: string): Promise<string> {
  const [p, j] = await Promise.all([onDisk(partialOf(target)), onDisk(journalOf(target))]);
  const what = j.exists
    ? `${partialOf(target)} and its journal ${journalOf(target)}`
    : partialOf(target);
  return (
    `left ${what} (${sizeText(p.bytes + j.bytes)}): run the same command with --resume ` +
    `once there is space, or remove them with \`image-vault clean ${target}\``
  );
}

export interface CleanResult {
  /** The files removed (the partial, its journal, a journal's temporary file). */
  removed: string[];
  /** The space they held. */
  bytes: number;
}

/**
 * Removes what an interrupted job left for `target`: `TARGET.partial`, its journal and the
 * journal's temporary file. Never the target itself. The partial is claimed first, so the
 * output of a job still running is refused with `IMAGE_IN_USE` instead of deleted.
 * @throws `NOT_FOUND` when nothing is left, `IMAGE_IN_USE`
 */
export async function cleanLeftovers(target: string): Promise<CleanResult> {
  const partial = partialOf(target);
  const names = [partial, journalOf(target), `${journalOf(target)}.tmp`];
  const found = await Promise.all(names.map(onDisk));
  if (!found.some((f) => f.exists)) {
    throw fail('NOT_FOUND', `Nothing to clean for ${target}: no ${partial} and no journal`);
  }
  const st = found[0]?.exists ? await lstat(partial) : undefined;
  if (st && !st.isFile()) throw fail('INVALID_ARGUMENT', `${partial} is not a regular file`);
  const claim = st ? await claimOutput(partial, { waitMs: 0 }) : undefined;
  try {
    const removed: string[] = [];
    let bytes = 0;
    for (const [i, name] of names.entries()) {
      if (!found[i]?.exists) continue;
      await rm(name, { force: true }).catch((e: unknown) => {
        throw toVaultError(e);
      });
      removed.push(name);
      bytes += found[i]?.bytes ?? 0;
    }
    return { removed, bytes };
  } finally {
    await claim?.release().catch(() => undefined);
  }
}

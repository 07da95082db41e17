/**
 * Write-to-partial, fsync, rename (docs/DESIGN.md "Data safety"): a job's output is produced as
 * `TARGET.partial`, made durable, and only then renamed to `TARGET`, so a cancel or a crash
 * never leaves a half-written file under the final name.
 */
import { chmod, chown, lstat, open, rename, rm } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname } from 'node:path';
import { leftoverReport } from './leftovers.js';
import { fail, toVaultError, type VaultError } from '../api/errors.js';
import { openLockedFile } from '../io/locked-file.js';
import { claimOutput } from '../io/output-claim.js';

/** `TARGET.partial`: where a job writes before the final rename. */
export function partialPathFor(target: string): string {
  return `${target}.partial`;
}

/** `TARGET.partial.journal`: the resume journal beside the partial output. */
export function journalPathFor(partialPath: string): string {
  return `${partialPath}.journal`;
}

export interface PartialOutputOptions {
  /** Replace an existing target (the rename is atomic; the old file stays until then). */
  overwrite?: boolean;
  /** Aborted on cancel: the partial output and its journal are always removed then. */
  signal?: AbortSignal;
  /**
   * The output can be resumed from its journal. On an interruption-type failure (`IO`,
   * `NO_SPACE`, see `isInterruption`) the partial and journal are kept for `--resume`.
   */
  resumable?: boolean;
  /**
   * Keep an existing partial (and journal) when starting, for the caller to resume from.
   * Without it a stale partial from an earlier run is removed first.
   */
  resume?: boolean;
}

/**
 * Failures after which a resumable partial is worth keeping: the output is fine up to its
 * last checkpoint and only the environment failed (disk full, I/O error, a killed writer).
 * Cancels, verification failures and bad arguments remove everything.
 */
export function isInterruption(err: VaultError): boolean {
  return err.code === 'IO' || err.code === 'NO_SPACE';
}

/**
 * Runs `fn(partialPath)` and publishes its output atomically.
 *
 * Refuses an existing `target` with `EXISTS` unless `overwrite`. On success the partial is
 * fsynced, renamed over `target`, the directory fsynced and the journal removed. On failure
 * the partial and its journal are removed, except for a resumable output after an
 * interruption (see `isInterruption`); an explicit cancel always removes both.
 *
 * Locks (README "Image locks"): the partial is claimed for the whole run, so a second job
 * writing the same target fails with `IMAGE_IN_USE` instead of deleting or publishing this
 * one's work; a target to be overwritten is held with a write lock from the start until it
 * has been replaced, so a VM or qemu-img using it refuses the job before any work is done.
 */
export async function withPartialOutput<T>(
  target: string,
  fn: (partialPath: string) => Promise<T>,
  opts: PartialOutputOptions = {}
): Promise<T> {
  if (!opts.overwrite && (await exists(target))) {
    throw fail('EXISTS', `The target already exists: ${target} (choose another name or overwrite)`);
  }
  const partial = partialPathFor(target);
  const journal = journalPathFor(partial);
  const replaced = opts.overwrite ? await holdReplacedTarget(target) : undefined;
  const replacedStat = replaced ? await replaced.stat() : undefined;
  const claim = await claimOutput(partial).catch(async (e: unknown) => {
    await replaced?.close().catch(() => undefined);
    throw e;
  });
  try {
    if (!opts.resume || claim.created) {
      // A fresh start (or nothing to resume: the partial was missing).
      await claim.truncate();
      await removeJournal(journal);
    }
    return await publish(target, partial, journal, fn, { ...opts, replacedStat });
  } finally {
    await claim.release().catch(() => undefined);
    await replaced?.close().catch(() => undefined);
  }
}

/** The target about to be overwritten, held with a write lock; undefined when missing. */
async function holdReplacedTarget(target: string) {
  try {
    return await openLockedFile(target, { lock: 'write' });
  } catch (e) {
    if (toVaultError(e).code === 'NOT_FOUND') return undefined;
    throw e;
  }
}

/**
 * Gives the finished partial the mode and owner it is published with (issue #13): those of
 * the file it replaces, else qemu-img's 0644 minus the umask. The partial itself stays 0600
 * while it is written (journals always do).
 */
async function settlePermissions(partial: string, replaced: PermissionSource | undefined) {
  if (!(await lstat(partial)).isFile()) return;
  if (!replaced) {
    await chmod(partial, 0o644 & ~process.umask());
    return;
  }
  if (replaced.uid !== process.getuid?.() || replaced.gid !== process.getgid?.()) {
    // Only root may give a file away; anyone else keeps the file as their own.
    await chown(partial, replaced.uid, replaced.gid).catch(() => undefined);
  }
  await chmod(partial, replaced.mode & 0o7777);
}

interface PermissionSource {
  mode: number;
  uid: number;
  gid: number;
}

async function publish<T>(
  target: string,
  partial: string,
  journal: string,
  fn: (partialPath: string) => Promise<T>,
  opts: PartialOutputOptions & { replacedStat?: PermissionSource }
): Promise<T> {
  let result: T;
  try {
    result = await fn(partial);
    if (opts.signal?.aborted) throw fail('CANCELLED', 'Cancelled');
    await settlePermissions(partial, opts.replacedStat);
    await fsyncPath(partial, false);
    if (!opts.overwrite && (await exists(target))) {
      throw fail('EXISTS', `The target appeared while the job ran: ${target}`);
    }
    await rename(partial, target);
    await fsyncPath(dirname(target), true);
  } catch (e) {
    const err = toVaultError(e);
    const cancelled = opts.signal?.aborted || err.code === 'CANCELLED';
    // A refused resume leaves the earlier partial alone; the user decides what to do with it.
    const refusedResume = opts.resume === true && err.code === 'JOURNAL_MISMATCH';
    const resumable = opts.resumable === true && isInterruption(err) && (await exists(journal));
    const keep = !cancelled && (resumable || refusedResume);
    if (!keep) await removeOutputs(partial, journal).catch(() => undefined);
    if (cancelled && err.code !== 'CANCELLED') throw fail('CANCELLED', 'Cancelled', e);
    if (err.code === 'NO_SPACE') throw await noSpaceError(err, target, keep);
    throw err;
  }
  await rm(journal, { force: true }).catch(() => undefined);
  return result;
}

/**
 * The one-line `NO_SPACE` error of a job whose disk filled up (issue #13): what was left (the
 * partial and its journal, and the space they hold) and the two ways on, or that nothing was.
 */
async function noSpaceError(err: VaultError, target: string, kept: boolean): Promise<VaultError> {
  const base = `${err.message.replace(/\.$/, '')} writing ${target}`;
  const tail = kept ? await leftoverReport(target) : 'nothing was left behind';
  return fail('NO_SPACE', `${base}; ${tail}`, err);
}

/** Removes a partial output and its journal (missing files are fine). */
export async function removeOutputs(partial: string, journal = journalPathFor(partial)) {
  await rm(partial, { force: true });
  await removeJournal(journal);
}

/** Removes a resume journal and its temporary file (missing files are fine). */
export async function removeJournal(journal: string) {
  await rm(journal, { force: true });
  await rm(`${journal}.tmp`, { force: true });
}

/** fsyncs a file or a directory by path. */
export async function fsyncPath(path: string, directory: boolean): Promise<void> {
  const fh = await open(path, directory ? constants.O_RDONLY | constants.O_DIRECTORY : 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return false;
    throw toVaultError(e);
  }
}

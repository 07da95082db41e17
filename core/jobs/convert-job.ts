/**
 * A conversion (convert / migrate) as one job: preparing → copying → verifying → finishing,
 * written to `TARGET.partial`, checkpointed into a resume journal, verified against the
 * source, then renamed (docs/DESIGN.md "Data safety"). Format-neutral: the caller supplies the
 * open/create callbacks; the source is only ever opened read-only by them.
 */
import { fail } from '../api/errors.js';
import type { GuestReader, GuestWriter } from '../formats/image.js';
import { journalPathFor, removeJournal, withPartialOutput } from './atomic-output.js';
import { copyChunkSize, copyGuestData, type CopyOptions } from './copy.js';
import {
  checkJournal,
  readJournal,
  writeJournal,
  type ResumeJournal,
  type SourceIdentity,
  type TargetOptions,
} from './journal.js';
import type { JobContext } from './job-registry.js';
import { verifyGuestEqual } from './verify.js';
import { access } from 'node:fs/promises';

export interface ConversionSpec {
  /** Final output path; the job writes `target + '.partial'` and renames it at the end. */
  target: string;
  /** Opens the source read-only (unlocked when encrypted). */
  openSource(): Promise<GuestReader>;
  /** Creates a fresh, all-zero output at `partialPath` sized for `source`. */
  createTarget(partialPath: string, source: GuestReader): Promise<GuestWriter>;
  /** Reopens an existing partial output for writing (resume). */
  reopenTarget(partialPath: string, source: GuestReader): Promise<GuestWriter>;
  /** Opens a finished output for reading (verification). */
  openResult(path: string): Promise<GuestReader>;
  /**
   * Opens the source as verification compares it, when that differs from what is copied
   * (e.g. copying only the top layer of a chain but comparing whole chains).
   */
  openVerifySource?(): Promise<GuestReader>;
  /** The source file's identity, recorded in and checked against the resume journal. */
  sourceIdentity: SourceIdentity;
  /** Public target parameters recorded in the journal (never secrets). */
  targetOptions: TargetOptions;
  /** Continue from the journal of an earlier interrupted run. */
  resume?: boolean;
  /** Compare the output with the source before publishing it (default true). */
  verify?: boolean;
  overwrite?: boolean;
  /** Tuning and test hooks for the copy loop. */
  copy?: Pick<CopyOptions, 'chunkSize' | 'maxInFlight' | 'checkpointEvery' | 'checkpointInterval'>;
}

export interface ConversionResult extends Record<string, unknown> {
  target: string;
  virtualSize: number;
  /** Guest data bytes of the source. */
  dataBytes: number;
  /** Bytes written to the output in this run. */
  bytesWritten: number;
  /** Guest offset this run started from (0 unless resumed). */
  resumedFrom: number;
  verified: boolean;
}

/**
 * Runs a conversion inside a job.
 * @throws `EXISTS` (target present, no overwrite), `JOURNAL_MISMATCH` (resume against another
 *   source/options), `VERIFY_FAILED` (output removed), `CANCELLED` (output removed), or the
 *   reader's/writer's errors. After an `IO`/`NO_SPACE` failure the partial and its journal
 *   are kept for `resume`.
 */
export async function runConversion(
  spec: ConversionSpec,
  ctx: JobContext
): Promise<ConversionResult> {
  ctx.progress.setPhase('preparing');
  return withPartialOutput(
    spec.target,
    async (partial) => {
      const journalPath = journalPathFor(partial);
      let src: GuestReader | undefined;
      let dst: GuestWriter | undefined;
      try {
        ctx.progress.setPhase('unlocking');
        src = await spec.openSource();
        ctx.throwIfCancelled();
        const source = src;

        let startOffset = 0;
        const previous = spec.resume ? await readJournal(journalPath) : undefined;
        if (previous && (await exists(partial))) {
          checkJournal(previous, spec.sourceIdentity, spec.targetOptions);
          dst = await spec.reopenTarget(partial, source);
          if (previous.chunkSize !== copyChunkSize(dst, previous.chunkSize)) {
            throw fail('JOURNAL_MISMATCH', 'The resume journal does not fit the output format');
          }
          startOffset = previous.checkpoint;
        } else {
          // The partial itself stays (claimed by withPartialOutput): creating the target
          // empties it once its lock is held.
          await removeJournal(journalPath);
          // An encrypted target's keyslot costs a KDF calibration (~iter-time) here.
          ctx.progress.setPhase(spec.targetOptions.encrypted ? 'calibrating' : 'creating');
          dst = await spec.createTarget(partial, source);
          await dst.flush();
        }
        const writer = dst;
        const chunkSize = previous && startOffset > 0 ? previous.chunkSize : undefined;
        const journal: ResumeJournal = {
          version: 1,
          source: spec.sourceIdentity,
          target: spec.targetOptions,
          chunkSize: copyChunkSize(writer, chunkSize ?? spec.copy?.chunkSize),
          checkpoint: startOffset,
          updatedAt: new Date().toISOString(),
        };
        await writeJournal(journalPath, journal);
        ctx.throwIfCancelled();

        // copyGuestData maps the data first, then reports `copying` against that total.
        ctx.progress.setPhase('counting');
        const stats = await copyGuestData(source, writer, ctx, {
          ...spec.copy,
          chunkSize: journal.chunkSize,
          startOffset,
          onCheckpoint: async (offset) => {
            journal.checkpoint = offset;
            journal.updatedAt = new Date().toISOString();
            await writeJournal(journalPath, journal);
          },
        });
        ctx.progress.flush();
        await writer.flush();
        dst = undefined;
        await writer.close();
        ctx.throwIfCancelled();

        const verify = spec.verify ?? true;
        if (verify) {
          ctx.progress.setPhase('verifying');
          const result = await spec.openResult(partial);
          const expected = spec.openVerifySource ? await spec.openVerifySource() : source;
          try {
            await verifyGuestEqual(expected, result, ctx);
          } finally {
            await result.close();
            if (expected !== source) await expected.close();
          }
          ctx.progress.flush();
        }
        ctx.throwIfCancelled();
        ctx.progress.setPhase('finishing');
        return {
          target: spec.target,
          virtualSize: source.virtualSize,
          dataBytes: stats.dataBytes,
          bytesWritten: stats.bytesWritten,
          resumedFrom: startOffset,
          verified: verify,
        };
      } finally {
        await dst?.close().catch(() => undefined);
        await src?.close().catch(() => undefined);
      }
    },
    { overwrite: spec.overwrite, signal: ctx.signal, resumable: true, resume: spec.resume }
  );
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

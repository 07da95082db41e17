/**
 * Master-key rotation in place (issue #17; README "Master-key rotation"): the service entry
 * points. `rekey(image, opts)` runs one rotation (or finishes an interrupted one with
 * `resume`); `rekeyJob` wraps it for the job registry (the contract's `startRekey`). The
 * engine and its journal live in core/jobs/rekey-*.ts.
 */
import type { RekeyRequest, RekeyResult } from '../api/types.js';
import { fail } from '../api/errors.js';
import { makeJobContext, type JobContext, type JobFunction } from '../jobs/job-registry.js';
import { ProgressReporter } from '../jobs/progress.js';

/** Everything of a {@link RekeyRequest} but the path, plus tuning. */
export interface RekeyOptions extends Omit<RekeyRequest, 'path'> {
  /** Crypto worker threads per key (default: the number of cores). */
  threads?: number;
}

/**
 * Rotates the master key of `image` in place. Progress, cancel (`CANCELLED`, the image left
 * half-rotated and resumable) and ETA go through `ctx` when given (a job), else a private one.
 * @throws `WRONG_PASSPHRASE`, `KEYSLOT_ACTIVE` (other keyslots and no `dropOtherSlots`),
 *   `IMAGE_IN_USE`, `NOT_ENCRYPTED`, `UNSUPPORTED_FEATURE`, `EXISTS` (an interrupted rotation
 *   and no `resume`), `NOT_FOUND` (`resume` without a journal), `IO`, `NO_SPACE`.
 */
export async function rekey(
  image: string,
  opts: RekeyOptions,
  ctx: JobContext = makeJobContext(new AbortController().signal, new ProgressReporter())
): Promise<RekeyResult> {
  ctx.throwIfCancelled();
  void image;
  void opts;
  throw fail('UNSUPPORTED_FEATURE', 'Master-key rotation is not implemented yet');
}

/** The contract's `startRekey` as a job function (the registry wipes the passphrases). */
export function rekeyJob(req: RekeyRequest, threads?: number): JobFunction {
  return async (ctx) => {
    const { path, ...rest } = req;
    return rekey(path, { ...rest, ...(threads !== undefined ? { threads } : {}) }, ctx);
  };
}

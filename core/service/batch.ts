/**
 * The batch runner (issue #17, "Many images at once"): one operation over many images, at
 * most `jobs` at a time, each image on its own. An image in use (`IMAGE_IN_USE` from the
 * QEMU-compatible locks, README "Image locks") is reported `skipped` with its holder; any
 * other error fails that image only. Cancelling starts no further image; an image already
 * started finishes (a keyslot write is never cut in half), the rest are `skipped`
 * (`CANCELLED`). Every status change is reported at once through `onUpdate`.
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { fail, toVaultError } from '../api/errors.js';
import type { BatchItem, BatchReport, BatchRequest, BatchSummary } from '../api/types.js';
import { constantTimeEqual } from '../crypto/secret.js';
import { BATCH_ACTIONS, holderOf, type BatchAction } from './batch-actions.js';

/** Images worked on at once unless the request says otherwise. */
export const DEFAULT_BATCH_JOBS = 2;

export interface BatchRunOptions {
  /** Aborted: start no further image. */
  signal?: AbortSignal;
  /** A copy of the report after every status change. */
  onUpdate?: (report: BatchReport) => void;
  /** Tests: replace an operation's action. */
  action?: BatchAction;
  jobId?: string;
}

/** Counts of each final status. */
export function summarize(items: readonly BatchItem[]): BatchSummary {
  const n = (s: BatchItem['status']) => items.filter((i) => i.status === s).length;
  return {
    total: items.length,
    changed: n('changed'),
    unchanged: n('unchanged'),
    skipped: n('skipped'),
    failed: n('failed'),
    remaining: n('pending') + n('running'),
  };
}

/** Refuses requests no image could satisfy, before any image is touched. */
function checkRequest(req: BatchRequest): void {
  if (req.paths.length === 0) throw fail('INVALID_ARGUMENT', 'Name at least one image');
  const { passphrase: a, newPassphrase: b } = req;
  if (req.operation !== 'keyslot-remove') {
    // change, add, rekey
    if (!a || !b) throw fail('INVALID_ARGUMENT', 'Give the current and the new passphrase');
    // With equal passphrases "already done" could not be told from "wrong passphrase".
    if (a.length === b.length && constantTimeEqual(a, b)) {
      throw fail('INVALID_ARGUMENT', 'The new passphrase is the same as the current one');
    }
  } else if (req.slot === undefined && !a) {
    throw fail('INVALID_ARGUMENT', 'Say which keyslot to remove: a slot number or its passphrase');
  }
}

/** Runs `req` over its images; resolves with the final report (never rejects per image). */
export async function runBatch(
  req: BatchRequest,
  opts: BatchRunOptions = {}
): Promise<BatchReport> {
  checkRequest(req);
  const action = opts.action ?? BATCH_ACTIONS[req.operation];
  const paths = [...new Set(req.paths.map((p) => resolve(p)))];
  const items: BatchItem[] = paths.map((path) => ({ path, status: 'pending' }));
  const report: BatchReport = {
    kind: 'image-vault-batch-report',
    version: 1,
    ...(opts.jobId ? { jobId: opts.jobId } : {}),
    operation: req.operation,
    host: hostname(),
    startedAt: new Date().toISOString(),
    finished: false,
    cancelled: false,
    summary: summarize(items),
    images: items,
  };
  const update = () => {
    report.summary = summarize(items);
    opts.onUpdate?.(structuredClone(report));
  };
  update();

  let next = 0;
  const worker = async () => {
    while (next < items.length && !opts.signal?.aborted) {
      const item = items[next++] as BatchItem;
      item.status = 'running';
      update();
      Object.assign(item, await runOne(action, req, item.path));
      update();
    }
  };
  const jobs = Math.max(1, Math.min(req.jobs ?? DEFAULT_BATCH_JOBS, items.length));
  await Promise.all(Array.from({ length: jobs }, worker));

  for (const item of items) {
    if (item.status !== 'pending') continue;
    item.status = 'skipped';
    item.code = 'CANCELLED';
    item.reason = 'not started: the batch was cancelled';
  }
  report.cancelled = Boolean(opts.signal?.aborted);
  report.finished = true;
  report.endedAt = new Date().toISOString();
  update();
  return structuredClone(report);
}

/** One image: its outcome, or why it was skipped or failed (never throws). */
async function runOne(
  action: BatchAction,
  req: BatchRequest,
  path: string
): Promise<Omit<BatchItem, 'path'>> {
  try {
    return await action(req, path);
  } catch (e) {
    const err = toVaultError(e);
    if (err.code === 'IMAGE_IN_USE') {
      const holder = await holderOf(path);
      return {
        status: 'skipped',
        code: err.code,
        reason: err.message,
        ...(holder ? { holder } : {}),
      };
    }
    return { status: 'failed', code: err.code, reason: err.message };
  }
}

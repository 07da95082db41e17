/**
 * A batch (batch.ts) as a job of the service: listed and cancelled like any job (kind
 * `batch`), its per-image report pushed as `{ type: 'batch' }` events after every status
 * change and kept in the finished job's `result.report`. The passphrases it was given are
 * wiped when it ends (docs/DESIGN.md "Secrets").
 */
import { basename } from 'node:path';
import type { BatchRequest, JobInfo, VaultEvent } from '../api/types.js';
import type { JobRegistry } from '../jobs/job-registry.js';
import { runBatch } from './batch.js';

const LABELS: Record<BatchRequest['operation'], string> = {
  'keyslot-change': 'Change passphrase',
  'keyslot-add': 'Add passphrase',
  'keyslot-remove': 'Remove passphrase',
  rekey: 'Rotate master key',
};

export function startBatchJob(
  jobs: JobRegistry,
  req: BatchRequest,
  emit: (e: VaultEvent) => void
): JobInfo {
  const n = new Set(req.paths).size;
  const what = n === 1 ? basename(req.paths[0] as string) : `${n} images`;
  let id = '';
  const info = jobs.start('batch', `${LABELS[req.operation]}: ${what}`, async (ctx) => {
    try {
      const report = await runBatch(req, {
        signal: ctx.signal,
        jobId: id,
        onUpdate: (r) => {
          const done = r.summary.total - r.summary.remaining;
          ctx.progress.setPhase(`${done} of ${r.summary.total} images`);
          emit({ type: 'batch', report: r });
        },
      });
      return { report };
    } finally {
      req.passphrase?.fill(0);
      req.newPassphrase?.fill(0);
    }
  });
  id = info.id;
  return info;
}

/**
 * How the CLI shows a batch report (core/service/batch.ts): one line per image as it ends,
 * a summary, the `--json` document, and the exit status (README "Many images at once").
 */
import type { BatchItem, BatchReport } from '../api/types.js';

/**
 * Exit statuses of a batch. Stable: playbooks branch on them.
 * 0 every image changed or already done; 2 some skipped (in use), none failed: run again
 * later; 3 at least one image failed; 130 cancelled (the report still lists every image).
 */
export const BATCH_EXIT = { done: 0, skipped: 2, failed: 3, cancelled: 130 } as const;

export function batchExitCode(report: BatchReport): number {
  if (report.cancelled) return BATCH_EXIT.cancelled;
  if (report.summary.failed > 0) return BATCH_EXIT.failed;
  if (report.summary.skipped > 0 || report.summary.remaining > 0) return BATCH_EXIT.skipped;
  return BATCH_EXIT.done;
}

const WORD: Record<BatchItem['status'], string> = {
  pending: 'pending',
  running: 'running',
  changed: 'changed',
  unchanged: 'unchanged',
  skipped: 'skipped',
  failed: 'FAILED',
};

/** One line for a finished image: status, path, and what was done or why not. */
export function batchItemLine(item: BatchItem): string {
  const code = item.code ? `[${item.code}] ` : '';
  const who =
    item.holder?.holder !== undefined && !item.reason?.includes(item.holder.holder)
      ? ` (held by ${item.holder.holder}${item.holder.pid !== undefined ? `, PID ${item.holder.pid}` : ''})`
      : '';
  return `${WORD[item.status].padEnd(9)} ${item.path}: ${code}${item.reason ?? ''}${who}`;
}

/** The closing summary line. */
export function batchSummaryLine(report: BatchReport): string {
  const s = report.summary;
  const parts = [
    `${s.changed} changed`,
    `${s.unchanged} already done`,
    `${s.skipped} skipped`,
    `${s.failed} failed`,
  ];
  const tail = report.cancelled ? ' (cancelled)' : '';
  const hint =
    s.skipped > 0 || s.failed > 0 ? '; run the same command again to finish the rest' : '';
  return `${s.total} image${s.total === 1 ? '' : 's'}: ${parts.join(', ')}${tail}${hint}`;
}

/** The `--json` document: the report and the exit status the command ends with. */
export function batchJson(report: BatchReport): string {
  return JSON.stringify({ ...report, exitCode: batchExitCode(report) }, null, 2);
}

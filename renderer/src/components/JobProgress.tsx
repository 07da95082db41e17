/** Progress of one job: bar, phase, bytes, speed, time left, and a Cancel button. */
import type { JobInfo } from '../../../core/api/index.js';
import { formatBytes, formatDuration, formatSpeed } from '../lib/format.js';

const PHASES: Record<string, string> = {
  copying: 'Copying and encrypting',
  converting: 'Converting',
  reading: 'Reading',
  writing: 'Writing',
  verifying: 'Verifying',
  syncing: 'Saving to disk',
  preparing: 'Preparing',
  done: 'Finished',
};

export function phaseLabel(phase: string): string {
  return PHASES[phase] ?? phase.charAt(0).toUpperCase() + phase.slice(1);
}

export function JobProgress({ job, onCancel }: { job: JobInfo; onCancel?: () => void }) {
  const { progress: p } = job;
  const pct =
    job.state === 'succeeded'
      ? 100
      : p.bytesTotal > 0
        ? Math.min(100, Math.round((p.bytesDone / p.bytesTotal) * 100))
        : 0;
  const running = job.state === 'running';
  return (
    <div className="job-progress">
      <div className="row spread">
        <span className="job-phase">{running ? phaseLabel(p.phase) : stateLabel(job)}</span>
        <span className="muted">{pct}%</span>
      </div>
      <div
        className={`progress ${job.state}`}
        role="progressbar"
        aria-label={`${job.label} progress`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
      >
        <span style={{ width: `${pct}%` }} />
      </div>
      <div className="row spread small">
        <span className="muted">
          {p.bytesTotal > 0 ? `${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}` : ''}
          {running && ` · ${formatSpeed(p.bytesPerSecond)}`}
        </span>
        {running && <span className="muted">{formatDuration(p.etaSeconds)} left</span>}
        {running && onCancel && (
          <button type="button" className="button small danger-ghost" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </div>
  );
}

export function stateLabel(job: JobInfo): string {
  switch (job.state) {
    case 'running':
      return 'Running';
    case 'succeeded':
      return 'Finished';
    case 'cancelled':
      return 'Cancelled';
    default:
      return `Failed: ${job.error?.message ?? 'unknown error'}`;
  }
}

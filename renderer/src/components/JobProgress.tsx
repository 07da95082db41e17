/**
 * Progress of one job: bar, phase, bytes, speed, time left, and a Cancel button. Before any
 * byte moves (no total yet) the bar is indeterminate and a sentence says what the job waits
 * for, instead of "0 % — left" (issue #14).
 */
import type { JobInfo } from '../../../core/api/index.js';
import { formatBytes, formatDuration, formatSpeed } from '../lib/format.js';
import './jobs.css';

const PHASES: Record<string, string> = {
  preparing: 'Preparing',
  inspecting: 'Reading the source',
  'checking-passphrase': 'Checking the old passphrase',
  unlocking: 'Unlocking the source',
  calibrating: 'Setting the passphrase’s unlock cost',
  creating: 'Creating the new image',
  counting: 'Counting the data to copy',
  'checking-bundle': 'Checking the bundle',
  copying: 'Copying and encrypting',
  converting: 'Converting',
  packing: 'Packing the bundle file',
  reading: 'Reading',
  writing: 'Writing',
  verifying: 'Verifying',
  rekeying: 'Replacing the sender’s secret',
  libvirt: 'Setting up the libvirt secret',
  syncing: 'Saving to disk',
  finishing: 'Finishing',
  done: 'Finished',
};

/** What a phase without byte counts is doing, for the line under the bar. */
const WAITS: Record<string, string> = {
  preparing: 'Getting ready: checking the source and the target.',
  inspecting: 'Reading the source image’s header.',
  'checking-passphrase': 'Decrypting a sample of sectors to see whether the passphrase fits.',
  unlocking:
    'Trying the passphrase on the keyslots. Each try costs the unlock time chosen when the image was made.',
  calibrating:
    'Measuring this computer to set how long unlocking takes (the unlock time you chose), then writing the keyslot.',
  creating: 'Writing the new image’s header.',
  counting: 'Finding which parts of the disk hold data, so only those are copied.',
  'checking-bundle': 'Checking the manifest, the signature and the sealed secret.',
  rekeying: 'Adding your passphrase and removing the sender’s (each costs one unlock time).',
  libvirt: 'Asking libvirt to store the secret.',
  finishing: 'Saving to disk and giving the file its final name.',
};

export function phaseLabel(phase: string): string {
  return PHASES[phase] ?? phase.charAt(0).toUpperCase() + phase.slice(1).replace(/-/g, ' ');
}

export function JobProgress({ job, onCancel }: { job: JobInfo; onCancel?: () => void }) {
  const { progress: p } = job;
  const running = job.state === 'running';
  const counted = p.bytesTotal > 0;
  const pct =
    job.state === 'succeeded'
      ? 100
      : counted
        ? Math.min(100, Math.round((p.bytesDone / p.bytesTotal) * 100))
        : 0;
  const waiting = running && !counted;
  return (
    <div className="job-progress">
      <div className="row spread">
        <span className="job-phase">{running ? phaseLabel(p.phase) : stateLabel(job)}</span>
        {!waiting && <span className="muted">{pct}%</span>}
      </div>
      <div
        className={`progress ${job.state}${waiting ? ' indeterminate' : ''}${failedSteps(job).length > 0 ? ' partial' : ''}`}
        role="progressbar"
        aria-label={`${job.label} progress`}
        aria-valuemin={0}
        aria-valuemax={100}
        {...(waiting ? { 'aria-valuetext': phaseLabel(p.phase) } : { 'aria-valuenow': pct })}
      >
        <span style={waiting ? undefined : { width: `${pct}%` }} />
      </div>
      <div className="row spread small">
        <span className="muted">
          {waiting
            ? (WAITS[p.phase] ?? '')
            : counted
              ? `${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`
              : ''}
          {running && counted && ` · ${formatSpeed(p.bytesPerSecond)}`}
        </span>
        {running && counted && p.etaSeconds !== null && (
          <span className="muted">{formatDuration(p.etaSeconds)} left</span>
        )}
        {running && onCancel && (
          <button type="button" className="button small danger-ghost" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </div>
  );
}

/** Did the job end with a step that failed (a partial success, e.g. import's libvirt step)? */
export function failedSteps(job: JobInfo): { step: string; detail: string }[] {
  const report = job.result?.report;
  if (!Array.isArray(report)) return [];
  return (report as { step?: unknown; ok?: unknown; detail?: unknown }[])
    .filter((r) => r.ok === false)
    .map((r) => ({ step: String(r.step), detail: String(r.detail ?? '') }));
}

export function stateLabel(job: JobInfo): string {
  switch (job.state) {
    case 'running':
      return 'Running';
    case 'succeeded': {
      const n = failedSteps(job).length;
      return n === 0 ? 'Finished' : `Finished, but ${n === 1 ? 'one step' : `${n} steps`} failed`;
    }
    case 'cancelled':
      return 'Cancelled';
    default:
      return `Failed while ${phaseLabel(job.progress.phase).toLowerCase()}`;
  }
}

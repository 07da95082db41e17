/**
 * A wizard's view of the job it started: progress with Cancel, what the caller shows on
 * success, then the cancelled or failed notice. Also the hook that follows that job in the
 * store.
 */
import { useState, type ReactNode } from 'react';
import type { JobInfo } from '../../../core/api/index.js';
import { describeError } from '../bridge/errors.js';
import { useStore } from '../store/index.js';
import { Icon } from './Icon.js';
import { JobProgress, phaseLabel } from './JobProgress.js';

/**
 * The job a dialog started, live from the store. `follow` records a freshly started job and
 * makes it the one followed.
 */
export function useFollowedJob(): { job: JobInfo | undefined; follow: (job: JobInfo) => void } {
  const [jobId, setJobId] = useState<string | null>(null);
  const job = useStore((s) => (jobId ? s.jobs[jobId] : undefined));
  const upsertJob = useStore((s) => s.upsertJob);
  const follow = (started: JobInfo) => {
    // The open dialog is where the job came from: the Jobs panel's Retry opens it again.
    upsertJob(started, useStore.getState().wizard ?? undefined);
    setJobId(started.id);
  };
  return { job, follow };
}

export function JobPanel(props: {
  job: JobInfo;
  /** Shown above the progress bar. */
  header?: ReactNode;
  /** Shown below the progress bar (typically the success result). */
  children?: ReactNode;
  /** What a cancelled job left behind, in plain words. */
  cancelledText: string;
  /** Shown last, after the cancelled/failed notices. */
  footer?: ReactNode;
}) {
  const { job } = props;
  const cancelJob = useStore((s) => s.cancelJob);
  return (
    <div className="stack" aria-live="polite">
      {props.header}
      <JobProgress job={job} onCancel={() => void cancelJob(job.id)} />
      {props.children}
      {job.state === 'cancelled' && (
        <p className="alert info" role="status">
          {props.cancelledText}
        </p>
      )}
      {job.state === 'failed' && (
        <div className="alert error" role="alert">
          <Icon name="warning" />
          <div>
            <strong>Failed while {phaseLabel(job.progress.phase).toLowerCase()}.</strong>
            <p className="job-error">
              {describeError({ code: job.error?.code, message: job.error?.message ?? 'Failed' })}
            </p>
            <p className="muted small">
              The source was not changed; nothing was written under the new name.
            </p>
          </div>
        </div>
      )}
      {props.footer}
    </div>
  );
}

/**
 * Jobs panel: every running and finished job, newest first. A failed job looks failed (red
 * edge, the step it failed at, the error) and offers Retry (its dialog again, where this
 * window started it) and Clear; a job that finished with a failed step says which.
 */
import { useShallow } from 'zustand/react/shallow';
import type { JobInfo } from '../../../core/api/index.js';
import { describeError } from '../bridge/errors.js';
import { useStore } from '../store/index.js';
import { Icon } from '../components/Icon.js';
import { JobProgress, failedSteps } from '../components/JobProgress.js';
import { ScreenHeader } from '../components/ScreenHeader.js';

/** Where a finished job put its output (convert/migrate/import: target; export: bundle). */
function resultPath(result: Record<string, unknown> | undefined): string | null {
  const p = result?.target ?? result?.bundleDir;
  return typeof p === 'string' ? p : null;
}

function cardTone(j: JobInfo): string {
  if (j.state === 'failed') return 'failed';
  if (j.state === 'succeeded' && failedSteps(j).length > 0) return 'partial';
  return j.state;
}

export function JobsPanel() {
  const jobs = useStore(
    useShallow((s) => Object.values(s.jobs).sort((a, b) => b.startedAt - a.startedAt))
  );
  const origins = useStore((s) => s.jobOrigins);
  const cancel = useStore((s) => s.cancelJob);
  const clear = useStore((s) => s.clearJob);
  const openWizard = useStore((s) => s.openWizard);
  const finished = jobs.filter((j) => j.state !== 'running');
  return (
    <section className="screen" aria-labelledby="jobs-title">
      <ScreenHeader
        titleId="jobs-title"
        title="Jobs"
        description="Conversions, migrations, exports and imports, running and finished. Closing a dialog does not stop its job."
      />
      {finished.length > 1 && (
        <div className="row">
          <button
            type="button"
            className="button small"
            onClick={() => finished.forEach((j) => clear(j.id))}
          >
            Clear finished jobs
          </button>
        </div>
      )}
      {jobs.length === 0 ? (
        <div className="empty">
          <Icon name="activity" size={40} />
          <h2>No jobs yet</h2>
          <p className="muted">Converting or migrating an image shows its progress here.</p>
        </div>
      ) : (
        <ul className="job-list" aria-label="Job list">
          {jobs.map((j) => {
            const origin = origins[j.id];
            const partial = j.state === 'succeeded' ? failedSteps(j) : [];
            return (
              <li key={j.id} className={`card ${cardTone(j)}`} aria-label={j.label}>
                <div className="row spread">
                  <strong className="job-title">{j.label}</strong>
                  <span className="muted small">{new Date(j.startedAt).toLocaleTimeString()}</span>
                </div>
                <JobProgress job={j} onCancel={() => void cancel(j.id)} />
                {j.state === 'failed' && (
                  <p className="job-error" role="alert">
                    <Icon name="warning" size={14} />{' '}
                    {describeError({ code: j.error?.code, message: j.error?.message ?? '' })}
                  </p>
                )}
                {partial.map((f) => (
                  <p key={f.step} className="job-error">
                    <Icon name="warning" size={14} /> {f.detail}
                  </p>
                ))}
                {j.state === 'succeeded' && resultPath(j.result) && (
                  <p className="muted small path">{resultPath(j.result)}</p>
                )}
                {j.state !== 'running' && (
                  <div className="job-actions">
                    {(j.state === 'failed' || partial.length > 0) && origin && (
                      <button
                        type="button"
                        className="button small"
                        onClick={() => openWizard(origin)}
                      >
                        <Icon name="refresh" size={14} /> Retry…
                      </button>
                    )}
                    <button
                      type="button"
                      className="button small"
                      aria-label={`Clear ${j.label}`}
                      onClick={() => clear(j.id)}
                    >
                      Clear
                    </button>
                  </div>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

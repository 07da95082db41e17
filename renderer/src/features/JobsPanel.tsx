/** Jobs panel: every running and finished job, newest first. */
import { useShallow } from 'zustand/react/shallow';
import { useStore } from '../store/index.js';
import { Icon } from '../components/Icon.js';
import { JobProgress } from '../components/JobProgress.js';
import { ScreenHeader } from '../components/ScreenHeader.js';

const KIND: Record<string, string> = {
  create: 'Create',
  convert: 'Convert',
  migrate: 'Migrate',
  export: 'Export',
  import: 'Import',
  verify: 'Verify',
  batch: 'Batch',
};

/** Where a finished job put its output (convert/migrate/import: target; export: bundle). */
function resultPath(result: Record<string, unknown> | undefined): string | null {
  const p = result?.target ?? result?.bundleDir;
  return typeof p === 'string' ? p : null;
}

export function JobsPanel() {
  const jobs = useStore(
    useShallow((s) => Object.values(s.jobs).sort((a, b) => b.startedAt - a.startedAt))
  );
  const cancel = useStore((s) => s.cancelJob);
  return (
    <section className="screen" aria-labelledby="jobs-title">
      <ScreenHeader
        titleId="jobs-title"
        title="Jobs"
        description="Conversions, migrations, exports and imports, running and finished. Closing a dialog does not stop its job."
      />
      {jobs.length === 0 ? (
        <div className="empty">
          <Icon name="activity" size={40} />
          <h2>No jobs yet</h2>
          <p className="muted">Converting or migrating an image shows its progress here.</p>
        </div>
      ) : (
        <ul className="job-list" aria-label="Job list">
          {jobs.map((j) => (
            <li key={j.id} className="card" aria-label={j.label}>
              <div className="row spread">
                <div>
                  <span className="badge neutral">{KIND[j.kind] ?? j.kind}</span>{' '}
                  <strong>{j.label}</strong>
                </div>
                <span className="muted small">{new Date(j.startedAt).toLocaleTimeString()}</span>
              </div>
              <JobProgress job={j} onCancel={() => void cancel(j.id)} />
              {j.state === 'succeeded' && resultPath(j.result) && (
                <p className="muted small path">{resultPath(j.result)}</p>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

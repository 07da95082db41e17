/** The per-image report of a batch, as the CLI prints it: one row per image, live. */
import type { BatchItem, BatchReport } from '../../../core/api/index.js';
import { Icon } from '../components/Icon.js';

const LABEL: Record<BatchItem['status'], string> = {
  pending: 'Waiting',
  running: 'Working…',
  changed: 'Changed',
  unchanged: 'Already done',
  skipped: 'Skipped',
  failed: 'Failed',
};
const TONE: Record<BatchItem['status'], string> = {
  pending: 'neutral',
  running: 'neutral',
  changed: 'ok',
  unchanged: 'ok',
  skipped: 'warn',
  failed: 'bad',
};

/** "3 of 5 images done: 2 changed, 1 already done, 1 skipped, 1 failed." */
export function batchSummaryText(r: BatchReport): string {
  const s = r.summary;
  const done = s.total - s.remaining;
  const head = r.finished
    ? r.cancelled
      ? 'Stopped.'
      : 'Finished.'
    : `${done} of ${s.total} images done.`;
  const tail =
    s.skipped + s.failed > 0 && r.finished
      ? ' Run the same change again later to finish the rest.'
      : '';
  return `${head} ${s.changed} changed, ${s.unchanged} already done, ${s.skipped} skipped, ${s.failed} failed.${tail}`;
}

/** Why an image was not changed, or what was done, in words. */
function detail(i: BatchItem): string {
  if (i.status === 'skipped' && i.code === 'IMAGE_IN_USE') {
    const who = i.holder?.holder
      ? `${i.holder.holder}${i.holder.pid !== undefined ? ` (PID ${i.holder.pid})` : ''}`
      : 'another program';
    return `In use: ${who} ${i.holder?.writer ? 'is writing it' : 'has it open'}. Left untouched.`;
  }
  if (i.status === 'failed' && i.code === 'WRONG_PASSPHRASE') {
    return 'Wrong passphrase: the current passphrase does not open this image. Left untouched.';
  }
  return i.reason ?? '';
}

export function BatchReportTable({ report }: { report: BatchReport }) {
  return (
    <table className="table batch-report" aria-label="Report">
      <thead>
        <tr>
          <th scope="col">Image</th>
          <th scope="col">Result</th>
          <th scope="col">Details</th>
        </tr>
      </thead>
      <tbody>
        {report.images.map((i) => (
          <tr key={i.path} aria-label={i.path.slice(i.path.lastIndexOf('/') + 1)}>
            <td>
              <span className="image-name">{i.path.slice(i.path.lastIndexOf('/') + 1)}</span>
              <span className="muted small path">{i.path}</span>
            </td>
            <td>
              <span className={`badge ${TONE[i.status]}`}>
                {i.status === 'failed' || i.status === 'skipped' ? (
                  <Icon name="warning" size={14} />
                ) : i.status === 'changed' || i.status === 'unchanged' ? (
                  <Icon name="check" size={14} />
                ) : null}
                {LABEL[i.status]}
              </span>
            </td>
            <td className="small">
              {detail(i)}
              {i.code && <span className="muted"> [{i.code}]</span>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

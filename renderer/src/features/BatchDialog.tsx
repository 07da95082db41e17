/**
 * One keyslot operation over several images (issue #17, "Many images at once"): the current
 * and the new passphrase typed once, then a live per-image report from the service's batch
 * events: changed, already done, skipped (in use, and by whom) or failed (why). Images in use
 * are left untouched; running the same change again later finishes them.
 */
import { useEffect, useRef, useState } from 'react';
import type { BatchOperation, BatchReport, JobInfo } from '../../../core/api/index.js';
import { api } from '../bridge/index.js';
import { describeError } from '../bridge/errors.js';
import { takePassphrase, wipe } from '../bridge/secret.js';
import {
  AdvancedSettings,
  UnlockTimeField,
  parseUnlockMs,
} from '../components/AdvancedSettings.js';
import { ButtonPair, FooterButton } from '../components/DialogButtons.js';
import { Dialog } from '../components/Dialog.js';
import { Icon } from '../components/Icon.js';
import { NewPassphrase, type NewPassphraseHandle } from '../components/NewPassphrase.js';
import { PassphraseField } from '../components/PassphraseField.js';
import { useStore } from '../store/index.js';
import { BatchReportTable, batchSummaryText } from './BatchReportTable.js';

const TITLES: Partial<Record<BatchOperation, string>> = {
  'keyslot-change': 'Change passphrase of several images',
  rekey: 'Rotate master key of several images',
};
const VERBS: Partial<Record<BatchOperation, string>> = {
  'keyslot-change': 'Change passphrases',
  rekey: 'Rotate master keys',
};

export function BatchDialog(props: {
  operation: BatchOperation;
  paths: string[];
  onClose: () => void;
}) {
  const [paths] = useState(props.paths);
  const refresh = useStore((s) => s.refreshImage);
  const current = useRef<HTMLInputElement>(null);
  const fresh = useRef<NewPassphraseHandle>(null);
  const [unlockMs, setUnlockMs] = useState('2000');
  const [dropOthers, setDropOthers] = useState(false);
  const rekey = props.operation === 'rekey';
  const [problem, setProblem] = useState<string | null>(null);
  const [job, setJob] = useState<JobInfo | null>(null);
  const [report, setReport] = useState<BatchReport | null>(null);
  const jobId = useRef<string | null>(null);
  const early = useRef<BatchReport[]>([]);

  useEffect(
    () =>
      api().subscribe((e) => {
        if (e.type === 'batch') {
          if (jobId.current === null) early.current.push(e.report);
          else if (e.report.jobId === jobId.current) setReport(e.report);
        } else if (e.job.id === jobId.current) {
          setJob(e.job);
          const r = e.job.result?.['report'] as BatchReport | undefined;
          if (r) setReport(r);
        }
      }),
    []
  );
  const finished = report?.finished === true || (job !== null && job.state !== 'running');
  useEffect(() => {
    if (finished) for (const p of paths) void refresh(p);
  }, [finished, paths, refresh]);

  const start = async () => {
    setProblem(null);
    let pass: Uint8Array | undefined;
    let next: Uint8Array | undefined;
    try {
      const r = fresh.current?.read();
      if (!r?.ok) return setProblem(r?.reason ?? 'Type the new passphrase.');
      next = r.bytes;
      if (!current.current?.value) return setProblem('Type the current passphrase first.');
      pass = takePassphrase(current.current);
      const started = await api().startBatch({
        operation: props.operation,
        paths,
        passphrase: pass,
        newPassphrase: next,
        ...(rekey ? { dropOtherSlots: dropOthers } : { iterTimeMs: parseUnlockMs(unlockMs) }),
      });
      jobId.current = started.id;
      setJob(started);
      const seen = early.current.filter((x) => x.jobId === started.id).at(-1);
      if (seen) setReport(seen);
      early.current = [];
    } catch (e) {
      setProblem(describeError(e));
    } finally {
      wipe(pass, next);
    }
  };

  const running = job !== null && !finished;
  const names = paths.map((p) => p.slice(p.lastIndexOf('/') + 1));
  return (
    <Dialog
      title={TITLES[props.operation] ?? 'Several images'}
      subtitle={`${paths.length} image${paths.length === 1 ? '' : 's'}`}
      onClose={props.onClose}
      busy={running}
      wide
      footer={
        job === null ? (
          <ButtonPair
            secondary={{ label: 'Cancel', onClick: props.onClose }}
            primary={{
              label: VERBS[props.operation] ?? 'Start',
              onClick: () => void start(),
            }}
          />
        ) : running ? (
          <FooterButton
            label="Stop after the current images"
            onClick={() => void api().cancelJob(job.id)}
          />
        ) : (
          <FooterButton label="Done" onClick={props.onClose} tone="primary" />
        )
      }
    >
      {job === null && (
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            void start();
          }}
        >
          <p className="muted small">{names.join(', ')}</p>
          <PassphraseField
            ref={current}
            label="Current passphrase"
            hint="The passphrase these images open with now."
            autoFocus
          />
          <NewPassphrase ref={fresh} />
          {rekey ? (
            <>
              <label className="check">
                <input
                  type="checkbox"
                  checked={dropOthers}
                  onChange={(e) => setDropOthers(e.target.checked)}
                />
                Drop other keyslots (passphrases other than the current one stop working)
              </label>
              <p className="hint">
                <Icon name="info" size={14} /> Each image gets a fresh master key and every
                encrypted sector is re-encrypted in place, so nobody who had the old key (a copy
                handed out earlier) can read what it holds now. The new passphrase replaces the
                current one. Images a VM or another program is using are skipped; run it again once
                they are free.
              </p>
            </>
          ) : (
            <>
              <AdvancedSettings>
                <UnlockTimeField value={unlockMs} onChange={setUnlockMs} />
              </AdvancedSettings>
              <p className="hint">
                <Icon name="info" size={14} /> Each image gets the new passphrase in a free keyslot
                before the old one is removed. Images a VM or another program is using are skipped
                and left as they are; run the change again once they are free.
              </p>
            </>
          )}
          <button type="submit" hidden />
        </form>
      )}
      {job !== null && (
        <div className="stack">
          <p role="status" aria-live="polite">
            {report ? batchSummaryText(report) : 'Starting…'}
          </p>
          {report && <BatchReportTable report={report} />}
          {job.state === 'failed' && job.error && (
            <p className="alert error" role="alert">
              <Icon name="warning" /> {describeError(job.error)}
            </p>
          )}
        </div>
      )}
      {problem && (
        <p className="alert error" role="alert">
          <Icon name="warning" /> {problem}
        </p>
      )}
    </Dialog>
  );
}

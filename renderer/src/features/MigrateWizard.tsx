/**
 * Migrate wizard: legacy AES image → new qcow2 + LUKS image. Old passphrase (with the
 * heuristic's verdict), new passphrase, target, progress with Cancel, verification, then
 * "Keep original" / "Move original to trash" (never deleted silently).
 */
import { useId, useRef, useState } from 'react';
import type { PassphraseAssessment } from '../../../core/api/index.js';
import { api } from '../bridge/index.js';
import { describeError } from '../bridge/errors.js';
import { peekPassphrase, takePassphrase, wipe } from '../bridge/secret.js';
import { Dialog } from '../components/Dialog.js';
import { Icon } from '../components/Icon.js';
import { JobProgress } from '../components/JobProgress.js';
import { NewPassphrase, type NewPassphraseHandle } from '../components/NewPassphrase.js';
import { PassphraseField } from '../components/PassphraseField.js';
import { TargetPicker } from '../components/TargetPicker.js';
import { joinPath, splitPath } from '../lib/format.js';
import { useStore } from '../store/index.js';

type Step = 'old' | 'new' | 'target' | 'run';

export function MigrateWizard({ source, onClose }: { source: string; onClose: () => void }) {
  const src = splitPath(source);
  const [step, setStep] = useState<Step>('old');
  const [verdict, setVerdict] = useState<PassphraseAssessment | null>(null);
  const [checking, setChecking] = useState(false);
  const [force, setForce] = useState(false);
  const [folder, setFolder] = useState(src.dir);
  const [name, setName] = useState(src.name.replace(/(\.qcow2?|\.img)?$/, '-luks.qcow2'));
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [after, setAfter] = useState<string | null>(null);
  const [unlockMs, setUnlockMs] = useState('2000');
  const unlockId = useId();
  const oldRef = useRef<HTMLInputElement>(null);
  const newRef = useRef<NewPassphraseHandle>(null);
  const job = useStore((s) => (jobId ? s.jobs[jobId] : undefined));
  const upsertJob = useStore((s) => s.upsertJob);
  const cancelJob = useStore((s) => s.cancelJob);
  const refresh = useStore((s) => s.refreshImage);
  const forget = useStore((s) => s.forgetImage);
  const openImage = useStore((s) => s.openImage);
  const target = joinPath(folder, name.trim());

  const check = async () => {
    if (!oldRef.current?.value) return setError('Type the old passphrase.');
    setError(null);
    setChecking(true);
    const bytes = peekPassphrase(oldRef.current);
    try {
      setVerdict(await api().assessLegacyPassphrase(source, bytes));
    } catch (e) {
      setError(describeError(e));
    } finally {
      wipe(bytes);
      setChecking(false);
    }
  };

  const start = async () => {
    setError(null);
    if (!folder.startsWith('/') || !name.trim() || name.includes('/'))
      return setError('Choose a folder and a file name for the new image.');
    if (target === source)
      return setError('The new image needs a different name than the original.');
    const r = newRef.current?.read();
    if (!r?.ok) {
      setStep('new');
      return setError(r?.reason ?? 'Type the new passphrase.');
    }
    const old = takePassphrase(oldRef.current);
    try {
      const ms = Number(unlockMs);
      const info = await api().startMigrate({
        source,
        target,
        oldPassphrase: old,
        passphrase: r.bytes,
        verify: true,
        force: force || undefined,
        encryption: { iterTimeMs: Number.isInteger(ms) && ms > 0 ? ms : 2000 },
      });
      upsertJob(info);
      setJobId(info.id);
      setStep('run');
    } catch (e) {
      setError(describeError(e));
      setStep('old');
      wipe(old, r.bytes);
    }
    // On success the service owns (and wipes) the passphrase bytes it was given.
  };

  const finish = async (trash: boolean) => {
    setError(null);
    if (trash) {
      try {
        const r = await api().trash(source);
        forget(source);
        setAfter(`The original was moved to the trash (${r.trashedTo}).`);
      } catch (e) {
        return setError(describeError(e));
      }
    } else {
      setAfter('The original was kept as it is.');
      void refresh(source);
    }
  };

  const running = job?.state === 'running';
  const ok = job?.state === 'succeeded';
  const verification = ok ? describeVerification(job?.result) : null;
  const plausible = verdict?.verdict === 'plausible';
  const footer =
    step === 'old' ? (
      <>
        <button type="button" className="button" onClick={onClose}>
          Cancel
        </button>
        <button
          type="button"
          className="button primary"
          disabled={!verdict || (!plausible && !force)}
          onClick={() => setStep('new')}
        >
          Next
        </button>
      </>
    ) : step === 'new' ? (
      <>
        <button type="button" className="button" onClick={() => setStep('old')}>
          Back
        </button>
        <button
          type="button"
          className="button primary"
          onClick={() => {
            const p = newRef.current?.check();
            if (p) setError(p);
            else {
              setError(null);
              setStep('target');
            }
          }}
        >
          Next
        </button>
      </>
    ) : step === 'target' ? (
      <>
        <button type="button" className="button" onClick={() => setStep('new')}>
          Back
        </button>
        <button type="button" className="button primary" onClick={() => void start()}>
          Start migration
        </button>
      </>
    ) : after ? (
      <>
        <button type="button" className="button" onClick={onClose}>
          Close
        </button>
        <button
          type="button"
          className="button primary"
          onClick={() => {
            onClose();
            void openImage(target);
          }}
        >
          Show new image
        </button>
      </>
    ) : ok ? (
      <>
        <button type="button" className="button" onClick={() => void finish(false)}>
          Keep original
        </button>
        <button type="button" className="button danger" onClick={() => void finish(true)}>
          <Icon name="trash" /> Move original to trash
        </button>
      </>
    ) : running ? null : (
      <button type="button" className="button" onClick={onClose}>
        Close
      </button>
    );

  return (
    <Dialog
      title="Migrate to LUKS"
      subtitle={src.name}
      onClose={onClose}
      busy={running}
      footer={footer}
      wide
    >
      <ol className="steps" aria-label="Steps">
        {(['old', 'new', 'target', 'run'] as Step[]).map((s, i) => (
          <li
            key={s}
            className={s === step ? 'current' : ''}
            aria-current={s === step ? 'step' : undefined}
          >
            {i + 1}. {['Old passphrase', 'New passphrase', 'Where', 'Migrate'][i]}
          </li>
        ))}
      </ol>
      {error && (
        <p className="alert error" role="alert">
          {error}
        </p>
      )}
      <div hidden={step !== 'old'} className="stack">
        <p>
          The image is encrypted with the old qcow AES scheme. Its data is copied into a new qcow2 +
          LUKS image; the original is not changed.
        </p>
        <PassphraseField
          ref={oldRef}
          label="Old passphrase"
          autoFocus
          onInput={() => setVerdict(null)}
        />
        <div className="row">
          <button type="button" className="button" onClick={() => void check()} disabled={checking}>
            {checking ? 'Checking…' : 'Check passphrase'}
          </button>
        </div>
        {verdict && (
          <div className={`alert ${plausible ? 'success' : 'warn'}`} role="status">
            <Icon name={plausible ? 'check' : 'warning'} />
            <div>
              <strong>
                {plausible
                  ? 'The passphrase looks right.'
                  : verdict.verdict === 'no-data'
                    ? 'The image holds no data to check against.'
                    : 'The passphrase looks wrong.'}
              </strong>
              <p>
                {verdict.explanation}
                {verdict.signatures.length > 0 && ` Found: ${verdict.signatures.join(', ')}.`}
              </p>
              {!plausible && (
                <label className="check">
                  <input
                    type="checkbox"
                    checked={force}
                    onChange={(e) => setForce(e.target.checked)}
                  />{' '}
                  Continue with this passphrase anyway
                </label>
              )}
            </div>
          </div>
        )}
      </div>
      <div hidden={step !== 'new'} className="stack">
        <p className="muted">The new image gets its own passphrase, protected by LUKS.</p>
        <NewPassphrase ref={newRef} />
        <details className="advanced">
          <summary>Advanced settings</summary>
          <div className="field">
            <label htmlFor={unlockId}>Unlock time (ms)</label>
            <input
              id={unlockId}
              type="number"
              min="1"
              value={unlockMs}
              onChange={(e) => setUnlockMs(e.target.value)}
              className="narrow"
            />
          </div>
        </details>
      </div>
      <div hidden={step !== 'target'} className="stack">
        <TargetPicker folder={folder} name={name} onFolder={setFolder} onName={setName} />
        <p className="hint">
          The new image is written as “{name}.partial” first and renamed only after it has been
          verified.
        </p>
      </div>
      {step === 'run' && job && (
        <div className="stack" aria-live="polite">
          <JobProgress job={job} onCancel={() => void cancelJob(job.id)} />
          {ok && (
            <div className="alert success" role="status">
              <Icon name="shield" />
              <div>
                <strong>Migration finished.</strong>
                <p>{verification}</p>
                <p>What should happen to the original AES image?</p>
              </div>
            </div>
          )}
          {job.state === 'cancelled' && (
            <p className="alert info" role="status">
              Cancelled. The original is untouched and no new file was left behind.
            </p>
          )}
          {job.state === 'failed' && (
            <p className="alert error" role="alert">
              {describeError({ code: job.error?.code, message: job.error?.message ?? 'Failed' })}
            </p>
          )}
          {after && (
            <p className="alert info" role="status">
              {after}
            </p>
          )}
        </div>
      )}
    </Dialog>
  );
}

/** Plain words for the job's verification result (shape defined by the service). */
export function describeVerification(result: Record<string, unknown> | undefined): string {
  const text = result?.verification;
  if (typeof text === 'string') return text;
  const v = result?.verified;
  const base =
    v === true
      ? 'Verified: the new image reads back exactly like the original.'
      : v === false
        ? 'The new image was not verified.'
        : 'The new image was written and checked.';
  const snaps = result?.snapshotsNotCarried;
  const notes: string[] = [];
  if (typeof snaps === 'number' && snaps > 0)
    notes.push(
      `${snaps} internal snapshot${snaps === 1 ? ' was' : 's were'} not carried over (only the current state).`
    );
  if (result?.keptBacking === true) notes.push('It still uses the original backing file.');
  if (typeof result?.resumedFrom === 'number' && result.resumedFrom > 0)
    notes.push('An earlier, interrupted run was resumed.');
  return [base, ...notes].join(' ');
}

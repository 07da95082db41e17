/**
 * Migrate wizard: legacy AES image → new qcow2 + LUKS image. Old passphrase (with the
 * heuristic's verdict), new passphrase, target, progress with Cancel, verification, then
 * "Keep original" / "Move original to trash" (never deleted silently).
 */
import { useRef, useState } from 'react';
import type { PassphraseAssessment } from '../../../core/api/index.js';
import { api } from '../bridge/index.js';
import { describeError } from '../bridge/errors.js';
import { clearInputs, peekPassphrase, wipe } from '../bridge/secret.js';
import {
  AdvancedSettings,
  UnlockTimeField,
  parseUnlockMs,
} from '../components/AdvancedSettings.js';
import { ButtonPair, CloseAndShow } from '../components/DialogButtons.js';
import { Dialog } from '../components/Dialog.js';
import { ErrorAlert } from '../components/ErrorAlert.js';
import { Icon } from '../components/Icon.js';
import { JobPanel, useFollowedJob } from '../components/JobPanel.js';
import { NewPassphrase, type NewPassphraseHandle } from '../components/NewPassphrase.js';
import { PassphraseField } from '../components/PassphraseField.js';
import { FieldProblem, usePreflight } from '../components/Preflight.js';
import { MigrateResult } from './migrate-result.js';
import { StepList } from '../components/StepList.js';
import { TargetPicker } from '../components/TargetPicker.js';
import { isTargetChosen, joinPath, splitPath } from '../lib/format.js';
import { useStore } from '../store/index.js';

type Step = 'old' | 'new' | 'target' | 'run';
const STEPS: [Step, string][] = [
  ['old', 'Old passphrase'],
  ['new', 'New passphrase'],
  ['target', 'Where'],
  ['run', 'Migrate'],
];

export function MigrateWizard({ source, onClose }: { source: string; onClose: () => void }) {
  const src = splitPath(source);
  const [step, setStep] = useState<Step>('old');
  const [verdict, setVerdict] = useState<PassphraseAssessment | null>(null);
  const [checking, setChecking] = useState(false);
  const [force, setForce] = useState(false);
  const [folder, setFolder] = useState(src.dir);
  const [name, setName] = useState(src.name.replace(/(\.qcow2?|\.img)?$/, '-luks.qcow2'));
  const [error, setError] = useState<string | null>(null);
  const [oldProblem, setOldProblem] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const pre = usePreflight();
  const [after, setAfter] = useState<string | null>(null);
  const [unlockMs, setUnlockMs] = useState('2000');
  const oldRef = useRef<HTMLInputElement>(null);
  const newRef = useRef<NewPassphraseHandle>(null);
  const { job, follow } = useFollowedJob();
  const refresh = useStore((s) => s.refreshImage);
  const forget = useStore((s) => s.forgetImage);
  const target = joinPath(folder, name.trim());

  const check = async () => {
    if (!oldRef.current?.value) return setOldProblem('Type the old passphrase.');
    setOldProblem(null);
    setChecking(true);
    const bytes = peekPassphrase(oldRef.current);
    try {
      setVerdict(await api().assessLegacyPassphrase(source, bytes));
    } catch (e) {
      setOldProblem(describeError(e));
    } finally {
      wipe(bytes);
      setChecking(false);
    }
  };

  const start = async () => {
    setError(null);
    pre.clear();
    if (!isTargetChosen(folder, name))
      return pre.setProblem('target', 'Choose a folder and a file name for the new image.');
    if (target === source)
      return pre.setProblem('target', 'The new image needs a different name than the original.');
    if (!oldRef.current?.value) {
      setStep('old');
      return setOldProblem('Type the old passphrase.');
    }
    if (newRef.current?.check()) return setStep('new');
    setStarting(true);
    try {
      if (!(await pre.run({ kind: 'migrate', source, target }))) return;
      // Peeked, not taken: a start that fails keeps every field as the user typed it.
      const r = newRef.current?.peek();
      if (!r?.ok) return setStep('new');
      const old = peekPassphrase(oldRef.current);
      try {
        const info = await api().startMigrate({
          source,
          target,
          oldPassphrase: old,
          passphrase: r.bytes,
          verify: true,
          force: force || undefined,
          encryption: { iterTimeMs: parseUnlockMs(unlockMs) ?? 2000 },
        });
        // The service owns (and wipes) the bytes it was given; the fields go now.
        clearInputs(oldRef.current);
        newRef.current?.clear();
        follow(info);
        setStep('run');
      } catch (e) {
        wipe(old, r.bytes);
        setError(`The migration could not start: ${describeError(e)}`);
      }
    } finally {
      setStarting(false);
    }
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

  const plausible = verdict?.verdict === 'plausible';
  const toTarget = () => {
    if (!newRef.current?.check()) setStep('target');
  };
  const toNew = () => {
    if (verdict && (plausible || force)) setStep('new');
    else if (!verdict) void check();
  };

  const running = job?.state === 'running';
  const ok = job?.state === 'succeeded';
  const overridden = ok && job?.result?.passphraseOverridden === true;
  const footer =
    step === 'old' ? (
      <ButtonPair
        secondary={{ label: 'Cancel', onClick: onClose }}
        primary={{
          label: 'Next',
          onClick: () => setStep('new'),
          disabled: !verdict || (!plausible && !force),
        }}
      />
    ) : step === 'new' ? (
      <ButtonPair
        secondary={{ label: 'Back', onClick: () => setStep('old') }}
        primary={{ label: 'Next', onClick: () => toTarget() }}
      />
    ) : step === 'target' ? (
      <ButtonPair
        secondary={{ label: 'Back', onClick: () => setStep('new') }}
        primary={{
          label: starting
            ? 'Checking…'
            : pre.awaitingConfirm
              ? 'Start migration anyway'
              : 'Start migration',
          onClick: () => void start(),
          disabled: starting,
        }}
      />
    ) : after ? (
      <CloseAndShow onClose={onClose} path={target} label="Show new image" />
    ) : ok && overridden ? (
      <ButtonPair
        secondary={{ label: 'Close', onClick: onClose }}
        primary={{ label: 'Keep original', onClick: () => void finish(false) }}
      />
    ) : ok ? (
      <ButtonPair
        secondary={{ label: 'Keep original', onClick: () => void finish(false) }}
        primary={{
          label: (
            <>
              <Icon name="trash" /> Move original to trash
            </>
          ),
          onClick: () => void finish(true),
        }}
        tone="danger"
      />
    ) : running ? null : (
      <ButtonPair
        secondary={{ label: 'Back', onClick: () => setStep('target') }}
        primary={{ label: 'Close', onClick: onClose }}
      />
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
      <StepList steps={STEPS} current={step} />
      <ErrorAlert message={error} />
      <div hidden={step !== 'old'} className="stack">
        <p>
          The image is encrypted with the old qcow AES scheme. Its data is copied into a new qcow2 +
          LUKS image; the original is not changed.
        </p>
        <PassphraseField
          ref={oldRef}
          label="Old passphrase"
          autoFocus
          problem={oldProblem}
          onEnter={toNew}
          onInput={() => {
            setVerdict(null);
            setOldProblem(null);
          }}
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
        <NewPassphrase ref={newRef} onEnter={toTarget} />
        <AdvancedSettings>
          <UnlockTimeField value={unlockMs} onChange={setUnlockMs} />
        </AdvancedSettings>
      </div>
      <div hidden={step !== 'target'} className="stack">
        <TargetPicker
          folder={folder}
          name={name}
          onFolder={(f) => {
            setFolder(f);
            pre.clear();
          }}
          onName={(n) => {
            setName(n);
            pre.clear();
          }}
        />
        <FieldProblem problem={pre.problems.target} />
        <FieldProblem problem={pre.problems.space} />
        <FieldProblem problem={pre.problems.source} />
        <FieldProblem problem={pre.problems.form} />
        <p className="hint">
          The new image is written as “{name}.partial” first and renamed only after it has been
          verified.
        </p>
      </div>
      {step === 'run' && job && (
        <JobPanel
          job={job}
          cancelledText="Cancelled. The original is untouched and no new file was left behind."
          footer={
            after && (
              <p className="alert info" role="status">
                {after}
              </p>
            )
          }
        >
          {ok && job.result && <MigrateResult result={job.result} />}
        </JobPanel>
      )}
    </Dialog>
  );
}

/**
 * Export wizard ("Hand over…", issue #6): pick an image, name the recipient, unlock the source,
 * choose the recipient's passphrase and the master-key policy, write a bundle folder
 * (image, manifest, libvirt XML, README, optional .tar) with progress and Cancel.
 */
import { useEffect, useId, useRef, useState } from 'react';
import type { DirectoryEntry, ImageInfo } from '../../../core/api/index.js';
import { api } from '../bridge/index.js';
import { describeError } from '../bridge/errors.js';
import { clearInputs, peekPassphrase, wipe } from '../bridge/secret.js';
import {
  AdvancedSettings,
  UnlockTimeField,
  parseUnlockMs,
} from '../components/AdvancedSettings.js';
import { ButtonPair, FooterButton } from '../components/DialogButtons.js';
import { Dialog } from '../components/Dialog.js';
import { ErrorAlert } from '../components/ErrorAlert.js';
import { FileBrowser } from '../components/FileBrowser.js';
import { Icon } from '../components/Icon.js';
import { JobPanel, useFollowedJob } from '../components/JobPanel.js';
import { PassphraseField } from '../components/PassphraseField.js';
import { StepList } from '../components/StepList.js';
import { usePreflight } from '../components/Preflight.js';
import {
  describeFormat,
  encryptionLabel,
  formatBytes,
  isTargetChosen,
  joinPath,
  splitPath,
} from '../lib/format.js';
import { useStore } from '../store/index.js';
import {
  BundleTarget,
  ExportDone,
  slug,
  MasterKeyChoice,
  RecipientPassphrase,
  type RecipientPassHandle,
} from './export-parts.js';
import {
  HandOverChoice,
  KeyRecipients,
  SealSummary,
  SigningChoice,
  useDescribedRecipients,
  useOwnKeys,
  type HandOverMode,
} from './export-keys.js';

type Step = 'image' | 'pass' | 'where' | 'run';
const STEPS: [Step, string][] = [
  ['image', 'Image and recipient'],
  ['pass', 'Hand over to'],
  ['where', 'Where'],
  ['run', 'Export'],
];

export function ExportWizard(props: { source?: string; onClose: () => void }) {
  const library = useStore((s) => s.library);
  const [source, setSource] = useState(props.source ?? '');
  const [info, setInfo] = useState<ImageInfo | null>(null);
  const [browsing, setBrowsing] = useState(false);
  const [recipient, setRecipient] = useState('');
  const [step, setStep] = useState<Step>('image');
  const [keep, setKeep] = useState(false);
  const [tar, setTar] = useState(true);
  const [mode, setMode] = useState<HandOverMode>('passphrase');
  const [keyText, setKeyText] = useState('');
  const [signWith, setSignWith] = useState('');
  const signPassRef = useRef<HTMLInputElement>(null);
  const described = useDescribedRecipients(mode === 'keys' ? keyText : '');
  const ownKeys = useOwnKeys();
  const signer = ownKeys.find((k) => k.privatePath === signWith);
  const [unlockMs, setUnlockMs] = useState('2000');
  const [folder, setFolder] = useState('');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [files, setFiles] = useState<DirectoryEntry[] | null>(null);
  const ids = { image: useId(), recipient: useId() };
  const srcPassRef = useRef<HTMLInputElement>(null);
  const recipientRef = useRef<RecipientPassHandle>(null);
  const { job, follow } = useFollowedJob();

  const enc = info?.encryption;
  const encrypted = !!info?.encrypted;
  const isLuks = enc?.format === 'luks';

  useEffect(() => {
    setInfo(null);
    if (!source) return;
    let live = true;
    api()
      .inspect(source)
      .then((i) => {
        if (!live) return;
        setInfo(i);
        setError(null);
        if (i.encryption?.format !== 'luks') setKeep(false);
        setFolder((f) => f || splitPath(i.path).dir);
      })
      .catch((e: unknown) => live && setError(describeError(e)));
    return () => {
      live = false;
    };
  }, [source]);

  useEffect(() => {
    if (!info) return;
    const base = splitPath(info.path).name.replace(/\.[^.]+$/, '');
    setName(`${base}${recipient.trim() ? `-for-${slug(recipient)}` : ''}-bundle`);
  }, [info, recipient]);

  const bundleDir = joinPath(folder, name.trim());
  const outPath = tar && !bundleDir.endsWith('.tar') ? `${bundleDir}.tar` : bundleDir;
  const pre = usePreflight();

  const nextFromImage = async () => {
    if (!info) return setError('Choose the image to hand over.');
    if (!recipient.trim()) return setError('Say who receives it (a name or a label).');
    if (encrypted && !srcPassRef.current?.value) return setError('Type the image’s passphrase.');
    setError(null);
    if (isLuks) {
      setBusy(true);
      const bytes = peekPassphrase(srcPassRef.current);
      try {
        await api().keyslotTest(info.path, bytes);
      } catch (e) {
        setBusy(false);
        return setError(describeError(e));
      } finally {
        wipe(bytes);
      }
      setBusy(false);
    }
    setStep('pass');
  };

  /** Problem with the "Hand over to" step, or null. */
  const checkPass = (): string | null => {
    if (mode === 'passphrase') return recipientRef.current?.check() ?? null;
    if (described.problem) return described.problem;
    if (!described.keys?.length) return 'Paste or pick at least one recipient public key.';
    if (signer?.encrypted && !signPassRef.current?.value)
      return 'Type the passphrase of your SSH key.';
    return null;
  };

  const start = async () => {
    setError(null);
    if (!info) return setStep('image');
    if (!isTargetChosen(folder, name))
      return setError('Choose a folder and a name for the bundle.');
    const problem = checkPass();
    if (!problem && !(await pre.run({ kind: 'export', source: info.path, target: outPath })))
      return;
    const r = mode === 'passphrase' ? recipientRef.current?.read() : undefined;
    if (problem || (r && !r.ok)) {
      setStep('pass');
      return setError(problem ?? (r && !r.ok ? r.reason : 'Choose the recipient’s passphrase.'));
    }
    const recipientBytes = r?.ok ? r.bytes : undefined;
    // Peeked: a start that fails keeps every field; they are cleared once the job owns them.
    const srcPass = encrypted ? peekPassphrase(srcPassRef.current) : undefined;
    const signPass = signer?.encrypted ? peekPassphrase(signPassRef.current) : undefined;
    setBusy(true);
    try {
      const started = await api().startExport({
        source: info.path,
        bundleDir,
        recipient: recipient.trim(),
        sourcePassphrase: srcPass,
        ...(recipientBytes ? { recipientPassphrase: recipientBytes } : {}),
        ...(mode === 'keys' ? { sealTo: keyText } : {}),
        ...(signWith ? { signingKey: signWith } : {}),
        ...(signPass ? { signingKeyPassphrase: signPass } : {}),
        keepMasterKey: keep || undefined,
        tar: tar || undefined,
        encryption: { iterTimeMs: parseUnlockMs(unlockMs) ?? 2000 },
      });
      follow(started);
      clearInputs(srcPassRef.current, signPassRef.current);
      recipientRef.current?.clear();
      setStep('run');
    } catch (e) {
      wipe(srcPass, recipientBytes, signPass);
      setError(`The export could not start: ${describeError(e)}`);
    } finally {
      setBusy(false);
    }
    // On success the service owns (and wipes) the passphrase bytes it was given.
  };

  const ok = job?.state === 'succeeded';
  const running = job?.state === 'running';
  useEffect(() => {
    if (!ok || tar) return;
    api()
      .listDirectory(bundleDir)
      .then((l) => setFiles(l.entries.filter((e) => e.kind === 'file')))
      .catch(() => setFiles([]));
  }, [ok, bundleDir, tar]);
  const tarPath = typeof job?.result?.tar === 'string' ? job.result.tar : null;
  const sha = typeof job?.result?.sha256 === 'string' ? job.result.sha256 : null;

  const back = (to: Step) => ({ label: 'Back', onClick: () => setStep(to), disabled: busy });
  const footer =
    step === 'image' ? (
      <ButtonPair
        secondary={{ label: 'Cancel', onClick: props.onClose }}
        primary={{
          label: busy ? 'Checking…' : 'Next',
          onClick: () => void nextFromImage(),
          disabled: busy || !info,
        }}
      />
    ) : step === 'pass' ? (
      <ButtonPair
        secondary={back('image')}
        primary={{
          label: 'Next',
          onClick: () => {
            const p = checkPass();
            setError(p ?? null);
            if (!p) setStep('where');
          },
        }}
      />
    ) : step === 'where' ? (
      <ButtonPair
        secondary={back('pass')}
        primary={{
          label: (
            <>
              <Icon name="lock" /> Export bundle
            </>
          ),
          onClick: () => void start(),
          disabled: busy,
        }}
      />
    ) : running ? null : ok ? (
      <FooterButton label="Done" onClick={props.onClose} tone="primary" />
    ) : (
      <ButtonPair secondary={back('where')} primary={{ label: 'Close', onClick: props.onClose }} />
    );

  return (
    <Dialog
      title="Hand over an image"
      subtitle="Export an encrypted bundle for someone else"
      onClose={props.onClose}
      busy={busy}
      footer={footer}
      wide
    >
      <StepList steps={STEPS} current={step} />
      <ErrorAlert message={error} />
      <div hidden={step !== 'image'} className="stack">
        <div className="field">
          <label htmlFor={ids.image}>Image</label>
          <div className="input-with-button">
            <select id={ids.image} value={source} onChange={(e) => setSource(e.target.value)}>
              <option value="">Choose from the library…</option>
              {source && !library.some((e) => e.path === source) && (
                <option value={source}>{source}</option>
              )}
              {library.map((e) => (
                <option key={e.path} value={e.path}>
                  {e.name} — {encryptionLabel(e.encryption, e.luksVersion)}
                </option>
              ))}
            </select>
            <button type="button" className="button" onClick={() => setBrowsing(true)}>
              <Icon name="folder" /> Browse…
            </button>
          </div>
        </div>
        {info && (
          <p className="image-summary muted small">
            <Icon name="disk" size={14} /> {describeFormat(info)} · {formatBytes(info.virtualSize)}{' '}
            · {encryptionLabel(enc ? enc.format : 'none', enc?.version)}
          </p>
        )}
        {enc?.format === 'aes' && (
          <p className="alert info">
            <Icon name="info" /> This image uses insecure legacy AES. The copy is written as qcow2 +
            LUKS; your original stays as it is.
          </p>
        )}
        {info && !encrypted && (
          <p className="alert info">
            <Icon name="info" /> This image is not encrypted. The copy in the bundle will be.
          </p>
        )}
        <div className="field">
          <label htmlFor={ids.recipient}>Recipient</label>
          <input
            id={ids.recipient}
            value={recipient}
            maxLength={128}
            placeholder="e.g. Alex at the branch office"
            onChange={(e) => setRecipient(e.target.value)}
          />
          <p className="hint">Written into the bundle’s description so the recipient knows.</p>
        </div>
        <div hidden={!encrypted}>
          <PassphraseField ref={srcPassRef} label="Passphrase of this image" />
        </div>
      </div>
      <div hidden={step !== 'pass'} className="stack">
        <HandOverChoice mode={mode} onMode={setMode} />
        <div hidden={mode !== 'passphrase'}>
          <RecipientPassphrase
            ref={recipientRef}
            active={step === 'pass' && mode === 'passphrase'}
            onChange={() => setError(null)}
          />
        </div>
        {mode === 'keys' && (
          <KeyRecipients
            text={keyText}
            onText={setKeyText}
            described={described.keys}
            problem={described.problem}
          />
        )}
        <SigningChoice
          keys={ownKeys}
          value={signWith}
          onValue={setSignWith}
          passRef={signPassRef}
        />
        <MasterKeyChoice keep={keep} onKeep={setKeep} canKeep={isLuks} />
        <AdvancedSettings>
          <UnlockTimeField
            value={unlockMs}
            onChange={setUnlockMs}
            hint="How long opening the image takes the recipient. Longer makes guessing slower."
          />
        </AdvancedSettings>
      </div>
      <div hidden={step !== 'where'} className="stack">
        <BundleTarget
          {...{ folder, name, tar, onTar: setTar, problems: pre.problems }}
          onFolder={(f: string) => (setFolder(f), pre.clear())}
          onName={(n: string) => (setName(n), pre.clear())}
        />
        <div className="card inset">
          <p className="small">
            <strong>The bundle will hold:</strong> the encrypted image, manifest.json (description
            and checksum), secret.xml and disk.xml for libvirt, and a README
            {mode === 'keys' ? '; secret.age, the secret sealed to the recipients’ keys' : ''}
            {signer ? '; manifest.json.sig, your signature' : ''}.{' '}
            {mode === 'keys'
              ? 'No passphrase is shown to anyone: only the recipients’ private keys open it.'
              : 'No passphrase is written into it.'}
          </p>
          {(mode === 'keys' || signer) && (
            <SealSummary keys={mode === 'keys' ? (described.keys ?? []) : []} signer={signer} />
          )}
          <p className="muted small path">{outPath}</p>
        </div>
      </div>
      {step === 'run' && job && (
        <JobPanel
          job={job}
          cancelledText="Cancelled. Your image is untouched; no half-written image was left behind."
        >
          {ok && (
            <ExportDone
              recipient={recipient.trim()}
              bundleDir={tarPath ?? bundleDir}
              tarPath={tarPath}
              sha={sha}
              files={files}
              sealedTo={
                Array.isArray(job.result?.sealedTo) ? (job.result.sealedTo as string[]) : []
              }
              signedBy={typeof job.result?.signedBy === 'string' ? job.result.signedBy : null}
            />
          )}
        </JobPanel>
      )}
      {browsing && (
        <FileBrowser
          mode="file"
          title="Choose the image to hand over"
          onClose={() => setBrowsing(false)}
          onPick={(p) => {
            setBrowsing(false);
            setSource(p);
          }}
        />
      )}
    </Dialog>
  );
}

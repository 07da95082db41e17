/**
 * Export wizard ("Hand over…", issue #6): pick an image, name the recipient, unlock the source,
 * choose the recipient's passphrase and the master-key policy, write a bundle folder
 * (image, manifest, libvirt XML, README, optional .tar) with progress and Cancel.
 */
import { useEffect, useId, useRef, useState } from 'react';
import type { DirectoryEntry, ImageInfo } from '../../../core/api/index.js';
import { api } from '../bridge/index.js';
import { describeError } from '../bridge/errors.js';
import { peekPassphrase, takePassphrase, wipe } from '../bridge/secret.js';
import { Dialog } from '../components/Dialog.js';
import { FileBrowser } from '../components/FileBrowser.js';
import { Icon } from '../components/Icon.js';
import { JobProgress } from '../components/JobProgress.js';
import { PassphraseField } from '../components/PassphraseField.js';
import { TargetPicker } from '../components/TargetPicker.js';
import {
  describeFormat,
  encryptionLabel,
  formatBytes,
  joinPath,
  splitPath,
} from '../lib/format.js';
import { useStore } from '../store/index.js';
import {
  ExportDone,
  MasterKeyChoice,
  RecipientPassphrase,
  type RecipientPassHandle,
} from './export-parts.js';

type Step = 'image' | 'pass' | 'where' | 'run';
const STEPS: [Step, string][] = [
  ['image', 'Image and recipient'],
  ['pass', 'Passphrase'],
  ['where', 'Where'],
  ['run', 'Export'],
];

/** A folder-name-safe form of the recipient label. */
function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
}

export function ExportWizard(props: { source?: string; onClose: () => void }) {
  const library = useStore((s) => s.library);
  const [source, setSource] = useState(props.source ?? '');
  const [info, setInfo] = useState<ImageInfo | null>(null);
  const [browsing, setBrowsing] = useState(false);
  const [recipient, setRecipient] = useState('');
  const [step, setStep] = useState<Step>('image');
  const [keep, setKeep] = useState(false);
  const [tar, setTar] = useState(false);
  const [unlockMs, setUnlockMs] = useState('2000');
  const [folder, setFolder] = useState('');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);
  const [files, setFiles] = useState<DirectoryEntry[] | null>(null);
  const ids = { image: useId(), recipient: useId(), unlock: useId() };
  const srcPassRef = useRef<HTMLInputElement>(null);
  const recipientRef = useRef<RecipientPassHandle>(null);
  const job = useStore((s) => (jobId ? s.jobs[jobId] : undefined));
  const upsertJob = useStore((s) => s.upsertJob);
  const cancelJob = useStore((s) => s.cancelJob);

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

  const start = async () => {
    setError(null);
    if (!info) return setStep('image');
    if (!folder.startsWith('/') || !name.trim() || name.includes('/'))
      return setError('Choose a folder and a name for the bundle folder.');
    const r = recipientRef.current?.read();
    if (!r?.ok) {
      setStep('pass');
      return setError(r?.reason ?? 'Choose the recipient’s passphrase.');
    }
    const srcPass = encrypted ? takePassphrase(srcPassRef.current) : undefined;
    const ms = Number(unlockMs);
    setBusy(true);
    try {
      const started = await api().startExport({
        source: info.path,
        bundleDir,
        recipient: recipient.trim(),
        sourcePassphrase: srcPass,
        recipientPassphrase: r.bytes,
        keepMasterKey: keep || undefined,
        tar: tar || undefined,
        encryption: { iterTimeMs: Number.isInteger(ms) && ms > 0 ? ms : 2000 },
      });
      upsertJob(started);
      setJobId(started.id);
      setStep('run');
    } catch (e) {
      wipe(srcPass, r.bytes);
      setError(`${describeError(e)} Type the passphrases again.`);
      setStep('image');
    } finally {
      setBusy(false);
    }
    // On success the service owns (and wipes) the passphrase bytes it was given.
  };

  const ok = job?.state === 'succeeded';
  const running = job?.state === 'running';
  useEffect(() => {
    if (!ok) return;
    api()
      .listDirectory(bundleDir)
      .then((l) => setFiles(l.entries.filter((e) => e.kind === 'file')))
      .catch(() => setFiles([]));
  }, [ok, bundleDir]);
  const tarPath = typeof job?.result?.tar === 'string' ? job.result.tar : null;
  const sha = typeof job?.result?.sha256 === 'string' ? job.result.sha256 : null;

  const back = (to: Step) => (
    <button type="button" className="button" onClick={() => setStep(to)} disabled={busy}>
      Back
    </button>
  );
  const footer =
    step === 'image' ? (
      <>
        <button type="button" className="button" onClick={props.onClose}>
          Cancel
        </button>
        <button
          type="button"
          className="button primary"
          disabled={busy || !info}
          onClick={() => void nextFromImage()}
        >
          {busy ? 'Checking…' : 'Next'}
        </button>
      </>
    ) : step === 'pass' ? (
      <>
        {back('image')}
        <button
          type="button"
          className="button primary"
          onClick={() => {
            const p = recipientRef.current?.check();
            setError(p ?? null);
            if (!p) setStep('where');
          }}
        >
          Next
        </button>
      </>
    ) : step === 'where' ? (
      <>
        {back('pass')}
        <button
          type="button"
          className="button primary"
          disabled={busy}
          onClick={() => void start()}
        >
          <Icon name="lock" /> Export bundle
        </button>
      </>
    ) : running ? null : (
      <button type="button" className="button primary" onClick={props.onClose}>
        {ok ? 'Done' : 'Close'}
      </button>
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
      <ol className="steps" aria-label="Steps">
        {STEPS.map(([s, label], i) => (
          <li
            key={s}
            className={s === step ? 'current' : ''}
            aria-current={s === step ? 'step' : undefined}
          >
            {i + 1}. {label}
          </li>
        ))}
      </ol>
      {error && (
        <p className="alert error" role="alert">
          {error}
        </p>
      )}
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
        <RecipientPassphrase
          ref={recipientRef}
          active={step === 'pass'}
          onChange={() => setError(null)}
        />
        <MasterKeyChoice keep={keep} onKeep={setKeep} canKeep={isLuks} />
        <details className="advanced">
          <summary>Advanced settings</summary>
          <div className="field">
            <label htmlFor={ids.unlock}>Unlock time (ms)</label>
            <input
              id={ids.unlock}
              type="number"
              min="1"
              value={unlockMs}
              onChange={(e) => setUnlockMs(e.target.value)}
              className="narrow"
            />
            <p className="hint">
              How long opening the image takes the recipient. Longer makes guessing slower.
            </p>
          </div>
        </details>
      </div>
      <div hidden={step !== 'where'} className="stack">
        <TargetPicker
          folder={folder}
          name={name}
          onFolder={setFolder}
          onName={setName}
          folderLabel="Save bundle in folder"
          nameLabel="Bundle folder name"
        />
        <label className="check">
          <input type="checkbox" checked={tar} onChange={(e) => setTar(e.target.checked)} />
          Also pack the bundle into one .tar file (easier to send)
        </label>
        <div className="card inset">
          <p className="small">
            <strong>The bundle folder will hold:</strong> the encrypted image, manifest.json
            (description and checksum), secret.xml and disk.xml for libvirt, and a README. No
            passphrase is written into it.
          </p>
          <p className="muted small path">{bundleDir}</p>
        </div>
      </div>
      {step === 'run' && job && (
        <div className="stack" aria-live="polite">
          <JobProgress job={job} onCancel={() => void cancelJob(job.id)} />
          {ok && (
            <ExportDone
              recipient={recipient.trim()}
              bundleDir={bundleDir}
              tarPath={tarPath}
              sha={sha}
              files={files}
            />
          )}
          {job.state === 'cancelled' && (
            <p className="alert info" role="status">
              Cancelled. Your image is untouched; no half-written image was left behind.
            </p>
          )}
          {job.state === 'failed' && (
            <p className="alert error" role="alert">
              {describeError({ code: job.error?.code, message: job.error?.message ?? 'Failed' })}
            </p>
          )}
        </div>
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

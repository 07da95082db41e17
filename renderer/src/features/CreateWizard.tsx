/**
 * Create wizard: kind (qcow2+LUKS default, raw LUKS, plain qcow2), size, location, passphrase
 * twice with meter and generator, advanced cipher/hash/unlock time (benchmarked), then done.
 */
import { useEffect, useId, useRef, useState } from 'react';
import type { CreateRequest, ImageInfo } from '../../../core/api/index.js';
import { api } from '../bridge/index.js';
import { describeError } from '../bridge/errors.js';
import { wipe } from '../bridge/secret.js';
import {
  AdvancedSettings,
  UnlockTimeField,
  parseUnlockMs,
} from '../components/AdvancedSettings.js';
import { ButtonPair, CloseAndShow } from '../components/DialogButtons.js';
import { Dialog } from '../components/Dialog.js';
import { ErrorAlert } from '../components/ErrorAlert.js';
import { Icon } from '../components/Icon.js';
import { NewPassphrase, type NewPassphraseHandle } from '../components/NewPassphrase.js';
import { TargetPicker } from '../components/TargetPicker.js';
import { formatDuration, joinPath } from '../lib/format.js';
import { useStore } from '../store/index.js';

type Kind = 'qcow2-luks' | 'luks' | 'qcow2';
const KINDS: { id: Kind; title: string; text: string }[] = [
  {
    id: 'qcow2-luks',
    title: 'qcow2 + LUKS (recommended)',
    text: 'Grows as the VM writes; opens in QEMU and libvirt everywhere.',
  },
  {
    id: 'luks',
    title: 'Raw LUKS volume',
    text: 'Fixed size, the cryptsetup layout; also opens in QEMU.',
  },
  { id: 'qcow2', title: 'qcow2 without encryption', text: 'Anyone with the file can read it.' },
];
const CIPHERS = [
  'aes-256-xts-plain64',
  'aes-128-xts-plain64',
  'aes-256-cbc-essiv:sha256',
  'aes-128-cbc-essiv:sha256',
];
const HASHES = ['sha256', 'sha512', 'sha1'];
const UNITS = { MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 } as const;

export function lastFolder(): string {
  try {
    return localStorage.getItem('image-vault.lastFolder') ?? '';
  } catch {
    return '';
  }
}

export function CreateWizard({ onClose }: { onClose: () => void }) {
  const [step, setStep] = useState<1 | 2 | 3>(1);
  const [kind, setKind] = useState<Kind>('qcow2-luks');
  const [size, setSize] = useState('20');
  const [unit, setUnit] = useState<keyof typeof UNITS>('GiB');
  const [folder, setFolder] = useState(lastFolder);
  const [name, setName] = useState('new-disk.qcow2');
  const [cipher, setCipher] = useState(CIPHERS[0]!);
  const [hash, setHash] = useState(HASHES[0]!);
  const [unlockMs, setUnlockMs] = useState('2000');
  const [bench, setBench] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<ImageInfo | null>(null);
  const pass = useRef<NewPassphraseHandle>(null);
  const ids = { size: useId(), unit: useId(), cipher: useId(), hash: useId() };
  const encrypted = kind !== 'qcow2';

  useEffect(() => {
    const ms = Number(unlockMs);
    if (!encrypted || !Number.isInteger(ms) || ms < 1 || ms > 120000) return setBench(null);
    let live = true;
    const t = setTimeout(() => {
      api()
        .benchmarkKdf(hash, ms)
        .then(
          (b) =>
            live &&
            setBench(
              `About ${formatDuration(ms / 1000)} to unlock on this machine (${b.iterations.toLocaleString('en-US')} iterations of ${b.hash}).`
            )
        )
        .catch(() => live && setBench(null));
    }, 350);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [unlockMs, hash, encrypted]);

  const onKind = (k: Kind) => {
    setKind(k);
    setName((n) => n.replace(/\.(qcow2|luks|img)$/, k === 'luks' ? '.luks' : '.qcow2'));
  };

  const validateFirst = (): string | null => {
    const n = Number(size);
    if (!Number.isFinite(n) || n <= 0) return 'Enter a disk size greater than zero.';
    if (!folder.startsWith('/')) return 'Choose the folder to save the image in.';
    if (!name.trim() || name.includes('/')) return 'Enter a file name (without slashes).';
    return null;
  };

  const submit = async () => {
    setError(null);
    const problem = validateFirst();
    if (problem) return setError(problem);
    let secret: Uint8Array | undefined;
    if (encrypted) {
      // Peeked: a failed create keeps the passphrase fields (problems show under them).
      const r = pass.current?.peek();
      if (!r || !r.ok) return;
      secret = r.bytes;
    }
    const req: CreateRequest = {
      path: joinPath(folder, name.trim()),
      format: kind === 'luks' ? 'luks' : 'qcow2',
      virtualSize: Math.round(Number(size) * UNITS[unit]),
      passphrase: secret,
      encryption: encrypted
        ? { cipher, hash, iterTimeMs: parseUnlockMs(unlockMs) ?? 2000 }
        : undefined,
    };
    setBusy(true);
    setStep(3);
    try {
      const info = await api().create(req);
      pass.current?.clear();
      setCreated(info);
      void useStore.getState().addToLibrary(info.path, { kind: 'created' });
    } catch (e) {
      setError(describeError(e));
      setStep(encrypted ? 2 : 1);
    } finally {
      wipe(secret);
      setBusy(false);
    }
  };

  const next = () => {
    const problem = validateFirst();
    if (problem) return setError(problem);
    setError(null);
    if (encrypted) setStep(2);
    else void submit();
  };

  const footer =
    step === 1 ? (
      <ButtonPair
        secondary={{ label: 'Cancel', onClick: onClose }}
        primary={{ label: encrypted ? 'Next' : 'Create image', onClick: next }}
      />
    ) : step === 2 ? (
      <ButtonPair
        secondary={{ label: 'Back', onClick: () => setStep(1) }}
        primary={{ label: 'Create image', onClick: () => void submit() }}
      />
    ) : created ? (
      <CloseAndShow onClose={onClose} path={created.path} label="Show image" />
    ) : null;

  return (
    <Dialog
      title="New disk image"
      subtitle={`Step ${step} of ${encrypted ? 3 : 2}`}
      onClose={onClose}
      busy={busy}
      footer={footer}
      wide
    >
      <ErrorAlert message={error} />
      <div hidden={step !== 1} className="stack">
        <fieldset className="choices">
          <legend>Kind of image</legend>
          {KINDS.map((k) => (
            <label key={k.id} className={`choice ${kind === k.id ? 'chosen' : ''}`}>
              <input
                type="radio"
                name="kind"
                value={k.id}
                checked={kind === k.id}
                onChange={() => onKind(k.id)}
              />
              <span>
                <strong>{k.title}</strong>
                <span className="muted small">{k.text}</span>
              </span>
            </label>
          ))}
        </fieldset>
        <div className="row">
          <div className="field">
            <label htmlFor={ids.size}>Disk size</label>
            <input
              id={ids.size}
              type="number"
              min="1"
              step="any"
              value={size}
              onChange={(e) => setSize(e.target.value)}
              className="narrow"
            />
          </div>
          <div className="field">
            <label htmlFor={ids.unit}>Unit</label>
            <select
              id={ids.unit}
              value={unit}
              onChange={(e) => setUnit(e.target.value as keyof typeof UNITS)}
            >
              {Object.keys(UNITS).map((u) => (
                <option key={u}>{u}</option>
              ))}
            </select>
          </div>
        </div>
        <TargetPicker folder={folder} name={name} onFolder={setFolder} onName={setName} />
      </div>
      <div hidden={step !== 2} className="stack">
        <p className="muted">
          This passphrase unlocks the image. You can add up to seven more later.
        </p>
        <NewPassphrase ref={pass} label="Passphrase" onEnter={() => void submit()} />
        <AdvancedSettings>
          <div className="grid-2">
            <div className="field">
              <label htmlFor={ids.cipher}>Cipher</label>
              <select id={ids.cipher} value={cipher} onChange={(e) => setCipher(e.target.value)}>
                {CIPHERS.map((c) => (
                  <option key={c}>{c}</option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor={ids.hash}>Hash</label>
              <select id={ids.hash} value={hash} onChange={(e) => setHash(e.target.value)}>
                {HASHES.map((c) => (
                  <option key={c}>{c}</option>
                ))}
              </select>
            </div>
            <UnlockTimeField
              value={unlockMs}
              onChange={setUnlockMs}
              max="120000"
              hint={bench ?? 'Longer unlock time = slower guessing for an attacker.'}
              liveHint
            />
          </div>
        </AdvancedSettings>
      </div>
      {step === 3 && (
        <div className="result" aria-live="polite">
          {created ? (
            <>
              <Icon name="check" size={36} className="ok-icon" />
              <h3>Image created</h3>
              <p className="muted path">{created.path}</p>
            </>
          ) : (
            <>
              <div className="spinner" role="progressbar" aria-label="Creating image" />
              <h3>Creating the image…</h3>
              <p className="muted">
                Deriving the key takes about {formatDuration(Number(unlockMs) / 1000)}.
              </p>
            </>
          )}
        </div>
      )}
    </Dialog>
  );
}

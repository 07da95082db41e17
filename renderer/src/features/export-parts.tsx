/**
 * Pieces of the export wizard (issue #6): the recipient-passphrase step (generated and shown
 * once, or typed twice), the master-key choice in plain words, and the finished bundle's
 * file list.
 */
import { forwardRef, useEffect, useId, useImperativeHandle, useRef, useState } from 'react';
import type { DirectoryEntry } from '../../../core/api/index.js';
import { clearInputs, peekPassphrase } from '../bridge/secret.js';
import { GeneratedSecret } from '../components/GeneratedSecret.js';
import { Icon } from '../components/Icon.js';
import { NewPassphrase, type NewPassphraseHandle } from '../components/NewPassphrase.js';
import { FieldProblem, type Problems } from '../components/Preflight.js';
import { TargetPicker } from '../components/TargetPicker.js';
import { formatBytes } from '../lib/format.js';
import { generatePassphrase } from '../lib/generator.js';

export type PassMode = 'generate' | 'type';

export interface RecipientPassHandle {
  /** Problem with the current input, or null. */
  check(): string | null;
  /** The passphrase bytes; the fields keep it (a start that fails keeps every input). */
  read(): { ok: true; bytes: Uint8Array } | { ok: false; reason: string };
  /** Clears the fields (once the job owns the bytes). */
  clear(): void;
}

/**
 * Recipient passphrase: a generated one, shown in a read-only field (the DOM holds it, never
 * React state or the store) with Copy, or one typed twice.
 */
export const RecipientPassphrase = forwardRef<
  RecipientPassHandle,
  { active: boolean; onChange?: () => void }
>(function RecipientPassphrase({ active, onChange }, ref) {
  const [mode, setMode] = useState<PassMode>('generate');
  const [saved, setSaved] = useState(false);
  const [generation, setGeneration] = useState(0);
  const genRef = useRef<HTMLInputElement>(null);
  const typedRef = useRef<NewPassphraseHandle>(null);
  const genId = useId();
  const savedId = useId();

  useEffect(() => {
    if (active && mode === 'generate' && genRef.current && !genRef.current.value) {
      genRef.current.value = generatePassphrase();
    }
  }, [active, mode]);

  const check = (): string | null => {
    if (mode === 'type') return typedRef.current?.check() ?? 'Type the passphrase.';
    if (!genRef.current?.value) return 'Generate a passphrase first.';
    if (!saved) return 'Confirm that you copied or wrote down the passphrase.';
    return null;
  };

  useImperativeHandle(ref, () => ({
    check,
    read() {
      if (mode === 'type') {
        return typedRef.current?.peek() ?? { ok: false, reason: 'Type the passphrase.' };
      }
      const problem = check();
      if (problem) return { ok: false, reason: problem };
      return { ok: true, bytes: peekPassphrase(genRef.current) };
    },
    clear() {
      typedRef.current?.clear();
      clearInputs(genRef.current);
    },
  }));

  const regenerate = () => {
    if (genRef.current) genRef.current.value = generatePassphrase();
    setSaved(false);
    setGeneration((g) => g + 1);
  };

  return (
    <div className="stack">
      <fieldset className="choices compact">
        <legend>Passphrase for the recipient</legend>
        <label className={`choice ${mode === 'generate' ? 'chosen' : ''}`}>
          <input
            type="radio"
            name="recipient-pass"
            checked={mode === 'generate'}
            onChange={() => {
              setMode('generate');
              onChange?.();
            }}
          />
          <span>
            <strong>Generate a strong passphrase (recommended)</strong>
          </span>
        </label>
        <label className={`choice ${mode === 'type' ? 'chosen' : ''}`}>
          <input
            type="radio"
            name="recipient-pass"
            checked={mode === 'type'}
            onChange={() => {
              setMode('type');
              onChange?.();
            }}
          />
          <span>
            <strong>Type one myself</strong>
          </span>
        </label>
      </fieldset>
      <div hidden={mode !== 'generate'} className="stack">
        <GeneratedSecret
          ref={genRef}
          id={genId}
          label="Generated passphrase"
          generation={generation}
          onRegenerate={regenerate}
        />
        <div className="alert warn" role="note">
          <Icon name="warning" />
          <div>
            <strong>Send this passphrase separately, not with the bundle.</strong>
            <p>
              Use another channel: read it out on the phone, or a different messenger. Whoever gets
              both the bundle and the passphrase can open the disk. It is shown only now and is not
              stored anywhere.
            </p>
          </div>
        </div>
        <label className="check" htmlFor={savedId}>
          <input
            id={savedId}
            type="checkbox"
            checked={saved}
            onChange={(e) => {
              setSaved(e.target.checked);
              onChange?.();
            }}
          />
          I have copied or written down the passphrase
        </label>
      </div>
      <div hidden={mode !== 'type'} className="stack">
        <NewPassphrase ref={typedRef} label="Recipient passphrase" />
        <p className="hint">
          <Icon name="info" size={14} /> Send it separately, not with the bundle.
        </p>
      </div>
    </div>
  );
});

/** Fresh master key (default) or keep it, with the trade-off in plain words. */
export function MasterKeyChoice(props: {
  keep: boolean;
  onKeep: (v: boolean) => void;
  canKeep: boolean;
}) {
  return (
    <fieldset className="choices">
      <legend>Encryption key of the copy</legend>
      <label className={`choice ${!props.keep ? 'chosen' : ''}`}>
        <input
          type="radio"
          name="master-key"
          checked={!props.keep}
          onChange={() => props.onKeep(false)}
        />
        <span>
          <strong>New master key (recommended)</strong>
          <span className="muted small">
            The whole disk is re-encrypted under a new key. It takes longer, but nothing from your
            side (your passphrases, old header backups, the old key) can open the recipient’s copy.
          </span>
        </span>
      </label>
      <label className={`choice ${props.keep ? 'chosen' : ''}`}>
        <input
          type="radio"
          name="master-key"
          checked={props.keep}
          disabled={!props.canKeep}
          onChange={() => props.onKeep(true)}
        />
        <span>
          <strong>Keep the master key, only swap passphrases</strong>
          <span className="muted small">
            Much faster: the file is copied as it is. But anyone who had the old master key or an
            old copy of the image header (with an old passphrase) can still open the copy.
            {!props.canKeep && ' Only possible for LUKS images.'}
          </span>
        </span>
      </label>
    </fieldset>
  );
}

const isImage = (name: string) => /\.(qcow2|luks|img)$/.test(name);

/** The files of a finished bundle. */
export function BundleContents({ files }: { files: DirectoryEntry[] }) {
  const what: Record<string, string> = {
    'manifest.json': 'Description and checksum (no secrets)',
    'secret.xml': 'libvirt secret definition (no passphrase)',
    'disk.xml': 'libvirt disk snippet for the VM',
    'README.txt': 'Instructions for the recipient',
  };
  return (
    <ul className="file-list" aria-label="Bundle contents">
      {[...files]
        .sort((a, b) => Number(isImage(b.name)) - Number(isImage(a.name)))
        .map((f) => (
          <li key={f.path}>
            <Icon name={isImage(f.name) ? 'disk' : 'file'} />
            <span className="grow">
              <strong>{f.name}</strong>
              <span className="muted small"> · {what[f.name] ?? 'Encrypted disk image'}</span>
            </span>
            <span className="muted small">{formatBytes(f.size)}</span>
          </li>
        ))}
    </ul>
  );
}

/** The done page: where the bundle is, what it holds, its checksum. */
export function ExportDone(props: {
  recipient: string;
  bundleDir: string;
  tarPath: string | null;
  sha: string | null;
  files: DirectoryEntry[] | null;
  sealedTo?: string[];
  signedBy?: string | null;
}) {
  const { recipient, bundleDir, tarPath, sha, files } = props;
  const sealed = (props.sealedTo ?? []).length > 0;
  return (
    <>
      <div className="alert success" role="status">
        <Icon name="shield" />
        <div>
          <strong>Bundle ready.</strong>
          <p>
            Send the {tarPath ? '.tar file' : 'folder'} to {recipient.trim()}
            {sealed
              ? '. There is no passphrase to send: their private key opens it.'
              : ', and the passphrase separately.'}
          </p>
        </div>
      </div>
      {files && <BundleContents files={files} />}
      <dl className="facts">
        <dt>{tarPath ? 'Bundle file' : 'Folder'}</dt>
        <dd className="path">{tarPath ?? bundleDir}</dd>
        {sealed && (
          <>
            <dt>Sealed to</dt>
            <dd>
              {props.sealedTo!.map((f) => (
                <div key={f}>
                  <code className="break">{f}</code>
                </div>
              ))}
            </dd>
          </>
        )}
        <dt>Signed by</dt>
        <dd>{props.signedBy ? <code className="break">{props.signedBy}</code> : 'not signed'}</dd>
        {sha && (
          <>
            <dt>SHA-256</dt>
            <dd>
              <code className="break">{sha}</code>
            </dd>
          </>
        )}
      </dl>
    </>
  );
}

/** A folder-name-safe form of the recipient label. */
export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
}

/** Where the bundle goes, with what the pre-start check found there (issue #14). */
export function BundleTarget(props: {
  folder: string;
  name: string;
  onFolder: (f: string) => void;
  onName: (n: string) => void;
  tar: boolean;
  onTar: (t: boolean) => void;
  problems: Problems;
}) {
  return (
    <>
      <TargetPicker
        folder={props.folder}
        name={props.name}
        onFolder={props.onFolder}
        onName={props.onName}
        folderLabel="Save bundle in folder"
        nameLabel="Bundle name"
      />
      <FieldProblem problem={props.problems.target} />
      <FieldProblem problem={props.problems.space} />
      <FieldProblem problem={props.problems.source} />
      <FieldProblem problem={props.problems.form} />
      <label className="check">
        <input
          type="checkbox"
          checked={props.tar}
          onChange={(e) => props.onTar(e.target.checked)}
        />
        One .tar file (easier to send; unchecked: a folder)
      </label>
    </>
  );
}

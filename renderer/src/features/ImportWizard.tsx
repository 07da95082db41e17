/**
 * Import wizard (issue #6): pick or drop a bundle folder, show its manifest, unlock with the
 * handed-over passphrase, replace it with the user's own (default), choose the target and
 * optionally define the libvirt secret; progress, then the disk XML and libvirt steps.
 */
import { useEffect, useId, useRef, useState, type DragEvent } from 'react';
import { api, pathForDroppedFile } from '../bridge/index.js';
import { readBundle, MANIFEST_FILE, type BundleSummary } from '../bridge/bundle.js';
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
import { FileBrowser } from '../components/FileBrowser.js';
import { Icon } from '../components/Icon.js';
import { JobPanel, useFollowedJob } from '../components/JobPanel.js';
import { NewPassphrase, type NewPassphraseHandle } from '../components/NewPassphrase.js';
import { PassphraseField } from '../components/PassphraseField.js';
import { FieldProblem, FieldProblems, usePreflight } from '../components/Preflight.js';
import { StepList } from '../components/StepList.js';
import { TargetPicker } from '../components/TargetPicker.js';
import { isTargetChosen, joinPath, splitPath } from '../lib/format.js';
import { useStore } from '../store/index.js';
import { BundleSummaryCard, ImportResult, LibvirtOption, RETYPE } from './import-parts.js';
import {
  IdentityStep,
  PathField,
  SignerNotice,
  useKeyEncrypted,
  type Rekey,
} from './import-keys.js';
import { useOwnKeys } from './export-keys.js';

type Step = 'bundle' | 'unlock' | 'target' | 'run';
const STEPS: [Step, string][] = [
  ['bundle', 'Bundle'],
  ['unlock', 'Open'],
  ['target', 'Where'],
  ['run', 'Import'],
];

export function ImportWizard({ onClose }: { onClose: () => void }) {
  const [step, setStep] = useState<Step>('bundle');
  const [dir, setDir] = useState('');
  const [bundle, setBundle] = useState<BundleSummary | null>(null);
  const [browsing, setBrowsing] = useState(false);
  const [rotate, setRotate] = useState(true);
  const [libvirt, setLibvirt] = useState(false);
  const [uri, setUri] = useState('qemu:///system');
  const [unlockMs, setUnlockMs] = useState('2000');
  const [folder, setFolder] = useState('');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [allowed, setAllowed] = useState('');
  const [identity, setIdentity] = useState('');
  const [rekey, setRekey] = useState<Rekey>('fresh');
  const ownKeys = useOwnKeys();
  const identityEncrypted = useKeyEncrypted(identity);
  const identityPassRef = useRef<HTMLInputElement>(null);
  const [tarBrowsing, setTarBrowsing] = useState(false);
  const dirId = useId();
  const handedRef = useRef<HTMLInputElement>(null);
  const newRef = useRef<NewPassphraseHandle>(null);
  const { job, follow } = useFollowedJob();
  const pre = usePreflight();
  const target = joinPath(folder, name.trim());

  const sealed = !!bundle?.sealedTo;
  useEffect(() => {
    if (identity || ownKeys.length === 0) return;
    const first = ownKeys.find((k) => k.privatePath.endsWith('/id_ed25519')) ?? ownKeys[0];
    if (first) setIdentity(first.privatePath);
  }, [ownKeys, identity]);

  const load = async (path: string, allowedSigners = allowed) => {
    const p = path.trim().replace(new RegExp(`/${MANIFEST_FILE}$`), '');
    if (!p.startsWith('/')) return setError('Give the full path of the bundle folder or file.');
    setDir(p);
    setBundle(null);
    setError(null);
    setBusy(true);
    try {
      const b = await readBundle(p, allowedSigners.trim() || undefined);
      setBundle(b);
      setDir(b.dir);
      setFolder((f) => f || splitPath(b.dir).dir);
      setName(b.image);
      if (b.sealedTo) setLibvirt(true);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    e.stopPropagation();
    const f = e.dataTransfer.files[0];
    const p = f ? pathForDroppedFile(f) : null;
    if (p) void load(p);
    else setError('This browser does not reveal where a dropped folder lives. Use Browse….');
  };

  const nextFromUnlock = async () => {
    if (!bundle) return setStep('bundle');
    if (sealed) {
      if (!identity.startsWith('/')) return setError('Choose the key the bundle was sealed to.');
      if (identityEncrypted && !identityPassRef.current?.value)
        return setError('Type the passphrase of your key.');
      const problem = rekey === 'mine' ? newRef.current?.check() : null;
      if (problem) return setError(problem);
      setError(null);
      return setStep('target');
    }
    if (!handedRef.current?.value) return setError('Type the passphrase you were given.');
    if (!bundle.imagePath) {
      // A .tar bundle is read as one stream: the import itself checks the passphrase first.
      const problem = rotate ? newRef.current?.check() : null;
      if (problem) return setError(problem);
      setError(null);
      return setStep('target');
    }
    if (rotate) {
      const problem = newRef.current?.check();
      if (problem) return setError(problem);
    }
    setError(null);
    setBusy(true);
    const bytes = peekPassphrase(handedRef.current);
    try {
      await api().keyslotTest(bundle.imagePath, bytes);
      setStep('target');
    } catch (e) {
      setError(describeError(e));
    } finally {
      wipe(bytes);
      setBusy(false);
    }
  };

  const start = async () => {
    setError(null);
    if (!bundle) return setStep('bundle');
    if (!isTargetChosen(folder, name))
      return setError('Choose a folder and a file name for the imported image.');
    const libvirtUri = libvirt ? uri.trim() || 'qemu:///system' : undefined;
    if (!(await pre.run({ kind: 'import', source: bundle.dir, target, libvirtUri }))) return;
    let fresh: Uint8Array | undefined;
    if (sealed ? rekey === 'mine' : rotate) {
      const r = newRef.current?.peek();
      if (!r?.ok) {
        setStep('unlock');
        return setError(r?.reason ?? 'Type your new passphrase.');
      }
      fresh = r.bytes;
    }
    const handed = sealed ? undefined : peekPassphrase(handedRef.current);
    const idPass =
      sealed && identityEncrypted ? peekPassphrase(identityPassRef.current) : undefined;
    setBusy(true);
    try {
      const started = await api().startImport({
        bundleDir: bundle.dir,
        target,
        ...(handed ? { passphrase: handed } : {}),
        ...(sealed ? { identityFile: identity } : {}),
        ...(idPass ? { identityPassphrase: idPass } : {}),
        ...(allowed.trim() ? { allowedSignersFile: allowed.trim() } : {}),
        newPassphrase: fresh,
        libvirtUri: libvirt ? uri.trim() || undefined : undefined,
        defineSecret: libvirt || undefined,
        encryption: rotate ? { iterTimeMs: parseUnlockMs(unlockMs) ?? 2000 } : undefined,
      });
      follow(started);
      clearInputs(handedRef.current, identityPassRef.current);
      newRef.current?.clear();
      setStep('run');
    } catch (e) {
      wipe(handed, fresh, idPass);
      setError(`The import could not start: ${describeError(e)}`);
    } finally {
      setBusy(false);
    }
    // Peeked above: a failed start keeps every field; the service owns (and wipes) the bytes.
  };

  const retypeToRetry = () => (setStep('unlock'), setError(RETYPE));
  const running = job?.state === 'running';
  const ok = job?.state === 'succeeded';
  useEffect(() => {
    if (ok) void useStore.getState().refreshImage(target);
  }, [ok, target]);

  const back = (to: Step) => ({ label: 'Back', onClick: () => setStep(to), disabled: busy });
  const footer =
    step === 'bundle' ? (
      <ButtonPair
        secondary={{ label: 'Cancel', onClick: onClose }}
        primary={{ label: 'Next', onClick: () => setStep('unlock'), disabled: !bundle || busy }}
      />
    ) : step === 'unlock' ? (
      <ButtonPair
        secondary={back('bundle')}
        primary={{
          label: busy ? 'Checking…' : 'Next',
          onClick: () => void nextFromUnlock(),
          disabled: busy,
        }}
      />
    ) : step === 'target' ? (
      <ButtonPair
        secondary={back('unlock')}
        primary={{
          label: (
            <>
              <Icon name="upload" /> {pre.awaitingConfirm ? 'Import anyway' : 'Import'}
            </>
          ),
          onClick: () => void start(),
          disabled: busy,
        }}
      />
    ) : running ? null : ok ? (
      <CloseAndShow onClose={onClose} path={target} label="Show imported image" />
    ) : (
      <ButtonPair secondary={back('target')} primary={{ label: 'Close', onClick: onClose }} />
    );

  return (
    <Dialog
      title="Import a bundle"
      subtitle="Receive an encrypted image someone handed over"
      onClose={onClose}
      busy={busy}
      footer={footer}
      wide
    >
      <StepList steps={STEPS} current={step} />
      <ErrorAlert message={error} />
      <div hidden={step !== 'bundle'} className="stack">
        <div
          className="dropzone small-drop"
          aria-label="Drop a bundle folder here"
          onDragOver={(e) => {
            e.preventDefault();
            e.stopPropagation();
          }}
          onDrop={onDrop}
        >
          <Icon name="folder" size={24} />
          <div>
            <strong>Drop the bundle folder here</strong>
            <p className="muted small">
              or choose it: the folder that holds {MANIFEST_FILE} and the disk image.
            </p>
          </div>
        </div>
        <form
          className="field"
          onSubmit={(e) => {
            e.preventDefault();
            void load(dir);
          }}
        >
          <label htmlFor={dirId}>Bundle (folder or .tar file)</label>
          <div className="input-with-button">
            <input
              id={dirId}
              value={dir}
              spellCheck={false}
              placeholder="/home/you/Downloads/vm-bundle"
              onChange={(e) => setDir(e.target.value)}
            />
            <button type="submit" className="button" disabled={busy || !dir.trim()}>
              Read
            </button>
            <button type="button" className="button" onClick={() => setBrowsing(true)}>
              <Icon name="folder" /> Folder…
            </button>
            <button type="button" className="button" onClick={() => setTarBrowsing(true)}>
              <Icon name="file" /> .tar file…
            </button>
          </div>
        </form>
        <PathField
          label="Allowed signers file (optional)"
          value={allowed}
          onValue={setAllowed}
          onCommit={(v) => dir.trim() && void load(dir, v)}
          browseTitle="Choose an allowed-signers file (ssh-keygen format)"
          hint="With one, a bundle that no signer listed there signed is refused before anything is written."
        />
        {busy && !bundle && <p className="muted">Reading the bundle…</p>}
        {bundle && <SignerNotice signer={bundle.signer} />}
        {bundle && <BundleSummaryCard bundle={bundle} />}
      </div>
      <div hidden={step !== 'unlock' || !sealed} className="stack">
        <IdentityStep
          ownKeys={ownKeys}
          identity={identity}
          onIdentity={setIdentity}
          encrypted={identityEncrypted}
          passRef={identityPassRef}
          rekey={rekey}
          onRekey={setRekey}
        />
      </div>
      <div hidden={step !== 'unlock' || sealed} className="stack">
        <PassphraseField
          ref={handedRef}
          label="Handed-over passphrase"
          hint="The passphrase the sender gave you separately."
        />
        <label className="check">
          <input type="checkbox" checked={rotate} onChange={(e) => setRotate(e.target.checked)} />
          Replace it with my own passphrase (recommended)
        </label>
        <p className="hint">
          The sender knows the handed-over passphrase. Replacing it means only you can open the disk
          from now on.
        </p>
        {!rotate && (
          <p className="alert warn" role="note">
            <Icon name="warning" /> The sender will still be able to open your copy with the
            passphrase they chose.
          </p>
        )}
      </div>
      <div hidden={step !== 'unlock' || (sealed ? rekey !== 'mine' : !rotate)} className="stack">
        <NewPassphrase ref={newRef} label="Your new passphrase" />
        <AdvancedSettings>
          <UnlockTimeField value={unlockMs} onChange={setUnlockMs} />
        </AdvancedSettings>
      </div>
      <div hidden={step !== 'target'} className="stack">
        <TargetPicker
          folder={folder}
          name={name}
          onFolder={(f) => (setFolder(f), pre.clear())}
          onName={(n) => (setName(n), pre.clear())}
          folderLabel="Save the image in folder"
        />
        <FieldProblems problems={pre.problems} fields={['target', 'space', 'source', 'form']} />
        <p className="hint">
          The image is copied and its checksum verified before it gets its final name.
        </p>
        <LibvirtOption enabled={libvirt} onEnabled={setLibvirt} uri={uri} onUri={setUri} />
        <FieldProblem problem={pre.problems.libvirt} />
      </div>
      {step === 'run' && job && (
        <JobPanel
          job={job}
          cancelledText="Cancelled. The bundle is untouched and no half-copied image was left behind."
        >
          {ok && job.result && (
            <ImportResult
              result={job.result}
              onRetry={sealed && !identityEncrypted && rekey === 'fresh' ? start : retypeToRetry}
            />
          )}
        </JobPanel>
      )}
      {tarBrowsing && (
        <FileBrowser
          mode="file"
          title="Choose the bundle file (.tar)"
          accept={/\.tar$/i}
          startPath={dir || undefined}
          onClose={() => setTarBrowsing(false)}
          onPick={(p) => {
            setTarBrowsing(false);
            void load(p);
          }}
        />
      )}
      {browsing && (
        <FileBrowser
          mode="folder"
          title="Choose the bundle folder"
          requireFile={MANIFEST_FILE}
          pickLabel="Use this bundle"
          startPath={dir || undefined}
          onClose={() => setBrowsing(false)}
          onPick={(p) => {
            setBrowsing(false);
            void load(p);
          }}
        />
      )}
    </Dialog>
  );
}

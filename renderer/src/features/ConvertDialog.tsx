/**
 * Convert dialog: plain ↔ LUKS, raw LUKS ↔ qcow2 + LUKS. Runs as a job with progress and
 * Cancel; a cancelled conversion leaves no output behind.
 */
import { useId, useRef, useState } from 'react';
import type { ConvertRequest, OutputFormat } from '../../../core/api/index.js';
import { api } from '../bridge/index.js';
import { describeError } from '../bridge/errors.js';
import { clearInputs, peekPassphrase, wipe } from '../bridge/secret.js';
import { ButtonPair, CloseAndShow, FooterButton } from '../components/DialogButtons.js';
import { Dialog } from '../components/Dialog.js';
import { ErrorAlert } from '../components/ErrorAlert.js';
import { Icon } from '../components/Icon.js';
import { JobPanel, useFollowedJob } from '../components/JobPanel.js';
import { NewPassphrase, type NewPassphraseHandle } from '../components/NewPassphrase.js';
import { PassphraseField } from '../components/PassphraseField.js';
import { FieldProblem, usePreflight } from '../components/Preflight.js';
import { TargetPicker } from '../components/TargetPicker.js';
import { isTargetChosen, joinPath, splitPath } from '../lib/format.js';
import { useStore } from '../store/index.js';

type Output = 'qcow2-luks' | 'luks' | 'qcow2' | 'raw';
const OUTPUTS: {
  id: Output;
  label: string;
  format: OutputFormat;
  encrypted: boolean;
  ext: string;
}[] = [
  {
    id: 'qcow2-luks',
    label: 'qcow2 + LUKS (encrypted)',
    format: 'qcow2',
    encrypted: true,
    ext: '.qcow2',
  },
  {
    id: 'luks',
    label: 'Raw LUKS volume (encrypted)',
    format: 'luks',
    encrypted: true,
    ext: '.luks',
  },
  { id: 'qcow2', label: 'qcow2 (not encrypted)', format: 'qcow2', encrypted: false, ext: '.qcow2' },
  { id: 'raw', label: 'Raw image (not encrypted)', format: 'raw', encrypted: false, ext: '.img' },
];

export function ConvertDialog({ source, onClose }: { source: string; onClose: () => void }) {
  const info = useStore((s) => s.infos[source]);
  const srcEncrypted = info?.encrypted ?? false;
  const src = splitPath(source);
  const [output, setOutput] = useState<Output>(srcEncrypted ? 'qcow2-luks' : 'qcow2-luks');
  const [folder, setFolder] = useState(src.dir);
  const [name, setName] = useState(src.name.replace(/(\.[a-z0-9]+)?$/i, '-converted.qcow2'));
  const [error, setError] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const [overwrite, setOverwrite] = useState(false);
  const [plainOk, setPlainOk] = useState(false);
  const [editing, setEditing] = useState(true);
  const pre = usePreflight();
  const plainId = useId();
  const overwriteId = useId();
  const srcPass = useRef<HTMLInputElement>(null);
  const newPass = useRef<NewPassphraseHandle>(null);
  const outputId = useId();
  const { job, follow } = useFollowedJob();
  const out = OUTPUTS.find((o) => o.id === output)!;
  const target = joinPath(folder, name.trim());

  const changeOutput = (o: Output) => {
    setOutput(o);
    const ext = OUTPUTS.find((x) => x.id === o)!.ext;
    setName((n) => n.replace(/\.(qcow2|luks|img|raw)$/i, ext));
  };

  const start = async () => {
    setError(null);
    pre.clear();
    if (!isTargetChosen(folder, name))
      return pre.setProblem('target', 'Choose a folder and a file name.');
    if (target === source)
      return pre.setProblem('target', 'Choose a different name for the converted image.');
    if (out.encrypted && newPass.current?.check()) return;
    if (srcEncrypted && !srcPass.current?.value)
      return pre.setProblem('sourcePassphrase', 'Type the passphrase of the source image.');
    if (srcEncrypted && !out.encrypted && !plainOk)
      return pre.setProblem(
        'form',
        'Confirm below that the output may be written without encryption.'
      );
    setStarting(true);
    // Peeked, not taken: a start that fails keeps every field as the user typed it.
    const sp = srcEncrypted ? peekPassphrase(srcPass.current) : undefined;
    let pass: Uint8Array | undefined;
    try {
      const ready = await pre.run({
        kind: 'convert',
        source,
        target,
        format: out.format,
        overwrite: overwrite || undefined,
        sourcePassphrase: sp,
      });
      if (!ready) return wipe(sp);
      if (out.encrypted) {
        const r = newPass.current?.peek();
        if (!r?.ok) return wipe(sp);
        pass = r.bytes;
      }
      const req: ConvertRequest = {
        source,
        target,
        format: out.format,
        passphrase: pass,
        sourcePassphrase: sp,
        verify: true,
        overwrite: overwrite || undefined,
      };
      follow(await api().startConvert(req));
      // The service owns (and wipes) the bytes it was given; the fields go now.
      clearInputs(srcPass.current);
      newPass.current?.clear();
      setEditing(false);
    } catch (e) {
      wipe(pass, sp);
      setError(`The conversion could not start: ${describeError(e)}`);
    } finally {
      setStarting(false);
    }
  };

  const running = job?.state === 'running';
  const footer =
    editing || !job ? (
      <ButtonPair
        secondary={{ label: 'Cancel', onClick: onClose }}
        primary={{
          label: (
            <>
              <Icon name="convert" />{' '}
              {starting
                ? 'Checking…'
                : pre.awaitingConfirm
                  ? 'Start conversion anyway'
                  : 'Start conversion'}
            </>
          ),
          onClick: () => void start(),
          disabled: starting,
        }}
      />
    ) : running ? (
      <FooterButton label="Run in background" onClick={onClose} />
    ) : job.state === 'succeeded' ? (
      <CloseAndShow onClose={onClose} path={target} label="Show new image" />
    ) : (
      <ButtonPair
        secondary={{ label: 'Back', onClick: () => setEditing(true) }}
        primary={{ label: 'Close', onClick: onClose }}
      />
    );

  return (
    <Dialog title="Convert image" subtitle={src.name} onClose={onClose} footer={footer} wide>
      <ErrorAlert message={error} />
      {editing || !job ? (
        <div className="stack">
          <div className="field">
            <label htmlFor={outputId}>Convert to</label>
            <select
              id={outputId}
              value={output}
              onChange={(e) => changeOutput(e.target.value as Output)}
            >
              {OUTPUTS.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.label}
                </option>
              ))}
            </select>
          </div>
          {srcEncrypted && (
            <PassphraseField
              ref={srcPass}
              label="Passphrase of the source image"
              autoFocus
              problem={pre.problems.sourcePassphrase?.message}
              onInput={() => pre.setProblem('sourcePassphrase', null)}
              onEnter={() => void start()}
            />
          )}
          {out.encrypted && (
            <NewPassphrase ref={newPass} label="New passphrase" onEnter={() => void start()} />
          )}
          <TargetPicker
            folder={folder}
            name={name}
            onFolder={(f) => {
              setFolder(f);
              pre.clear();
            }}
            onName={(n) => {
              setName(n);
              setOverwrite(false);
              pre.clear();
            }}
          />
          <FieldProblem problem={pre.problems.target} />
          {(pre.problems.target?.code === 'EXISTS' || overwrite) && (
            <label className="check" htmlFor={overwriteId}>
              <input
                id={overwriteId}
                type="checkbox"
                checked={overwrite}
                onChange={(e) => {
                  setOverwrite(e.target.checked);
                  pre.setProblem('target', null);
                }}
              />
              Replace the existing {name.trim()}
            </label>
          )}
          <FieldProblem problem={pre.problems.space} />
          <FieldProblem problem={pre.problems.source} />
          {srcEncrypted && !out.encrypted && (
            <div className="alert warn" role="note">
              <Icon name="warning" />
              <div>
                <strong>The output will not be encrypted.</strong>
                <p>
                  The source is encrypted; the converted image will hold the decrypted data in plain
                  form. Anyone who can read the file can read the disk.
                </p>
                <label className="check" htmlFor={plainId}>
                  <input
                    id={plainId}
                    type="checkbox"
                    checked={plainOk}
                    onChange={(e) => {
                      setPlainOk(e.target.checked);
                      pre.setProblem('form', null);
                    }}
                  />
                  Write the decrypted data without encryption
                </label>
              </div>
            </div>
          )}
          <FieldProblem problem={pre.problems.form} />
          <p className="hint">
            The source is never modified. The output is written as a .partial file and renamed when
            complete.
          </p>
        </div>
      ) : (
        <JobPanel
          job={job}
          header={<p className="muted path">{target}</p>}
          cancelledText="Conversion cancelled. No output file was left behind."
        >
          {job.state === 'succeeded' && (
            <p className="alert success" role="status">
              <Icon name="check" /> Conversion finished.
            </p>
          )}
        </JobPanel>
      )}
    </Dialog>
  );
}

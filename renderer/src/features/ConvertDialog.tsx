/**
 * Convert dialog: plain ↔ LUKS, raw LUKS ↔ qcow2 + LUKS. Runs as a job with progress and
 * Cancel; a cancelled conversion leaves no output behind.
 */
import { useId, useRef, useState } from 'react';
import type { ConvertRequest, OutputFormat } from '../../../core/api/index.js';
import { api } from '../bridge/index.js';
import { describeError } from '../bridge/errors.js';
import { takePassphrase, wipe } from '../bridge/secret.js';
import { ButtonPair, CloseAndShow, FooterButton } from '../components/DialogButtons.js';
import { Dialog } from '../components/Dialog.js';
import { ErrorAlert } from '../components/ErrorAlert.js';
import { Icon } from '../components/Icon.js';
import { JobPanel, useFollowedJob } from '../components/JobPanel.js';
import { NewPassphrase, type NewPassphraseHandle } from '../components/NewPassphrase.js';
import { PassphraseField } from '../components/PassphraseField.js';
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
    if (!isTargetChosen(folder, name)) return setError('Choose a folder and a file name.');
    if (target === source) return setError('Choose a different name for the converted image.');
    let pass: Uint8Array | undefined;
    let sp: Uint8Array | undefined;
    if (out.encrypted) {
      const r = newPass.current?.read();
      if (!r?.ok) return setError(r?.reason ?? 'Type the new passphrase.');
      pass = r.bytes;
    }
    if (srcEncrypted) {
      if (!srcPass.current?.value) {
        wipe(pass);
        return setError('Type the passphrase of the source image.');
      }
      sp = takePassphrase(srcPass.current);
    }
    const req: ConvertRequest = {
      source,
      target,
      format: out.format,
      passphrase: pass,
      sourcePassphrase: sp,
      verify: true,
    };
    setStarting(true);
    try {
      follow(await api().startConvert(req));
    } catch (e) {
      setError(describeError(e));
      wipe(pass, sp);
    } finally {
      setStarting(false);
    }
  };

  const running = job?.state === 'running';
  const footer = !job ? (
    <ButtonPair
      secondary={{ label: 'Cancel', onClick: onClose }}
      primary={{
        label: (
          <>
            <Icon name="convert" /> Start conversion
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
    <FooterButton label="Close" onClick={onClose} />
  );

  return (
    <Dialog title="Convert image" subtitle={src.name} onClose={onClose} footer={footer} wide>
      <ErrorAlert message={error} />
      {!job ? (
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
          {srcEncrypted && <PassphraseField ref={srcPass} label="Passphrase of the source image" />}
          {out.encrypted && <NewPassphrase ref={newPass} label="New passphrase" />}
          <TargetPicker folder={folder} name={name} onFolder={setFolder} onName={setName} />
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

/**
 * Convert dialog: plain ↔ LUKS, raw LUKS ↔ qcow2 + LUKS. Runs as a job with progress and
 * Cancel; a cancelled conversion leaves no output behind.
 */
import { useId, useRef, useState } from 'react';
import type { ConvertRequest, OutputFormat } from '../../../core/api/index.js';
import { api } from '../bridge/index.js';
import { describeError } from '../bridge/errors.js';
import { takePassphrase, wipe } from '../bridge/secret.js';
import { Dialog } from '../components/Dialog.js';
import { Icon } from '../components/Icon.js';
import { JobProgress } from '../components/JobProgress.js';
import { NewPassphrase, type NewPassphraseHandle } from '../components/NewPassphrase.js';
import { PassphraseField } from '../components/PassphraseField.js';
import { TargetPicker } from '../components/TargetPicker.js';
import { joinPath, splitPath } from '../lib/format.js';
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
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const srcPass = useRef<HTMLInputElement>(null);
  const newPass = useRef<NewPassphraseHandle>(null);
  const outputId = useId();
  const job = useStore((s) => (jobId ? s.jobs[jobId] : undefined));
  const upsertJob = useStore((s) => s.upsertJob);
  const cancelJob = useStore((s) => s.cancelJob);
  const openImage = useStore((s) => s.openImage);
  const out = OUTPUTS.find((o) => o.id === output)!;
  const target = joinPath(folder, name.trim());

  const changeOutput = (o: Output) => {
    setOutput(o);
    const ext = OUTPUTS.find((x) => x.id === o)!.ext;
    setName((n) => n.replace(/\.(qcow2|luks|img|raw)$/i, ext));
  };

  const start = async () => {
    setError(null);
    if (!folder.startsWith('/') || !name.trim() || name.includes('/'))
      return setError('Choose a folder and a file name.');
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
      const j = await api().startConvert(req);
      upsertJob(j);
      setJobId(j.id);
    } catch (e) {
      setError(describeError(e));
      wipe(pass, sp);
    } finally {
      setStarting(false);
    }
  };

  const running = job?.state === 'running';
  const footer = !job ? (
    <>
      <button type="button" className="button" onClick={onClose}>
        Cancel
      </button>
      <button
        type="button"
        className="button primary"
        onClick={() => void start()}
        disabled={starting}
      >
        <Icon name="convert" /> Start conversion
      </button>
    </>
  ) : running ? (
    <button type="button" className="button" onClick={onClose}>
      Run in background
    </button>
  ) : job.state === 'succeeded' ? (
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
  ) : (
    <button type="button" className="button" onClick={onClose}>
      Close
    </button>
  );

  return (
    <Dialog title="Convert image" subtitle={src.name} onClose={onClose} footer={footer} wide>
      {error && (
        <p className="alert error" role="alert">
          {error}
        </p>
      )}
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
        <div className="stack" aria-live="polite">
          <p className="muted path">{target}</p>
          <JobProgress job={job} onCancel={() => void cancelJob(job.id)} />
          {job.state === 'succeeded' && (
            <p className="alert success" role="status">
              <Icon name="check" /> Conversion finished.
            </p>
          )}
          {job.state === 'cancelled' && (
            <p className="alert info" role="status">
              Conversion cancelled. No output file was left behind.
            </p>
          )}
          {job.state === 'failed' && (
            <p className="alert error" role="alert">
              {describeError({ code: job.error?.code, message: job.error?.message ?? 'Failed' })}
            </p>
          )}
        </div>
      )}
    </Dialog>
  );
}

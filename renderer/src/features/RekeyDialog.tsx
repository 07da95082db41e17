/**
 * "Rotate master key…" (README "Master-key rotation"): a fresh master key for this image, in
 * place, as a job with progress and Cancel. A cancelled or interrupted rotation leaves the
 * image locked against VMs until it is resumed, which this dialog offers.
 */
import { useId, useRef, useState } from 'react';
import type { RekeyRequest } from '../../../core/api/index.js';
import { api } from '../bridge/index.js';
import { describeError } from '../bridge/errors.js';
import { takePassphrase, wipe } from '../bridge/secret.js';
import { ButtonPair, FooterButton } from '../components/DialogButtons.js';
import { Dialog } from '../components/Dialog.js';
import { ErrorAlert } from '../components/ErrorAlert.js';
import { Icon } from '../components/Icon.js';
import { JobPanel, useFollowedJob } from '../components/JobPanel.js';
import { NewPassphrase, type NewPassphraseHandle } from '../components/NewPassphrase.js';
import { PassphraseField } from '../components/PassphraseField.js';
import { useStore } from '../store/index.js';

export function RekeyDialog({ path, onClose }: { path: string; onClose: () => void }) {
  const info = useStore((s) => s.infos[path]);
  const refresh = useStore((s) => s.refreshImage);
  const active = info?.encryption?.slots.filter((s) => s.active).length ?? 0;
  const [changePass, setChangePass] = useState(false);
  const [dropOthers, setDropOthers] = useState(false);
  const [resume, setResume] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const pass = useRef<HTMLInputElement>(null);
  const newPass = useRef<NewPassphraseHandle>(null);
  const changeId = useId();
  const dropId = useId();
  const { job, follow } = useFollowedJob();
  const name = path.slice(path.lastIndexOf('/') + 1);

  const start = async (asResume: boolean) => {
    setError(null);
    if (!pass.current?.value) return setError('Type a passphrase of this image.');
    let np: Uint8Array | undefined;
    if (changePass) {
      const r = newPass.current?.read();
      if (!r?.ok) return setError(r?.reason ?? 'Type the new passphrase.');
      np = r.bytes;
    }
    const req: RekeyRequest = {
      path,
      passphrase: takePassphrase(pass.current),
      ...(np ? { newPassphrase: np } : {}),
      dropOtherSlots: dropOthers,
      resume: asResume,
    };
    setStarting(true);
    try {
      follow(await api().startRekey(req));
    } catch (e) {
      setError(describeError(e));
      wipe(req.passphrase, np);
    } finally {
      setStarting(false);
    }
  };

  const interrupted = job !== undefined && (job.state === 'cancelled' || job.state === 'failed');
  const footer = !job ? (
    <ButtonPair
      secondary={{ label: 'Cancel', onClick: onClose }}
      primary={{
        label: (
          <>
            <Icon name="key" /> {resume ? 'Resume rotation' : 'Rotate master key'}
          </>
        ),
        onClick: () => void start(resume),
        disabled: starting,
      }}
    />
  ) : job.state === 'running' ? (
    <FooterButton label="Run in background" onClick={onClose} />
  ) : (
    <FooterButton
      label="Done"
      onClick={() => {
        void refresh(path);
        onClose();
      }}
    />
  );

  return (
    <Dialog title="Rotate master key" subtitle={name} onClose={onClose} footer={footer} wide>
      <ErrorAlert message={error} />
      {!job ? (
        <div className="stack">
          <p>
            Gives this image a new master key and re-encrypts every allocated sector in place.
            Anyone who ever unlocked it (or holds a copy) can no longer read what it holds now. No
            second copy is made; VMs cannot use the image until the rotation has finished.
          </p>
          <PassphraseField ref={pass} label="Passphrase of the image" autoFocus />
          <label className="check" htmlFor={changeId}>
            <input
              id={changeId}
              type="checkbox"
              checked={changePass}
              onChange={(e) => setChangePass(e.target.checked)}
            />{' '}
            Give the new key a new passphrase
          </label>
          {changePass && <NewPassphrase ref={newPass} label="New passphrase" />}
          {active > 1 && (
            <label className="check" htmlFor={dropId}>
              <input
                id={dropId}
                type="checkbox"
                checked={dropOthers}
                onChange={(e) => setDropOthers(e.target.checked)}
              />{' '}
              Remove the other {active - 1} passphrase{active > 2 ? 's' : ''} (they are sealed to
              the old key and cannot be carried over)
            </label>
          )}
          <label className="check">
            <input type="checkbox" checked={resume} onChange={(e) => setResume(e.target.checked)} />{' '}
            Resume an interrupted rotation of this image
          </label>
        </div>
      ) : (
        <JobPanel
          job={job}
          header={<p className="muted path">{path}</p>}
          cancelledText="Rotation stopped. The image stays locked against VMs until the rotation is resumed (Rotate master key… → Resume)."
        >
          {job.state === 'succeeded' && (
            <p className="alert success" role="status">
              <Icon name="check" /> The image has a new master key.
            </p>
          )}
          {interrupted && (
            <p className="hint">Open Rotate master key… again and tick Resume to finish it.</p>
          )}
        </JobPanel>
      )}
    </Dialog>
  );
}

/**
 * "Back up header…" and "Restore header…" (README "Header backup and restore"). A backup copies
 * the LUKS header (keyslots and the wrapped master key) to a file; a restore rolls the header
 * back to it, so the passphrases of that time work again and later ones stop working. The
 * restore dialog checks the file first (a dry run) and says exactly that before anything is
 * written.
 */
import { useEffect, useRef, useState } from 'react';
import type { HeaderRestoreResult } from '../../../core/api/index.js';
import { api } from '../bridge/index.js';
import { describeError, errorCode } from '../bridge/errors.js';
import { takePassphrase, wipe } from '../bridge/secret.js';
import { ButtonPair, FooterButton } from '../components/DialogButtons.js';
import { Dialog } from '../components/Dialog.js';
import { FileBrowser } from '../components/FileBrowser.js';
import { Icon } from '../components/Icon.js';
import { PassphraseField } from '../components/PassphraseField.js';
import { TargetPicker } from '../components/TargetPicker.js';
import { useStore } from '../store/index.js';
import { useHeaderBackups } from '../store/header-backups.js';

const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1);
const dirName = (p: string) => p.slice(0, p.lastIndexOf('/')) || '/';
/** "keyslot 0", "keyslots 0, 3", "no keyslot". */
export const slotList = (s: number[]) =>
  s.length === 0 ? 'no keyslot' : `keyslot${s.length > 1 ? 's' : ''} ${s.join(', ')}`;

type Outcome = { ok: boolean; text: string } | null;

function OutcomeLine({ outcome }: { outcome: Outcome }) {
  if (!outcome) return null;
  return (
    <p
      className={`alert ${outcome.ok ? 'success' : 'error'}`}
      role={outcome.ok ? 'status' : 'alert'}
    >
      <Icon name={outcome.ok ? 'check' : 'warning'} /> {outcome.text}
    </p>
  );
}

/** Writes the image's LUKS header to a new file. */
export function HeaderBackupDialog(props: { path: string; onClose: () => void }) {
  const { path } = props;
  const remember = useHeaderBackups((s) => s.remember);
  const [folder, setFolder] = useState(dirName(path));
  const [name, setName] = useState(`${baseName(path)}.header-backup`);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);

  const run = async () => {
    setOutcome(null);
    if (!folder.startsWith('/') || !name || name.includes('/'))
      return setOutcome({ ok: false, text: 'Choose a folder and a file name.' });
    setBusy(true);
    try {
      const file = `${folder.replace(/\/+$/, '')}/${name}`;
      const r = await api().headerBackup({ path, file });
      remember(path, { file: r.file, createdAt: r.createdAt, activeSlots: r.activeSlots });
      setOutcome({
        ok: true,
        text: `Backed up: ${r.file} holds the header with ${slotList(r.activeSlots)}${
          r.format === 'cryptsetup' ? ' (cryptsetup luksHeaderRestore can use it too)' : ''
        }.`,
      });
    } catch (e) {
      setOutcome({ ok: false, text: describeError(e) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      title="Back up the header"
      subtitle={baseName(path)}
      onClose={props.onClose}
      busy={busy}
      footer={
        outcome?.ok ? (
          <FooterButton label="Done" onClick={props.onClose} tone="primary" />
        ) : (
          <ButtonPair
            secondary={{ label: 'Cancel', onClick: props.onClose }}
            primary={{
              label: busy ? 'Working…' : 'Back up',
              onClick: () => void run(),
              disabled: busy,
            }}
          />
        )
      }
    >
      <div className="stack">
        <p>
          The header holds the keyslots: the master key, locked once per passphrase. If it is
          damaged, the data is lost even with the right passphrase; with a backup you can put it
          back. No passphrase is needed.
        </p>
        {!outcome?.ok && (
          <TargetPicker
            folder={folder}
            name={name}
            onFolder={setFolder}
            onName={setName}
            nameLabel="Backup file name"
          />
        )}
        <p className="alert warn">
          <Icon name="warning" /> Keep the backup as safe as the image: with it, every passphrase
          that works today keeps opening the data, even after you change or remove it.
        </p>
        <OutcomeLine outcome={outcome} />
      </div>
    </Dialog>
  );
}

/** Rolls the image's header back to a backup file, after checking the file (a dry run). */
export function HeaderRestoreDialog(props: { path: string; onClose: () => void }) {
  const { path } = props;
  const known = useHeaderBackups((s) => s.known[path]);
  const refresh = useStore((s) => s.refreshImage);
  const pass = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState(known?.file ?? '');
  const [browsing, setBrowsing] = useState(false);
  const [check, setCheck] = useState<HeaderRestoreResult | null>(null);
  const [force, setForce] = useState(false);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);

  useEffect(() => {
    setCheck(null);
    setForce(false);
    if (!file.startsWith('/')) return;
    let live = true;
    // Checked once typing pauses: the dry run reads the file and the image's header.
    const timer = setTimeout(() => {
      api()
        .headerRestore({ path, file, dryRun: true })
        .then((r) => live && (setCheck(r), setOutcome(null)))
        .catch((e: unknown) => live && setOutcome({ ok: false, text: describeError(e) }));
    }, 300);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [path, file]);

  const run = async () => {
    setOutcome(null);
    if (!check) return setOutcome({ ok: false, text: 'Choose a backup file first.' });
    if (check.mismatches.length > 0 && !force)
      return setOutcome({ ok: false, text: 'Tick the box to restore a backup of another image.' });
    let passphrase: Uint8Array | undefined;
    setBusy(true);
    try {
      if (pass.current?.value) passphrase = takePassphrase(pass.current);
      const r = await api().headerRestore({ path, file, passphrase, force });
      setOutcome({
        ok: true,
        text: `Restored. Passphrases of ${slotList(r.backupSlots)} of the backup open the image again. The replaced header was kept in ${r.replacedHeader ?? 'a .bak file'}.`,
      });
      void refresh(path);
    } catch (e) {
      const text =
        errorCode(e) === 'WRONG_PASSPHRASE'
          ? 'That passphrase does not open the backup: nothing was changed.'
          : describeError(e);
      setOutcome({ ok: false, text });
    } finally {
      wipe(passphrase);
      setBusy(false);
    }
  };

  const done = outcome?.ok === true;
  return (
    <Dialog
      title="Restore the header"
      subtitle={baseName(path)}
      onClose={props.onClose}
      busy={busy}
      wide
      footer={
        done ? (
          <FooterButton label="Done" onClick={props.onClose} tone="primary" />
        ) : (
          <ButtonPair
            secondary={{ label: 'Cancel', onClick: props.onClose }}
            primary={{
              label: busy ? 'Working…' : 'Restore header',
              onClick: () => void run(),
              disabled: busy || !check,
            }}
            tone="danger"
          />
        )
      }
    >
      <div className="stack">
        <div className="alert warn">
          <Icon name="warning" size={20} />
          <div>
            <strong>A restore rolls the passphrases back to the time of the backup.</strong>
            <p>
              Passphrases that worked then work again, including ones you have since changed or
              removed. Passphrases added or changed after the backup stop working. The data itself
              is not touched, and the current header is kept in a .bak file beside the image, so you
              can undo this.
            </p>
          </div>
        </div>
        {!done && (
          <div className="field">
            <label htmlFor="restore-file">Backup file</label>
            <div className="input-with-button">
              <input
                id="restore-file"
                value={file}
                onChange={(e) => setFile(e.target.value)}
                spellCheck={false}
                placeholder="/home/you/vms/disk.qcow2.header-backup"
              />
              <button type="button" className="button" onClick={() => setBrowsing(true)}>
                <Icon name="file" /> Browse…
              </button>
            </div>
          </div>
        )}
        {check && !done && <RestorePreview check={check} />}
        {check && check.mismatches.length > 0 && !done && (
          <label className="check">
            <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} />
            Restore anyway: I know this backup belongs to this image
          </label>
        )}
        {!done && (
          <PassphraseField
            ref={pass}
            label="A passphrase of the backup (recommended)"
            hint="If given, the restore goes ahead only when it opens the backup."
          />
        )}
        <OutcomeLine outcome={outcome} />
      </div>
      {browsing && (
        <FileBrowser
          mode="file"
          title="Choose a header backup"
          startPath={dirName(file || path)}
          onClose={() => setBrowsing(false)}
          onPick={(p) => {
            setFile(p);
            setBrowsing(false);
          }}
        />
      )}
    </Dialog>
  );
}

function RestorePreview({ check }: { check: HeaderRestoreResult }) {
  const now = check.imageSlots;
  return (
    <div className="alert info" role="status" aria-label="What the restore changes">
      <Icon name="info" size={20} />
      <div>
        <strong>
          The backup holds a LUKS{check.luksVersion} header with {slotList(check.backupSlots)}.
        </strong>
        <p>
          {now
            ? `The image now uses ${slotList(now)}. After the restore, exactly the passphrases of ${slotList(check.backupSlots)} as they were at the backup open it.`
            : 'The image has no readable header now; the restore writes the backup in its place.'}
        </p>
        {check.mismatches.map((m) => (
          <p key={m}>
            <Icon name="warning" size={14} /> {m}
          </p>
        ))}
      </div>
    </div>
  );
}

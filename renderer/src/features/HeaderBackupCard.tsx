/**
 * The header backup hooks of the image screens: a card in Details ("Back up header…",
 * "Restore header…", the last backup this app made), and a prompt in the keyslot dialogs to
 * back up first when no backup of the image is known.
 */
import { useState } from 'react';
import type { ImageInfo } from '../../../core/api/index.js';
import { Icon } from '../components/Icon.js';
import { useHeaderBackups } from '../store/header-backups.js';
import { HeaderBackupDialog, HeaderRestoreDialog, slotList } from './HeaderBackupDialog.js';

/** Details card: back up or restore the LUKS header. */
export function HeaderBackupCard(props: {
  path: string;
  info: ImageInfo;
  /** Why writing is refused now (the image is in use), if it is. */
  writeBlocked?: string;
  readBlocked?: string;
}) {
  const { path } = props;
  const known = useHeaderBackups((s) => s.known[path]);
  const [open, setOpen] = useState<'backup' | 'restore' | null>(null);
  if (props.info.encryption?.format !== 'luks') return null;
  return (
    <article className="card" aria-labelledby="header-backup-title">
      <header className="row spread">
        <div>
          <h2 id="header-backup-title">Header backup</h2>
          <p className="muted small">
            {known
              ? `Last backup: ${known.file} (${new Date(known.createdAt).toLocaleString()}, ${slotList(known.activeSlots)}).`
              : 'No backup of this header is known. A backup lets you recover from a damaged header or undo passphrase changes.'}
          </p>
        </div>
        <div className="row wrap">
          <button
            type="button"
            className="button"
            disabled={props.readBlocked !== undefined}
            title={props.readBlocked}
            onClick={() => setOpen('backup')}
          >
            <Icon name="shield" /> Back up header…
          </button>
          <button
            type="button"
            className="button danger-ghost"
            disabled={props.writeBlocked !== undefined}
            title={props.writeBlocked}
            onClick={() => setOpen('restore')}
          >
            <Icon name="refresh" /> Restore header…
          </button>
        </div>
      </header>
      {open === 'backup' && <HeaderBackupDialog path={path} onClose={() => setOpen(null)} />}
      {open === 'restore' && <HeaderRestoreDialog path={path} onClose={() => setOpen(null)} />}
    </article>
  );
}

/** In a keyslot dialog: suggests a header backup first when none of this image is known. */
export function BackupFirstPrompt({ path }: { path: string }) {
  const known = useHeaderBackups((s) => s.known[path]);
  const [open, setOpen] = useState(false);
  if (known && !open) return null;
  return (
    <div className="alert info" role="note">
      <Icon name="shield" size={20} />
      <div className="grow">
        <p>
          <strong>No header backup of this image is known.</strong> A backup made now lets you undo
          this change, or recover if the header is ever damaged.
        </p>
        <button type="button" className="button small" onClick={() => setOpen(true)}>
          <Icon name="shield" /> Back up header first…
        </button>
      </div>
      {open && <HeaderBackupDialog path={path} onClose={() => setOpen(false)} />}
    </div>
  );
}

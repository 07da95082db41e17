/**
 * Library: remembered images with format, sizes, encryption and keyslot count, each row with its
 * actions; the drop zone (desktop), or where it would be, why the browser cannot take drops.
 */
import { bridgeMode } from '../bridge/index.js';
import { useStore } from '../store/index.js';
import type { LibraryEntry } from '../store/images-slice.js';
import { encryptionLabel, formatBytes } from '../lib/format.js';
import { Icon } from '../components/Icon.js';
import { ScreenHeader } from '../components/ScreenHeader.js';
import { InUseBadge } from '../components/InUse.js';
import { BatchToolbar, SelectAllCheckbox, SelectCheckbox } from './BatchSelection.js';

export function Library() {
  const library = useStore((s) => s.library);
  const showDetails = useStore((s) => s.showDetails);
  const refresh = useStore((s) => s.refreshImage);
  const openWizard = useStore((s) => s.openWizard);
  const forget = useStore((s) => s.forgetImage);
  const loading = useStore((s) => s.loading);
  const canDrop = bridgeMode() === 'electron';

  return (
    <section className="screen" aria-labelledby="library-title">
      <ScreenHeader
        titleId="library-title"
        title="Library"
        description="Disk images you opened. Only paths and plain facts are remembered, never passphrases."
      >
        <div className="row">
          <button type="button" className="button" onClick={() => openWizard({ kind: 'open' })}>
            <Icon name="folder" /> Open…
          </button>
          <button type="button" className="button" onClick={() => openWizard({ kind: 'import' })}>
            <Icon name="upload" /> Import bundle…
          </button>
          <button type="button" className="button" onClick={() => openWizard({ kind: 'export' })}>
            <Icon name="key" /> Hand over…
          </button>
          <button
            type="button"
            className="button primary"
            onClick={() => openWizard({ kind: 'create' })}
          >
            <Icon name="plus" /> New encrypted image
          </button>
        </div>
      </ScreenHeader>

      {canDrop ? (
        <div className="dropzone" aria-label="Drop zone">
          <Icon name="upload" size={28} />
          <div>
            <strong>Drop disk images here</strong>
            <p className="muted small">
              qcow2, qcow, raw or LUKS files. Legacy AES images are detected and offered a
              migration.
            </p>
          </div>
        </div>
      ) : (
        <div className="dropzone no-drop">
          <Icon name="info" size={22} />
          <p className="grow small">
            Browsers do not reveal where a dropped file is, so pick images with{' '}
            <strong>Open…</strong> here. Drag and drop works in the desktop app.
          </p>
          <button type="button" className="button" onClick={() => openWizard({ kind: 'open' })}>
            <Icon name="folder" /> Pick an image…
          </button>
        </div>
      )}

      <BatchToolbar />
      {library.length === 0 ? (
        <div className="empty">
          <Icon name="disk" size={40} />
          <h2>No images yet</h2>
          <p className="muted">
            {canDrop
              ? 'Open an existing image, drop one on this window, or create a new encrypted image.'
              : 'Open an existing image, import a bundle, or create a new encrypted image.'}
          </p>
        </div>
      ) : (
        <table className="table" aria-label="Images">
          <thead>
            <tr>
              <th scope="col" className="select-cell">
                <SelectAllCheckbox />
              </th>
              <th scope="col">Image</th>
              <th scope="col" className="col-format">
                Format
              </th>
              <th scope="col" className="num">
                Virtual size
              </th>
              <th scope="col" className="num col-file-size">
                File size
              </th>
              <th scope="col">Encryption</th>
              <th scope="col" className="num col-slots">
                Keyslots
              </th>
              <th scope="col" className="col-actions">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {library.map((e) => (
              <Row
                key={e.path}
                entry={e}
                reading={!!loading[e.path]}
                onOpen={() => (e.problem ? void refresh(e.path) : showDetails(e.path))}
                onConvert={() =>
                  openWizard({
                    kind: e.encryption === 'aes' ? 'migrate' : 'convert',
                    source: e.path,
                  })
                }
                onHandOver={() => openWizard({ kind: 'export', source: e.path })}
                onRemove={() => forget(e.path)}
                onShow={(path) => showDetails(path)}
              />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Row({
  entry: e,
  reading,
  onOpen,
  onConvert,
  onHandOver,
  onRemove,
  onShow,
}: {
  entry: LibraryEntry;
  reading: boolean;
  onOpen: () => void;
  onConvert: () => void;
  onHandOver: () => void;
  onRemove: () => void;
  onShow: (path: string) => void;
}) {
  const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);
  const from = e.origin?.from;
  return (
    <tr className={e.problem ? 'problem' : ''}>
      <td className="select-cell">
        <SelectCheckbox path={e.path} name={e.name} />
      </td>
      <td className="col-image">
        <div className="image-cell">
          <Icon name="disk" size={20} />
          <span className="image-text">
            <span className="image-name">
              <button
                type="button"
                className="link-button image-open"
                onClick={onOpen}
                aria-label={`Open ${e.name}`}
              >
                {e.name}
              </button>{' '}
              {e.inUse && <InUseBadge use={e.inUse} />}
            </span>
            <span className="muted small path">
              {e.problem ? `${e.problem} Open it to try again.` : e.path}
            </span>
          </span>
        </div>
        {(e.origin || e.migratedTo) && (
          <span className="lineage small">
            {e.origin && !from && ALONE_WORDS[e.origin.kind]}
            {from && (
              <>
                {ORIGIN_WORDS[e.origin!.kind]}{' '}
                <button type="button" className="link-button" onClick={() => onShow(from)}>
                  {base(from)}
                </button>
              </>
            )}
            {e.migratedTo && (
              <>
                Migrated to{' '}
                <button type="button" className="link-button" onClick={() => onShow(e.migratedTo!)}>
                  {base(e.migratedTo)}
                </button>
              </>
            )}
          </span>
        )}
      </td>
      <td className="col-format">
        {reading && !e.problem ? <span className="muted">Reading…</span> : e.format}
      </td>
      <td className="num">{formatBytes(e.virtualSize)}</td>
      <td className="num col-file-size">{formatBytes(e.fileSize)}</td>
      <td>
        <EncryptionBadge kind={e.encryption} version={e.luksVersion} />
      </td>
      <td className="num col-slots">
        {e.encryption === 'luks' ? `${e.activeSlots} of ${e.totalSlots}` : '—'}
      </td>
      <td className="col-actions">
        <div className="row-actions">
          <button
            type="button"
            className="icon-button"
            aria-label={`${e.encryption === 'aes' ? 'Migrate' : 'Convert'} ${e.name}`}
            title={e.encryption === 'aes' ? 'Migrate to LUKS…' : 'Convert…'}
            disabled={!!e.problem}
            onClick={onConvert}
          >
            <Icon name={e.encryption === 'aes' ? 'migrate' : 'convert'} size={16} />
          </button>
          <button
            type="button"
            className="icon-button"
            aria-label={`Hand over ${e.name}`}
            title="Hand over…"
            disabled={!!e.problem}
            onClick={onHandOver}
          >
            <Icon name="key" size={16} />
          </button>
          <button
            type="button"
            className="icon-button"
            aria-label={`Remove ${e.name} from the library`}
            title="Remove from library (the file stays)"
            onClick={onRemove}
          >
            <Icon name="x" size={16} />
          </button>
        </div>
      </td>
    </tr>
  );
}

const ALONE_WORDS = {
  created: 'Created here',
  converted: 'Converted here',
  migrated: 'Migrated here',
  imported: 'Imported from a bundle',
} as const;

const ORIGIN_WORDS = {
  created: 'Created',
  converted: 'Converted from',
  migrated: 'Migrated from',
  imported: 'Imported from',
} as const;

export function EncryptionBadge({
  kind,
  version,
}: {
  kind: 'luks' | 'aes' | 'none';
  version?: number;
}) {
  return (
    <span className={`badge ${kind === 'luks' ? 'ok' : kind === 'aes' ? 'bad' : 'neutral'}`}>
      <Icon name={kind === 'luks' ? 'lock' : kind === 'aes' ? 'warning' : 'unlock'} size={14} />
      {encryptionLabel(kind, version)}
    </span>
  );
}

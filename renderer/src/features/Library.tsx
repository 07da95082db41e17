/** Library: remembered images with format, sizes, encryption and keyslot count; drop zone. */
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

      <div className="dropzone" aria-label="Drop zone">
        <Icon name="upload" size={28} />
        <div>
          <strong>Drop disk images here</strong>
          <p className="muted small">
            qcow2, qcow, raw or LUKS files. Legacy AES images are detected and offered a migration.
          </p>
        </div>
      </div>

      <BatchToolbar />
      {library.length === 0 ? (
        <div className="empty">
          <Icon name="disk" size={40} />
          <h2>No images yet</h2>
          <p className="muted">
            Open an existing image, drop one on this window, or create a new encrypted image.
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
              <th scope="col">Format</th>
              <th scope="col" className="num">
                Virtual size
              </th>
              <th scope="col" className="num">
                File size
              </th>
              <th scope="col">Encryption</th>
              <th scope="col" className="num">
                Keyslots
              </th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {library.map((e) => (
              <Row
                key={e.path}
                entry={e}
                onOpen={() => (e.problem ? void refresh(e.path) : showDetails(e.path))}
              />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Row({ entry: e, onOpen }: { entry: LibraryEntry; onOpen: () => void }) {
  return (
    <tr className={e.problem ? 'problem' : ''}>
      <td className="select-cell">
        <SelectCheckbox path={e.path} name={e.name} />
      </td>
      <td>
        <button
          type="button"
          className="link-button image-cell"
          onClick={onOpen}
          aria-label={`Open ${e.name}`}
        >
          <Icon name="disk" size={20} />
          <span>
            <span className="image-name">
              {e.name} {e.inUse && <InUseBadge use={e.inUse} />}
            </span>
            <span className="muted small path">{e.problem ?? e.path}</span>
          </span>
        </button>
      </td>
      <td>{e.format}</td>
      <td className="num">{formatBytes(e.virtualSize)}</td>
      <td className="num">{formatBytes(e.fileSize)}</td>
      <td>
        <EncryptionBadge kind={e.encryption} version={e.luksVersion} />
      </td>
      <td className="num">
        {e.encryption === 'luks' ? `${e.activeSlots} of ${e.totalSlots}` : '—'}
      </td>
      <td className="num">
        <Icon name="chevron-right" size={16} />
      </td>
    </tr>
  );
}

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

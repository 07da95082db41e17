/** Image details: everything `inspect` returns, in plain words, and the keyslot grid. */
import { useEffect, useState, type ReactNode } from 'react';
import type { ImageInfo } from '../../../core/api/index.js';
import { useStore } from '../store/index.js';
import { describeCipher, describeFormat, formatBytes } from '../lib/format.js';
import { Icon, type IconName } from '../components/Icon.js';
import { KeyslotDetails } from '../components/KeyslotDetails.js';
import { KeyslotGrid } from '../components/KeyslotGrid.js';
import { ScreenHeader } from '../components/ScreenHeader.js';
import { InUseBadge, inUseReadReason, inUseReason } from '../components/InUse.js';
import type { KeyslotAction } from '../store/wizards-slice.js';
import { EncryptionBadge } from './Library.js';
import { LibvirtPlanCard } from './LibvirtPlanCard.js';
import { RekeyDialog } from './RekeyDialog.js';
import { HeaderBackupCard } from './HeaderBackupCard.js';

/** The keyslot card's actions, in the order shown. */
const KEYSLOT_BUTTONS: {
  action: KeyslotAction;
  icon: IconName;
  label: string;
  danger?: boolean;
}[] = [
  { action: 'test', icon: 'check', label: 'Test passphrase' },
  { action: 'add', icon: 'plus', label: 'Add passphrase' },
  { action: 'change', icon: 'key', label: 'Change passphrase' },
  { action: 'remove', icon: 'trash', label: 'Remove passphrase', danger: true },
];

export function Details() {
  const path = useStore((s) => s.selected);
  const info = useStore((s) => (s.selected ? s.infos[s.selected] : undefined));
  const loading = useStore((s) => (s.selected ? s.loading[s.selected] : false));
  const refresh = useStore((s) => s.refreshImage);
  const forget = useStore((s) => s.forgetImage);
  const go = useStore((s) => s.go);
  const openWizard = useStore((s) => s.openWizard);
  const [slot, setSlot] = useState<number | null>(null);
  const [rekeying, setRekeying] = useState(false);
  const entry = useStore((s) => s.library.find((e) => e.path === s.selected));
  const showDetails = useStore((s) => s.showDetails);
  // Not read in this window yet (a fresh session): read it now instead of calling it unreadable.
  const unread = !!path && !info && !loading && !entry?.problem;
  useEffect(() => {
    if (unread && path) void refresh(path, { quiet: true });
  }, [unread, path, refresh]);

  if (!path) return null;
  if (!info) {
    const failed = !loading && !unread && entry?.problem;
    return (
      <section className="screen" aria-labelledby="details-title">
        <nav className="crumbs" aria-label="Breadcrumb">
          <button type="button" className="link-button" onClick={() => go('library')}>
            <Icon name="chevron-left" size={14} /> Library
          </button>
        </nav>
        <h1 id="details-title">{path.slice(path.lastIndexOf('/') + 1)}</h1>
        {failed ? (
          <p className="alert error" role="alert">
            <Icon name="warning" /> This image could not be read: {entry.problem}
          </p>
        ) : (
          <p className="muted" role="status">
            Reading the image…
          </p>
        )}
        {failed && (
          <div className="row">
            <button type="button" className="button" onClick={() => void refresh(path)}>
              <Icon name="refresh" /> Try again
            </button>
            <button
              type="button"
              className="button"
              onClick={() => {
                forget(path);
                go('library');
              }}
            >
              Remove from library
            </button>
          </div>
        )}
      </section>
    );
  }
  const enc = info.encryption;
  const name = path.slice(path.lastIndexOf('/') + 1);
  const luks = enc?.format === 'luks';
  const active = enc?.slots.filter((s) => s.active).length ?? 0;
  const chosen = enc?.slots.find((s) => s.slot === slot && s.active);
  // Held by a VM or another program: changes are refused (IMAGE_IN_USE), and while it is
  // written, reads too; say why instead of letting the action fail.
  const writeBlocked = info.inUse ? inUseReason(info.inUse) : undefined;
  const readBlocked = info.inUse ? inUseReadReason(info.inUse) : undefined;
  const blockedFor = (action: KeyslotAction) => (action === 'test' ? readBlocked : writeBlocked);

  return (
    <section className="screen" aria-labelledby="details-title">
      <nav className="crumbs" aria-label="Breadcrumb">
        <button type="button" className="link-button" onClick={() => go('library')}>
          <Icon name="chevron-left" size={14} /> Library
        </button>
      </nav>
      <ScreenHeader titleId="details-title" title={name} description={path} path>
        <div className="row">
          <button
            type="button"
            className="button"
            onClick={() => void refresh(path)}
            aria-label="Refresh"
          >
            <Icon name="refresh" />
          </button>
          <button
            type="button"
            className="button"
            disabled={readBlocked !== undefined}
            title={readBlocked}
            onClick={() => openWizard({ kind: 'convert', source: path })}
          >
            <Icon name="convert" /> Convert…
          </button>
          <button
            type="button"
            className="button"
            disabled={readBlocked !== undefined}
            title={readBlocked}
            onClick={() => openWizard({ kind: 'export', source: path })}
          >
            <Icon name="key" /> Hand over…
          </button>
          {luks && (
            <button
              type="button"
              className="button"
              disabled={writeBlocked !== undefined}
              title={writeBlocked}
              onClick={() => setRekeying(true)}
            >
              <Icon name="refresh" /> Rotate master key…
            </button>
          )}
          <button
            type="button"
            className="button"
            onClick={() => {
              forget(path);
              go('library');
            }}
          >
            Remove from library
          </button>
        </div>
      </ScreenHeader>
      {rekeying && <RekeyDialog path={path} onClose={() => setRekeying(false)} />}

      {enc?.format === 'aes' && (
        <div className="alert warn" role="alert">
          <Icon name="warning" size={22} />
          <div className="grow">
            <strong>This image uses legacy AES encryption, which is insecure.</strong>
            <p>
              QEMU no longer starts VMs from it, and its passphrase cannot be changed. Migrate it to
              a new qcow2 + LUKS image; the original stays untouched until you decide.
            </p>
          </div>
          <button
            type="button"
            className="button primary"
            onClick={() => openWizard({ kind: 'migrate', source: path })}
          >
            <Icon name="migrate" /> Migrate to LUKS…
          </button>
        </div>
      )}
      {writeBlocked && (
        <p className="alert warn" id="in-use-reason">
          <Icon name="warning" /> {writeBlocked}
        </p>
      )}
      {(entry?.origin?.from || entry?.migratedTo) && (
        <p className="lineage-line">
          {entry.origin?.from && (
            <>
              {entry.origin.kind === 'migrated' ? 'Migrated from' : 'Made from'}{' '}
              <button
                type="button"
                className="link-button"
                onClick={() => showDetails(entry.origin!.from!)}
              >
                {entry.origin.from}
              </button>
            </>
          )}
          {entry.migratedTo && (
            <>
              Migrated to{' '}
              <button
                type="button"
                className="link-button"
                onClick={() => showDetails(entry.migratedTo!)}
              >
                {entry.migratedTo}
              </button>
            </>
          )}
        </p>
      )}
      {info.warnings
        .filter((w) => enc?.format !== 'aes' || !/AES/i.test(w))
        .map((w) => (
          // A raw file's warnings say it may not be a disk at all: not a side note.
          <p key={w} className={`alert ${info.format === 'raw' ? 'warn' : 'info'}`}>
            <Icon name={info.format === 'raw' ? 'warning' : 'info'} /> {w}
          </p>
        ))}

      <div className="cards">
        <article className="card" aria-labelledby="summary-title">
          <h2 id="summary-title">Summary</h2>
          <dl className="facts">
            <Fact label="Format">{describeFormat(info)}</Fact>
            <Fact label="Disk size seen by the VM">{formatBytes(info.virtualSize)}</Fact>
            <Fact label="Space used on disk">
              {formatBytes(info.actualSize)}{' '}
              <span className="muted">(file length {formatBytes(info.fileSize)})</span>
            </Fact>
            <Fact label="Encryption">
              <EncryptionBadge kind={enc ? enc.format : 'none'} version={enc?.version} />
            </Fact>
            {info.inUse && (
              <Fact label="Use">
                <InUseBadge use={info.inUse} />
              </Fact>
            )}
            {info.clusterSize !== undefined && (
              <Fact label="Cluster size">{formatBytes(info.clusterSize)}</Fact>
            )}
            {info.refcountBits !== undefined && (
              <Fact label="Refcount width">{info.refcountBits} bits</Fact>
            )}
            {info.compressionType && <Fact label="Compression">{info.compressionType}</Fact>}
            {info.extendedL2 && <Fact label="Subclusters">Extended L2 entries</Fact>}
            <Fact label="Backing file">
              {info.backingFile
                ? `${info.backingFile}${info.backingFormat ? ` (${info.backingFormat})` : ''}`
                : 'None: the image stands alone'}
            </Fact>
            <Fact label="Snapshots">
              {info.snapshots.length === 0
                ? 'None'
                : info.snapshots.map((s) => s.name || s.id).join(', ')}
            </Fact>
            <Fact label="Health">
              {info.corrupt
                ? 'Marked corrupt by QEMU'
                : info.dirty
                  ? 'Not closed cleanly (dirty)'
                  : 'Closed cleanly'}
            </Fact>
          </dl>
        </article>

        {enc && <EncryptionCard info={info} />}
      </div>

      {luks && (
        <article className="card" aria-labelledby="slots-title">
          <header className="row spread">
            <div>
              <h2 id="slots-title">Passphrases (keyslots)</h2>
              <p className="muted small">
                {active} of {enc.slots.length} keyslots in use. Each holds one passphrase that
                unlocks the same data. Read without a passphrase.
              </p>
            </div>
            <div className="row wrap">
              {KEYSLOT_BUTTONS.map(({ action, icon, label, danger }) => (
                <button
                  key={action}
                  type="button"
                  className={danger ? 'button danger-ghost' : 'button'}
                  disabled={blockedFor(action) !== undefined}
                  title={blockedFor(action)}
                  aria-describedby={blockedFor(action) ? 'in-use-reason' : undefined}
                  onClick={() => openWizard({ kind: 'keyslot', action, path })}
                >
                  <Icon name={icon} /> {label}
                </button>
              ))}
            </div>
          </header>
          <KeyslotGrid
            slots={enc.slots}
            selected={slot}
            onSelect={(s) => setSlot((cur) => (cur === s ? null : s))}
          />
          {chosen && (
            <KeyslotDetails
              slot={chosen}
              activeCount={active}
              blocked={writeBlocked}
              onClose={() => setSlot(null)}
              onRevoke={() =>
                openWizard({ kind: 'keyslot', action: 'remove', path, slot: chosen.slot })
              }
            />
          )}
        </article>
      )}
      {luks && (
        <HeaderBackupCard
          path={path}
          info={info}
          writeBlocked={writeBlocked}
          readBlocked={readBlocked}
        />
      )}
      {luks && !enc.unsupportedReason && <LibvirtPlanCard key={path} path={path} />}
    </section>
  );
}

function EncryptionCard({ info }: { info: ImageInfo }) {
  const enc = info.encryption!;
  return (
    <article className="card" aria-labelledby="enc-title">
      <h2 id="enc-title">Encryption</h2>
      <dl className="facts">
        <Fact label="Scheme">
          {enc.format === 'luks'
            ? `LUKS version ${enc.version ?? 1}`
            : 'Legacy qcow AES (AES-128-CBC, passphrase used as key)'}
        </Fact>
        <Fact label="Cipher">{describeCipher(enc)}</Fact>
        {enc.keyBytes !== undefined && <Fact label="Key length">{enc.keyBytes * 8} bits</Fact>}
        {enc.uuid && (
          <Fact label="UUID">
            <code>{enc.uuid}</code>
          </Fact>
        )}
        {enc.payloadOffset !== undefined && (
          <Fact label="Encrypted data starts at">{formatBytes(enc.payloadOffset)}</Fact>
        )}
        {enc.masterKeyIters !== undefined && (
          <Fact label="Master key check">
            {enc.masterKeyIters.toLocaleString('en-US')} iterations
          </Fact>
        )}
        {enc.sectorSize !== undefined && <Fact label="Sector size">{enc.sectorSize} bytes</Fact>}
        {enc.unsupportedReason && <Fact label="Limitations">{enc.unsupportedReason}</Fact>}
      </dl>
    </article>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

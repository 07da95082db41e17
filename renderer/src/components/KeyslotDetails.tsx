/**
 * The facts of one keyslot chosen in the grid (read without a passphrase, like `cryptsetup
 * luksDump`), and the way to revoke it (issue #14, "Keyslots as the grid suggests").
 */
import { useEffect, useRef } from 'react';
import type { KeyslotInfo } from '../../../core/api/index.js';
import { Icon } from './Icon.js';

export function KeyslotDetails(props: {
  slot: KeyslotInfo;
  activeCount: number;
  /** Why changes are not possible now (image in use), or undefined. */
  blocked?: string;
  onRevoke: () => void;
  onClose: () => void;
}) {
  const s = props.slot;
  const argon = s.kdf?.startsWith('argon');
  const last = props.activeCount <= 1;
  const ref = useRef<HTMLElement>(null);
  // Below the grid, often under the fold: bring the chosen slot's facts into view.
  // (A block body: newer browsers return a Promise from scrollIntoView, not a cleanup.)
  useEffect(() => {
    void ref.current?.scrollIntoView({ block: 'nearest' });
  }, [s.slot]);
  return (
    <section ref={ref} className="slot-details" aria-labelledby="slot-details-title">
      <header className="row spread">
        <h3 id="slot-details-title">Keyslot {s.slot}</h3>
        <button
          type="button"
          className="icon-button"
          aria-label={`Close keyslot ${s.slot} details`}
          onClick={props.onClose}
        >
          <Icon name="x" size={14} />
        </button>
      </header>
      <dl className="facts">
        <dt>State</dt>
        <dd>{s.active ? 'In use: holds one passphrase' : 'Empty'}</dd>
        <dt>Key derivation</dt>
        <dd>
          {(s.kdf ?? 'pbkdf2').toUpperCase()}
          {s.hash ? ` (${s.hash})` : ''}, {s.iterations.toLocaleString('en-US')}{' '}
          {argon ? 'passes' : 'iterations'}
          {s.memoryKiB ? `, ${Math.round(s.memoryKiB / 1024)} MiB` : ''}
          {s.parallel ? `, ${s.parallel} threads` : ''}
        </dd>
        {s.cipher && (
          <>
            <dt>Keyslot cipher</dt>
            <dd>{s.cipher}</dd>
          </>
        )}
        <dt>Anti-forensic stripes</dt>
        <dd>{s.stripes.toLocaleString('en-US')}</dd>
        {s.unusableReason && (
          <>
            <dt>Limitations</dt>
            <dd>{s.unusableReason}</dd>
          </>
        )}
      </dl>
      {s.active && (
        <div className="row wrap">
          <button
            type="button"
            className="button danger-ghost"
            disabled={props.blocked !== undefined}
            title={props.blocked}
            onClick={props.onRevoke}
          >
            <Icon name="trash" /> Revoke keyslot {s.slot}…
          </button>
          <span className="muted small">
            {last
              ? 'This is the only keyslot: revoking it needs its own passphrase and locks the data away for good.'
              : 'Asks for the passphrase of another keyslot that stays, as cryptsetup luksKillSlot does.'}
          </span>
        </div>
      )}
    </section>
  );
}

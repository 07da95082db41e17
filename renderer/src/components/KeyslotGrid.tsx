/** The 8 LUKS keyslots, readable without a passphrase (like `qemu-img info`). */
import type { KeyslotInfo } from '../../../core/api/index.js';
import { Icon } from './Icon.js';

export function KeyslotGrid(props: {
  slots: KeyslotInfo[];
  selected?: number | null;
  onSelect?: (slot: number) => void;
}) {
  const slots = props.slots.length > 0 ? props.slots : [];
  return (
    <ul className="keyslots" aria-label="Keyslots">
      {slots.map((s) => {
        const argon = s.kdf?.startsWith('argon');
        const short = `${compact(s.iterations)} ${argon ? 'passes' : 'iter.'}`;
        // The name holds the visible text word for word (WCAG 2.5.3, axe label-content-name-mismatch).
        const label = `Keyslot ${s.slot}: ${s.active ? `in use, ${short} (${s.iterations.toLocaleString('en-US')} ${argon ? 'passes' : 'iterations'})` : 'empty'}`;
        return (
          <li key={s.slot}>
            <button
              type="button"
              className={`keyslot ${s.active ? 'active' : 'empty'} ${props.selected === s.slot ? 'selected' : ''}`}
              aria-label={label}
              aria-pressed={props.selected === s.slot}
              disabled={!s.active || !props.onSelect}
              onClick={() => props.onSelect?.(s.slot)}
            >
              <span className="keyslot-num">{s.slot}</span>{' '}
              <Icon name={s.active ? 'key' : 'unlock'} size={16} />
              <span className="keyslot-state">{s.active ? 'In use' : 'Empty'}</span>{' '}
              {s.active && <span className="keyslot-iter">{short}</span>}
            </button>
          </li>
        );
      })}
    </ul>
  );
}

function compact(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (n >= 1e3) return `${Math.round(n / 1e3)} k`;
  return String(n);
}

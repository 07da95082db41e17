/**
 * Ticking several Library images and acting on all of them at once (issue #17): the
 * checkbox column (native checkboxes: Tab and Space work, each named for its image), the
 * select-all box in the header, and the toolbar that opens the batch dialog.
 */
import { useEffect, useRef, useState } from 'react';
import type { BatchOperation } from '../../../core/api/index.js';
import { useShallow } from 'zustand/react/shallow';
import { Icon } from '../components/Icon.js';
import { useStore } from '../store/index.js';
import { BatchDialog } from './BatchDialog.js';
import './batch.css';

/** The header cell's box: ticks or clears every image; mixed while some are ticked. */
export function SelectAllCheckbox() {
  const paths = useStore(useShallow((s) => s.library.map((e) => e.path)));
  const selected = useStore(useShallow((s) => s.selectedPaths));
  const setSelected = useStore((s) => s.setSelected);
  const ref = useRef<HTMLInputElement>(null);
  const ticked = paths.filter((p) => selected.includes(p)).length;
  useEffect(() => {
    if (ref.current) ref.current.indeterminate = ticked > 0 && ticked < paths.length;
  }, [ticked, paths.length]);
  return (
    <input
      ref={ref}
      type="checkbox"
      aria-label="Select all images"
      checked={paths.length > 0 && ticked === paths.length}
      onChange={(e) => setSelected(e.target.checked ? paths : [])}
    />
  );
}

/** One row's box. */
export function SelectCheckbox({ path, name }: { path: string; name: string }) {
  const checked = useStore((s) => s.selectedPaths.includes(path));
  const toggle = useStore((s) => s.toggleSelected);
  return (
    <input
      type="checkbox"
      aria-label={`Select ${name}`}
      checked={checked}
      onChange={() => toggle(path)}
    />
  );
}

/** Shown while images are ticked: how many, what can be done to all, and clearing. */
export function BatchToolbar() {
  const library = useStore((s) => s.library);
  const selected = useStore(useShallow((s) => s.selectedPaths));
  const clear = useStore((s) => s.clearSelected);
  const [open, setOpen] = useState<BatchOperation | null>(null);
  const ticked = library.filter((e) => selected.includes(e.path));
  const luks = ticked.filter((e) => e.encryption === 'luks');
  if (ticked.length === 0 && open === null) return null;
  const others = ticked.length - luks.length;
  return (
    <div className="batch-toolbar" role="toolbar" aria-label="Selected images">
      <span className="grow">
        <strong>{ticked.length} selected</strong>
        {others > 0 && (
          <span className="muted small"> · {others} without LUKS keyslots will be left out</span>
        )}
      </span>
      <button
        type="button"
        className="button primary"
        disabled={luks.length === 0}
        onClick={() => setOpen('keyslot-change')}
      >
        <Icon name="key" /> Change passphrase…
      </button>
      <button
        type="button"
        className="button"
        disabled={luks.length === 0}
        onClick={() => setOpen('rekey')}
      >
        <Icon name="shield" /> Rotate master key…
      </button>
      <button type="button" className="button" onClick={clear}>
        Clear selection
      </button>
      {open !== null && (
        <BatchDialog
          operation={open}
          paths={luks.map((e) => e.path)}
          onClose={() => setOpen(null)}
        />
      )}
    </div>
  );
}

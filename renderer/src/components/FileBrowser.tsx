/**
 * In-app file browser built on `api.listDirectory` (the loopback face has no native dialog;
 * browsers never reveal file paths). Picks a file or a folder; with `requireFile`, only a
 * folder holding that file (e.g. a bundle's `manifest.json`) can be chosen.
 */
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import type { DirectoryListing } from '../../../core/api/index.js';
import { api } from '../bridge/index.js';
import { describeError } from '../bridge/errors.js';
import { formatBytes } from '../lib/format.js';
import { Dialog } from './Dialog.js';
import { Icon } from './Icon.js';

const IMAGE_EXT = /\.(qcow2?|img|raw|luks|bin|iso)$/i;
const LAST_DIR_KEY = 'image-vault.lastFolder';

export function FileBrowser(props: {
  mode: 'file' | 'folder';
  title: string;
  startPath?: string;
  /** Folder mode: the chosen folder must contain a file of this name (files are listed). */
  requireFile?: string;
  /** Label of the confirm button (default "Open" / "Use this folder"). */
  pickLabel?: string;
  onPick: (path: string) => void;
  onClose: () => void;
}) {
  const [listing, setListing] = useState<DirectoryListing | null>(null);
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const locationId = useId();

  /** Only the newest listing request may show its answer (an older one can finish later). */
  const latest = useRef(0);
  /** The user edited Location since the last request started: keep their text. */
  const edited = useRef(false);

  const load = useCallback(async (path?: string) => {
    const request = ++latest.current;
    edited.current = false;
    setError(null);
    try {
      const l = await api().listDirectory(path);
      if (request !== latest.current) return;
      setListing(l);
      if (!edited.current) setTyped(l.path);
      setSelected(null);
      try {
        localStorage.setItem(LAST_DIR_KEY, l.path);
      } catch {
        /* not remembered */
      }
    } catch (e) {
      if (request === latest.current) setError(describeError(e));
    }
  }, []);

  useEffect(() => {
    let start = props.startPath;
    if (!start) {
      try {
        start = localStorage.getItem(LAST_DIR_KEY) ?? undefined;
      } catch {
        start = undefined;
      }
    }
    void load(start).then(() => undefined);
  }, [load, props.startPath]);

  const entries = [...(listing?.entries ?? [])]
    .filter((e) => !e.name.startsWith('.'))
    .filter((e) => props.mode === 'file' || !!props.requireFile || e.kind === 'directory')
    .sort((a, b) =>
      a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'directory' ? -1 : 1
    );

  const required = props.requireFile;
  const holdsRequired =
    !required || !!listing?.entries.some((e) => e.kind === 'file' && e.name === required);

  const choose = () => {
    if (props.mode === 'folder') props.onPick(listing?.path ?? typed);
    else if (selected) props.onPick(selected);
  };

  return (
    <Dialog
      title={props.title}
      onClose={props.onClose}
      wide
      footer={
        <>
          <button type="button" className="button" onClick={props.onClose}>
            Cancel
          </button>
          <button
            type="button"
            className="button primary"
            onClick={choose}
            disabled={props.mode === 'file' ? !selected : !holdsRequired}
          >
            {props.pickLabel ?? (props.mode === 'file' ? 'Open' : 'Use this folder')}
          </button>
        </>
      }
    >
      <form
        className="row browser-bar"
        onSubmit={(e) => {
          e.preventDefault();
          if (typed.trim()) void load(typed.trim());
        }}
      >
        <button
          type="button"
          className="icon-button"
          aria-label="Parent folder"
          disabled={!listing?.parent}
          onClick={() => listing?.parent && void load(listing.parent)}
        >
          <Icon name="arrow-up" />
        </button>
        <label htmlFor={locationId} className="sr-only">
          Location
        </label>
        <input
          id={locationId}
          className="grow"
          value={typed}
          onChange={(e) => {
            edited.current = true;
            setTyped(e.target.value);
          }}
          spellCheck={false}
        />
        <button type="submit" className="button">
          Go
        </button>
      </form>
      {error && (
        <p className="alert error" role="alert">
          {error}
        </p>
      )}
      {required && listing && (
        <p className={`alert ${holdsRequired ? 'success' : 'info'}`} role="status">
          <Icon name={holdsRequired ? 'check' : 'info'} />
          {holdsRequired
            ? `This folder holds ${required}: it can be used.`
            : `Open the folder that holds ${required}.`}
        </p>
      )}
      <ul className="browser-list" role="listbox" aria-label="Files and folders">
        {entries.length === 0 && <li className="muted empty-row">This folder is empty.</li>}
        {entries.map((e) => (
          <li
            key={e.path}
            role="option"
            aria-selected={selected === e.path}
            aria-label={e.name}
            tabIndex={0}
            className={`browser-row ${selected === e.path ? 'selected' : ''} ${e.kind === 'file' && (props.mode === 'folder' || !IMAGE_EXT.test(e.name)) ? 'dim' : ''}`}
            onClick={() =>
              e.kind === 'directory'
                ? void load(e.path)
                : props.mode === 'file' && setSelected(e.path)
            }
            onDoubleClick={() => props.mode === 'file' && e.kind === 'file' && props.onPick(e.path)}
            onKeyDown={(k) => {
              if (k.key === 'Enter') {
                if (e.kind === 'directory') void load(e.path);
                else if (props.mode === 'file') props.onPick(e.path);
              } else if (k.key === ' ') {
                k.preventDefault();
                if (e.kind === 'file') setSelected(e.path);
              }
            }}
          >
            <Icon
              name={e.kind === 'directory' ? 'folder' : IMAGE_EXT.test(e.name) ? 'disk' : 'file'}
            />
            <span className="grow">{e.name}</span>
            {e.kind === 'file' && <span className="muted small">{formatBytes(e.size)}</span>}
            {e.kind === 'directory' && <Icon name="chevron-right" size={14} />}
          </li>
        ))}
      </ul>
    </Dialog>
  );
}

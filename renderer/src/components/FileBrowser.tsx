/**
 * In-app file browser built on `api.listDirectory` (the loopback face has no native dialog;
 * browsers never reveal file paths). Picks a file or a folder; with `requireFile`, only a
 * folder holding that file (e.g. a bundle's `manifest.json`) can be chosen. A typed path to a
 * file picks that file (file mode) or opens its folder; a folder picker still lists a folder's
 * files, dimmed, so a folder with files never looks empty (issue #14).
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
  /** File mode: names of the files expected (default: disk images); others are dimmed. */
  accept?: RegExp;
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

  const { mode } = props;
  // The caller's onPick changes with every render; `load` must not.
  const pick = useRef(props.onPick);
  pick.current = props.onPick;
  const load = useCallback(
    async (path?: string, typedByUser = false, initial = false) => {
      const request = ++latest.current;
      // The first listing may start after the user began typing (effects run after paint):
      // it must not throw their text away.
      if (!initial) edited.current = false;
      setError(null);
      try {
        const l = await api().listDirectory(path);
        if (request !== latest.current) return;
        // A typed path to a file: in a file picker that is the choice.
        if (l.file && mode === 'file' && typedByUser) return pick.current(l.file);
        setListing(l);
        if (!edited.current) setTyped(l.file ?? l.path);
        // Keep a file the user picked while this listing was on its way, if it is still here.
        setSelected((prev) =>
          l.file && mode === 'file'
            ? l.file
            : prev && l.entries.some((e) => e.path === prev)
              ? prev
              : null
        );
        try {
          localStorage.setItem(LAST_DIR_KEY, l.path);
        } catch {
          /* not remembered */
        }
      } catch (e) {
        if (request === latest.current) setError(describeError(e));
      }
    },
    [mode]
  );

  useEffect(() => {
    let start = props.startPath;
    if (!start) {
      try {
        start = localStorage.getItem(LAST_DIR_KEY) ?? undefined;
      } catch {
        start = undefined;
      }
    }
    void load(start, false, true).then(() => undefined);
  }, [load, props.startPath]);

  // Folder pickers list files too (dimmed, not choosable): a folder of files is not empty.
  const entries = [...(listing?.entries ?? [])]
    .filter((e) => !e.name.startsWith('.'))
    .sort((a, b) =>
      a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'directory' ? -1 : 1
    );

  const accept = props.accept ?? IMAGE_EXT;
  const folders = entries.filter((e) => e.kind === 'directory').length;
  const files = entries.length - folders;
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
          if (typed.trim()) void load(typed.trim(), true);
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
      {props.mode === 'folder' && !required && listing && folders === 0 && files > 0 && (
        <p className="hint" role="status">
          <Icon name="info" size={14} /> No folders here, only {files}{' '}
          {files === 1 ? 'file' : 'files'}: this folder can be used as it is.
        </p>
      )}
      {entries.length === 0 && listing && (
        <p className="muted browser-empty" role="status">
          This folder is empty.
        </p>
      )}
      <ul className="browser-list" role="listbox" aria-label="Files and folders">
        {entries.map((e) => (
          <li
            key={e.path}
            role="option"
            aria-selected={selected === e.path}
            aria-disabled={props.mode === 'folder' && e.kind === 'file' ? true : undefined}
            aria-label={e.name}
            tabIndex={0}
            className={`browser-row ${selected === e.path ? 'selected' : ''} ${e.kind === 'file' && (props.mode === 'folder' || !accept.test(e.name)) ? 'dim' : ''}`}
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
      {props.mode === 'file' && !props.accept && selected && !IMAGE_EXT.test(selected) && (
        <p className="alert warn" role="status">
          <Icon name="warning" />
          {selected.slice(selected.lastIndexOf('/') + 1)} does not have a disk image&apos;s name
          (.qcow2, .img, .raw…). It is read first; if it is not a disk, you are told so.
        </p>
      )}
    </Dialog>
  );
}

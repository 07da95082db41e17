/** "Save in folder" + "File name" fields with a Browse… button (folder picker). */
import { useId, useState } from 'react';
import { FileBrowser } from './FileBrowser.js';
import { Icon } from './Icon.js';

export function TargetPicker(props: {
  folder: string;
  name: string;
  onFolder: (v: string) => void;
  onName: (v: string) => void;
  folderLabel?: string;
  nameLabel?: string;
}) {
  const [browsing, setBrowsing] = useState(false);
  const folderId = useId();
  const nameId = useId();
  return (
    <div className="grid-2">
      <div className="field">
        <label htmlFor={folderId}>{props.folderLabel ?? 'Save in folder'}</label>
        <div className="input-with-button">
          <input
            id={folderId}
            value={props.folder}
            onChange={(e) => props.onFolder(e.target.value)}
            spellCheck={false}
            placeholder="/home/you/vms"
          />
          <button type="button" className="button" onClick={() => setBrowsing(true)}>
            <Icon name="folder" /> Browse…
          </button>
        </div>
      </div>
      <div className="field">
        <label htmlFor={nameId}>{props.nameLabel ?? 'File name'}</label>
        <input
          id={nameId}
          value={props.name}
          onChange={(e) => props.onName(e.target.value)}
          spellCheck={false}
        />
      </div>
      {browsing && (
        <FileBrowser
          mode="folder"
          title="Choose a folder"
          startPath={props.folder || undefined}
          onClose={() => setBrowsing(false)}
          onPick={(p) => {
            props.onFolder(p);
            setBrowsing(false);
          }}
        />
      )}
    </div>
  );
}

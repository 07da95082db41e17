/**
 * The key mode of the Hand over wizard (issue #16): "to a host or a person's key (no
 * passphrase)". Recipient keys are pasted or picked (age1… / SSH public keys); core seals a
 * fresh random secret to them, so nobody sees or types a passphrase. Optionally the manifest
 * is signed with one of the user's SSH keys. Only public keys and fingerprints reach the page.
 */
import { useEffect, useId, useState, type RefObject } from 'react';
import type { KeyInfo, OwnKey } from '../../../core/api/index.js';
import { api } from '../bridge/index.js';
import { describeError } from '../bridge/errors.js';
import { FileBrowser } from '../components/FileBrowser.js';
import { Icon } from '../components/Icon.js';
import { PassphraseField } from '../components/PassphraseField.js';

export type HandOverMode = 'passphrase' | 'keys';

/** "To a person (passphrase)" or "To a host or a person's key (no passphrase)". */
export function HandOverChoice(props: { mode: HandOverMode; onMode: (m: HandOverMode) => void }) {
  const opt = (m: HandOverMode, title: string, text: string) => (
    <label className={`choice ${props.mode === m ? 'chosen' : ''}`}>
      <input
        type="radio"
        name="hand-over"
        checked={props.mode === m}
        onChange={() => props.onMode(m)}
      />
      <span>
        <strong>{title}</strong>
        <span className="muted small">{text}</span>
      </span>
    </label>
  );
  return (
    <fieldset className="choices">
      <legend>Hand it over</legend>
      {opt(
        'passphrase',
        'To a person (passphrase)',
        'A passphrase you send separately, by another channel.'
      )}
      {opt(
        'keys',
        'To a host or a person’s key (no passphrase)',
        'Sealed to their SSH or age public key: only their private key opens it, nothing to send separately.'
      )}
    </fieldset>
  );
}

/** Recipient keys: a text area (one key a line), a file picker, and their fingerprints. */
export function KeyRecipients(props: {
  text: string;
  onText: (t: string) => void;
  described: KeyInfo[] | null;
  problem: string | null;
}) {
  const id = useId();
  const [browsing, setBrowsing] = useState(false);
  const [fileError, setFileError] = useState<string | null>(null);
  return (
    <div className="stack">
      <div className="field">
        <label htmlFor={id}>Recipient public keys</label>
        <textarea
          id={id}
          rows={4}
          spellCheck={false}
          value={props.text}
          placeholder={'ssh-ed25519 AAAA… host@example.org\nage1…'}
          onChange={(e) => props.onText(e.target.value)}
        />
        <p className="hint">
          Paste an SSH public key (ssh-ed25519, ssh-rsa: a host’s /etc/ssh/ssh_host_ed25519_key.pub
          or a person’s ~/.ssh/id_ed25519.pub) or an age recipient (age1…), one a line. Several are
          fine: any one of them opens it.
        </p>
        <div>
          <button type="button" className="button" onClick={() => setBrowsing(true)}>
            <Icon name="folder" /> Pick a public key file…
          </button>
        </div>
      </div>
      {(props.problem ?? fileError) && (
        <p className="alert error" role="alert">
          <Icon name="warning" /> {props.problem ?? fileError}
        </p>
      )}
      {props.described && props.described.length > 0 && (
        <ul className="file-list" aria-label="Recipients">
          {props.described.map((k) => (
            <li key={k.fingerprint}>
              <Icon name="lock" />
              <span className="grow">
                <strong>{k.type}</strong> <code className="break">{k.fingerprint}</code>
                {k.comment && <span className="muted small"> · {k.comment}</span>}
              </span>
            </li>
          ))}
        </ul>
      )}
      {browsing && (
        <FileBrowser
          mode="file"
          title="Choose a public key file"
          onClose={() => setBrowsing(false)}
          onPick={(p) => {
            setBrowsing(false);
            api()
              .describeKeys({ publicKeyFile: p })
              .then((d) => {
                setFileError(null);
                const add = d.publicKeyText ?? '';
                props.onText([props.text.trim(), add].filter(Boolean).join('\n'));
              })
              .catch((e: unknown) => setFileError(describeError(e)));
          }}
        />
      )}
    </div>
  );
}

/** Fingerprints of the pasted lines, refreshed as they change. */
export function useDescribedRecipients(text: string): {
  keys: KeyInfo[] | null;
  problem: string | null;
} {
  const [state, setState] = useState<{ keys: KeyInfo[] | null; problem: string | null }>({
    keys: null,
    problem: null,
  });
  useEffect(() => {
    if (!text.trim()) return setState({ keys: null, problem: null });
    let live = true;
    const t = setTimeout(() => {
      api()
        .describeKeys({ recipients: text })
        .then((d) => live && setState({ keys: d.recipients, problem: null }))
        .catch((e: unknown) => live && setState({ keys: null, problem: describeError(e) }));
    }, 150);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [text]);
  return state;
}

/** The user's key pairs (~/.ssh), loaded once. */
export function useOwnKeys(): OwnKey[] {
  const [keys, setKeys] = useState<OwnKey[]>([]);
  useEffect(() => {
    let live = true;
    api()
      .listOwnKeys()
      .then((k) => live && setKeys(k))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);
  return keys;
}

/** "Sign it with one of my keys": none, or an SSH key pair of the user's. */
export function SigningChoice(props: {
  keys: OwnKey[];
  value: string;
  onValue: (path: string) => void;
  passRef: RefObject<HTMLInputElement | null>;
}) {
  const id = useId();
  const ssh = props.keys.filter((k) => k.type.startsWith('ssh-'));
  const chosen = ssh.find((k) => k.privatePath === props.value);
  return (
    <div className="stack">
      <div className="field">
        <label htmlFor={id}>Sign it (so the recipient knows it comes from you)</label>
        <select id={id} value={props.value} onChange={(e) => props.onValue(e.target.value)}>
          <option value="">Don’t sign</option>
          {ssh.map((k) => (
            <option key={k.privatePath} value={k.privatePath}>
              {k.privatePath} — {k.type} {k.fingerprint}
              {k.comment ? ` (${k.comment})` : ''}
            </option>
          ))}
        </select>
        <p className="hint">
          {ssh.length === 0
            ? 'No SSH key pair found in ~/.ssh (make one with ssh-keygen -t ed25519).'
            : 'An SSH signature (ssh-keygen -Y verify checks it, namespace image-vault-bundle).'}
        </p>
      </div>
      <div hidden={!chosen?.encrypted}>
        <PassphraseField ref={props.passRef} label="Passphrase of this SSH key" />
      </div>
    </div>
  );
}

/** The summary card: who can open it and who signed it. */
export function SealSummary(props: { keys: KeyInfo[]; signer?: OwnKey }) {
  return (
    <dl className="facts" aria-label="Hand-over summary">
      <dt>Sealed to</dt>
      <dd>
        {props.keys.map((k) => (
          <div key={k.fingerprint}>
            {k.type} <code className="break">{k.fingerprint}</code>
            {k.comment ? ` (${k.comment})` : ''}
          </div>
        ))}
      </dd>
      <dt>Signed by</dt>
      <dd>
        {props.signer ? (
          <>
            {props.signer.type} <code className="break">{props.signer.fingerprint}</code>
          </>
        ) : (
          'not signed'
        )}
      </dd>
    </dl>
  );
}

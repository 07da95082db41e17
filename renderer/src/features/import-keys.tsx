/**
 * The sealed-bundle parts of the Import wizard (issue #16): who signed the bundle and whether
 * the allowed-signers file trusts them, the identity (SSH private key or age identity) that
 * opens it, and what it is re-keyed to. Key files stay in core: the page sees paths and
 * fingerprints only.
 */
import { useEffect, useId, useState, type RefObject } from 'react';
import type { BundleSigner, OwnKey } from '../../../core/api/index.js';
import { api } from '../bridge/index.js';
import { FileBrowser } from '../components/FileBrowser.js';
import { Icon } from '../components/Icon.js';
import { PassphraseField } from '../components/PassphraseField.js';

/** The signer, shown prominently: trusted, not checked, or nobody. */
export function SignerNotice({ signer }: { signer?: BundleSigner }) {
  if (!signer) {
    return (
      <p className="alert warn" role="note" aria-label="Signature">
        <Icon name="warning" /> Not signed: nothing vouches that this bundle comes from who you
        think. Compare the checksum with the sender by another channel.
      </p>
    );
  }
  const who = `${signer.keyType} ${signer.fingerprint}`;
  if (signer.trusted) {
    return (
      <p className="alert success" role="note" aria-label="Signature">
        <Icon name="shield" /> Signed by {signer.principals.join(', ')} ({who}), trusted by your
        allowed-signers file.
      </p>
    );
  }
  return (
    <p className="alert info" role="note" aria-label="Signature">
      <Icon name="info" /> Signed by {who}. Not checked against an allowed-signers file: choose one
      below to require that a signer you trust made it.
    </p>
  );
}

/** A file path field with a Browse… button (allowed signers, identity). */
export function PathField(props: {
  label: string;
  value: string;
  onValue: (v: string) => void;
  onCommit?: (v: string) => void;
  hint?: string;
  browseTitle: string;
}) {
  const id = useId();
  const [browsing, setBrowsing] = useState(false);
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <div className="input-with-button">
        <input
          id={id}
          value={props.value}
          spellCheck={false}
          onChange={(e) => props.onValue(e.target.value)}
          onBlur={(e) => props.onCommit?.(e.target.value)}
        />
        <button type="button" className="button" onClick={() => setBrowsing(true)}>
          <Icon name="folder" /> Browse…
        </button>
      </div>
      {props.hint && <p className="hint">{props.hint}</p>}
      {browsing && (
        <FileBrowser
          mode="file"
          title={props.browseTitle}
          onClose={() => setBrowsing(false)}
          onPick={(p) => {
            setBrowsing(false);
            props.onValue(p);
            props.onCommit?.(p);
          }}
        />
      )}
    </div>
  );
}

export type Rekey = 'fresh' | 'mine';

/** Identity file (one of ~/.ssh or any file), its passphrase if encrypted, and the re-key. */
export function IdentityStep(props: {
  ownKeys: OwnKey[];
  identity: string;
  onIdentity: (p: string) => void;
  encrypted: boolean;
  passRef: RefObject<HTMLInputElement | null>;
  rekey: Rekey;
  onRekey: (r: Rekey) => void;
}) {
  return (
    <div className="stack">
      <PathField
        label="Your key that opens it (identity)"
        value={props.identity}
        onValue={props.onIdentity}
        browseTitle="Choose your SSH private key or age identity file"
        hint={
          props.ownKeys.length
            ? `Keys found: ${props.ownKeys.map((k) => k.privatePath).join(', ')}`
            : 'The private key whose public half the bundle was sealed to (e.g. ~/.ssh/id_ed25519).'
        }
      />
      <div hidden={!props.encrypted}>
        <PassphraseField ref={props.passRef} label="Passphrase of this key" />
      </div>
      <fieldset className="choices compact">
        <legend>After import, the image opens with</legend>
        <label className={`choice ${props.rekey === 'fresh' ? 'chosen' : ''}`}>
          <input
            type="radio"
            name="rekey"
            checked={props.rekey === 'fresh'}
            onChange={() => props.onRekey('fresh')}
          />
          <span>
            <strong>A fresh random secret sealed to my key (no passphrase)</strong>
            <span className="muted small">
              Kept beside the image as IMAGE.secret.age; with libvirt set up the VM boots
              unattended.
            </span>
          </span>
        </label>
        <label className={`choice ${props.rekey === 'mine' ? 'chosen' : ''}`}>
          <input
            type="radio"
            name="rekey"
            checked={props.rekey === 'mine'}
            onChange={() => props.onRekey('mine')}
          />
          <span>
            <strong>A passphrase of my own</strong>
          </span>
        </label>
      </fieldset>
    </div>
  );
}

/** Whether a key file needs a passphrase (asked from core; false when unreadable). */
export function useKeyEncrypted(path: string): boolean {
  const [enc, setEnc] = useState(false);
  useEffect(() => {
    if (!path.startsWith('/')) return setEnc(false);
    let live = true;
    api()
      .describeKeys({ privateKey: path })
      .then((d) => live && setEnc(!!d.privateKey?.encrypted))
      .catch(() => live && setEnc(false));
    return () => {
      live = false;
    };
  }, [path]);
  return enc;
}

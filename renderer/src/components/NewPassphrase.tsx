/**
 * "New passphrase" + "Repeat" with a strength meter, a generator and the weak-passphrase
 * guard (blocked unless "use it anyway"). The parent reads the bytes once via `read()`.
 */
import { forwardRef, useId, useImperativeHandle, useRef, useState } from 'react';
import { clearInputs, takePassphrase } from '../bridge/secret.js';
import { generatePassphrase } from '../lib/generator.js';
import { estimateStrength, type Strength } from '../lib/strength.js';
import { Icon } from './Icon.js';
import { PassphraseField } from './PassphraseField.js';

export type NewPassphraseResult = { ok: true; bytes: Uint8Array } | { ok: false; reason: string };

export interface NewPassphraseHandle {
  /** Validates, returns the bytes and clears both fields (on success). */
  read(): NewPassphraseResult;
  /** Validates without taking the value. */
  check(): string | null;
  clear(): void;
}

export const NewPassphrase = forwardRef<
  NewPassphraseHandle,
  { label?: string; autoFocus?: boolean }
>(function NewPassphrase(props, ref) {
  const first = useRef<HTMLInputElement>(null);
  const second = useRef<HTMLInputElement>(null);
  const [strength, setStrength] = useState<Strength | null>(null);
  const [anyway, setAnyway] = useState(false);
  const [generated, setGenerated] = useState(false);
  const anywayId = useId();
  const label = props.label ?? 'New passphrase';

  const check = (): string | null => {
    const a = first.current?.value ?? '';
    const b = second.current?.value ?? '';
    if (!a) return 'Type the new passphrase.';
    if (a !== b) return 'The two passphrases do not match.';
    if (estimateStrength(a).score < 2 && !anyway)
      return 'This passphrase is weak. Make it longer, or tick "Use it anyway".';
    return null;
  };

  useImperativeHandle(ref, () => ({
    check,
    read() {
      const problem = check();
      if (problem) return { ok: false, reason: problem };
      const bytes = takePassphrase(first.current);
      clearInputs(second.current);
      setStrength(null);
      return { ok: true, bytes };
    },
    clear() {
      clearInputs(first.current, second.current);
      setStrength(null);
    },
  }));

  const generate = () => {
    const p = generatePassphrase();
    if (first.current) first.current.value = p;
    if (second.current) second.current.value = p;
    setStrength(estimateStrength(p));
    setGenerated(true);
    first.current?.focus();
  };

  return (
    <div className="stack">
      <PassphraseField
        ref={first}
        label={label}
        meter
        autoFocus={props.autoFocus}
        autoComplete="new-password"
        onStrength={setStrength}
      />
      <PassphraseField
        ref={second}
        label={`Repeat ${label.toLowerCase()}`}
        autoComplete="new-password"
      />
      <div className="row">
        <button type="button" className="button" onClick={generate}>
          <Icon name="dice" /> Generate a strong passphrase
        </button>
        {strength && strength.score < 2 && (
          <label className="check" htmlFor={anywayId}>
            <input
              id={anywayId}
              type="checkbox"
              checked={anyway}
              onChange={(e) => setAnyway(e.target.checked)}
            />
            Use it anyway
          </label>
        )}
      </div>
      {generated && (
        <p className="hint">
          <Icon name="info" size={14} /> Use the eye button to show it, and write it down now:
          nobody can recover a lost passphrase.
        </p>
      )}
    </div>
  );
});

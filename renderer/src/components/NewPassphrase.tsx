/**
 * A new passphrase, one pattern everywhere (issue #14; the hand-over dialog's pattern):
 * typed twice with a strength meter that rates what is in the field, or generated and shown
 * with Copy and an "I have saved it" confirmation. Weak passphrases are blocked unless
 * "use it anyway". Problems show under the fields; Enter calls `onEnter`. The text lives
 * only in the DOM; the parent reads bytes via `read()` (clears) or `peek()` (keeps).
 */
import { forwardRef, useId, useImperativeHandle, useRef, useState } from 'react';
import { clearInputs, peekPassphrase, takePassphrase } from '../bridge/secret.js';
import { generatePassphrase } from '../lib/generator.js';
import { estimateStrength, type Strength } from '../lib/strength.js';
import { GeneratedSecret } from './GeneratedSecret.js';
import { Icon } from './Icon.js';
import { PassphraseField, StrengthMeter } from './PassphraseField.js';
import './jobs.css';

export type NewPassphraseResult = { ok: true; bytes: Uint8Array } | { ok: false; reason: string };

export interface NewPassphraseHandle {
  /** Validates, returns the bytes and clears the fields (on success). */
  read(): NewPassphraseResult;
  /** Validates and returns the bytes, keeping the fields (for a start that may fail). */
  peek(): NewPassphraseResult;
  /** Validates without taking the value; shows the problem under the fields. */
  check(): string | null;
  clear(): void;
}

export const NewPassphrase = forwardRef<
  NewPassphraseHandle,
  { label?: string; autoFocus?: boolean; onEnter?: () => void }
>(function NewPassphrase(props, ref) {
  const first = useRef<HTMLInputElement>(null);
  const second = useRef<HTMLInputElement>(null);
  const shown = useRef<HTMLInputElement>(null);
  const [strength, setStrength] = useState<Strength | null>(null);
  const [anyway, setAnyway] = useState(false);
  const [generated, setGenerated] = useState(false);
  const [saved, setSaved] = useState(false);
  const [generation, setGeneration] = useState(0);
  const [problem, setProblem] = useState<string | null>(null);
  const anywayId = useId();
  const savedId = useId();
  const shownId = useId();
  const meterId = useId();
  const label = props.label ?? 'New passphrase';

  const validate = (): string | null => {
    if (generated) {
      if (!shown.current?.value) return 'Generate a passphrase first.';
      if (!saved) return 'Copy or write down the passphrase, then tick “I have saved it”.';
      return null;
    }
    const a = first.current?.value ?? '';
    const b = second.current?.value ?? '';
    if (!a) return 'Type the new passphrase.';
    if (a !== b) return 'The two passphrases do not match.';
    if (estimateStrength(a).score < 2 && !anyway)
      return 'This passphrase is weak. Make it longer, or tick “Use it anyway”.';
    return null;
  };
  const check = () => {
    const p = validate();
    setProblem(p);
    return p;
  };
  const input = () => (generated ? shown.current : first.current);
  const clear = () => {
    clearInputs(first.current, second.current, shown.current);
    setStrength(null);
    setGenerated(false);
    setSaved(false);
  };

  useImperativeHandle(ref, () => ({
    check,
    peek() {
      const p = check();
      return p ? { ok: false, reason: p } : { ok: true, bytes: peekPassphrase(input()) };
    },
    read() {
      const p = check();
      if (p) return { ok: false, reason: p };
      const bytes = takePassphrase(input());
      clear();
      return { ok: true, bytes };
    },
    clear,
  }));

  const generate = () => {
    const p = generatePassphrase();
    clearInputs(first.current, second.current);
    if (shown.current) shown.current.value = p;
    setStrength(estimateStrength(p));
    setGenerated(true);
    setSaved(false);
    setGeneration((g) => g + 1);
    setProblem(null);
  };
  const typeOwn = () => {
    clear();
    setProblem(null);
    setTimeout(() => first.current?.focus(), 0);
  };
  const enter = () => {
    if (!check()) props.onEnter?.();
  };

  return (
    <div className="stack">
      <div hidden={generated} className="stack">
        <PassphraseField
          ref={first}
          label={label}
          meter
          autoFocus={props.autoFocus}
          autoComplete="new-password"
          onStrength={setStrength}
          onInput={() => setProblem(null)}
          onEnter={() => second.current?.focus()}
        />
        <PassphraseField
          ref={second}
          label={`Repeat ${label.toLowerCase()}`}
          autoComplete="new-password"
          onInput={() => setProblem(null)}
          onEnter={enter}
          problem={generated ? null : problem}
        />
      </div>
      <div hidden={!generated} className="stack">
        <GeneratedSecret
          ref={shown}
          id={shownId}
          label={`Generated ${label.toLowerCase()}`}
          generation={generation}
          onRegenerate={generate}
          describedBy={meterId}
        >
          <StrengthMeter id={meterId} strength={generated ? strength : null} />
        </GeneratedSecret>
        <p className="hint">
          <Icon name="info" size={14} /> Write it down or store it in a password manager now: it is
          shown only here, and nobody can recover a lost passphrase.
        </p>
        <label className="check" htmlFor={savedId}>
          <input
            id={savedId}
            type="checkbox"
            checked={saved}
            onChange={(e) => {
              setSaved(e.target.checked);
              setProblem(null);
            }}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                enter();
              }
            }}
          />
          I have saved it (copied or written down)
        </label>
        {problem && (
          <p className="field-problem" role="alert">
            <Icon name="warning" size={14} />
            <span>{problem}</span>
          </p>
        )}
      </div>
      <div className="row">
        {generated ? (
          <button type="button" className="button" onClick={typeOwn}>
            Type my own instead
          </button>
        ) : (
          <button type="button" className="button" onClick={generate}>
            <Icon name="dice" /> Generate a strong passphrase
          </button>
        )}
        {!generated && strength && strength.score < 2 && (
          <label className="check" htmlFor={anywayId}>
            <input
              id={anywayId}
              type="checkbox"
              checked={anyway}
              onChange={(e) => {
                setAnyway(e.target.checked);
                setProblem(null);
              }}
            />
            Use it anyway
          </label>
        )}
      </div>
    </div>
  );
});

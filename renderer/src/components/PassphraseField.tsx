/**
 * A password input that React does not control: its value lives only in the DOM until the
 * caller reads it with `takePassphrase` (bytes) and clears it. Only a strength score, never
 * the text, goes into React state.
 */
import { forwardRef, useId, useState } from 'react';
import { estimateStrength, type Strength } from '../lib/strength.js';
import { Icon } from './Icon.js';

export interface PassphraseFieldProps {
  label: string;
  hint?: string;
  autoFocus?: boolean;
  /** Show a strength meter under the field. */
  meter?: boolean;
  onStrength?: (s: Strength) => void;
  onInput?: () => void;
  /** Enter in the field (submits the step or advances the wizard). */
  onEnter?: () => void;
  /** A problem with this field, shown right under it. */
  problem?: string | null;
  autoComplete?: 'new-password' | 'current-password';
}

export const PassphraseField = forwardRef<HTMLInputElement, PassphraseFieldProps>(
  function PassphraseField(props, ref) {
    const id = useId();
    const [visible, setVisible] = useState(false);
    const [strength, setStrength] = useState<Strength | null>(null);
    return (
      <div className="field">
        <label htmlFor={id}>{props.label}</label>
        <div className="input-with-button">
          <input
            id={id}
            ref={ref}
            type={visible ? 'text' : 'password'}
            autoComplete={props.autoComplete ?? 'current-password'}
            autoFocus={props.autoFocus}
            spellCheck={false}
            autoCapitalize="off"
            aria-describedby={
              [props.meter ? `${id}-meter` : '', props.problem ? `${id}-problem` : '']
                .filter(Boolean)
                .join(' ') || undefined
            }
            aria-invalid={props.problem ? true : undefined}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && props.onEnter) {
                e.preventDefault();
                props.onEnter();
              }
            }}
            onInput={(e) => {
              props.onInput?.();
              if (props.meter || props.onStrength) {
                const s = estimateStrength(e.currentTarget.value);
                setStrength(s);
                props.onStrength?.(s);
              }
            }}
          />
          <button
            type="button"
            className="icon-button"
            aria-label={
              visible ? `Hide ${props.label.toLowerCase()}` : `Show ${props.label.toLowerCase()}`
            }
            aria-pressed={visible}
            onClick={() => setVisible((v) => !v)}
          >
            <Icon name={visible ? 'eye-off' : 'eye'} />
          </button>
        </div>
        {props.hint && <p className="hint">{props.hint}</p>}
        {props.problem && (
          <p className="field-problem" id={`${id}-problem`} role="alert">
            <Icon name="warning" size={14} />
            <span>{props.problem}</span>
          </p>
        )}
        {props.meter && <StrengthMeter id={`${id}-meter`} strength={strength} />}
      </div>
    );
  }
);

export function StrengthMeter({ id, strength }: { id: string; strength: Strength | null }) {
  const score = strength?.score ?? 0;
  return (
    <div className="strength" id={id}>
      <div
        className={`strength-bar s${strength ? score : 'x'}`}
        role="meter"
        aria-label="Passphrase strength"
        aria-valuemin={0}
        aria-valuemax={4}
        aria-valuenow={score}
        aria-valuetext={strength?.label ?? 'Empty'}
      >
        {[0, 1, 2, 3].map((i) => (
          <span key={i} className={strength && score > i ? 'on' : ''} />
        ))}
      </div>
      <p className="hint">
        <strong>{strength?.label ?? 'Empty'}</strong>{' '}
        {strength ? `· ${strength.hint}` : '· Type a passphrase or generate one.'}
      </p>
    </div>
  );
}

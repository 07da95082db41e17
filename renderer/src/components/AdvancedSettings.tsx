/**
 * The collapsed "Advanced settings" section of the wizards and its most common field, the LUKS
 * unlock time (PBKDF2 iteration time in milliseconds).
 */
import { useId, type ReactNode } from 'react';

export function AdvancedSettings({ children }: { children: ReactNode }) {
  return (
    <details className="advanced">
      <summary>Advanced settings</summary>
      {children}
    </details>
  );
}

export function UnlockTimeField(props: {
  value: string;
  onChange: (value: string) => void;
  /** Upper bound offered by the number input. */
  max?: string;
  hint?: ReactNode;
  /** Announce hint changes (e.g. a benchmark result) to assistive technology. */
  liveHint?: boolean;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>Unlock time (ms)</label>
      <input
        id={id}
        type="number"
        min="1"
        max={props.max}
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        className="narrow"
      />
      {props.hint !== undefined && (
        <p className="hint" aria-live={props.liveHint ? 'polite' : undefined}>
          {props.hint}
        </p>
      )}
    </div>
  );
}

/** The unlock time typed into an {@link UnlockTimeField}, or `undefined` if it is not usable. */
export function parseUnlockMs(text: string): number | undefined {
  const ms = Number(text);
  return Number.isInteger(ms) && ms > 0 ? ms : undefined;
}

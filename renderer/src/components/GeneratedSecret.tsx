/**
 * A generated passphrase shown once (issue #14, "Passphrases, one pattern everywhere"): the
 * read-only field, Copy, "Generate another", and a hint when the clipboard is refused. The
 * text lives only in the DOM input the parent reaches through `ref` (docs/DESIGN.md,
 * "Secrets"); `generation` changes whenever the parent puts a new passphrase there, which
 * resets the "Copied" state.
 */
import { forwardRef, useEffect, useRef, useState, type ReactNode } from 'react';
import { copyText } from './CopyBlock.js';
import { Icon } from './Icon.js';

export const GeneratedSecret = forwardRef<
  HTMLInputElement,
  {
    id: string;
    label: string;
    generation: number;
    onRegenerate: () => void;
    describedBy?: string;
    /** Shown under the field (a strength meter). */
    children?: ReactNode;
  }
>(function GeneratedSecret({ id, label, generation, onRegenerate, describedBy, children }, ref) {
  const input = useRef<HTMLInputElement | null>(null);
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => setCopied('idle'), [generation]);
  const setRefs = (el: HTMLInputElement | null) => {
    input.current = el;
    if (typeof ref === 'function') ref(el);
    else if (ref) ref.current = el;
  };
  return (
    <>
      <div className="field">
        <label htmlFor={id}>{label}</label>
        <div className="input-with-button">
          <input
            id={id}
            ref={setRefs}
            className="secret-display"
            readOnly
            spellCheck={false}
            autoComplete="off"
            aria-describedby={describedBy}
          />
          <button
            type="button"
            className="button"
            onClick={() => {
              void copyText(input.current?.value ?? '').then((ok) =>
                setCopied(ok ? 'copied' : 'failed')
              );
            }}
          >
            <Icon name={copied === 'copied' ? 'check' : 'file'} />
            {copied === 'copied' ? 'Copied' : 'Copy'}
          </button>
          <button
            type="button"
            className="icon-button"
            aria-label="Generate another passphrase"
            onClick={onRegenerate}
          >
            <Icon name="dice" />
          </button>
        </div>
        {children}
      </div>
      {copied === 'failed' && (
        <p className="hint">Copying was refused here: select the text and copy it by hand.</p>
      )}
    </>
  );
});

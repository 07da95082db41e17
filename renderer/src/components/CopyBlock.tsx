/**
 * A read-only block of text (XML, commands) with a Copy button. Only for non-secret text:
 * libvirt XML and setup steps never contain a passphrase.
 */
import { useId, useState } from 'react';
import { Icon } from './Icon.js';

/** Copies text to the clipboard; falls back to a hidden textarea when the API is refused. */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    area.value = '';
    area.remove();
    return ok;
  }
}

export function CopyBlock({ label, text }: { label: string; text: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const id = useId();
  return (
    <div className="copy-block">
      <div className="row spread">
        <span id={id} className="copy-label">
          {label}
        </span>
        <button
          type="button"
          className="button small"
          aria-label={`Copy ${label}`}
          onClick={() => {
            void copyText(text).then((ok) => {
              setState(ok ? 'copied' : 'failed');
              setTimeout(() => setState('idle'), 2000);
            });
          }}
        >
          <Icon name={state === 'copied' ? 'check' : 'file'} size={14} />
          {state === 'copied' ? 'Copied' : state === 'failed' ? 'Select and copy' : 'Copy'}
        </button>
      </div>
      <pre className="code-block" aria-labelledby={id} tabIndex={0}>
        {text}
      </pre>
    </div>
  );
}

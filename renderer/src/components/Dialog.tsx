/**
 * A modal dialog on the native `<dialog>` element: focus is trapped by the browser, Escape
 * closes, the title names the dialog for assistive technology (`getByRole('dialog', {name})`).
 */
import { useEffect, useId, useRef, type ReactNode } from 'react';
import { Icon } from './Icon.js';

export function Dialog(props: {
  title: string;
  subtitle?: string;
  onClose: () => void;
  children: ReactNode;
  footer?: ReactNode;
  wide?: boolean;
  /** While true, Escape and the close button do nothing (e.g. a job is starting). */
  busy?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const { onClose, busy } = props;
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    const onCancel = (e: Event) => {
      e.preventDefault();
      if (!busy) onClose();
    };
    d.addEventListener('cancel', onCancel);
    return () => d.removeEventListener('cancel', onCancel);
  }, [onClose, busy]);
  return (
    <dialog
      ref={ref}
      className={`dialog ${props.wide ? 'dialog-wide' : ''}`}
      aria-labelledby={titleId}
    >
      <header className="dialog-head">
        <div>
          <h2 id={titleId}>{props.title}</h2>
          {props.subtitle && <p className="muted">{props.subtitle}</p>}
        </div>
        <button
          type="button"
          className="icon-button"
          aria-label="Close"
          onClick={onClose}
          disabled={busy}
        >
          <Icon name="x" />
        </button>
      </header>
      <div className="dialog-body">{props.children}</div>
      {props.footer && <footer className="dialog-foot">{props.footer}</footer>}
    </dialog>
  );
}

/**
 * A modal dialog on the native `<dialog>` element: focus is trapped by the browser, Escape
 * closes, the title names the dialog for assistive technology (`getByRole('dialog', {name})`).
 * It opens with focus on its first field (not on the close button), gives focus back to the
 * control that opened it when it goes, and Enter in a field outside a form presses the
 * footer's primary button (Next, Create…), never a destructive one (issue #14).
 */
import { useEffect, useId, useRef, type KeyboardEvent, type ReactNode } from 'react';
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
    if (!d) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!d.open) d.showModal();
    firstField(d)?.focus();
    return () => {
      // The dialog leaves the DOM without close(): give focus back as close() would.
      if (opener?.isConnected) setTimeout(() => opener.focus(), 0);
    };
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
      onKeyDown={pressPrimaryOnEnter}
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

const FIELDS =
  'input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])';

/** The first visible field of the dialog's body, else its first focusable control. */
function firstField(d: HTMLDialogElement): HTMLElement | null {
  const body = d.querySelector('.dialog-body');
  const visible = (el: HTMLElement) => el.getClientRects().length > 0;
  const fields = [...(body?.querySelectorAll<HTMLElement>(FIELDS) ?? [])].filter(visible);
  const chosen = fields.find((el) => el.autofocus) ?? fields[0];
  if (chosen) return chosen;
  const controls = d.querySelectorAll<HTMLElement>(
    '.dialog-body button:not([disabled]), .dialog-body [tabindex="0"], .dialog-foot button:not([disabled])'
  );
  return [...controls].find(visible) ?? null;
}

/** Enter in a field that no form handles presses the enabled primary footer button. */
function pressPrimaryOnEnter(e: KeyboardEvent<HTMLDialogElement>): void {
  if (e.key !== 'Enter' || e.defaultPrevented || e.nativeEvent.isComposing) return;
  const t = e.target;
  if (!(t instanceof HTMLInputElement || t instanceof HTMLSelectElement)) return;
  if (t instanceof HTMLInputElement && (t.form || /^(checkbox|radio|button|submit)$/.test(t.type)))
    return;
  const primary = e.currentTarget.querySelector<HTMLButtonElement>(
    '.dialog-foot .button.primary:not(:disabled)'
  );
  if (!primary) return;
  e.preventDefault();
  primary.click();
}

/**
 * Footer buttons shared by the wizards and dialogs: a plain button, the usual
 * secondary + primary pair, and the "Close" + "Show …" pair after a finished job.
 */
import type { ReactNode } from 'react';
import { useStore } from '../store/index.js';

export interface FooterAction {
  label: ReactNode;
  onClick: () => void;
  disabled?: boolean;
}

/** One footer button; `tone` adds the `primary` or `danger` style. */
export function FooterButton({
  label,
  onClick,
  disabled,
  tone,
}: FooterAction & { tone?: 'primary' | 'danger' }) {
  return (
    <button
      type="button"
      className={tone ? `button ${tone}` : 'button'}
      onClick={onClick}
      disabled={disabled}
    >
      {label}
    </button>
  );
}

/** A secondary action (Cancel, Back, Close) followed by the primary one. */
export function ButtonPair(props: {
  secondary: FooterAction;
  primary: FooterAction;
  tone?: 'primary' | 'danger';
}) {
  return (
    <>
      <FooterButton {...props.secondary} />
      <FooterButton {...props.primary} tone={props.tone ?? 'primary'} />
    </>
  );
}

/** "Close" and a primary button that closes the dialog and opens `path` in Details. */
export function CloseAndShow({
  onClose,
  path,
  label,
}: {
  onClose: () => void;
  path: string;
  label: string;
}) {
  const openImage = useStore((s) => s.openImage);
  return (
    <ButtonPair
      secondary={{ label: 'Close', onClick: onClose }}
      primary={{
        label,
        onClick: () => {
          onClose();
          void openImage(path);
        },
      }}
    />
  );
}

/** The heading block of a screen (Library, Jobs, Details): title, one line under it, actions. */
import type { ReactNode } from 'react';

export function ScreenHeader(props: {
  /** Id of the `<h1>`, for the screen's `aria-labelledby`. */
  titleId: string;
  title: ReactNode;
  description: ReactNode;
  /** Show the description as a file path. */
  path?: boolean;
  /** Actions shown at the right. */
  children?: ReactNode;
}) {
  return (
    <header className="screen-head">
      <div>
        <h1 id={props.titleId}>{props.title}</h1>
        <p className={props.path ? 'muted path' : 'muted'}>{props.description}</p>
      </div>
      {props.children}
    </header>
  );
}

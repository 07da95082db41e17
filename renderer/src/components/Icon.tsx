/** Icons from `assets/icons/*.svg` (stroke = currentColor), inlined as markup. */
const sources = import.meta.glob('../../../assets/icons/*.svg', {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;

const ICONS: Record<string, string> = {};
for (const [file, svg] of Object.entries(sources)) {
  ICONS[file.slice(file.lastIndexOf('/') + 1, -4)] = svg;
}

export type IconName =
  | 'disk'
  | 'lock'
  | 'unlock'
  | 'key'
  | 'plus'
  | 'folder'
  | 'file'
  | 'upload'
  | 'activity'
  | 'trash'
  | 'warning'
  | 'check'
  | 'x'
  | 'chevron-left'
  | 'chevron-right'
  | 'arrow-up'
  | 'refresh'
  | 'convert'
  | 'shield'
  | 'eye'
  | 'eye-off'
  | 'dice'
  | 'info'
  | 'library'
  | 'migrate';

/** A decorative icon (hidden from assistive technology; label the control instead). */
export function Icon({
  name,
  size = 18,
  className,
}: {
  name: IconName;
  size?: number;
  className?: string;
}) {
  return (
    <span
      className={`icon ${className ?? ''}`}
      style={{ width: size, height: size }}
      aria-hidden="true"
      dangerouslySetInnerHTML={{ __html: ICONS[name] ?? '' }}
    />
  );
}

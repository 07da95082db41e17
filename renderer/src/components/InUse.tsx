/** An image held by a VM or another program (`ImageInfo.inUse`): badge and plain reason. */
import type { ImageInUse } from '../../../core/api/index.js';
import { Icon } from './Icon.js';

/** Who holds it, in words: "qemu-system-x86 (PID 4242)" or "another program". */
function holderName(use: ImageInUse): string {
  if (!use.holder) return 'another program';
  return use.pid !== undefined && !use.holder.includes('this process')
    ? `${use.holder} (PID ${use.pid})`
    : use.holder;
}

/** Why changes are refused now; used as the tooltip and description of disabled actions. */
export function inUseReason(use: ImageInUse): string {
  return use.writer
    ? `In use: ${holderName(use)} is writing this image. Stop the VM or close the program first.`
    : `In use: ${holderName(use)} has this image open. Close it before changing the image.`;
}

/** Why reading is refused now (only while someone writes it). */
export function inUseReadReason(use: ImageInUse): string | undefined {
  return use.writer
    ? `In use: ${holderName(use)} is writing this image, so a copy would not be consistent.`
    : undefined;
}

export function InUseBadge({ use }: { use: ImageInUse }) {
  return (
    <span className="badge warn" title={inUseReason(use)}>
      <Icon name="warning" size={14} />
      In use
    </span>
  );
}

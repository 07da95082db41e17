/**
 * Whether a file that probes as "raw" is plausibly a disk at all (issue #14: a text file must
 * not be taken for a raw disk without a warning). Raw has no signature, so this only looks
 * for what a disk never is: text from the first byte on, or a length that is not whole
 * 512-byte sectors.
 */
import type { BlockDevice } from '../io/block-device.js';

/** How much of the start is looked at. */
const SAMPLE = 4096;

/** True when every byte of `bytes` is printable ASCII, common whitespace, or UTF-8 text. */
export function looksLikeText(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return false;
  for (const b of bytes) {
    if (b === 0x09 || b === 0x0a || b === 0x0d) continue;
    if (b < 0x20 || b === 0x7f) return false;
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, lastWholeChar(bytes)));
    return true;
  } catch {
    return false;
  }
}

/** Cuts a possibly split last UTF-8 character off the sample. */
function lastWholeChar(bytes: Uint8Array): number {
  let end = bytes.length;
  for (let i = 1; i <= 3 && end - i >= 0; i++) {
    const b = bytes[end - i]!;
    if ((b & 0xc0) === 0x80) continue;
    if (b >= 0xc0) end -= i;
    break;
  }
  return end;
}

/** Warnings for a raw file that does not look like a disk (empty when it may be one). */
export async function rawDiskWarnings(dev: BlockDevice, fileSize: number): Promise<string[]> {
  const warnings: string[] = [];
  if (fileSize === 0) return ['The file is empty: there is no disk in it.'];
  const sample = new Uint8Array(Math.min(SAMPLE, fileSize));
  const n = await dev.read(sample, 0);
  if (looksLikeText(sample.subarray(0, n))) {
    warnings.push(
      'This file looks like text, not a disk image: used as a raw disk, its bytes would be taken as sectors. Check that you picked the right file.'
    );
  } else if (fileSize % 512 !== 0) {
    warnings.push(
      `The file is not a whole number of 512-byte sectors (${fileSize} bytes): it is probably not a raw disk image.`
    );
  }
  return warnings;
}

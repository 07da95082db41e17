/** Format detection by magic (docs/spec/qcow2.md §2, docs/spec/luks1.md, docs/spec/luks2.md §1, docs/spec/legacy-aes.md §3). */
import { fail } from '../api/errors.js';
import type { BlockDevice } from '../io/block-device.js';
import { isLuks2SecondaryAt, LUKS2_SECONDARY_OFFSETS } from './luks/luks2-header.js';

export type ProbedFormat = 'qcow2' | 'qcow' | 'luks' | 'raw';

const LUKS_MAGIC = [0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe];

/** Whether a LUKS2 secondary header sits at one of its standard offsets (docs/spec/luks2.md §1). */
async function hasLuks2Secondary(dev: BlockDevice): Promise<boolean> {
  const size = await dev.size();
  const buf = new Uint8Array(264);
  for (const off of LUKS2_SECONDARY_OFFSETS) {
    if (off + buf.length > size) break;
    if ((await dev.read(buf, off)) === buf.length && isLuks2SecondaryAt(buf, off)) return true;
  }
  return false;
}

/**
 * `QFI\xfb` + version 1 → qcow, 2/3 → qcow2 (other versions: UNSUPPORTED_FEATURE);
 * `LUKS\xba\xbe` (LUKS1 or LUKS2) → luks; a LUKS2 secondary header at a standard offset when
 * the start is unrecognisable (a destroyed primary, as cryptsetup finds it) → luks; anything
 * else, including short files → raw.
 */
export async function probeFormat(dev: BlockDevice): Promise<ProbedFormat> {
  const buf = new Uint8Array(8);
  const n = await dev.read(buf, 0);
  if (n >= 6 && LUKS_MAGIC.every((b, i) => buf[i] === b)) return 'luks';
  if (n >= 4 && buf[0] === 0x51 && buf[1] === 0x46 && buf[2] === 0x49 && buf[3] === 0xfb) {
    if (n < 8) return 'raw';
    const version = new DataView(buf.buffer).getUint32(4);
    if (version === 1) return 'qcow';
    if (version === 2 || version === 3) return 'qcow2';
    throw fail('UNSUPPORTED_FEATURE', `qcow version ${version} is not supported`);
  }
  return (await hasLuks2Secondary(dev)) ? 'luks' : 'raw';
}

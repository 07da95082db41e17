/** Internal snapshot table (docs/spec/qcow2.md §10): listed, never modified. */
import { fail } from '../../api/errors.js';
import type { SnapshotInfo } from '../../api/types.js';
import { readExact, type BlockDevice } from '../../io/block-device.js';
import { readU64 } from './entries.js';
import type { Qcow2Header } from './header.js';

/** QEMU caps the whole snapshot table at 64 MiB. */
const MAX_TABLE_BYTES = 64 * 1024 * 1024;

export interface Qcow2Snapshot extends SnapshotInfo {
  l1TableOffset: number;
  l1Size: number;
}

const utf8 = new TextDecoder();

/** Reads every snapshot entry with bounds checks on each variable-size field. */
export async function readSnapshots(dev: BlockDevice, h: Qcow2Header): Promise<Qcow2Snapshot[]> {
  return (await readSnapshotTable(dev, h)).snapshots;
}

/** The snapshot entries and the table's length in bytes (for refcount checks). */
export async function readSnapshotTable(
  dev: BlockDevice,
  h: Qcow2Header
): Promise<{ snapshots: Qcow2Snapshot[]; bytes: number }> {
  const out: Qcow2Snapshot[] = [];
  if (h.nbSnapshots === 0) return { snapshots: out, bytes: 0 };
  let pos = h.snapshotsOffset;
  let total = 0;
  for (let i = 0; i < h.nbSnapshots; i++) {
    const fixed = await readExact(dev, 40, pos, 'snapshot table');
    const v = new DataView(fixed.buffer);
    const l1TableOffset = readU64(v, 0);
    const l1Size = v.getUint32(8);
    const idLen = v.getUint16(12);
    const nameLen = v.getUint16(14);
    const extraLen = v.getUint32(36);
    if (extraLen > 1024 * 1024) throw fail('CORRUPT', 'qcow2 snapshot extra data is too large');
    const varLen = extraLen + idLen + nameLen;
    total += 40 + varLen;
    if (total > MAX_TABLE_BYTES) throw fail('CORRUPT', 'qcow2 snapshot table is too large');
    const rest = await readExact(dev, varLen, pos + 40, 'snapshot table');
    const extra = new DataView(rest.buffer, 0, extraLen);
    let vmStateSize = v.getUint32(32);
    if (extraLen >= 8) vmStateSize = readU64(extra, 0);
    if (l1TableOffset % h.clusterSize !== 0) {
      throw fail('CORRUPT', `qcow2 snapshot ${i} L1 table is not cluster aligned`);
    }
    if (l1Size * 8 > 32 * 1024 * 1024) throw fail('CORRUPT', `qcow2 snapshot ${i} L1 is too large`);
    out.push({
      id: utf8.decode(rest.subarray(extraLen, extraLen + idLen)),
      name: utf8.decode(rest.subarray(extraLen + idLen, varLen)),
      vmStateSize,
      dateSeconds: v.getUint32(16),
      vmClockNs: readU64(v, 24),
      l1TableOffset,
      l1Size,
    });
    pos += Math.ceil((40 + varLen) / 8) * 8;
  }
  return { snapshots: out, bytes: total };
}

/**
 * The host clusters that hold guest data of a qcow2 image, from the active L1 table and every
 * internal snapshot's (docs/spec/qcow2.md §5, §6, §10): what a master-key rotation
 * re-encrypts (with qcow2+LUKS the IV of a sector is its host offset / 512,
 * docs/spec/qcow2-luks.md §3, so a cluster is re-encrypted where it lies, whoever refers to it).
 * Zero-flagged clusters that keep a host cluster are included (their old ciphertext must not
 * stay readable with the old key); metadata (tables, refcounts, the LUKS region) is not.
 */
import { fail } from '../../api/errors.js';
import { readExact, type BlockDevice } from '../../io/block-device.js';
import { COMPRESSED_HI, entryOffset } from './entries.js';
import type { Qcow2Header } from './header.js';
import { readSnapshots } from './snapshots.js';

/** A run of consecutive host bytes `[start, start + length)`. */
export interface HostRange {
  start: number;
  length: number;
}

/**
 * Sorted, merged host ranges of every data cluster referred to by the active or a snapshot's
 * L1 table. Compressed clusters are refused (QEMU never writes them in encrypted images).
 */
export async function dataClusterRanges(dev: BlockDevice, h: Qcow2Header): Promise<HostRange[]> {
  const cs = h.clusterSize;
  const clusters = new Set<number>();
  const seenL2 = new Set<number>();
  const tables = [{ offset: h.l1TableOffset, size: h.l1Size }];
  for (const s of await readSnapshots(dev, h))
    tables.push({ offset: s.l1TableOffset, size: s.l1Size });
  for (const t of tables) {
    if (t.size === 0) continue;
    if (t.offset + t.size * 8 > h.fileSize)
      throw fail('TRUNCATED', 'An L1 table lies past the end');
    const l1 = await readExact(dev, t.size * 8, t.offset, 'L1 table');
    const v1 = new DataView(l1.buffer);
    for (let i = 0; i < t.size; i++) {
      const l2Off = entryOffset(v1.getUint32(i * 8), v1.getUint32(i * 8 + 4));
      if (l2Off === 0 || seenL2.has(l2Off)) continue;
      seenL2.add(l2Off);
      if (l2Off % cs !== 0 || l2Off + cs > h.fileSize) {
        throw fail(
          'CORRUPT',
          `L2 table at 0x${l2Off.toString(16)} is misaligned or outside the image`
        );
      }
      const l2 = await readExact(dev, cs, l2Off, 'L2 table');
      const v2 = new DataView(l2.buffer);
      for (let j = 0; j < h.l2Entries; j++) {
        const at = j * h.l2EntrySize;
        const hi = v2.getUint32(at);
        const lo = v2.getUint32(at + 4);
        if (hi & COMPRESSED_HI) {
          throw fail('UNSUPPORTED_FEATURE', 'Compressed clusters in an encrypted qcow2 image');
        }
        const off = entryOffset(hi, lo);
        if (off === 0) continue;
        if (off % cs !== 0 || off + cs > h.fileSize) {
          throw fail(
            'CORRUPT',
            `Data cluster at 0x${off.toString(16)} is misaligned or outside the image`
          );
        }
        clusters.add(off);
      }
    }
  }
  const sorted = [...clusters].sort((a, b) => a - b);
  const out: HostRange[] = [];
  for (const c of sorted) {
    const last = out[out.length - 1];
    if (last && last.start + last.length === c) last.length += cs;
    else out.push({ start: c, length: cs });
  }
  return out;
}

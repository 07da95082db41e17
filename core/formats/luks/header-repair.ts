/**
 * Header repair (docs/spec/luks2.md §2): the damaged or out-of-date LUKS2 copy is rewritten from
 * the valid one — same binary fields, seqid and JSON area, its own magic, offset, a fresh salt
 * and a new checksum — as `cryptsetup repair` (and its automatic recovery) does. The valid copy
 * is never touched, so an interrupted repair leaves the volume as readable as before.
 */
import type { HeaderIO } from '../encryption.js';
import { rebuildLuks2Copy } from './luks2-write.js';
import { readLuks2Volume, type Luks2Volume } from './luks2-volume.js';

/** One write of a planned header operation, applied in order. */
export interface HeaderWrite {
  offset: number;
  bytes: Uint8Array;
}

export interface RepairPlan {
  /** Empty when both copies are valid. */
  writes: HeaderWrite[];
  /** What will be (or was) rewritten, in plain words. */
  description: string;
}

/** The write that restores the copy `vol` does not use. */
export function luks2RepairPlan(vol: Luks2Volume): RepairPlan {
  const { state, header } = vol;
  const target = state.used === 'primary' ? state.secondary : state.primary;
  if (target.status === 'valid') return { writes: [], description: 'Both header copies are valid' };
  const offset = state.used === 'primary' ? header.hdrSize : 0;
  const which = offset === 0 ? 'primary' : 'secondary';
  const why = target.status === 'stale' ? 'out of date' : 'damaged';
  return {
    writes: [{ offset, bytes: rebuildLuks2Copy(header, offset) }],
    description: `Rewrote the ${why} ${which} LUKS2 header copy from the valid ${state.used} copy`,
  };
}

/** Reads `io` and plans its repair (see {@link luks2RepairPlan}). */
export async function planLuks2Repair(io: HeaderIO): Promise<RepairPlan> {
  return luks2RepairPlan(await readLuks2Volume(io));
}

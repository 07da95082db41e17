/**
 * Loading a LUKS2 volume from whichever header copy is valid (docs/spec/luks2.md §2 "Choosing the
 * header", cryptsetup `LUKS2_disk_hdr_read`): both copies are read and validated (checksum and
 * JSON); the valid one with the higher seqid is used; a damaged or older copy is reported in
 * the header state. Unlike cryptsetup we never rewrite a copy while reading: the user repairs
 * it explicitly, and header writes are refused until then (`assertHeaderWritable`).
 */
import { fail, isVaultError, type VaultError } from '../../api/errors.js';
import type { HeaderIO } from '../encryption.js';
import {
  LUKS2_BINARY_HEADER_SIZE,
  LUKS2_SECONDARY_OFFSETS,
  Luks2CopyError,
  readLuks2Copy,
  type Luks2BinaryHeader,
} from './luks2-header.js';
import { jsonTextOf, parseLuks2Metadata, type Luks2Metadata } from './luks2-metadata.js';

export interface Luks2CopyStatus {
  /** `stale`: valid but older (lower seqid) than the other copy — an interrupted update. */
  status: 'valid' | 'stale' | 'damaged';
  /** Where the copy is (or should be). */
  offset: number;
  seqid?: bigint;
  reason?: string;
}

export interface Luks2HeaderState {
  used: 'primary' | 'secondary';
  primary: Luks2CopyStatus;
  secondary: Luks2CopyStatus;
}

export interface Luks2Volume {
  /** The copy in use. */
  header: Luks2BinaryHeader;
  meta: Luks2Metadata;
  state: Luks2HeaderState;
}

interface CopyResult {
  offset: number;
  header?: Luks2BinaryHeader;
  meta?: Luks2Metadata;
  /** Set when the copy is unusable; `stage` says how far it got. */
  error?: VaultError;
  stage?: 'absent' | 'checksum' | 'json';
}

async function loadCopy(io: HeaderIO, offset: number): Promise<CopyResult> {
  let header: Luks2BinaryHeader;
  try {
    header = await readLuks2Copy(io, offset);
  } catch (e) {
    if (e instanceof Luks2CopyError && isVaultError(e.error)) {
      return { offset, error: e.error, stage: e.stage };
    }
    throw e;
  }
  try {
    const meta = parseLuks2Metadata(jsonTextOf(header.jsonArea), header.hdrSize);
    return { offset, header, meta };
  } catch (e) {
    if (!isVaultError(e)) throw e;
    return { offset, header, error: e, stage: 'json' };
  }
}

/** The most telling error when neither copy can be used. */
function bothFailed(p: CopyResult, s: CopyResult): VaultError {
  for (const c of [p, s]) if (c.stage === 'json') return c.error!;
  if (p.stage === 'checksum' && s.stage === 'checksum') {
    return fail('CORRUPT', 'Both LUKS2 header copies have bad checksums');
  }
  if (p.stage === 'checksum') return p.error!;
  if (s.stage === 'checksum') return s.error!;
  return p.error!;
}

function status(c: CopyResult): Luks2CopyStatus {
  if (c.error) {
    const reason = c.stage === 'absent' ? `missing: ${c.error.message}` : c.error.message;
    return { status: 'damaged', offset: c.offset, reason };
  }
  return { status: 'valid', offset: c.offset, seqid: c.header!.seqid };
}

/**
 * Reads both copies and returns the volume from the valid one with the highest seqid
 * (docs/spec/luks2.md §2). When the primary cannot say where the secondary is, the standard offsets are
 * searched. Throws CORRUPT/TRUNCATED/NOT_AN_IMAGE naming the defect when neither copy is valid.
 */
export async function readLuks2Volume(io: HeaderIO): Promise<Luks2Volume> {
  const p = await loadCopy(io, 0);
  let s: CopyResult | undefined;
  if (p.header) {
    s = await loadCopy(io, p.header.hdrSize);
  } else {
    for (const off of LUKS2_SECONDARY_OFFSETS) {
      if (off + LUKS2_BINARY_HEADER_SIZE > io.length) break;
      // Like cryptsetup, keep searching past a copy whose checksum fails.
      const c = await loadCopy(io, off);
      if (c.header || !s || (s.stage === 'absent' && c.stage !== 'absent')) s = c;
      if (c.header) break;
    }
    s ??= { offset: LUKS2_SECONDARY_OFFSETS[0]!, error: p.error!, stage: 'absent' };
  }
  const ps = status(p);
  const ss = status(s);
  if (!p.meta && !s.meta) throw bothFailed(p, s);
  let used: 'primary' | 'secondary' = p.meta ? 'primary' : 'secondary';
  if (p.meta && s.meta) {
    if (s.header!.seqid > p.header!.seqid) {
      used = 'secondary';
      ps.status = 'stale';
      ps.reason = `older than the secondary copy (seqid ${p.header!.seqid} < ${s.header!.seqid})`;
    } else if (s.header!.seqid < p.header!.seqid) {
      ss.status = 'stale';
      ss.reason = `older than the primary copy (seqid ${s.header!.seqid} < ${p.header!.seqid})`;
    }
  }
  const chosen = used === 'primary' ? p : s;
  if (!p.header && used === 'secondary') ps.offset = 0;
  if (used === 'primary' && !s.header) ss.offset = chosen.header!.hdrSize;
  const { meta, header } = chosen as Required<Pick<CopyResult, 'meta' | 'header'>>;
  const needed = 2 * header.hdrSize + meta.keyslotsSize;
  if (needed > io.length) {
    throw fail(
      'TRUNCATED',
      `The LUKS2 headers and keyslots need ${needed} bytes; the device has ${io.length}`
    );
  }
  return { header, meta, state: { used, primary: ps, secondary: ss } };
}

/** Whether a copy is damaged or stale, so that `header repair` has work to do. */
export function needsRepair(state: Luks2HeaderState): boolean {
  return state.primary.status !== 'valid' || state.secondary.status !== 'valid';
}

/** A one-line explanation of the header state for users (empty when both copies are valid). */
export function headerStateMessage(state: Luks2HeaderState): string {
  const bad = state.primary.status !== 'valid' ? state.primary : state.secondary;
  if (bad.status === 'valid') return '';
  const which = bad === state.primary ? 'primary' : 'secondary';
  const other = which === 'primary' ? 'secondary' : 'primary';
  const what = bad.status === 'stale' ? 'out of date' : 'damaged';
  return `The ${which} LUKS2 header copy is ${what} (${bad.reason ?? 'unknown'}); the valid ${other} copy was used. Repair the header before changing keyslots.`;
}

/** Refuses header writes while a copy needs repair (NEEDS_REPAIR), as the UI promises. */
export function assertHeaderWritable(vol: Luks2Volume): void {
  if (needsRepair(vol.state)) {
    throw fail('NEEDS_REPAIR', `${headerStateMessage(vol.state)} (image-vault header repair)`);
  }
}

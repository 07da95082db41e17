/**
 * LUKS2 as it is, without a passphrase (docs/spec/luks2.md §1–§3): 32 keyslot positions with the
 * KDF of each (Argon2 memory/passes/lanes), keyslots we cannot open and why, tokens, segments,
 * sector size, requirements, and which header copy was used.
 */
import { isVaultError } from '../../api/errors.js';
import type {
  EncryptionInfo,
  KeyslotInfo,
  LuksHeaderState,
  LuksSegmentInfo,
} from '../../api/types.js';
import type { HeaderIO } from '../encryption.js';
import { LUKS_SECTOR, splitCipherMode } from './luks1-header.js';
import type { Luks2Keyslot, Luks2Metadata } from './luks2-metadata.js';
import { LUKS2_MAX_KEYSLOTS } from './luks2-keyslots.js';
import { dataSegment, segmentCipher } from './luks2-unlock.js';
import {
  headerStateMessage,
  needsRepair,
  readLuks2Volume,
  type Luks2HeaderState,
} from './luks2-volume.js';

/** "aes-256" from cipher name and key bytes (XTS keys are two cipher keys). */
export function cipherAlg(cipherName: string, blockMode: string, keyBytes: number): string {
  const bits = ((blockMode === 'xts' ? keyBytes / 2 : keyBytes) * 8) | 0;
  return `${cipherName}-${bits}`;
}

function slotInfo(k: Luks2Keyslot): KeyslotInfo {
  const base: KeyslotInfo = {
    slot: k.id,
    active: true,
    iterations: 0,
    stripes: k.af?.stripes ?? 0,
    keyOffset: Math.floor(k.area.offset / LUKS_SECTOR),
    priority: k.priority,
    ...(k.area.encryption ? { cipher: k.area.encryption } : {}),
  };
  if (k.type !== 'luks2') {
    return { ...base, unusableReason: `keyslot type ${k.type} holds no passphrase` };
  }
  const kdf = k.kdf!;
  const extra: Partial<KeyslotInfo> =
    kdf.type === 'pbkdf2'
      ? { iterations: kdf.iterations, kdf: 'pbkdf2', hash: kdf.hash }
      : kdf.type === 'unknown'
        ? { kdf: 'unknown' }
        : { iterations: kdf.time, kdf: kdf.type, memoryKiB: kdf.memoryKiB, parallel: kdf.cpus };
  return { ...base, ...extra, ...(k.unusable ? { unusableReason: k.unusable } : {}) };
}

/** All keyslot positions 0..31 (inactive ones empty), plus any stray higher ids. */
function slotList(meta: Luks2Metadata): KeyslotInfo[] {
  const byId = new Map(meta.keyslots.map((k) => [k.id, k]));
  const out: KeyslotInfo[] = [];
  const top = Math.max(LUKS2_MAX_KEYSLOTS, ...meta.keyslots.map((k) => k.id + 1));
  for (let id = 0; id < top; id++) {
    const k = byId.get(id);
    if (k) out.push(slotInfo(k));
    else if (id < LUKS2_MAX_KEYSLOTS) {
      out.push({ slot: id, active: false, iterations: 0, stripes: 0, keyOffset: 0 });
    }
  }
  return out;
}

/** The API form of a LUKS2 header state. */
export function luks2HeaderState(state: Luks2HeaderState): LuksHeaderState {
  const copy = (c: Luks2HeaderState['primary']) => ({
    status: c.status,
    offset: c.offset,
    ...(c.reason ? { reason: c.reason } : {}),
  });
  const message = headerStateMessage(state);
  return {
    used: state.used,
    primary: copy(state.primary),
    secondary: copy(state.secondary),
    needsRepair: needsRepair(state),
    ...(message ? { message } : {}),
  };
}

function segments(meta: Luks2Metadata): LuksSegmentInfo[] {
  return meta.segments.map((s) => ({
    id: s.id,
    type: s.type,
    offset: s.offset,
    size: s.size ?? 'dynamic',
    ...(s.type === 'crypt'
      ? { encryption: s.encryption, sectorSize: s.sectorSize, ivTweak: s.ivTweak }
      : {}),
    ...(s.flags.length > 0 ? { flags: s.flags } : {}),
  }));
}

/** Describes a LUKS2 header without a passphrase. Malformed headers throw CORRUPT/TRUNCATED. */
export async function inspectLuks2(io: HeaderIO): Promise<EncryptionInfo> {
  const vol = await readLuks2Volume(io);
  const { header, meta } = vol;
  const { segment, reason } = dataSegment(meta);
  let unsupportedReason = reason;
  const digest = segment ? meta.digests.find((d) => d.segments.includes(segment.id)) : undefined;
  const keyBytes = meta.keyslots.find(
    (k) => k.type === 'luks2' && digest?.keyslots.includes(k.id)
  )?.keySize;
  if (!unsupportedReason && segment) {
    try {
      segmentCipher(vol);
    } catch (e) {
      if (!isVaultError(e)) throw e;
      unsupportedReason = e.message;
    }
  }
  const enc = segment?.encryption ?? '';
  const dash = enc.indexOf('-');
  const cipherName = dash < 0 ? enc : enc.slice(0, dash);
  const mode = splitCipherMode(dash < 0 ? '' : enc.slice(dash + 1));
  const firstCrypt = meta.segments.find((s) => s.type === 'crypt');
  const detached = meta.segments.some((s) => s.offset === 0 && s.type === 'crypt');
  return {
    format: 'luks',
    version: 2,
    ...(segment ? { cipherAlg: cipherAlg(cipherName, mode.blockMode, keyBytes ?? 0) } : {}),
    ...(segment ? { cipherMode: mode.blockMode, ivgenAlg: mode.ivgen } : {}),
    ...(segment && mode.ivgen === 'essiv' && mode.ivgenHash
      ? { ivgenHashAlg: mode.ivgenHash }
      : {}),
    ...(digest?.pbkdf2
      ? { hashAlg: digest.pbkdf2.hash, masterKeyIters: digest.pbkdf2.iterations }
      : {}),
    uuid: header.uuid,
    ...(firstCrypt ? { payloadOffset: firstCrypt.offset, sectorSize: firstCrypt.sectorSize } : {}),
    ...(keyBytes !== undefined ? { keyBytes } : {}),
    slots: slotList(meta),
    ...(unsupportedReason ? { unsupportedReason } : {}),
    keyslotPositions: LUKS2_MAX_KEYSLOTS,
    headerState: luks2HeaderState(vol.state),
    label: header.label,
    subsystem: header.subsystem,
    headerSize: header.hdrSize,
    keyslotsSize: meta.keyslotsSize,
    tokens: meta.tokens.map((t) => ({ id: t.id, type: t.type, keyslots: t.keyslots })),
    segments: segments(meta),
    requirements: meta.requirements,
    flags: meta.flags,
    ...(detached ? { detachedHeader: true } : {}),
  };
}

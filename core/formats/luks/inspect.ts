/**
 * LUKS version detection and passphrase-free inspection (qemu-img info style key names,
 * docs/spec/qcow2-luks.md §5; LUKS2 details from docs/spec/luks2.md §3).
 */
import { fail, isVaultError } from '../../api/errors.js';
import type { EncryptionInfo, KeyslotInfo } from '../../api/types.js';
import { parseLuksCipher } from '../../crypto/cipher-spec.js';
import { parseHashName } from '../../crypto/hash.js';
import type { HeaderIO } from '../encryption.js';
import { readHeaderBytes } from './header-io.js';
import { LUKS_SECTOR, luksVersionOf, splitCipherMode } from './luks1-header.js';
import { readLuks1Header } from './luks1-unlock.js';
import { cipherAlg, inspectLuks2 } from './inspect-luks2.js';
import { LUKS1_SLOTS } from './luks1-header.js';
import { isLuks2SecondaryAt, LUKS2_SECONDARY_OFFSETS } from './luks2-header.js';

/**
 * Which LUKS version `io` holds: 1 or 2 from the primary header; 2 also when only a LUKS2
 * secondary header survives. Throws NOT_AN_IMAGE otherwise.
 */
export async function detectLuksVersion(io: HeaderIO): Promise<1 | 2> {
  if (io.length < 8) throw fail('TRUNCATED', 'Too short for a LUKS header');
  const v = luksVersionOf(await readHeaderBytes(io, 0, 8, 'header'));
  if (v === 1 || v === 2) return v;
  if (v !== undefined) throw fail('UNSUPPORTED_FEATURE', `LUKS version ${v} is not supported`);
  for (const off of LUKS2_SECONDARY_OFFSETS) {
    if (off + 264 > io.length) break;
    if (isLuks2SecondaryAt(await readHeaderBytes(io, off, 264, 'header'), off)) return 2;
  }
  throw fail('NOT_AN_IMAGE', 'No LUKS header found');
}

/** Whether `bytes` (the start of a file) carry the LUKS magic (for format probing). */
export function looksLikeLuks(bytes: Uint8Array): boolean {
  return luksVersionOf(bytes) !== undefined;
}

function reasonOf(e: unknown): string {
  if (isVaultError(e)) return e.message;
  throw e;
}

async function inspectLuks1(io: HeaderIO): Promise<EncryptionInfo> {
  const h = await readLuks1Header(io);
  const mode = splitCipherMode(h.cipherMode);
  let unsupportedReason: string | undefined;
  try {
    parseLuksCipher(h.cipherName, h.cipherMode, h.keyBytes);
    parseHashName(h.hashSpec);
  } catch (e) {
    unsupportedReason = reasonOf(e);
  }
  const slots: KeyslotInfo[] = h.slots.map((s, i) => ({
    slot: i,
    active: s.active,
    iterations: s.iterations,
    stripes: s.stripes,
    keyOffset: s.keyOffset,
    ...(s.active ? { kdf: 'pbkdf2' as const } : {}),
  }));
  return {
    format: 'luks',
    version: 1,
    cipherAlg: cipherAlg(h.cipherName, mode.blockMode, h.keyBytes),
    cipherMode: mode.blockMode,
    ivgenAlg: mode.ivgen,
    ...(mode.ivgen === 'essiv' && mode.ivgenHash ? { ivgenHashAlg: mode.ivgenHash } : {}),
    hashAlg: h.hashSpec,
    uuid: h.uuid,
    payloadOffset: h.payloadOffset * LUKS_SECTOR,
    masterKeyIters: h.mkDigestIterations,
    keyBytes: h.keyBytes,
    sectorSize: LUKS_SECTOR,
    slots,
    ...(unsupportedReason ? { unsupportedReason } : {}),
    keyslotPositions: LUKS1_SLOTS,
    headerState: {
      used: 'primary',
      primary: { status: 'valid', offset: 0 },
      needsRepair: false,
    },
    ...(h.payloadOffset === 0 ? { detachedHeader: true } : {}),
  };
}

/**
 * Describes a LUKS1 or LUKS2 header without a passphrase. Unsupported ciphers are listed
 * with `unsupportedReason` (never misread); malformed headers throw CORRUPT/TRUNCATED.
 */
export async function inspectLuks(io: HeaderIO): Promise<EncryptionInfo> {
  return (await detectLuksVersion(io)) === 1 ? inspectLuks1(io) : inspectLuks2(io);
}

/**
 * LUKS version detection and passphrase-free inspection (qemu-img info style key names,
 * spec/qcow2-luks.md §5; LUKS2 details from luks2.md §3).
 */
import { fail, isVaultError } from '../../api/errors.js';
import type { EncryptionInfo, KeyslotInfo } from '../../api/types.js';
import { parseDmCipher, parseLuksCipher } from '../../crypto/cipher-spec.js';
import { parseHashName } from '../../crypto/hash.js';
import type { HeaderIO } from '../encryption.js';
import { readHeaderBytes } from './header-io.js';
import { LUKS_SECTOR, luksVersionOf, splitCipherMode } from './luks1-header.js';
import { readLuks1Header } from './luks1-unlock.js';
import { readLuks2Volume, dataSegment } from './luks2-unlock.js';

/**
 * Which LUKS version `io` holds: 1 or 2 from the primary header; 2 also when only a LUKS2
 * secondary header survives. Throws NOT_AN_IMAGE otherwise.
 */
export async function detectLuksVersion(io: HeaderIO): Promise<1 | 2> {
  if (io.length < 8) throw fail('TRUNCATED', 'Too short for a LUKS header');
  const v = luksVersionOf(await readHeaderBytes(io, 0, 8, 'header'));
  if (v === 1 || v === 2) return v;
  if (v !== undefined) throw fail('UNSUPPORTED_FEATURE', `LUKS version ${v} is not supported`);
  try {
    await readLuks2Volume(io);
    return 2;
  } catch (e) {
    if (isVaultError(e)) throw fail('NOT_AN_IMAGE', 'No LUKS header found');
    throw e;
  }
}

/** Whether `bytes` (the start of a file) carry the LUKS magic (for format probing). */
export function looksLikeLuks(bytes: Uint8Array): boolean {
  return luksVersionOf(bytes) !== undefined;
}

/** "aes-256" from cipher name and key bytes (XTS keys are two cipher keys). */
function cipherAlg(cipherName: string, blockMode: string, keyBytes: number): string {
  const bits = ((blockMode === 'xts' ? keyBytes / 2 : keyBytes) * 8) | 0;
  return `${cipherName}-${bits}`;
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
  };
}

async function inspectLuks2(io: HeaderIO): Promise<EncryptionInfo> {
  const { header, meta } = await readLuks2Volume(io);
  const { segment, reason } = dataSegment(meta);
  let unsupportedReason = reason;
  const digest = segment ? meta.digests.find((d) => d.segments.includes(segment.id)) : undefined;
  const keyBytes = meta.keyslots.find(
    (k) => k.type === 'luks2' && digest?.keyslots.includes(k.id)
  )?.keySize;
  const enc = segment?.encryption ?? '';
  const dash = enc.indexOf('-');
  const cipherName = dash < 0 ? enc : enc.slice(0, dash);
  const mode = splitCipherMode(dash < 0 ? '' : enc.slice(dash + 1));
  if (!unsupportedReason && segment) {
    try {
      if (keyBytes === undefined) throw fail('CORRUPT', 'No keyslot for the data segment');
      parseDmCipher(enc, keyBytes);
    } catch (e) {
      unsupportedReason = reasonOf(e);
    }
  }
  const slots: KeyslotInfo[] = meta.keyslots
    .filter((k) => k.type === 'luks2')
    .map((k) => {
      const kdf = k.kdf!;
      const base = {
        slot: k.id,
        active: true,
        stripes: k.af!.stripes,
        keyOffset: Math.floor(k.area!.offset / LUKS_SECTOR),
      };
      return kdf.type === 'pbkdf2'
        ? { ...base, iterations: kdf.iterations, kdf: kdf.type }
        : {
            ...base,
            iterations: kdf.time,
            kdf: kdf.type,
            memoryKiB: kdf.memoryKiB,
            parallel: kdf.cpus,
          };
    });
  return {
    format: 'luks',
    version: 2,
    ...(segment ? { cipherAlg: cipherAlg(cipherName, mode.blockMode, keyBytes ?? 0) } : {}),
    ...(segment ? { cipherMode: mode.blockMode, ivgenAlg: mode.ivgen } : {}),
    ...(mode.ivgen === 'essiv' && mode.ivgenHash ? { ivgenHashAlg: mode.ivgenHash } : {}),
    ...(digest ? { hashAlg: digest.hash, masterKeyIters: digest.iterations } : {}),
    uuid: header.uuid,
    ...(segment ? { payloadOffset: segment.offset, sectorSize: segment.sectorSize } : {}),
    ...(keyBytes !== undefined ? { keyBytes } : {}),
    slots,
    ...(unsupportedReason ? { unsupportedReason } : {}),
  };
}

/**
 * Describes a LUKS1 or LUKS2 header without a passphrase. Unsupported ciphers are listed
 * with `unsupportedReason` (never misread); malformed headers throw CORRUPT/TRUNCATED.
 */
export async function inspectLuks(io: HeaderIO): Promise<EncryptionInfo> {
  return (await detectLuksVersion(io)) === 1 ? inspectLuks1(io) : inspectLuks2(io);
}

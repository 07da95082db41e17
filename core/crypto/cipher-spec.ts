/**
 * Cipher specifications: LUKS1 header name + mode (docs/spec/luks1.md §4), dm-crypt style strings
 * from LUKS2 JSON (docs/spec/luks2.md §3 "Segment"), and the names users type.
 */
import { fail } from '../api/errors.js';
import { digestSize, parseHashName, type HashName } from './hash.js';

export type BlockMode = 'xts' | 'cbc' | 'ecb';
/** `none` = all-zero IV (dm-crypt `null`, and ECB which uses no IV). */
export type IvGenName = 'plain' | 'plain64' | 'plain64be' | 'essiv' | 'none';

/** A parsed, supported cipher. `keyBytes` is the whole key (both halves for XTS). */
export interface CipherSpec {
  cipherName: 'aes';
  blockMode: BlockMode;
  ivgen: IvGenName;
  /** Hash for ESSIV only. */
  ivgenHash?: HashName;
  keyBytes: number;
}

/** Printable, bounded form of an untrusted header string for messages. */
function shown(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
}

function unsupported(name: string, mode: string): never {
  const full = mode ? `${name}-${mode}` : name;
  throw fail('UNSUPPORTED_CIPHER', `Cipher ${shown(full)} is not supported`);
}

/** AES key sizes (per XTS half). */
const AES_KEYS = [16, 24, 32];

/**
 * Parses LUKS1 header fields, e.g. `aes` + `xts-plain64` or `cbc-essiv:sha256`
 * (docs/spec/luks1.md §4). Mode = `<block mode>-<ivgen>[:<hash>]`; `ecb` stands alone. A `:hash`
 * on a non-ESSIV generator is ignored, as QEMU does. Only AES is supported (Node has no
 * Serpent/Twofish/CAST5): anything else is `UNSUPPORTED_CIPHER`.
 */
export function parseLuksCipher(
  cipherName: string,
  cipherMode: string,
  keyBytes: number
): CipherSpec {
  if (cipherName !== 'aes') unsupported(cipherName, cipherMode);
  const dash = cipherMode.indexOf('-');
  const block = dash < 0 ? cipherMode : cipherMode.slice(0, dash);
  const ivPart = dash < 0 ? '' : cipherMode.slice(dash + 1);
  const colon = ivPart.indexOf(':');
  const ivName = colon < 0 ? ivPart : ivPart.slice(0, colon);
  const ivHash = colon < 0 ? '' : ivPart.slice(colon + 1);

  let blockMode: BlockMode;
  if (block === 'xts' || block === 'cbc') {
    blockMode = block;
    if (ivName === '') unsupported(cipherName, cipherMode);
  } else if (block === 'ecb') {
    blockMode = 'ecb';
    if (ivName !== '' && ivName !== 'null') unsupported(cipherName, cipherMode);
  } else {
    unsupported(cipherName, cipherMode);
  }

  let ivgen: IvGenName;
  let ivgenHash: HashName | undefined;
  if (blockMode === 'ecb' || ivName === 'null') ivgen = 'none';
  else if (ivName === 'plain' || ivName === 'plain64' || ivName === 'plain64be') ivgen = ivName;
  else if (ivName === 'essiv') {
    ivgen = 'essiv';
    if (ivHash === '') unsupported(cipherName, cipherMode);
    ivgenHash = parseHashName(ivHash);
    // ESSIV encrypts with the same cipher family keyed by the digest: its size must be an
    // AES key size (sha256 → AES-256), docs/spec/luks1.md §4.
    if (!AES_KEYS.includes(digestSize(ivgenHash))) unsupported(cipherName, cipherMode);
  } else unsupported(cipherName, cipherMode);

  const half = blockMode === 'xts' ? keyBytes / 2 : keyBytes;
  if (!Number.isInteger(half) || !AES_KEYS.includes(half)) {
    throw fail(
      'UNSUPPORTED_CIPHER',
      `Key size of ${Number.isFinite(keyBytes) ? keyBytes * 8 : '?'} bits is not supported for aes-${blockMode}`
    );
  }
  return ivgenHash
    ? { cipherName: 'aes', blockMode, ivgen, ivgenHash, keyBytes }
    : { cipherName: 'aes', blockMode, ivgen, keyBytes };
}

/**
 * Parses a dm-crypt style spec such as `aes-xts-plain64` (LUKS2 `encryption` fields,
 * docs/spec/luks2.md §3): split at the first `-` into cipher name and mode.
 */
export function parseDmCipher(spec: string, keyBytes: number): CipherSpec {
  const dash = spec.indexOf('-');
  if (dash < 0) unsupported(spec, '');
  return parseLuksCipher(spec.slice(0, dash), spec.slice(dash + 1), keyBytes);
}

/** Cipher mode text as stored in a LUKS1 header, e.g. `xts-plain64`, `cbc-essiv:sha256`, `ecb`. */
export function describeCipherMode(spec: CipherSpec): string {
  if (spec.blockMode === 'ecb') return 'ecb';
  const iv = spec.ivgen === 'none' ? 'null' : spec.ivgen;
  const h = spec.ivgen === 'essiv' && spec.ivgenHash ? `:${spec.ivgenHash}` : '';
  return `${spec.blockMode}-${iv}${h}`;
}

/** dm-crypt style name, e.g. `aes-xts-plain64` (also the LUKS2 `encryption` value). */
export function describeCipher(spec: CipherSpec): string {
  return `${spec.cipherName}-${describeCipherMode(spec)}`;
}

/** The default for new volumes, as cryptsetup and QEMU use (docs/spec/luks2.md §6). */
export const DEFAULT_USER_CIPHER = 'aes-256-xts-plain64';

/**
 * Parses the cipher a user picks in the CLI/UI: `aes-<bits>-<mode>-<ivgen>[:hash]`, e.g.
 * `aes-256-xts-plain64` (default), `aes-128-cbc-essiv:sha256`, `aes-256-cbc-plain64be`.
 * `<bits>` is the AES key size; XTS doubles it (`aes-256-xts` → 64-byte key). `aes-xts-plain64`
 * without a size means 256. 192-bit keys are refused for CBC/ECB because QEMU 7.2 aborts on
 * 24-byte keys (docs/spec/luks1.md §3 edge case).
 */
export function parseUserCipher(s: string): {
  cipherName: string;
  cipherMode: string;
  keyBytes: number;
} {
  const m = /^aes-(?:(128|192|256)-)?((?:xts|cbc)-[a-z0-9]+(?::[a-z0-9]+)?|ecb)$/.exec(s.trim());
  if (!m) throw fail('UNSUPPORTED_CIPHER', `Cipher ${shown(s)} is not supported`);
  const bits = Number(m[1] ?? '256');
  const cipherMode = m[2] as string;
  const xts = cipherMode.startsWith('xts');
  if (!xts && bits === 192) {
    throw fail(
      'UNSUPPORTED_CIPHER',
      'aes-192 is only supported with xts (QEMU 7.2 cannot open it)'
    );
  }
  const keyBytes = (bits / 8) * (xts ? 2 : 1);
  parseLuksCipher('aes', cipherMode, keyBytes); // validates ivgen and hash
  return { cipherName: 'aes', cipherMode, keyBytes };
}

/**
 * The LUKS2 JSON objects one by one (docs/spec/luks2.md §3): tokens, digests, segments and
 * keyslots, each checked the way cryptsetup checks it (`luks2_json_metadata.c`,
 * `luks2_keyslot_luks2.c` `luks2_keyslot_validate`). Structural defects throw CORRUPT; what
 * is well-formed but beyond us (an unknown KDF, an unsupported cipher or hash, absurd costs)
 * only marks the keyslot or digest unusable, because cryptsetup loads such headers.
 */
import { isVaultError } from '../../api/errors.js';
import { parseDmCipher } from '../../crypto/cipher-spec.js';
import { parseHashName } from '../../crypto/hash.js';
import { MAX_KEY_BYTES } from './luks1-header.js';
import {
  b64Field,
  bad,
  idListField,
  idOf,
  intField,
  isObj,
  objField,
  shown,
  strField,
  stringListField,
  toNumber,
  u64Field,
  type Obj,
} from './luks2-json.js';
import type {
  Luks2Area,
  Luks2Digest,
  Luks2Kdf,
  Luks2Keyslot,
  Luks2Segment,
  Luks2Token,
} from './luks2-metadata.js';

/** Argon2 costs we agree to run (docs/spec/luks2.md §6: cryptsetup writes memory ≤ 4 GiB, lanes ≤ 4). */
export const ARGON2_MAX_TIME = 1000;
export const ARGON2_MAX_MEMORY_KIB = 4 * 1024 * 1024;
export const ARGON2_MAX_CPUS = 16;
/** AF stripes we agree to merge (cryptsetup writes 4000). */
const MAX_STRIPES = 4000;
/** Salts and digests larger than this are refused before decoding. */
const MAX_SALT_BYTES = 1024;

function asObj(v: unknown, what: string): Obj {
  if (!isObj(v)) bad(`${what} is not an object`);
  return v;
}

/** The message of a VaultError thrown by `f`, or undefined when `f` succeeds. */
function reasonOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (isVaultError(e)) return e.message;
    throw e;
  }
}

export function parseToken(key: string, v: unknown, keyslots: Obj): Luks2Token {
  const what = `token ${shown(key)}`;
  const id = idOf(key, 'token');
  const o = asObj(v, what);
  return {
    id,
    type: strField(o, 'type', what),
    keyslots: idListField(o, 'keyslots', what, keyslots, 'keyslot'),
  };
}

export function parseDigest(key: string, v: unknown, keyslots: Obj, segments: Obj): Luks2Digest {
  const what = `digest ${shown(key)}`;
  const id = idOf(key, 'digest');
  const o = asObj(v, what);
  const type = strField(o, 'type', what);
  const d: Luks2Digest = {
    id,
    type,
    keyslots: idListField(o, 'keyslots', what, keyslots, 'keyslot'),
    segments: idListField(o, 'segments', what, segments, 'segment'),
  };
  if (type !== 'pbkdf2') return { ...d, unusable: `digest type ${shown(type)} is not supported` };
  let pbkdf2: Luks2Digest['pbkdf2'];
  const unusable = reasonOf(() => {
    const hash = strField(o, 'hash', what);
    parseHashName(hash);
    pbkdf2 = {
      hash,
      iterations: intField(o, 'iterations', what, 1),
      salt: b64Field(o, 'salt', what, MAX_SALT_BYTES),
      digest: b64Field(o, 'digest', what, 64),
    };
    if (pbkdf2.digest.length < 20) bad(`${what}.digest is shorter than 20 bytes`);
  });
  return unusable ? { ...d, unusable } : { ...d, pbkdf2 };
}

/** Reencryption backup segments carry a `backup-*` flag (luks2_segment.c). */
export function isBackupSegment(s: Pick<Luks2Segment, 'flags'>): boolean {
  return s.flags.some((f) => f.startsWith('backup-'));
}

export function parseSegment(key: string, v: unknown, digests: Luks2Digest[]): Luks2Segment {
  const what = `segment ${shown(key)}`;
  const id = idOf(key, 'segment');
  const o = asObj(v, what);
  const type = strField(o, 'type', what);
  const offset = u64Field(o, 'offset', what);
  const sizeText = strField(o, 'size', what);
  const size = sizeText === 'dynamic' ? undefined : u64Field(o, 'size', what);
  if (size === 0n) bad(`${what}.size is zero`);
  if (offset % 512n !== 0n) bad(`${what}.offset is not a multiple of 512`);
  if (size !== undefined && size % 512n !== 0n) bad(`${what}.size is not a multiple of 512`);
  const flags = o.flags === undefined ? [] : stringListField(o, 'flags', what);
  const seg: Luks2Segment = {
    id,
    type,
    offset: toNumber(offset),
    size: size === undefined ? undefined : toNumber(size),
    ivTweak: 0,
    encryption: '',
    sectorSize: 512,
    integrity: false,
    flags,
  };
  if (type !== 'crypt') return seg;
  const ivTweak = u64Field(o, 'iv_tweak', what);
  const encryption = strField(o, 'encryption', what);
  const sectorSize = intField(o, 'sector_size', what);
  if (sectorSize === 0 || sectorSize % 512 !== 0) {
    bad(`${what}.sector_size (${sectorSize}) is not a positive multiple of 512`);
  }
  if (o.integrity !== undefined) {
    const integ = objField(o, 'integrity', what);
    for (const k of ['type', 'journal_encryption', 'journal_integrity']) {
      strField(integ, k, `${what}.integrity`);
    }
  }
  if (size !== undefined && size % BigInt(sectorSize) !== 0n) {
    bad(`${what}.size is not a multiple of its sector size`);
  }
  if (!digests.some((d) => d.segments.includes(id))) bad(`${what} is not assigned to a digest`);
  return {
    ...seg,
    ivTweak: toNumber(ivTweak),
    encryption,
    sectorSize,
    integrity: o.integrity !== undefined,
  };
}

/** The area object every keyslot carries (checked again as intervals in luks2-validate.ts). */
function parseArea(o: Obj, what: string): Luks2Area {
  const area = objField(o, 'area', what);
  return {
    type: strField(area, 'type', `${what}.area`),
    offset: toNumber(u64Field(area, 'offset', `${what}.area`)),
    size: toNumber(u64Field(area, 'size', `${what}.area`)),
  };
}

function parseKdf(o: Obj, what: string): Luks2Kdf {
  const type = strField(o, 'type', what);
  if (type === 'pbkdf2') {
    return {
      type,
      hash: strField(o, 'hash', what),
      iterations: intField(o, 'iterations', what, 0, Number.MAX_SAFE_INTEGER),
      salt: b64Field(o, 'salt', what, MAX_SALT_BYTES),
    };
  }
  if (type === 'argon2i' || type === 'argon2id') {
    return {
      type,
      time: intField(o, 'time', what, 0, Number.MAX_SAFE_INTEGER),
      memoryKiB: intField(o, 'memory', what, 0, Number.MAX_SAFE_INTEGER),
      cpus: intField(o, 'cpus', what, 0, Number.MAX_SAFE_INTEGER),
      salt: b64Field(o, 'salt', what, MAX_SALT_BYTES),
    };
  }
  return { type: 'unknown', name: type };
}

/** Why we cannot open a well-formed luks2 keyslot, or undefined when we can. */
function unusableReason(ks: Luks2Keyslot, digests: Luks2Digest[]): string | undefined {
  const kdf = ks.kdf!;
  const af = ks.af!;
  const area = ks.area;
  if (kdf.type === 'unknown') return `KDF type ${shown(kdf.name)} is not supported`;
  if (kdf.type === 'pbkdf2') {
    const r = reasonOf(() => parseHashName(kdf.hash));
    if (r) return r;
    if (kdf.iterations < 1 || kdf.iterations > 0xffffffff)
      return `PBKDF2 iteration count ${kdf.iterations} is out of range`;
  } else {
    if (kdf.time < 1 || kdf.time > ARGON2_MAX_TIME)
      return `Argon2 time cost ${kdf.time} is out of range`;
    if (kdf.cpus < 1 || kdf.cpus > ARGON2_MAX_CPUS)
      return `Argon2 parallelism ${kdf.cpus} is out of range`;
    if (kdf.memoryKiB < 8 * kdf.cpus || kdf.memoryKiB > ARGON2_MAX_MEMORY_KIB)
      return `Argon2 memory cost ${kdf.memoryKiB} KiB is out of range`;
  }
  if (ks.keySize < 1 || ks.keySize > MAX_KEY_BYTES)
    return `volume key size ${ks.keySize} bytes is not supported`;
  if (af.stripes < 1 || af.stripes > MAX_STRIPES) return `AF stripes ${af.stripes} not supported`;
  const afHash = reasonOf(() => parseHashName(af.hash));
  if (afHash) return afHash;
  const keyBytes = area.keySize ?? 0;
  if (keyBytes < 1 || keyBytes > MAX_KEY_BYTES)
    return `keyslot cipher key size ${keyBytes} bytes is not supported`;
  const cipher = reasonOf(() => parseDmCipher(area.encryption ?? '', keyBytes));
  if (cipher) return `keyslot cipher: ${cipher}`;
  if (area.size < Math.ceil((ks.keySize * af.stripes) / 512) * 512) {
    return 'the keyslot area is smaller than its key material';
  }
  const digest = digests.find((d) => d.keyslots.includes(ks.id));
  if (digest?.unusable) return digest.unusable;
  return undefined;
}

export function parseKeyslot(key: string, v: unknown, digests: Luks2Digest[]): Luks2Keyslot {
  const what = `keyslot ${shown(key)}`;
  const id = idOf(key, 'keyslot');
  const o = asObj(v, what);
  const type = strField(o, 'type', what);
  const keySize = intField(o, 'key_size', what);
  const p = o.priority;
  const priority = typeof p === 'number' && [0, 1, 2].includes(p) ? p : 1;
  const area = parseArea(o, what);
  if (type !== 'luks2') return { id, type, keySize, priority, area };
  const kdfObj = objField(o, 'kdf', what);
  const afObj = objField(o, 'af', what);
  objField(o, 'area', what);
  const kdf = parseKdf(kdfObj, `${what}.kdf`);
  const afType = strField(afObj, 'type', `${what}.af`);
  if (afType !== 'luks1') bad(`${what}.af.type "${shown(afType)}" is not luks1`);
  const af = {
    hash: strField(afObj, 'hash', `${what}.af`),
    stripes: intField(afObj, 'stripes', `${what}.af`, 0, Number.MAX_SAFE_INTEGER),
  };
  if (area.type !== 'raw') bad(`${what}.area.type "${shown(area.type)}" is not raw`);
  const areaObj = o.area as Obj;
  const fullArea: Luks2Area = {
    ...area,
    encryption: strField(areaObj, 'encryption', `${what}.area`),
    keySize: intField(areaObj, 'key_size', `${what}.area`),
  };
  const ks: Luks2Keyslot = { id, type, keySize, priority, area: fullArea, af, kdf };
  const unusable = unusableReason(ks, digests);
  return unusable ? { ...ks, unusable } : ks;
}

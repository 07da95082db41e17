/**
 * LUKS2 JSON metadata: parse and validate keyslots, segments, digests, tokens and config
 * (docs/spec/luks2.md §3) with cryptsetup's rules (`lib/luks2/luks2_json_metadata.c`,
 * `LUKS2_hdr_validate`): a header cryptsetup refuses is refused here, naming the defect, and a
 * header it loads is loaded. What we cannot use (an unknown KDF, an unsupported keyslot
 * cipher) makes only that keyslot unusable (`Luks2Keyslot.unusable`), as in cryptsetup.
 * Everything that later sizes a read or a KDF run is bounded before use.
 */
import { bad, isObj, objField, stringListField, type Obj } from './luks2-json.js';
import { parseDigest, parseKeyslot, parseSegment, parseToken } from './luks2-objects.js';
import { validateLayout, validateReencryptSegments } from './luks2-validate.js';

export type Luks2Kdf =
  | { type: 'pbkdf2'; hash: string; iterations: number; salt: Uint8Array }
  | {
      type: 'argon2i' | 'argon2id';
      time: number;
      memoryKiB: number;
      cpus: number;
      salt: Uint8Array;
    }
  /** A KDF we do not implement: the keyslot is listed but cannot be opened. */
  | { type: 'unknown'; name: string };

export interface Luks2Area {
  type: string;
  offset: number;
  size: number;
  /** Keyslot cipher (raw areas). */
  encryption?: string;
  /** KDF output length in bytes (raw areas). */
  keySize?: number;
}

export interface Luks2Keyslot {
  id: number;
  /** `luks2` for user keyslots; other types (e.g. `reencrypt`) hold no user key. */
  type: string;
  keySize: number;
  /** 0 ignore, 1 normal, 2 prefer. */
  priority: number;
  area: Luks2Area;
  af?: { stripes: number; hash: string };
  kdf?: Luks2Kdf;
  /** Why we cannot open this (luks2) keyslot; cryptsetup loads such headers all the same. */
  unusable?: string;
}

export interface Luks2Segment {
  id: number;
  type: string;
  offset: number;
  /** Bytes, or undefined for "dynamic" (to the end of the device). */
  size: number | undefined;
  ivTweak: number;
  encryption: string;
  sectorSize: number;
  integrity: boolean;
  flags: string[];
}

export interface Luks2Digest {
  id: number;
  type: string;
  keyslots: number[];
  segments: number[];
  /** PBKDF2 parameters; absent when the digest is of a type we cannot verify. */
  pbkdf2?: { hash: string; iterations: number; salt: Uint8Array; digest: Uint8Array };
  unusable?: string;
}

export interface Luks2Token {
  id: number;
  type: string;
  keyslots: number[];
}

export interface Luks2Metadata {
  keyslots: Luks2Keyslot[];
  segments: Luks2Segment[];
  digests: Luks2Digest[];
  tokens: Luks2Token[];
  jsonSize: number;
  keyslotsSize: number;
  /** `config.flags` (activation flags such as allow-discards). */
  flags: string[];
  /** `config.requirements.mandatory`: we implement none, so any entry blocks data and writes. */
  requirements: string[];
}

/** Top-level sections every LUKS2 JSON object has. */
const SECTIONS = ['keyslots', 'tokens', 'segments', 'digests', 'config'] as const;

function isOnlineReencryptFlag(f: string): boolean {
  return f === 'online-reencrypt' || /^online-reencrypt-v[0-9]+$/.test(f);
}

function requirementsOf(config: Obj): string[] {
  if (config.requirements === undefined) return [];
  const req = objField(config, 'requirements', 'config');
  const mandatory = stringListField(req, 'mandatory', 'config.requirements');
  if (mandatory.filter(isOnlineReencryptFlag).length > 1) {
    bad('config.requirements.mandatory has more than one online-reencrypt flag');
  }
  return mandatory;
}

function sorted<T extends { id: number }>(xs: T[]): T[] {
  return xs.sort((a, b) => a.id - b.id);
}

/**
 * Parses the JSON text of a header whose hdr_size is `hdrSize` (docs/spec/luks2.md §3) and applies
 * cryptsetup's validation in its order: requirements, tokens, digests, segments, keyslots,
 * config, keyslot areas, json_size, keyslot types. Throws CORRUPT naming the first defect.
 */
export function parseLuks2Metadata(json: string, hdrSize: number): Luks2Metadata {
  if (!json.startsWith('{')) bad('the JSON area does not start with "{"');
  const end = jsonObjectEnd(json);
  if (end >= 0 && end < json.length)
    bad(`the JSON area has data after the JSON object (at ${end})`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    bad('the JSON area is not valid JSON');
  }
  if (!isObj(parsed)) bad('the top level is not a JSON object');
  const root = parsed;
  for (const s of SECTIONS) objField(root, s, 'root');
  const config = root.config as Obj;
  const keyslotsObj = root.keyslots as Obj;
  const segmentsObj = root.segments as Obj;
  const digestsObj = root.digests as Obj;
  const requirements = requirementsOf(config);
  const tokens = sorted(
    Object.entries(root.tokens as Obj).map(([k, v]) => parseToken(k, v, keyslotsObj))
  );
  const digests = sorted(
    Object.entries(digestsObj).map(([k, v]) => parseDigest(k, v, keyslotsObj, segmentsObj))
  );
  const segments = sorted(Object.entries(segmentsObj).map(([k, v]) => parseSegment(k, v, digests)));
  const keyslots = sorted(Object.entries(keyslotsObj).map(([k, v]) => parseKeyslot(k, v, digests)));
  validateReencryptSegments(segments, requirements);
  const layout = validateLayout({ config, segments, keyslots, hdrSize });
  const flags = config.flags === undefined ? [] : stringListField(config, 'flags', 'config');
  validateKeyslotTypes(keyslots, digests, requirements);
  return {
    keyslots,
    segments,
    digests,
    tokens,
    jsonSize: layout.jsonSize,
    keyslotsSize: layout.keyslotsSize,
    flags,
    requirements,
  };
}

/** cryptsetup's `LUKS2_keyslots_validate`: digest assignment and reencryption bookkeeping. */
function validateKeyslotTypes(
  keyslots: Luks2Keyslot[],
  digests: Luks2Digest[],
  requirements: string[]
): void {
  let reencrypt = 0;
  for (const ks of keyslots) {
    if (ks.type === 'luks2') {
      const n = digests.filter((d) => d.keyslots.includes(ks.id)).length;
      if (n !== 1) {
        bad(`keyslot ${ks.id} is assigned to ${n} digests (exactly one is required)`);
      }
    } else if (ks.type === 'reencrypt') reencrypt++;
  }
  const onlineReencrypt = requirements.some((r) =>
    ['online-reencrypt', 'online-reencrypt-v2', 'online-reencrypt-v3'].includes(r)
  );
  if (onlineReencrypt && reencrypt === 0) bad('the reencryption keyslot is missing');
  if (reencrypt > 0 && !requirements.some(isOnlineReencryptFlag)) {
    bad('a reencryption keyslot exists without the reencryption requirement flag');
  }
  if (reencrypt > 1) bad('more than one reencryption keyslot');
}

/**
 * Index just past the object that opens `text` (strings and escapes skipped), or -1 when it
 * never closes (then JSON.parse reports the error).
 */
function jsonObjectEnd(text: string): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if ((c === '}' || c === ']') && --depth === 0) return i + 1;
  }
  return -1;
}

/**
 * The JSON text of a header copy's JSON area: up to the first NUL, which must exist, with
 * nothing but NUL bytes after it (luks2_disk_metadata.c `validate_json_area`).
 */
export function jsonTextOf(area: Uint8Array): string {
  const nul = area.indexOf(0);
  if (nul < 0) bad('the JSON area has no terminating NUL byte');
  for (let i = nul + 1; i < area.length; i++) {
    if (area[i] !== 0) bad(`the JSON area has non-zero bytes after the JSON text (at ${i})`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(area.subarray(0, nul));
  } catch {
    bad('the JSON area is not valid UTF-8');
  }
}

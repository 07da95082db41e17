/**
 * LUKS2 JSON metadata: parse and validate keyslots, segments, digests and config
 * (spec/luks2.md §3). Everything that later sizes a read or a KDF run is bounded here.
 */
import { fail } from '../../api/errors.js';
import { LUKS2_BINARY_HEADER_SIZE } from './luks2-header.js';
import { MAX_KEY_BYTES } from './luks1-header.js';

export type Luks2Kdf =
  | { type: 'pbkdf2'; hash: string; iterations: number; salt: Uint8Array }
  | {
      type: 'argon2i' | 'argon2id';
      time: number;
      memoryKiB: number;
      cpus: number;
      salt: Uint8Array;
    };

export interface Luks2Keyslot {
  id: number;
  /** `luks2` for user keyslots; other types (e.g. `reencrypt`) hold no user key. */
  type: string;
  keySize: number;
  priority: number;
  af?: { stripes: number; hash: string };
  area?: { offset: number; size: number; encryption: string; keySize: number };
  kdf?: Luks2Kdf;
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
  hash: string;
  iterations: number;
  salt: Uint8Array;
  digest: Uint8Array;
}

export interface Luks2Metadata {
  keyslots: Luks2Keyslot[];
  segments: Luks2Segment[];
  digests: Luks2Digest[];
  jsonSize: number;
  keyslotsSize: number;
  /** Mandatory requirements (e.g. online-reencrypt); any present means: refuse to open. */
  requirements: string[];
}

/** Argon2 limits accepted (luks2.md §6): time, memory KiB, lanes. */
export const ARGON2_MAX_TIME = 1000;
export const ARGON2_MAX_MEMORY_KIB = 4 * 1024 * 1024;
export const ARGON2_MAX_CPUS = 16;
const MAX_STRIPES = 4000;

type Obj = Record<string, unknown>;

function bad(what: string): never {
  throw fail('CORRUPT', `LUKS2 metadata: ${what}`);
}

function obj(v: unknown, what: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(`${what} is not an object`);
  return v as Obj;
}

function str(o: Obj, k: string, what: string): string {
  const v = o[k];
  if (typeof v !== 'string') bad(`${what}.${k} is missing or not a string`);
  return v;
}

function int(o: Obj, k: string, what: string, min: number, max: number): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    bad(`${what}.${k} is missing or out of range`);
  }
  return v;
}

/** 64-bit quantities are decimal strings (luks2.md §3). */
function u64(o: Obj, k: string, what: string): number {
  const v = o[k];
  if (typeof v !== 'string' || !/^[0-9]{1,16}$/.test(v))
    bad(`${what}.${k} is not a decimal string`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) bad(`${what}.${k} is too large`);
  return n;
}

function b64(o: Obj, k: string, what: string, maxBytes: number): Uint8Array {
  const v = str(o, k, what);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length > Math.ceil(maxBytes / 3) * 4) {
    bad(`${what}.${k} is not valid base64`);
  }
  return new Uint8Array(Buffer.from(v, 'base64'));
}

function idOf(k: string, what: string): number {
  if (!/^[0-9]{1,9}$/.test(k)) bad(`${what} id "${k}" is not a number`);
  return Number(k);
}

function idList(o: Obj, k: string, what: string): number[] {
  const v = o[k];
  if (!Array.isArray(v)) bad(`${what}.${k} is not a list`);
  return v.map((x) =>
    typeof x === 'string' ? idOf(x, what) : bad(`${what}.${k} has a non-string id`)
  );
}

function parseKdf(o: Obj, what: string): Luks2Kdf {
  const type = str(o, 'type', what);
  const salt = b64(o, 'salt', what, 1024);
  if (type === 'pbkdf2') {
    return {
      type,
      hash: str(o, 'hash', what),
      iterations: int(o, 'iterations', what, 1, 0xffffffff),
      salt,
    };
  }
  if (type === 'argon2i' || type === 'argon2id') {
    return {
      type,
      time: int(o, 'time', what, 1, ARGON2_MAX_TIME),
      memoryKiB: int(o, 'memory', what, 8, ARGON2_MAX_MEMORY_KIB),
      cpus: int(o, 'cpus', what, 1, ARGON2_MAX_CPUS),
      salt,
    };
  }
  bad(`${what} has unknown KDF type ${type}`);
}

function parseKeyslot(id: number, v: unknown): Luks2Keyslot {
  const what = `keyslot ${id}`;
  const o = obj(v, what);
  const type = str(o, 'type', what);
  const keySize = int(o, 'key_size', what, 0, MAX_KEY_BYTES);
  const priority = o.priority === undefined ? 1 : int(o, 'priority', what, 0, 2);
  if (type !== 'luks2') return { id, type, keySize, priority };
  if (keySize === 0) bad(`${what} has key_size 0`);
  const af = obj(o.af, `${what}.af`);
  if (str(af, 'type', `${what}.af`) !== 'luks1') bad(`${what} has an unknown AF type`);
  const area = obj(o.area, `${what}.area`);
  if (str(area, 'type', `${what}.area`) !== 'raw') bad(`${what} has an unknown area type`);
  const ks: Luks2Keyslot = {
    id,
    type,
    keySize,
    priority,
    af: {
      stripes: int(af, 'stripes', `${what}.af`, 1, MAX_STRIPES),
      hash: str(af, 'hash', `${what}.af`),
    },
    area: {
      offset: u64(area, 'offset', `${what}.area`),
      size: u64(area, 'size', `${what}.area`),
      encryption: str(area, 'encryption', `${what}.area`),
      keySize: int(area, 'key_size', `${what}.area`, 1, MAX_KEY_BYTES),
    },
    kdf: parseKdf(obj(o.kdf, `${what}.kdf`), `${what}.kdf`),
  };
  const need = Math.ceil((keySize * ks.af!.stripes) / 512) * 512;
  if (ks.area!.size < need) bad(`${what} area is smaller than its key material`);
  return ks;
}

function parseSegment(id: number, v: unknown): Luks2Segment {
  const what = `segment ${id}`;
  const o = obj(v, what);
  const sizeRaw = o.size;
  const flags = o.flags === undefined ? [] : o.flags;
  if (!Array.isArray(flags) || !flags.every((f) => typeof f === 'string')) bad(`${what}.flags`);
  const sectorSize = o.sector_size === undefined ? 512 : int(o, 'sector_size', what, 512, 4096);
  if (![512, 1024, 2048, 4096].includes(sectorSize)) bad(`${what} has sector size ${sectorSize}`);
  return {
    id,
    type: str(o, 'type', what),
    offset: u64(o, 'offset', what),
    size: sizeRaw === 'dynamic' ? undefined : u64(o, 'size', what),
    ivTweak: o.iv_tweak === undefined ? 0 : u64(o, 'iv_tweak', what),
    encryption: o.encryption === undefined ? '' : str(o, 'encryption', what),
    sectorSize,
    integrity: o.integrity !== undefined && o.integrity !== null,
    flags: flags as string[],
  };
}

function parseDigest(id: number, v: unknown): Luks2Digest {
  const what = `digest ${id}`;
  const o = obj(v, what);
  const type = str(o, 'type', what);
  if (type !== 'pbkdf2') bad(`${what} has unknown type ${type}`);
  return {
    id,
    type,
    keyslots: idList(o, 'keyslots', what),
    segments: idList(o, 'segments', what),
    hash: str(o, 'hash', what),
    iterations: int(o, 'iterations', what, 1, 0xffffffff),
    salt: b64(o, 'salt', what, 1024),
    digest: b64(o, 'digest', what, 64),
  };
}

function section<T>(root: Obj, key: string, parse: (id: number, v: unknown) => T): T[] {
  const o = obj(root[key], key);
  return Object.entries(o)
    .map(([k, v]) => parse(idOf(k, key), v))
    .sort((a, b) => (a as { id: number }).id - (b as { id: number }).id);
}

/**
 * Parses the JSON metadata of a header whose hdr_size is `hdrSize` (luks2.md §3) and checks
 * the layout rules of §1 (keyslot areas inside the keyslots area, before the data).
 */
export function parseLuks2Metadata(json: string, hdrSize: number): Luks2Metadata {
  let root: Obj;
  try {
    root = obj(JSON.parse(json), 'root');
  } catch (e) {
    if (e instanceof SyntaxError) throw fail('CORRUPT', 'LUKS2 metadata is not valid JSON', e);
    throw e;
  }
  const config = obj(root.config, 'config');
  const jsonSize = u64(config, 'json_size', 'config');
  if (jsonSize !== hdrSize - LUKS2_BINARY_HEADER_SIZE)
    bad('config.json_size does not match hdr_size');
  const keyslotsSize = u64(config, 'keyslots_size', 'config');
  if (keyslotsSize % 4096 !== 0 || keyslotsSize > 128 * 1024 * 1024) bad('config.keyslots_size');
  const requirements: string[] = [];
  if (config.requirements !== undefined) {
    const req = obj(config.requirements, 'config.requirements');
    if (req.mandatory !== undefined) {
      if (!Array.isArray(req.mandatory)) bad('config.requirements.mandatory is not a list');
      for (const r of req.mandatory) requirements.push(String(r));
    }
  }
  const keyslots = section(root, 'keyslots', parseKeyslot);
  const segments = section(root, 'segments', parseSegment);
  const digests = section(root, 'digests', parseDigest);
  const areaStart = 2 * hdrSize;
  const areaEnd = areaStart + keyslotsSize;
  const areas = keyslots.flatMap((k) => (k.area ? [{ id: k.id, ...k.area }] : []));
  for (const a of areas) {
    if (a.offset < areaStart || a.offset + a.size > areaEnd || a.offset % 4096 !== 0) {
      bad(`keyslot ${a.id} area lies outside the keyslots area`);
    }
  }
  areas.sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < areas.length; i++) {
    if (areas[i - 1]!.offset + areas[i - 1]!.size > areas[i]!.offset) bad('keyslot areas overlap');
  }
  for (const s of segments) {
    if (s.offset !== 0 && s.offset < areaEnd) bad(`segment ${s.id} overlaps the keyslots area`);
  }
  return { keyslots, segments, digests, jsonSize, keyslotsSize, requirements };
}

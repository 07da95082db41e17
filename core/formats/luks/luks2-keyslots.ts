/**
 * LUKS2 keyslot add/remove (docs/spec/luks2.md §5). A new keyslot uses the KDF type of the keyslot
 * that unlocked the volume (argon2id on an argon2id volume) unless one is asked for, with
 * cryptsetup-like costs (luks2-kdf.ts); AF hash sha256, and the segment cipher for the area
 * (cryptsetup's aes-xts-plain64 fallback when we cannot use it). Removing a keyslot also
 * removes it from every digest and token, as `cryptsetup luksKillSlot` does, so the header
 * stays valid for cryptsetup. Unknown JSON members are preserved; seqid is incremented.
 * Header writes are refused while a header copy needs repair or a mandatory requirement is
 * set (UNSUPPORTED_FEATURE), leaving the file unchanged. Each function works on a volume
 * already read (one header read per keyslot operation) and returns the volume as written;
 * key derivation runs on the KDF worker.
 */
import { fail } from '../../api/errors.js';
import { parseDmCipher, type CipherSpec } from '../../crypto/cipher-spec.js';
import { sealKey } from '../../crypto/kdf-client.js';
import { randomBytes } from '../../crypto/random.js';
import { wipe } from '../../crypto/secret.js';
import type { HeaderIO } from '../encryption.js';
import { materialLength } from './key-material.js';
import { LUKS_STRIPES } from './luks1-header.js';
import { LUKS2_BINARY_HEADER_SIZE } from './luks2-header.js';
import {
  chooseLuks2Kdf,
  kdfJson,
  kdfParams,
  type Luks2KdfOptions,
  type Luks2KdfType,
} from './luks2-kdf.js';
import { parseLuks2Metadata } from './luks2-metadata.js';
import { requirementsReason, type Luks2Key } from './luks2-unlock.js';
import { assertHeaderWritable, readLuks2Volume, type Luks2Volume } from './luks2-volume.js';
import { buildLuks2Copy, writeLuks2Headers } from './luks2-write.js';

/** cryptsetup's keyslot limit for LUKS2. */
export const LUKS2_MAX_KEYSLOTS = 32;
const AREA_ALIGN = 4096;
const WIPE_PASSES = 3;
const WIPE_CHUNK = 1024 * 1024;
/** cryptsetup's keyslot cipher when the segment cipher cannot be used for keyslots. */
const FALLBACK_AREA_CIPHER = 'aes-xts-plain64';

type Json = Record<string, unknown>;

/** Refuses header writes on `vol` (file unchanged): a copy needs repair, or requirements. */
export function assertLuks2Writable(vol: Luks2Volume): void {
  assertHeaderWritable(vol);
  const req = requirementsReason(vol.meta);
  if (req) throw fail('UNSUPPORTED_FEATURE', `${req}: the header cannot be changed`);
}

/** Reads a LUKS2 volume about to have its header rewritten (see {@link assertLuks2Writable}). */
export async function readWritableLuks2(io: HeaderIO): Promise<Luks2Volume> {
  const vol = await readLuks2Volume(io);
  assertLuks2Writable(vol);
  return vol;
}

export function jsonRoot(vol: Luks2Volume): Json {
  const nul = vol.header.jsonArea.indexOf(0);
  return JSON.parse(new TextDecoder().decode(vol.header.jsonArea.subarray(0, nul))) as Json;
}

/**
 * Writes `root` as the next header generation (seqid + 1), both copies; returns the volume as
 * written (without reading it back).
 */
export async function writeLuks2Meta(
  io: HeaderIO,
  vol: Luks2Volume,
  root: Json
): Promise<Luks2Volume> {
  const h = vol.header;
  const json = JSON.stringify(root);
  const fields = {
    hdrSize: h.hdrSize,
    seqid: h.seqid + 1n,
    label: h.label,
    checksumAlg: h.checksumAlg,
    uuid: h.uuid,
    subsystem: h.subsystem,
    json,
  };
  const meta = parseLuks2Metadata(json, h.hdrSize);
  await writeLuks2Headers(io, fields);
  const primary = buildLuks2Copy(fields, 0);
  const header = {
    ...h,
    seqid: fields.seqid,
    hdrOffset: 0,
    binary: primary.slice(0, LUKS2_BINARY_HEADER_SIZE),
    jsonArea: primary.slice(LUKS2_BINARY_HEADER_SIZE),
  };
  const copy = (offset: number) => ({ status: 'valid' as const, offset, seqid: fields.seqid });
  return {
    header,
    meta,
    state: { used: 'primary', primary: copy(0), secondary: copy(h.hdrSize) },
  };
}

/** First-fit gap for `size` bytes in the keyslots area (cryptsetup `LUKS2_find_area_gap`). */
export function findArea(vol: Luks2Volume, size: number): number {
  const start = 2 * vol.header.hdrSize;
  const end = start + vol.meta.keyslotsSize;
  const used = vol.meta.keyslots.map((k) => k.area).sort((a, b) => a.offset - b.offset);
  let pos = start;
  for (const a of used) {
    if (pos < a.offset && pos + size <= a.offset) break;
    pos = Math.max(pos, Math.ceil((a.offset + a.size) / AREA_ALIGN) * AREA_ALIGN);
  }
  if (pos + size > end) throw fail('NO_FREE_KEYSLOT', 'The LUKS2 keyslots area is full');
  return pos;
}

/**
 * The keyslot id a new key goes to: `wanted` (checked) or the first free one. Throws
 * INVALID_ARGUMENT, KEYSLOT_ACTIVE, NO_FREE_KEYSLOT — before any key derivation.
 */
export function pickLuks2Slot(vol: Luks2Volume, wanted?: number): number {
  const ids = new Set(vol.meta.keyslots.map((k) => k.id));
  if (wanted !== undefined) {
    if (!Number.isInteger(wanted) || wanted < 0 || wanted >= LUKS2_MAX_KEYSLOTS) {
      throw fail('INVALID_ARGUMENT', `Keyslot ${wanted} does not exist (LUKS2 has 0..31)`);
    }
    if (ids.has(wanted)) throw fail('KEYSLOT_ACTIVE', `Keyslot ${wanted} is already in use`);
    return wanted;
  }
  const id = [...Array(LUKS2_MAX_KEYSLOTS).keys()].find((i) => !ids.has(i));
  if (id === undefined) throw fail('NO_FREE_KEYSLOT', 'All 32 LUKS2 keyslots are in use');
  return id;
}

/** The keyslot cipher: the segment's when usable with this key, else aes-xts-plain64/512. */
function areaCipher(
  vol: Luks2Volume,
  digestId: number,
  keyBytes: number
): { encryption: string; spec: CipherSpec } {
  const digest = vol.meta.digests.find((d) => d.id === digestId)!;
  const seg = vol.meta.segments.find((s) => digest.segments.includes(s.id));
  try {
    if (seg?.encryption)
      return { encryption: seg.encryption, spec: parseDmCipher(seg.encryption, keyBytes) };
  } catch {
    // fall through to cryptsetup's default keyslot cipher
  }
  return { encryption: FALLBACK_AREA_CIPHER, spec: parseDmCipher(FALLBACK_AREA_CIPHER, 64) };
}

export interface Luks2AddOptions extends Luks2KdfOptions {
  slot?: number;
}

/**
 * Adds a keyslot for `newPassphrase` holding `key` (the volume key and the keyslot it came
 * from; docs/spec/luks2.md §5 "Add"): key material written and flushed first, then both header copies.
 * Returns the new keyslot id and the volume as written.
 */
export async function addLuks2Keyslot(
  io: HeaderIO,
  vol: Luks2Volume,
  key: Luks2Key,
  newPassphrase: Uint8Array,
  opts: Luks2AddOptions = {}
): Promise<{ id: number; vol: Luks2Volume }> {
  assertLuks2Writable(vol);
  const id = pickLuks2Slot(vol, opts.slot);
  const opened = vol.meta.keyslots.find((k) => k.id === key.slot)!;
  const digest = vol.meta.digests.find((d) => d.keyslots.includes(key.slot))!;
  const openedKdf = opened.kdf?.type;
  const type: Luks2KdfType =
    opts.pbkdf ?? (openedKdf === undefined || openedKdf === 'unknown' ? 'argon2id' : openedKdf);
  const keySize = key.masterKey.length;
  const area = areaCipher(vol, digest.id, keySize);
  const areaKeyBytes = area.spec.keyBytes;
  const size = Math.ceil(materialLength(keySize, LUKS_STRIPES) / AREA_ALIGN) * AREA_ALIGN;
  const offset = findArea(vol, size);
  const kdf = await chooseLuks2Kdf(type, areaKeyBytes, { hash: digest.pbkdf2?.hash, ...opts });
  const seal = {
    kdf: kdfParams(kdf),
    salt: kdf.salt,
    cipher: area.spec,
    stripes: LUKS_STRIPES,
    afHash: 'sha256',
  } as const;
  const material = await sealKey(newPassphrase, seal, key.masterKey);
  try {
    await io.write(material, offset);
    await io.flush();
  } finally {
    wipe(material);
  }
  const root = jsonRoot(vol);
  (root.keyslots as Json)[String(id)] = {
    type: 'luks2',
    key_size: keySize,
    af: { type: 'luks1', stripes: LUKS_STRIPES, hash: 'sha256' },
    area: {
      type: 'raw',
      offset: String(offset),
      size: String(size),
      encryption: area.encryption,
      key_size: areaKeyBytes,
    },
    kdf: kdfJson(kdf),
  };
  const d = (root.digests as Record<string, Json>)[String(digest.id)]!;
  d.keyslots = [...(d.keyslots as string[]), String(id)];
  return { id, vol: await writeLuks2Meta(io, vol, root) };
}

/** Drops keyslot ids from every digest and token (cryptsetup `luks2_keyslot_wipe`). */
function unassign(root: Json, ids: number[]): void {
  const drop = (list: unknown) => (list as string[]).filter((k) => !ids.includes(Number(k)));
  for (const d of Object.values(root.digests as Record<string, Json>))
    d.keyslots = drop(d.keyslots);
  for (const t of Object.values(root.tokens as Record<string, Json>)) t.keyslots = drop(t.keyslots);
}

/**
 * Removes LUKS2 keyslots `ids`: metadata first (both headers, the ids gone from digests and
 * tokens), then the areas are overwritten with random data (docs/spec/luks2.md §5 "Remove", docs/DESIGN.md
 * order). Returns the volume as written.
 */
export async function removeLuks2Keyslots(
  io: HeaderIO,
  vol: Luks2Volume,
  ids: number[]
): Promise<Luks2Volume> {
  assertLuks2Writable(vol);
  const root = jsonRoot(vol);
  const areas = vol.meta.keyslots.filter((k) => ids.includes(k.id)).map((k) => k.area);
  for (const id of ids) delete (root.keyslots as Json)[String(id)];
  unassign(root, ids);
  const next = await writeLuks2Meta(io, vol, root);
  for (let pass = 0; pass < WIPE_PASSES; pass++) {
    for (const a of areas) {
      for (let off = 0; off < a.size; off += WIPE_CHUNK) {
        await io.write(randomBytes(Math.min(WIPE_CHUNK, a.size - off)), a.offset + off);
      }
    }
    await io.flush();
  }
  return next;
}

/** User (luks2-type) keyslot ids of a LUKS2 volume. */
export function luks2ActiveSlots(vol: Luks2Volume): number[] {
  return vol.meta.keyslots.filter((k) => k.type === 'luks2').map((k) => k.id);
}

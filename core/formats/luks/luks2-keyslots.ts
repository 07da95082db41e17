/**
 * LUKS2 keyslot add/remove (spec/luks2.md §5). New keyslots use PBKDF2 (the hash of the
 * segment digest) with AF hash sha256 and the segment cipher for the area, as cryptsetup does
 * with `--pbkdf pbkdf2`. Unknown JSON members are preserved; seqid is incremented. Each
 * function works on a volume already read (the header is read once per keyslot operation) and
 * returns the volume as written; key derivation runs on the KDF worker.
 */
import { fail } from '../../api/errors.js';
import { parseHashName } from '../../crypto/hash.js';
import { sealKey } from '../../crypto/kdf-client.js';
import { randomBytes } from '../../crypto/random.js';
import { wipe } from '../../crypto/secret.js';
import type { HeaderIO } from '../encryption.js';
import { materialLength } from './key-material.js';
import { slotIterations } from './luks1-format.js';
import { LUKS_STRIPES } from './luks1-header.js';
import { parseLuks2Metadata } from './luks2-metadata.js';
import { segmentCipher, type Luks2Volume } from './luks2-unlock.js';
import { writeLuks2Headers } from './luks2-write.js';
import type { UnlockedLuks } from './unlocked.js';

/** cryptsetup's keyslot limit for LUKS2. */
const LUKS2_MAX_KEYSLOTS = 32;
const AREA_ALIGN = 4096;
const WIPE_PASSES = 3;

type Json = Record<string, unknown>;

function rootOf(vol: Luks2Volume): { root: Json; keyslots: Json; digests: Record<string, Json> } {
  const root = JSON.parse(vol.header.json) as Json;
  return {
    root,
    keyslots: root.keyslots as Json,
    digests: root.digests as Record<string, Json>,
  };
}

/** Writes both header copies with `root` as the JSON and seqid + 1; returns the new volume. */
async function writeMeta(io: HeaderIO, vol: Luks2Volume, root: Json): Promise<Luks2Volume> {
  const h = vol.header;
  const json = JSON.stringify(root);
  const seqid = h.seqid + 1n;
  await writeLuks2Headers(io, {
    hdrSize: h.hdrSize,
    seqid,
    label: h.label,
    checksumAlg: h.checksumAlg,
    uuid: h.uuid,
    subsystem: h.subsystem,
    json,
  });
  return { header: { ...h, seqid, json }, meta: parseLuks2Metadata(json, h.hdrSize) };
}

/** First-fit gap for `size` bytes in the keyslots area (luks2.md §5 step 3). */
function findArea(vol: Luks2Volume, size: number): number {
  const start = 2 * vol.header.hdrSize;
  const end = start + vol.meta.keyslotsSize;
  const used = vol.meta.keyslots
    .flatMap((k) => (k.area ? [k.area] : []))
    .sort((a, b) => a.offset - b.offset);
  let pos = start;
  for (const a of used) {
    if (a.offset - pos >= size) break;
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

/**
 * Adds a PBKDF2 keyslot for `newPassphrase` holding `u`'s volume key (luks2.md §5 "Add"):
 * key material (flushed), then both header copies. Returns the slot id and the new volume.
 */
export async function addLuks2Keyslot(
  io: HeaderIO,
  vol: Luks2Volume,
  u: UnlockedLuks,
  newPassphrase: Uint8Array,
  opts: { slot?: number; iterTimeMs?: number; iterations?: number } = {}
): Promise<{ id: number; vol: Luks2Volume }> {
  const { segment } = segmentCipher(vol);
  const id = pickLuks2Slot(vol, opts.slot);
  const digest = vol.meta.digests.find((d) => d.segments.includes(segment.id))!;
  const kdfHash = parseHashName(digest.hash);
  const afHash = 'sha256';
  const keySize = u.masterKey.length;
  const size = Math.ceil(materialLength(keySize, LUKS_STRIPES) / AREA_ALIGN) * AREA_ALIGN;
  const offset = findArea(vol, size);
  const iterations = await slotIterations(kdfHash, keySize, opts);
  const salt = randomBytes(32);
  const seal = {
    kdf: { type: 'pbkdf2', hash: kdfHash, iterations } as const,
    salt,
    cipher: u.spec,
    stripes: LUKS_STRIPES,
    afHash,
  } as const;
  const material = await sealKey(newPassphrase, seal, u.masterKey);
  try {
    await io.write(material, offset);
    await io.flush();
  } finally {
    wipe(material);
  }
  const { root, keyslots, digests } = rootOf(vol);
  keyslots[String(id)] = {
    type: 'luks2',
    key_size: keySize,
    af: { type: 'luks1', stripes: LUKS_STRIPES, hash: afHash },
    area: {
      type: 'raw',
      offset: String(offset),
      size: String(size),
      encryption: segment.encryption,
      key_size: keySize,
    },
    kdf: {
      type: 'pbkdf2',
      hash: kdfHash,
      iterations,
      salt: Buffer.from(salt).toString('base64'),
    },
  };
  const d = digests[String(digest.id)]!;
  d.keyslots = [...(d.keyslots as string[]), String(id)];
  return { id, vol: await writeMeta(io, vol, root) };
}

/**
 * Removes LUKS2 keyslots `ids`: metadata first (both headers), then the areas are wiped with
 * random data (luks2.md §5 "Remove", DESIGN.md order). Returns the new volume.
 */
export async function removeLuks2Keyslots(
  io: HeaderIO,
  vol: Luks2Volume,
  ids: number[]
): Promise<Luks2Volume> {
  const { root, keyslots, digests } = rootOf(vol);
  const areas = vol.meta.keyslots
    .filter((k) => ids.includes(k.id))
    .flatMap((k) => (k.area ? [k.area] : []));
  for (const id of ids) delete keyslots[String(id)];
  for (const d of Object.values(digests)) {
    d.keyslots = (d.keyslots as string[]).filter((k) => !ids.includes(Number(k)));
  }
  const next = await writeMeta(io, vol, root);
  for (let pass = 0; pass < WIPE_PASSES; pass++) {
    for (const a of areas) await io.write(randomBytes(a.size), a.offset);
    await io.flush();
  }
  return next;
}

/** Active user keyslot ids of a LUKS2 volume. */
export function luks2ActiveSlots(vol: Luks2Volume): number[] {
  return vol.meta.keyslots.filter((k) => k.type === 'luks2').map((k) => k.id);
}

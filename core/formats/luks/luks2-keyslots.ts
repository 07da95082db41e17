/**
 * LUKS2 keyslot add/remove (spec/luks2.md §5). New keyslots use PBKDF2 (the hash of the
 * segment digest) with AF hash sha256 and the segment cipher for the area, as cryptsetup does
 * with `--pbkdf pbkdf2`. Unknown JSON members are preserved; seqid is incremented.
 */
import { fail } from '../../api/errors.js';
import { parseHashName } from '../../crypto/hash.js';
import { pbkdf2 } from '../../crypto/pbkdf2.js';
import { randomBytes } from '../../crypto/random.js';
import { wipe } from '../../crypto/secret.js';
import type { HeaderIO } from '../encryption.js';
import { buildKeyMaterial, materialLength } from './key-material.js';
import { slotIterations } from './luks1-format.js';
import { LUKS_STRIPES } from './luks1-header.js';
import { readLuks2Volume, segmentCipher, unlockLuks2, type Luks2Volume } from './luks2-unlock.js';
import { writeLuks2Headers } from './luks2-write.js';

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

async function writeMeta(io: HeaderIO, vol: Luks2Volume, root: Json): Promise<void> {
  const h = vol.header;
  await writeLuks2Headers(io, {
    hdrSize: h.hdrSize,
    seqid: h.seqid + 1n,
    label: h.label,
    checksumAlg: h.checksumAlg,
    uuid: h.uuid,
    subsystem: h.subsystem,
    json: JSON.stringify(root),
  });
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

/** Adds a PBKDF2 keyslot for `newPassphrase` (luks2.md §5 "Add"). */
export async function addLuks2Keyslot(
  io: HeaderIO,
  passphrase: Uint8Array,
  newPassphrase: Uint8Array,
  opts: { slot?: number; iterTimeMs?: number; iterations?: number } = {}
): Promise<number> {
  const vol = await readLuks2Volume(io);
  const { segment } = segmentCipher(vol);
  const ids = new Set(vol.meta.keyslots.map((k) => k.id));
  let id = opts.slot;
  if (id !== undefined) {
    if (!Number.isInteger(id) || id < 0 || id >= LUKS2_MAX_KEYSLOTS) {
      throw fail('INVALID_ARGUMENT', `Keyslot ${id} does not exist (LUKS2 has 0..31)`);
    }
    if (ids.has(id)) throw fail('KEYSLOT_ACTIVE', `Keyslot ${id} is already in use`);
  } else {
    id = [...Array(LUKS2_MAX_KEYSLOTS).keys()].find((i) => !ids.has(i));
    if (id === undefined) throw fail('NO_FREE_KEYSLOT', 'All 32 LUKS2 keyslots are in use');
  }
  const u = await unlockLuks2(io, passphrase);
  const digest = vol.meta.digests.find((d) => d.segments.includes(segment.id))!;
  const kdfHash = parseHashName(digest.hash);
  const afHash = 'sha256';
  let areaKey: Uint8Array | undefined;
  let material: Uint8Array | undefined;
  try {
    const keySize = u.masterKey.length;
    const size = Math.ceil(materialLength(keySize, LUKS_STRIPES) / AREA_ALIGN) * AREA_ALIGN;
    const offset = findArea(vol, size);
    const iterations = slotIterations(kdfHash, keySize, opts);
    const salt = randomBytes(32);
    areaKey = pbkdf2(kdfHash, newPassphrase, salt, iterations, keySize);
    material = buildKeyMaterial(u.spec, areaKey, u.masterKey, LUKS_STRIPES, afHash);
    await io.write(material, offset);
    await io.flush();
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
    await writeMeta(io, vol, root);
    return id;
  } finally {
    wipe(areaKey, material);
    u.dispose();
  }
}

/**
 * Removes LUKS2 keyslots `ids`: metadata first (both headers), then the areas are wiped with
 * random data (luks2.md §5 "Remove", DESIGN.md order).
 */
export async function removeLuks2KeyslotIds(io: HeaderIO, ids: number[]): Promise<void> {
  const vol = await readLuks2Volume(io);
  const { root, keyslots, digests } = rootOf(vol);
  const areas = vol.meta.keyslots
    .filter((k) => ids.includes(k.id))
    .flatMap((k) => (k.area ? [k.area] : []));
  for (const id of ids) delete keyslots[String(id)];
  for (const d of Object.values(digests)) {
    d.keyslots = (d.keyslots as string[]).filter((k) => !ids.includes(Number(k)));
  }
  await writeMeta(io, vol, root);
  for (let pass = 0; pass < WIPE_PASSES; pass++) {
    for (const a of areas) await io.write(randomBytes(a.size), a.offset);
    await io.flush();
  }
}

/** Active user keyslot ids of a LUKS2 volume. */
export async function luks2ActiveSlots(io: HeaderIO): Promise<number[]> {
  const vol = await readLuks2Volume(io);
  return vol.meta.keyslots.filter((k) => k.type === 'luks2').map((k) => k.id);
}

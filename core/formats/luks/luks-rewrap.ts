/**
 * A LUKS header for a new master key, built in memory from the old one (master-key rotation,
 * README "Master-key rotation"): the same cipher, geometry, UUID and (LUKS2) segments, config
 * and tokens; a new master-key digest; the given passphrases sealed in the keyslots they
 * opened, with the same KDF costs; every other key area overwritten with random bytes.
 * Nothing is written to the image here: the caller journals both headers first.
 */
import { fail } from '../../api/errors.js';
import { parseDmCipher } from '../../crypto/cipher-spec.js';
import { parseHashName } from '../../crypto/hash.js';
import { deriveKey, sealKey } from '../../crypto/kdf-client.js';
import { randomBytes } from '../../crypto/random.js';
import { wipe } from '../../crypto/secret.js';
import type { HeaderIO } from '../encryption.js';
import { detectLuksVersion } from './inspect.js';
import { writeSlotMaterial } from './luks1-format.js';
import {
  LUKS1_DIGEST_SIZE,
  LUKS_SALT_SIZE,
  LUKS_SECTOR,
  disabledSlot,
  keyMaterialSectors,
  serializeLuks1Header,
} from './luks1-header.js';
import { readLuks1Volume } from './luks1-unlock.js';
import { kdfJson, kdfParams } from './luks2-kdf.js';
import { readLuks2Volume } from './luks2-unlock.js';
import { jsonRoot, writeLuks2Meta } from './luks2-keyslots.js';

/** A passphrase and the keyslot it opened in the old header. */
export interface RewrapSlot {
  slot: number;
  passphrase: Uint8Array;
}

/** A `HeaderIO` over bytes in memory (the header being built). */
export function memoryHeaderIO(bytes: Uint8Array): HeaderIO {
  const check = (buf: Uint8Array, pos: number) => {
    if (pos < 0 || pos + buf.length > bytes.length) {
      throw fail('TRUNCATED', `LUKS header access beyond its ${bytes.length}-byte region`);
    }
  };
  return {
    length: bytes.length,
    read: async (buf, pos) => {
      check(buf, pos);
      buf.set(bytes.subarray(pos, pos + buf.length));
    },
    write: async (buf, pos) => {
      check(buf, pos);
      bytes.set(buf, pos);
    },
    flush: async () => undefined,
  };
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/**
 * The header region `old` rebuilt for `newKey` (same length). `slots` are sealed in place of
 * the old keyslots of the same numbers; all other keyslots are dropped.
 */
export async function rewrapLuksHeader(
  old: Uint8Array,
  newKey: Uint8Array,
  slots: RewrapSlot[]
): Promise<Uint8Array> {
  if (slots.length === 0) throw fail('INVALID_ARGUMENT', 'No keyslot to keep');
  const out = old.slice();
  const io = memoryHeaderIO(out);
  return (await detectLuksVersion(io)) === 1
    ? rewrapLuks1(io, out, newKey, slots)
    : rewrapLuks2(io, out, newKey, slots);
}

async function rewrapLuks1(
  io: HeaderIO,
  out: Uint8Array,
  newKey: Uint8Array,
  slots: RewrapSlot[]
): Promise<Uint8Array> {
  const vol = await readLuks1Volume(io);
  const h = vol.header;
  if (newKey.length !== h.keyBytes) throw fail('INTERNAL', 'New key of the wrong size');
  const oldSlots = h.slots.map((s) => ({ ...s }));
  const salt = randomBytes(LUKS_SALT_SIZE);
  h.mkDigestSalt = salt;
  h.mkDigest = await deriveKey(
    { type: 'pbkdf2', hash: vol.hash, iterations: h.mkDigestIterations },
    newKey,
    salt,
    LUKS1_DIGEST_SIZE
  );
  // Every key area random (the old material of dropped slots must not survive in the copy
  // that replaces the header), every slot disabled; then the kept ones sealed anew.
  const area = keyMaterialSectors(h.keyBytes) * LUKS_SECTOR;
  h.slots = h.slots.map((s) => {
    const end = s.keyOffset * LUKS_SECTOR + area;
    if (end <= out.length) out.set(randomBytes(area), s.keyOffset * LUKS_SECTOR);
    return disabledSlot(s.keyOffset);
  });
  for (const { slot, passphrase } of slots) {
    const was = oldSlots[slot];
    if (!was?.active) throw fail('INTERNAL', `Keyslot ${slot} was not active`);
    await writeSlotMaterial(io, vol, slot, newKey, passphrase, was.iterations);
  }
  out.set(serializeLuks1Header(h), 0);
  return out;
}

type Json = Record<string, unknown>;

async function rewrapLuks2(
  io: HeaderIO,
  out: Uint8Array,
  newKey: Uint8Array,
  slots: RewrapSlot[]
): Promise<Uint8Array> {
  const vol = await readLuks2Volume(io);
  if (vol.meta.requirements.length > 0 || vol.meta.segments.length !== 1) {
    throw fail(
      'UNSUPPORTED_FEATURE',
      'This LUKS2 header has requirements or several segments (an unfinished reencryption?)'
    );
  }
  if (vol.meta.digests.length !== 1 || !vol.meta.digests[0]!.pbkdf2) {
    throw fail('UNSUPPORTED_FEATURE', 'This LUKS2 header does not have one PBKDF2 digest');
  }
  const d = vol.meta.digests[0]!;
  const dp = d.pbkdf2!;
  const root = jsonRoot(vol);
  const keyslots = root.keyslots as Record<string, Json>;
  const kept: Record<string, Json> = {};
  for (const ks of vol.meta.keyslots) {
    // Every old key area random: dropped material must not survive.
    out.set(randomBytes(ks.area.size), ks.area.offset);
  }
  for (const { slot, passphrase } of slots) {
    const ks = vol.meta.keyslots.find((k) => k.id === slot);
    if (!ks || !ks.af || !ks.kdf || ks.kdf.type === 'unknown' || !ks.area.encryption) {
      throw fail('INTERNAL', `Keyslot ${slot} cannot be re-wrapped`);
    }
    if (ks.keySize !== newKey.length) throw fail('INTERNAL', 'New key of the wrong size');
    const kdf = { ...ks.kdf, salt: randomBytes(ks.kdf.salt.length || 32) };
    const material = await sealKey(
      passphrase,
      {
        kdf: kdfParams(kdf),
        salt: kdf.salt,
        cipher: parseDmCipher(ks.area.encryption, ks.area.keySize!),
        stripes: ks.af.stripes,
        afHash: parseHashName(ks.af.hash),
      },
      newKey
    );
    try {
      if (material.length > ks.area.size) throw fail('INTERNAL', 'Key material too large');
      out.set(material, ks.area.offset);
    } finally {
      wipe(material);
    }
    kept[String(slot)] = { ...keyslots[String(slot)]!, kdf: kdfJson(kdf) };
  }
  const ids = slots.map((s) => s.slot);
  root.keyslots = kept;
  const digestSalt = randomBytes(dp.salt.length || 32);
  const digest = await deriveKey(
    { type: 'pbkdf2', hash: parseHashName(dp.hash), iterations: dp.iterations },
    newKey,
    digestSalt,
    dp.digest.length
  );
  const dj = (root.digests as Record<string, Json>)[String(d.id)]!;
  dj.keyslots = ids.map(String);
  dj.salt = b64(digestSalt);
  dj.digest = b64(digest);
  wipe(digest);
  for (const t of Object.values(root.tokens as Record<string, Json>)) {
    t.keyslots = (t.keyslots as string[]).filter((k) => ids.includes(Number(k)));
  }
  await writeLuks2Meta(io, vol, root);
  return out;
}

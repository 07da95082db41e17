/**
 * LUKS2 unlock: KDF (pbkdf2, argon2i, argon2id), key material, digest check, and the data
 * segment parameters (spec/luks2.md §4).
 */
import { fail } from '../../api/errors.js';
import { parseDmCipher, type CipherSpec } from '../../crypto/cipher-spec.js';
import { parseHashName } from '../../crypto/hash.js';
import { unsealKey, type KdfParams } from '../../crypto/kdf-client.js';
import { wipe } from '../../crypto/secret.js';
import type { HeaderIO } from '../encryption.js';
import { readHeaderBytes } from './header-io.js';
import { materialLength } from './key-material.js';
import { readLuks2Header, type Luks2BinaryHeader } from './luks2-header.js';
import {
  parseLuks2Metadata,
  type Luks2Keyslot,
  type Luks2Metadata,
  type Luks2Segment,
} from './luks2-metadata.js';
import { makeUnlocked, type UnlockedLuks } from './unlocked.js';

export interface Luks2Volume {
  header: Luks2BinaryHeader;
  meta: Luks2Metadata;
}

export async function readLuks2Volume(io: HeaderIO): Promise<Luks2Volume> {
  const header = await readLuks2Header(io);
  return { header, meta: parseLuks2Metadata(header.json, header.hdrSize) };
}

/** The single data segment, or why we cannot use it (integrity, reencryption, …). */
export function dataSegment(meta: Luks2Metadata): { segment?: Luks2Segment; reason?: string } {
  if (meta.requirements.length > 0) {
    return {
      reason: `LUKS2 mandatory requirements not supported: ${meta.requirements.join(', ')}`,
    };
  }
  const crypt = meta.segments.filter((s) => s.type === 'crypt');
  if (meta.segments.length !== 1 || crypt.length !== 1) {
    return { reason: 'LUKS2 volumes with several segments (reencryption) are not supported' };
  }
  const segment = crypt[0]!;
  if (segment.integrity)
    return { reason: 'LUKS2 integrity (authenticated encryption) is not supported' };
  if (segment.flags.length > 0) {
    return { reason: `LUKS2 segment flags not supported: ${segment.flags.join(', ')}` };
  }
  return { segment };
}

/** The keyslot's KDF as the KDF worker takes it (luks2.md §3 "Keyslot" kdf). */
function kdfOf(ks: Luks2Keyslot): KdfParams {
  const kdf = ks.kdf!;
  if (kdf.type === 'pbkdf2') {
    return { type: 'pbkdf2', hash: parseHashName(kdf.hash), iterations: kdf.iterations };
  }
  return { type: kdf.type, time: kdf.time, memoryKiB: kdf.memoryKiB, parallel: kdf.cpus };
}

/**
 * Tries one keyslot (luks2.md §4 steps 1–3): the volume key, or undefined when the passphrase
 * does not open it. The KDF, AF merge and digest check run on the KDF worker.
 */
async function tryLuks2Slot(
  io: HeaderIO,
  vol: Luks2Volume,
  ks: Luks2Keyslot,
  passphrase: Uint8Array
): Promise<Uint8Array | undefined> {
  const digest = vol.meta.digests.find((d) => d.keyslots.includes(ks.id));
  if (!digest || !ks.area || !ks.af || !ks.kdf) return undefined;
  const seal = {
    kdf: kdfOf(ks),
    salt: ks.kdf.salt,
    cipher: parseDmCipher(ks.area.encryption, ks.area.keySize),
    stripes: ks.af.stripes,
    afHash: parseHashName(ks.af.hash),
  };
  const check = {
    hash: parseHashName(digest.hash),
    salt: digest.salt,
    iterations: digest.iterations,
    digest: digest.digest,
  };
  const material = await readHeaderBytes(
    io,
    ks.area.offset,
    materialLength(ks.keySize, ks.af.stripes),
    `keyslot ${ks.id} key material`
  );
  try {
    return await unsealKey(passphrase, seal, material, ks.keySize, check);
  } finally {
    wipe(material);
  }
}

/** User keyslots in unlock order: priority 2 first, then 1; priority 0 only when named. */
function slotOrder(meta: Luks2Metadata, only?: number): Luks2Keyslot[] {
  const user = meta.keyslots.filter((k) => k.type === 'luks2');
  if (only !== undefined) {
    const k = user.find((s) => s.id === only);
    if (!k) throw fail('KEYSLOT_INACTIVE', `Keyslot ${only} is not active`);
    return [k];
  }
  return [...user.filter((k) => k.priority === 2), ...user.filter((k) => k.priority === 1)];
}

/** Resolves the data cipher of the segment; throws UNSUPPORTED_* when it cannot be used. */
export function segmentCipher(vol: Luks2Volume): {
  segment: Luks2Segment;
  spec: CipherSpec;
  keyBytes: number;
} {
  const { segment, reason } = dataSegment(vol.meta);
  if (!segment) throw fail('UNSUPPORTED_FEATURE', reason ?? 'Unsupported LUKS2 layout');
  const digest = vol.meta.digests.find((d) => d.segments.includes(segment.id));
  const slot = vol.meta.keyslots.find((k) => k.type === 'luks2' && digest?.keyslots.includes(k.id));
  if (!digest || !slot) throw fail('CORRUPT', 'LUKS2 metadata has no keyslot for the data segment');
  const spec = parseDmCipher(segment.encryption, slot.keySize);
  return { segment, spec, keyBytes: slot.keySize };
}

/**
 * Unlocks an already-read LUKS2 volume (luks2.md §4): tries the user keyslots in priority
 * order (only `opts.slot` when given). Throws WRONG_PASSPHRASE when none opens.
 */
export async function unlockLuks2Volume(
  io: HeaderIO,
  vol: Luks2Volume,
  passphrase: Uint8Array,
  opts: { slot?: number } = {}
): Promise<UnlockedLuks> {
  const { segment, spec } = segmentCipher(vol);
  const segDigest = vol.meta.digests.find((d) => d.segments.includes(segment.id))!;
  for (const ks of slotOrder(vol.meta, opts.slot)) {
    if (!segDigest.keyslots.includes(ks.id) || ks.keySize !== spec.keyBytes) continue;
    const mk = await tryLuks2Slot(io, vol, ks, passphrase);
    if (!mk) continue;
    return makeUnlocked({
      version: 2,
      slot: ks.id,
      spec,
      masterKey: mk,
      sectorSize: segment.sectorSize,
      payloadOffset: segment.offset,
      ivTweak: segment.ivTweak,
      payloadSize: segment.size,
    });
  }
  throw fail('WRONG_PASSPHRASE', 'The passphrase does not open any keyslot');
}

/** Reads and unlocks a LUKS2 volume (luks2.md §4). */
export async function unlockLuks2(
  io: HeaderIO,
  passphrase: Uint8Array,
  opts: { slot?: number } = {}
): Promise<UnlockedLuks> {
  return unlockLuks2Volume(io, await readLuks2Volume(io), passphrase, opts);
}

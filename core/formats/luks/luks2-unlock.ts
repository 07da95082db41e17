/**
 * LUKS2 unlock: KDF (pbkdf2, argon2i, argon2id), key material, digest check, and the data
 * segment parameters (docs/spec/luks2.md §4). Recovering the volume key needs only a keyslot and its
 * digest, so a passphrase can be tested on volumes whose data we cannot read (unknown
 * requirement flags, an unsupported segment cipher), as `cryptsetup open --test-passphrase`
 * does; reading data additionally needs a segment we support.
 */
import { fail } from '../../api/errors.js';
import { parseDmCipher, type CipherSpec } from '../../crypto/cipher-spec.js';
import { parseHashName } from '../../crypto/hash.js';
import { unsealKey, type KdfParams } from '../../crypto/kdf-client.js';
import { isSlowKeyslot, reportSkip } from '../../crypto/kdf-cost.js';
import { wipe } from '../../crypto/secret.js';
import type { HeaderIO } from '../encryption.js';
import { readHeaderBytes } from './header-io.js';
import { materialLength } from './key-material.js';
import type { Luks2Keyslot, Luks2Metadata, Luks2Segment } from './luks2-metadata.js';
import { readLuks2Volume, type Luks2Volume } from './luks2-volume.js';

export { readLuks2Volume, type Luks2Volume } from './luks2-volume.js';
import { makeUnlocked, type UnlockedLuks } from './unlocked.js';

/** Segment sector sizes dm-crypt (and we) can use (docs/spec/luks2.md §3 "Segment"). */
const SECTOR_SIZES = [512, 1024, 2048, 4096];

/** The unmet mandatory requirements, as one message (UNSUPPORTED_FEATURE), or undefined. */
export function requirementsReason(meta: Luks2Metadata): string | undefined {
  if (meta.requirements.length === 0) return undefined;
  return `LUKS2 mandatory requirement not supported: ${meta.requirements.join(', ')}`;
}

/** The single data segment, or why we cannot use it (requirements, integrity, reencryption, …). */
export function dataSegment(meta: Luks2Metadata): { segment?: Luks2Segment; reason?: string } {
  const req = requirementsReason(meta);
  if (req) return { reason: req };
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
  if (!SECTOR_SIZES.includes(segment.sectorSize)) {
    return { reason: `LUKS2 sector size ${segment.sectorSize} is not supported` };
  }
  if (segment.ivTweak > 2 ** 52) return { reason: 'LUKS2 segment iv_tweak is too large' };
  return { segment };
}

/** Data cipher of a key size, or UNSUPPORTED_CIPHER naming the segment cipher. */
function segmentSpec(segment: Luks2Segment, keyBytes: number): CipherSpec {
  try {
    return parseDmCipher(segment.encryption, keyBytes);
  } catch {
    const shown = segment.encryption.replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
    throw fail(
      'UNSUPPORTED_CIPHER',
      `The data segment cipher ${shown} (${keyBytes * 8}-bit key) is not supported`
    );
  }
}

/**
 * Resolves the data segment and its cipher; throws UNSUPPORTED_FEATURE (requirements,
 * layout) or UNSUPPORTED_CIPHER (segment cipher) before any KDF work.
 */
export function segmentCipher(vol: Luks2Volume): {
  segment: Luks2Segment;
  spec: CipherSpec;
  keyBytes: number;
} {
  const { segment, reason } = dataSegment(vol.meta);
  if (!segment) throw fail('UNSUPPORTED_FEATURE', reason ?? 'Unsupported LUKS2 layout');
  const digest = vol.meta.digests.find((d) => d.segments.includes(segment.id));
  const slots = vol.meta.keyslots.filter(
    (k) => k.type === 'luks2' && digest?.keyslots.includes(k.id)
  );
  const slot = slots.find((k) => !k.unusable) ?? slots[0];
  if (!digest || !slot) throw fail('CORRUPT', 'LUKS2 metadata has no keyslot for the data segment');
  return { segment, spec: segmentSpec(segment, slot.keySize), keyBytes: slot.keySize };
}

/** The keyslot's KDF as the KDF worker takes it (docs/spec/luks2.md §3 "Keyslot" kdf). */
function kdfOf(ks: Luks2Keyslot): KdfParams {
  const kdf = ks.kdf!;
  if (kdf.type === 'pbkdf2') {
    return { type: 'pbkdf2', hash: parseHashName(kdf.hash), iterations: kdf.iterations };
  }
  if (kdf.type === 'unknown') throw fail('UNSUPPORTED_FEATURE', `KDF ${kdf.name} not supported`);
  return { type: kdf.type, time: kdf.time, memoryKiB: kdf.memoryKiB, parallel: kdf.cpus };
}

/**
 * Tries one usable keyslot (docs/spec/luks2.md §4 step 2): the volume key when the passphrase opens it.
 * The KDF, AF merge and digest check run on the KDF worker.
 */
async function tryLuks2Slot(
  io: HeaderIO,
  vol: Luks2Volume,
  ks: Luks2Keyslot,
  passphrase: Uint8Array
): Promise<Uint8Array | undefined> {
  const digest = vol.meta.digests.find((d) => d.keyslots.includes(ks.id));
  const d = digest?.pbkdf2;
  if (!d || !ks.af || !ks.kdf || ks.kdf.type === 'unknown' || ks.unusable) return undefined;
  const seal = {
    kdf: kdfOf(ks),
    salt: ks.kdf.salt,
    cipher: parseDmCipher(ks.area.encryption!, ks.area.keySize!),
    stripes: ks.af.stripes,
    afHash: parseHashName(ks.af.hash),
  };
  const check = {
    hash: parseHashName(d.hash),
    salt: d.salt,
    iterations: d.iterations,
    digest: d.digest,
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
    if (k.unusable) throw fail('UNSUPPORTED_FEATURE', `Keyslot ${only}: ${k.unusable}`);
    return [k];
  }
  return [...user.filter((k) => k.priority === 2), ...user.filter((k) => k.priority === 1)];
}

/** The volume key of a LUKS2 volume and the keyslot that gave it. */
export interface Luks2Key {
  slot: number;
  masterKey: Uint8Array;
}

/**
 * Recovers the volume key with `passphrase` from any usable keyslot (or only `opts.slot`),
 * optionally only keyslots whose digest covers segment `opts.segment`. WRONG_PASSPHRASE when
 * none opens (naming the keyslots that could not be tried).
 */
export async function unlockLuks2Key(
  io: HeaderIO,
  vol: Luks2Volume,
  passphrase: Uint8Array,
  opts: { slot?: number; segment?: number; keyBytes?: number } = {}
): Promise<Luks2Key> {
  const skipped: string[] = [];
  for (const ks of slotOrder(vol.meta, opts.slot)) {
    if (ks.unusable) {
      skipped.push(`keyslot ${ks.id}: ${ks.unusable}`);
      continue;
    }
    const digest = vol.meta.digests.find((d) => d.keyslots.includes(ks.id));
    if (opts.segment !== undefined && !digest?.segments.includes(opts.segment)) continue;
    if (opts.keyBytes !== undefined && ks.keySize !== opts.keyBytes) continue;
    let mk: Uint8Array | undefined;
    try {
      mk = await tryLuks2Slot(io, vol, ks, passphrase);
    } catch (e) {
      // Too costly to try (core/crypto/kdf-cost.ts): skipped with a warning, unless named.
      if (!isSlowKeyslot(e) || opts.slot !== undefined) throw e;
      skipped.push(reportSkip(ks.id, e));
      continue;
    }
    if (mk) return { slot: ks.id, masterKey: mk };
  }
  const why = skipped.length > 0 ? ` (not tried: ${skipped.join('; ')})` : '';
  throw fail('WRONG_PASSPHRASE', `The passphrase does not open any keyslot${why}`);
}

/**
 * Unlocks an already-read LUKS2 volume for data access (docs/spec/luks2.md §4): requirements and the
 * segment cipher are checked first, then the keyslots of the segment's digest are tried.
 */
export async function unlockLuks2Volume(
  io: HeaderIO,
  vol: Luks2Volume,
  passphrase: Uint8Array,
  opts: { slot?: number } = {}
): Promise<UnlockedLuks> {
  const { segment, spec } = segmentCipher(vol);
  const { slot, masterKey } = await unlockLuks2Key(io, vol, passphrase, {
    slot: opts.slot,
    segment: segment.id,
    keyBytes: spec.keyBytes,
  });
  return makeUnlocked({
    version: 2,
    slot,
    spec,
    masterKey,
    sectorSize: segment.sectorSize,
    payloadOffset: segment.offset,
    ivTweak: segment.ivTweak,
    payloadSize: segment.size,
  });
}

/** Reads and unlocks a LUKS2 volume for data access. */
export async function unlockLuks2(
  io: HeaderIO,
  passphrase: Uint8Array,
  opts: { slot?: number } = {}
): Promise<UnlockedLuks> {
  return unlockLuks2Volume(io, await readLuks2Volume(io), passphrase, opts);
}

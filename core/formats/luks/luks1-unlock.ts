/**
 * LUKS1 header reading and keyslot unlocking (docs/spec/luks1.md §7).
 */
import { fail } from '../../api/errors.js';
import { parseLuksCipher, type CipherSpec } from '../../crypto/cipher-spec.js';
import { parseHashName, type HashName } from '../../crypto/hash.js';
import { deriveKey, unsealKey, type DigestCheck } from '../../crypto/kdf-client.js';
import { isSlowKeyslot, reportSkip } from '../../crypto/kdf-cost.js';
import { constantTimeEqual, wipe } from '../../crypto/secret.js';
import type { HeaderIO } from '../encryption.js';
import { readHeaderBytes } from './header-io.js';
import { materialLength } from './key-material.js';
import {
  LUKS1_DIGEST_SIZE,
  LUKS1_HEADER_SIZE,
  LUKS1_SLOTS,
  LUKS_SECTOR,
  LUKS_STRIPES,
  parseLuks1Header,
  type Luks1Header,
} from './luks1-header.js';
import { makeUnlocked, type UnlockedLuks } from './unlocked.js';

/** A parsed LUKS1 header with its cipher and hash resolved (throws UNSUPPORTED_CIPHER). */
export interface Luks1Volume {
  header: Luks1Header;
  spec: CipherSpec;
  hash: HashName;
}

/** Reads and validates the LUKS1 header of `io` (docs/spec/luks1.md §2–§3). */
export async function readLuks1Header(io: HeaderIO): Promise<Luks1Header> {
  const buf = await readHeaderBytes(io, 0, LUKS1_HEADER_SIZE, 'header');
  return parseLuks1Header(buf, io.length);
}

/** Resolves the cipher spec and hash of a header; unsupported ones throw UNSUPPORTED_CIPHER. */
export function resolveLuks1(header: Luks1Header): Luks1Volume {
  const spec = parseLuksCipher(header.cipherName, header.cipherMode, header.keyBytes);
  const hash = parseHashName(header.hashSpec);
  return { header, spec, hash };
}

export async function readLuks1Volume(io: HeaderIO): Promise<Luks1Volume> {
  return resolveLuks1(await readLuks1Header(io));
}

/** The master-key digest a candidate must match (docs/spec/luks1.md §5). */
function digestCheck(vol: Luks1Volume): DigestCheck {
  const h = vol.header;
  return {
    hash: vol.hash,
    salt: h.mkDigestSalt,
    iterations: h.mkDigestIterations,
    digest: h.mkDigest,
  };
}

/** Checks a candidate master key against the 20-byte PBKDF2 digest (docs/spec/luks1.md §5), off-thread. */
export async function verifyMasterKey(vol: Luks1Volume, candidate: Uint8Array): Promise<boolean> {
  const c = digestCheck(vol);
  const kdf = { type: 'pbkdf2', hash: c.hash, iterations: c.iterations } as const;
  const d = await deriveKey(kdf, candidate, c.salt, LUKS1_DIGEST_SIZE);
  try {
    return constantTimeEqual(d, c.digest);
  } finally {
    wipe(d);
  }
}

/**
 * Tries one active slot; returns the master key or undefined when the passphrase does not open
 * it (docs/spec/luks1.md §7 step 3). The KDF, AF merge and digest check run on the KDF worker.
 */
export async function tryLuks1Slot(
  io: HeaderIO,
  vol: Luks1Volume,
  slotIndex: number,
  passphrase: Uint8Array
): Promise<Uint8Array | undefined> {
  const h = vol.header;
  const slot = h.slots[slotIndex];
  if (!slot || !slot.active) return undefined;
  const material = await readHeaderBytes(
    io,
    slot.keyOffset * LUKS_SECTOR,
    materialLength(h.keyBytes, LUKS_STRIPES),
    `keyslot ${slotIndex} key material`
  );
  try {
    const seal = {
      kdf: { type: 'pbkdf2', hash: vol.hash, iterations: slot.iterations } as const,
      salt: slot.salt,
      cipher: vol.spec,
      stripes: LUKS_STRIPES,
      afHash: vol.hash,
    };
    return await unsealKey(passphrase, seal, material, h.keyBytes, digestCheck(vol));
  } finally {
    wipe(material);
  }
}

/**
 * Finds the slot `passphrase` opens (only `onlySlot` when given). Throws WRONG_PASSPHRASE when
 * none does.
 */
export async function unlockLuks1Volume(
  io: HeaderIO,
  vol: Luks1Volume,
  passphrase: Uint8Array,
  onlySlot?: number
): Promise<{ slot: number; masterKey: Uint8Array }> {
  if (onlySlot !== undefined) {
    if (!Number.isInteger(onlySlot) || onlySlot < 0 || onlySlot >= LUKS1_SLOTS) {
      throw fail('INVALID_ARGUMENT', `Keyslot ${onlySlot} does not exist (LUKS1 has 0..7)`);
    }
    if (!vol.header.slots[onlySlot]!.active) {
      throw fail('KEYSLOT_INACTIVE', `Keyslot ${onlySlot} is not active`);
    }
  }
  const skipped: string[] = [];
  for (let i = 0; i < LUKS1_SLOTS; i++) {
    if (onlySlot !== undefined && i !== onlySlot) continue;
    let mk: Uint8Array | undefined;
    try {
      mk = await tryLuks1Slot(io, vol, i, passphrase);
    } catch (e) {
      // Too costly to try (core/crypto/kdf-cost.ts): skipped with a warning, unless named.
      if (!isSlowKeyslot(e) || onlySlot !== undefined) throw e;
      skipped.push(reportSkip(i, e));
      continue;
    }
    if (mk) return { slot: i, masterKey: mk };
  }
  const why = skipped.length > 0 ? ` (not tried: ${skipped.join('; ')})` : '';
  throw fail('WRONG_PASSPHRASE', `The passphrase does not open any keyslot${why}`);
}

/** Unlocks a LUKS1 volume into an `UnlockedLuks` (payload offset in bytes, 512-byte sectors). */
export async function unlockLuks1(
  io: HeaderIO,
  passphrase: Uint8Array,
  opts: { slot?: number } = {}
): Promise<UnlockedLuks> {
  const vol = await readLuks1Volume(io);
  const { slot, masterKey } = await unlockLuks1Volume(io, vol, passphrase, opts.slot);
  return makeUnlocked({
    version: 1,
    slot,
    spec: vol.spec,
    masterKey,
    sectorSize: LUKS_SECTOR,
    payloadOffset: vol.header.payloadOffset * LUKS_SECTOR,
    ivTweak: 0,
  });
}

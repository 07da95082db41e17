/**
 * Key material sealed as LUKS keyslots seal the volume key (docs/spec/luks1.md §6–§7, docs/spec/luks2.md §4
 * step 2): AF-split into `stripes`, then encrypted in 512-byte units (IV sectors 0, 1, 2… from
 * the area start) with a key derived from the passphrase. Shared by LUKS1 and LUKS2; run on
 * the KDF worker (core/crypto/kdf-jobs.ts), since the AF merge of 4000 stripes alone takes
 * tens of milliseconds.
 */
import { afMerge, afSplit } from './af.js';
import type { CipherSpec } from './cipher-spec.js';
import type { HashName } from './hash.js';
import { createSectorCipher } from './sector-cipher.js';
import { wipe } from './secret.js';

/** The unit key material is encrypted in, whatever the data sector size (docs/spec/luks2.md §4). */
const MATERIAL_SECTOR = 512;

/** Bytes of key material on disk: whole 512-byte sectors (24-byte keys are zero-padded). */
export function materialLength(keyBytes: number, stripes: number): number {
  return Math.ceil((keyBytes * stripes) / MATERIAL_SECTOR) * MATERIAL_SECTOR;
}

/**
 * Decrypts on-disk key material with `slotKey` and AF-merges it into a candidate key of
 * `keyBytes`. `material` is wiped; the result is a fresh buffer the caller wipes.
 */
export function recoverMasterKey(
  spec: CipherSpec,
  slotKey: Uint8Array,
  material: Uint8Array,
  keyBytes: number,
  stripes: number,
  afHash: HashName
): Uint8Array {
  const sc = createSectorCipher(spec, slotKey, MATERIAL_SECTOR);
  try {
    sc.decrypt(material, 0);
    return afMerge(material.subarray(0, keyBytes * stripes), keyBytes, stripes, afHash);
  } finally {
    sc.dispose();
    wipe(material);
  }
}

/** AF-splits `masterKey` and encrypts it with `slotKey`; returns whole sectors to write. */
export function buildKeyMaterial(
  spec: CipherSpec,
  slotKey: Uint8Array,
  masterKey: Uint8Array,
  stripes: number,
  afHash: HashName
): Uint8Array {
  const split = afSplit(masterKey, stripes, afHash);
  const out = new Uint8Array(materialLength(masterKey.length, stripes));
  const sc = createSectorCipher(spec, slotKey, MATERIAL_SECTOR);
  try {
    out.set(split);
    sc.encrypt(out, 0);
    return out;
  } finally {
    sc.dispose();
    wipe(split);
  }
}

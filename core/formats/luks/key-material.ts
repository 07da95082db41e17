/**
 * Keyslot key material: AF split/merge plus sector encryption with the slot key
 * (spec/luks1.md §6–§7, luks2.md §4 step 2). Shared by LUKS1 and LUKS2.
 */
import { afMerge, afSplit } from '../../crypto/af.js';
import type { CipherSpec } from '../../crypto/cipher-spec.js';
import type { HashName } from '../../crypto/hash.js';
import { createSectorCipher } from '../../crypto/sector-cipher.js';
import { wipe } from '../../crypto/secret.js';
import { LUKS_SECTOR } from './luks1-header.js';

/** Bytes of key material on disk: whole 512-byte sectors (24-byte keys are zero-padded). */
export function materialLength(keyBytes: number, stripes: number): number {
  return Math.ceil((keyBytes * stripes) / LUKS_SECTOR) * LUKS_SECTOR;
}

/**
 * Decrypts on-disk key material (IV sectors 0,1,2… from the area start, 512-byte units) and
 * AF-merges it into a candidate master key. `material` is wiped.
 */
export function recoverMasterKey(
  spec: CipherSpec,
  slotKey: Uint8Array,
  material: Uint8Array,
  keyBytes: number,
  stripes: number,
  afHash: HashName
): Uint8Array {
  const sc = createSectorCipher(spec, slotKey, LUKS_SECTOR);
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
  const sc = createSectorCipher(spec, slotKey, LUKS_SECTOR);
  try {
    out.set(split);
    sc.encrypt(out, 0);
    return out;
  } finally {
    sc.dispose();
    wipe(split);
  }
}

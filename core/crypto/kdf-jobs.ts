/**
 * The key-derivation work the KDF worker does (core/crypto/kdf-worker.ts): PBKDF2 (native,
 * `node:crypto` through node-crypto.ts), Argon2 (WebAssembly), and a whole keyslot open or seal
 * in one call — derive the slot key, decrypt and AF-merge the key material, check the digest
 * (docs/spec/luks1.md §7, docs/spec/luks2.md §4) — so the slot key never leaves the worker. Every function
 * here blocks its thread; the main thread calls them through core/crypto/kdf-client.ts.
 */
import { fail } from '../api/errors.js';
import { argon2Wasm, type Argon2Type } from './argon2.js';
import type { CipherSpec } from './cipher-spec.js';
import type { HashName } from './hash.js';
import { pbkdf2 } from './pbkdf2.js';
import { buildKeyMaterial, materialLength, recoverMasterKey } from './sealed-key.js';
import { constantTimeEqual, wipe } from './secret.js';

/** A key-derivation function and its costs, as a LUKS keyslot names them. */
export type KdfParams =
  | { type: 'pbkdf2'; hash: HashName; iterations: number }
  | { type: Argon2Type; time: number; memoryKiB: number; parallel: number };

/** How a keyslot seals its key: KDF + salt for the slot key, area cipher, AF stripes and hash. */
export interface SealParams {
  kdf: KdfParams;
  salt: Uint8Array;
  cipher: CipherSpec;
  stripes: number;
  afHash: HashName;
}

/** The volume-key digest a candidate must match: PBKDF2(hash, key, salt, iterations). */
export interface DigestCheck {
  hash: HashName;
  salt: Uint8Array;
  iterations: number;
  digest: Uint8Array;
}

/** Whether `kdf` is an Argon2 variant (those run on a worker of their own, kdf-client.ts). */
export function isArgon2(kdf: KdfParams): kdf is Extract<KdfParams, { time: number }> {
  return kdf.type !== 'pbkdf2';
}

/** `keyLength` bytes derived from `password` with `kdf` and `salt`; the caller wipes them. */
export function runDerive(
  kdf: KdfParams,
  password: Uint8Array,
  salt: Uint8Array,
  keyLength: number
): Uint8Array {
  if (kdf.type === 'pbkdf2') return pbkdf2(kdf.hash, password, salt, kdf.iterations, keyLength);
  if (isArgon2(kdf)) {
    const { time, memoryKiB, parallel } = kdf;
    return argon2Wasm(kdf.type, password, salt, { time, memoryKiB, parallel }, keyLength);
  }
  throw fail('UNSUPPORTED_FEATURE', 'Unknown key-derivation function');
}

/** Whether `candidate` matches the digest (constant time). */
function digestMatches(candidate: Uint8Array, check: DigestCheck): boolean {
  const d = pbkdf2(check.hash, candidate, check.salt, check.iterations, check.digest.length);
  try {
    return constantTimeEqual(d, check.digest);
  } finally {
    wipe(d);
  }
}

/**
 * Opens sealed key material with `passphrase`: the key of `keyBytes` when its digest matches,
 * else undefined (a wrong passphrase). `material` is wiped.
 */
export function runUnseal(
  passphrase: Uint8Array,
  seal: SealParams,
  material: Uint8Array,
  keyBytes: number,
  check: DigestCheck
): Uint8Array | undefined {
  const slotKey = runDerive(seal.kdf, passphrase, seal.salt, seal.cipher.keyBytes);
  let candidate: Uint8Array;
  try {
    candidate = recoverMasterKey(
      seal.cipher,
      slotKey,
      material,
      keyBytes,
      seal.stripes,
      seal.afHash
    );
  } finally {
    wipe(slotKey);
  }
  if (digestMatches(candidate, check)) return candidate;
  wipe(candidate);
  return undefined;
}

/** Seals `key` for `passphrase`: whole 512-byte sectors of key material to write. */
export function runSeal(passphrase: Uint8Array, seal: SealParams, key: Uint8Array): Uint8Array {
  const slotKey = runDerive(seal.kdf, passphrase, seal.salt, seal.cipher.keyBytes);
  try {
    const out = buildKeyMaterial(seal.cipher, slotKey, key, seal.stripes, seal.afHash);
    if (out.length !== materialLength(key.length, seal.stripes)) {
      throw fail('INTERNAL', 'Key material has the wrong length');
    }
    return out;
  } finally {
    wipe(slotKey);
  }
}

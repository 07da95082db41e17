/**
 * Legacy qcow/qcow2 AES (crypt_method 1): AES-128-CBC, plain64 IVs from the guest sector,
 * key = passphrase truncated or zero-padded to 16 bytes (spec/legacy-aes.md §1).
 */
import type { CipherSpec } from '../crypto/cipher-spec.js';

export const LEGACY_AES_SPEC: CipherSpec = {
  cipherName: 'aes',
  blockMode: 'cbc',
  ivgen: 'plain64',
  keyBytes: 16,
};

/** The 16-byte legacy key; the caller wipes it. */
export function legacyAesKey(passphrase: Uint8Array): Uint8Array {
  const key = new Uint8Array(16);
  key.set(passphrase.subarray(0, 16));
  return key;
}

export const LEGACY_AES_WARNING =
  'This image uses QEMU’s legacy AES encryption, which is insecure (passphrase used as the key, ' +
  'predictable IVs) and refused by QEMU’s emulators. Migrate it to LUKS with `image-vault migrate`.';

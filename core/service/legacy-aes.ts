/** What we tell users about legacy qcow/qcow2 AES (crypt_method 1, docs/spec/legacy-aes.md §5). */
export const LEGACY_AES_WARNING =
  'This image uses QEMU’s legacy AES encryption, which is insecure (passphrase used as the key, ' +
  'predictable IVs) and refused by QEMU’s emulators. Migrate it to LUKS with `image-vault migrate`.';

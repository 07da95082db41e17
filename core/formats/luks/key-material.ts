/**
 * Keyslot key material: AF split/merge plus sector encryption with the slot key
 * (docs/spec/luks1.md §6–§7, docs/spec/luks2.md §4 step 2). The work lives in core/crypto/sealed-key.ts and
 * runs on the KDF worker; these names stay for the LUKS code and its tests.
 */
export { buildKeyMaterial, materialLength, recoverMasterKey } from '../../crypto/sealed-key.js';

/** Public surface of core/crypto (DESIGN.md constraints 2 and 3). */
export { afMerge, afSplit } from './af.js';
export { argon2, argon2Async, type Argon2Params, type Argon2Type } from './argon2.js';
export {
  DEFAULT_USER_CIPHER,
  describeCipher,
  describeCipherMode,
  parseDmCipher,
  parseLuksCipher,
  parseUserCipher,
  type BlockMode,
  type CipherSpec,
  type IvGenName,
} from './cipher-spec.js';
export {
  createCryptoPool,
  poolDataCipher,
  type CryptoPool,
  type CryptoPoolOptions,
} from './crypto-pool.js';
export { digestSize, hash, HASH_NAMES, parseHashName, type HashName } from './hash.js';
export { calibratePbkdf2, MIN_ITERATIONS, pbkdf2 } from './pbkdf2.js';
export type { AesBlockCipher, AesProvider } from './provider.js';
export { nobleProvider } from './provider-noble.js';
export { nodeProvider } from './provider-node.js';
export { randomBytes, randomUuid } from './random.js';
export {
  createLegacyAesCipher,
  createSectorCipher,
  LEGACY_AES_SPEC,
  legacyAesKey,
  SECTOR_SIZES,
} from './sector-cipher.js';
export { constantTimeEqual, copySecret, wipe } from './secret.js';

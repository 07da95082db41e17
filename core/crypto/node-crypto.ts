/**
 * The one door from core to `node:crypto` (docs/DESIGN.md constraint 2; like noble's
 * `cryptoNode.ts`): only what Electron's BoringSSL also has. Every other module of core takes
 * these names from here; ESLint refuses `node:crypto` anywhere else, and
 * node-crypto-policy.test.ts checks the cipher and hash names passed to them.
 */
export {
  createCipheriv,
  createDecipheriv,
  createHash,
  pbkdf2,
  pbkdf2Sync,
  randomFillSync,
  timingSafeEqual,
} from 'node:crypto';
export type { Cipher, Decipher, Hash } from 'node:crypto';

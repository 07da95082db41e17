/** Cryptographically secure random bytes (node:crypto `randomFillSync`, docs/DESIGN.md constraint 2). */
import { randomFillSync } from './node-crypto.js';
import { fail } from '../api/errors.js';

/** Largest single request; larger sizes are a programming error, never a header-driven size. */
const MAX_RANDOM = 64 * 1024 * 1024;

/** `n` fresh random bytes in a newly allocated (non-pooled) buffer. */
export function randomBytes(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_RANDOM) {
    throw fail('INVALID_ARGUMENT', `Cannot generate ${n} random bytes`);
  }
  const out = new Uint8Array(n);
  if (n > 0) randomFillSync(out);
  return out;
}

/** `n` random bytes as lowercase hex (identifiers and tokens, not key material). */
export function randomHex(n: number): string {
  const b = randomBytes(n);
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

/**
 * A random (version 4) UUID in lowercase canonical 36-character form, as written into LUKS
 * headers (docs/spec/luks1.md §8 step 2).
 */
export function randomUuid(): string {
  const b = randomBytes(16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = Buffer.from(b).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Secret buffer hygiene (docs/DESIGN.md "Secrets"): keys live in fresh `Uint8Array`s and are
 * zero-filled when no longer needed; comparisons of secret-derived values run in constant time.
 */
import { timingSafeEqual } from './node-crypto.js';

/** Zero-fills every given buffer (undefined entries are skipped). */
export function wipe(...bufs: (Uint8Array | undefined)[]): void {
  for (const b of bufs) if (b && b.byteLength > 0) b.fill(0);
}

/**
 * Compares two byte strings without an early exit on the first difference (used for the
 * LUKS master-key digest check, docs/spec/luks1.md §7 step 5). Different lengths compare unequal.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

/** Returns a fresh (non-pooled) copy of `src`, for secrets the caller keeps ownership of. */
export function copySecret(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(src.length);
  out.set(src);
  return out;
}

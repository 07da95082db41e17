/** UUIDs for libvirt secrets: random ones (core/crypto/random.ts) and checked user input. */
import { fail } from '../api/errors.js';

export { randomUuid } from '../crypto/random.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Checks and normalises (lower-cases) a UUID given by a user. libvirt itself also accepts
 * UUIDs without dashes, but we only emit the canonical form so that every step and snippet
 * names the secret identically.
 */
export function checkUuid(uuid: string): string {
  const lower = uuid.trim().toLowerCase();
  if (!UUID_RE.test(lower)) {
    throw fail('INVALID_ARGUMENT', 'The libvirt secret UUID must look like 8-4-4-4-12 hex digits');
  }
  return lower;
}

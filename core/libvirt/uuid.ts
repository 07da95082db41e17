/**
 * UUIDs for libvirt secrets. `node:crypto` is limited to a small allow-list in core
 * (DESIGN.md constraint 2), so a version-4 UUID is built from `randomBytes`.
 */
import { randomBytes } from 'node:crypto';
import { fail } from '../api/errors.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A random RFC 9562 version-4 UUID in lower-case canonical form. */
export function randomUuid(): string {
  const b = randomBytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

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

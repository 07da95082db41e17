/**
 * Loopback wire form for bytes, matching core/server/wire.ts: `Uint8Array` ⇄ `{ $b64 }`.
 * SECURITY: base64 text of a passphrase exists only inside the request body string.
 */

/** Replaces every `Uint8Array` (at any depth) by `{ $b64 }` for JSON. */
export function encodeBytes(value: unknown, depth = 0): unknown {
  if (value instanceof Uint8Array) {
    let bin = '';
    for (const b of value) bin += String.fromCharCode(b);
    return { $b64: btoa(bin) };
  }
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => encodeBytes(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v !== undefined) out[k] = encodeBytes(v, depth + 1);
  }
  return out;
}

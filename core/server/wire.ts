/**
 * The loopback server's JSON wire form for bytes: a `Uint8Array` travels as
 * `{ "$b64": "<base64>" }`. The renderer's loopback adapter has its own copy of this codec
 * (the renderer may import only types from core).
 */

/** Replaces every `{ $b64 }` object (at any depth) by freshly allocated bytes. */
export function reviveBytes(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => reviveBytes(v, depth + 1));
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1 && keys[0] === '$b64' && typeof obj.$b64 === 'string') {
    return decodeBase64(obj.$b64);
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = reviveBytes(obj[k], depth + 1);
  return out;
}

/** Decodes base64 into a new `Uint8Array` (never the shared Buffer pool). */
export function decodeBase64(text: string): Uint8Array {
  // SECURITY: Buffer.from(string) may use the shared pool; write into a fresh buffer instead.
  const tmp = Buffer.alloc(Math.ceil((text.length * 3) / 4));
  try {
    const n = tmp.write(text, 'base64');
    const out = new Uint8Array(n);
    out.set(tmp.subarray(0, n));
    return out;
  } finally {
    tmp.fill(0);
  }
}

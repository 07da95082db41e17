/**
 * The byte codec of JSON transports (the loopback server and its renderer adapter): a
 * `Uint8Array` travels as `{ "$b64": "<base64>" }`. Written by hand so that one codec runs in
 * Node and in the page, and decoded bytes land in a fresh array, never in Node's shared
 * `Buffer` pool (docs/DESIGN.md, "Secrets").
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const VALUE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

/** Deepest nesting the codec walks (requests are shallow; this bounds hostile input). */
const MAX_DEPTH = 8;

/** Standard base64 (RFC 4648 §4, with padding) of `bytes`. */
export function encodeBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i] as number;
    const b = i + 1 < bytes.length ? (bytes[i + 1] as number) : 0;
    const c = i + 2 < bytes.length ? (bytes[i + 2] as number) : 0;
    out += ALPHABET[a >> 2];
    out += ALPHABET[((a & 3) << 4) | (b >> 4)];
    out += i + 1 < bytes.length ? ALPHABET[((b & 15) << 2) | (c >> 6)] : '=';
    out += i + 2 < bytes.length ? ALPHABET[c & 63] : '=';
  }
  return out;
}

/** Decodes standard base64 into a new `Uint8Array`; null when `text` is not valid base64. */
export function decodeBase64(text: string): Uint8Array | null {
  if (text.length % 4 !== 0) return null;
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    let quad = 0;
    for (let k = 0; k < 4; k++) {
      const ch = text.charCodeAt(i + k);
      const last = i + 4 === text.length;
      const v = ch === 61 && last && k >= 4 - pad ? 0 : ch < 128 ? (VALUE[ch] as number) : -1;
      if (v < 0) {
        out.fill(0);
        return null;
      }
      quad = (quad << 6) | v;
    }
    if (o < out.length) out[o++] = (quad >> 16) & 255;
    if (o < out.length) out[o++] = (quad >> 8) & 255;
    if (o < out.length) out[o++] = quad & 255;
  }
  return out;
}

/**
 * Replaces every `Uint8Array` (at any depth) by `{ $b64 }` for JSON. `undefined` fields and
 * trailing `undefined` array items are dropped (JSON would turn the latter into `null`, which
 * an optional argument's schema refuses).
 */
export function encodeBytes(value: unknown, depth = 0): unknown {
  if (value instanceof Uint8Array) return { $b64: encodeBase64(value) };
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let end = value.length;
    while (end > 0 && value[end - 1] === undefined) end--;
    return value.slice(0, end).map((v) => encodeBytes(v, depth + 1));
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v !== undefined) out[k] = encodeBytes(v, depth + 1);
  }
  return out;
}

/**
 * Replaces every `{ $b64 }` object (at any depth) by freshly allocated bytes. An invalid
 * base64 text is left as it is, so the request's schema refuses it by name.
 */
export function reviveBytes(value: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => reviveBytes(v, depth + 1));
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1 && keys[0] === '$b64' && typeof obj.$b64 === 'string') {
    return decodeBase64(obj.$b64) ?? value;
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = reviveBytes(obj[k], depth + 1);
  return out;
}

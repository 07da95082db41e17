/**
 * Typed access to untrusted LUKS2 JSON (docs/spec/luks2.md §3): every helper names the field it
 * refuses, so a hostile header is refused for the defect it actually has. The rules follow
 * cryptsetup's validation (64-bit numbers are decimal strings of digits only, ≤ 2^64 − 1;
 * 32-bit fields are JSON integers; ids are decimal strings).
 */
import { fail } from '../../api/errors.js';

export type Obj = Record<string, unknown>;

/** Throws the CORRUPT error every LUKS2 metadata defect is reported with. */
export function bad(what: string): never {
  throw fail('CORRUPT', `LUKS2 metadata: ${what}`);
}

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `o[k]` as an object (`what` names the parent in messages). */
export function objField(o: Obj, k: string, what: string): Obj {
  const v = o[k];
  if (!isObj(v)) bad(`${what}.${k} is missing or not an object`);
  return v;
}

/** `o[k]` as a non-empty string. */
export function strField(o: Obj, k: string, what: string): string {
  const v = o[k];
  if (typeof v !== 'string' || v.length === 0) bad(`${what}.${k} is missing or not a string`);
  return v;
}

/** `o[k]` as a JSON integer in [min, max] (cryptsetup's uint32 fields). */
export function intField(o: Obj, k: string, what: string, min = 0, max = 0xffffffff): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isInteger(v))
    bad(`${what}.${k} is missing or not an integer`);
  if (v < min || v > max) bad(`${what}.${k} (${v}) is out of range`);
  return v;
}

const U64_MAX = (1n << 64n) - 1n;

/** A decimal string of digits only within uint64 (no sign, no spaces), as cryptsetup parses. */
export function parseU64(v: string, what: string): bigint {
  if (!/^[0-9]+$/.test(v)) bad(`${what} ("${shown(v)}") is not an unsigned decimal number`);
  const n = BigInt(v);
  if (n > U64_MAX) bad(`${what} (${shown(v)}) does not fit in 64 bits`);
  return n;
}

/** `o[k]`: a 64-bit quantity stored as a decimal string (docs/spec/luks2.md §3). */
export function u64Field(o: Obj, k: string, what: string): bigint {
  const v = o[k];
  if (typeof v !== 'string' || v.length === 0) bad(`${what}.${k} is missing or not a string`);
  return parseU64(v, `${what}.${k}`);
}

/** A bigint as a JS number, saturating (values past 2^53 lie beyond any device anyway). */
export function toNumber(n: bigint): number {
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
}

/** Printable, bounded form of untrusted text for messages. */
export function shown(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 40);
}

/** A base64 field decoded; refuses bad alphabets and anything above `maxBytes`. */
export function b64Field(o: Obj, k: string, what: string, maxBytes: number): Uint8Array {
  const v = strField(o, k, what);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 === 1) {
    bad(`${what}.${k} is not valid base64`);
  }
  if (v.length > Math.ceil(maxBytes / 3) * 4) bad(`${what}.${k} is too long`);
  return new Uint8Array(Buffer.from(v, 'base64'));
}

/** An object key that must be a decimal id ("0", "1", …). */
export function idOf(k: string, what: string): number {
  if (!/^[0-9]+$/.test(k)) bad(`${what} id "${shown(k)}" is not a number`);
  const n = Number(k);
  if (!Number.isSafeInteger(n)) bad(`${what} id "${shown(k)}" is too large`);
  return n;
}

/** `o[k]`: an array of id strings, each naming a member of `existing` (`target` names it). */
export function idListField(
  o: Obj,
  k: string,
  what: string,
  existing: Obj,
  target: string
): number[] {
  const v = o[k];
  if (!Array.isArray(v)) bad(`${what}.${k} is missing or not a list`);
  return v.map((x: unknown) => {
    if (typeof x !== 'string') bad(`${what}.${k} holds a non-string id`);
    if (!isObj(existing[x])) bad(`${what} references ${target} ${shown(x)}, which does not exist`);
    return idOf(x, target);
  });
}

/** An optional list of strings (`flags`, `requirements.mandatory`). */
export function stringListField(o: Obj, k: string, what: string): string[] {
  const v = o[k];
  if (v === undefined) return [];
  if (!Array.isArray(v)) bad(`${what}.${k} is not a list`);
  return v.map((x: unknown) =>
    typeof x === 'string' ? x : bad(`${what}.${k} holds a non-string`)
  );
}

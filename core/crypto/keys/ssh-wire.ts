/**
 * The SSH wire encoding (RFC 4251 §5: uint32, string, mpint) used by public key blobs,
 * OpenSSH private keys (PROTOCOL.key) and SSHSIG signatures (PROTOCOL.sshsig). Readers are
 * bounds-checked: a hostile length gives `CORRUPT`, never an allocation or a read past the end.
 */
import { fail } from '../../api/errors.js';

/** Reads SSH wire values from a byte string; `what` names the structure in errors. */
export class WireReader {
  private pos = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly what: string
  ) {}

  /** A big-endian uint32 (RFC 4251 §5). */
  u32(): number {
    if (this.pos + 4 > this.buf.length) throw fail('CORRUPT', `${this.what} is truncated`);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }

  /** A length-prefixed byte string (a view into the buffer, not a copy). */
  bytes(): Uint8Array {
    const n = this.u32();
    if (n > this.buf.length - this.pos) throw fail('CORRUPT', `${this.what} is truncated`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A length-prefixed string decoded as UTF-8. */
  string(): string {
    return new TextDecoder().decode(this.bytes());
  }

  /** An mpint: two's complement, big-endian; only non-negative values are accepted here. */
  mpint(): bigint {
    const b = this.bytes();
    if (b.length > 0 && (b[0]! & 0x80) !== 0) throw fail('CORRUPT', `${this.what}: negative mpint`);
    return bytesToBigint(b);
  }

  /** `n` raw bytes (no length prefix). */
  raw(n: number): Uint8Array {
    if (n > this.buf.length - this.pos) throw fail('CORRUPT', `${this.what} is truncated`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Bytes not read yet. */
  remaining(): number {
    return this.buf.length - this.pos;
  }
}

/** Concatenates byte strings. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A big-endian uint32. */
export function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0);
  return out;
}

/** A length-prefixed string (bytes or UTF-8 text). */
export function wireString(v: Uint8Array | string): Uint8Array {
  const b = typeof v === 'string' ? new TextEncoder().encode(v) : v;
  return concatBytes(u32(b.length), b);
}

/** An mpint for a non-negative integer (a leading zero byte when the top bit is set). */
export function wireMpint(v: bigint): Uint8Array {
  if (v === 0n) return u32(0);
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let b: Uint8Array = Uint8Array.from(Buffer.from(hex, 'hex'));
  if ((b[0]! & 0x80) !== 0) b = concatBytes(new Uint8Array(1), b);
  return wireString(b);
}

/** Big-endian unsigned bytes → bigint. */
export function bytesToBigint(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b).toString('hex')}`);
}

/** bigint → big-endian unsigned bytes of exactly `len` bytes. */
export function bigintToBytes(v: bigint, len: number): Uint8Array {
  const hex = v.toString(16).padStart(len * 2, '0');
  if (hex.length > len * 2) throw fail('INTERNAL', 'integer does not fit');
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** Byte-wise equality (public values only: not constant time). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Anti-forensic information splitter (docs/spec/luks1.md §6; LUKS2 keyslots with `af.type` luks1
 * use the same algorithm, docs/spec/luks2.md §3).
 */
import { fail } from '../api/errors.js';
import { digestSize, messageHasher, type HashName, type MessageHasher } from './hash.js';
import { randomBytes } from './random.js';
import { wipe } from './secret.js';

/** Generous bounds: LUKS keys are ≤ 64 bytes and stripes are 4000 in practice. */
const MAX_KEY_BYTES = 1024;
const MAX_STRIPES = 65536;

function checkSizes(keyLength: number, stripes: number): void {
  if (!Number.isSafeInteger(keyLength) || keyLength < 1 || keyLength > MAX_KEY_BYTES) {
    throw fail('CORRUPT', `Key length ${keyLength} is out of range`);
  }
  if (!Number.isSafeInteger(stripes) || stripes < 1 || stripes > MAX_STRIPES) {
    throw fail('CORRUPT', `Anti-forensic stripe count ${stripes} is out of range`);
  }
}

/**
 * Diffuses in place: each digest-sized block j becomes `H(BE32(j) ‖ block)`; a final partial
 * block of r bytes is hashed over only those r bytes and the digest truncated to r
 * (docs/spec/luks1.md §6, "easy to get wrong" #5). One `Diffuser` serves a whole split or merge,
 * so the thousands of hashes allocate nothing; `dispose` zero-fills what held key material.
 */
class Diffuser {
  private readonly d: number;
  private readonly hasher: MessageHasher;
  /** The message `BE32(j) ‖ block` and its digest, reused for every block. */
  private readonly msg: Uint8Array;
  private readonly digest: Uint8Array;

  constructor(h: HashName) {
    this.d = digestSize(h);
    this.msg = new Uint8Array(4 + this.d);
    this.digest = new Uint8Array(this.d);
    this.hasher = messageHasher(h);
  }

  diffuse(buf: Uint8Array): void {
    const { d, msg, digest, hasher } = this;
    for (let j = 0, off = 0; off < buf.length; j++, off += d) {
      const r = Math.min(d, buf.length - off);
      msg[0] = j >>> 24;
      msg[1] = (j >>> 16) & 0xff;
      msg[2] = (j >>> 8) & 0xff;
      msg[3] = j & 0xff;
      for (let i = 0; i < r; i++) msg[4 + i] = buf[off + i] as number;
      hasher.digestInto(r === d ? msg : msg.subarray(0, 4 + r), digest);
      for (let i = 0; i < r; i++) buf[off + i] = digest[i] as number;
    }
  }

  dispose(): void {
    this.hasher.dispose();
    wipe(this.msg, this.digest);
  }
}

function xorInto(dst: Uint8Array, src: Uint8Array, srcOffset: number): void {
  for (let i = 0; i < dst.length; i++) dst[i] = (dst[i] as number) ^ (src[srcOffset + i] as number);
}

/**
 * Splits `key` into `key.length × stripes` bytes: stripes 0..S−2 random, the last one
 * `D ⊕ key` where D is the merge accumulator over the random stripes.
 */
export function afSplit(key: Uint8Array, stripes: number, h: HashName): Uint8Array {
  const n = key.length;
  checkSizes(n, stripes);
  const out = new Uint8Array(n * stripes);
  const d = new Uint8Array(n);
  const diffuser = new Diffuser(h);
  try {
    for (let i = 0; i < stripes - 1; i++) {
      const r = randomBytes(n);
      out.set(r, i * n);
      wipe(r);
      xorInto(d, out, i * n);
      diffuser.diffuse(d);
    }
    const last = out.subarray((stripes - 1) * n);
    for (let i = 0; i < n; i++) last[i] = (d[i] as number) ^ (key[i] as number);
    return out;
  } finally {
    diffuser.dispose();
    wipe(d);
  }
}

/**
 * Recovers the key from split material (first `keyLength × stripes` bytes of `material`;
 * trailing sector padding is ignored). The result is a fresh buffer the caller wipes.
 */
export function afMerge(
  material: Uint8Array,
  keyLength: number,
  stripes: number,
  h: HashName
): Uint8Array {
  checkSizes(keyLength, stripes);
  if (material.length < keyLength * stripes) {
    throw fail('TRUNCATED', 'Key material is shorter than key size × stripes');
  }
  const d = new Uint8Array(keyLength);
  const diffuser = new Diffuser(h);
  try {
    for (let i = 0; i < stripes - 1; i++) {
      xorInto(d, material, i * keyLength);
      diffuser.diffuse(d);
    }
    xorInto(d, material, (stripes - 1) * keyLength);
    return d;
  } catch (e) {
    wipe(d);
    throw e;
  } finally {
    diffuser.dispose();
  }
}

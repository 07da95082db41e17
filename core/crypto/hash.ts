/**
 * The hash functions LUKS headers name (docs/spec/luks1.md §4 "Hash names", docs/spec/luks2.md §3).
 *
 * sha1/sha256/sha512 go through `node:crypto` (available in Electron's BoringSSL too);
 * sha224/sha384/ripemd160 come from @noble/hashes (docs/DESIGN.md constraint 2). `messageHasher`
 * is the exception for long runs of tiny messages (the AF diffusion), see there.
 */
import { createHash, type Hash } from './node-crypto.js';
import { ripemd160, sha1 as nobleSha1 } from '@noble/hashes/legacy.js';
import {
  sha224,
  sha256 as nobleSha256,
  sha384,
  sha512 as nobleSha512,
} from '@noble/hashes/sha2.js';
import type { CHash } from '@noble/hashes/utils.js';
import { fail } from '../api/errors.js';

/** Every hash name we accept, spelled as in LUKS headers (lowercase). */
export const HASH_NAMES = ['sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'ripemd160'] as const;
export type HashName = (typeof HASH_NAMES)[number];

const DIGEST_SIZES: Record<HashName, number> = {
  sha1: 20,
  sha224: 28,
  sha256: 32,
  sha384: 48,
  sha512: 64,
  ripemd160: 20,
};

/**
 * Parses a header hash spec. Only the exact lowercase names are accepted (cryptsetup writes
 * them lowercase); anything else — md5, whirlpool, sha3, "SHA256" — is `UNSUPPORTED_CIPHER`.
 */
export function parseHashName(s: string): HashName {
  if ((HASH_NAMES as readonly string[]).includes(s)) return s as HashName;
  const shown = s.replace(/[^\x20-\x7e]/g, '?').slice(0, 40);
  throw fail('UNSUPPORTED_CIPHER', `Hash ${shown || '(empty)'} is not supported`);
}

/** Output length in bytes. */
export function digestSize(h: HashName): number {
  return DIGEST_SIZES[h];
}

/** A `node:crypto` hash object for the three names the docs/DESIGN.md list allows, else undefined. */
export function nodeHash(h: HashName): Hash | undefined {
  switch (h) {
    case 'sha1':
      return createHash('sha1');
    case 'sha256':
      return createHash('sha256');
    case 'sha512':
      return createHash('sha512');
    default:
      return undefined;
  }
}

/** The @noble/hashes implementation of `h` (also used to cross-test the native path). */
export function nobleHash(h: HashName): CHash {
  switch (h) {
    case 'sha1':
      return nobleSha1;
    case 'sha224':
      return sha224;
    case 'sha256':
      return nobleSha256;
    case 'sha384':
      return sha384;
    case 'sha512':
      return nobleSha512;
    case 'ripemd160':
      return ripemd160;
  }
}

/** Hash of the concatenation of `parts`, in a fresh buffer the caller may wipe. */
export function hash(h: HashName, ...parts: Uint8Array[]): Uint8Array {
  const n = nodeHash(h);
  if (n) {
    for (const p of parts) n.update(p);
    const d = n.digest();
    const out = new Uint8Array(d.length);
    out.set(d);
    d.fill(0);
    return out;
  }
  const x = nobleHash(h).create();
  for (const p of parts) x.update(p);
  return x.digest();
}

/** Hashes many short messages one after another (see `messageHasher`). */
export interface MessageHasher {
  /** Writes `H(msg)` to `out[0..digestSize)`; `out` must hold at least `digestSize(h)` bytes. */
  digestInto(msg: Uint8Array, out: Uint8Array): void;
  /** Zero-fills the internal state; the hasher must not be used afterwards. */
  dispose(): void;
}

/**
 * A hasher for thousands of short messages in a row, as the AF diffusion needs (~8000 per
 * keyslot, docs/spec/luks1.md §6). A `node:crypto` hash object costs 1–3 µs to create, update and
 * digest however short the message, so for the 32-bit-word hashes one reused @noble/hashes
 * instance is faster: each message starts from a pristine copy (`_cloneInto`, no new hasher
 * or buffer) and digests into the caller's buffer. sha512 stays native: its 64-bit arithmetic
 * in JS is no faster warm and slower cold (measured on an AF merge of a 64-byte key, 4000
 * stripes). Call `dispose` in a `finally`: the noble state holds the last message and digest.
 */
export function messageHasher(h: HashName): MessageHasher {
  if (h === 'sha512') {
    return {
      digestInto(msg, out) {
        const x = createHash('sha512');
        x.update(msg);
        const d = x.digest();
        out.set(d);
        d.fill(0);
      },
      dispose() {},
    };
  }
  const c = nobleHash(h);
  const pristine = c.create();
  const work = c.create();
  return {
    digestInto(msg, out) {
      pristine._cloneInto(work);
      work.update(msg);
      work.digestInto(out);
    },
    dispose() {
      work.destroy();
      pristine.destroy();
    },
  };
}

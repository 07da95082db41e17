/**
 * IV generators (docs/spec/luks1.md §4 "IV generators"): one 16-byte IV per encryption unit,
 * computed from the unit's 512-byte sector number.
 */
import type { CipherSpec } from './cipher-spec.js';
import { hash } from './hash.js';
import type { AesBlockCipher, AesProvider } from './provider.js';
import { wipe } from './secret.js';

const TWO32 = 4294967296;

export interface IvGenerator {
  /**
   * Writes `count` IVs into `ivs` (16 bytes each): IV k is for sector `first + k * step`.
   * Sector numbers must be safe integers.
   */
  fill(ivs: Uint8Array, first: number, count: number, step: number): void;
  dispose(): void;
}

/** Whether this machine stores integers little-endian (typed-array fast paths rely on it). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function writeLe64(ivs: Uint8Array, first: number, count: number, step: number): void {
  if (LITTLE_ENDIAN && ivs.byteOffset % 4 === 0) {
    // Hot path (every sector of bulk I/O): whole 32-bit words, no per-IV fill() call.
    const w = new Uint32Array(ivs.buffer, ivs.byteOffset, count * 4);
    for (let k = 0, o = 0; k < count; k++, o += 4) {
      const s = first + k * step;
      const lo = s % TWO32;
      w[o] = lo;
      w[o + 1] = (s - lo) / TWO32;
      w[o + 2] = 0;
      w[o + 3] = 0;
    }
    return;
  }
  for (let k = 0, o = 0; k < count; k++, o += 16) {
    const s = first + k * step;
    const lo = s % TWO32;
    const hi = (s - lo) / TWO32;
    ivs[o] = lo & 0xff;
    ivs[o + 1] = (lo >>> 8) & 0xff;
    ivs[o + 2] = (lo >>> 16) & 0xff;
    ivs[o + 3] = (lo >>> 24) & 0xff;
    ivs[o + 4] = hi & 0xff;
    ivs[o + 5] = (hi >>> 8) & 0xff;
    ivs[o + 6] = (hi >>> 16) & 0xff;
    ivs[o + 7] = (hi >>> 24) & 0xff;
    ivs.fill(0, o + 8, o + 16);
  }
}

/** `plain`: little-endian low 32 bits of the sector, rest zero (wraps at 2^32). */
const plain: IvGenerator = {
  fill(ivs, first, count, step) {
    writeLe64(ivs, first, count, step);
    for (let o = 0; o < count * 16; o += 16) ivs.fill(0, o + 4, o + 8);
  },
  dispose() {},
};

/** `plain64`: little-endian 64-bit sector, rest zero. */
const plain64: IvGenerator = { fill: writeLe64, dispose() {} };

/** `plain64be`: zeros, then the big-endian 64-bit sector in the last 8 bytes. */
const plain64be: IvGenerator = {
  fill(ivs, first, count, step) {
    for (let k = 0, o = 0; k < count; k++, o += 16) {
      const s = first + k * step;
      const lo = s % TWO32;
      const hi = (s - lo) / TWO32;
      ivs.fill(0, o, o + 8);
      ivs[o + 8] = (hi >>> 24) & 0xff;
      ivs[o + 9] = (hi >>> 16) & 0xff;
      ivs[o + 10] = (hi >>> 8) & 0xff;
      ivs[o + 11] = hi & 0xff;
      ivs[o + 12] = (lo >>> 24) & 0xff;
      ivs[o + 13] = (lo >>> 16) & 0xff;
      ivs[o + 14] = (lo >>> 8) & 0xff;
      ivs[o + 15] = lo & 0xff;
    }
  },
  dispose() {},
};

/** `null` / ECB: all-zero IVs. */
const none: IvGenerator = {
  fill(ivs, _first, count) {
    ivs.fill(0, 0, count * 16);
  },
  dispose() {},
};

/**
 * `essiv:<hash>`: IV = AES-ECB_s(LE64(sector) ‖ 0⁸) with s = hash(whole key) used as an AES
 * key of the digest's size (sha256 → AES-256 even for AES-128 data keys; for XTS both halves
 * are hashed) — docs/spec/luks1.md §4, "easy to get wrong" #6. All IVs of a buffer in one ECB call.
 */
function essiv(spec: CipherSpec, key: Uint8Array, provider: AesProvider): IvGenerator {
  const salt = hash(spec.ivgenHash ?? 'sha256', key);
  let cipher: AesBlockCipher;
  try {
    cipher = provider.create(salt);
  } finally {
    wipe(salt);
  }
  return {
    fill(ivs, first, count, step) {
      writeLe64(ivs, first, count, step);
      const n = count * 16;
      ivs.set(cipher.encryptBlocks(ivs.subarray(0, n)));
    },
    dispose() {
      cipher.dispose();
    },
  };
}

/** The IV generator of `spec`, keyed with the full data key where it needs one (ESSIV). */
export function createIvGenerator(
  spec: CipherSpec,
  key: Uint8Array,
  provider: AesProvider
): IvGenerator {
  switch (spec.ivgen) {
    case 'plain':
      return plain;
    case 'plain64':
      return plain64;
    case 'plain64be':
      return plain64be;
    case 'none':
      return none;
    case 'essiv':
      return essiv(spec, key, provider);
  }
}

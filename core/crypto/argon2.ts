/**
 * Argon2i / Argon2id for LUKS2 keyslots (spec/luks2.md §3 "Keyslot" kdf, §4 step 2.1):
 * version 0x13, no secret or associated data, `memory` in KiB, lanes = `cpus`.
 * Implemented by @noble/hashes (Electron's BoringSSL has no Argon2, DESIGN.md constraint 2).
 */
import { totalmem } from 'node:os';
import { argon2i, argon2iAsync, argon2id, argon2idAsync } from '@noble/hashes/argon2.js';
import { fail } from '../api/errors.js';

export type Argon2Type = 'argon2i' | 'argon2id';

/** Cost parameters as stored in a LUKS2 keyslot `kdf` object. */
export interface Argon2Params {
  /** Passes (`time`). */
  time: number;
  /** Memory in KiB (`memory`). */
  memoryKiB: number;
  /** Lanes (`cpus`). */
  parallel: number;
}

/** cryptsetup's upper limit for Argon2 memory: 4 GiB (spec/luks2.md §6). */
const MAX_MEMORY_KIB = 4 * 1024 * 1024;
const MAX_TIME = 1_000_000;
const MAX_PARALLEL = 16;

function options(p: Argon2Params, keyLength: number) {
  const { time, memoryKiB, parallel } = p;
  if (!Number.isSafeInteger(time) || time < 1 || time > MAX_TIME) {
    throw fail('UNSUPPORTED_FEATURE', `Argon2 time cost ${time} is out of range`);
  }
  if (!Number.isSafeInteger(parallel) || parallel < 1 || parallel > MAX_PARALLEL) {
    throw fail('UNSUPPORTED_FEATURE', `Argon2 parallelism ${parallel} is out of range`);
  }
  if (!Number.isSafeInteger(memoryKiB) || memoryKiB < 8 * parallel || memoryKiB > MAX_MEMORY_KIB) {
    throw fail('UNSUPPORTED_FEATURE', `Argon2 memory cost ${memoryKiB} KiB is out of range`);
  }
  const bytes = memoryKiB * 1024;
  if (bytes > totalmem()) {
    throw fail(
      'UNSUPPORTED_FEATURE',
      `Argon2 needs ${Math.ceil(bytes / 1048576)} MiB of memory, more than this machine has`
    );
  }
  if (!Number.isSafeInteger(keyLength) || keyLength < 4 || keyLength > 1024) {
    throw fail('INVALID_ARGUMENT', `Argon2 output length ${keyLength} is out of range`);
  }
  return {
    t: time,
    m: memoryKiB,
    p: parallel,
    dkLen: keyLength,
    version: 0x13,
    maxmem: bytes + 1024 * 1024,
  };
}

/** Argon2(password, salt) → `keyLength` bytes, blocking the calling thread. */
export function argon2(
  type: Argon2Type,
  password: Uint8Array,
  salt: Uint8Array,
  p: Argon2Params,
  keyLength: number
): Uint8Array {
  const opts = options(p, keyLength);
  return type === 'argon2id' ? argon2id(password, salt, opts) : argon2i(password, salt, opts);
}

/**
 * Same as {@link argon2} but yields to the event loop periodically (noble's async variant),
 * so a UI or server stays responsive during a multi-second derivation.
 */
export async function argon2Async(
  type: Argon2Type,
  password: Uint8Array,
  salt: Uint8Array,
  p: Argon2Params,
  keyLength: number,
  onProgress?: (fraction: number) => void
): Promise<Uint8Array> {
  const opts = { ...options(p, keyLength), ...(onProgress ? { onProgress } : {}) };
  return type === 'argon2id'
    ? argon2idAsync(password, salt, opts)
    : argon2iAsync(password, salt, opts);
}

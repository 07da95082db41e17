/**
 * KDF parameters for new LUKS2 keyslots (docs/spec/luks2.md §6), chosen as `cryptsetup luksFormat`
 * and `luksAddKey` choose them: argon2id by default (argon2i and pbkdf2 on request), costs
 * benchmarked for an unlock time (2000 ms) with memory up to 1 GiB bounded by half the
 * machine's RAM and up to 4 lanes bounded by its CPUs, or forced (`--pbkdf-force-iterations`,
 * `--pbkdf-memory`, `--pbkdf-parallel`) within cryptsetup's limits.
 */
import { availableParallelism } from 'node:os';
import { fail } from '../../api/errors.js';
import {
  ARGON2_MIN_TIME,
  argon2MemoryLimitKiB as machineLimitKiB,
} from '../../crypto/argon2-calibrate.js';
import { parseHashName, type HashName } from '../../crypto/hash.js';
import { calibrateArgon2Costs, type KdfParams } from '../../crypto/kdf-client.js';
import { randomBytes } from '../../crypto/random.js';
import { slotIterations } from './luks1-format.js';
import type { Luks2Kdf } from './luks2-metadata.js';

export type Luks2KdfType = 'pbkdf2' | 'argon2i' | 'argon2id';

/** How to pick a new keyslot's KDF (all optional; defaults as cryptsetup 2.6). */
export interface Luks2KdfOptions {
  /** KDF type; default argon2id (for added keyslots: the type of the keyslot that unlocked). */
  pbkdf?: Luks2KdfType;
  /** PBKDF2 hash (default sha256). */
  hash?: string;
  /** Unlock time to benchmark for, ms (default 2000). */
  iterTimeMs?: number;
  /** Forced cost: PBKDF2 iterations, or Argon2 passes (cryptsetup --pbkdf-force-iterations). */
  iterations?: number;
  /** Argon2 memory in KiB: the limit when benchmarking, the exact cost when forced. */
  memoryKiB?: number;
  /** Argon2 lanes (default min(4, CPUs)). */
  parallel?: number;
}

/** cryptsetup's default Argon2 memory limit (1 GiB), its limits, and its lanes. */
const DEFAULT_MAX_MEMORY_KIB = 1024 * 1024;
const ARGON2_MIN_MEMORY_KIB = 32;
const ARGON2_MAX_MEMORY_KIB = 4 * 1024 * 1024;
const ARGON2_MAX_PARALLEL = 4;
const DEFAULT_ITER_TIME_MS = 2000;

/** Memory for forced costs: the request (or 1 GiB), never above what the machine can spare. */
export function argon2MemoryLimitKiB(requested?: number): number {
  return Math.max(
    ARGON2_MIN_MEMORY_KIB,
    Math.min(requested ?? DEFAULT_MAX_MEMORY_KIB, machineLimitKiB())
  );
}

function checkArgon2Options(o: Luks2KdfOptions): number {
  const parallel = o.parallel ?? Math.min(ARGON2_MAX_PARALLEL, availableParallelism());
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > ARGON2_MAX_PARALLEL) {
    throw fail('INVALID_ARGUMENT', `Argon2 parallel lanes must be 1..${ARGON2_MAX_PARALLEL}`);
  }
  const m = o.memoryKiB;
  if (
    m !== undefined &&
    (!Number.isInteger(m) || m < ARGON2_MIN_MEMORY_KIB || m > ARGON2_MAX_MEMORY_KIB)
  ) {
    throw fail(
      'INVALID_ARGUMENT',
      `Argon2 memory must be ${ARGON2_MIN_MEMORY_KIB}..${ARGON2_MAX_MEMORY_KIB} KiB`
    );
  }
  if (m !== undefined && m < 8 * parallel) {
    throw fail('INVALID_ARGUMENT', `Argon2 memory must be at least 8 KiB per lane`);
  }
  return parallel;
}

/**
 * KDF parameters (with a fresh 32-byte salt) for a keyslot whose area key is `keyLength`
 * bytes: forced when `opts.iterations` is set, benchmarked otherwise.
 */
export async function chooseLuks2Kdf(
  type: Luks2KdfType,
  keyLength: number,
  opts: Luks2KdfOptions
): Promise<Exclude<Luks2Kdf, { type: 'unknown' }>> {
  const salt = randomBytes(32);
  if (type === 'pbkdf2') {
    const hash: HashName = parseHashName(opts.hash ?? 'sha256');
    const iterations = await slotIterations(hash, keyLength, opts);
    return { type, hash, iterations, salt };
  }
  const parallel = checkArgon2Options(opts);
  if (opts.iterations !== undefined) {
    if (!Number.isInteger(opts.iterations) || opts.iterations < ARGON2_MIN_TIME) {
      throw fail('INVALID_ARGUMENT', `Argon2 needs at least ${ARGON2_MIN_TIME} iterations`);
    }
    if (opts.iterations > 1000) throw fail('INVALID_ARGUMENT', 'Argon2 iterations above 1000');
    const memoryKiB = argon2MemoryLimitKiB(opts.memoryKiB);
    return { type, time: opts.iterations, memoryKiB, cpus: parallel, salt };
  }
  const ms = opts.iterTimeMs ?? DEFAULT_ITER_TIME_MS;
  if (!(ms > 0) || ms > 600_000)
    throw fail('INVALID_ARGUMENT', 'Iteration time must be 1..600000 ms');
  const cost = await calibrateArgon2Costs({
    type,
    iterTimeMs: ms,
    keyLength,
    maxMemoryKiB: opts.memoryKiB ?? DEFAULT_MAX_MEMORY_KIB,
    parallel,
  });
  return { type, time: cost.time, memoryKiB: cost.memoryKiB, cpus: cost.parallel, salt };
}

/** A keyslot KDF as the KDF worker takes it. */
export function kdfParams(kdf: Exclude<Luks2Kdf, { type: 'unknown' }>): KdfParams {
  if (kdf.type === 'pbkdf2') {
    return { type: 'pbkdf2', hash: parseHashName(kdf.hash), iterations: kdf.iterations };
  }
  return { type: kdf.type, time: kdf.time, memoryKiB: kdf.memoryKiB, parallel: kdf.cpus };
}

/** The keyslot `kdf` JSON object as cryptsetup writes it (docs/spec/luks2.md §3). */
export function kdfJson(kdf: Exclude<Luks2Kdf, { type: 'unknown' }>): Record<string, unknown> {
  const salt = Buffer.from(kdf.salt).toString('base64');
  if (kdf.type === 'pbkdf2') {
    return { type: kdf.type, hash: kdf.hash, iterations: kdf.iterations, salt };
  }
  return { type: kdf.type, time: kdf.time, memory: kdf.memoryKiB, cpus: kdf.cpus, salt };
}

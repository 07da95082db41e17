/**
 * Bounds on what opening a keyslot may cost (issue #13, docs/DESIGN.md "Data safety": no hang
 * on hostile input). A keyslot whose key derivation would take longer than a bound at this
 * machine's measured speed (default 180 s), or whose Argon2 memory exceeds a bound (default
 * half the RAM), is skipped with a warning unless slow keyslots are allowed
 * (`--allow-slow-keyslots`). PBKDF2 counts at or above 2^31 cannot be computed by
 * `node:crypto` at all and are always skipped.
 */
import { totalmem } from 'node:os';
import { VaultError } from '../api/errors.js';
import type { KdfParams } from './kdf-jobs.js';

export interface KdfCostPolicy {
  /** Longest derivation (PBKDF2 + digest check, or Argon2) tried, in seconds. */
  maxSeconds: number;
  /** Largest Argon2 memory tried, KiB. */
  maxMemoryKiB: number;
  /** Try every keyslot whatever it costs (`--allow-slow-keyslots`). */
  allowSlow: boolean;
  /** Told about each keyslot skipped (the CLI prints a warning line). */
  onSkip?: (message: string) => void;
}

const DEFAULT_POLICY: KdfCostPolicy = {
  maxSeconds: 180,
  maxMemoryKiB: Math.floor(totalmem() / 2 / 1024),
  allowSlow: false,
};

let policy: KdfCostPolicy = { ...DEFAULT_POLICY };

/** Sets (part of) the process-wide policy; returns the previous one. */
export function setKdfCostPolicy(p: Partial<KdfCostPolicy>): KdfCostPolicy {
  const old = policy;
  policy = { ...policy, ...p };
  return old;
}

export function kdfCostPolicy(): KdfCostPolicy {
  return policy;
}

/** The largest iteration count `node:crypto`'s PBKDF2 accepts (a signed 32-bit int). */
export const MAX_PBKDF2_ITERATIONS = 2 ** 31 - 1;

/**
 * Argon2 work rate of our WebAssembly module, MiB × passes per CPU second (measured here:
 * 200 MiB × 4 passes in 2.0–2.1 s, README "Argon2"); lanes run one after another.
 */
const ARGON2_MIB_PASSES_PER_S = 400;

/** The error a too-costly keyslot raises; the unlock loops skip the slot on it. */
export class SlowKeyslotError extends VaultError {
  constructor(message: string) {
    super('UNSUPPORTED_FEATURE', message);
  }
}

export function isSlowKeyslot(e: unknown): e is SlowKeyslotError {
  return e instanceof SlowKeyslotError;
}

/** The skip, reported through the policy's `onSkip`; returns the words for a later message. */
export function reportSkip(slot: number | string, e: SlowKeyslotError): string {
  const text = `keyslot ${slot}: ${e.message}`;
  policy.onSkip?.(`skipped ${text}`);
  return text;
}

/**
 * Throws `SlowKeyslotError` when deriving `kdf` (plus a PBKDF2 digest check of
 * `digestIterations`) would exceed the policy. `pbkdf2Speed` measures iterations per second
 * on demand (only asked for counts that could matter).
 */
export async function checkKdfCost(
  kdf: KdfParams,
  digestIterations: number,
  pbkdf2Speed: () => Promise<number>
): Promise<void> {
  const p = policy;
  const iterations = (kdf.type === 'pbkdf2' ? kdf.iterations : 0) + digestIterations;
  const maxSingle = Math.max(kdf.type === 'pbkdf2' ? kdf.iterations : 0, digestIterations);
  if (maxSingle > MAX_PBKDF2_ITERATIONS) {
    throw new SlowKeyslotError(
      `${maxSingle} PBKDF2 iterations: more than this tool can compute (at most 2^31-1)`
    );
  }
  if (p.allowSlow) return;
  if (kdf.type !== 'pbkdf2') {
    if (kdf.memoryKiB > p.maxMemoryKiB) {
      throw new SlowKeyslotError(
        `Argon2 memory ${Math.round(kdf.memoryKiB / 1024)} MiB is over the ${Math.round(p.maxMemoryKiB / 1024)} MiB bound (--allow-slow-keyslots tries it)`
      );
    }
    const seconds = ((kdf.memoryKiB / 1024) * kdf.time) / ARGON2_MIB_PASSES_PER_S;
    if (seconds > p.maxSeconds) throw slow(seconds, p.maxSeconds);
  }
  // Below ~5 s at any plausible speed: not worth measuring.
  if (iterations <= 50_000_000) return;
  const seconds = iterations / (await pbkdf2Speed());
  if (seconds > p.maxSeconds) throw slow(seconds, p.maxSeconds);
}

function slow(seconds: number, bound: number) {
  return new SlowKeyslotError(
    `its key derivation would take about ${Math.round(seconds)} s here, over the ${bound} s bound (--allow-slow-keyslots tries it)`
  );
}

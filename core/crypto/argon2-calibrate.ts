/**
 * Benchmark-based Argon2 costs for new LUKS2 keyslots, chosen the way `cryptsetup luksFormat`
 * chooses them (docs/spec/luks2.md §6; cryptsetup's PBKDF benchmark): at least 4 passes, memory
 * grown first (up to 1 GiB, never more than half the RAM, nor half the free RAM on a machine
 * without swap), then passes, until one derivation takes the target time; lanes = min(4, CPUs).
 *
 * cryptsetup runs the lanes on threads and times the wall clock. Our Argon2 (libargon2 in WebAssembly) runs
 * them one after another, so we time our CPU and divide by the lanes cryptsetup would run at
 * once: the costs are what a lane-parallel Argon2 of our speed would fit in the target, i.e.
 * as strong as cryptsetup's for the same machine, and our own unlock then takes about
 * `iterTimeMs × lanes` of wall time (docs/decisions.md). Runs on the KDF worker.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, freemem, totalmem } from 'node:os';
import { fail } from '../api/errors.js';
import { ARGON2_MAX_MEMORY_KIB, argon2Wasm, type Argon2Params, type Argon2Type } from './argon2.js';
import { cpuClock } from './pbkdf2.js';

/** cryptsetup's defaults and limits for LUKS2 Argon2 (DEFAULT_LUKS2_MEMORY_KB and friends). */
export const ARGON2_DEFAULT_MEMORY_KIB = 1024 * 1024;
export const ARGON2_MIN_TIME = 4;
const MIN_MEMORY_KIB = 32;
const MAX_LANES = 4;
/** The first phase stops at a run of at least this long; the last run must land in 95–110 %. */
const FIRST_MS = 250;
const FAST_MS = 10;
const MAX_ROUNDS = 6;

export interface Argon2CalibrateOptions {
  type: Argon2Type;
  /** Target time of one unlock, in ms (cryptsetup's `--iter-time`, default 2000). */
  iterTimeMs: number;
  /** Derived key length (the keyslot's key size). */
  keyLength: number;
  /** Upper bound for memory, KiB (default 1 GiB); lowered to what the machine can spare. */
  maxMemoryKiB?: number;
  /** Lanes (default min(4, CPUs)). */
  parallel?: number;
}

/** Whether the machine has swap (Linux /proc/meminfo); unknown counts as "has". */
function hasSwap(): boolean {
  try {
    const m = /^SwapTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    return !m || Number(m[1]) > 0;
  } catch {
    return true;
  }
}

/**
 * The memory Argon2 may take on this machine, KiB, as cryptsetup bounds it: half the physical
 * memory, and without swap half the free memory too (ignored below 64 MiB).
 */
export function argon2MemoryLimitKiB(): number {
  let kib = Math.floor(totalmem() / 1024 / 2);
  if (!hasSwap()) {
    const free = Math.floor(freemem() / 1024 / 2);
    if (free > 64 * 1024 && free < kib) kib = free;
  }
  return Math.min(kib, ARGON2_MAX_MEMORY_KIB);
}

/**
 * One adjustment towards `targetMs` (the rule of cryptsetup's benchmark): too slow → fewer
 * passes, and below the minimum, less memory; too fast → more memory, and above the maximum,
 * more passes. Returns undefined when nothing changes (the costs are final).
 */
function nextCosts(
  c: { time: number; memoryKiB: number },
  ms: number,
  targetMs: number,
  minMemory: number,
  maxMemory: number
): { time: number; memoryKiB: number; final: boolean } | undefined {
  let { time, memoryKiB } = c;
  let final = false;
  if (ms > targetMs) {
    const t = Math.floor((time * targetMs) / ms);
    if (t < ARGON2_MIN_TIME) {
      memoryKiB = Math.floor((time * memoryKiB * targetMs) / (ARGON2_MIN_TIME * ms));
      time = ARGON2_MIN_TIME;
      if (memoryKiB < minMemory) [memoryKiB, final] = [minMemory, true];
    } else {
      time = t;
    }
  } else {
    const m = Math.floor((memoryKiB * targetMs) / Math.max(ms, 1));
    if (m > maxMemory) {
      time = Math.floor((time * memoryKiB * targetMs) / (maxMemory * Math.max(ms, 1)));
      memoryKiB = maxMemory;
      if (time <= ARGON2_MIN_TIME) [time, final] = [ARGON2_MIN_TIME, true];
    } else if (m < minMemory) {
      [memoryKiB, final] = [minMemory, true];
    } else {
      memoryKiB = m;
    }
  }
  if (time === c.time && memoryKiB === c.memoryKiB) return undefined;
  return { time, memoryKiB, final };
}

/**
 * Argon2 costs for a new keyslot (see the module comment). Blocks its thread for several
 * seconds (a few derivations, the last ones at full size): call it through the KDF worker.
 */
export function calibrateArgon2(opts: Argon2CalibrateOptions): Argon2Params {
  const { iterTimeMs, keyLength } = opts;
  if (!Number.isFinite(iterTimeMs) || iterTimeMs < 1 || iterTimeMs > 3_600_000) {
    throw fail('INVALID_ARGUMENT', `Iteration time ${iterTimeMs} ms is out of range`);
  }
  const cores = availableParallelism();
  const parallel = opts.parallel ?? Math.min(MAX_LANES, cores);
  if (!Number.isSafeInteger(parallel) || parallel < 1 || parallel > MAX_LANES) {
    throw fail('INVALID_ARGUMENT', `Argon2 lanes ${parallel} are out of range (1..4)`);
  }
  const minMemory = Math.max(MIN_MEMORY_KIB, 8 * parallel);
  const maxMemory = Math.min(
    opts.maxMemoryKiB ?? ARGON2_DEFAULT_MEMORY_KIB,
    argon2MemoryLimitKiB()
  );
  if (!Number.isSafeInteger(maxMemory) || maxMemory < minMemory) {
    throw fail('INVALID_ARGUMENT', `Argon2 memory limit ${maxMemory} KiB is too small`);
  }
  // cryptsetup times the wall clock of lanes on threads: our sequential lanes' CPU time over
  // the lanes that would run at once is that wall time at our speed.
  const together = Math.min(parallel, cores);
  const pw = new Uint8Array(16).fill(0x61);
  const salt = new Uint8Array(32).fill(0x5a);
  const measure = (c: { time: number; memoryKiB: number }): number => {
    const clock = cpuClock();
    argon2Wasm(opts.type, pw, salt, { ...c, parallel }, keyLength).fill(0);
    return clock.stop() / together;
  };

  let c = { time: ARGON2_MIN_TIME, memoryKiB: minMemory };
  let ms = measure(c);
  // 1. Small costs that take at least FIRST_MS: grow memory, then passes.
  for (let round = 0; ms < FIRST_MS && round < 20; round++) {
    const f = ms < FAST_MS ? 16 : FIRST_MS / ms;
    if (c.memoryKiB >= maxMemory) {
      const t = Math.max(c.time + 1, Math.floor(c.time * f));
      c = { ...c, time: t };
    } else {
      c = {
        ...c,
        memoryKiB: Math.min(maxMemory, Math.max(c.memoryKiB + 1, Math.floor(c.memoryKiB * f))),
      };
    }
    ms = measure(c);
  }
  // 2. Extrapolate to the target and measure until a run lands within 95–110 % of it.
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const next = nextCosts(c, ms, iterTimeMs, minMemory, maxMemory);
    if (!next) break;
    c = { time: next.time, memoryKiB: next.memoryKiB };
    if (next.final) break;
    ms = measure(c);
    if (ms >= iterTimeMs * 0.95 && ms <= iterTimeMs * 1.1) break;
  }
  return { time: c.time, memoryKiB: c.memoryKiB, parallel };
}

/**
 * PBKDF2-HMAC (RFC 8018) for LUKS keyslots and master-key digests (docs/spec/luks1.md §5, §9;
 * docs/spec/luks2.md §3 "Digest"), plus iteration calibration.
 *
 * sha1/sha256/sha512 use `node:crypto` `pbkdf2Sync` (native, ~4 M iterations/s here);
 * sha224/sha384/ripemd160 fall back to @noble/hashes (pure JS, much slower — fine for
 * unlocking such rare headers, docs/DESIGN.md constraint 3 warns against writing with them).
 * Everything here blocks its thread: the LUKS code and the service reach it through the KDF
 * worker (core/crypto/kdf-client.ts).
 */
import { pbkdf2Sync } from './node-crypto.js';
import { pbkdf2 as noblePbkdf2 } from '@noble/hashes/pbkdf2.js';
import { fail } from '../api/errors.js';
import { digestSize, nobleHash, type HashName } from './hash.js';

/** Largest iteration count a header may carry (u32 in LUKS1). */
export const MAX_ITERATIONS = 0xffffffff;
/** Largest derived key we ever need (LUKS2 keyslot keys are ≤ 64 bytes; be generous). */
const MAX_KEY_LENGTH = 1024;
/** Minimum iteration count both cryptsetup and QEMU enforce (docs/spec/luks1.md §1, §9). */
export const MIN_ITERATIONS = 1000;

function check(iterations: number, keyLength: number): void {
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) {
    throw fail('INVALID_ARGUMENT', `PBKDF2 iteration count ${iterations} is out of range`);
  }
  if (!Number.isSafeInteger(keyLength) || keyLength < 1 || keyLength > MAX_KEY_LENGTH) {
    throw fail('INVALID_ARGUMENT', `PBKDF2 output length ${keyLength} is out of range`);
  }
}

function nativePbkdf2(
  h: HashName,
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  keyLength: number
): Buffer | undefined {
  switch (h) {
    case 'sha1':
      return pbkdf2Sync(password, salt, iterations, keyLength, 'sha1');
    case 'sha256':
      return pbkdf2Sync(password, salt, iterations, keyLength, 'sha256');
    case 'sha512':
      return pbkdf2Sync(password, salt, iterations, keyLength, 'sha512');
    default:
      return undefined;
  }
}

/**
 * PBKDF2-HMAC-`h`(password, salt, iterations) truncated to `keyLength` bytes, in a fresh
 * buffer the caller wipes. Slot key: `pbkdf2(hash, passphrase, slotSalt, iters, keyBytes)`;
 * LUKS1 digest: `pbkdf2(hash, masterKey, mkSalt, mkIters, 20)` (docs/spec/luks1.md §5).
 */
export function pbkdf2(
  h: HashName,
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  keyLength: number
): Uint8Array {
  check(iterations, keyLength);
  const native = nativePbkdf2(h, password, salt, iterations, keyLength);
  if (native) {
    const out = new Uint8Array(keyLength);
    out.set(native);
    native.fill(0);
    return out;
  }
  return pbkdf2Noble(h, password, salt, iterations, keyLength);
}

/** The pure-JS @noble/hashes PBKDF2 (fallback, and the cross-check for the native path). */
export function pbkdf2Noble(
  h: HashName,
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  keyLength: number
): Uint8Array {
  check(iterations, keyLength);
  return noblePbkdf2(nobleHash(h), password, salt, { c: iterations, dkLen: keyLength });
}

type CpuUsageFn = (prev?: NodeJS.CpuUsage) => NodeJS.CpuUsage;

/**
 * A clock of the calling thread's CPU time, as QEMU and cryptsetup measure (docs/spec/luks1.md §9),
 * so a busy machine does not shrink a calibration. Uses `process.threadCpuUsage` where Node has
 * it; otherwise the smaller of process CPU time (inflated only by our own other threads) and
 * wall time (inflated only by other load). `stop()` returns the milliseconds since `start`.
 */
export function cpuClock(): { stop(): number } {
  const thread = (process as { threadCpuUsage?: CpuUsageFn }).threadCpuUsage;
  const usage: CpuUsageFn = thread ? thread.bind(process) : process.cpuUsage.bind(process);
  const w0 = process.hrtime.bigint();
  const c0 = usage();
  return {
    stop() {
      const c = usage(c0);
      const wall = Number(process.hrtime.bigint() - w0) / 1e6;
      const cpu = (c.user + c.system) / 1000;
      return thread ? cpu : Math.min(cpu, wall);
    },
  };
}

/** Milliseconds of CPU time the calling thread spent in `f` (see {@link cpuClock}). */
function cpuMs(f: () => void): number {
  const clock = cpuClock();
  f();
  return clock.stop();
}

/** Recent measurements, in PBKDF2 block-iterations per CPU millisecond, per hash. */
const rateCache = new Map<HashName, { blockItersPerMs: number; at: number }>();
/** CPU time the final probe must exceed for real (≥ 1 s) keyslots, as in cryptsetup. */
const LONG_PROBE_MS = 500;
/** How long a measurement is reused (CPU frequency and load drift). */
const RATE_CACHE_MS = 10_000;

/** Runs PBKDF2 with `iterations` on dummy inputs and returns the CPU milliseconds. */
function timeRun(h: HashName, keyLength: number, iterations: number): number {
  const pw = new Uint8Array(16).fill(0x61);
  const salt = new Uint8Array(32).fill(0x5a);
  return cpuMs(() => pbkdf2(h, pw, salt, iterations, keyLength).fill(0));
}

/**
 * Iterations that take about `iterTimeMs` for an output of `keyLength` bytes, measured the
 * way cryptsetup and QEMU do it (docs/spec/luks1.md §9): benchmark a run in CPU time, scale to the
 * target.
 * Unlike QEMU (which spends seconds), this needs about 30-40 ms of CPU: a few growing probes,
 * the last of ~25 ms extrapolated linearly. Never below 1000, never above 2^32-1. For the
 * LUKS1 master-key digest QEMU uses `calibratePbkdf2(h, 20, t) / 8` (docs/spec/luks1.md §9).
 */
export function calibratePbkdf2(h: HashName, keyLength: number, iterTimeMs: number): number {
  if (!Number.isFinite(iterTimeMs) || iterTimeMs <= 0 || iterTimeMs > 3_600_000) {
    throw fail('INVALID_ARGUMENT', `Iteration time ${iterTimeMs} ms is out of range`);
  }
  check(MIN_ITERATIONS, keyLength);
  // Cost grows with the number of output blocks; measure with the real output length.
  const blocks = Math.ceil(keyLength / digestSize(h));
  const cached = rateCache.get(h);
  if (cached && Date.now() - cached.at < RATE_CACHE_MS) {
    // A LUKS format calibrates twice (slot key, then digest): reuse the fresh measurement.
    const result = Math.floor((cached.blockItersPerMs / blocks) * iterTimeMs);
    return Math.max(MIN_ITERATIONS, Math.min(MAX_ITERATIONS, result));
  }
  const targetMs = 25;
  // Start small (pure-JS hashes run ~100x slower than native), grow towards ~25 ms.
  let iters = Math.max(256, Math.floor(2048 / blocks));
  let ms = timeRun(h, keyLength, iters);
  for (let round = 0; round < 6 && ms < targetMs / 2; round++) {
    const factor = ms <= 0.05 ? 16 : Math.min(16, targetMs / ms);
    iters = Math.min(MAX_ITERATIONS, Math.ceil(iters * factor));
    ms = timeRun(h, keyLength, iters);
  }
  if (iterTimeMs >= 1000) {
    // Real keyslots: measure the way cryptsetup does (a run of more than 500 ms of CPU time),
    // so short bursts of turbo or of a noisy neighbour do not skew the count. Costs about
    // 1.2 s once per process — about QEMU's 2.3 s halved, and the user waits 2 s anyway.
    for (let round = 0; round < 4 && ms <= LONG_PROBE_MS; round++) {
      const factor = Math.min(64, Math.max(2, (1.2 * LONG_PROBE_MS) / Math.max(ms, 0.05)));
      iters = Math.min(MAX_ITERATIONS, Math.ceil(iters * factor));
      ms = timeRun(h, keyLength, iters);
    }
    // Noise on a shared machine only ever slows a run down (other load, frequency dips), and
    // a rate from a slowed run gives a weaker keyslot than cryptsetup would write: of two
    // long runs, keep the faster (measured: single runs here vary by up to ±20 %).
    ms = Math.min(ms, timeRun(h, keyLength, iters));
  }
  const perMs = iters / Math.max(ms, 0.001);
  rateCache.set(h, { blockItersPerMs: perMs * blocks, at: Date.now() });
  const result = Math.floor(perMs * iterTimeMs);
  return Math.max(MIN_ITERATIONS, Math.min(MAX_ITERATIONS, result));
}

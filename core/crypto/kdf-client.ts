/**
 * Key derivation off the calling thread (docs/DESIGN.md "Data safety": key derivation never runs on
 * the Electron main thread or the `serve` event loop; issue #12). Every function here sends
 * its work to a KDF worker thread (core/crypto/kdf-worker.ts) and resolves with the result, so
 * the event loop keeps serving IPC, HTTP and job events while PBKDF2 or Argon2 runs for
 * seconds:
 *
 * - PBKDF2 work (derivation, calibration, PBKDF2 keyslots) goes to one long-lived worker,
 *   started on first use and shared by every caller in the process. It runs one request at a
 *   time, so a calibration is timed alone on its thread and reuses its recent measurements
 *   (core/crypto/pbkdf2.ts), as it did on the main thread.
 * - Argon2 work gets a worker of its own that exits when done: its WebAssembly heap (up to
 *   gigabytes, and holding passphrase-derived blocks) goes back to the system with it.
 *
 * Secret inputs are copied into fresh buffers that are transferred (not cloned) to the worker,
 * which wipes them; the caller keeps and wipes its own. See docs/decisions.md.
 */
import type { Worker } from 'node:worker_threads';
import { fail } from '../api/errors.js';
import type { Argon2CalibrateOptions } from './argon2-calibrate.js';
import type { Argon2Params } from './argon2.js';
import type { HashName } from './hash.js';
import { isArgon2, type DigestCheck, type KdfParams, type SealParams } from './kdf-jobs.js';
import type { KdfBodies, KdfOp, KdfReply, KdfResults } from './kdf-protocol.js';
import { checkKdfCost } from './kdf-cost.js';
import { copySecret } from './secret.js';
import { spawnCryptoWorker, workerError } from './worker-script.js';

export type { DigestCheck, KdfParams, SealParams } from './kdf-jobs.js';

interface Channel {
  worker: Worker;
  pending: Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>;
  dead: boolean;
  /** The worker exits once its pending work is done (Argon2's, see the top of this file). */
  oneShot: boolean;
  cancel?: () => void;
}

/**
 * Stops every running derivation (SIGINT/SIGTERM during a job, issue #13): the workers are
 * terminated and their callers get `CANCELLED`. A later call starts a fresh worker.
 */
export function cancelKdfWork(): void {
  // Also every derivation asked for later: the signal may come before the job reaches one.
  refuseAll = true;
  for (const ch of [...live]) ch.cancel?.();
}

let refuseAll = false;

const stuck = new Set<Worker>();

/**
 * Whether a cancelled derivation is still running on its thread: the process cannot exit
 * normally until it returns (Node joins worker threads at exit), so a CLI interrupted by a
 * signal ends itself by that signal instead.
 */
export function kdfWorkStuck(): boolean {
  return stuck.size > 0;
}

/** Iterations per second of PBKDF2 with `hash` on the KDF worker, measured once per hash. */
const speeds = new Map<HashName, Promise<number>>();
function pbkdf2Speed(hash: HashName): Promise<number> {
  let s = speeds.get(hash);
  if (!s) {
    s = (async () => {
      const n = 200_000;
      const salt = new Uint8Array(32);
      let best = Infinity;
      for (let i = 0; i < 2; i++) {
        const t0 = performance.now();
        const pw = new Uint8Array(8);
        (
          await call(
            'derive',
            { kdf: { type: 'pbkdf2', hash, iterations: n }, password: pw, salt, keyLength: 32 },
            [pw],
            false
          )
        ).fill(0);
        best = Math.min(best, performance.now() - t0);
      }
      return (n / Math.max(best, 1)) * 1000;
    })();
    s.catch(() => speeds.delete(hash));
    speeds.set(hash, s);
  }
  return s;
}

/** The cost gate of kdf-cost.ts for `kdf` plus a digest check of `digestIterations`. */
function gate(kdf: KdfParams, digest?: DigestCheck): Promise<void> {
  const hash = kdf.type === 'pbkdf2' ? kdf.hash : (digest?.hash ?? 'sha256');
  return checkKdfCost(kdf, digest?.iterations ?? 0, () => pbkdf2Speed(hash));
}

/** The shared PBKDF2 worker, while it lives. */
let shared: Channel | undefined;
let nextId = 1;
/** Every live channel, so a Ctrl-C can stop a derivation (`cancelKdfWork`). */
const live = new Set<Channel>();

/** KDF workers started by this process so far (tests: a prewarmed worker is not wasted). */
let started = 0;
export function kdfWorkersStarted(): number {
  return started;
}

function openChannel(oneShot: boolean): Channel {
  const worker = spawnCryptoWorker('kdf-worker');
  started++;
  const ch: Channel = { worker, pending: new Map(), dead: false, oneShot };
  worker.on('message', (r: KdfReply) => {
    const p = ch.pending.get(r.id);
    if (!p) return;
    ch.pending.delete(r.id);
    if (r.ok) p.resolve(r.value);
    else p.reject(workerError(r.code, r.message));
    if (ch.pending.size > 0) return;
    if (ch.oneShot) void worker.terminate();
    else worker.unref(); // an idle worker does not keep the process alive
  });
  const die = (why: string, code: 'INTERNAL' | 'CANCELLED' = 'INTERNAL') => {
    ch.dead = true;
    live.delete(ch);
    if (shared === ch) shared = undefined;
    for (const p of ch.pending.values()) p.reject(fail(code, why));
    ch.pending.clear();
  };
  ch.cancel = () => {
    die('Cancelled during key derivation', 'CANCELLED');
    // A derivation inside a native call does not stop for terminate(): until it returns,
    // the thread holds the process open (see `kdfWorkStuck`).
    stuck.add(worker);
    worker.once('exit', () => stuck.delete(worker));
    void worker.terminate();
  };
  live.add(ch);
  worker.on('error', () => die('The key-derivation worker failed'));
  worker.on('exit', () => die('The key-derivation worker exited'));
  worker.unref();
  return ch;
}

/** Sends `op` (its `secrets` transferred) to the right worker; resolves with the reply. */
function call<K extends KdfOp>(
  op: K,
  body: KdfBodies[K],
  secrets: Uint8Array[],
  argon2: boolean
): Promise<KdfResults[K]> {
  if (refuseAll) return Promise.reject(fail('CANCELLED', 'Cancelled before key derivation'));
  if (argon2) return send(argon2Channel(), op, body, secrets);
  if (!shared || shared.dead) shared = openChannel(false);
  return send(shared, op, body, secrets);
}

/**
 * A worker of its own for Argon2 work: the shared worker when it sits idle (prewarmed by the
 * CLI, say), which then exits after this work like any Argon2 worker (PBKDF2 work later starts
 * another), else a fresh one. A worker booted for nothing costs ~0.2 s of CPU.
 */
function argon2Channel(): Channel {
  const idle = shared && !shared.dead && shared.pending.size === 0 ? shared : undefined;
  if (!idle) return openChannel(true);
  shared = undefined;
  idle.oneShot = true;
  return idle;
}

function send<K extends KdfOp>(
  ch: Channel,
  op: K,
  body: KdfBodies[K],
  secrets: Uint8Array[]
): Promise<KdfResults[K]> {
  const id = nextId++;
  return new Promise<KdfResults[K]>((resolve, reject) => {
    ch.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    ch.worker.ref();
    ch.worker.postMessage(
      { ...body, op, id },
      secrets.map((s) => s.buffer as ArrayBuffer)
    );
  });
}

/**
 * Starts the shared PBKDF2 worker ahead of need (~0.05 s of start-up that then overlaps, e.g.,
 * reading the header). It does not keep the process alive.
 */
export function prewarmKdfWorker(): void {
  if (!shared || shared.dead) shared = openChannel(false);
}

/** PBKDF2 or Argon2 of `password` (core/crypto/kdf-jobs.ts `runDerive`); the caller wipes it. */
export async function deriveKey(
  kdf: KdfParams,
  password: Uint8Array,
  salt: Uint8Array,
  keyLength: number
): Promise<Uint8Array> {
  await gate(kdf);
  const pw = copySecret(password);
  return call('derive', { kdf, password: pw, salt, keyLength }, [pw], isArgon2(kdf));
}

/**
 * PBKDF2 iterations that take about `iterTimeMs` on this machine, measured like cryptsetup
 * (core/crypto/pbkdf2.ts `calibratePbkdf2`: CPU time of runs over 500 ms, the faster of two).
 */
export function calibratePbkdf2Iterations(
  hash: HashName,
  keyLength: number,
  iterTimeMs: number
): Promise<number> {
  return call('calibratePbkdf2', { hash, keyLength, iterTimeMs }, [], false);
}

/**
 * Argon2 costs for a new keyslot, chosen like cryptsetup's benchmark
 * (core/crypto/argon2-calibrate.ts): takes a few seconds of one core, off this thread.
 */
export function calibrateArgon2Costs(options: Argon2CalibrateOptions): Promise<Argon2Params> {
  return call('calibrateArgon2', { options }, [], true);
}

/**
 * Opens a keyslot's sealed key material with `passphrase` (derive, decrypt, AF-merge, digest
 * check: docs/spec/luks1.md §7, docs/spec/luks2.md §4). The key, or undefined for a wrong passphrase; the
 * caller wipes the key. `material` is not modified.
 */
export async function unsealKey(
  passphrase: Uint8Array,
  seal: SealParams,
  material: Uint8Array,
  keyBytes: number,
  check: DigestCheck
): Promise<Uint8Array | undefined> {
  await gate(seal.kdf, check);
  const pw = copySecret(passphrase);
  const m = copySecret(material);
  const key = await call(
    'unseal',
    { passphrase: pw, seal, material: m, keyBytes, check },
    [pw, m],
    isArgon2(seal.kdf)
  );
  return key ?? undefined;
}

/** Seals `key` for `passphrase` (derive, AF-split, encrypt): the key material to write. */
export function sealKey(
  passphrase: Uint8Array,
  seal: SealParams,
  key: Uint8Array
): Promise<Uint8Array> {
  const pw = copySecret(passphrase);
  const k = copySecret(key);
  return call('seal', { passphrase: pw, seal, key: k }, [pw, k], isArgon2(seal.kdf));
}

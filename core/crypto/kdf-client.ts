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
import { copySecret } from './secret.js';
import { spawnCryptoWorker, workerError } from './worker-script.js';

export type { DigestCheck, KdfParams, SealParams } from './kdf-jobs.js';

interface Channel {
  worker: Worker;
  pending: Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>;
  dead: boolean;
}

/** The shared PBKDF2 worker, while it lives. */
let shared: Channel | undefined;
let nextId = 1;

function openChannel(oneShot: boolean): Channel {
  const worker = spawnCryptoWorker('kdf-worker');
  const ch: Channel = { worker, pending: new Map(), dead: false };
  worker.on('message', (r: KdfReply) => {
    const p = ch.pending.get(r.id);
    if (!p) return;
    ch.pending.delete(r.id);
    if (r.ok) p.resolve(r.value);
    else p.reject(workerError(r.code, r.message));
    if (ch.pending.size > 0) return;
    if (oneShot) void worker.terminate();
    else worker.unref(); // an idle worker does not keep the process alive
  });
  const die = (why: string) => {
    ch.dead = true;
    if (shared === ch) shared = undefined;
    for (const p of ch.pending.values()) p.reject(fail('INTERNAL', why));
    ch.pending.clear();
  };
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
  if (argon2) return send(openChannel(true), op, body, secrets);
  if (!shared || shared.dead) shared = openChannel(false);
  return send(shared, op, body, secrets);
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
export function deriveKey(
  kdf: KdfParams,
  password: Uint8Array,
  salt: Uint8Array,
  keyLength: number
): Promise<Uint8Array> {
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

/**
 * A `worker_threads` pool for bulk sector encryption (docs/DESIGN.md constraint 3: two workers on
 * transferred buffers scale ~1.7×). Same semantics as `SectorCrypto`: unit k of `data` uses
 * IV sector `ivSector + k * sectorSize / 512`.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { fail } from '../api/errors.js';
import { inlineDataCipher, type DataCipher, type SectorCrypto } from './data-cipher.js';
import type {
  FromWorker,
  InitMessage,
  JobMessage,
  ShareMessage,
  UnshareMessage,
} from './crypto-worker-protocol.js';
import type { CipherSpec } from './cipher-spec.js';
import { createSectorCipher, SECTOR_SIZES } from './sector-cipher.js';
import { copySecret, wipe } from './secret.js';
import { spawnCryptoWorker, workerError } from './worker-script.js';

export interface CryptoPool {
  /**
   * Encrypts `data`; the result holds the bytes (use it, not `data`: `data`'s buffer may have
   * been transferred to a worker and is then detached).
   */
  encrypt(data: Uint8Array, ivSector: number): Promise<Uint8Array>;
  decrypt(data: Uint8Array, ivSector: number): Promise<Uint8Array>;
  /** Waits for running work, stops the workers (they wipe their keys) and wipes ours. */
  close(): Promise<void>;
}

export interface CryptoPoolOptions {
  /** Worker threads; default `os.availableParallelism()`; 0 = inline on the calling thread. */
  threads?: number;
  /** Encryption unit (512..4096); default 512. */
  sectorSize?: number;
  /**
   * Bytes to process inline on the calling thread before starting workers, when no
   * prewarmed ones are waiting (default 0: workers from the first call).
   */
  inlineFirst?: number;
}

/** Calls at least this large (× 2) are split across workers (copying the parts). */
const SPLIT_MIN = 256 * 1024;
const MAX_THREADS = 64;
/**
 * What image pools do inline before starting workers (`inlineFirst`): a worker costs a new
 * isolate (measured 0.3–0.5 s of CPU each on a loaded machine), which a sparse image with a
 * few MiB of data (issue #15: 20 GiB, 8 MiB of data, in under 1.5 s) never repays.
 */
export const INLINE_FIRST = 32 * 1024 * 1024;

/**
 * Workers started ahead of need by {@link prewarmCryptoWorkers}, not yet given a cipher. A
 * worker takes ~0.1 s to start (a new isolate loading its modules): a CLI job starts them
 * first thing, so they are ready by the time the passphrase is checked.
 */
const warm: Worker[] = [];

function spawnWorker(): Worker {
  return spawnCryptoWorker('crypto-worker');
}

/**
 * Starts up to `count` idle workers (default: one per core) for the next pools to claim.
 * They hold no key and do not keep the process alive; unclaimed ones die with it.
 */
export function prewarmCryptoWorkers(count = availableParallelism()): void {
  for (let i = warm.length; i < Math.min(count, MAX_THREADS); i++) {
    const worker = spawnWorker();
    const drop = () => {
      const at = warm.indexOf(worker);
      if (at >= 0) warm.splice(at, 1);
    };
    worker.on('error', drop);
    worker.on('exit', drop);
    worker.unref();
    warm.push(worker);
  }
}

/** A prewarmed worker when one is left, else a fresh one. */
function claimWorker(): Worker {
  const worker = warm.shift();
  if (!worker) return spawnWorker();
  worker.removeAllListeners('error');
  worker.removeAllListeners('exit');
  return worker;
}

interface Pending {
  /** With the transferred buffer back, or nothing for shared memory. */
  resolve(r: Uint8Array | undefined): void;
  reject(e: unknown): void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  dead: boolean;
  /** Shared buffers this worker knows, by reference number (see ShareMessage). */
  shared: WeakMap<SharedArrayBuffer, number>;
}

/** Reference numbers of shared buffers, unique per process. */
let nextShareRef = 1;

/**
 * When the pool's side of a shared buffer is garbage, the worker that registered it is told
 * to drop its handle, so finished jobs' buffers do not stay pinned until the pool closes.
 */
const unshareOnCollect = new FinalizationRegistry<{ slot: Slot; ref: number }>(({ slot, ref }) => {
  if (slot.dead) return;
  const unshare: UnshareMessage = { type: 'unshare', ref };
  slot.worker.postMessage(unshare);
});

/** True when `data` covers its whole `ArrayBuffer`, so transferring it loses nothing else. */
function ownsBuffer(data: Uint8Array): data is Uint8Array & { buffer: ArrayBuffer } {
  return (
    data.buffer instanceof ArrayBuffer &&
    data.byteOffset === 0 &&
    data.byteLength === data.buffer.byteLength
  );
}

/** True when `data` lives in shared memory: workers then work on it in place, zero copy. */
export function isShared(data: Uint8Array): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && data.buffer instanceof SharedArrayBuffer;
}

/**
 * A buffer in shared memory, for data that will go through a crypto pool: the workers
 * encrypt or decrypt it in place, with no copy and no transfer (docs/DESIGN.md constraint 3).
 */
export function sharedBuffer(length: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(length));
}

function inlinePool(sc: SectorCrypto): CryptoPool {
  const c = inlineDataCipher(sc);
  return { encrypt: c.encrypt, decrypt: c.decrypt, close: c.dispose };
}

/**
 * Creates a pool of `threads` workers, each holding its own copy of the cipher. The key is
 * copied into each worker by transfer and our copy is wiped at once. With `threads: 0` the
 * work runs inline (same API).
 */
export function createCryptoPool(
  spec: CipherSpec,
  key: Uint8Array,
  opts: CryptoPoolOptions = {}
): CryptoPool {
  const sectorSize = opts.sectorSize ?? 512;
  const threads = opts.threads ?? availableParallelism();
  if (!SECTOR_SIZES.includes(sectorSize)) {
    throw fail('UNSUPPORTED_FEATURE', `Sector size ${sectorSize} is not supported`);
  }
  if (!Number.isSafeInteger(threads) || threads < 0 || threads > MAX_THREADS) {
    throw fail('INVALID_ARGUMENT', `Thread count ${threads} is out of range`);
  }
  // Validates spec and key on this thread, so errors surface here rather than in a worker.
  const local = createSectorCipher(spec, key, sectorSize);
  if (threads === 0) return inlinePool(local);
  /** Bytes done inline so far; the local cipher is dropped once workers take over. */
  let inlineBytes = 0;
  const inlineFirst = opts.inlineFirst ?? 0;
  let inline: SectorCrypto | undefined = inlineFirst > 0 ? local : undefined;
  if (!inline) local.dispose();
  const dropInline = () => {
    inline?.dispose();
    inline = undefined;
  };

  const slots: Slot[] = [];
  // Workers start on first use: an image that is only created (or only inspected) never
  // pays for them. Until then the pool keeps its own copy of the key, wiped at start/close.
  let pendingKey: Uint8Array | undefined = copySecret(key);

  function startWorkers(): void {
    const k0 = pendingKey;
    if (!k0) return;
    pendingKey = undefined;
    dropInline();
    for (let i = 0; i < threads; i++) {
      const worker = claimWorker();
      const slot: Slot = { worker, pending: new Map(), dead: false, shared: new WeakMap() };
      const k = copySecret(k0);
      const init: InitMessage = { type: 'init', spec, sectorSize, key: k };
      worker.postMessage(init, [k.buffer as ArrayBuffer]);
      wipe(k); // detached after transfer; harmless otherwise
      worker.on('message', (m: FromWorker) => {
        const p = slot.pending.get(m.id);
        if (!p) return;
        slot.pending.delete(m.id);
        if (slot.pending.size === 0) worker.unref();
        if (m.type === 'error') p.reject(workerError(m.code, m.message));
        else p.resolve(m.buf ? new Uint8Array(m.buf, m.offset, m.length) : undefined);
      });
      const die = (why: string) => {
        slot.dead = true;
        for (const p of slot.pending.values()) p.reject(fail('INTERNAL', why));
        slot.pending.clear();
      };
      worker.on('error', () => die('Crypto worker failed'));
      worker.on('exit', () => die('Crypto worker exited'));
      worker.unref();
      slots.push(slot);
    }
    wipe(k0);
  }

  let nextId = 1;
  let closed = false;

  function pick(): Slot {
    let best: Slot | undefined;
    for (const s of slots) {
      if (!s.dead && (!best || s.pending.size < best.pending.size)) best = s;
    }
    if (!best) throw fail('INTERNAL', 'No crypto worker is running');
    return best;
  }

  /** The reference number `slot`'s worker knows `sab` by, registering it on first use. */
  function shareRef(slot: Slot, sab: SharedArrayBuffer): number {
    let ref = slot.shared.get(sab);
    if (ref === undefined) {
      ref = nextShareRef++;
      slot.shared.set(sab, ref);
      const share: ShareMessage = { type: 'share', ref, buf: sab };
      slot.worker.postMessage(share);
      unshareOnCollect.register(sab, { slot, ref });
    }
    return ref;
  }

  function send(op: JobMessage['op'], data: Uint8Array, ivSector: number): Promise<Uint8Array> {
    const slot = pick();
    const own = isShared(data) || ownsBuffer(data) ? data : data.slice();
    const id = nextId++;
    const sab = isShared(own) ? (own.buffer as SharedArrayBuffer) : undefined;
    const msg: JobMessage = {
      type: 'job',
      id,
      op,
      buf: sab ? shareRef(slot, sab) : (own.buffer as ArrayBuffer),
      offset: own.byteOffset,
      length: own.length,
      ivSector,
    };
    return new Promise<Uint8Array>((resolve, reject) => {
      // Shared memory is worked on in place: the result is the caller's own view.
      slot.pending.set(id, { resolve: (r) => resolve(r ?? own), reject });
      slot.worker.ref();
      slot.worker.postMessage(msg, typeof msg.buf === 'number' ? [] : [msg.buf]);
    });
  }

  async function run(
    op: JobMessage['op'],
    data: Uint8Array,
    ivSector: number
  ): Promise<Uint8Array> {
    if (closed) throw fail('INTERNAL', 'Crypto pool used after close');
    if (data.length % sectorSize !== 0) {
      throw fail(
        'INVALID_ARGUMENT',
        `Data length ${data.length} is not a multiple of ${sectorSize}`
      );
    }
    if (!Number.isSafeInteger(ivSector) || ivSector < 0) {
      throw fail('INVALID_ARGUMENT', `IV sector ${ivSector} is out of range`);
    }
    if (inline && warm.length === 0 && inlineBytes + data.length <= inlineFirst) {
      inlineBytes += data.length;
      if (op === 'encrypt') inline.encrypt(data, ivSector);
      else inline.decrypt(data, ivSector);
      return data;
    }
    startWorkers();
    // Split only when workers sit idle: concurrent callers already keep every worker busy
    // and then get zero-copy transfers.
    const idle = slots.filter((s) => !s.dead && s.pending.size === 0).length;
    const parts = Math.min(idle, Math.floor(data.length / SPLIT_MIN));
    if (parts < 2) return send(op, data, ivSector);
    // Large call: split into sector-aligned parts, one per worker. Shared memory is worked on
    // in place through views; other buffers are copied out and back.
    const units = data.length / sectorSize;
    const per = Math.ceil(units / parts) * sectorSize;
    const shared = isShared(data);
    const jobs: Promise<unknown>[] = [];
    for (let off = 0; off < data.length; off += per) {
      const end = Math.min(data.length, off + per);
      const iv = ivSector + off / 512;
      jobs.push(
        shared
          ? send(op, data.subarray(off, end), iv)
          : send(op, data.slice(off, end), iv).then((r) => data.set(r, off))
      );
    }
    await Promise.all(jobs);
    return data;
  }

  return {
    encrypt: (data, iv) => run('encrypt', data, iv),
    decrypt: (data, iv) => run('decrypt', data, iv),
    async close() {
      if (closed) return;
      closed = true;
      dropInline();
      if (pendingKey) wipe(pendingKey);
      pendingKey = undefined;
      await Promise.allSettled(
        slots.flatMap((s) =>
          [...s.pending.values()].map(
            (p) =>
              new Promise<void>((done) => {
                const { resolve, reject } = p;
                p.resolve = (r) => (resolve(r), done());
                p.reject = (e) => (reject(e), done());
              })
          )
        )
      );
      await Promise.all(
        slots.map(
          (s) =>
            new Promise<void>((done) => {
              if (s.dead) return done();
              s.worker.once('exit', () => done());
              s.worker.ref();
              s.worker.postMessage({ type: 'close' });
            })
        )
      );
    },
  };
}

/** A pool as the `DataCipher` containers use (core/formats/encryption.ts). */
export function poolDataCipher(pool: CryptoPool, sectorSize: number): DataCipher {
  return {
    sectorSize,
    encrypt: (d, iv) => pool.encrypt(d, iv),
    decrypt: (d, iv) => pool.decrypt(d, iv),
    dispose: () => pool.close(),
  };
}

/** Messages between the crypto pool (core/crypto/crypto-pool.ts) and its worker threads. */
import type { CipherSpec } from './cipher-spec.js';

/**
 * Sent first (a worker may be started before its pool exists, see `prewarmCryptoWorkers`):
 * the cipher to hold. `key`'s buffer is transferred and wiped by the worker once the cipher
 * exists.
 */
export interface InitMessage {
  type: 'init';
  spec: CipherSpec;
  sectorSize: number;
  key: Uint8Array;
}

/**
 * A shared buffer the pool will refer to by `ref` in later jobs: posting a
 * `SharedArrayBuffer` costs far more than posting a number, and the copy loop reuses the
 * same few buffers for a whole image.
 */
export interface ShareMessage {
  type: 'share';
  ref: number;
  buf: SharedArrayBuffer;
}

/** The pool dropped its last reference to shared buffer `ref`: the worker lets go of it too. */
export interface UnshareMessage {
  type: 'unshare';
  ref: number;
}

/**
 * One bulk operation on `buf[offset, offset + length)`, done in place. An `ArrayBuffer` is
 * transferred both ways; a number names a buffer from a {@link ShareMessage} (zero copy,
 * nothing detached, nothing sent back).
 */
export interface JobMessage {
  type: 'job';
  id: number;
  op: 'encrypt' | 'decrypt';
  buf: ArrayBuffer | number;
  offset: number;
  length: number;
  ivSector: number;
}

export interface CloseMessage {
  type: 'close';
}

export type ToWorker = InitMessage | ShareMessage | UnshareMessage | JobMessage | CloseMessage;

export type FromWorker =
  | {
      type: 'done';
      id: number;
      /** The transferred buffer, back; absent for shared buffers. */
      buf?: ArrayBuffer;
      offset: number;
      length: number;
    }
  | { type: 'error'; id: number; code: string; message: string };

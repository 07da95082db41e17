/** Messages between the crypto pool (core/crypto/crypto-pool.ts) and its worker threads. */
import type { CipherSpec } from '../crypto/cipher-spec.js';

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
 * One bulk operation on `buf[offset, offset + length)`, done in place. An `ArrayBuffer` is
 * transferred both ways; a `SharedArrayBuffer` is shared (zero copy, nothing detached).
 */
export interface JobMessage {
  type: 'job';
  id: number;
  op: 'encrypt' | 'decrypt';
  buf: ArrayBuffer | SharedArrayBuffer;
  offset: number;
  length: number;
  ivSector: number;
}

export interface CloseMessage {
  type: 'close';
}

export type ToWorker = InitMessage | JobMessage | CloseMessage;

export type FromWorker =
  | {
      type: 'done';
      id: number;
      buf: ArrayBuffer | SharedArrayBuffer;
      offset: number;
      length: number;
    }
  | { type: 'error'; id: number; code: string; message: string };

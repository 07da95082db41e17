/** Messages between the KDF client (core/crypto/kdf-client.ts) and its worker threads. */
import type { Argon2CalibrateOptions } from './argon2-calibrate.js';
import type { Argon2Params } from './argon2.js';
import type { HashName } from './hash.js';
import type { DigestCheck, KdfParams, SealParams } from './kdf-jobs.js';

/**
 * The body of each request by operation. Secret inputs (`password`, `passphrase`, `key`,
 * `material`) arrive in buffers of their own, transferred, and the worker wipes them when done.
 */
export interface KdfBodies {
  derive: { kdf: KdfParams; password: Uint8Array; salt: Uint8Array; keyLength: number };
  calibratePbkdf2: { hash: HashName; keyLength: number; iterTimeMs: number };
  calibrateArgon2: { options: Argon2CalibrateOptions };
  unseal: {
    passphrase: Uint8Array;
    seal: SealParams;
    material: Uint8Array;
    keyBytes: number;
    check: DigestCheck;
  };
  seal: { passphrase: Uint8Array; seal: SealParams; key: Uint8Array };
}

export type KdfOp = keyof KdfBodies;

/** One request as posted: an id, the operation and its body. */
export type KdfRequest = { [K in KdfOp]: { id: number; op: K } & KdfBodies[K] }[KdfOp];

/** Results by operation: keys and material as bytes (transferred), counts as numbers. */
export interface KdfResults {
  derive: Uint8Array;
  calibratePbkdf2: number;
  calibrateArgon2: Argon2Params;
  unseal: Uint8Array | null;
  seal: Uint8Array;
}

export type KdfReply =
  | { id: number; ok: true; value: KdfResults[keyof KdfResults] }
  | { id: number; ok: false; code: string; message: string };

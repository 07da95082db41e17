/**
 * Worker thread for key derivation (core/crypto/kdf-client.ts): runs one request at a time,
 * in arrival order, so a calibration is never timed while another derivation shares its
 * thread. Wipes the secret inputs it was sent; results are transferred back.
 */
import { parentPort } from 'node:worker_threads';
import { isVaultError } from '../api/errors.js';
import { calibrateArgon2 } from './argon2-calibrate.js';
import { runDerive, runSeal, runUnseal } from './kdf-jobs.js';
import type { KdfReply, KdfRequest, KdfResults } from './kdf-protocol.js';
import { calibratePbkdf2 } from './pbkdf2.js';
import { wipe } from './secret.js';

const port = parentPort;
if (!port) throw new Error('kdf-worker must run in a worker thread');

type Result = KdfResults[keyof KdfResults];

function run(req: KdfRequest): Result {
  switch (req.op) {
    case 'derive':
      return runDerive(req.kdf, req.password, req.salt, req.keyLength);
    case 'calibratePbkdf2':
      return calibratePbkdf2(req.hash, req.keyLength, req.iterTimeMs);
    case 'calibrateArgon2':
      return calibrateArgon2(req.options);
    case 'unseal':
      return runUnseal(req.passphrase, req.seal, req.material, req.keyBytes, req.check) ?? null;
    case 'seal':
      return runSeal(req.passphrase, req.seal, req.key);
  }
}

function secretsOf(req: KdfRequest): Uint8Array[] {
  switch (req.op) {
    case 'derive':
      return [req.password];
    case 'unseal':
      return [req.passphrase, req.material];
    case 'seal':
      return [req.passphrase, req.key];
    default:
      return [];
  }
}

/** Bytes in a buffer of their own (so transferring it sends nothing else); the view is wiped. */
function owned(v: Result): Result {
  if (!(v instanceof Uint8Array) || (v.byteOffset === 0 && v.byteLength === v.buffer.byteLength)) {
    return v;
  }
  const out = new Uint8Array(v.length);
  out.set(v);
  v.fill(0);
  return out;
}

// Every job is synchronous: requests run one at a time, in arrival order.
port.on('message', (req: KdfRequest) => {
  let reply: KdfReply;
  try {
    reply = { id: req.id, ok: true, value: owned(run(req)) };
  } catch (e) {
    const code = isVaultError(e) ? e.code : 'INTERNAL';
    const message = isVaultError(e) ? e.message : 'Key derivation failed';
    reply = { id: req.id, ok: false, code, message };
  } finally {
    wipe(...secretsOf(req));
  }
  const v = reply.ok ? reply.value : undefined;
  port.postMessage(reply, v instanceof Uint8Array ? [v.buffer as ArrayBuffer] : []);
});

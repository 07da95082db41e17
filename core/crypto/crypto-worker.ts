/**
 * Worker thread of the crypto pool: holds one sector cipher and encrypts/decrypts
 * transferred buffers in place, sending them back (docs/DESIGN.md constraint 3).
 */
import { parentPort } from 'node:worker_threads';
import { isVaultError } from '../api/errors.js';
import type { SectorCrypto } from './data-cipher.js';
import { createSectorCipher } from './sector-cipher.js';
import { wasmXorAvailable } from './wasm/xor-kernel.js';
import { wipe } from './secret.js';
import type { FromWorker, ToWorker } from './crypto-worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('crypto-worker must run in a worker thread');
let cipher: SectorCrypto | undefined;
let keyError: { code: string; message: string } | undefined;
/** Shared buffers the pool registered, by reference number. */
const shared = new Map<number, SharedArrayBuffer>();

port.on('message', (msg: ToWorker) => {
  switch (msg.type) {
    case 'init':
      try {
        cipher = createSectorCipher(msg.spec, msg.key, msg.sectorSize);
      } catch (e) {
        keyError = isVaultError(e)
          ? { code: e.code, message: e.message }
          : { code: 'INTERNAL', message: 'Cannot set up the cipher' };
      } finally {
        wipe(msg.key);
      }
      break;
    case 'share':
      shared.set(msg.ref, msg.buf);
      break;
    case 'unshare':
      shared.delete(msg.ref);
      break;
    case 'job': {
      const buf = typeof msg.buf === 'number' ? shared.get(msg.buf) : msg.buf;
      let reply: FromWorker;
      try {
        if (!buf) throw new Error('unknown shared buffer');
        const data = new Uint8Array(buf, msg.offset, msg.length);
        if (!cipher) throw keyError ?? new Error('no key');
        if (msg.op === 'encrypt') cipher.encrypt(data, msg.ivSector);
        else cipher.decrypt(data, msg.ivSector);
        reply = { type: 'done', id: msg.id, offset: msg.offset, length: msg.length };
        if (typeof msg.buf !== 'number') reply.buf = msg.buf;
      } catch (e) {
        const code = isVaultError(e) ? e.code : ((e as { code?: string }).code ?? 'INTERNAL');
        const message =
          e instanceof Error ? e.message : String((e as { message?: string }).message);
        reply = { type: 'error', id: msg.id, code, message };
      }
      const transfer = reply.type === 'done' && reply.buf ? [reply.buf] : [];
      port.postMessage(reply, transfer);
      break;
    }
    case 'close':
      shared.clear();
      cipher?.dispose();
      cipher = undefined;
      port.close();
      break;
  }
});

// Compile the SIMD kernels while idle: a prewarmed worker waits for its key (the passphrase
// check), and compiling at the first job instead delayed the first chunk of every copy by
// ~10 ms. (The compile happens once either way: a job that comes first does it.)
setImmediate(wasmXorAvailable);

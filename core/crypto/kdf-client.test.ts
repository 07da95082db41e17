/** The KDF worker: results equal the in-thread functions, errors stay typed, secrets stay ours. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, it } from 'node:test';
import { isVaultError } from '../api/errors.js';
import { hex } from '../testing/bytes.js';
import { argon2MemoryLimitKiB, calibrateArgon2 } from './argon2-calibrate.js';
import { argon2Noble } from './argon2.js';
import { parseDmCipher } from './cipher-spec.js';
import {
  calibrateArgon2Costs,
  calibratePbkdf2Iterations,
  deriveKey,
  kdfWorkersStarted,
  prewarmKdfWorker,
  sealKey,
  unsealKey,
  type KdfParams,
  type SealParams,
} from './kdf-client.js';
import type { KdfReply } from './kdf-protocol.js';
import { pbkdf2 } from './pbkdf2.js';

const te = (s: string) => new TextEncoder().encode(s);
const SALT = new Uint8Array(32).fill(7);
const ARGON: KdfParams = { type: 'argon2id', time: 2, memoryKiB: 256, parallel: 2 };
const PBKDF2: KdfParams = { type: 'pbkdf2', hash: 'sha256', iterations: 1000 };

describe('KDF worker', () => {
  it('derives what the in-thread functions derive (PBKDF2 and Argon2)', async () => {
    const pw = te('correct horse');
    assert.equal(
      hex(await deriveKey(PBKDF2, pw, SALT, 64)),
      hex(pbkdf2('sha256', pw, SALT, 1000, 64))
    );
    const p = { time: 2, memoryKiB: 256, parallel: 2 };
    assert.equal(
      hex(await deriveKey(ARGON, pw, SALT, 64)),
      hex(argon2Noble('argon2id', pw, SALT, p, 64))
    );
    assert.equal(hex(pw), hex(te('correct horse')), 'the caller keeps its passphrase');
  });

  for (const kdf of [PBKDF2, ARGON]) {
    it(`seals and unseals a key (${kdf.type}); a wrong passphrase opens nothing`, async () => {
      const key = new Uint8Array(64).map((_, i) => i * 3);
      const seal: SealParams = {
        kdf,
        salt: SALT,
        cipher: parseDmCipher('aes-xts-plain64', 64),
        stripes: 4000,
        afHash: 'sha256',
      };
      const material = await sealKey(te('pass'), seal, key);
      assert.equal(material.length, 256000);
      const check = {
        hash: 'sha256' as const,
        salt: SALT,
        iterations: 1000,
        digest: pbkdf2('sha256', key, SALT, 1000, 32),
      };
      const before = hex(material);
      assert.equal(hex((await unsealKey(te('pass'), seal, material, 64, check))!), hex(key));
      assert.equal(await unsealKey(te('wrong'), seal, material, 64, check), undefined);
      assert.equal(hex(material), before, 'the caller keeps its material');
    });
  }

  it('a prewarmed idle worker serves the next Argon2 work; PBKDF2 then starts another', async () => {
    const pw = te('correct horse');
    // Idle first: no request of this file's may still be pending.
    await deriveKey(PBKDF2, pw, SALT, 32);
    const before = kdfWorkersStarted();
    prewarmKdfWorker(); // the shared worker lives: nothing new starts
    assert.equal(kdfWorkersStarted(), before);
    const p = { time: 2, memoryKiB: 256, parallel: 2 };
    assert.equal(
      hex(await deriveKey(ARGON, pw, SALT, 32)),
      hex(argon2Noble('argon2id', pw, SALT, p, 32))
    );
    assert.equal(kdfWorkersStarted(), before, 'Argon2 took the idle worker');
    assert.equal(
      hex(await deriveKey(PBKDF2, pw, SALT, 32)),
      hex(pbkdf2('sha256', pw, SALT, 1000, 32))
    );
    assert.equal(kdfWorkersStarted(), before + 1, 'the adopted worker exited with its work');
  });

  it('errors from the worker stay typed', async () => {
    const bad: KdfParams = { type: 'argon2id', time: 0, memoryKiB: 256, parallel: 1 };
    await assert.rejects(deriveKey(bad, te('x'), SALT, 32), (e: unknown) =>
      isVaultError(e, 'UNSUPPORTED_FEATURE')
    );
    await assert.rejects(calibratePbkdf2Iterations('sha256', 64, 0), (e: unknown) =>
      isVaultError(e, 'INVALID_ARGUMENT')
    );
    // The shared worker survives a failed request.
    assert.ok((await calibratePbkdf2Iterations('sha256', 64, 10)) >= 1000);
  });
});

describe('Argon2 cost calibration (cryptsetup-like)', () => {
  it('honours the minimum passes, the memory bound and the lanes', async () => {
    const c = await calibrateArgon2Costs({
      type: 'argon2id',
      iterTimeMs: 60,
      keyLength: 64,
      maxMemoryKiB: 2048,
    });
    assert.ok(c.time >= 4, `time ${c.time}`);
    assert.ok(c.memoryKiB >= 32 && c.memoryKiB <= 2048, `memory ${c.memoryKiB}`);
    assert.equal(c.parallel, Math.min(4, availableParallelism()));
  });

  it('more time buys more memory first, then more passes at the bound', () => {
    const small = calibrateArgon2({ type: 'argon2id', iterTimeMs: 5, keyLength: 32, parallel: 1 });
    assert.equal(small.time, 4);
    const capped = calibrateArgon2({
      type: 'argon2id',
      iterTimeMs: 400,
      keyLength: 32,
      parallel: 1,
      maxMemoryKiB: 64,
    });
    assert.equal(capped.memoryKiB, 64);
    assert.ok(capped.time > 4, `${capped.time} passes at the memory bound`);
    assert.throws(
      () => calibrateArgon2({ type: 'argon2id', iterTimeMs: 100, keyLength: 32, parallel: 5 }),
      (e: unknown) => isVaultError(e, 'INVALID_ARGUMENT')
    );
  });

  it('bounds memory by half the RAM, and by 4 GiB', () => {
    const limit = argon2MemoryLimitKiB();
    assert.ok(limit <= totalmem() / 1024 / 2 && limit <= 4 * 1024 * 1024, `${limit}`);
    assert.ok(limit > 0);
  });
});

describe('the bundled KDF worker', () => {
  // Built by scripts/lib/bundle.mjs beside the compiled modules; tests run from dist/.
  const bundle = new URL('./kdf-worker.bundle.js', import.meta.url);
  const built = import.meta.url.endsWith('.js');
  it(
    'runs Argon2 from the local WebAssembly file, with no fetch',
    { skip: built ? undefined : 'running from the .ts sources: no bundle to check' },
    async () => {
      assert.ok(existsSync(fileURLToPath(bundle)), 'npm run build writes kdf-worker.bundle.js');
      const text = readFileSync(fileURLToPath(bundle), 'utf8');
      assert.doesNotMatch(text, /\bfetch\(/);
      const worker = new Worker(bundle);
      try {
        const reply = await new Promise<KdfReply>((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
          const password = te('pw');
          worker.postMessage(
            { id: 1, op: 'derive', kdf: ARGON, password, salt: SALT, keyLength: 32 },
            [password.buffer]
          );
        });
        assert.ok(reply.ok, JSON.stringify(reply));
        const p = { time: 2, memoryKiB: 256, parallel: 2 };
        assert.equal(
          hex(reply.value as Uint8Array),
          hex(argon2Noble('argon2id', te('pw'), SALT, p, 32))
        );
      } finally {
        await worker.terminate();
      }
    }
  );
});

/**
 * How to start one of core/crypto's worker threads (the bulk crypto worker, the KDF worker):
 * its bundle when the build made a fresh one, else the compiled module, else (running the
 * `.ts` sources under tsx) an eval bootstrap. Also the error shape workers send back.
 */
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ERROR_CODES, fail, VaultError, type ErrorCode } from '../api/errors.js';

export type WorkerName = 'crypto-worker' | 'kdf-worker';

/**
 * The single-file worker bundle (scripts/lib/bundle.mjs; it starts faster) when the build
 * made one after the last compile of dist/ (dist/core.tsbuildinfo), else undefined.
 */
function freshBundle(name: WorkerName): URL | undefined {
  const bundle = new URL(`./${name}.bundle.js`, import.meta.url);
  if (bundle.protocol !== 'file:') return undefined;
  try {
    const made = statSync(fileURLToPath(bundle)).mtimeMs;
    const info = fileURLToPath(new URL('../../core.tsbuildinfo', import.meta.url));
    // No build record (a packaged app ships only dist/): the modules, never an unknown bundle.
    return made >= statSync(info).mtimeMs ? bundle : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The bundle when fresh, else the compiled `.js` beside this module (`dist/core/crypto/`), or
 * in development (running the `.ts` sources under tsx) a tiny eval bootstrap that registers
 * tsx's loader inside the worker and imports the `.ts` worker — workers do not inherit the
 * loader hooks of the main thread.
 */
function workerScript(name: WorkerName): { script: string | URL; eval: boolean } {
  const bundle = freshBundle(name);
  if (bundle) return { script: bundle, eval: false };
  const js = new URL(`./${name}.js`, import.meta.url);
  if (js.protocol !== 'file:' || existsSync(fileURLToPath(js))) return { script: js, eval: false };
  const ts = new URL(`./${name}.ts`, import.meta.url);
  if (!existsSync(fileURLToPath(ts))) throw fail('INTERNAL', `The ${name} script is missing`);
  let api: string;
  try {
    api = import.meta.resolve('tsx/esm/api');
  } catch (e) {
    throw fail('INTERNAL', 'Worker threads need a build (npm run build) or tsx', e);
  }
  const code =
    `import(${JSON.stringify(api)}).then((m) => { m.register(); ` +
    `return import(${JSON.stringify(ts.href)}); });`;
  return { script: code, eval: true };
}

/** Starts worker `name` (see {@link workerScript}). */
export function spawnCryptoWorker(name: WorkerName): Worker {
  const script = workerScript(name);
  return new Worker(script.script, { eval: script.eval });
}

/** A worker's `{ code, message }` as a typed error (unknown codes become INTERNAL). */
export function workerError(code: string, message: string): VaultError {
  const c = (ERROR_CODES as readonly string[]).includes(code) ? (code as ErrorCode) : 'INTERNAL';
  return new VaultError(c, message);
}

/**
 * The `VaultApi` implementation every face calls (CLI, Electron IPC, loopback server).
 * Long operations run as jobs in a `JobRegistry`; bulk crypto runs in worker threads.
 */
import { stat, rename, mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fail } from '../api/errors.js';
import type { JobInfo, VaultApi, VaultEvent } from '../api/types.js';
import { JobRegistry, type JobFunction } from '../jobs/job-registry.js';
import { calibratePbkdf2Iterations } from '../crypto/kdf-client.js';
import { parseHashName } from '../crypto/hash.js';
import { createImage } from './create.js';
import { headerConvert, headerRepair } from './header.js';
import { headerBackup } from './header-backup.js';
import { headerRestore } from './header-restore.js';
import { inspectImage } from './inspect.js';
import { keyslotAdd, keyslotChange, keyslotRemove, keyslotTest } from './keyslots.js';
import { assessLegacy, convertJob, migrateJob } from './convert.js';
import { exportJob, planForImage } from './bundle.js';
import { importJob, inspectBundle, readManifest } from './bundle-import.js';
import { describeKeys, listOwnKeys } from './bundle-keys.js';
import { listDirectory } from './list-directory.js';
import { rekeyJob } from './rekey.js';
import { startBatchJob } from './batch-job.js';
import { preflight } from './preflight.js';

export interface VaultServiceOptions {
  /** Worker threads for bulk crypto per cipher (default: the number of cores). */
  threads?: number;
}

export interface VaultService extends VaultApi {
  readonly jobs: JobRegistry;
  /** Resolves when the job ends. */
  waitForJob(id: string): Promise<JobInfo>;
}

export function createVaultService(opts: VaultServiceOptions = {}): VaultService {
  const jobs = new JobRegistry();
  const threads = opts.threads;
  const listeners = new Set<(e: VaultEvent) => void>();
  jobs.subscribe((job) => {
    for (const l of listeners) l({ type: 'job', job });
  });

  return {
    jobs,
    waitForJob: (id) => jobs.wait(id),
    // The app shows a held image as "In use" instead of failing to show it.
    inspect: (path) => inspectImage(path, { reportUse: true }),
    async create(req) {
      await createImage(req, threads);
      return inspectImage(req.path, { reportUse: true });
    },
    keyslotTest: (path, passphrase) => keyslotTest(path, passphrase),
    keyslotAdd: (req) => keyslotAdd(req),
    keyslotChange: (req) => keyslotChange(req),
    keyslotRemove: (req) => keyslotRemove(req),
    assessLegacyPassphrase: (path, passphrase) => assessLegacy(path, passphrase, threads),
    async benchmarkKdf(hash, iterTimeMs) {
      const h = parseHashName(hash);
      // On the KDF worker: a calibration takes ~1.2 s of CPU (core/crypto/kdf-client.ts).
      return {
        hash: h,
        iterTimeMs,
        iterations: await calibratePbkdf2Iterations(h, 64, iterTimeMs),
      };
    },
    // The CLI's requests may carry ShareOptions (-U) beside the contract's fields (convert.ts).
    async startConvert(req) {
      return jobs.start(
        'convert',
        `Convert ${basename(req.source)} → ${basename(req.target)}`,
        wiping(convertJob(req, threads), req.passphrase, req.sourcePassphrase)
      );
    },
    async startMigrate(req) {
      return jobs.start(
        'migrate',
        `Migrate ${basename(req.source)} to LUKS`,
        wiping(migrateJob(req, threads), req.oldPassphrase, req.passphrase)
      );
    },
    async startExport(req) {
      return jobs.start(
        'export',
        `Export ${basename(req.source)} for ${req.recipient}`,
        wiping(
          exportJob(req, threads),
          req.sourcePassphrase,
          req.recipientPassphrase,
          req.signingKeyPassphrase
        )
      );
    },
    async startImport(req) {
      const run = wiping(
        importJob(req, threads),
        req.passphrase,
        req.newPassphrase,
        req.identityPassphrase
      );
      return jobs.start('import', `Import ${basename(req.bundleDir)}`, run);
    },
    startBatch: async (req) => startBatchJob(jobs, req, (e) => listeners.forEach((l) => l(e))),
    libvirtPlan: (path) => planForImage(path),
    readBundleManifest: (dir) => readManifest(dir),
    inspectBundle: (path, allowed) => inspectBundle(path, allowed),
    describeKeys: (req) => describeKeys(req),
    listOwnKeys: () => listOwnKeys(),
    async listJobs() {
      return jobs.list();
    },
    async cancelJob(id) {
      jobs.cancel(id);
    },
    listDirectory: (path) => listDirectory(path),
    trash: (path) => moveToTrash(path),
    headerRepair: (path) => headerRepair(path),
    headerConvert: (req) => headerConvert(req),
    async startRekey(req) {
      const run = wiping(
        rekeyJob(req, threads),
        req.passphrase,
        req.newPassphrase,
        ...(req.otherPassphrases ?? [])
      );
      return jobs.start('rekey', `Rotate the master key of ${basename(req.path)}`, run);
    },
    headerBackup: (req) => headerBackup(req),
    headerRestore: (req) => headerRestore(req),
    preflight: (req) => preflight(req),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** Runs a job function, then zero-fills the passphrases it was given (docs/DESIGN.md, "Secrets"). */
function wiping(run: JobFunction, ...secrets: (Uint8Array | undefined)[]): JobFunction {
  return async (ctx) => {
    try {
      return await run(ctx);
    } finally {
      for (const s of secrets) s?.fill(0);
    }
  };
}

/** Moves a file into the freedesktop.org trash of the user (`~/.local/share/Trash`). */
async function moveToTrash(path: string): Promise<{ trashedTo: string }> {
  const src = resolve(path);
  const trash = join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'Trash');
  await mkdir(join(trash, 'files'), { recursive: true });
  await mkdir(join(trash, 'info'), { recursive: true });
  let name = basename(src);
  for (let i = 1; ; i++) {
    try {
      await stat(join(trash, 'files', name));
      name = `${basename(src)}.${i}`;
    } catch {
      break;
    }
  }
  const { writeFile } = await import('node:fs/promises');
  await writeFile(
    join(trash, 'info', `${name}.trashinfo`),
    `[Trash Info]\nPath=${encodeURI(src)}\nDeletionDate=${new Date().toISOString().slice(0, 19)}\n`
  );
  try {
    await rename(src, join(trash, 'files', name));
  } catch (e) {
    if ((e as { code?: string }).code === 'EXDEV') {
      throw fail('UNSUPPORTED_FEATURE', 'The trash is on another disk; move the file by hand');
    }
    throw e;
  }
  return { trashedTo: join(trash, 'files', name) };
}

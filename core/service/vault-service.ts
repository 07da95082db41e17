/**
 * The `VaultApi` implementation every face calls (CLI, Electron IPC, loopback server).
 * Long operations run as jobs in a `JobRegistry`; bulk crypto runs in worker threads.
 */
import { basename } from 'node:path';
import type { JobInfo, VaultApi, VaultEvent } from '../api/types.js';
import { JobRegistry, type JobFunction } from '../jobs/job-registry.js';
import { calibratePbkdf2Iterations } from '../crypto/kdf-client.js';
import { parseHashName } from '../crypto/hash.js';
import { createImage } from './create.js';
import { TrashGuard } from './trash.js';
import { headerConvert, headerRepair } from './header.js';
import { headerBackup } from './header-backup.js';
import { headerRestore } from './header-restore.js';
import { inspectImage } from './inspect.js';
import { keyslotAdd, keyslotChange, keyslotRemove, keyslotTest } from './keyslots.js';
import { assessLegacy, convertJob, migrateJob } from './convert.js';
import { rekeyJob } from './rekey.js';
import { startBatchJob } from './batch-job.js';
import { listDirectory } from './list-directory.js';

/**
 * The bundle and libvirt modules (age, OpenSSH keys, tar, virsh) load on first use: a
 * `convert` from the CLI then starts without compiling them (README "Speed", start-up).
 */
const bundleExport = () => import('./bundle.js');
const bundleImport = () => import('./bundle-import.js');
const bundleKeys = () => import('./bundle-keys.js');
const preflightModule = () => import('./preflight.js');

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
  // `trash` takes only images shown in the library or just created (core/service/trash.ts).
  const trashable = new TrashGuard();
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
    async inspect(path) {
      const info = await inspectImage(path, { reportUse: true });
      await trashable.remember(path);
      return info;
    },
    async create(req) {
      await createImage(req, threads);
      await trashable.remember(req.path);
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
          async (ctx) => (await bundleExport()).exportJob(req, threads)(ctx),
          req.sourcePassphrase,
          req.recipientPassphrase,
          req.signingKeyPassphrase
        )
      );
    },
    async startImport(req) {
      const run = wiping(
        async (ctx) => (await bundleImport()).importJob(req, threads)(ctx),
        req.passphrase,
        req.newPassphrase,
        req.identityPassphrase
      );
      return jobs.start('import', `Import ${basename(req.bundleDir)}`, run);
    },
    startBatch: async (req) => startBatchJob(jobs, req, (e) => listeners.forEach((l) => l(e))),
    libvirtPlan: async (path) => (await bundleExport()).planForImage(path),
    readBundleManifest: async (dir) => (await bundleImport()).readManifest(dir),
    inspectBundle: async (path, allowed) => (await bundleImport()).inspectBundle(path, allowed),
    describeKeys: async (req) => (await bundleKeys()).describeKeys(req),
    listOwnKeys: async () => (await bundleKeys()).listOwnKeys(),
    async listJobs() {
      return jobs.list();
    },
    async cancelJob(id) {
      jobs.cancel(id);
    },
    listDirectory: (path) => listDirectory(path),
    trash: (path) => trashable.trash(path),
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
    preflight: async (req) => (await preflightModule()).preflight(req),
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

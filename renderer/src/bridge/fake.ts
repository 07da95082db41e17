/**
 * An in-memory `VaultApi` for development ("demo mode") and component tests. It models images,
 * keyslots, jobs with progress/cancel and a small directory tree; no real crypto.
 */
import type { DirectoryEntry, JobInfo, VaultApi, VaultEvent } from '../../../core/api/index.js';
import { ApiError } from './errors.js';
import { runFakeBatch } from './fake-batch.js';
import { fakeHeaderOps } from './fake-headers.js';
import { type FakeImage, makeImage, slotInfos } from './fake-images.js';
import { fakePreflight } from './fake-preflight.js';

export type { FakeImage } from './fake-images.js';

const GiB = 1024 ** 3;
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const baseName = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
const dirName = (p: string): string => p.slice(0, p.lastIndexOf('/')) || '/';

export function createFakeApi(opts: { jobStepMs?: number } = {}): VaultApi {
  const stepMs = opts.jobStepMs ?? 150;
  const images = new Map<string, FakeImage>();
  const files = new Map<string, number>();
  const dirs = new Set(['/', '/home', '/home/demo', '/home/demo/vm', '/home/demo/Downloads']);
  const jobs = new Map<string, JobInfo>();
  const listeners = new Set<(e: VaultEvent) => void>();
  let jobSeq = 0;

  const add = (img: FakeImage): void => {
    images.set(img.info.path, img);
    files.set(img.info.path, img.info.fileSize);
  };
  add(makeImage('/home/demo/vm/web-server.qcow2', 'qcow2', 20 * GiB, 'luks', 'correct horse'));
  add(makeImage('/home/demo/vm/old-build-box.qcow2', 'qcow2', 8 * GiB, 'aes'));
  add(makeImage('/home/demo/vm/scratch.img', 'raw', 2 * GiB, 'none'));
  files.set('/home/demo/Downloads/notes.txt', 1200);

  const emit = (job: JobInfo): void => {
    jobs.set(job.id, job);
    for (const l of [...listeners]) l({ type: 'job', job: structuredClone(job) });
  };
  const get = (path: string): FakeImage => {
    const img = images.get(path);
    if (!img) throw new ApiError('NOT_FOUND', `No such file (${path})`);
    return img;
  };
  const unlock = (img: FakeImage, pass: Uint8Array): number => {
    if (!img.info.encryption || img.info.encryption.format !== 'luks')
      throw new ApiError('NOT_ENCRYPTED', 'This image has no LUKS keyslots');
    const i = img.slots.indexOf(dec(pass));
    if (i < 0) throw new ApiError('WRONG_PASSPHRASE', 'No keyslot opens with this passphrase');
    return i;
  };
  const refresh = (img: FakeImage): void => {
    if (img.info.encryption?.format === 'luks')
      img.info.encryption.slots = slotInfos(img.slots, 1_912_000);
  };
  const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

  function runJob(
    kind: JobInfo['kind'],
    label: string,
    total: number,
    finish: () => Record<string, unknown>
  ): JobInfo {
    const job: JobInfo = {
      id: `job-${++jobSeq}`,
      kind,
      label,
      state: 'running',
      startedAt: Date.now(),
      progress: {
        phase: 'copying',
        bytesDone: 0,
        bytesTotal: total,
        bytesPerSecond: 0,
        etaSeconds: null,
      },
    };
    jobs.set(job.id, job);
    const timer = setInterval(() => {
      const cur = jobs.get(job.id);
      if (!cur || cur.state !== 'running') return clearInterval(timer);
      const done = Math.min(total, cur.progress.bytesDone + total / 20);
      const speed = (total / 20) * (1000 / stepMs);
      const phase = done >= total * 0.85 ? 'verifying' : 'copying';
      if (done >= total) {
        clearInterval(timer);
        emit({
          ...cur,
          state: 'succeeded',
          endedAt: Date.now(),
          progress: { ...cur.progress, phase: 'done', bytesDone: total, etaSeconds: 0 },
          result: finish(),
        });
      } else {
        emit({
          ...cur,
          progress: {
            phase,
            bytesDone: done,
            bytesTotal: total,
            bytesPerSecond: speed,
            etaSeconds: (total - done) / speed,
          },
        });
      }
    }, stepMs);
    return structuredClone(job);
  }

  return {
    async inspect(path) {
      await delay(60);
      return structuredClone(get(path).info);
    },
    async create(req) {
      await delay(400);
      if (files.has(req.path)) throw new ApiError('EXISTS', `File exists (${req.path})`);
      const enc = req.passphrase ? 'luks' : 'none';
      const img = makeImage(
        req.path,
        req.format === 'luks' ? 'luks' : req.format,
        req.virtualSize,
        enc,
        req.passphrase ? dec(req.passphrase) : undefined
      );
      add(img);
      return structuredClone(img.info);
    },
    async keyslotTest(path, pass) {
      await delay(200);
      return { slot: unlock(get(path), pass) };
    },
    async keyslotAdd(req) {
      await delay(300);
      const img = get(req.path);
      unlock(img, req.passphrase);
      const free = req.slot ?? img.slots.indexOf(null);
      if (free < 0) throw new ApiError('NO_FREE_KEYSLOT', 'All keyslots are in use');
      if (img.slots[free] !== null)
        throw new ApiError('KEYSLOT_ACTIVE', `Keyslot ${free} is in use`);
      img.slots[free] = dec(req.newPassphrase);
      refresh(img);
      return { slot: free };
    },
    async keyslotChange(req) {
      await delay(300);
      const img = get(req.path);
      const old = unlock(img, req.passphrase);
      const free = img.slots.indexOf(null);
      if (free < 0) throw new ApiError('NO_FREE_KEYSLOT', 'All keyslots are in use');
      img.slots[free] = dec(req.newPassphrase);
      img.slots[old] = null;
      refresh(img);
      return { slot: free, removed: [old] };
    },
    async keyslotRemove(req) {
      await delay(200);
      const img = get(req.path);
      const targets = req.passphrase
        ? img.slots.flatMap((s, i) => (s === dec(req.passphrase!) ? [i] : []))
        : [req.slot ?? -1];
      if (req.passphrase && targets.length === 0)
        throw new ApiError('WRONG_PASSPHRASE', 'No keyslot opens with this passphrase');
      if (targets.some((t) => img.slots[t] === undefined || img.slots[t] === null))
        throw new ApiError('KEYSLOT_INACTIVE', 'That keyslot is empty');
      const remaining = img.slots.filter((s) => s !== null).length - targets.length;
      if (remaining < 1 && !req.forceLast)
        throw new ApiError('LAST_KEYSLOT', 'Refusing to remove the last active keyslot');
      for (const t of targets) img.slots[t] = null;
      refresh(img);
      return { removed: targets };
    },
    async assessLegacyPassphrase(_path, pass) {
      await delay(300);
      const ok = dec(pass) === 'oldsecret';
      return {
        verdict: ok ? 'plausible' : 'random',
        sampledSectors: 64,
        plausibleSectors: ok ? 61 : 0,
        randomSectors: ok ? 3 : 64,
        signatures: ok ? ['MBR partition table', 'ext4 superblock'] : [],
        explanation: ok
          ? 'Decrypted sectors look like real disk data (partition table found).'
          : 'Decrypted sectors look like random noise: the passphrase is probably wrong.',
      };
    },
    async benchmarkKdf(hash, iterTimeMs) {
      await delay(120);
      return { hash, iterTimeMs, iterations: Math.round(iterTimeMs * 1000) };
    },
    async startConvert(req) {
      const src = get(req.source);
      if (files.has(req.target)) throw new ApiError('EXISTS', `File exists (${req.target})`);
      return runJob('convert', `Convert ${baseName(req.source)}`, src.info.virtualSize, () => {
        add(
          makeImage(
            req.target,
            req.format,
            src.info.virtualSize,
            req.passphrase ? 'luks' : 'none',
            req.passphrase ? dec(req.passphrase) : undefined
          )
        );
        return { target: req.target, verified: true };
      });
    },
    async startMigrate(req) {
      const src = get(req.source);
      if (dec(req.oldPassphrase) !== 'oldsecret' && !req.force)
        throw new ApiError('WRONG_PASSPHRASE', 'The old passphrase looks wrong');
      return runJob('migrate', `Migrate ${baseName(req.source)}`, src.info.virtualSize, () => {
        add(makeImage(req.target, 'qcow2', src.info.virtualSize, 'luks', dec(req.passphrase)));
        return {
          target: req.target,
          verified: true,
          verification: 'Every sector of the new image matches the original.',
        };
      });
    },
    async startBatch(req) {
      const job: JobInfo = {
        id: `job-${++jobSeq}`,
        kind: 'batch',
        label: `Batch: ${req.paths.length} images`,
        state: 'running',
        startedAt: Date.now(),
        progress: {
          phase: 'preparing',
          bytesDone: 0,
          bytesTotal: 0,
          bytesPerSecond: 0,
          etaSeconds: null,
        },
      };
      emit(job);
      void runFakeBatch(this, req, job.id, (report) => {
        for (const l of [...listeners]) l({ type: 'batch', report });
      }).then((report) =>
        emit({ ...job, state: 'succeeded', endedAt: Date.now(), result: { report } })
      );
      return structuredClone(job);
    },
    async startExport() {
      throw new ApiError('UNSUPPORTED_FEATURE', 'Export is not available in demo mode');
    },
    async startImport() {
      throw new ApiError('UNSUPPORTED_FEATURE', 'Import is not available in demo mode');
    },
    async libvirtPlan() {
      throw new ApiError('UNSUPPORTED_FEATURE', 'Not available in demo mode');
    },
    async readBundleManifest() {
      throw new ApiError('UNSUPPORTED_FEATURE', 'Bundles are not available in demo mode');
    },
    async inspectBundle() {
      throw new ApiError('UNSUPPORTED_FEATURE', 'Bundles are not available in demo mode');
    },
    async describeKeys() {
      return { recipients: [] };
    },
    async listOwnKeys() {
      return [];
    },
    async listJobs() {
      return [...jobs.values()].map((j) => structuredClone(j));
    },
    async cancelJob(id) {
      const j = jobs.get(id);
      if (j && j.state === 'running')
        emit({
          ...j,
          state: 'cancelled',
          endedAt: Date.now(),
          error: { code: 'CANCELLED', message: 'Cancelled' },
        });
    },
    async listDirectory(path = '/home/demo') {
      if (!dirs.has(path)) throw new ApiError('NOT_FOUND', `No such folder (${path})`);
      const prefix = path === '/' ? '/' : path + '/';
      const entries: DirectoryEntry[] = [];
      for (const d of dirs)
        if (d !== path && d.startsWith(prefix) && !d.slice(prefix.length).includes('/'))
          entries.push({ name: baseName(d), path: d, kind: 'directory', size: 0 });
      for (const [f, size] of files)
        if (dirName(f) === path) entries.push({ name: baseName(f), path: f, kind: 'file', size });
      return { path, parent: path === '/' ? null : dirName(path), entries };
    },
    async headerRepair() {
      return { action: 'none', description: 'Both header copies are valid.' };
    },
    async startRekey(req) {
      const img = get(req.path);
      const slot = unlock(img, req.passphrase);
      return runJob(
        'rekey',
        `Rotate the master key of ${baseName(req.path)}`,
        img.info.virtualSize,
        () => {
          const kept = img.slots.map((p, i) =>
            i === slot
              ? req.newPassphrase
                ? dec(req.newPassphrase)
                : p
              : req.dropOtherSlots
                ? ''
                : p
          );
          img.slots = kept;
          refresh(img);
          return { path: req.path, slots: [slot], droppedSlots: [], resumed: false };
        }
      );
    },
    async headerConvert(req) {
      throw new ApiError('UNSUPPORTED_FEATURE', `The demo cannot convert ${baseName(req.path)}`);
    },
    ...fakeHeaderOps({ get, files, refresh, delay }),
    preflight: async (req) => fakePreflight(req, images.has(req.target) || files.has(req.target)),
    async trash(path) {
      get(path);
      images.delete(path);
      files.delete(path);
      return { trashedTo: `/home/demo/.local/share/Trash/files/${baseName(path)}` };
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/**
 * `VaultApi` over the Electron preload (`window.vault`). The preload returns envelopes
 * (`{ ok: true, result }` / `{ ok: false, error }`) because Electron keeps only the message of
 * an Error thrown across IPC; here they become values or `ApiError`s again.
 */
import type { ErrorPayload, VaultApi, VaultEvent } from '../../../core/api/index.js';
import { fromPayload } from './errors.js';

/** What a bridged call resolves to. */
export type IpcEnvelope<T> = { ok: true; result: T } | { ok: false; error: ErrorPayload };

type Bridged<F> = F extends (...a: infer A) => Promise<infer R>
  ? (...a: A) => Promise<IpcEnvelope<R>>
  : never;

/** The shape of `window.vault` as exposed by electron/preload/index.ts. */
export type ElectronVaultBridge = {
  [K in Exclude<keyof VaultApi, 'subscribe'>]: Bridged<VaultApi[K]>;
} & {
  subscribe(listener: (e: VaultEvent) => void): () => void;
  getPathForFile(file: File): string;
};

/** Returns the preload bridge when running inside the Electron window. */
export function electronBridge(): ElectronVaultBridge | null {
  const v = (window as unknown as { vault?: ElectronVaultBridge }).vault;
  return v && typeof v.inspect === 'function' ? v : null;
}

/** Wraps the bridge as a plain `VaultApi`. */
export function createElectronApi(bridge: ElectronVaultBridge): VaultApi {
  const unwrap = async <T>(p: Promise<IpcEnvelope<T>>): Promise<T> => {
    const r = await p;
    if (r.ok) return r.result;
    throw fromPayload(r.error);
  };
  return {
    inspect: (path) => unwrap(bridge.inspect(path)),
    create: (req) => unwrap(bridge.create(req)),
    keyslotTest: (path, pass) => unwrap(bridge.keyslotTest(path, pass)),
    keyslotAdd: (req) => unwrap(bridge.keyslotAdd(req)),
    keyslotChange: (req) => unwrap(bridge.keyslotChange(req)),
    keyslotRemove: (req) => unwrap(bridge.keyslotRemove(req)),
    assessLegacyPassphrase: (path, pass) => unwrap(bridge.assessLegacyPassphrase(path, pass)),
    benchmarkKdf: (hash, ms) => unwrap(bridge.benchmarkKdf(hash, ms)),
    startConvert: (req) => unwrap(bridge.startConvert(req)),
    startMigrate: (req) => unwrap(bridge.startMigrate(req)),
    startExport: (req) => unwrap(bridge.startExport(req)),
    startImport: (req) => unwrap(bridge.startImport(req)),
    libvirtPlan: (path) => unwrap(bridge.libvirtPlan(path)),
    readBundleManifest: (dir) => unwrap(bridge.readBundleManifest(dir)),
    listJobs: () => unwrap(bridge.listJobs()),
    cancelJob: (id) => unwrap(bridge.cancelJob(id)),
    listDirectory: (path) => unwrap(bridge.listDirectory(path)),
    trash: (path) => unwrap(bridge.trash(path)),
    subscribe: (listener) => bridge.subscribe(listener),
  };
}

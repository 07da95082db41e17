/**
 * Preload (sandboxed, CommonJS, self-contained: a sandboxed preload can require only
 * `electron`). Exposes `window.vault`: one typed method per `VaultApi` operation, a wrapped
 * event subscription that never leaks `ipcRenderer`, and `getPathForFile` for dropped files.
 * Results are `{ ok, result | error }` envelopes; renderer/src/bridge/electron.ts unwraps them.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { VaultApi, VaultEvent } from '../../core/api/index.js';

type Envelope<T> =
  { ok: true; result: T } | { ok: false; error: { code: string; message: string } };
type Bridged<F> = F extends (...a: infer A) => Promise<infer R>
  ? (...a: A) => Promise<Envelope<R>>
  : never;
type Methods = { [K in Exclude<keyof VaultApi, 'subscribe'>]: Bridged<VaultApi[K]> };

const call =
  (method: string) =>
  (...args: unknown[]): Promise<never> =>
    ipcRenderer.invoke(`vault:${method}`, args) as Promise<never>;

const methods: Methods = {
  inspect: call('inspect'),
  create: call('create'),
  keyslotTest: call('keyslotTest'),
  keyslotAdd: call('keyslotAdd'),
  keyslotChange: call('keyslotChange'),
  keyslotRemove: call('keyslotRemove'),
  assessLegacyPassphrase: call('assessLegacyPassphrase'),
  benchmarkKdf: call('benchmarkKdf'),
  startConvert: call('startConvert'),
  startMigrate: call('startMigrate'),
  startExport: call('startExport'),
  startImport: call('startImport'),
  libvirtPlan: call('libvirtPlan'),
  readBundleManifest: call('readBundleManifest'),
  listJobs: call('listJobs'),
  cancelJob: call('cancelJob'),
  listDirectory: call('listDirectory'),
  trash: call('trash'),
};

contextBridge.exposeInMainWorld('vault', {
  ...methods,
  subscribe(listener: (event: VaultEvent) => void): () => void {
    const wrapped = (_e: IpcRendererEvent, event: VaultEvent) => listener(event);
    ipcRenderer.on('vault:event', wrapped);
    return () => {
      ipcRenderer.removeListener('vault:event', wrapped);
    };
  },
  getPathForFile(file: File): string {
    return webUtils.getPathForFile(file);
  },
});

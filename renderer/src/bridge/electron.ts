/**
 * `VaultApi` over the Electron preload (`window.vault`), derived from the contract: one method
 * per operation. The preload returns envelopes (`{ ok: true, result }` / `{ ok: false, error }`)
 * because Electron keeps only the message of an Error thrown across IPC; here they become
 * values or `ApiError`s again.
 */
import {
  OPERATION_NAMES,
  type ElectronVaultBridge,
  type IpcEnvelope,
} from '../../../core/api/contract.js';
import type { VaultApi } from '../../../core/api/index.js';
import { fromPayload } from './errors.js';

/** Returns the preload bridge when running inside the Electron window. */
export function electronBridge(): ElectronVaultBridge | null {
  const v = (window as unknown as { vault?: ElectronVaultBridge }).vault;
  return v && typeof v.inspect === 'function' ? v : null;
}

/** Wraps the bridge as a plain `VaultApi`. */
export function createElectronApi(bridge: ElectronVaultBridge): VaultApi {
  const unwrap = (r: IpcEnvelope) => {
    if (r.ok) return r.result;
    throw fromPayload(r.error);
  };
  const operations = Object.fromEntries(
    OPERATION_NAMES.map((op) => [
      op,
      async (...args: unknown[]) =>
        unwrap(await (bridge[op] as (...a: unknown[]) => Promise<IpcEnvelope>)(...args)),
    ])
  );
  return { ...operations, subscribe: (listener) => bridge.subscribe(listener) } as VaultApi;
}

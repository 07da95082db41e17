/**
 * Preload (sandboxed): exposes `window.vault`, one method per operation of the contract
 * (core/api/contract.ts), a wrapped event subscription that never leaks `ipcRenderer`, and
 * `getPathForFile` for dropped files (docs/design/electron-conventions.md §2). A sandboxed preload can
 * require only `electron`, so the build bundles this file and the contract into the one
 * self-contained CommonJS file `dist/electron/preload/index.cjs` (scripts/lib/bundle.mjs).
 * Results are `{ ok, result | error }` envelopes; renderer/src/bridge/electron.ts unwraps them.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import {
  channelFor,
  EVENT_CHANNEL,
  OPERATION_NAMES,
  type BridgedOperations,
  type ElectronVaultBridge,
} from '../../core/api/contract.js';
import type { VaultEvent } from '../../core/api/types.js';

const operations = Object.fromEntries(
  OPERATION_NAMES.map((op) => [
    op,
    (...args: unknown[]) => ipcRenderer.invoke(channelFor(op), args),
  ])
) as BridgedOperations;

const bridge: ElectronVaultBridge = {
  ...operations,
  subscribe(listener: (event: VaultEvent) => void): () => void {
    const wrapped = (_e: IpcRendererEvent, event: VaultEvent) => listener(event);
    ipcRenderer.on(EVENT_CHANNEL, wrapped);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, wrapped);
    };
  },
  getPathForFile(file: File): string {
    return webUtils.getPathForFile(file);
  },
};

contextBridge.exposeInMainWorld('vault', bridge);

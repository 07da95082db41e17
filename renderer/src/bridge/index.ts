/**
 * Picks the `VaultApi` adapter for this page: Electron preload, loopback server (token in the
 * URL fragment, kept in memory only), or the in-memory demo fake.
 */
import type { VaultApi } from '../../../core/api/index.js';
import { createElectronApi, electronBridge } from './electron.js';
import { createFakeApi } from './fake.js';
import { createLoopbackApi, takeTokenFromLocation } from './loopback.js';

/** `locked`: served by `image-vault serve` but opened without the `#token=…` link. */
export type BridgeMode = 'electron' | 'loopback' | 'demo' | 'locked';

let current: { api: VaultApi; mode: BridgeMode; pathForFile: (f: File) => string | null } | null =
  null;

/** Chooses and remembers the adapter. Call once at startup, before rendering. */
export function connectBridge(): BridgeMode {
  const bridge = electronBridge();
  if (bridge) {
    current = {
      api: createElectronApi(bridge),
      mode: 'electron',
      pathForFile: (f) => bridge.getPathForFile(f) || null,
    };
    return 'electron';
  }
  const token = takeTokenFromLocation(window.location, window.history);
  if (token) {
    current = { api: createLoopbackApi(token), mode: 'loopback', pathForFile: () => null };
    return 'loopback';
  }
  const demo = new URLSearchParams(window.location.search).has('demo');
  const mode: BridgeMode = demo ? 'demo' : 'locked';
  current = { api: createFakeApi(), mode, pathForFile: () => null };
  return mode;
}

/** Installs a specific adapter (component tests). */
export function useBridgeForTests(api: VaultApi, mode: BridgeMode = 'demo'): void {
  current = { api, mode, pathForFile: () => null };
}

/** The active `VaultApi`. */
export function api(): VaultApi {
  if (!current) throw new Error('bridge not connected');
  return current.api;
}

/** The active transport. */
export function bridgeMode(): BridgeMode {
  return current?.mode ?? 'demo';
}

/** Absolute path of a dropped file (Electron only; browsers do not reveal paths). */
export function pathForDroppedFile(file: File): string | null {
  return current?.pathForFile(file) ?? null;
}

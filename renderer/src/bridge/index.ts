/**
 * Picks the `VaultApi` adapter for this page: the Electron preload (`window.vault`) or the
 * loopback server (the URL fragment's token traded for a session cookie, loopback.ts). Nothing
 * else: outside tests the renderer never runs on a fake. A page on `app://` without its bridge
 * is the desktop app with a broken preload, and says so; a loopback page without a token or a
 * session asks for the link from the terminal.
 */
import type { VaultApi } from '../../../core/api/index.js';
import { createElectronApi, electronBridge } from './electron.js';
import { createLoopbackApi, startSession, takeTokenFromLocation } from './loopback.js';

/**
 * `locked`: served by `image-vault serve` but opened without the `#token=…` link.
 * `no-bridge`: the desktop window's preload did not provide `window.vault`.
 */
export type BridgeMode = 'electron' | 'loopback' | 'locked' | 'no-bridge';

let current: { api: VaultApi; mode: BridgeMode; pathForFile: (f: File) => string | null } | null =
  null;

/** Chooses and remembers the adapter. Call once at startup, before rendering. */
export async function connectBridge(): Promise<BridgeMode> {
  const bridge = electronBridge();
  if (bridge) {
    current = {
      api: createElectronApi(bridge),
      mode: 'electron',
      pathForFile: (f) => bridge.getPathForFile(f) || null,
    };
    return 'electron';
  }
  if (isDesktopWindow()) return 'no-bridge';
  const token = takeTokenFromLocation(window.location, window.history);
  const auth = await startSession(token);
  if (auth) {
    current = { api: createLoopbackApi(auth), mode: 'loopback', pathForFile: () => null };
    return 'loopback';
  }
  return 'locked';
}

/** The desktop app's window: served from `app://`, in a browser that names itself Electron. */
function isDesktopWindow(): boolean {
  return window.location.protocol === 'app:' || /\bElectron\//.test(navigator.userAgent);
}

/** Installs a specific adapter (component tests). */
export function useBridgeForTests(api: VaultApi, mode: BridgeMode = 'loopback'): void {
  current = { api, mode, pathForFile: () => null };
}

/** The active `VaultApi`. */
export function api(): VaultApi {
  if (!current) throw new Error('bridge not connected');
  return current.api;
}

/** The active transport. */
export function bridgeMode(): BridgeMode {
  return current?.mode ?? 'locked';
}

/** Absolute path of a dropped file (Electron only; browsers do not reveal paths). */
export function pathForDroppedFile(file: File): string | null {
  return current?.pathForFile(file) ?? null;
}

/**
 * Where the main process finds its files, relative to its own compiled module
 * (`dist/electron/main/`). No `electron` import, so tests check these paths against the build.
 */
import { fileURLToPath } from 'node:url';

/** The built renderer (`dist/renderer/`), served under `app://vault/`. */
export const rendererDir = (): string => fileURLToPath(new URL('../../renderer/', import.meta.url));
/** The bundled preload the build writes (`dist/electron/preload/index.cjs`). */
export const preloadPath = (): string =>
  fileURLToPath(new URL('../preload/index.cjs', import.meta.url));
/** The window icon. */
export const iconPath = (): string =>
  fileURLToPath(new URL('../../../assets/app-icon.png', import.meta.url));

/**
 * Navigation, new-window, permission and IPC-sender guards (docs/design/electron-conventions.md §1).
 * Plain functions: no `electron` import, unit-tested without the binary.
 */

/** The origin our window is served from (`protocol.handle('app', …)`). */
export const APP_ORIGIN = 'app://vault';
/** The page the window loads. */
export const APP_ENTRY = `${APP_ORIGIN}/index.html`;

/** True when `url` is on our `app://vault` origin. */
export function isAppUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'app:' && u.host === 'vault';
  } catch {
    return false;
  }
}

/** `will-navigate` / `will-redirect`: allow only our own pages. Returns true to block. */
export function shouldBlockNavigation(url: string): boolean {
  return !isAppUrl(url);
}

/** `setWindowOpenHandler`: no new windows, ever. */
export function windowOpenHandler(): { action: 'deny' } {
  return { action: 'deny' };
}

/** `setPermissionRequestHandler` / check handler: deny every permission. */
export function permissionDecision(_permission: string): boolean {
  return false;
}

/** IPC sender check: the calling frame must be our top-level `app://vault` page. */
export function isTrustedSender(senderUrl: string | undefined | null): boolean {
  return typeof senderUrl === 'string' && isAppUrl(senderUrl);
}

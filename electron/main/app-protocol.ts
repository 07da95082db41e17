/**
 * The `app://vault/…` protocol: serves only files of the built renderer, with the same CSP
 * and headers as the loopback server. Returns Fetch `Response`s (Node has them), so it is
 * tested without Electron.
 */
import { SECURITY_HEADERS } from '../../core/web/security-headers.js';
import { readStaticFile } from '../../core/web/static-files.js';
import { isAppUrl } from './guards.js';

/** The privileges to register for the `app` scheme before `app.ready`. */
export const APP_SCHEME_PRIVILEGES = {
  scheme: 'app',
  privileges: {
    standard: true,
    secure: true,
    supportFetchAPI: true,
    corsEnabled: false,
    stream: false,
  },
} as const;

/** Answers one `app://` request from `rootDir` (the built renderer). */
export async function handleAppRequest(rootDir: string, url: string): Promise<Response> {
  const headers = new Headers(SECURITY_HEADERS);
  if (!isAppUrl(url)) return new Response('Forbidden', { status: 403, headers });
  const file = await readStaticFile(rootDir, new URL(url).pathname);
  if (!file) return new Response('Not found', { status: 404, headers });
  headers.set('Content-Type', file.contentType);
  return new Response(file.body, { status: 200, headers });
}

/**
 * The `app://vault/…` protocol: serves only files of the built renderer, with the same CSP
 * and headers as the loopback server. Returns Fetch `Response`s (Node has them), so it is
 * tested without Electron.
 */
import { readFile } from 'node:fs/promises';
import { SECURITY_HEADERS } from '../../core/server/security.js';
import { resolveStaticPath } from '../../core/server/static-files.js';
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

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  json: 'application/json',
  woff2: 'font/woff2',
  ico: 'image/x-icon',
  map: 'application/json',
};

/** Answers one `app://` request from `rootDir` (the built renderer). */
export async function handleAppRequest(rootDir: string, url: string): Promise<Response> {
  const headers = new Headers(SECURITY_HEADERS);
  if (!isAppUrl(url)) return new Response('Forbidden', { status: 403, headers });
  const path = resolveStaticPath(rootDir, new URL(url).pathname);
  if (!path) return new Response('Not found', { status: 404, headers });
  try {
    const body = await readFile(path);
    headers.set(
      'Content-Type',
      TYPES[path.slice(path.lastIndexOf('.') + 1)] ?? 'application/octet-stream'
    );
    return new Response(body, { status: 200, headers });
  } catch {
    return new Response('Not found', { status: 404, headers });
  }
}

/**
 * The built renderer (`dist/renderer`) as both web-content faces serve it, read-only: no
 * directory listings, no paths outside the root, a fixed content-type table.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/** Resolves a URL path inside `root`, or null when it escapes it or has no known type. */
export function resolveStaticPath(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const rel = decoded === '/' ? 'index.html' : decoded.replace(/^\/+/, '');
  const base = resolve(root);
  const full = normalize(join(base, rel));
  if (full !== base && !full.startsWith(base + sep)) return null;
  if (!(extname(full) in TYPES)) return null;
  return full;
}

/** The Content-Type of a path that `resolveStaticPath` accepted. */
export function contentTypeOf(path: string): string {
  return TYPES[extname(path)] ?? 'application/octet-stream';
}

/** A static file's bytes and type, or null when `urlPath` names no file under `root`. */
export async function readStaticFile(
  root: string,
  urlPath: string
): Promise<{ path: string; body: Buffer; contentType: string } | null> {
  const path = resolveStaticPath(root, urlPath);
  if (!path) return null;
  try {
    if (!(await stat(path)).isFile()) return null;
    return { path, body: await readFile(path), contentType: contentTypeOf(path) };
  } catch {
    return null;
  }
}

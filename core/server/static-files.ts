/**
 * Serves the built renderer (`dist/renderer`) read-only: no directory listings, no paths
 * outside the root, a fixed content-type table.
 */
import { readFile, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
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

/** Sends one static file; answers 404 when absent. */
export async function sendStatic(
  res: ServerResponse,
  root: string,
  urlPath: string
): Promise<number> {
  const file = resolveStaticPath(root, urlPath);
  if (file) {
    try {
      const st = await stat(file);
      if (st.isFile()) {
        const body = await readFile(file);
        res.statusCode = 200;
        res.setHeader('Content-Type', TYPES[extname(file)] ?? 'application/octet-stream');
        res.setHeader('Cache-Control', file.endsWith('.html') ? 'no-store' : 'no-cache');
        res.end(body);
        return 200;
      }
    } catch {
      // fall through to 404
    }
  }
  res.statusCode = 404;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end('Not found');
  return 404;
}

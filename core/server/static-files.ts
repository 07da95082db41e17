/** Serves the built renderer over HTTP (core/web/static-files.ts decides what may be served). */
import type { ServerResponse } from 'node:http';
import { readStaticFile } from '../web/static-files.js';

/** Sends one static file; answers 404 when absent. */
export async function sendStatic(
  res: ServerResponse,
  root: string,
  urlPath: string
): Promise<number> {
  const file = await readStaticFile(root, urlPath);
  if (file) {
    res.statusCode = 200;
    res.setHeader('Content-Type', file.contentType);
    res.setHeader('Cache-Control', file.path.endsWith('.html') ? 'no-store' : 'no-cache');
    res.end(file.body);
    return 200;
  }
  res.statusCode = 404;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end('Not found');
  return 404;
}

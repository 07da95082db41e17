/**
 * `image-vault serve`: the renderer and the `VaultApi` over HTTP on 127.0.0.1 only.
 *
 * Token scheme: the printed URL carries the token in the fragment (`#token=…`), which browsers
 * never send to a server, so it cannot reach an access log. The page's script reads it, clears
 * the fragment and sends it as `Authorization: Bearer …` on every API call and on the event
 * stream. The static files are the public renderer build (no user data) and are served without
 * the token, behind the same loopback / Host / Origin checks; every `/api/*` request needs it,
 * or the session cookie the page got for it from `POST /api/session` (security.ts
 * `SessionStore`), so that a reload of the tab does not lock the user out.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toVaultError, type ErrorCode, type VaultApi } from '../api/index.js';
import {
  applySecurityHeaders,
  hasValidToken,
  newToken,
  refuseReason,
  SessionStore,
} from './security.js';
import { invokeOperation } from '../api/dispatch.js';
import { openEventStream } from './event-stream.js';
import { sendStatic } from './static-files.js';
import { reviveBytes } from '../api/wire.js';

/** Largest accepted request body (bytes). */
export const MAX_BODY_BYTES = 256 * 1024;

export interface ServerOptions {
  api: VaultApi;
  /** 0 or absent: a free port chosen by the OS. */
  port?: number;
  /** The built renderer directory (`dist/renderer`). */
  staticDir: string;
  /** Access log sink: one line per request (method, path without query, status). */
  log?: (line: string) => void;
}

export interface RunningServer {
  /** `http://127.0.0.1:PORT/#token=…` — print it once, never log it. */
  url: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

const STATUS_FOR: Partial<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  INTERNAL: 500,
};

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(JSON.stringify(body === undefined ? null : body));
}

function sendError(res: ServerResponse, status: number, code: ErrorCode, message: string): void {
  sendJson(res, status, { error: { code, message } });
}

async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const c = chunk as Buffer;
    size += c.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(c);
  }
  const body = Buffer.alloc(size);
  let at = 0;
  for (const c of chunks) {
    c.copy(body, at);
    at += c.length;
    c.fill(0);
  }
  return body;
}

async function handleApi(
  api: VaultApi,
  req: IncomingMessage,
  res: ServerResponse,
  method: string
): Promise<void> {
  if (req.method !== 'POST') return sendError(res, 405, 'INVALID_ARGUMENT', 'Use POST');
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/json')) {
    return sendError(res, 415, 'INVALID_ARGUMENT', 'Content-Type must be application/json');
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES)
    return sendError(res, 413, 'INVALID_ARGUMENT', 'Request too large');
  const body = await readBody(req);
  if (body === null) {
    sendError(res, 413, 'INVALID_ARGUMENT', 'Request too large');
    req.socket.destroy();
    return;
  }
  let args: unknown;
  try {
    args = body.length === 0 ? [] : reviveBytes(JSON.parse(body.toString('utf8')));
  } catch {
    return sendError(res, 400, 'INVALID_ARGUMENT', 'Body is not valid JSON');
  } finally {
    body.fill(0);
  }
  try {
    const result = await invokeOperation(api, method, args);
    sendJson(res, 200, { result });
  } catch (e) {
    const err = toVaultError(e);
    sendError(res, STATUS_FOR[err.code] ?? 422, err.code, err.message);
  }
}

/**
 * Starts the loopback server. Binds 127.0.0.1 only; resolves once listening.
 * @returns the URL to print (token in the fragment), the token, and `close()`.
 */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const token = newToken();
  const log = opts.log ?? (() => undefined);
  const streams = new Set<() => void>();
  const sessions = new SessionStore();
  let port = 0;

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    res.on('finish', () => log(`${req.method ?? '?'} ${path.slice(0, 200)} ${res.statusCode}`));
    applySecurityHeaders(res);
    const refused = refuseReason(req, port);
    if (refused) return sendError(res, 403, 'INVALID_ARGUMENT', `Refused: ${refused}`);
    if (path === '/api' || path.startsWith('/api/')) {
      const byToken = hasValidToken(req, token);
      if (!byToken && !sessions.accepts(req, port)) {
        return sendError(res, 401, 'INVALID_ARGUMENT', 'Missing or wrong access token');
      }
      if (path === '/api/session') {
        // The page trades the token for a session cookie once; with the cookie it only asks.
        if (req.method !== 'POST') return sendError(res, 405, 'INVALID_ARGUMENT', 'Use POST');
        if (byToken) res.setHeader('Set-Cookie', SessionStore.setCookie(port, sessions.issue()));
        return sendJson(res, 200, { result: { session: true } });
      }
      if (path === '/api/events') {
        if (req.method !== 'GET') return sendError(res, 405, 'INVALID_ARGUMENT', 'Use GET');
        const stop = openEventStream(opts.api, req, res, () => streams.delete(stop));
        streams.add(stop);
        return;
      }
      void handleApi(opts.api, req, res, path.slice('/api/'.length)).catch(() => {
        if (!res.headersSent) sendError(res, 500, 'INTERNAL', 'Internal error');
      });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendError(res, 405, 'INVALID_ARGUMENT', 'Use GET');
    }
    void sendStatic(res, opts.staticDir, path);
  });
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/#token=${token}`,
    token,
    port,
    close: () =>
      new Promise<void>((resolveClose) => {
        for (const stop of [...streams]) stop();
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}

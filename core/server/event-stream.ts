/**
 * `GET /api/events`: Server-Sent Events carrying `VaultEvent`s. The client reads it with a
 * streaming `fetch` (not `EventSource`), so the token travels in a header, never in a URL.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { VaultApi } from '../api/index.js';

/** Heartbeat interval keeping proxies/tunnels from closing an idle stream. */
const HEARTBEAT_MS = 15_000;

/**
 * Opens an SSE stream subscribed to `api`; returns a function that ends it.
 * `onEnd` runs once when the stream ends for any reason.
 */
export function openEventStream(
  api: VaultApi,
  req: IncomingMessage,
  res: ServerResponse,
  onEnd: () => void
): () => void {
  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Connection', 'keep-alive');
  res.flushHeaders();
  res.write(': connected\n\n');
  const unsubscribe = api.subscribe((event) => {
    res.write(`data: ${JSON.stringify(event)}\n\n`);
  });
  const timer = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
  let ended = false;
  const stop = (): void => {
    if (ended) return;
    ended = true;
    clearInterval(timer);
    unsubscribe();
    res.end();
    onEnd();
  };
  req.on('close', stop);
  return stop;
}

/**
 * `VaultApi` over the loopback server (`image-vault serve`), derived from the contract:
 * `POST /api/<operation>` with a JSON argument array (bytes as `{ $b64 }`, core/api/wire.ts), and events from `GET /api/events` read with a streaming fetch so the token
 * stays in the `Authorization` header (never in a URL).
 */
import { OPERATION_NAMES } from '../../../core/api/contract.js';
import type { ErrorPayload, VaultApi, VaultEvent } from '../../../core/api/index.js';
import { ApiError, fromPayload } from './errors.js';
import { encodeBytes } from '../../../core/api/wire.js';

type Listener = (e: VaultEvent) => void;

/**
 * Reads `#token=…` from the page URL, then removes the fragment from the address bar and
 * history. Returns null when there is none.
 */
export function takeTokenFromLocation(loc: Location, hist: History): string | null {
  const match = /(?:^#|&)token=([0-9a-fA-F]{16,256})/.exec(loc.hash);
  if (!match?.[1]) return null;
  hist.replaceState(null, '', loc.pathname + loc.search);
  return match[1];
}

/** Creates the loopback adapter; `token` is kept in this closure only. */
export function createLoopbackApi(token: string, base = '/api/'): VaultApi {
  const headers = { Authorization: `Bearer ${token}` };

  async function call<T>(method: string, args: unknown[]): Promise<T> {
    let res: Response;
    try {
      res = await fetch(base + method, {
        method: 'POST',
        headers: { ...headers, 'Content-Type': 'application/json' },
        body: JSON.stringify(encodeBytes(args)),
        credentials: 'omit',
        cache: 'no-store',
        referrerPolicy: 'no-referrer',
      });
    } catch {
      throw new ApiError(
        'IO',
        'The Image Vault server is not reachable. Is `image-vault serve` still running?'
      );
    }
    let body: { result?: T; error?: ErrorPayload } = {};
    try {
      body = (await res.json()) as typeof body;
    } catch {
      throw new ApiError('INTERNAL', `Unexpected answer from the server (HTTP ${res.status})`);
    }
    if (!res.ok || body.error) throw fromPayload(body.error);
    return body.result as T;
  }

  const listeners = new Set<Listener>();
  let streaming = false;

  async function pump(): Promise<void> {
    let delay = 500;
    while (listeners.size > 0) {
      try {
        const res = await fetch(base + 'events', {
          headers,
          cache: 'no-store',
          credentials: 'omit',
        });
        if (!res.ok || !res.body) throw new Error(`events: HTTP ${res.status}`);
        delay = 500;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let cut: number;
          while ((cut = buf.indexOf('\n\n')) >= 0) {
            const frame = buf.slice(0, cut);
            buf = buf.slice(cut + 2);
            const data = frame
              .split('\n')
              .filter((l) => l.startsWith('data: '))
              .map((l) => l.slice(6))
              .join('\n');
            if (!data) continue;
            const event = JSON.parse(data) as VaultEvent;
            for (const l of [...listeners]) l(event);
          }
          if (listeners.size === 0) {
            await reader.cancel();
            break;
          }
        }
      } catch {
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 8000);
      }
    }
    streaming = false;
  }

  const operations = Object.fromEntries(
    OPERATION_NAMES.map((op) => [op, (...args: unknown[]) => call(op, args)])
  );
  return {
    ...operations,
    subscribe(listener: Listener) {
      listeners.add(listener);
      if (!streaming) {
        streaming = true;
        void pump();
      }
      return () => listeners.delete(listener);
    },
  } as unknown as VaultApi;
}

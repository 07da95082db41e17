/**
 * `VaultApi` over the loopback server (`image-vault serve`), derived from the contract:
 * `POST /api/<operation>` with a JSON argument array (bytes as `{ $b64 }`, core/api/wire.ts),
 * and events from `GET /api/events` read with a streaming fetch.
 *
 * Authentication (docs/decisions.md "serve sessions"): the page trades the fragment token once
 * for an `HttpOnly; SameSite=Strict` session cookie (`POST /api/session`) and then calls with
 * that cookie and the `X-Image-Vault: 1` header, so a reload keeps the session and the token
 * never appears in a URL, in storage or in script-readable state after load. Should the
 * browser refuse the cookie, the token stays in this closure and goes in `Authorization`.
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

/** How a loopback page authenticates: the session cookie, or (fallback) the token. */
export type LoopbackAuth = { cookie: true } | { token: string };

/**
 * Establishes the session: with the fragment's token, trades it for the cookie; without one
 * (a reload), asks whether the cookie this tab already holds is still valid.
 * Returns how to authenticate, or null when the page has no session (show the locked screen).
 */
export async function startSession(
  token: string | null,
  base = '/api/'
): Promise<LoopbackAuth | null> {
  const ask = async (headers: Record<string, string>): Promise<boolean> => {
    try {
      const res = await fetch(base + 'session', {
        method: 'POST',
        headers: { ...headers, 'X-Image-Vault': '1', 'Content-Type': 'application/json' },
        body: '[]',
        credentials: 'same-origin',
        cache: 'no-store',
        referrerPolicy: 'no-referrer',
      });
      return res.ok;
    } catch {
      return false;
    }
  };
  if (token) {
    if (!(await ask({ Authorization: `Bearer ${token}` }))) return { token };
    // The cookie is HttpOnly: check that the browser kept it before forgetting the token.
    return (await ask({})) ? { cookie: true } : { token };
  }
  return (await ask({})) ? { cookie: true } : null;
}

/** Creates the loopback adapter; a token is kept in this closure only. */
export function createLoopbackApi(auth: LoopbackAuth | string, base = '/api/'): VaultApi {
  const how: LoopbackAuth = typeof auth === 'string' ? { token: auth } : auth;
  const headers: Record<string, string> =
    'token' in how ? { Authorization: `Bearer ${how.token}` } : { 'X-Image-Vault': '1' };
  const credentials: RequestCredentials = 'token' in how ? 'omit' : 'same-origin';

  async function call<T>(method: string, args: unknown[]): Promise<T> {
    let res: Response;
    try {
      res = await fetch(base + method, {
        method: 'POST',
        headers: { ...headers, 'Content-Type': 'application/json' },
        body: JSON.stringify(encodeBytes(args)),
        credentials,
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
          credentials,
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

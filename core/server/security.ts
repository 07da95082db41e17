/**
 * Request guards and response headers of the loopback server (docs/DESIGN.md "Secrets":
 * 127.0.0.1 only, per-run token, Host/Origin checks, strict CSP).
 */
import { timingSafeEqual } from '../crypto/node-crypto.js';
import { randomHex } from '../crypto/random.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SECURITY_HEADERS } from '../web/security-headers.js';

/** A new random token: 32 bytes, hex encoded (URL-safe, header-safe). */
export function newToken(): string {
  return randomHex(32);
}

/** Constant-time comparison of the `Authorization: Bearer …` header with the token. */
export function hasValidToken(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization;
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice(7).trim(), 'utf8');
  const expected = Buffer.from(token, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Browser sessions of the loopback page (issue #14, docs/decisions.md "serve sessions"): the page
 * trades the fragment token once for a random session id in an `HttpOnly; SameSite=Strict`
 * cookie, so a reload keeps working while the token itself never sits in a URL, in storage or
 * in a cookie. Cookies ignore ports, so the name carries the port (two `serve` runs do not
 * overwrite each other) and only ids this process issued are accepted.
 */
export class SessionStore {
  private readonly ids = new Set<string>();
  constructor(private readonly max = 64) {}

  /** The cookie's name for a server on `port`. */
  static cookieName(port: number): string {
    return `iv_session_${port}`;
  }

  /** A new session id (the oldest is dropped past `max`). */
  issue(): string {
    const id = randomHex(32);
    this.ids.add(id);
    if (this.ids.size > this.max) this.ids.delete(this.ids.values().next().value as string);
    return id;
  }

  /** The `Set-Cookie` value for `id`: no Max-Age, so it ends with the browser session. */
  static setCookie(port: number, id: string): string {
    return `${SessionStore.cookieName(port)}=${id}; Path=/api; HttpOnly; SameSite=Strict`;
  }

  /**
   * True when the request carries a session cookie this server issued and the header
   * `X-Image-Vault: 1`, which no cross-site form can send and no cross-origin script can send
   * without a CORS preflight that this server never grants.
   */
  accepts(req: IncomingMessage, port: number): boolean {
    if (req.headers['x-image-vault'] !== '1') return false;
    const given = readCookie(req.headers.cookie, SessionStore.cookieName(port));
    if (!given || !/^[0-9a-f]{64}$/.test(given)) return false;
    for (const id of this.ids) {
      const a = Buffer.from(given, 'utf8');
      const b = Buffer.from(id, 'utf8');
      if (timingSafeEqual(a, b)) return true;
    }
    return false;
  }
}

/** The value of cookie `name` in a `Cookie` header, or null. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback addresses. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4 === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/**
 * The Host header values accepted: a loopback name with the server's port, or with any other
 * port, since an SSH tunnel (`ssh -L 8080:127.0.0.1:PORT host`) carries
 * the browser's local port in Host. Foreign names stay refused (DNS-rebinding defence: a
 * rebound name is never a loopback literal or `localhost`).
 */
export function isAllowedHost(host: string): boolean {
  const m = /^(127\.0\.0\.1|localhost|\[::1\])(?::(\d{1,5}))?$/.exec(host.toLowerCase());
  if (!m) return false;
  return m[2] === undefined || (Number(m[2]) >= 1 && Number(m[2]) <= 65535);
}

/** The Host header values accepted without a tunnel (kept for callers that list them). */
export function allowedHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

/**
 * Checks remote address, Host (DNS-rebinding defence) and Origin (cross-site defence: the
 * origin must be the very address the request was sent to, `http://` + Host).
 * Returns a short refusal reason, or null when the request may proceed.
 */
export function refuseReason(req: IncomingMessage, _port?: number): string | null {
  if (!isLoopbackAddress(req.socket.remoteAddress)) return 'remote address is not loopback';
  const host = req.headers.host;
  if (typeof host !== 'string' || !isAllowedHost(host)) return 'foreign Host';
  const origin = req.headers.origin;
  if (origin !== undefined) {
    if (typeof origin !== 'string' || origin.toLowerCase() !== `http://${host.toLowerCase()}`) {
      return 'foreign Origin';
    }
  }
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none')
    return 'cross-site request';
  return null;
}

/** Writes the security headers onto a response. */
export function applySecurityHeaders(res: ServerResponse): void {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
}

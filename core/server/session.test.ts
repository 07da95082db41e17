// `POST /api/session`: the fragment token is traded for an HttpOnly, SameSite=Strict cookie that
// authenticates later calls only with the `X-Image-Vault: 1` header (docs/decisions.md).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { VaultApi } from '../api/index.js';
import { readCookie, SessionStore } from './security.js';
import { startServer, type RunningServer } from './server.js';

interface Reply {
  status: number;
  setCookie: string[];
}

function post(port: number, path: string, headers: Record<string, string>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path,
        headers: { Host: `127.0.0.1:${port}`, 'Content-Type': 'application/json', ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, setCookie: res.headers['set-cookie'] ?? [] })
        );
      }
    );
    req.on('error', reject);
    req.end('[]');
  });
}

describe('loopback sessions', () => {
  let srv: RunningServer;
  let dir: string;
  const stub = { listJobs: async () => [] } as unknown as VaultApi;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iv-session-'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>x</title>');
    srv = await startServer({ api: stub, staticDir: dir });
  });
  after(async () => {
    await srv.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('issues an HttpOnly SameSite=Strict cookie for the token, never containing the token', async () => {
    const r = await post(srv.port, '/api/session', { Authorization: `Bearer ${srv.token}` });
    assert.equal(r.status, 200);
    const cookie = r.setCookie[0] ?? '';
    assert.match(cookie, new RegExp(`^iv_session_${srv.port}=[0-9a-f]{64}; `));
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Strict/);
    assert.match(cookie, /; Path=\/api/);
    assert.doesNotMatch(cookie, /Max-Age|Expires/, 'ends with the browser session');
    assert.ok(!cookie.includes(srv.token));
  });

  it('accepts the cookie with X-Image-Vault: 1 only, and never a cookie it did not issue', async () => {
    const r = await post(srv.port, '/api/session', { Authorization: `Bearer ${srv.token}` });
    const pair = (r.setCookie[0] ?? '').split(';')[0]!;
    const ok = await post(srv.port, '/api/listJobs', { Cookie: pair, 'X-Image-Vault': '1' });
    assert.equal(ok.status, 200);
    assert.equal((await post(srv.port, '/api/listJobs', { Cookie: pair })).status, 401);
    const forged = `${SessionStore.cookieName(srv.port)}=${'a'.repeat(64)}`;
    assert.equal(
      (await post(srv.port, '/api/listJobs', { Cookie: forged, 'X-Image-Vault': '1' })).status,
      401
    );
    // Asking with the cookie confirms the session without issuing another one.
    const again = await post(srv.port, '/api/session', { Cookie: pair, 'X-Image-Vault': '1' });
    assert.equal(again.status, 200);
    assert.equal(again.setCookie.length, 0);
    assert.equal((await post(srv.port, '/api/session', {})).status, 401);
  });

  it('keeps the Host and Origin checks for cookie sessions', async () => {
    const r = await post(srv.port, '/api/session', { Authorization: `Bearer ${srv.token}` });
    const pair = (r.setCookie[0] ?? '').split(';')[0]!;
    const base = { Cookie: pair, 'X-Image-Vault': '1' };
    const foreignOrigin = { ...base, Origin: 'http://attacker.example' };
    assert.equal((await post(srv.port, '/api/listJobs', foreignOrigin)).status, 403);
    const otherPort = { ...base, Origin: `http://127.0.0.1:${srv.port + 1}` };
    assert.equal((await post(srv.port, '/api/listJobs', otherPort)).status, 403);
    const rebinding = { ...base, Host: `evil.example:${srv.port}` };
    assert.equal((await post(srv.port, '/api/listJobs', rebinding)).status, 403);
    const crossSite = { ...base, 'Sec-Fetch-Site': 'same-site' };
    assert.equal((await post(srv.port, '/api/listJobs', crossSite)).status, 403);
  });

  it('reads one cookie out of a Cookie header', () => {
    assert.equal(readCookie('a=1; iv_session_5=xyz; b=2', 'iv_session_5'), 'xyz');
    assert.equal(readCookie('iv_session_50=xyz', 'iv_session_5'), null);
    assert.equal(readCookie(undefined, 'x'), null);
  });
});

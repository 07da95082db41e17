import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OPERATION_NAMES } from '../api/contract.js';
import { fail, type VaultApi, type VaultEvent } from '../api/index.js';
import { imageInfoFixture } from '../testing/api-fixtures.js';
import { startServer, type RunningServer } from './server.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(
  port: number,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: string }
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'GET',
        path: opts.path,
        headers: opts.headers,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      }
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

const listeners = new Set<(e: VaultEvent) => void>();
let lastPassphrase: number[] = [];
const stub = {
  inspect: async (path: string) => imageInfoFixture(path),
  keyslotTest: async (_p: string, pass: Uint8Array) => {
    lastPassphrase = [...pass];
    if (new TextDecoder().decode(pass) !== 'right')
      throw fail('WRONG_PASSPHRASE', 'Wrong passphrase');
    return { slot: 0 };
  },
  listJobs: async () => [],
  subscribe: (l: (e: VaultEvent) => void) => {
    listeners.add(l);
    return () => listeners.delete(l);
  },
} as unknown as VaultApi;

describe('loopback server', () => {
  let srv: RunningServer;
  let dir: string;
  const logs: string[] = [];
  const api = (path: string, body: string, extra: Record<string, string> = {}) =>
    send(srv.port, {
      method: 'POST',
      path,
      body,
      headers: {
        Host: `127.0.0.1:${srv.port}`,
        Authorization: `Bearer ${srv.token}`,
        'Content-Type': 'application/json',
        ...extra,
      },
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iv-server-'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>x</title>');
    srv = await startServer({ api: stub, staticDir: dir, log: (l) => logs.push(l) });
  });
  after(async () => {
    await srv.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints a loopback URL with the token in the fragment only', () => {
    assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{64}$/);
  });

  it('answers a valid call with its result', async () => {
    const r = await api('/api/inspect', JSON.stringify(['/tmp/a.img']));
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).result.path, '/tmp/a.img');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers['referrer-policy'], 'no-referrer');
    assert.match(String(r.headers['content-security-policy']), /default-src 'none'/);
  });

  it('decodes base64 bytes and reports typed errors', async () => {
    const wrong = await api('/api/keyslotTest', JSON.stringify(['/x', { $b64: btoa('nope') }]));
    assert.equal(wrong.status, 422);
    assert.equal(JSON.parse(wrong.body).error.code, 'WRONG_PASSPHRASE');
    assert.deepEqual(lastPassphrase, [...new TextEncoder().encode('nope')]);
    const ok = await api('/api/keyslotTest', JSON.stringify(['/x', { $b64: btoa('right') }]));
    assert.deepEqual(JSON.parse(ok.body), { result: { slot: 0 } });
  });

  it('rejects invalid arguments and unknown methods', async () => {
    const rel = await api('/api/inspect', JSON.stringify(['relative/path']));
    assert.equal(rel.status, 400);
    assert.equal(JSON.parse(rel.body).error.code, 'INVALID_ARGUMENT');
    const unknown = await api('/api/constructor', '[]');
    assert.equal(unknown.status, 400);
    const extra = await api('/api/inspect', JSON.stringify(['/a', '/b']));
    assert.equal(extra.status, 400);
  });

  it('refuses a request without the token, or with a wrong one', async () => {
    const none = await send(srv.port, {
      method: 'POST',
      path: '/api/listJobs',
      headers: { Host: `127.0.0.1:${srv.port}`, 'Content-Type': 'application/json' },
      body: '[]',
    });
    assert.equal(none.status, 401);
    const wrong = await api('/api/listJobs', '[]', { Authorization: `Bearer ${'0'.repeat(64)}` });
    assert.equal(wrong.status, 401);
  });

  it('refuses a foreign Host (DNS rebinding) and a foreign Origin', async () => {
    const host = await api('/api/listJobs', '[]', { Host: `evil.example:${srv.port}` });
    assert.equal(host.status, 403);
    const origin = await api('/api/listJobs', '[]', { Origin: 'http://evil.example' });
    assert.equal(origin.status, 403);
    const page = await send(srv.port, { path: '/', headers: { Host: 'evil.example' } });
    assert.equal(page.status, 403);
    const same = await api('/api/listJobs', '[]', {
      Origin: `http://localhost:${srv.port}`,
      Host: `localhost:${srv.port}`,
    });
    assert.equal(same.status, 200);
  });

  it('limits the body size', async () => {
    const r = await api('/api/inspect', JSON.stringify(['/' + 'a'.repeat(300 * 1024)]));
    assert.equal(r.status, 413);
  });

  it('serves the page with CSP and refuses path traversal', async () => {
    const page = await send(srv.port, { path: '/', headers: { Host: `localhost:${srv.port}` } });
    assert.equal(page.status, 200);
    assert.match(page.body, /<title>x<\/title>/);
    const up = await send(srv.port, {
      path: '/..%2f..%2fetc%2fpasswd',
      headers: { Host: `localhost:${srv.port}` },
    });
    assert.equal(up.status, 404);
  });

  it('streams events to a client holding the token', async () => {
    const received = await new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: srv.port,
          path: '/api/events',
          headers: { Host: `127.0.0.1:${srv.port}`, Authorization: `Bearer ${srv.token}` },
        },
        (res) => {
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            buf += c;
            if (buf.includes(': connected')) {
              for (const l of listeners)
                l({ type: 'job', job: { id: 'j1' } } as unknown as VaultEvent);
            }
            if (buf.includes('data: ')) {
              req.destroy();
              resolve(buf);
            }
          });
        }
      );
      req.on('error', reject);
      req.end();
    });
    assert.match(received, /data: \{"type":"job","job":\{"id":"j1"\}\}/);
  });

  it('has a route for every operation of the contract', async () => {
    for (const op of OPERATION_NAMES) {
      const r = await api(`/api/${op}`, JSON.stringify('not-an-array'));
      assert.equal(r.status, 400, op);
      assert.match(JSON.parse(r.body).error.message, new RegExp(`Invalid request for ${op}`));
    }
    const unknown = await api('/api/nothing', '[]');
    assert.match(JSON.parse(unknown.body).error.message, /Unknown operation/);
  });

  it('never writes the token into its log', () => {
    assert.ok(logs.length > 5);
    assert.ok(logs.every((l) => !l.includes(srv.token)));
    assert.ok(logs.some((l) => l.startsWith('POST /api/inspect 200')));
  });
});

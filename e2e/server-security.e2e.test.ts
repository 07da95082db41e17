// `serve` security with the real service: token, Host, Origin, token never logged, hash cleared.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { openApp, type AppFixture } from './helpers.js';

function post(port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      }
    );
    req.on('error', reject);
    req.end('[]');
  });
}

describe('loopback server security (e2e)', () => {
  let app: AppFixture;
  before(async () => {
    app = await openApp('security');
  });
  after(async () => app?.close());

  it('binds to 127.0.0.1 and prints the token only in the URL fragment', () => {
    assert.match(app.server!.url, /^http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{64}$/);
  });

  it('refuses API calls without the token, with a foreign Host or a foreign Origin', async () => {
    const { port, token } = app.server!;
    const host = `127.0.0.1:${port}`;
    assert.equal(await post(port, '/api/listJobs', { Host: host }), 401);
    assert.equal(
      await post(port, '/api/listJobs', { Host: host, Authorization: 'Bearer wrong' }),
      401
    );
    assert.equal(
      await post(port, '/api/listJobs', {
        Host: `attacker.example:${port}`,
        Authorization: `Bearer ${token}`,
      }),
      403
    );
    assert.equal(
      await post(port, '/api/listJobs', {
        Host: host,
        Origin: 'http://attacker.example',
        Authorization: `Bearer ${token}`,
      }),
      403
    );
    assert.equal(
      await post(port, '/api/listJobs', { Host: host, Authorization: `Bearer ${token}` }),
      200
    );
  });

  it('the page works, clears the token from the address bar, and the token never reaches the log', async () => {
    const { page } = app;
    await page.getByRole('heading', { name: 'Library' }).waitFor();
    assert.ok(!page.url().includes(app.server!.token));
    assert.ok(!page.url().includes('#'));
    await page.getByRole('button', { name: 'Open…' }).click();
    await page.getByRole('dialog', { name: 'Open a disk image' }).getByRole('listbox').waitFor();
    await app.shot('open-dialog');
    const csp = await page.evaluate(async () =>
      (await fetch('/')).headers.get('content-security-policy')
    );
    assert.match(csp ?? '', /script-src 'self'/);
    assert.ok(app.logs.some((l) => l.startsWith('POST /api/listDirectory 200')));
    assert.ok(app.logs.every((l) => !l.includes(app.server!.token)));
  });

  it('a reload without the link shows how to get in instead of the app', async () => {
    const { page } = app;
    await page.reload();
    await page
      .getByRole('heading', { name: /Open the link printed by image-vault serve/ })
      .waitFor();
    await app.shot('locked');
  });
});

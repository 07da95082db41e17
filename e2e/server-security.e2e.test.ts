// `serve` security with the real service: token, Host, Origin, token never logged, hash cleared.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openApp, shotsDir, type AppFixture } from './helpers.js';

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

  it('a reload keeps the session, with no token in the URL or in script-readable storage', async () => {
    const { page } = app;
    await page.reload();
    await page.getByRole('heading', { name: 'Library' }).waitFor();
    await page.getByText('Local session on this computer').waitFor();
    assert.ok(!page.url().includes('#'));
    const token = app.server!.token;
    const visible = await page.evaluate(() =>
      JSON.stringify({
        cookie: document.cookie,
        local: { ...localStorage },
        session: { ...sessionStorage },
        href: location.href,
      })
    );
    assert.ok(!visible.includes(token), 'the token is nowhere the page script can read');
    assert.ok(!visible.includes('iv_session'), 'the session cookie is HttpOnly');
    // The page works after the reload: the file browser lists a folder.
    await page.getByRole('button', { name: 'Open…' }).click();
    await page.getByRole('dialog', { name: 'Open a disk image' }).getByRole('listbox').waitFor();
    await page.keyboard.press('Escape');
    await app.shot('reloaded');
    assert.ok(app.logs.every((l) => !l.includes(token)));
  });

  it('a new browser session without the link shows how to get in instead of the app', async () => {
    const context = await app.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(app.server!.url.replace(/#.*$/, ''));
    await page
      .getByRole('heading', { name: /Open the link printed by image-vault serve/ })
      .waitFor();
    await page.screenshot({ path: join(shotsDir(), 'security-serve-locked-new-session.png') });
    await context.close();
  });
});

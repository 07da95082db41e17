// The desktop window itself: served through the compiled app:// handler with its CSP, and,
// when the preload is missing, an error screen rather than any working (or fake) app.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { openApp, type AppFixture } from './helpers.js';

describe('the desktop window (e2e)', () => {
  const opened: AppFixture[] = [];
  after(async () => Promise.all(opened.map((a) => a.close())));

  it('loads the renderer with the app:// CSP and talks to main through the preload', async () => {
    const app = await openApp('desktop-window', 'desktop');
    opened.push(app);
    const { page } = app;
    const res = await page.reload();
    assert.match(res?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
    await page.getByRole('heading', { name: 'Library' }).waitFor();
    await page.getByText('Desktop app').waitFor();
    assert.equal(await page.evaluate(() => typeof (window as { vault?: unknown }).vault), 'object');
    await app.shot('library');
  });

  it('without its preload shows that it could not start, and offers nothing to do', async () => {
    const app = await openApp('desktop-no-preload', 'desktop', { preload: false });
    opened.push(app);
    const { page } = app;
    await page.getByRole('heading', { name: 'Image Vault could not start' }).waitFor();
    assert.match(await page.getByRole('alert').innerText(), /preload script did not load/);
    assert.equal(await page.getByRole('button', { name: /Open|New encrypted image/ }).count(), 0);
    await app.shot('no-preload');
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { handleAppRequest } from './app-protocol.js';
import {
  isTrustedSender,
  permissionDecision,
  shouldBlockNavigation,
  windowOpenHandler,
} from './guards.js';
import { mainWindowOptions } from './window-options.js';

describe('window guards', () => {
  it('blocks navigation away from app://vault', () => {
    assert.equal(shouldBlockNavigation('app://vault/index.html'), false);
    for (const u of [
      'https://example.org/',
      'file:///etc/passwd',
      'app://evil/index.html',
      'javascript:alert(1)',
      'not a url',
    ]) {
      assert.equal(shouldBlockNavigation(u), true, u);
    }
  });
  it('denies new windows and every permission', () => {
    assert.deepEqual(windowOpenHandler(), { action: 'deny' });
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal'])
      assert.equal(permissionDecision(p), false);
  });
  it('trusts only the app:// page as IPC sender', () => {
    assert.equal(isTrustedSender('app://vault/index.html'), true);
    assert.equal(isTrustedSender('http://127.0.0.1/'), false);
    assert.equal(isTrustedSender(undefined), false);
  });
  it('sets every security switch of the window explicitly', () => {
    const w = mainWindowOptions('/p/preload.cjs').webPreferences;
    assert.equal(w.contextIsolation, true);
    assert.equal(w.sandbox, true);
    assert.equal(w.nodeIntegration, false);
    assert.equal(w.webSecurity, true);
    assert.equal(w.webviewTag, false);
    assert.equal(w.preload, '/p/preload.cjs');
  });
});

describe('app:// protocol', () => {
  it('serves renderer files with the CSP and refuses everything else', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iv-proto-'));
    try {
      await writeFile(join(dir, 'index.html'), '<!doctype html>');
      const ok = await handleAppRequest(dir, 'app://vault/index.html');
      assert.equal(ok.status, 200);
      assert.match(ok.headers.get('content-security-policy') ?? '', /script-src 'self'/);
      assert.equal(ok.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(await ok.text(), '<!doctype html>');
      assert.equal((await handleAppRequest(dir, 'app://vault/..%2f..%2fetc%2fpasswd')).status, 404);
      assert.equal((await handleAppRequest(dir, 'app://other/index.html')).status, 403);
      assert.equal((await handleAppRequest(dir, 'app://vault/missing.js')).status, 404);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

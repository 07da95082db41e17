/**
 * Shared e2e fixture: the real `VaultApi` service behind `startServer`, Debian Chromium
 * through playwright-core, a temp dir, and screenshots under .test-artifacts/screenshots/.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { startServer, type RunningServer } from '../core/server/index.js';
import { createVaultService } from '../core/service/index.js';
import { scratchDir } from '../core/testing/peers.js';
import { openDesktopWindow, type DesktopShell } from './desktop-shell.js';

/** A user agent like Electron's (it names Electron; the renderer reads that). */
const DESKTOP_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) image-vault/0.1.0 Chrome/146.0.0.0 Electron/41.7.1 Safari/537.36';

/** The repository root (works from e2e/*.ts via tsx and from dist/e2e/*.js). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** How the app is reached: `serve` (loopback server) or `desktop` (the Electron path). */
export type Face = 'serve' | 'desktop';
/** Both faces; flows that must work in each run once per face. */
export const FACES: readonly Face[] = ['serve', 'desktop'];

export interface AppFixture {
  face: Face;
  dir: string;
  /** The loopback server (serve face only). */
  server?: RunningServer;
  browser: Browser;
  page: Page;
  logs: string[];
  /** Drops a file on the window (desktop face only: browsers do not reveal paths). */
  dropFile(path: string): Promise<void>;
  shot(name: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the service, a browser and the app on `face`: the loopback server with its token link,
 * or the desktop path (desktop-shell.ts: compiled IPC handlers, app:// serving and preload).
 */
export async function openApp(
  suite: string,
  face: Face = 'serve',
  opts: { preload?: boolean } = {}
): Promise<AppFixture> {
  const root = repoRoot();
  const staticDir = join(root, 'dist', 'renderer');
  if (!existsSync(join(staticDir, 'index.html'))) {
    throw new Error('dist/renderer is missing: run npm run build first');
  }
  const { dir, cleanup } = await scratchDir(`iv-e2e-${suite}-`);
  const logs: string[] = [];
  const api = createVaultService({ threads: 2 });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    // Electron's user agent names it; the renderer uses that (and app://) to tell the desktop.
    ...(face === 'desktop' ? { userAgent: `${DESKTOP_UA}` } : {}),
  });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  page.on('console', (m) => logs.push(`console.${m.type()}: ${m.text()}`));
  let server: RunningServer | undefined;
  let desktop: DesktopShell | undefined;
  if (face === 'serve') {
    server = await startServer({ api, staticDir, log: (l) => logs.push(l) });
    await page.goto(server.url);
  } else {
    desktop = await openDesktopWindow(context, page, api, opts);
  }
  const shots = shotsDir();
  await mkdir(shots, { recursive: true });
  let n = 0;
  return {
    face,
    dir,
    server,
    browser,
    page,
    logs,
    async dropFile(path) {
      if (!desktop) throw new Error('dropFile: only the desktop face reveals dropped paths');
      await desktop.dropFile(path);
    },
    async shot(name) {
      n++;
      await page.screenshot({
        path: join(shots, `${suite}-${face}-${String(n).padStart(2, '0')}-${name}.png`),
      });
    },
    async close() {
      desktop?.stop();
      await browser.close();
      await server?.close();
      await cleanup();
    },
  };
}

/** Where screenshots go: `IMAGE_VAULT_SHOTS`, or .test-artifacts/screenshots/. */
export function shotsDir(): string {
  return process.env.IMAGE_VAULT_SHOTS ?? resolve(repoRoot(), '.test-artifacts', 'screenshots');
}

/**
 * Types `path` into a file browser's Location once its first listing has filled the field
 * (tests that race that listing on purpose type directly: e2e/file-browser.e2e.test.ts). A
 * listing that lands between the two halves of Playwright's fill (select all, then insert)
 * leaves the start folder glued in front of the text (seen: "/root/tmp/…"); a person's first
 * keystroke marks the field as theirs before any such listing can land.
 */
export async function typeLocation(dlg: Locator, path: string): Promise<Locator> {
  const location = dlg.getByLabel('Location');
  for (let i = 0; i < 200 && (await location.inputValue()) === ''; i++) {
    await dlg.page().waitForTimeout(50);
  }
  await location.fill(path);
  assert.equal(await location.inputValue(), path, 'the typed path stays in Location');
  return location;
}

/** Picks a file with the in-app Open… browser. */
export async function openViaBrowser(page: Page, folder: string, fileName: string): Promise<void> {
  await page.getByRole('button', { name: 'Open…' }).click();
  const dlg = page.getByRole('dialog', { name: 'Open a disk image' });
  await typeLocation(dlg, folder);
  await dlg.getByRole('button', { name: 'Go' }).click();
  await dlg.getByRole('option', { name: fileName }).click();
  await dlg.getByRole('button', { name: 'Open', exact: true }).click();
}

/** Fills "New passphrase" + "Repeat new passphrase" (or custom label) inside a dialog. */
export async function fillNew(
  scope: Page | ReturnType<Page['getByRole']>,
  pass: string,
  label = 'New passphrase'
): Promise<void> {
  await scope.getByLabel(label, { exact: true }).fill(pass);
  await scope.getByLabel(`Repeat ${label.toLowerCase()}`, { exact: true }).fill(pass);
}

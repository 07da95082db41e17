/**
 * Shared e2e fixture: the real `VaultApi` service behind `startServer`, Debian Chromium
 * through playwright-core, a temp dir, and screenshots under .test-artifacts/screenshots/.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, type RunningServer } from '../core/server/index.js';
import { createVaultService } from '../core/service/index.js';
import { scratchDir } from '../core/testing/peers.js';

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

export interface AppFixture {
  dir: string;
  server: RunningServer;
  browser: Browser;
  page: Page;
  logs: string[];
  shot(name: string): Promise<void>;
  close(): Promise<void>;
}

/** Starts service + server + browser and opens the app with its token link. */
export async function openApp(suite: string): Promise<AppFixture> {
  const root = repoRoot();
  const staticDir = join(root, 'dist', 'renderer');
  if (!existsSync(join(staticDir, 'index.html'))) {
    throw new Error(
      'dist/renderer is missing: build the renderer first (npx vite build --config renderer/vite.config.ts)'
    );
  }
  const { dir, cleanup } = await scratchDir(`iv-e2e-${suite}-`);
  const logs: string[] = [];
  const server = await startServer({
    api: createVaultService({ threads: 2 }),
    staticDir,
    log: (l) => logs.push(l),
  });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  page.setDefaultTimeout(30_000);
  await page.goto(server.url);
  const shots = resolve(root, '.test-artifacts', 'screenshots');
  await mkdir(shots, { recursive: true });
  let n = 0;
  return {
    dir,
    server,
    browser,
    page,
    logs,
    async shot(name) {
      n++;
      await page.screenshot({
        path: join(shots, `${suite}-${String(n).padStart(2, '0')}-${name}.png`),
      });
    },
    async close() {
      await browser.close();
      await server.close();
      await cleanup();
    },
  };
}

/** Picks a file with the in-app Open… browser. */
export async function openViaBrowser(page: Page, folder: string, fileName: string): Promise<void> {
  await page.getByRole('button', { name: 'Open…' }).click();
  const dlg = page.getByRole('dialog', { name: 'Open a disk image' });
  await dlg.getByLabel('Location').fill(folder);
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

/**
 * The desktop app's path without an Electron binary (docs/DESIGN.md constraint 1): the real
 * compiled pieces, with tiny stand-ins only where Electron itself would be.
 *
 * - Main: the compiled IPC handler table (`dist/electron/main/ipc-handlers.js`) registered on a
 *   stand-in `ipcMain`, over the real service; events forwarded with the compiled
 *   `forwardEvents`.
 * - Page: the built renderer served through the compiled `app://` handler
 *   (`handleAppRequest`: same files, same CSP and headers), at a stand-in https origin because
 *   Chromium without Electron cannot load `app://`; sender URLs are mapped back to `app://vault`.
 * - Preload: the built `dist/electron/preload/index.cjs`, run before the page's scripts with
 *   stand-ins for `contextBridge`, `ipcRenderer` and `webUtils` (desktop-stand-ins.ts) that
 *   carry each call, structured-cloned, over a Playwright binding to the handlers above.
 */
import { readFile } from 'node:fs/promises';
import type { BrowserContext, Page } from 'playwright-core';
import type { VaultApi } from '../core/api/index.js';
import { handleAppRequest } from '../electron/main/app-protocol.js';
import { APP_ENTRY, APP_ORIGIN } from '../electron/main/guards.js';
import {
  forwardEvents,
  registerIpcHandlers,
  type IpcMainLike,
} from '../electron/main/ipc-handlers.js';
import { preloadPath, rendererDir } from '../electron/main/paths.js';
import { decodeClone, encodeClone, pageScript } from './desktop-stand-ins.js';

/** Where the page is served in Chromium, standing in for `app://vault`. */
const STAND_IN_ORIGIN = 'https://vault.app.invalid';

const toAppUrl = (url: string): string =>
  url.startsWith(STAND_IN_ORIGIN) ? APP_ORIGIN + url.slice(STAND_IN_ORIGIN.length) : url;

type IpcListener = Parameters<IpcMainLike['handle']>[1];

export interface DesktopShell {
  /** Drops the file at `path` on the window, as a file manager would. */
  dropFile(path: string): Promise<void>;
  stop(): void;
}

/**
 * Wires `page` (in `context`) as the desktop window over `api`, then loads the app entry
 * (`preload: false` leaves the preload out, as a broken build would).
 * Returns a way to drop files on the window and a `stop` that unregisters the handlers.
 */
export async function openDesktopWindow(
  context: BrowserContext,
  page: Page,
  api: VaultApi,
  opts: { preload?: boolean } = {}
): Promise<DesktopShell> {
  const handlers = new Map<string, IpcListener>();
  const ipcMain: IpcMainLike = {
    handle: (channel, listener) => void handlers.set(channel, listener),
    removeHandler: (channel) => void handlers.delete(channel),
  };
  const unregister = registerIpcHandlers(ipcMain, api);

  await context.route(`${STAND_IN_ORIGIN}/**`, async (route) => {
    const res = await handleAppRequest(rendererDir(), toAppUrl(route.request().url()));
    const headers: Record<string, string> = {};
    res.headers.forEach((value, name) => (headers[name] = value));
    await route.fulfill({
      status: res.status,
      headers,
      body: Buffer.from(await res.arrayBuffer()),
    });
  });
  await page.exposeBinding('__ivIpcInvoke', async (source, channel: string, args: unknown) => {
    const listener = handlers.get(channel);
    if (!listener) throw new Error(`No handler registered for '${channel}'`);
    const event = { senderFrame: { url: toAppUrl(source.frame.url()) } };
    return encodeClone(await listener(event, decodeClone(args)));
  });
  if (opts.preload !== false) {
    await page.addInitScript({ content: pageScript(await readFile(preloadPath(), 'utf8')) });
  }

  const stopEvents = forwardEvents(api, (channel, event) => {
    void page
      .evaluate(([c, e]) => (window as unknown as IvWindow).__ivIpcEmit?.(c, e), [
        channel,
        encodeClone(event),
      ] as const)
      .catch(() => undefined);
  });
  await page.goto(APP_ENTRY.replace(APP_ORIGIN, STAND_IN_ORIGIN));
  return {
    async dropFile(path) {
      await page.evaluate(
        (p) => (window as unknown as IvWindow).__ivDrop?.(p, document.querySelector('#root')!),
        path
      );
    },
    stop() {
      stopEvents();
      unregister();
    },
  };
}

interface IvWindow {
  __ivIpcEmit?: (channel: string, payload: unknown) => void;
  __ivDrop?: (path: string, target: Element) => void;
}

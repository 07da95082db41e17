/**
 * Electron main entry (thin): window on `app://vault` with a strict CSP, guards, IPC handlers
 * calling the `VaultApi` from core/service (jobs run there, in worker threads).
 * The only file of the main process that imports `electron`.
 */
import { app, BrowserWindow, ipcMain, protocol, session } from 'electron';
import { createVaultService } from '../../core/service/index.js';
import { APP_SCHEME_PRIVILEGES, handleAppRequest } from './app-protocol.js';
import {
  APP_ENTRY,
  permissionDecision,
  shouldBlockNavigation,
  windowOpenHandler,
} from './guards.js';
import { forwardEvents, registerIpcHandlers } from './ipc-handlers.js';
import { iconPath, preloadPath, rendererDir } from './paths.js';
import { mainWindowOptions } from './window-options.js';

protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
app.enableSandbox();

if (!app.requestSingleInstanceLock()) app.quit();

app.on('web-contents-created', (_e, contents) => {
  contents.on('will-navigate', (event, url) => {
    if (shouldBlockNavigation(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (shouldBlockNavigation(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(windowOpenHandler);
});

void app.whenReady().then(() => {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_wc, permission, callback) =>
    callback(permissionDecision(permission))
  );
  ses.setPermissionCheckHandler((_wc, permission) => permissionDecision(permission));
  protocol.handle('app', (request) => handleAppRequest(rendererDir(), request.url));

  const api = createVaultService();
  registerIpcHandlers(ipcMain, api);

  const win = new BrowserWindow(mainWindowOptions(preloadPath(), iconPath()));
  const stop = forwardEvents(api, (channel, event) => {
    if (!win.isDestroyed()) win.webContents.send(channel, event);
  });
  win.on('closed', stop);
  win.once('ready-to-show', () => win.show());
  void win.loadURL(APP_ENTRY);
});

app.on('second-instance', () => {
  const [win] = BrowserWindow.getAllWindows();
  if (win) {
    if (win.isMinimized()) win.restore();
    win.focus();
  }
});

app.on('window-all-closed', () => app.quit());

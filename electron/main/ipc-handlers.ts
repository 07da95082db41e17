/**
 * IPC handlers: one channel per `VaultApi` method, each a plain function
 * `(api, senderUrl, rawArgs) => Promise<IpcEnvelope>` doing the sender check and the schema
 * validation before calling the service. Registered in one place (`registerIpcHandlers`).
 * Errors come back as `{ ok: false, error: { code, message } }` because Electron keeps only
 * the message of a thrown Error (electron-conventions.md §3).
 */
import {
  toVaultError,
  type ErrorPayload,
  type VaultApi,
  type VaultEvent,
} from '../../core/api/index.js';
import { invokeVaultMethod } from '../../core/api/dispatch.js';
import { VAULT_METHODS, type VaultMethod } from '../../core/api/schemas.js';
import { isTrustedSender } from './guards.js';

export type IpcEnvelope<T = unknown> = { ok: true; result: T } | { ok: false; error: ErrorPayload };
export type IpcHandler = (
  api: VaultApi,
  senderUrl: string,
  rawArgs: unknown
) => Promise<IpcEnvelope>;

/** Channel of a method: `vault:inspect`, … */
export const channelFor = (method: VaultMethod): string => `vault:${method}`;
/** Channel on which main pushes `VaultEvent`s to the window. */
export const EVENT_CHANNEL = 'vault:event';

/** Builds the handler of one method. */
export function makeHandler(method: VaultMethod): IpcHandler {
  return async (api, senderUrl, rawArgs) => {
    if (!isTrustedSender(senderUrl)) {
      return {
        ok: false,
        error: {
          code: 'INVALID_ARGUMENT',
          message: 'Refused: the caller is not the Image Vault window',
        },
      };
    }
    try {
      return { ok: true, result: await invokeVaultMethod(api, method, rawArgs) };
    } catch (e) {
      return { ok: false, error: toVaultError(e).toPayload() };
    }
  };
}

/** Every handler, keyed by channel. */
export const ipcHandlers: Readonly<Record<string, IpcHandler>> = Object.fromEntries(
  VAULT_METHODS.map((m) => [channelFor(m), makeHandler(m)])
);

/** The part of `ipcMain` we use (so tests can pass a fake). */
export interface IpcMainLike {
  handle(
    channel: string,
    listener: (event: { senderFrame: { url: string } | null }, ...args: unknown[]) => unknown
  ): void;
  removeHandler(channel: string): void;
}

/**
 * Registers all handlers on `ipcMain`. The renderer sends the argument array as one value.
 * Returns a function that removes them again.
 */
export function registerIpcHandlers(ipcMain: IpcMainLike, api: VaultApi): () => void {
  for (const [channel, handler] of Object.entries(ipcHandlers)) {
    ipcMain.handle(channel, (event, rawArgs) =>
      handler(api, event.senderFrame?.url ?? '', rawArgs)
    );
  }
  return () => {
    for (const channel of Object.keys(ipcHandlers)) ipcMain.removeHandler(channel);
  };
}

/** Forwards service events to a window (`webContents.send`) until the returned stop is called. */
export function forwardEvents(
  api: VaultApi,
  send: (channel: string, event: VaultEvent) => void
): () => void {
  return api.subscribe((event) => send(EVENT_CHANNEL, event));
}

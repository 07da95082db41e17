/**
 * IPC handlers, derived from the contract (core/api/contract.ts): one channel per operation,
 * each a plain function `(api, senderUrl, rawArgs) => Promise<IpcEnvelope>` that checks the
 * sender, then validates, calls and checks the result through core/api's dispatch.
 * Registered in one place (`registerIpcHandlers`). Failures come back as
 * `{ ok: false, error: { code, message } }` envelopes.
 */
import {
  channelFor,
  EVENT_CHANNEL,
  OPERATION_NAMES,
  type IpcEnvelope,
  type OperationName,
} from '../../core/api/contract.js';
import { invokeOperation } from '../../core/api/dispatch.js';
import { toVaultError, type VaultApi, type VaultEvent } from '../../core/api/index.js';
import { isTrustedSender } from './guards.js';

export type IpcHandler = (
  api: VaultApi,
  senderUrl: string,
  rawArgs: unknown
) => Promise<IpcEnvelope>;

/** Builds the handler of one operation. */
export function makeHandler(op: OperationName): IpcHandler {
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
      return { ok: true, result: await invokeOperation(api, op, rawArgs) };
    } catch (e) {
      return { ok: false, error: toVaultError(e).toPayload() };
    }
  };
}

/** Every handler, keyed by channel. */
export const ipcHandlers: Readonly<Record<string, IpcHandler>> = Object.fromEntries(
  OPERATION_NAMES.map((op) => [channelFor(op), makeHandler(op)])
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

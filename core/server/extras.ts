/**
 * Loopback-only helpers beyond `VaultApi` (not part of the frozen contract, so the Electron
 * face does not offer them; the renderer falls back when they are missing).
 *
 * - `readBundleManifest(dir)`: the non-secret `manifest.json` of an export bundle, so the
 *   import wizard can show recipient, size, cipher, LUKS UUID and checksum before starting.
 */
import { z } from 'zod';
import type { VaultApi } from '../api/index.js';
import { fail } from '../api/index.js';
import { readManifest } from '../service/bundle.js';
import { invokeVaultMethod } from './dispatch.js';
import { pathSchema } from './schemas.js';

const readBundleManifestArgs = z.tuple([pathSchema]);

/** Names of the extra methods the loopback server answers. */
export const EXTRA_METHODS = ['readBundleManifest'] as const;

/**
 * Performs one `/api/<method>` call: an extra method when `method` names one, otherwise the
 * validated `VaultApi` dispatch.
 */
export async function invokeServerMethod(
  api: VaultApi,
  method: string,
  rawArgs: unknown
): Promise<unknown> {
  if (method === 'readBundleManifest') {
    const parsed = readBundleManifestArgs.safeParse(rawArgs ?? []);
    if (!parsed.success) {
      throw fail('INVALID_ARGUMENT', 'Invalid request for readBundleManifest: give a folder path');
    }
    return readManifest(parsed.data[0]);
  }
  return invokeVaultMethod(api, method, rawArgs);
}

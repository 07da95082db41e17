/**
 * Transport-neutral dispatch: validate a method's raw arguments with its schema, then call
 * the `VaultApi`. Used by the loopback server and by the Electron IPC handlers.
 */
import { fail } from './errors.js';
import type { VaultApi } from './types.js';
import { isVaultMethod, methodSchemas, type VaultMethod } from './schemas.js';

/** Methods whose byte arguments the service keeps using after the call returns (jobs). */
const KEEPS_SECRETS: ReadonlySet<VaultMethod> = new Set([
  'startConvert',
  'startMigrate',
  'startExport',
  'startImport',
]);

/**
 * Validates `rawArgs` (an array) against the schema of `method` and returns the typed tuple.
 * Throws `VaultError('INVALID_ARGUMENT')` naming the offending fields, never their values.
 */
export function parseMethodArgs(method: string, rawArgs: unknown): [VaultMethod, unknown[]] {
  if (!isVaultMethod(method))
    throw fail('INVALID_ARGUMENT', `Unknown operation "${method.slice(0, 64)}"`);
  const result = methodSchemas[method].safeParse(rawArgs ?? []);
  if (!result.success) {
    const where = result.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`)
      .join('; ');
    throw fail('INVALID_ARGUMENT', `Invalid request for ${method}: ${where}`);
  }
  return [method, result.data as unknown[]];
}

/** Zero-fills every `Uint8Array` found (one level deep) in validated arguments. */
export function wipeArgs(args: readonly unknown[]): void {
  for (const a of args) {
    if (a instanceof Uint8Array) a.fill(0);
    else if (a && typeof a === 'object') {
      for (const v of Object.values(a)) if (v instanceof Uint8Array) v.fill(0);
    }
  }
}

/**
 * Validates and performs one call. Byte arguments decoded for this call are wiped afterwards,
 * except for job starts, whose passphrases the service owns (and wipes) once the job ends.
 */
export async function invokeVaultMethod(
  api: VaultApi,
  method: string,
  rawArgs: unknown
): Promise<unknown> {
  const [name, args] = parseMethodArgs(method, rawArgs);
  const fn = api[name] as (...a: unknown[]) => Promise<unknown>;
  try {
    return await fn.apply(api, args);
  } finally {
    if (!KEEPS_SECRETS.has(name)) wipeArgs(args);
  }
}

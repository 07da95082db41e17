/**
 * Transport-neutral dispatch over the contract (contract.ts): validate an operation's raw
 * arguments with its schema, call the `VaultApi`, check the result against its schema. Used
 * by the loopback server and by the Electron IPC handlers alike.
 */
import type { z } from 'zod';
import { fail } from './errors.js';
import { isOperation, OPERATIONS, type OperationName } from './contract.js';
import type { VaultApi } from './types.js';

/** At most this many schema issues are named in one error message. */
const MAX_ISSUES = 3;

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, MAX_ISSUES)
    .map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`)
    .join('; ');
}

/**
 * Validates `rawArgs` (an array) against the schema of operation `name` and returns the typed
 * tuple. Throws `VaultError('INVALID_ARGUMENT')` naming the offending fields, never values.
 */
export function parseOperationArgs(name: string, rawArgs: unknown): [OperationName, unknown[]] {
  if (!isOperation(name)) {
    throw fail('INVALID_ARGUMENT', `Unknown operation "${name.slice(0, 64)}"`);
  }
  const result = OPERATIONS[name].args.safeParse(rawArgs ?? []);
  if (!result.success) {
    throw fail('INVALID_ARGUMENT', `Invalid request for ${name}: ${describeIssues(result.error)}`);
  }
  return [name, [...result.data]];
}

/**
 * Checks a result against its schema. A mismatch is our bug, reported as `INTERNAL` naming
 * the fields (never their values), rather than sending a face something the contract does not
 * describe.
 */
export function checkOperationResult(name: OperationName, value: unknown): unknown {
  const result = OPERATIONS[name].result.safeParse(value);
  if (!result.success) {
    throw fail(
      'INTERNAL',
      `The result of ${name} broke the contract: ${describeIssues(result.error)}`
    );
  }
  return result.data;
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
 * except for operations that start a job, whose passphrases the service owns (and wipes) once
 * the job ends.
 */
export async function invokeOperation(
  api: VaultApi,
  name: string,
  rawArgs: unknown
): Promise<unknown> {
  const [op, args] = parseOperationArgs(name, rawArgs);
  const fn = api[op] as (...a: unknown[]) => Promise<unknown>;
  try {
    return checkOperationResult(op, await fn.apply(api, args));
  } finally {
    if (!OPERATIONS[op].job) wipeArgs(args);
  }
}

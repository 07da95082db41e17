/**
 * Typed errors shared by every face (CLI, Electron IPC, loopback server).
 *
 * A `VaultError` carries a stable `code` that scripts and the UI branch on; the message is one
 * line of plain words and never contains a secret (docs/DESIGN.md, "Secrets").
 */

/** Every error code the product can report. Stable: scripts depend on them. */
export const ERROR_CODES = [
  'NOT_AN_IMAGE',
  'TRUNCATED',
  'CORRUPT',
  'UNSUPPORTED_FEATURE',
  'UNSUPPORTED_CIPHER',
  'IO',
  'NO_SPACE',
  'NOT_FOUND',
  'EXISTS',
  'WRONG_PASSPHRASE',
  'NEEDS_PASSPHRASE',
  'NOT_ENCRYPTED',
  'LAST_KEYSLOT',
  'NO_FREE_KEYSLOT',
  'KEYSLOT_ACTIVE',
  'KEYSLOT_INACTIVE',
  'BACKING_LOOP',
  'INVALID_ARGUMENT',
  'CANCELLED',
  'VERIFY_FAILED',
  'JOURNAL_MISMATCH',
  'NEEDS_REPAIR',
  'PEER_MISSING',
  'IMAGE_IN_USE',
  'NATIVE_UNAVAILABLE',
  'BAD_SIGNATURE',
  'WRONG_IDENTITY',
  'WRONG_IMAGE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The serialisable shape of an error as it crosses IPC / HTTP. */
export interface ErrorPayload {
  code: ErrorCode;
  message: string;
}

export class VaultError extends Error {
  override readonly name = 'VaultError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown }
  ) {
    super(message, options);
  }

  toPayload(): ErrorPayload {
    return { code: this.code, message: this.message };
  }
}

/** Shorthand used by parsers: `throw fail('CORRUPT', 'L1 table offset is not cluster aligned')`. */
export function fail(code: ErrorCode, message: string, cause?: unknown): VaultError {
  return new VaultError(code, message, cause === undefined ? undefined : { cause });
}

export function isVaultError(e: unknown, code?: ErrorCode): e is VaultError {
  return e instanceof VaultError && (code === undefined || e.code === code);
}

const ERRNO_CODES: Record<string, ErrorCode> = {
  ENOSPC: 'NO_SPACE',
  EDQUOT: 'NO_SPACE',
  ENOENT: 'NOT_FOUND',
  EEXIST: 'EXISTS',
};

/** Converts anything thrown into a `VaultError`, mapping Node errno codes to ours. */
export function toVaultError(e: unknown): VaultError {
  if (e instanceof VaultError) return e;
  if (e instanceof Error && e.name === 'AbortError')
    return new VaultError('CANCELLED', 'Cancelled');
  const errno = (e as { code?: unknown } | null)?.code;
  if (typeof errno === 'string') {
    const mapped = ERRNO_CODES[errno] ?? 'IO';
    const path = (e as { path?: unknown }).path;
    const where = typeof path === 'string' ? ` (${path})` : '';
    const what =
      mapped === 'NO_SPACE'
        ? 'No space left on the target disk'
        : mapped === 'NOT_FOUND'
          ? 'No such file or directory'
          : mapped === 'EXISTS'
            ? 'File already exists'
            : errno === 'EFBIG'
              ? 'The file would be larger than the target’s file system allows (EFBIG)'
              : `I/O error ${errno}`;
    return new VaultError(mapped, `${what}${where}`, { cause: e });
  }
  const message = e instanceof Error ? e.message : String(e);
  return new VaultError('INTERNAL', message, { cause: e });
}

/**
 * Process exit status for a failed CLI command. Scripts can tell these apart (README "Exit
 * codes"): `WRONG_PASSPHRASE` and `WRONG_IDENTITY` (a key file that opens no sealed secret)
 * 4, `IMAGE_IN_USE` 5 (a VM, another program or one of our own operations holds the image;
 * README "Image locks"), `BAD_SIGNATURE` 6 (a bundle unsigned, wrongly signed or altered after
 * signing), `NO_SPACE` 7 (the target's disk is full); `check` uses its own 0/2/3 scheme for findings.
 */
export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'WRONG_PASSPHRASE':
    case 'WRONG_IDENTITY':
      return 4;
    case 'IMAGE_IN_USE':
      return 5;
    case 'BAD_SIGNATURE':
      return 6;
    case 'NO_SPACE':
      return 7;
    case 'CANCELLED':
      return 130;
    default:
      return 1;
  }
}
